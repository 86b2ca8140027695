//! Plugins, middleware and resilience (issue 4), in Node and headless Chromium, against dev
//! nodes with scoped faults (`scripts/test-wasm.sh` starts them): `http://…/~s503-x` answers 503,
//! `~s429` 429 (`Retry-After: 1` and "wait 2 seconds" in default mode, the text only in
//! compat), `~drop` drops connections, `~s500` 500, `~flaky-x` 503 for its first 2 requests,
//! `~slow` waits 1.5 s, `~nostream` refuses the log stream (see devnode/README.md).
use super::{client, describe, fails, get, is_node, m, now, obj, ok, strs};
use js_sys::{Array, Reflect};
use sandrun_sdk::plugins as p;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/tests/support/plugins.js")]
extern "C" {
    #[wasm_bindgen(js_name = tracePlugin)]
    fn trace_plugin(name: &str, priority: f64, log: &Array, extra: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = asyncRequestPlugin)]
    fn async_request_plugin(name: &str, log: &Array) -> JsValue;
    #[wasm_bindgen(js_name = argPlugin)]
    fn arg_plugin(arg: &str) -> JsValue;
    #[wasm_bindgen(js_name = throwingPlugin)]
    fn throwing_plugin(name: &str, policy: &str, hook: &str) -> JsValue;
    #[wasm_bindgen(js_name = recoveringPlugin)]
    fn recovering_plugin(body: &str) -> JsValue;
    #[wasm_bindgen(js_name = rethrowingPlugin)]
    fn rethrowing_plugin() -> JsValue;
    #[wasm_bindgen(js_name = requestTimes)]
    fn request_times(times: &Array) -> JsValue;
    #[wasm_bindgen(js_name = fakeSleep)]
    fn fake_sleep(record: &Array) -> JsValue;
    #[wasm_bindgen(js_name = fakeClock)]
    fn fake_clock() -> JsValue;
    #[wasm_bindgen(js_name = sinkInto)]
    fn sink_into(events: &Array) -> JsValue;
    #[wasm_bindgen(js_name = traceMiddleware)]
    fn trace_middleware(name: &str, log: &Array) -> JsValue;
    fn scope(name: &str) -> String;
    fn stringify(v: &JsValue) -> String;
}

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    type CircuitOpenError;
    type PluginError;
}

fn fault(compat: bool) -> &'static str {
    if compat {
        option_env!("SANDRUN_TEST_FAULT_COMPAT_ENDPOINT").unwrap_or("http://127.0.0.1:18494")
    } else {
        option_env!("SANDRUN_TEST_FAULT_ENDPOINT").unwrap_or("http://127.0.0.1:18493")
    }
}

/// A fresh scope of a fault on the (default-mode) fault node.
fn at(name: &str) -> String {
    format!("{}/~{}", fault(false), scope(name))
}

fn js<T: Into<JsValue>>(v: T) -> JsValue {
    v.into()
}

fn nums(a: &Array) -> Vec<f64> {
    a.iter().filter_map(|v| v.as_f64()).collect()
}

fn texts(a: &Array) -> Vec<String> {
    a.iter().filter_map(|v| v.as_string()).collect()
}

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_else(|| describe(e))
}

async fn with(endpoint: &str, plugins: &[JsValue]) -> JsValue {
    let mut c = client(endpoint, &[]).await;
    for pl in plugins {
        c = m(&c, "use", &[pl.clone()]);
    }
    c
}

fn retry(pairs: &[(&str, JsValue)]) -> JsValue {
    js(p::retry_plugin(Some(obj(pairs))).expect("retryPlugin options"))
}

/// Counts requests that reach the network layer.
fn counter(log: &Array) -> JsValue {
    trace_plugin("count", -100.0, log, &JsValue::UNDEFINED)
}

fn count(log: &Array, what: &str) -> usize {
    texts(log).iter().filter(|l| l.as_str() == what).count()
}

fn quick_job(sandrun: &JsValue, src: &str) -> JsValue {
    let b = m(sandrun, "job", &[]);
    let b = m(&b, "file", &["main.py".into(), src.into()]);
    m(&b, "entrypoint", &["main.py".into()])
}

