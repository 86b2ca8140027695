//! Pools, consensus and nodes (issue 5), for both suites, against the dev nodes
//! scripts/test-wasm.sh starts: three default-mode workers with distinct keys (the third with
//! `--fault alter-output`), a pool coordinator over the two honest ones, and a broker.
//! Endpoints at compile time: SANDRUN_TEST_POOL_WORKERS (a,b,faulty), SANDRUN_TEST_COORDINATOR,
//! SANDRUN_TEST_BROKER.

use super::*;

pub fn workers() -> Vec<&'static str> {
    option_env!("SANDRUN_TEST_POOL_WORKERS")
        .unwrap_or("http://127.0.0.1:18450,http://127.0.0.1:18451,http://127.0.0.1:18452")
        .split(',')
        .collect()
}

pub fn coordinator() -> &'static str {
    option_env!("SANDRUN_TEST_COORDINATOR").unwrap_or("http://127.0.0.1:18453")
}

pub fn broker() -> &'static str {
    option_env!("SANDRUN_TEST_BROKER").unwrap_or("http://127.0.0.1:18454")
}

fn honest() -> Vec<&'static str> {
    workers()[..2].to_vec()
}

fn faulty() -> &'static str {
    workers()[2]
}

/// The worker key each pool worker announces.
async fn key_of(url: &str) -> String {
    worker_id(&client(url, &[]).await).await
}

/// A job that writes one output (which the faulty worker corrupts).
const OUT_PY: &str = "import os\nos.makedirs('out', exist_ok=True)\nopen('out/r.txt', 'w').write('forty-two')\nprint('done')\n";

fn out_job(sandrun: &JsValue) -> JsValue {
    m(&py_job(sandrun, OUT_PY), "outputs", &[strs(&["out/*"])])
}

async fn join(builder: &JsValue) -> JsValue {
    ok(builder, "join", &[]).await
}

fn pool_of(sandrun: &JsValue, urls: &[&str]) -> JsValue {
    let b = m(sandrun, "pool", &[]);
    m(&b, "workers", &[strs(urls)])
}

fn node_list(pool: &JsValue) -> Vec<JsValue> {
    Array::from(&get(pool, "nodes")).iter().collect()
}

/// Counts a pool's or node's events by name.
fn count_events(target: &JsValue, names: &[&str]) -> Rc<RefCell<BTreeMap<String, Vec<JsValue>>>> {
    let seen: Rc<RefCell<BTreeMap<String, Vec<JsValue>>>> = Rc::default();
    for name in names {
        let (s, n) = (seen.clone(), name.to_string());
        let cb = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            s.borrow_mut().entry(n.clone()).or_default().push(e);
        });
        m(target, "on", &[(*name).into(), cb.as_ref().clone()]);
        cb.forget();
    }
    seen
}

fn n_events(seen: &Rc<RefCell<BTreeMap<String, Vec<JsValue>>>>, name: &str) -> usize {
    seen.borrow().get(name).map(Vec::len).unwrap_or(0)
}

fn text(v: &JsValue) -> String {
    String::from_utf8(bytes(v)).unwrap_or_default()
}

fn str_list(v: &JsValue) -> Vec<String> {
    let mut out: Vec<String> = Array::from(v)
        .iter()
        .filter_map(|s| s.as_string())
        .collect();
    out.sort();
    out
}

