//! The scenarios shared by the wasm-bindgen-test suites `tests/node.rs` (Node, `js/node.js`) and
//! `tests/browser.rs` (headless Chromium, `js/browser.js`). Each scenario runs once per dev node
//! mode (default and `--compat`), against the real dev node over real sockets, and drives the SDK
//! through its JS-facing surface (the exported classes and their camelCase methods), as a user's
//! script would.
//!
//! Endpoints are fixed at compile time (the browser has no environment):
//! `SANDRUN_TEST_ENDPOINT` (default mode) and `SANDRUN_TEST_COMPAT_ENDPOINT` (`--compat`).
//! `scripts/test-wasm.sh` starts both nodes with a worker key, so results are signed.
#![allow(dead_code)]

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::hash::sha256_hex;
use sandrun_sdk::Sandrun;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub mod chain;
pub mod ipfs;
pub mod market;
pub mod plugins;
pub mod pool;
pub mod scale;

#[wasm_bindgen(module = "/tests/support/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = callMethod, catch)]
    fn call_method(obj: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = newAbortController)]
    fn new_abort_controller() -> JsValue;
    /// A line printed by the runner even when the test passes.
    pub fn report(line: &str);
    pub fn describe(v: &JsValue) -> String;
    pub fn now() -> f64;
    #[wasm_bindgen(js_name = isNode)]
    pub fn is_node() -> bool;
    #[wasm_bindgen(js_name = limitTimer)]
    fn limit_timer(ms: f64) -> JsValue;
}

// The SDK's error classes, for `instanceof` checks (the class a user imports).
#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    pub type SandrunError;
    pub type ValidationError;
    pub type NetworkError;
    pub type CancelledError;
    pub type VerificationError;
    pub type ConsensusError;
    pub type TimeoutError;
    pub type NotFoundError;
}

// js/node.js imports ./browser.js and ./errors.js: importing from all three keeps them side by
// side in the runner's snippets folder, so those relative imports resolve.
#[wasm_bindgen(module = "/js/browser-full.js")]
extern "C" {
    /// The full entry's browser platform: the suites run the full build.
    #[wasm_bindgen(js_name = fullBrowserPlatform)]
    pub fn browser_platform() -> JsValue;
}

#[wasm_bindgen(module = "/js/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = sleep)]
    fn platform_sleep(ms: f64) -> Promise;
}

thread_local! {
    static PLATFORM: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Installs the platform object (what the package entry files do) once per test binary.
pub fn install(platform: impl FnOnce() -> JsValue) {
    PLATFORM.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            let obj = platform();
            sandrun_sdk::set_platform(obj.clone()).expect("setPlatform accepts the platform");
            *p = Some(obj);
        }
    });
}

fn installed_platform() -> JsValue {
    PLATFORM
        .with(|p| p.borrow().clone())
        .expect("the platform is installed")
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Default,
    Compat,
}

impl Mode {
    pub fn endpoint(self) -> &'static str {
        match self {
            Mode::Default => {
                option_env!("SANDRUN_TEST_ENDPOINT").unwrap_or("http://127.0.0.1:18443")
            }
            Mode::Compat => {
                option_env!("SANDRUN_TEST_COMPAT_ENDPOINT").unwrap_or("http://127.0.0.1:18444")
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Compat => "compat",
        }
    }
}

/// Nothing listens here: a request to it fails with NETWORK.
pub const DEAD_ENDPOINT: &str = "http://127.0.0.1:9";

// ---------------------------------------------------------------------------------------------
// Small JS helpers

pub fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn get_str(v: &JsValue, key: &str) -> Option<String> {
    get(v, key).as_string()
}

fn get_f64(v: &JsValue, key: &str) -> Option<f64> {
    get(v, key).as_f64()
}

fn get_bool(v: &JsValue, key: &str) -> Option<bool> {
    get(v, key).as_bool()
}

pub fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).expect("set a property");
    }
    o.into()
}

pub fn strs(items: &[&str]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from(*s))
        .collect::<Array>()
        .into()
}

