//! Many jobs at once (issue 13), in Node and headless Chromium, against the dev node: the status
//! polls of every job waited for on one worker share one bounded watcher, a log stream that sees
//! a job end has it polled at once, and the status reader takes any JSON without panicking.
//! Memory and request-rate figures are `make bench-scale`'s, not asserted here.

use super::{describe, get, get_f64, get_str, m, now, obj, report, sleep, Mode};
use js_sys::{Array, Object, Promise, Reflect};
use sandrun_sdk::core::actions::status;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/tests/support/scale.js")]
extern "C" {
    #[wasm_bindgen(js_name = statusCounter)]
    fn status_counter() -> JsValue;
    #[wasm_bindgen(js_name = parseJson)]
    fn parse_json(text: &str) -> JsValue;
}

const SHORT_PY: &str = "import time\ntime.sleep(0.3)\nprint('ok', flush=True)\n";
const SECOND_PY: &str = "import time\ntime.sleep(1)\nprint('ok', flush=True)\n";

/// Ten one-second jobs waited for at once through a client allowed two status requests in
/// flight: never more than two are (the compat node holds each poll until its running job ends,
/// as the real worker does, so polling per job would hold ten), and every job's end is seen.
pub async fn shared_bounded_polling(mode: Mode) {
    let sandrun = super::client(
        mode.endpoint(),
        &[
            ("statusConcurrency", 2.into()),
            ("pollIntervalMs", 50.into()),
        ],
    )
    .await;
    let counter = status_counter();
    let middleware = get(&counter, "middleware");
    let submits: Array = (0..10)
        .map(|i| {
            let b = super::py_job(&sandrun, SECOND_PY);
            let b = m(&b, "args", &[Array::of1(&format!("{i}").into()).into()]);
            // Each job has its own middleware layer: the watcher is still shared, per worker.
            let b = m(&b, "with", &[middleware.clone()]);
            m(&b, "submit", &[])
        })
        .collect();
    let execs: Vec<JsValue> = Array::from(
        &JsFuture::from(Promise::all(&submits))
            .await
            .unwrap_or_else(|e| panic!("submit: {}", describe(&e))),
    )
    .iter()
    .collect();
    let t0 = now();
    let waits: Array = execs.iter().map(|e| m(e, "wait", &[])).collect();
    let results = JsFuture::from(Promise::all(&waits))
        .await
        .unwrap_or_else(|e| panic!("wait: {}", describe(&e)));
    let results = Array::from(&results);
    for r in results.iter() {
        assert_eq!(
            get_str(&r, "status").as_deref(),
            Some("completed"),
            "{}",
            describe(&r)
        );
    }
    let stats = get(&counter, "stats");
    let max = get_f64(&stats, "max").unwrap_or(0.0);
    let calls = get_f64(&stats, "calls").unwrap_or(0.0);
    report(&format!(
        "[{mode:?}] 10 jobs waited for in {:.0} ms: {calls} status requests, at most {max} in flight",
        now() - t0
    ));
    assert!(
        max <= 2.0,
        "{max} status requests were in flight at once (limit 2)"
    );
    if mode == Mode::Compat {
        // The node holds every poll while a job runs: the limit is reached, not just respected.
        assert_eq!(
            max, 2.0,
            "the compat node holds polls open, so two were in flight"
        );
    } else {
        assert!(max >= 1.0, "the middleware saw the polls");
    }
    for e in &execs {
        m(e, "free", &[]);
    }
}

/// A job polled rarely (pollIntervalMs 4000) whose log stream is read: the stream's `[DONE]` has
/// the watcher poll it at once, so `wait()` ends soon after the logs do, not at the next poll.
pub async fn stream_end_polls_at_once(mode: Mode) {
    let sandrun = super::client(mode.endpoint(), &[("pollIntervalMs", 4000.into())]).await;
    let exec = super::submit(&super::py_job(&sandrun, SHORT_PY)).await;
    let pending = JsFuture::from(Promise::from(m(&exec, "wait", &[])));
    // Let the first poll happen (at once, while the job runs) before the stream ends.
    sleep(100.0).await;
    let (logs, _) = super::collect_logs(&exec).await;
    assert_eq!(logs, "ok\n");
    let logs_ended = now();
    let result = pending
        .await
        .unwrap_or_else(|e| panic!("wait: {}", describe(&e)));
    let after = now() - logs_ended;
    assert_eq!(get_str(&result, "status").as_deref(), Some("completed"));
    report(&format!(
        "[{mode:?}] wait() ended {after:.0} ms after the log stream"
    ));
    assert!(
        after < 2000.0,
        "wait() ended {after:.0} ms after the log stream did; the next poll was due at 4000 ms"
    );
}

/// xorshift64*: the same cases on every run and platform (proptest needs OS randomness, which
/// wasm32-unknown-unknown does not have).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A JSON value of any type, strings included that are empty, long, non-ASCII or escaped.
fn any_value(r: &mut Rng, depth: u32) -> JsValue {
    match r.below(if depth > 2 { 7 } else { 9 }) {
        0 => JsValue::NULL,
        1 => JsValue::from(r.chance(50)),
        2 => JsValue::from(r.below(1 << 20) as f64 - 1000.0),
        3 => JsValue::from([-1.5, 1e300, -1e300, 0.5, f64::MAX][r.below(5) as usize]),
        4 => JsValue::from(
            ["", "completed", "ünïcødé ✓", "a\"b\\c", &"x".repeat(3000)][r.below(5) as usize],
        ),
        5 => JsValue::from(format!("{:064x}", r.next())),
        6 => JsValue::UNDEFINED,
        7 => (0..r.below(4))
            .map(|_| any_value(r, depth + 1))
            .collect::<Array>()
            .into(),
        _ => {
            let o = Object::new();
            for i in 0..r.below(5) {
                let key = ["sha256", "size_bytes", "type", "x", "0"][(i + r.below(5)) as usize % 5];
                let _ = Reflect::set(&o, &key.into(), &any_value(r, depth + 1));
            }
            o.into()
        }
    }
}