/// Static list, coordinator-free: health with keys, expected-key mismatch, `.nodes()`,
/// capability filters from a broker, bad options.
pub async fn pool_discovery() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let urls = workers();
    let keys = [
        key_of(urls[0]).await,
        key_of(urls[1]).await,
        key_of(urls[2]).await,
    ];
    assert!(
        keys[0] != keys[1] && keys[1] != keys[2],
        "distinct keys: {keys:?}"
    );

    let pool = join(&pool_of(&sandrun, &urls)).await;
    assert_eq!(get_f64(&pool, "size"), Some(3.0));
    let nodes = node_list(&pool);
    for (n, key) in nodes.iter().zip(&keys) {
        assert_eq!(get_bool(n, "healthy"), Some(true), "{}", describe(n));
        assert_eq!(get_str(n, "workerId").as_deref(), Some(key.as_str()));
    }
    assert_eq!(
        get_f64(&pool, "capacity"),
        Some(6.0),
        "2 jobs each by default"
    );
    m(&pool, "close", &[]);

    // A worker whose key is not the expected one is not used; minNodes then fails the join.
    let wrong = Array::of2(
        &obj(&[
            ("url", urls[0].into()),
            ("workerId", keys[1].as_str().into()),
        ]),
        &urls[1].into(),
    );
    let b = m(&m(&sandrun, "pool", &[]), "workers", &[wrong.into()]);
    let pool = join(&b).await;
    assert_eq!(get_f64(&pool, "size"), Some(1.0));
    let bad = &node_list(&pool)[1];
    assert_eq!(get_bool(bad, "healthy"), Some(false));
    assert!(
        get_str(bad, "problem")
            .unwrap_or_default()
            .contains("not the expected"),
        "{}",
        describe(bad)
    );
    let e = fails(
        &m(&b, "discover", &[obj(&[("minNodes", 2.into())])]),
        "join",
        &[],
    )
    .await;
    assert_eq!(code(&e), "NOT_FOUND", "{}", describe(&e));

    // .nodes(ids) keeps only the named workers.
    let only = join(&m(&pool_of(&sandrun, &urls), "nodes", &[strs(&[&keys[1]])])).await;
    assert_eq!(get_f64(&only, "size"), Some(1.0));
    assert_eq!(
        get_str(&node_list(&only)[0], "endpoint").as_deref(),
        Some(urls[1])
    );

    // Capabilities and regions come from the broker, where nodes registered.
    let eu = ok(
        &m(
            &m(&m(&sandrun, "node", &[]), "endpoint", &[urls[0].into()]),
            "region",
            &["eu".into()],
        ),
        "register",
        &[broker().into()],
    )
    .await;
    let caps = obj(&[("gpus", 2.into()), ("memoryMb", 8192.into())]);
    let us = m(&m(&sandrun, "node", &[]), "endpoint", &[urls[1].into()]);
    let us = m(&m(&us, "region", &["us".into()]), "capabilities", &[caps]);
    let us = ok(&us, "register", &[broker().into()]).await;
    let from_broker = m(&m(&sandrun, "pool", &[]), "broker", &[broker().into()]);
    let eu_pool = join(&m(&from_broker, "region", &["eu".into()])).await;
    let eu_nodes = node_list(&eu_pool);
    assert_eq!(eu_nodes.len(), 1, "{}", describe(&get(&eu_pool, "nodes")));
    assert_eq!(get_str(&eu_nodes[0], "endpoint").as_deref(), Some(urls[0]));
    assert_eq!(
        get_str(&eu_nodes[0], "workerId").as_deref(),
        Some(keys[0].as_str())
    );
    assert_eq!(
        get_str(&eu_nodes[0], "id"),
        get_str(&eu, "id"),
        "a broker node keeps its node id"
    );
    let gpu_pool = join(&m(&from_broker, "minGPUs", &[1.into()])).await;
    let gpu_nodes = node_list(&gpu_pool);
    assert_eq!(gpu_nodes.len(), 1);
    assert_eq!(get_str(&gpu_nodes[0], "endpoint").as_deref(), Some(urls[1]));
    let e = fails(
        &m(&from_broker, "minMemory", &[100_000.into()]),
        "join",
        &[],
    )
    .await;
    assert_eq!(code(&e), "NOT_FOUND");
    let by_caps = m(
        &from_broker,
        "discover",
        &[obj(&[
            ("capabilities", obj(&[("gpus", 2.into())])),
            ("regions", strs(&["us", "eu"])),
        ])],
    );
    assert_eq!(node_list(&join(&by_caps).await).len(), 1);
    for n in [&eu, &us] {
        m(n, "close", &[]);
    }

    // Bad options are ValidationErrors naming the field; a consensus job without a pool too.
    let e = fails(
        &m(&pool_of(&sandrun, &urls), "strategy", &["fastest".into()]),
        "join",
        &[],
    )
    .await;
    assert_eq!(first_field(&e), "strategy");
    let e = fails(
        &m(
            &m(&sandrun, "pool", &[]),
            "discover",
            &[obj(&[("minNode", 1.into())])],
        ),
        "join",
        &[],
    )
    .await;
    assert_eq!(first_field(&e), "discover.minNode");
    let v = m(
        &m(&out_job(&sandrun), "consensus", &["1-of-2".into()]),
        "validate",
        &[],
    );
    assert_eq!(get_bool(&v, "ok"), Some(false), "{}", describe(&v));
    let e = fails(
        &m(&out_job(&sandrun), "consensus", &["2-of-3".into()]),
        "submit",
        &[],
    )
    .await;
    assert_eq!(first_field(&e), "consensus");
}