fn keys(v: &JsValue) -> Vec<String> {
    let mut k: Vec<String> = Object::keys(v.unchecked_ref::<Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    k.sort();
    k
}

/// `obj.name(...args)`, panicking with the JS error if it throws.
pub fn m(obj: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    let arr: Array = args.iter().collect();
    call_method(obj, name, &arr).unwrap_or_else(|e| panic!("{name}() threw {}", describe(&e)))
}

/// `await obj.name(...args)`.
pub async fn am(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let arr: Array = args.iter().collect();
    let ret = call_method(obj, name, &arr)?;
    JsFuture::from(Promise::resolve(&ret)).await
}

/// `await obj.name(...args)`, which must resolve.
pub async fn ok(obj: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    am(obj, name, args)
        .await
        .unwrap_or_else(|e| panic!("{name}() rejected: {}", describe(&e)))
}

/// `await obj.name(...args)`, which must reject; returns the error.
pub async fn fails(obj: &JsValue, name: &str, args: &[JsValue]) -> JsValue {
    match am(obj, name, args).await {
        Ok(v) => panic!(
            "{name}() resolved with {} but should have failed",
            describe(&v)
        ),
        Err(e) => e,
    }
}

/// How long one scenario may run (ms). The longest takes about 16 s here (the market's
/// `claimant_dies_others_complete_or_refund`, which waits out two deadlines), so 120 s is a hang.
/// `SANDRUN_TEST_SCENARIO_LIMIT_MS` at compile time sets another (to see the limit work).
fn scenario_limit_ms() -> f64 {
    option_env!("SANDRUN_TEST_SCENARIO_LIMIT_MS").map_or(120_000.0, |ms| {
        ms.parse()
            .expect("SANDRUN_TEST_SCENARIO_LIMIT_MS: milliseconds")
    })
}

/// A scenario that takes longer than this is named in the output, with its time.
const SLOW_SCENARIO_S: f64 = 10.0;

/// Runs one scenario under `scenario_limit_ms()`, so a scenario that hangs fails under its own name
/// and the rest of the suite still runs. Without it, in Chromium, the runner waits out
/// WASM_BINDGEN_TEST_TIMEOUT for the whole page and prints neither the hung test's name nor a
/// result line (seen once in CI). Both futures are polled in the test's own task, so a panic in
/// the scenario is still reported by the harness as that test's failure.
pub async fn within(name: &str, scenario: impl std::future::Future<Output = ()>) {
    use futures_util::future::{select, Either};
    let started = now();
    let limit = scenario_limit_ms();
    let timer = limit_timer(limit);
    let fired = JsFuture::from(Promise::from(get(&timer, "promise")));
    let scenario = std::pin::pin!(scenario);
    let timed_out = matches!(select(scenario, fired).await, Either::Right(_));
    let cancel: js_sys::Function = get(&timer, "cancel").into();
    let _ = cancel.call0(&JsValue::UNDEFINED);
    let took = (now() - started) / 1000.0;
    if took > SLOW_SCENARIO_S {
        report(&format!("{name} took {took:.1} s"));
    }
    if timed_out {
        panic!(
            "{name}: the scenario did not finish within {} s",
            limit / 1000.0
        );
    }
}

pub async fn sleep(ms: f64) {
    JsFuture::from(platform_sleep(ms)).await.expect("sleep");
}

fn code(err: &JsValue) -> String {
    get_str(err, "code").unwrap_or_else(|| format!("(no code: {})", describe(err)))
}

fn first_field(err: &JsValue) -> String {
    let errors = get(err, "errors");
    assert!(
        Array::is_array(&errors),
        "a ValidationError lists its problems in .errors: {}",
        describe(err)
    );
    get_str(&Array::from(&errors).get(0), "field").unwrap_or_default()
}

fn bytes(v: &JsValue) -> Vec<u8> {
    assert!(
        v.is_instance_of::<Uint8Array>(),
        "expected a Uint8Array, got {}",
        describe(v)
    );
    Uint8Array::from(v.clone()).to_vec()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The job hash as the protocol defines it, computed here independently of the SDK.
fn expected_job_hash(
    entrypoint: &str,
    interpreter: &str,
    environment: &str,
    args: &[&str],
    source: &str,
) -> String {
    let mut pre = format!("{entrypoint}|{interpreter}|{environment}|");
    for a in args {
        pre.push_str(a);
        pre.push('|');
    }
    let mut data = pre.into_bytes();
    data.extend_from_slice(source.as_bytes());
    sha256_hex(&data)
}

// ---------------------------------------------------------------------------------------------
// SDK helpers

pub async fn create(config: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Sandrun::create(Some(config))).await
}

pub async fn client(endpoint: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs = vec![("endpoint", JsValue::from(endpoint))];
    pairs.extend(extra.iter().cloned());
    create(obj(&pairs))
        .await
        .unwrap_or_else(|e| panic!("Sandrun.create failed: {}", describe(&e)))
}

/// The worker id the node announces on /health (the tests run it with a key).
async fn worker_id(sandrun: &JsValue) -> String {
    let health = ok(sandrun, "health", &[]).await;
    assert_eq!(get_str(&health, "status").as_deref(), Some("healthy"));
    get_str(&health, "workerId")
        .expect("the dev node runs with --worker-key, so /health names a worker id")
}

/// A builder for a Python job with `main.py` = `source`.
fn py_job(sandrun: &JsValue, source: &str) -> JsValue {
    let b = m(sandrun, "job", &[]);
    let b = m(&b, "file", &["main.py".into(), source.into()]);
    m(&b, "entrypoint", &["main.py".into()])
}

async fn submit(builder: &JsValue) -> JsValue {
    ok(builder, "submit", &[]).await
}

/// Reads a log stream to its end (`next()` until `undefined`); returns the text and chunk count.
async fn collect_logs(exec: &JsValue) -> (String, usize) {
    let stream = m(exec, "logStream", &[]);
    let mut text = String::new();
    let mut chunks = 0;
    loop {
        let c = ok(&stream, "next", &[]).await;
        if c.is_undefined() {
            break;
        }
        text.push_str(
            &c.as_string()
                .unwrap_or_else(|| panic!("a log chunk is a string, got {}", describe(&c))),
        );
        chunks += 1;
        assert!(chunks < 10_000, "the log stream does not end");
    }
    // The end is sticky.
    assert!(
        ok(&stream, "next", &[]).await.is_undefined(),
        "next() after the end is undefined again"
    );
    m(&stream, "free", &[]);
    (text, chunks)
}

/// Asserts the log text is stdout and stderr, each complete and in order, merged as the worker
/// read them from two pipes: chunks of one may land between chunks of the other (even mid-line:
/// the dev node runs Python unbuffered, which writes a line's text and its newline separately).
/// So the check is that the text is an interleaving of the two, each byte used once.
fn assert_interleaved(mode: Mode, logs: &str, stdout: &str, stderr: &str, what: &str) {
    let (l, a, b): (Vec<char>, Vec<char>, Vec<char>) = (
        logs.chars().collect(),
        stdout.chars().collect(),
        stderr.chars().collect(),
    );
    // ok[i][j]: the first i+j chars of the log interleave a[..i] and b[..j].
    let mut ok = vec![vec![false; b.len() + 1]; a.len() + 1];
    if l.len() == a.len() + b.len() {
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                ok[i][j] = (i == 0 && j == 0)
                    || (i > 0 && ok[i - 1][j] && a[i - 1] == l[i + j - 1])
                    || (j > 0 && ok[i][j - 1] && b[j - 1] == l[i + j - 1]);
            }
        }
    }
    assert!(
        ok[a.len()][b.len()],
        "[{}] {what}: {logs:?} is not stdout {stdout:?} and stderr {stderr:?}, each once and in order",
        mode.name()
    );
}

