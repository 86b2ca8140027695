//! The SDK in Node.js (ES modules), with the Node platform `js/node.js` (node:http with canonical
//! header names, its own WebSocket client), against the dev node in default and `--compat` mode.
//! Scenarios: tests/common/mod.rs. Run by scripts/test-wasm.sh (`make test-wasm-node`).
#![cfg(target_arch = "wasm32")] // wasm-bindgen-test suites: nothing to run natively

use wasm_bindgen::prelude::*;

mod common;

// js/node.js is an ES module (node:http, node:crypto…): the runner must load the test as ESM.
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_node_experimental);

#[wasm_bindgen(module = "/js/node.js")]
extern "C" {
    #[wasm_bindgen(js_name = nodePlatform)]
    fn node_platform_with(options: &JsValue) -> JsValue;
}

#[wasm_bindgen(module = "/tests/support/node-ws.js")]
extern "C" {
    /// The `ws` package's WebSocket class (what the package's Node entry passes in).
    #[wasm_bindgen(js_name = webSocketClass)]
    fn web_socket_class() -> JsValue;
}

/// The platform as the package's Node entry makes it.
fn node_platform() -> JsValue {
    node_platform_with(&common::obj(&[("WebSocket", web_socket_class())]))
}

fn install() {
    common::install(node_platform);
}

common::all_scenarios!(crate::install);
crate::all_plugin_scenarios!(crate::install);
common::pool::all_pool_scenarios!(crate::install);
common::scale::all_scale_scenarios!(crate::install);
common::chain::all_chain_scenarios!(crate::install);
common::ipfs::all_ipfs_scenarios!(crate::install);
common::market::all_market_scenarios!(crate::install);
#[path = "common/market_node.rs"]
mod market_node;
market_node::all_market_node_scenarios!(crate::install);

/// The Node platform is what the suite runs on (not the browser one).
#[wasm_bindgen_test::wasm_bindgen_test]
fn uses_the_node_platform() {
    assert!(common::is_node());
    let p = node_platform();
    assert!(
        common::get(&p, "readDirectory").is_function(),
        "js/node.js has the file-system members"
    );
    assert!(!common::get(&common::browser_platform(), "readDirectory").is_function());
}

#[wasm_bindgen(module = "/tests/support/node-fs.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeTree)]
    fn make_tree(files: &JsValue) -> String;
    #[wasm_bindgen(js_name = tempDir)]
    fn temp_dir() -> String;
    #[wasm_bindgen(js_name = readText)]
    fn read_text(dir: &str, rel: &str) -> Option<String>;
    #[wasm_bindgen(js_name = removeTree)]
    fn remove_tree(dir: &str);
}