/// Exponential backoff without jitter: delays 100, 200, 400 for 4 attempts, each a real
/// request; linear with a fixed random: half of 50, 100.
pub async fn retry_counts_and_delays() {
    let (slept, log) = (Array::new(), Array::new());
    let c = with(
        &at("s503"),
        &[
            retry(&[
                ("maxAttempts", js(4)),
                ("baseDelayMs", js(100)),
                ("jitter", js(false)),
                ("sleep", fake_sleep(&slept)),
            ]),
            counter(&log),
        ],
    )
    .await;
    let e = fails(&c, "health", &[]).await;
    assert_eq!(code(&e), "HTTP", "{}", describe(&e));
    assert_eq!(get(&e, "status").as_f64(), Some(503.0));
    assert_eq!(get(&e, "attempt").as_f64(), Some(4.0));
    assert_eq!(nums(&slept), [100.0, 200.0, 400.0]);
    assert_eq!(count(&log, "count:onRequest"), 4);

    let slept = Array::new();
    let rnd = js_sys::Function::new_no_args("return 0.5");
    let c = with(
        &at("s503"),
        &[retry(&[
            ("maxAttempts", js(3)),
            ("backoff", js("linear")),
            ("baseDelayMs", js(50)),
            ("random", rnd.into()),
            ("sleep", fake_sleep(&slept)),
        ])],
    )
    .await;
    fails(&c, "health", &[]).await;
    assert_eq!(nums(&slept), [25.0, 50.0], "full jitter × linear backoff");
}

/// The server's wait is honoured: `Retry-After: 1` (default mode wins over the text), the
/// "wait 2 seconds" text (compat: no header), and really waited for when no sleep is given.
pub async fn retry_after_honoured() {
    for (endpoint, want) in [
        (at("s429"), 1000.0),
        (format!("{}/~{}", fault(true), scope("s429")), 2000.0),
    ] {
        let slept = Array::new();
        let c = with(
            &endpoint,
            &[retry(&[
                ("maxAttempts", js(2)),
                ("baseDelayMs", js(10)),
                ("sleep", fake_sleep(&slept)),
            ])],
        )
        .await;
        let e = fails(&c, "health", &[]).await;
        assert_eq!(code(&e), "RATE_LIMITED", "{}", describe(&e));
        assert_eq!(get(&e, "retryAfterMs").as_f64(), Some(want));
        assert_eq!(nums(&slept), [want], "{endpoint}");
    }
    let c = with(
        &at("s429"),
        &[retry(&[("maxAttempts", js(2)), ("baseDelayMs", js(10))])],
    )
    .await;
    let t = now();
    fails(&c, "health", &[]).await;
    let took = now() - t;
    assert!(
        took >= 950.0,
        "Retry-After: 1 was not waited for ({took} ms)"
    );
}

/// A submit is retried only when the server provably did not take it.
pub async fn submit_retry_rule() {
    let cases: Vec<(String, &str, usize)> = vec![
        (at("drop"), "NETWORK", 0), // the server may have read the job
        (at("s500"), "HTTP", 0),    // it may have created it
        (at("s503"), "HTTP", 2),    // refused before reading
        (at("s429"), "RATE_LIMITED", 2),
    ];
    for (endpoint, want, retries) in cases {
        let slept = Array::new();
        let c = with(
            &endpoint,
            &[retry(&[
                ("maxAttempts", js(3)),
                ("sleep", fake_sleep(&slept)),
            ])],
        )
        .await;
        let e = fails(&quick_job(&c, "print(1)\n"), "submit", &[]).await;
        assert_eq!(code(&e), want, "{endpoint}: {}", describe(&e));
        assert_eq!(
            slept.length() as usize,
            retries,
            "{endpoint}: retries of a submit"
        );
    }
    // Connection refused: Node names it (ECONNREFUSED), a browser cannot tell it from a reset.
    let slept = Array::new();
    let c = with(
        super::DEAD_ENDPOINT,
        &[retry(&[
            ("maxAttempts", js(2)),
            ("sleep", fake_sleep(&slept)),
        ])],
    )
    .await;
    fails(&quick_job(&c, "print(1)\n"), "submit", &[]).await;
    assert_eq!(slept.length(), if is_node() { 1 } else { 0 });
}