fn assert_clean_log(mode: Mode, text: &str) {
    for marker in ["[STATUS]", "[DONE]", "[STDERR]", "[ERROR]"] {
        assert!(
            !text.contains(marker),
            "[{}] protocol marker {marker} leaked into the log text: {text:?}",
            mode.name()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const FULL_CYCLE_PY: &str = r#"import os, sys, time
time.sleep(0.5)  # long enough for the log stream to attach while the job runs
n = int(sys.argv[2])
for i in range(n):
    print(f"line {i}", flush=True)
print("to stderr", file=sys.stderr, flush=True)
os.makedirs("out", exist_ok=True)
with open("out/result.bin", "wb") as f:
    f.write(bytes(range(256)) * 4 + b"sandrun")
with open("out/n.txt", "w") as f:
    f.write(str(n * 7))
"#;

fn full_cycle_bin() -> Vec<u8> {
    let mut v: Vec<u8> = (0..=255u8).cycle().take(1024).collect();
    v.extend_from_slice(b"sandrun");
    v
}

/// submit → stream logs → wait → verify → download (+ downloadAll, outputs, verify of bytes).
pub async fn full_cycle(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let worker = worker_id(&sandrun).await;

    let base = m(
        &py_job(&sandrun, FULL_CYCLE_PY),
        "outputs",
        &[strs(&["out/*"])],
    );
    let builder = m(&base, "args", &[strs(&["--n", "3"])]);
    // Builders are immutable: deriving `builder` left `base` without args.
    assert_eq!(
        Array::from(&get(&m(&base, "toSpec", &[]), "args")).length(),
        0
    );
    let report_v = m(&builder, "validate", &[]);
    assert_eq!(
        get_bool(&report_v, "ok"),
        Some(true),
        "validate(): {}",
        describe(&report_v)
    );

    let progress: Rc<RefCell<Vec<(f64, f64)>>> = Rc::default();
    let p2 = progress.clone();
    let on_progress = Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        p2.borrow_mut().push((
            get_f64(&p, "loaded").unwrap_or(-1.0),
            get_f64(&p, "total").unwrap_or(-1.0),
        ));
    });
    let exec = ok(
        &builder,
        "submit",
        &[obj(&[("onProgress", on_progress.as_ref().clone())])],
    )
    .await;
    drop(on_progress);
    let id = get_str(&exec, "id").expect("exec.id");
    assert!(id.starts_with("job_"), "job id {id:?}");
    {
        let p = progress.borrow();
        let (loaded, total) = *p.last().expect("onProgress was called");
        assert!(
            total > 0.0 && loaded == total,
            "upload progress ends at its total: {p:?}"
        );
    }

    let local_hash = expected_job_hash("main.py", "python3", "", &["--n", "3"], FULL_CYCLE_PY);
    assert_eq!(
        get_str(&exec, "jobHash").as_deref(),
        Some(local_hash.as_str()),
        "exec.jobHash is the protocol's job hash"
    );

    let (logs, chunks) = collect_logs(&exec).await;
    assert!(chunks >= 1);
    assert_interleaved(
        mode,
        &logs,
        "line 0\nline 1\nline 2\n",
        "to stderr\n",
        "live logs",
    );
    assert_clean_log(mode, &logs);

    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(get_str(&result, "id").as_deref(), Some(id.as_str()));
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&result)
    );
    assert_eq!(get_f64(&result, "exitCode"), Some(0.0));
    assert_eq!(
        get_str(&result, "jobHash").as_deref(),
        Some(local_hash.as_str()),
        "the worker hashed what we sent"
    );
    assert_eq!(
        get_str(&result, "workerId").as_deref(),
        Some(worker.as_str())
    );
    assert_eq!(get_bool(&result, "signed"), Some(true));
    assert_eq!(get_str(&exec, "status").as_deref(), Some("completed"));

    let bin = full_cycle_bin();
    let outputs = get(&result, "outputs");
    assert_eq!(
        keys(&outputs),
        ["out/n.txt", "out/result.bin"],
        "only out/* are outputs (main.py is not)"
    );
    let info = get(&outputs, "out/result.bin");
    assert_eq!(get_f64(&info, "size"), Some(bin.len() as f64));
    assert_eq!(get_str(&info, "sha256"), Some(sha256_hex(&bin)));
    assert_eq!(
        get_str(&get(&outputs, "out/n.txt"), "sha256"),
        Some(sha256_hex(b"21"))
    );
    assert_eq!(
        keys(&ok(&exec, "outputs", &[]).await),
        ["out/n.txt", "out/result.bin"]
    );

    let report = ok(&exec, "verify", &[]).await;
    let sig = get(&report, "signature");
    let hash = get(&report, "jobHash");
    assert_eq!(
        get_bool(&report, "ok"),
        Some(true),
        "[{}] verify(): {}",
        mode.name(),
        describe(&report)
    );
    assert_eq!(Array::from(&get(&report, "problems")).length(), 0);
    assert_eq!(get_bool(&sig, "present"), Some(true));
    assert_eq!(
        get_bool(&sig, "valid"),
        Some(true),
        "signature: {}",
        describe(&sig)
    );
    assert_eq!(
        get_str(&hash, "expected").as_deref(),
        Some(local_hash.as_str())
    );
    assert_eq!(
        get_str(&hash, "reported").as_deref(),
        Some(local_hash.as_str())
    );
    assert_eq!(get_bool(&hash, "matches"), Some(true));
    assert_eq!(
        get_str(&report, "workerId").as_deref(),
        Some(worker.as_str())
    );
    assert!(
        get(&report, "trusted").is_null(),
        "no trustedWorkers configured → trusted is null"
    );
    let message = get_str(&sig, "message").expect("the signed message");
    assert!(
        message.starts_with(&format!("{local_hash}|0|")),
        "signed message {message:?}"
    );
    assert!(
        message.ends_with(&format!(
            "out/n.txt:{}|out/result.bin:{}|",
            sha256_hex(b"21"),
            sha256_hex(&bin)
        )),
        "{message:?}"
    );
    // Default mode pins the CPU figure with `cpu_signed`; compat with the stream's [DONE] line
    // (the logs above were read live): only the pinned figures are tried (one batch of at most
    // three: cpu_signed and [DONE]'s, which has two spellings on an exact tie), no search.
    let tried = get_f64(&sig, "candidatesTried").unwrap_or(-1.0);
    assert!(
        (1.0..=3.0).contains(&tried),
        "[{}] no candidate search expected: {}",
        mode.name(),
        describe(&sig)
    );
    // Nothing downloaded yet: outputs listed but unchecked.
    for o in Array::from(&get(&report, "outputs")).iter() {
        assert_eq!(get_bool(&o, "checked"), Some(false));
        assert!(get(&o, "matches").is_null());
    }

    let got = bytes(&ok(&exec, "download", &["out/result.bin".into()]).await);
    assert_eq!(got, bin, "downloaded bytes are what the job wrote");
    assert_eq!(sha256_hex(&got), get_str(&info, "sha256").unwrap());
    assert_eq!(
        bytes(&ok(&exec, "download", &["out/n.txt".into()]).await),
        b"21"
    );
    let all = ok(&exec, "downloadAll", &[]).await;
    assert_eq!(keys(&all), ["out/n.txt", "out/result.bin"]);
    assert_eq!(bytes(&get(&all, "out/result.bin")), bin);

    // Not an output, and never the whole-folder download (which deletes the job on the real server).
    let e = fails(&exec, "download", &["main.py".into()]).await;
    assert_eq!(code(&e), "NOT_FOUND", "{}", describe(&e));
    let e = fails(&exec, "download", &["".into()]).await;
    assert_eq!(code(&e), "VALIDATION", "{}", describe(&e));

    let report = ok(&exec, "verify", &[obj(&[("downloadOutputs", true.into())])]).await;
    assert_eq!(get_bool(&report, "ok"), Some(true), "{}", describe(&report));
    let checks = Array::from(&get(&report, "outputs"));
    assert_eq!(checks.length(), 2);
    for o in checks.iter() {
        assert_eq!(get_bool(&o, "checked"), Some(true), "{}", describe(&o));
        assert_eq!(get_bool(&o, "matches"), Some(true), "{}", describe(&o));
    }

    // The job still exists on the worker (nothing deleted it).
    let again = m(&sandrun, "execution", &[id.clone().into()]);
    let r2 = ok(&again, "wait", &[]).await;
    assert_eq!(
        get_str(&r2, "jobHash").as_deref(),
        Some(local_hash.as_str())
    );
    m(&again, "free", &[]);
    m(&exec, "free", &[]);
}