/// Jobs spread over two honest workers; events; schedule() with bounded concurrency.
pub async fn pool_distribution() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let b = m(
        &pool_of(&sandrun, &honest()),
        "strategy",
        &["round-robin".into()],
    );
    let pool = join(&b).await;
    let seen = count_events(&pool, &["job-started", "job-completed"]);

    let exec = ok(&pool, "distribute", &[out_job(&sandrun)]).await;
    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&result)
    );
    let route = get(&result, "route");
    assert!(
        honest().contains(&get_str(&route, "endpoint").unwrap_or_default().as_str()),
        "{}",
        describe(&route)
    );
    assert_eq!(
        text(&ok(&exec, "download", &["out/r.txt".into()]).await),
        "forty-two"
    );

    let jobs: Array = (0..6)
        .map(|i| {
            JsValue::from(m(
                &py_job(
                    &sandrun,
                    &format!("import time\ntime.sleep(0.3)\nprint({i})\n"),
                ),
                "outputs",
                &[strs(&["none"])],
            ))
        })
        .collect();
    let started = now();
    let out = ok(
        &pool,
        "schedule",
        &[jobs.into(), obj(&[("concurrency", 2.into())])],
    )
    .await;
    let secs = (now() - started) / 1000.0;
    let out: Vec<JsValue> = Array::from(&out).iter().collect();
    assert_eq!(out.len(), 6);
    let mut used = Vec::new();
    for (i, e) in out.iter().enumerate() {
        assert_eq!(get_bool(e, "ok"), Some(true), "{}", describe(e));
        assert_eq!(get_f64(e, "index"), Some(i as f64));
        used.push(get_str(&get(&get(e, "result"), "route"), "endpoint").unwrap_or_default());
    }
    used.sort();
    used.dedup();
    assert_eq!(used.len(), 2, "round-robin used both workers: {used:?}");
    // Six 0.3 s jobs two at a time take at least 0.9 s; all at once would take ~0.3 s.
    assert!(secs >= 0.85, "concurrency 2 was not respected ({secs} s)");
    report(&format!(
        "pool: 6 jobs over 2 workers, concurrency 2: {secs:.2} s"
    ));
    sleep(50.0).await;
    assert_eq!(n_events(&seen, "job-started"), 7);
    assert_eq!(n_events(&seen, "job-completed"), 7);
    let active: f64 = node_list(&pool)
        .iter()
        .filter_map(|n| get_f64(n, "active"))
        .sum();
    assert_eq!(active, 0.0, "every slot was freed");
    m(&pool, "close", &[]);
    let e = fails(&pool, "distribute", &[out_job(&sandrun)]).await;
    assert_eq!(first_field(&e), "with(pool)", "a closed pool takes no jobs");
}