/// Any value but a string (or `undefined`, which JSON text drops).
fn not_a_string(r: &mut Rng) -> JsValue {
    loop {
        let v = any_value(r, 1);
        if !v.is_string() && !v.is_undefined() {
            return v;
        }
    }
}

/// A status body: each field present and well-formed, absent, or of any other type.
fn status_case(r: &mut Rng) -> (JsValue, Option<(String, String, usize)>) {
    if r.chance(5) {
        return (any_value(r, 0), None);
    }
    let body = Object::new();
    let set = |k: &str, v: &JsValue| {
        let _ = Reflect::set(&body, &k.into(), v);
    };
    let job_id = format!("job-{}", r.below(1000));
    let status = ["queued", "running", "completed", "failed", "ünknown"][r.below(5) as usize];
    let good_id = r.chance(85);
    set(
        "job_id",
        &if good_id {
            JsValue::from(&job_id)
        } else {
            not_a_string(r)
        },
    );
    let good_status = r.chance(85);
    set(
        "status",
        &if good_status {
            JsValue::from(status)
        } else {
            not_a_string(r)
        },
    );
    for k in [
        "queue_position",
        "execution_metadata",
        "job_hash",
        "worker_metadata",
    ] {
        if r.chance(50) {
            set(k, &any_value(r, 1));
        }
    }
    // Output files: well-formed entries, or entries of any shape.
    let mut files_ok = true;
    let mut count = 0;
    if r.chance(70) {
        let files = Object::new();
        for i in 0..r.below(6) {
            let entry = if r.chance(80) {
                obj(&[
                    ("sha256", format!("{:064x}", r.next()).into()),
                    ("size_bytes", (r.below(1 << 30) as f64).into()),
                    ("type", "file".into()),
                ])
            } else {
                let v = not_a_string(r);
                let has_sha = v.is_object() && get(&v, "sha256").is_string();
                files_ok &= has_sha;
                v
            };
            let _ = Reflect::set(&files, &format!("out/{i}.txt").into(), &entry);
            count += 1;
        }
        set("output_files", &files);
    }
    let ok_expected = good_id && good_status && files_ok;
    let expected = ok_expected.then(|| (job_id, status.to_string(), count));
    (body.into(), expected)
}

/// The status reader over 3,000 generated bodies (and their JSON text re-parsed): it never
/// panics (a panic would abort the wasm instance and fail every later test), accepts exactly the
/// bodies with a string `job_id` and `status` whose output files each have a string `sha256`, and
/// keeps what it accepts.
pub async fn status_reader_generated_cases() {
    let mut r = Rng(0x5EED_0000_0013);
    let (mut accepted, mut refused) = (0, 0);
    for case in 0..3000 {
        let (body, expected) = status_case(&mut r);
        let through_json = js_sys::JSON::stringify(&body)
            .ok()
            .and_then(|t| t.as_string())
            .map(|t| parse_json(&t));
        for v in std::iter::once(body.clone()).chain(through_json) {
            let got = status::read(&v, false);
            match (&got, &expected) {
                (Ok(s), Some((id, st, files))) => {
                    assert_eq!(&s.job_id, id, "case {case}");
                    assert_eq!(&s.status, st, "case {case}");
                    assert_eq!(s.output_files.len(), *files, "case {case}");
                    accepted += 1;
                }
                (Err(_), None) => refused += 1,
                _ => panic!(
                    "case {case}: read gave {:?} for {}, expected {:?}",
                    got.as_ref().map(|s| &s.job_id),
                    describe(&v),
                    expected
                ),
            }
        }
    }
    report(&format!(
        "status reader: {accepted} bodies accepted, {refused} refused"
    ));
    assert!(
        accepted > 1000 && refused > 500,
        "the cases cover both ({accepted}/{refused})"
    );
}

macro_rules! scale_scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod scale {
            mod default_mode {
                $(
                    #[wasm_bindgen_test::wasm_bindgen_test]
                    async fn $name() {
                        $install();
                        crate::common::within(stringify!($name), crate::common::scale::$name(crate::common::Mode::Default)).await
                    }
                )*
            }
            mod compat_mode {
                $(
                    #[wasm_bindgen_test::wasm_bindgen_test]
                    async fn $name() {
                        $install();
                        crate::common::within(stringify!($name), crate::common::scale::$name(crate::common::Mode::Compat)).await
                    }
                )*
            }
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn status_reader_generated_cases() {
                $install();
                crate::common::within("status_reader_generated_cases", crate::common::scale::status_reader_generated_cases()).await
            }
        }
    };
}
pub(crate) use scale_scenarios;

macro_rules! all_scale_scenarios {
    ($install:path) => {
        crate::common::scale::scale_scenarios!($install;
            shared_bounded_polling, stream_end_polls_at_once);
    };
}
pub(crate) use all_scale_scenarios;