const NON_ASCII_PY: &str = r#"import os, sys
print("café ✓ naïve", flush=True)
print("erreur: ça coince ✗", file=sys.stderr, flush=True)
os.makedirs("out", exist_ok=True)
with open("out/unicode.txt", "w", encoding="utf-8") as f:
    f.write("é ✓ — ünïcödé 日本\n")
"#;

/// Non-ASCII text on stdout/stderr and in an output file; live stream and re-attached `/logs`.
pub async fn non_ascii(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let exec = submit(&m(
        &py_job(&sandrun, NON_ASCII_PY),
        "outputs",
        &[strs(&["out/*"])],
    ))
    .await;
    let (logs, _) = collect_logs(&exec).await;
    assert_interleaved(
        mode,
        &logs,
        "café ✓ naïve\n",
        "erreur: ça coince ✗\n",
        "logs",
    );
    assert!(
        !logs.contains('\u{FFFD}') && !logs.contains("Ã"),
        "[{}] mis-decoded UTF-8: {logs:?}",
        mode.name()
    );

    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&result)
    );
    let expected = "é ✓ — ünïcödé 日本\n".as_bytes();
    let got = bytes(&ok(&exec, "download", &["out/unicode.txt".into()]).await);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(got, expected);
    assert_eq!(
        get_str(&get(&get(&result, "outputs"), "out/unicode.txt"), "sha256"),
        Some(sha256_hex(expected))
    );

    // Attaching after the end: the text once (no replayed duplicates), still decoded.
    let id = get_str(&exec, "id").unwrap();
    let later = m(&sandrun, "execution", &[id.into()]);
    let (again, _) = collect_logs(&later).await;
    assert_interleaved(
        mode,
        &again,
        "café ✓ naïve\n",
        "erreur: ça coince ✗\n",
        "re-attached logs",
    );
    assert_clean_log(mode, &again);

    let report = ok(&exec, "verify", &[obj(&[("downloadOutputs", true.into())])]).await;
    assert_eq!(get_bool(&report, "ok"), Some(true), "{}", describe(&report));
}

const INVALID_UTF8_PY: &str = r#"import sys, time
time.sleep(0.5)  # the stream attaches while the job runs
sys.stdout.buffer.write(b"ok before\n\xff\xfe\nok after \xc3\xa9\n")
sys.stdout.flush()
"#;

/// A job printing invalid UTF-8: the browser fails the socket (1007), the SDK falls back to
/// `/logs`; either way the text arrives once, bad bytes as U+FFFD, and the stream ends.
pub async fn invalid_utf8(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let exec = submit(&py_job(&sandrun, INVALID_UTF8_PY)).await;
    let (logs, _) = collect_logs(&exec).await;
    assert_eq!(count(&logs, "ok before\n"), 1, "[{}] {logs:?}", mode.name());
    assert_eq!(
        count(&logs, "ok after é\n"),
        1,
        "[{}] {logs:?}",
        mode.name()
    );
    assert!(
        logs.contains('\u{FFFD}'),
        "[{}] invalid bytes become U+FFFD: {logs:?}",
        mode.name()
    );
    assert_clean_log(mode, &logs);
    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(get_str(&result, "status").as_deref(), Some("completed"));

    // Re-attached after the end: read from `/logs` (byte-escaped JSON on the compat worker).
    let later = m(&sandrun, "execution", &[get(&exec, "id")]);
    let (again, _) = collect_logs(&later).await;
    assert_eq!(
        count(&again, "ok before\n"),
        1,
        "[{}] re-attached: {again:?}",
        mode.name()
    );
    assert_eq!(
        count(&again, "ok after é\n"),
        1,
        "[{}] re-attached: {again:?}",
        mode.name()
    );
    assert!(
        again.contains('\u{FFFD}'),
        "[{}] re-attached: {again:?}",
        mode.name()
    );
}