/// 2-of-3 with the faulty worker: reached, the faulty one named as dissenter, signatures as
/// evidence, downloads from an agreeing worker.
pub async fn consensus_two_of_three() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let bad_key = key_of(faulty()).await;
    let pool = join(&pool_of(&sandrun, &workers())).await;
    let seen = count_events(&pool, &["consensus-achieved"]);
    let b = m(
        &m(&out_job(&sandrun), "consensus", &["2-of-3".into()]),
        "with",
        &[pool.clone()],
    );
    let exec = submit(&b).await;
    let result = ok(&exec, "wait", &[]).await;
    let c = get(&result, "consensus");
    assert_eq!(get_bool(&c, "reached"), Some(true), "{}", describe(&c));
    assert_eq!((get_f64(&c, "k"), get_f64(&c, "n")), (Some(2.0), Some(3.0)));
    let honest_keys = vec![key_of(workers()[0]).await, key_of(workers()[1]).await];
    let mut want = honest_keys.clone();
    want.sort();
    assert_eq!(str_list(&get(&c, "agreeing")), want);
    assert_eq!(str_list(&get(&c, "dissenting")), vec![bad_key.clone()]);
    let evidence: Vec<JsValue> = Array::from(&get(&c, "evidence")).iter().collect();
    assert_eq!(evidence.len(), 3);
    for e in &evidence {
        assert!(
            get_str(e, "signature")
                .map(|s| s.len() == 88)
                .unwrap_or(false),
            "{}",
            describe(e)
        );
        assert_eq!(
            get_bool(e, "verified"),
            Some(true),
            "every result is validly signed: {}",
            describe(e)
        );
        let same = get_str(e, "resultHash") == get_str(&c, "resultHash");
        assert_eq!(
            same,
            get_str(e, "workerId") != Some(bad_key.clone()),
            "{}",
            describe(e)
        );
    }
    assert_eq!(
        get_str(&get(&c, "outputs"), "out/r.txt"),
        Some(sha256_hex(b"forty-two")),
        "the agreed hash is the honest output's"
    );
    assert!(honest_keys.contains(&get_str(&result, "workerId").unwrap_or_default()));
    assert_eq!(
        text(&ok(&exec, "download", &["out/r.txt".into()]).await),
        "forty-two"
    );
    assert_eq!(n_events(&seen, "consensus-achieved"), 1);
    m(&pool, "close", &[]);
}

/// 3-of-3 with the faulty worker cannot agree: a ConsensusError with the evidence.
pub async fn consensus_failure() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let bad_key = key_of(faulty()).await;
    let pool = join(&pool_of(&sandrun, &workers())).await;
    let quorum = obj(&[("k", 3.into()), ("n", 3.into())]);
    let exec = submit(&m(
        &m(&out_job(&sandrun), "consensus", &[quorum]),
        "with",
        &[pool.clone()],
    ))
    .await;
    let e = fails(&exec, "wait", &[]).await;
    assert_eq!(code(&e), "CONSENSUS", "{}", describe(&e));
    assert!(
        e.is_instance_of::<ConsensusError>(),
        "instanceof ConsensusError"
    );
    let r = get(&e, "report");
    assert_eq!(get_bool(&r, "reached"), Some(false));
    assert_eq!(Array::from(&get(&r, "dissenting")).length(), 3);
    assert_eq!(
        Array::from(&get(&e, "evidence")).length(),
        3,
        "err.evidence is the per-worker part"
    );
    let bad: Vec<JsValue> = Array::from(&get(&r, "evidence"))
        .iter()
        .filter(|x| get_str(x, "workerId").as_deref() == Some(bad_key.as_str()))
        .collect();
    assert_eq!(bad.len(), 1);
    assert_ne!(
        get_str(&get(&bad[0], "outputs"), "out/r.txt"),
        Some(sha256_hex(b"forty-two")),
        "the faulty worker's altered output is in the evidence"
    );
    let d = fails(&exec, "download", &["out/r.txt".into()]).await;
    assert_eq!(code(&d), "CONSENSUS", "no agreed hashes, no download");
    // A pool too small for n fails at submit.
    let two = join(&pool_of(&sandrun, &honest())).await;
    let e = fails(
        &m(
            &m(&out_job(&sandrun), "consensus", &["3-of-3".into()]),
            "with",
            &[two.clone()],
        ),
        "submit",
        &[],
    )
    .await;
    assert_eq!(code(&e), "CONSENSUS", "{}", describe(&e));
    m(&pool, "close", &[]);
    m(&two, "close", &[]);
}