/// Opens after 2 failures, refuses without a request and says when it retries, lets one probe
/// through after the cooldown, closes when it succeeds (a fake clock).
pub async fn breaker_opens_and_recovers() {
    let clock = fake_clock();
    let now_fn = get(&clock, "now");
    let breaker = js(p::circuit_breaker_plugin(Some(obj(&[
        ("minimumCalls", js(2)),
        ("windowSize", js(2)),
        ("cooldownMs", js(5000)),
        ("now", now_fn),
    ])))
    .unwrap());
    let log = Array::new();
    let endpoint = format!("{}/~{}", fault(false), scope("flaky"));
    let c = with(&endpoint, &[breaker.clone(), counter(&log)]).await;
    for _ in 0..2 {
        assert_eq!(code(&fails(&c, "health", &[]).await), "HTTP");
    }
    let e = fails(&c, "health", &[]).await;
    assert_eq!(code(&e), "CIRCUIT_OPEN", "{}", describe(&e));
    assert!(e.is_instance_of::<CircuitOpenError>());
    assert_eq!(get(&e, "retryAfterMs").as_f64(), Some(5000.0));
    assert!(get(&e, "message")
        .as_string()
        .unwrap()
        .contains("next try in 5000 ms"));
    assert_eq!(
        count(&log, "count:onRequest"),
        2,
        "an open circuit sends nothing"
    );
    let snap = m(&breaker, "snapshot", &[]);
    assert_eq!(
        get(&get(&snap, &endpoint), "state").as_string().as_deref(),
        Some("open")
    );
    m(&clock, "advance", &[js(4000)]);
    assert_eq!(
        code(&fails(&c, "health", &[]).await),
        "CIRCUIT_OPEN",
        "still cooling down"
    );
    m(&clock, "advance", &[js(1001)]);
    let h = ok(&c, "health", &[]).await; // the probe: the node now answers (first=2 used up)
    assert_eq!(get(&h, "status").as_string().as_deref(), Some("healthy"));
    let snap = m(&breaker, "snapshot", &[]);
    assert_eq!(
        get(&get(&snap, &endpoint), "state").as_string().as_deref(),
        Some("closed")
    );
    ok(&c, "health", &[]).await;
}

/// Request timeout, overall deadline across retries, and the adaptive timeout learned from a
/// fast node applied to a slow one.
pub async fn timeouts_and_deadline() {
    let t = js(p::timeout_plugin(Some(obj(&[("requestMs", js(300))]))).unwrap());
    let c = with(&at("slow"), &[t]).await;
    let t0 = now();
    let e = fails(&c, "health", &[]).await;
    assert_eq!(code(&e), "TIMEOUT", "{}", describe(&e));
    assert!(now() - t0 < 1200.0, "took {} ms", now() - t0);

    let d = js(p::timeout_plugin(Some(obj(&[("deadlineMs", js(700))]))).unwrap());
    let r = retry(&[
        ("maxAttempts", js(50)),
        ("backoff", js("fixed")),
        ("baseDelayMs", js(100)),
        ("jitter", js(false)),
    ]);
    let c = with(&at("s503"), &[r, d]).await;
    let t0 = now();
    let e = fails(&c, "health", &[]).await;
    let took = now() - t0;
    assert_eq!(code(&e), "TIMEOUT", "{}", describe(&e));
    assert!(
        (450.0..1500.0).contains(&took),
        "deadline 700 ms, took {took}"
    );
    assert!(get(&e, "attempt").as_f64().unwrap() >= 3.0);

    let adaptive = obj(&[
        ("minSamples", js(3)),
        ("minMs", js(250)),
        ("multiplier", js(2)),
    ]);
    let a = js(p::timeout_plugin(Some(obj(&[("adaptive", adaptive)]))).unwrap());
    let fast = with(super::Mode::Default.endpoint(), &[a.clone()]).await;
    for _ in 0..3 {
        ok(&fast, "health", &[]).await;
    }
    let learned = get(&m(&a, "snapshot", &[]), "learnedMs").as_f64();
    assert_eq!(learned, Some(250.0), "local answers are fast: the minimum");
    let slow = with(&at("slow"), &[a]).await;
    let t0 = now();
    assert_eq!(code(&fails(&slow, "health", &[]).await), "TIMEOUT");
    assert!(now() - t0 < 1200.0);
}