const FAILING_PY: &str = "import sys\nprint('about to fail', flush=True)\nsys.exit(3)\n";

/// exit 3 → `failed`, exit code 3, still signed and verifiable.
pub async fn failing_job(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let exec = submit(&py_job(&sandrun, FAILING_PY)).await;
    let result = ok(&exec, "wait", &[]).await;
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("failed"),
        "{}",
        describe(&result)
    );
    assert_eq!(get_f64(&result, "exitCode"), Some(3.0));
    assert_eq!(get_str(&exec, "status").as_deref(), Some("failed"));
    let (logs, _) = collect_logs(&exec).await;
    assert_eq!(count(&logs, "about to fail\n"), 1, "{logs:?}");

    let report = ok(&exec, "verify", &[]).await;
    let sig = get(&report, "signature");
    assert_eq!(
        get_bool(&report, "ok"),
        Some(true),
        "[{}] {}",
        mode.name(),
        describe(&report)
    );
    assert_eq!(get_bool(&sig, "valid"), Some(true));
    assert_eq!(get_bool(&get(&report, "jobHash"), "matches"), Some(true));
    let hash = expected_job_hash("main.py", "python3", "", &[], FAILING_PY);
    assert!(
        get_str(&sig, "message")
            .unwrap()
            .starts_with(&format!("{hash}|3|")),
        "{}",
        describe(&sig)
    );
}

const SLOW_PY: &str =
    "import time\nprint('start', flush=True)\ntime.sleep(1.5)\nprint('end', flush=True)\n";

/// A job that outlives several polls (pollIntervalMs 200): `wait()` neither misses the end nor
/// gives up early; a shorter `timeoutMs` rejects with TIMEOUT first.
pub async fn outlives_poll(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[("pollIntervalMs", 200.into())]).await;
    assert_eq!(
        get_f64(&get(&sandrun, "config"), "pollIntervalMs"),
        Some(200.0)
    );
    let t0 = now();
    let exec = submit(&py_job(&sandrun, SLOW_PY)).await;

    let e = fails(&exec, "wait", &[obj(&[("timeoutMs", 300.into())])]).await;
    assert_eq!(code(&e), "TIMEOUT", "{}", describe(&e));
    assert!(e.is_instance_of::<TimeoutError>());
    let waited = now() - t0;
    assert!(
        waited < 1400.0,
        "[{}] the 300 ms timeout took {waited:.0} ms",
        mode.name()
    );

    let pending = m(&exec, "wait", &[]);
    let mut seen = Vec::new();
    for _ in 0..5 {
        sleep(100.0).await;
        seen.push(get_str(&exec, "status").unwrap_or_default());
    }
    let result = JsFuture::from(Promise::from(pending))
        .await
        .unwrap_or_else(|e| panic!("wait: {}", describe(&e)));
    let elapsed = now() - t0;
    assert_eq!(
        get_str(&result, "status").as_deref(),
        Some("completed"),
        "{}",
        describe(&result)
    );
    assert!(
        elapsed >= 1500.0,
        "the job sleeps 1.5 s, yet wait() returned after {elapsed:.0} ms"
    );
    assert!(
        elapsed < 6000.0,
        "[{}] wait() took {elapsed:.0} ms for a 1.5 s job",
        mode.name()
    );
    assert!(
        seen.iter().all(|s| s == "queued" || s == "running"),
        "statuses while it ran: {seen:?}"
    );
    if mode == Mode::Default {
        // The default node answers polls at once, so the SDK saw the job running.
        assert!(
            seen.iter().any(|s| s == "running"),
            "statuses while it ran: {seen:?}"
        );
    }
    let (logs, _) = collect_logs(&exec).await;
    assert_eq!(logs, "start\nend\n");
}

const ABORTABLE_PY: &str =
    "import time\nprint('waiting', flush=True)\ntime.sleep(2.5)\nprint('done', flush=True)\n";

