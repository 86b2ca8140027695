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
    fn node_platform() -> JsValue;
}

fn install() {
    common::install(node_platform);
}

common::all_scenarios!(crate::install);

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