/// Through the coordinator: `pool-…` ids, the worker that ran it, outputs from that worker, the
/// coordinator's status checked for the stuck-status bug. An unreachable coordinator in a browser
/// (the real one has no CORS) fails with a clear UNSUPPORTED error.
pub async fn coordinator_submit() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let b = m(
        &m(&sandrun, "pool", &[]),
        "coordinator",
        &[coordinator().into()],
    );
    let pool = join(&b).await;
    assert_eq!(
        get_f64(&pool, "size"),
        Some(2.0),
        "{}",
        describe(&get(&pool, "nodes"))
    );
    for n in node_list(&pool) {
        assert_eq!(
            get_str(&n, "workerId"),
            get_str(&n, "expectedWorkerId"),
            "the allow-listed key"
        );
    }
    let exec = ok(&pool, "distribute", &[out_job(&sandrun)]).await;
    let id = get_str(&exec, "id").unwrap_or_default();
    assert!(
        id.starts_with("pool-") && id.len() == 21,
        "coordinator job id {id:?}"
    );
    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&result)
    );
    let route = get(&result, "route");
    assert_eq!(get_str(&route, "coordinatorJobId"), Some(id.clone()));
    assert!(honest().contains(&get_str(&route, "endpoint").unwrap_or_default().as_str()));
    assert!(get_str(&route, "jobId")
        .unwrap_or_default()
        .starts_with("job_"));
    assert_eq!(get_str(&route, "poolStatus").as_deref(), Some("completed"));
    assert_eq!(get_bool(&route, "stuckStatus"), Some(false));
    assert_eq!(
        text(&ok(&exec, "download", &["out/r.txt".into()]).await),
        "forty-two"
    );
    let v = ok(&exec, "verify", &[]).await;
    assert_eq!(get_bool(&v, "ok"), Some(true), "{}", describe(&v));
    m(&pool, "close", &[]);
    // A coordinator the page cannot reach: the real one sends no CORS headers (the dev node's
    // does, so the flow above works in Chromium too); a browser says why, not "failed to fetch".
    let dead = m(
        &m(&sandrun, "pool", &[]),
        "coordinator",
        &[DEAD_ENDPOINT.into()],
    );
    let e = fails(&dead, "join", &[]).await;
    if is_node() {
        assert_eq!(code(&e), "NETWORK", "{}", describe(&e));
    } else {
        assert_eq!(code(&e), "UNSUPPORTED", "{}", describe(&e));
        assert!(
            get_str(&e, "message").unwrap_or_default().contains("CORS"),
            "{}",
            describe(&e)
        );
    }
}

/// JSON to the broker through the platform (the broker speaks JSON with CORS preflight).
pub async fn broker_call(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (f64, JsValue) {
    let headers = Array::new();
    if body.is_some() {
        headers.push(&Array::of2(
            &"Content-Type".into(),
            &"application/json".into(),
        ));
    }
    let mut req = vec![
        ("method", JsValue::from(method)),
        ("url", format!("{base}{path}").into()),
        ("headers", headers.into()),
    ];
    if let Some(b) = body {
        req.push(("body", Uint8Array::from(b.as_bytes()).into()));
    }
    let res = ok(&installed_platform(), "request", &[obj(&req)]).await;
    let text = String::from_utf8(bytes(&get(&res, "body"))).unwrap_or_default();
    (
        get_f64(&res, "status").unwrap_or(0.0),
        js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL),
    )
}

pub async fn broker_job(base: &str, code: &str, args: &[&str]) -> String {
    let body = obj(&[("code", code.into()), ("args", strs(args))]);
    let body = js_sys::JSON::stringify(&body).unwrap().as_string().unwrap();
    let (status, v) = broker_call(base, "POST", "/submit", Some(&body)).await;
    assert_eq!(status, 200.0, "{}", describe(&v));
    get_str(&v, "job_id").expect("a broker job id")
}

pub async fn broker_result(base: &str, id: &str, within_ms: f64) -> JsValue {
    let deadline = now() + within_ms;
    loop {
        let (status, v) = broker_call(base, "GET", &format!("/results/{id}"), None).await;
        if status == 200.0 {
            return v;
        }
        assert!(
            now() < deadline,
            "broker job {id} not completed in time: {status} {}",
            describe(&v)
        );
        sleep(100.0).await;
    }
}

pub async fn node_jobs_completed(base: &str, node_id: &str) -> (f64, f64) {
    let (_, v) = broker_call(base, "GET", "/nodes", None).await;
    let n = Array::from(&get(&v, "nodes"))
        .iter()
        .find(|n| get_str(n, "id").as_deref() == Some(node_id))
        .expect("the node is listed");
    (
        get_f64(&n, "jobs_completed").unwrap_or(-1.0),
        get_f64(&n, "jobs_failed").unwrap_or(-1.0),
    )
}