/// Aborting with an AbortController rejects `wait()` with CANCELLED promptly (even while the
/// compat worker holds the status request); an already-aborted builder signal stops `submit()`.
pub async fn abort(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let exec = submit(&py_job(&sandrun, ABORTABLE_PY)).await;
    let controller = new_abort_controller();
    let signal = get(&controller, "signal");
    let t0 = now();
    let pending = m(&exec, "wait", &[obj(&[("signal", signal.clone())])]);
    sleep(300.0).await;
    m(&controller, "abort", &[]);
    let t_abort = now();
    let e = match JsFuture::from(Promise::from(pending)).await {
        Ok(v) => panic!("wait() resolved with {} despite the abort", describe(&v)),
        Err(e) => e,
    };
    let after = now() - t_abort;
    assert_eq!(code(&e), "CANCELLED", "{}", describe(&e));
    assert!(e.is_instance_of::<CancelledError>(), "{}", describe(&e));
    assert!(e.is_instance_of::<SandrunError>());
    assert!(
        after < 1000.0,
        "[{}] wait() rejected {after:.0} ms after the abort",
        mode.name()
    );
    assert!(
        now() - t0 < 2300.0,
        "wait() rejected before the job could have ended"
    );

    // An aborted signal also rejects a new wait at once.
    let e = fails(&exec, "wait", &[obj(&[("signal", signal)])]).await;
    assert_eq!(code(&e), "CANCELLED");

    match mode {
        Mode::Default => {
            // The default node can stop the job; wait() then reports the cancellation.
            let c = ok(&exec, "cancel", &[]).await;
            assert_eq!(
                get_bool(&c, "stoppedOnServer"),
                Some(true),
                "{}",
                describe(&c)
            );
            let e = fails(&exec, "wait", &[]).await;
            assert_eq!(code(&e), "CANCELLED");
            assert_eq!(get_str(&exec, "status").as_deref(), Some("cancelled"));
        }
        Mode::Compat => {
            // Aborting stopped watching, not the job: a new wait gets its result.
            let result = ok(&exec, "wait", &[]).await;
            assert_eq!(get_str(&result, "status").as_deref(), Some("completed"));
            let c = ok(&exec, "cancel", &[]).await;
            assert_eq!(
                get_bool(&c, "stoppedOnServer"),
                Some(false),
                "the real worker has no cancel: {}",
                describe(&c)
            );
        }
    }

    // A builder signal that is already aborted: submit() refuses without sending anything.
    let dead = client(DEAD_ENDPOINT, &[]).await;
    let controller = new_abort_controller();
    m(&controller, "abort", &[]);
    let b = m(
        &py_job(&dead, "print(1)\n"),
        "signal",
        &[get(&controller, "signal")],
    );
    let e = fails(&b, "submit", &[]).await;
    assert_eq!(code(&e), "CANCELLED", "{}", describe(&e));
}

/// Bad input is rejected before anything is sent: against a dead endpoint the error is
/// VALIDATION (a request would have been NETWORK, as the control shows), naming the field.
pub async fn bad_input(mode: Mode) {
    let dead = client(DEAD_ENDPOINT, &[]).await;
    // Control: a valid job to the dead endpoint does try to send, and fails with NETWORK.
    let e = fails(&py_job(&dead, "print(1)\n"), "submit", &[]).await;
    assert_eq!(code(&e), "NETWORK", "control: {}", describe(&e));
    assert!(e.is_instance_of::<NetworkError>());

    let live = client(mode.endpoint(), &[]).await;
    for sandrun in [&dead, &live] {
        let cases: Vec<(&str, JsValue, &str)> = vec![
            (
                "args with a quote",
                m(
                    &py_job(sandrun, "print(1)\n"),
                    "args",
                    &[strs(&["ok", "say \"hi\""])],
                ),
                "args[1]",
            ),
            (
                "args with non-ASCII",
                m(&py_job(sandrun, "print(1)\n"), "args", &[strs(&["café"])]),
                "args[0]",
            ),
            (
                "missing entrypoint",
                m(
                    &m(
                        &m(sandrun, "job", &[]),
                        "file",
                        &["main.py".into(), "print(1)".into()],
                    ),
                    "entrypoint",
                    &["run.py".into()],
                ),
                "entrypoint",
            ),
            (
                "no entrypoint at all",
                m(
                    &m(sandrun, "job", &[]),
                    "file",
                    &["data.txt".into(), "x".into()],
                ),
                "entrypoint",
            ),
            ("no files", m(sandrun, "job", &[]), "files"),
            (
                "path with ..",
                m(
                    &py_job(sandrun, "print(1)\n"),
                    "file",
                    &["../evil.py".into(), "x".into()],
                ),
                "files[\"../evil.py\"]",
            ),
            (
                "entrypoint with ..",
                m(
                    &py_job(sandrun, "print(1)\n"),
                    "entrypoint",
                    &["../main.py".into()],
                ),
                "entrypoint",
            ),
        ];
        for (what, builder, field) in cases {
            let v = m(&builder, "validate", &[]);
            assert_eq!(
                get_bool(&v, "ok"),
                Some(false),
                "{what}: validate() {}",
                describe(&v)
            );
            let e = fails(&builder, "submit", &[]).await;
            assert_eq!(code(&e), "VALIDATION", "{what}: {}", describe(&e));
            assert!(
                e.is_instance_of::<ValidationError>(),
                "{what}: {}",
                describe(&e)
            );
            assert_eq!(get_bool(&e, "retryable"), Some(false));
            assert_eq!(first_field(&e), field, "{what}: {}", describe(&e));
            assert_eq!(
                get_str(&e, "field").as_deref(),
                Some(field),
                "ValidationError.field"
            );
        }
    }

    // Config: checked by create(), which contacts nothing.
    let cases: Vec<(&str, JsValue, &str)> = vec![
        (
            "bad endpoint",
            obj(&[("endpoint", "ftp://127.0.0.1:9".into())]),
            "config.endpoint",
        ),
        (
            "endpoint port 0",
            obj(&[("endpoint", "http://127.0.0.1:0".into())]),
            "config.endpoint",
        ),
        (
            "negative poll",
            obj(&[
                ("endpoint", DEAD_ENDPOINT.into()),
                ("pollIntervalMs", (-5).into()),
            ]),
            "config.pollIntervalMs",
        ),
        (
            "bad trusted key",
            obj(&[
                ("endpoint", DEAD_ENDPOINT.into()),
                ("trustedWorkers", strs(&["not-a-key"])),
            ]),
            "config.trustedWorkers[0]",
        ),
        (
            "wrong type",
            obj(&[
                ("endpoint", DEAD_ENDPOINT.into()),
                ("requireVerified", "yes".into()),
            ]),
            "config.requireVerified",
        ),
    ];
    for (what, config, field) in cases {
        let e = match create(config).await {
            Ok(v) => panic!("{what}: create() resolved with {}", describe(&v)),
            Err(e) => e,
        };
        assert_eq!(code(&e), "VALIDATION", "{what}: {}", describe(&e));
        assert!(e.is_instance_of::<ValidationError>());
        assert_eq!(first_field(&e), field, "{what}: {}", describe(&e));
    }
    // A URL instead of a config object.
    let e = match create(mode.endpoint().into()).await {
        Ok(v) => panic!("create(url) resolved with {}", describe(&v)),
        Err(e) => e,
    };
    assert_eq!(code(&e), "VALIDATION", "{}", describe(&e));

    // A job id that cannot be one.
    let e = call_method(
        &live,
        "execution",
        &[JsValue::from("../status")].into_iter().collect(),
    )
    .expect_err("execution('../status') throws");
    assert_eq!(code(&e), "VALIDATION");
    assert_eq!(first_field(&e), "id");
}