/// 5 requests a second, burst 1: four requests sent at once leave ≥ ~200 ms apart.
pub async fn rate_limiter_spacing() {
    let times = Array::new();
    let rl = js(
        p::rate_limit_plugin(Some(obj(&[("requestsPerSecond", js(5)), ("burst", js(1))]))).unwrap(),
    );
    let c = with(&at("s500"), &[rl, request_times(&times)]).await;
    let all: Array = (0..4).map(|_| m(&c, "health", &[])).collect();
    let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all_settled(&all)).await;
    let t = nums(&times);
    assert_eq!(t.len(), 4);
    for w in t.windows(2) {
        assert!(w[1] - w[0] >= 180.0, "spacing {:?}", t);
    }
}

/// Hook order (priority, then dependencies), awaited async hooks, onSubmit changing the job,
/// middleware around every operation, immutability, a missing dependency.
pub async fn plugin_order_and_middleware() {
    let log = Array::new();
    let sandrun = client(super::Mode::Default.endpoint(), &[]).await;
    let sandrun = m(
        &sandrun,
        "use",
        &[trace_plugin("A", 0.0, &log, &JsValue::UNDEFINED)],
    );
    let base = quick_job(&sandrun, "import sys\nprint(sys.argv[1:])\n");
    let deps = obj(&[("dependencies", strs(&["D"]))]);
    let b = m(
        &base,
        "use",
        &[trace_plugin("B", 10.0, &log, &JsValue::UNDEFINED)],
    );
    let b = m(&b, "use", &[trace_plugin("C", 0.0, &log, &deps)]);
    let b = m(
        &b,
        "use",
        &[trace_plugin("D", -5.0, &log, &JsValue::UNDEFINED)],
    );
    let b = m(&b, "use", &[async_request_plugin("E", &log)]);
    let b = m(&b, "use", &[arg_plugin("--from-plugin")]);
    let b = m(&b, "with", &[trace_middleware("outer", &log)]);
    let b = m(&b, "with", &[trace_middleware("inner", &log)]);
    let exec = ok(&b, "submit", &[]).await;
    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(
        get(&result, "status").as_string().as_deref(),
        Some("completed")
    );
    let lines = texts(&log);
    let of = |hook: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.ends_with(&format!(":{hook}")))
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(of("onSubmit"), ["B", "A", "D", "C"], "{lines:?}");
    assert_eq!(of("onInit"), ["B", "A", "D", "C"]);
    assert_eq!(of("onResult"), ["B", "A", "D", "C"]);
    assert_eq!(&of("onRequest")[..4], ["B", "A", "D", "C"]);
    let submit_at = lines
        .iter()
        .position(|l| l == "outer>submit")
        .expect("middleware saw submit");
    assert_eq!(lines[submit_at + 1], "inner>submit", "{lines:?}");
    assert!(
        lines.contains(&"inner<200".to_string()) && lines.contains(&"outer>status".to_string())
    );
    let e_late = lines.iter().position(|l| l == "E:late").unwrap();
    let first_response = lines
        .iter()
        .position(|l| l.ends_with(":onResponse"))
        .unwrap();
    assert!(
        e_late < first_response,
        "async onRequest was awaited: {lines:?}"
    );
    let mut chunks = String::new();
    let logs = m(&exec, "logStream", &[]);
    while let Some(c) = ok(&logs, "next", &[]).await.as_string() {
        chunks.push_str(&c);
    }
    assert!(
        chunks.contains("--from-plugin"),
        "onSubmit changed the args: {chunks}"
    );

    // The log stream goes through the middleware too: read the logs of a job still running, so
    // they come over the WebSocket (operation "stream"), not from /logs.
    let live = ok(&b, "submit", &[]).await;
    let stream = m(&live, "logStream", &[]);
    let mut live_text = String::new();
    while let Some(c) = ok(&stream, "next", &[]).await.as_string() {
        live_text.push_str(&c);
    }
    assert!(live_text.contains("--from-plugin"), "{live_text}");
    let lines = texts(&log);
    let opened = lines
        .iter()
        .position(|l| l == "outer>stream")
        .expect("middleware saw the stream");
    assert_eq!(lines[opened + 1], "inner>stream", "{lines:?}");
    assert!(
        lines.contains(&"inner<101".to_string()),
        "the socket opened: {lines:?}"
    );

    // The base builder has no job plugins: only A's hooks run.
    let before = log.length();
    ok(&ok(&base, "submit", &[]).await, "wait", &[]).await;
    let after: Vec<String> = texts(&log)[before as usize..].to_vec();
    assert!(after.iter().all(|l| l.starts_with("A:")), "{after:?}");

    let lonely = m(&base, "use", &[trace_plugin("C", 0.0, &log, &deps)]);
    let e = fails(&lonely, "submit", &[]).await;
    assert_eq!(code(&e), "VALIDATION");
    assert!(get(&e, "message")
        .as_string()
        .unwrap()
        .contains("depends on \"D\""));
}