/// A node serving a worker: register, heartbeat, claim, run, report the real exit code/output.
pub async fn node_lifecycle() {
    let sandrun = client(Mode::Default.endpoint(), &[]).await;
    let worker = workers()[1];
    let key = key_of(worker).await;
    let b = m(&m(&sandrun, "node", &[]), "endpoint", &[worker.into()]);
    let b = m(&b, "pricing", &[obj(&[("perJob", 0.01.into())])]);
    let node = ok(&b, "register", &[broker().into()]).await;
    let seen = count_events(&node, &["heartbeat", "job-claimed", "job-completed"]);
    let id = get_str(&node, "id").expect("node id");
    // The broker keeps counts per endpoint across runs (both suites share it): compare deltas.
    let before = node_jobs_completed(broker(), &id).await;
    assert_eq!(id.len(), 16);
    let (_, listed) = broker_call(broker(), "GET", "/nodes", None).await;
    let me = Array::from(&get(&listed, "nodes"))
        .iter()
        .find(|n| get_str(n, "id") == Some(id.clone()))
        .expect("registered");
    assert_eq!(
        get_str(&get(&me, "capabilities"), "workerId"),
        Some(key.clone())
    );
    assert_eq!(
        get_f64(&get(&get(&me, "capabilities"), "pricing"), "perJob"),
        Some(0.01)
    );

    ok(&node, "heartbeat", &[]).await;
    assert!(get_f64(&m(&node, "status", &[]), "lastHeartbeat").is_some());
    assert_eq!(n_events(&seen, "heartbeat"), 1);

    m(
        &node,
        "startListening",
        &[obj(&[("pollIntervalMs", 100.into())])],
    );
    let fail_id = broker_job(
        broker(),
        "import sys\nprint('hi', sys.argv[1:])\nprint('warn', file=sys.stderr)\nsys.exit(3)\n",
        &["x"],
    )
    .await;
    let r = broker_result(broker(), &fail_id, 30_000.0).await;
    assert_eq!(get_f64(&r, "exit_code"), Some(3.0), "{}", describe(&r));
    assert_eq!(get_str(&r, "status").as_deref(), Some("failed"));
    assert_eq!(get_str(&r, "output").as_deref(), Some("hi ['x']\n"));
    assert_eq!(get_str(&r, "error").as_deref(), Some("warn\n"));
    let ok_id = broker_job(broker(), "print(6 * 7)\n", &[]).await;
    let r = broker_result(broker(), &ok_id, 30_000.0).await;
    assert_eq!(
        get_str(&r, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&r)
    );
    assert_eq!(get_str(&r, "output").as_deref(), Some("42\n"));
    sleep(50.0).await;
    let st = m(&node, "status", &[]);
    assert_eq!(
        (get_f64(&st, "jobsCompleted"), get_f64(&st, "jobsFailed")),
        (Some(1.0), Some(1.0)),
        "{}",
        describe(&st)
    );
    assert_eq!(get_bool(&st, "listening"), Some(true));
    assert_eq!(n_events(&seen, "job-claimed"), 2);
    assert_eq!(n_events(&seen, "job-completed"), 2);
    assert_eq!(
        node_jobs_completed(broker(), &id).await,
        (before.0 + 1.0, before.1 + 1.0)
    );
    m(&node, "stopListening", &[]);
    assert_eq!(get_bool(&m(&node, "status", &[]), "listening"), Some(false));
    // Not listening: a new job stays pending.
    let idle = broker_job(broker(), "print(1)\n", &[]).await;
    sleep(400.0).await;
    let (status, _) = broker_call(broker(), "GET", &format!("/results/{idle}"), None).await;
    assert_eq!(status, 202.0, "nobody claimed it");
    m(&node, "close", &[]);
    // Leave the queue empty for the other tests' nodes.
    let drain = ok(
        &m(&m(&sandrun, "node", &[]), "endpoint", &[worker.into()]),
        "register",
        &[broker().into()],
    )
    .await;
    m(
        &drain,
        "startListening",
        &[obj(&[("pollIntervalMs", 100.into())])],
    );
    broker_result(broker(), &idle, 30_000.0).await;
    m(&drain, "close", &[]);
}

macro_rules! pool_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod pools {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::pool::$name()).await
                }
            )*
        }
    };
}
pub(crate) use pool_scenarios;

macro_rules! all_pool_scenarios {
    ($install:path) => {
        crate::common::pool::pool_scenarios!($install;
            pool_discovery, pool_distribution, consensus_two_of_three, consensus_failure,
            coordinator_submit, node_lifecycle);
    };
}
pub(crate) use all_pool_scenarios;