/// The problem's field is `prefix.name`, or `prefix` with a message that names `name`.
fn names_field(err: &JsValue, prefix: &str, name: &str) -> bool {
    let first = Array::from(&get(err, "errors")).get(0);
    let field = get_str(&first, "field").unwrap_or_default();
    let message = get_str(&first, "message").unwrap_or_default();
    field == format!("{prefix}.{name}") || (field == prefix && message.contains(name))
}

/// A misspelt option is an error naming it, not silently ignored: `Sandrun.create` config and
/// `wait()` options both declare `deny_unknown_fields`.
pub async fn unknown_options(mode: Mode) {
    let mut wrong = Vec::new();
    // `pollIntervalMS` for `pollIntervalMs`.
    let config = obj(&[
        ("endpoint", mode.endpoint().into()),
        ("pollIntervalMS", 100.into()),
    ]);
    match create(config).await {
        Ok(s) => wrong.push(format!(
            "Sandrun.create accepted the unknown option pollIntervalMS (config: {})",
            describe(&get(&s, "config"))
        )),
        Err(e) => {
            assert_eq!(code(&e), "VALIDATION", "{}", describe(&e));
            assert!(
                names_field(&e, "config", "pollIntervalMS"),
                "{}",
                describe(&get(&e, "errors"))
            );
        }
    }
    // `timeoutMS` for `timeoutMs`: must be refused before any request. The endpoint is dead, so
    // an ignored option shows as NETWORK (a short poll interval keeps its retries short).
    let dead = client(DEAD_ENDPOINT, &[("pollIntervalMs", 10.into())]).await;
    let exec = m(&dead, "execution", &["job_1_1".into()]);
    let e = fails(&exec, "wait", &[obj(&[("timeoutMS", 5.into())])]).await;
    if code(&e) != "VALIDATION" {
        wrong.push(format!(
            "wait({{timeoutMS: 5}}) ignored the unknown option and sent requests: {}",
            describe(&e)
        ));
    }
    // `downloadOutput` for `downloadOutputs`.
    let e = fails(&exec, "verify", &[obj(&[("downloadOutput", true.into())])]).await;
    if code(&e) != "VALIDATION" {
        wrong.push(format!(
            "verify({{downloadOutput: true}}) ignored the unknown option: {}",
            describe(&e)
        ));
    }
    assert!(
        wrong.is_empty(),
        "[{}] unknown options are ignored:\n{}",
        mode.name(),
        wrong.join("\n")
    );
}

const CPU_PY: &str = "s = 0\nfor i in range(300000):\n    s += i * i\nprint(s)\n";

/// Re-attach with `sandrun.execution(id)` and verify from `/status` alone. Compat has no
/// `cpu_signed` and the fresh execution saw no [DONE] line: the signature is found by the `%g`
/// candidate search over WebCrypto.
pub async fn reattach_verify(mode: Mode) {
    let sandrun = client(mode.endpoint(), &[]).await;
    let worker = worker_id(&sandrun).await;
    let exec = submit(&py_job(&sandrun, CPU_PY)).await;
    let id = get_str(&exec, "id").unwrap();
    let first = ok(&exec, "wait", &[]).await;
    assert_eq!(get_str(&first, "status").as_deref(), Some("completed"));
    m(&exec, "free", &[]);

    let later = m(&sandrun, "execution", &[id.clone().into()]);
    assert_eq!(get_str(&later, "id").as_deref(), Some(id.as_str()));
    assert!(
        get(&later, "jobHash").is_undefined(),
        "a re-attached job has no local hash"
    );
    let t0 = now();
    let rep = ok(&later, "verify", &[]).await;
    let ms = now() - t0;
    let sig = get(&rep, "signature");
    let tried = get_f64(&sig, "candidatesTried").unwrap_or(-1.0);
    report(&format!(
        "[{} / {}] re-attached verify(): candidatesTried={tried}, signed cpu={}, {ms:.0} ms (cpuSeconds shown {})",
        if is_node() { "node" } else { "chromium" },
        mode.name(),
        get_str(&sig, "cpu").unwrap_or_default(),
        get_f64(&first, "cpuSeconds").unwrap_or(-1.0),
    ));
    assert_eq!(
        get_bool(&sig, "valid"),
        Some(true),
        "[{}] {}",
        mode.name(),
        describe(&rep)
    );
    assert_eq!(
        get_bool(&rep, "ok"),
        Some(true),
        "[{}] {}",
        mode.name(),
        describe(&rep)
    );
    assert_eq!(get_str(&rep, "workerId").as_deref(), Some(worker.as_str()));
    let hash = get(&rep, "jobHash");
    assert!(
        get(&hash, "expected").is_null() && get(&hash, "matches").is_null(),
        "{}",
        describe(&hash)
    );
    assert_eq!(get_str(&hash, "reported"), get_str(&first, "jobHash"));
    match mode {
        // cpu_signed pins the figure.
        Mode::Default => assert_eq!(tried, 1.0, "{}", describe(&sig)),
        // Nothing pins it: the search ran.
        Mode::Compat => assert!(tried > 1.0, "{}", describe(&sig)),
    }
    let cpu = get_str(&sig, "cpu").expect("the signed cpu figure");
    let shown = get_f64(&first, "cpuSeconds").unwrap();
    let cpu_v: f64 = cpu
        .parse()
        .unwrap_or_else(|_| panic!("signed cpu {cpu:?} is a number"));
    assert!(
        (cpu_v - shown).abs() <= 0.0051,
        "signed cpu {cpu} vs shown {shown}"
    );

    // The re-attached handle works like the original: result, logs once, no outputs to check.
    let r = ok(&later, "wait", &[]).await;
    assert_eq!(get_str(&r, "jobHash"), get_str(&first, "jobHash"));
    let (logs, _) = collect_logs(&later).await;
    assert_eq!(
        logs.trim(),
        (0..300000u64).map(|i| i * i).sum::<u64>().to_string()
    );
}