/// A throwing plugin: policy continue → reported (log sink, metrics) and skipped; policy fail →
/// PluginError naming it. onError recovers with a response, or replaces the error.
pub async fn plugin_isolation_and_on_error() {
    let events = Array::new();
    let logging = js(p::logging_plugin(Some(obj(&[
        ("sink", sink_into(&events)),
        ("level", js("warn")),
    ])))
    .unwrap());
    let metrics = js(p::metrics_plugin());
    let c = with(
        super::Mode::Default.endpoint(),
        &[
            logging,
            metrics.clone(),
            throwing_plugin("flaky-plugin", "continue", "onRequest"),
        ],
    )
    .await;
    ok(&c, "health", &[]).await;
    let all = stringify(&events);
    assert!(
        all.contains("plugin-error") && all.contains("flaky-plugin"),
        "{all}"
    );
    let errors = get(&m(&metrics, "snapshot", &[]), "errors");
    assert_eq!(get(&errors, "PLUGIN").as_f64(), Some(1.0));

    let c = with(
        super::Mode::Default.endpoint(),
        &[throwing_plugin("strict", "fail", "onSubmit")],
    )
    .await;
    let e = fails(&quick_job(&c, "print(1)\n"), "submit", &[]).await;
    assert!(e.is_instance_of::<PluginError>(), "{}", describe(&e));
    assert_eq!(get(&e, "plugin").as_string().as_deref(), Some("strict"));
    assert!(get(&get(&e, "cause"), "message")
        .as_string()
        .unwrap()
        .contains("strict broke"));

    // streamLogs off: health() then asks nothing but /health (the stream probe would get 503 too).
    let c = client(&at("s503"), &[("streamLogs", js(false))]).await;
    let c = m(&c, "use", &[recovering_plugin("{\"status\":\"healthy\"}")]);
    let h = ok(&c, "health", &[]).await;
    assert_eq!(
        get(&h, "status").as_string().as_deref(),
        Some("healthy"),
        "onError recovered"
    );
    let c = with(&at("s503"), &[rethrowing_plugin()]).await;
    let e = fails(&c, "health", &[]).await;
    assert_eq!(
        get(&e, "marker").as_f64(),
        Some(42.0),
        "the rethrown error itself: {}",
        describe(&e)
    );
}

/// No secret reaches the log: the bearer token and a secret env value never appear in any
/// event, though requests, headers and the submitted env are logged.
pub async fn redaction() {
    let events = Array::new();
    let logging = js(p::logging_plugin(Some(obj(&[
        ("sink", sink_into(&events)),
        ("level", js("debug")),
    ])))
    .unwrap());
    let auth = js(p::auth_plugin(obj(&[
        ("type", js("bearer")),
        ("token", js("tok-SECRET-123")),
    ]))
    .unwrap());
    let c = with(super::Mode::Default.endpoint(), &[auth, logging]).await;
    let b = quick_job(&c, "import sys\nprint(sys.argv[1:])\n");
    let b = m(
        &b,
        "env",
        &[obj(&[
            ("API_TOKEN", js("env-SECRET-456")),
            ("MODE", js("plain-value")),
        ])],
    );
    let b = m(&b, "args", &[strs(&["tok-SECRET-123"])]);
    let exec = ok(&b, "submit", &[]).await;
    ok(&exec, "wait", &[]).await;
    let all = stringify(&events);
    assert!(
        !all.contains("tok-SECRET-123") && !all.contains("env-SECRET-456"),
        "{all}"
    );
    assert!(
        all.contains("plain-value") && all.contains("Authorization: [REDACTED]"),
        "{all}"
    );
    assert!(all.contains("\"event\":\"request\"") && all.contains("\"event\":\"result\""));
    if !is_node() {
        assert!(
            all.contains("preflight"),
            "the browser is warned about CORS: {all}"
        );
    }
}