/// Node only: a job read from a real folder (with a sub-package, which the worker only keeps
/// because the SDK sends a tar.gz) and its outputs written into another with `downloadTo()`;
/// the platform refuses a path that would leave the target folder.
#[wasm_bindgen_test::wasm_bindgen_test]
async fn directory_and_download_to() {
    install();
    let src = make_tree(&common::obj(&[
        ("main.py", "import os\nfrom pkg.mod import greet\nos.makedirs('out/deep', exist_ok=True)\nopen('out/deep/r.txt', 'w').write(greet())\nprint(greet())\n".into()),
        ("pkg/__init__.py", "".into()),
        ("pkg/mod.py", "def greet():\n    return 'hello from a folder'\n".into()),
    ]));
    let sandrun = common::client(common::Mode::Default.endpoint(), &[]).await;
    let b = common::m(&sandrun, "job", &[]);
    let b = common::m(&b, "directory", &[src.as_str().into()]);
    let b = common::m(&b, "entrypoint", &["main.py".into()]);
    let b = common::m(&b, "outputs", &[common::strs(&["out/*"])]);
    let spec = common::m(&b, "toSpec", &[]);
    let dirs: Vec<String> = js_sys::Array::from(&common::get(&spec, "directories"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(
        dirs,
        [src.clone()],
        "the folder is read at submit, not before"
    );
    let exec = common::ok(&b, "submit", &[]).await;
    let result = common::ok(&exec, "wait", &[]).await;
    assert_eq!(
        common::get(&result, "status").as_string().as_deref(),
        Some("completed")
    );

    let out = temp_dir();
    let written = common::ok(&exec, "downloadTo", &[out.as_str().into()]).await;
    let written: Vec<String> = js_sys::Array::from(&written)
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(written[0].ends_with("out/deep/r.txt"), "{written:?}");
    assert_eq!(
        read_text(&out, "out/deep/r.txt").as_deref(),
        Some("hello from a folder")
    );

    // The Node platform itself refuses to write outside the folder.
    let p = common::get(&node_platform(), "writeFileInside");
    let f: js_sys::Function = p.dyn_into().unwrap();
    let bytes: JsValue = js_sys::Uint8Array::from(&b"x"[..]).into();
    let attempt = f
        .call3(
            &JsValue::NULL,
            &out.as_str().into(),
            &"../escaped.txt".into(),
            &bytes,
        )
        .unwrap();
    let refused = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(attempt)).await;
    assert!(refused.is_err(), "writing ../escaped.txt must be refused");
    assert_eq!(read_text(&out, "../escaped.txt"), None);

    // A folder that does not exist fails at submit with a VALIDATION error, before sending.
    let b = common::m(
        &common::m(&sandrun, "job", &[]),
        "directory",
        &["/nonexistent/sandrun".into()],
    );
    let b = common::m(&b, "entrypoint", &["main.py".into()]);
    let e = common::fails(&b, "submit", &[]).await;
    assert_eq!(
        common::get(&e, "code").as_string().as_deref(),
        Some("VALIDATION"),
        "{}",
        common::describe(&e)
    );
    remove_tree(&src);
    remove_tree(&out);
}

#[wasm_bindgen(module = "/tests/support/node-proc.js")]
extern "C" {
    /// Starts `sandrun-devnode broker` on `port` with `db` (the test owns the process).
    #[wasm_bindgen(js_name = startBroker)]
    fn start_broker(devnode: &str, port: u16, db: &str) -> js_sys::Promise;
    /// Stops a broker this test started (by its pid).
    #[wasm_bindgen(js_name = stopBroker)]
    fn stop_broker(pid: f64) -> js_sys::Promise;
}

async fn broker_up(port: u16, db: &str) -> f64 {
    let devnode = option_env!("SANDRUN_TEST_DEVNODE").unwrap_or("target/debug/sandrun-devnode");
    wasm_bindgen_futures::JsFuture::from(start_broker(devnode, port, db))
        .await
        .unwrap_or_else(|e| panic!("broker did not start: {}", common::describe(&e)))
        .as_f64()
        .unwrap()
}

/// Node only (the browser cannot start or stop processes): the broker restarts while the node
/// runs a job; the node keeps its report, re-sends it once the broker is back, and the job is
/// completed exactly once; the node then serves the next job.
#[wasm_bindgen_test::wasm_bindgen_test]
async fn node_survives_broker_restart() {
    use common::pool::*;
    install();
    let port: u16 = option_env!("SANDRUN_TEST_SPARE_PORT")
        .unwrap_or("18455")
        .parse()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let dir = temp_dir();
    let db = format!("{dir}/broker.sqlite3");
    let pid = broker_up(port, &db).await;
    let sandrun = common::client(common::Mode::Default.endpoint(), &[]).await;
    let b = common::m(
        &common::m(&sandrun, "node", &[]),
        "endpoint",
        &[workers()[0].into()],
    );
    let node = common::ok(&b, "register", &[base.as_str().into()]).await;
    let id = common::get(&node, "id").as_string().unwrap();
    common::m(
        &node,
        "startListening",
        &[common::obj(&[("pollIntervalMs", 100.into())])],
    );
    let job = broker_job(
        &base,
        "import time\ntime.sleep(1.5)\nprint('survived')\n",
        &[],
    )
    .await;
    // Wait until the node runs it, then take the broker down under it.
    let deadline = common::now() + 20_000.0;
    while common::get(&common::m(&node, "status", &[]), "currentJob").as_string()
        != Some(job.clone())
    {
        assert!(common::now() < deadline, "the node did not claim the job");
        common::sleep(50.0).await;
    }
    wasm_bindgen_futures::JsFuture::from(stop_broker(pid))
        .await
        .unwrap();
    // The job ends while the broker is down: the report waits.
    let deadline = common::now() + 20_000.0;
    loop {
        let st = common::m(&node, "status", &[]);
        if common::get(&st, "pendingReports").as_f64() == Some(1.0) {
            break;
        }
        assert!(
            common::now() < deadline,
            "no pending report: {}",
            common::describe(&st)
        );
        common::sleep(100.0).await;
    }
    common::sleep(500.0).await; // a few failed attempts
    let st = common::m(&node, "status", &[]);
    assert_eq!(common::get(&st, "jobsCompleted").as_f64(), Some(0.0));
    assert_eq!(common::get(&st, "listening").as_bool(), Some(true));
    let pid = broker_up(port, &db).await;
    let r = broker_result(&base, &job, 30_000.0).await;
    assert_eq!(
        common::get(&r, "status").as_string().as_deref(),
        Some("completed"),
        "{}",
        common::describe(&r)
    );
    assert_eq!(
        common::get(&r, "output").as_string().as_deref(),
        Some("survived\n")
    );
    common::sleep(300.0).await;
    assert_eq!(
        node_jobs_completed(&base, &id).await,
        (1.0, 0.0),
        "completed exactly once"
    );
    let next = broker_job(&base, "print('after')\n", &[]).await;
    let r = broker_result(&base, &next, 30_000.0).await;
    assert_eq!(
        common::get(&r, "output").as_string().as_deref(),
        Some("after\n")
    );
    assert_eq!(node_jobs_completed(&base, &id).await, (2.0, 0.0));
    common::m(&node, "close", &[]);
    wasm_bindgen_futures::JsFuture::from(stop_broker(pid))
        .await
        .unwrap();
    remove_tree(&dir);
}