/// `requireVerified` with `trustedWorkers` that exclude the worker: `wait()` rejects with
/// VERIFICATION; `verify()` says why. With the worker's own key, the same job passes.
pub async fn untrusted_worker(mode: Mode) {
    let probe = client(mode.endpoint(), &[]).await;
    let worker = worker_id(&probe).await;
    // A well-formed key that is not the worker's (32 bytes of 7).
    let other = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    assert_ne!(worker, other);

    let strict = client(
        mode.endpoint(),
        &[
            ("requireVerified", true.into()),
            ("trustedWorkers", strs(&[other])),
        ],
    )
    .await;
    let exec = submit(&py_job(&strict, "print('hello')\n")).await;
    let e = fails(&exec, "wait", &[]).await;
    assert_eq!(code(&e), "VERIFICATION", "{}", describe(&e));
    assert!(e.is_instance_of::<VerificationError>());
    let report = get(&e, "report");
    assert_eq!(
        get_bool(&report, "ok"),
        Some(false),
        "the error carries the report: {}",
        describe(&e)
    );
    assert_eq!(get_bool(&report, "trusted"), Some(false));
    // The signature itself is fine; only the key is not trusted.
    assert_eq!(get_bool(&get(&report, "signature"), "valid"), Some(true));

    let report = ok(&exec, "verify", &[]).await;
    assert_eq!(
        get_bool(&report, "ok"),
        Some(false),
        "{}",
        describe(&report)
    );
    assert_eq!(get_bool(&report, "trusted"), Some(false));
    let problems: Vec<String> = Array::from(&get(&report, "problems"))
        .iter()
        .filter_map(|p| p.as_string())
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(&worker) && problems[0].contains("trusted"),
        "{problems:?}"
    );

    // Control: trusting the worker's key, the same kind of job passes requireVerified.
    let trusting = client(
        mode.endpoint(),
        &[
            ("requireVerified", true.into()),
            ("trustedWorkers", strs(&[other, &worker])),
        ],
    )
    .await;
    let exec = submit(&py_job(&trusting, "print('hello')\n")).await;
    let result = ok(&exec, "wait", &[]).await;
    let v = get(&result, "verification");
    assert_eq!(get_bool(&v, "ok"), Some(true), "{}", describe(&result));
    assert_eq!(get_bool(&v, "trusted"), Some(true));
    let health = ok(&trusting, "health", &[]).await;
    assert_eq!(get_bool(&health, "trusted"), Some(true));
    assert_eq!(
        get_bool(&ok(&strict, "health", &[]).await, "trusted"),
        Some(false)
    );
}

/// The page (another origin in Chromium) reaches the worker with simple requests, and the worker
/// says so with `Access-Control-Allow-Origin: *` (visible to Node only; in a browser the request
/// itself would fail without it). Compat answers no preflight.
pub async fn cross_origin(mode: Mode) {
    let platform = installed_platform();
    let request = |method: &str, path: &str| {
        obj(&[
            ("method", method.into()),
            ("url", format!("{}{path}", mode.endpoint()).into()),
            ("headers", Array::new().into()),
        ])
    };
    let res = ok(&platform, "request", &[request("GET", "/health")]).await;
    assert_eq!(get_f64(&res, "status"), Some(200.0));
    if is_node() {
        let headers: BTreeMap<String, String> = Array::from(&get(&res, "headers"))
            .iter()
            .map(|p| {
                let p = Array::from(&p);
                (
                    p.get(0).as_string().unwrap_or_default(),
                    p.get(1).as_string().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            headers
                .get("Access-Control-Allow-Origin")
                .map(String::as_str),
            Some("*"),
            "{headers:?}"
        );
        let pre = ok(&platform, "request", &[request("OPTIONS", "/submit")]).await;
        let status = get_f64(&pre, "status").unwrap_or(0.0);
        match mode {
            Mode::Default => assert!(
                status == 204.0 || status == 200.0,
                "preflight answered {status}"
            ),
            Mode::Compat => assert_eq!(status, 404.0, "the real worker has no preflight"),
        }
    } else {
        // In the browser this GET is cross-origin: reading its body proves the CORS header.
        let body = String::from_utf8(bytes(&get(&res, "body"))).unwrap();
        assert!(body.contains("healthy"), "{body}");
    }
}

/// Generates one `#[wasm_bindgen_test]` per scenario and mode: `default_mode::x`, `compat_mode::x`.
/// `$install` is the suite's function that installs its platform.
macro_rules! scenarios {
    ($install:path; $($name:ident),* $(,)?) => {
        mod default_mode {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::$name(crate::common::Mode::Default)).await
                }
            )*
        }
        mod compat_mode {
            $(
                #[wasm_bindgen_test::wasm_bindgen_test]
                async fn $name() {
                    $install();
                    crate::common::within(stringify!($name), crate::common::$name(crate::common::Mode::Compat)).await
                }
            )*
        }
    };
}
pub(crate) use scenarios;

/// Every scenario, for both suites.
macro_rules! all_scenarios {
    ($install:path) => {
        crate::common::scenarios!($install;
            full_cycle, non_ascii, invalid_utf8, failing_job, outlives_poll, abort, bad_input, unknown_options,
            reattach_verify, untrusted_worker, cross_origin);
    };
}
pub(crate) use all_scenarios;