/// Counters and histograms after a known scenario: one health() with one retry failing 503,
/// then one job that completes.
pub async fn metrics_known_scenario() {
    let metrics = js(p::metrics_plugin());
    let slept = Array::new();
    let bad = with(
        &at("s503"),
        &[
            metrics.clone(),
            retry(&[("maxAttempts", js(2)), ("sleep", fake_sleep(&slept))]),
        ],
    )
    .await;
    fails(&bad, "health", &[]).await;
    let good = with(super::Mode::Default.endpoint(), &[metrics.clone()]).await;
    ok(
        &ok(&quick_job(&good, "print(1)\n"), "submit", &[]).await,
        "wait",
        &[],
    )
    .await;
    let s = m(&metrics, "snapshot", &[]);
    assert_eq!(
        get(&s, "submitted").as_f64(),
        Some(1.0),
        "{}",
        stringify(&s)
    );
    assert_eq!(get(&get(&s, "completed"), "completed").as_f64(), Some(1.0));
    assert_eq!(get(&get(&s, "errors"), "HTTP").as_f64(), Some(1.0));
    assert_eq!(get(&s, "retries").as_f64(), Some(1.0));
    assert_eq!(get(&get(&s, "requests"), "health").as_f64(), Some(2.0));
    let lat = get(&get(&s, "latencyMs"), "health");
    assert_eq!(get(&lat, "count").as_f64(), Some(1.0));
    let text = m(&metrics, "prometheus", &[]).as_string().unwrap();
    for line in [
        "sandrun_jobs_submitted_total 1\n",
        "sandrun_jobs_completed_total{status=\"completed\"} 1\n",
        "sandrun_errors_total{code=\"HTTP\"} 1\n",
        "sandrun_requests_total{operation=\"health\"} 2\n",
        "sandrun_retries_total 1\n",
        "sandrun_operation_duration_ms_count{operation=\"health\"} 1\n",
        "sandrun_operation_duration_ms_bucket{operation=\"health\",le=\"+Inf\"} 1\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

/// A node whose log stream is down: health() says `degraded` instead of failing, and logs still
/// arrive (from /logs after the job).
pub async fn degraded_stream() {
    let c = client(&at("nostream"), &[]).await;
    let h = ok(&c, "health", &[]).await;
    assert_eq!(
        get(&h, "status").as_string().as_deref(),
        Some("degraded"),
        "{}",
        describe(&h)
    );
    assert_eq!(
        get(&get(&h, "services"), "stream").as_string().as_deref(),
        Some("down")
    );
    let fine = ok(
        &client(super::Mode::Default.endpoint(), &[]).await,
        "health",
        &[],
    )
    .await;
    assert_eq!(
        get(&get(&fine, "services"), "stream")
            .as_string()
            .as_deref(),
        Some("up")
    );
    let exec = ok(&quick_job(&c, "print('still here')\n"), "submit", &[]).await;
    let logs = m(&exec, "logStream", &[]);
    let mut text = String::new();
    while let Some(s) = ok(&logs, "next", &[]).await.as_string() {
        text.push_str(&s);
    }
    assert!(text.contains("still here"), "{text}");
    let _ = Reflect::get(&h, &"endpoint".into());
}

/// One `#[wasm_bindgen_test]` per scenario, in module `plugins`.
#[macro_export]
macro_rules! plugin_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod plugins {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::plugins::$name()).await
                }
            )*
        }
    };
}

#[macro_export]
macro_rules! all_plugin_scenarios {
    ($install:path) => {
        $crate::plugin_scenarios!($install;
            retry_counts_and_delays, retry_after_honoured, submit_retry_rule,
            breaker_opens_and_recovers, timeouts_and_deadline, rate_limiter_spacing,
            plugin_order_and_middleware, plugin_isolation_and_on_error, redaction,
            metrics_known_scenario, degraded_stream);
    };
}
