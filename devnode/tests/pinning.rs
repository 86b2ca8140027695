//! `sandrun-devnode pinning` on a real Kubo: requests go queued → pinned (or failed) and the CID
//! really is pinned on Kubo (and unpinned when no request wants it any more); the spec's filters,
//! tokens, replace and delete; state that survives a restart; and the same answers as the spec's
//! own mock service (`mock-ipfs-pinning-service`) for the same requests.

mod common;
use common::kubo::{random_bytes, Kubo};
use common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "secret-token-1";

fn service(kubo: &Kubo, db: &std::path::Path) -> Node {
    let db = db.to_str().unwrap();
    let args = [
        "pinning",
        "--port",
        "0",
        "--kubo",
        &kubo.api,
        "--token",
        TOKEN,
        "--token",
        "other-token",
        "--db",
        db,
        "--pin-timeout-secs",
        "5",
    ];
    Node::start(&args, &["pinning"])
}

/// One request with a bearer token (None: no Authorization header).
fn call(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    let a = agent();
    let mut req = match method {
        "GET" => a.get(url).force_send_body(),
        "POST" => a.post(url),
        "DELETE" => a.delete(url).force_send_body(),
        _ => panic!("{method}"),
    };
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let r = match body {
        Some(v) => req
            .header("Content-Type", "application/json")
            .send(v.to_string().as_bytes()),
        None => req.send_empty(),
    };
    from_ureq(r.expect("request to the pinning service"))
}

/// `POST /pins` of `pin`: the new request's id.
fn post_pin(pins: &str, pin: &Value) -> String {
    let r = call("POST", pins, Some(TOKEN), Some(pin));
    assert_eq!(r.status, 202, "{}", r.text());
    r.json()["requestid"].as_str().unwrap().to_string()
}

fn wait_status(url: &str, id: &str) -> Value {
    let mut last = Value::Null;
    wait_until("the pin to settle", Duration::from_secs(20), || {
        last = call("GET", &format!("{url}/pins/{id}"), Some(TOKEN), None).json();
        matches!(last["status"].as_str(), Some("pinned" | "failed"))
    });
    last
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn is_failure(r: &Resp) -> bool {
    let v = r.json();
    v["error"]["reason"].is_string() && v["error"]["details"].is_string()
}

#[test]
fn pins_on_kubo_with_the_specs_filters_tokens_replace_and_delete() {
    let kubo = Kubo::start();
    let dir = tempdir();
    let mut node = service(&kubo, &dir.join("pins.sqlite3"));
    let url = node.url("pinning");
    let pins = format!("{url}/pins");
    let c1 = kubo.add(&random_bytes(600_000));
    let c2 = kubo.add(b"second file");
    assert!(kubo.pinned().is_empty(), "added without pinning");

    // Create: 202 queued with the pin echoed, then pinned, and pinned on Kubo for real.
    let pin1 = json!({"cid": c1, "name": "Data-One.bin", "origins": ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWJXCkhqrhAEw93DRvj2CTEDBuNWA2U7ZP7tU1CeDQtwYh"], "meta": {"app": "sandrun", "run": "1"}});
    let r = call("POST", &pins, Some(TOKEN), Some(&pin1));
    assert_eq!(r.status, 202, "{}", r.text());
    let created = r.json();
    assert_eq!(created["status"], "queued");
    assert_eq!(created["pin"], pin1);
    assert!(created["delegates"][0].as_str().unwrap().contains("/p2p/"));
    assert!(created["created"].as_str().unwrap().ends_with('Z'));
    let id1 = created["requestid"].as_str().unwrap().to_string();
    let done = wait_status(&url, &id1);
    assert_eq!(done["status"], "pinned", "{done}");
    assert_eq!(kubo.pinned(), vec![c1.clone()]);

    // A CID Kubo cannot find fails, with Kubo's reason, and is not pinned.
    let missing = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyka";
    let idm = post_pin(&pins, &json!({"cid": missing, "name": "missing"}));
    let failed = wait_status(&url, &idm);
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["info"]["status_details"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{failed}"
    );
    assert_eq!(kubo.pinned(), vec![c1.clone()]);

    // A second request for the same CID shares Kubo's pin.
    let id1b = post_pin(&pins, &json!({"cid": c1, "name": "again"}));
    assert_ne!(id1b, id1, "every request gets its own id");
    wait_status(&url, &id1b);

    // Listing: pinned only by default, newest first; count is every match, results the page.
    let list = |q: &str| call("GET", &format!("{pins}{q}"), Some(TOKEN), None).json();
    let ids = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["requestid"].as_str().unwrap().to_string())
            .collect()
    };
    let v = list("");
    assert_eq!(
        (v["count"].as_u64(), ids(&v)),
        (Some(2), vec![id1b.clone(), id1.clone()])
    );
    let v = list("?status=pinned,failed&limit=1");
    assert_eq!(
        (v["count"].as_u64(), ids(&v)),
        (Some(3), vec![id1b.clone()])
    );
    assert_eq!(ids(&list("?status=failed")), vec![idm.clone()]);
    assert_eq!(ids(&list(&format!("?cid={c2},{c1}"))).len(), 2);
    assert_eq!(ids(&list("?name=Data-One.bin")), vec![id1.clone()]);
    assert!(ids(&list("?name=data-one.bin")).is_empty());
    assert_eq!(
        ids(&list("?name=data-one.bin&match=iexact")),
        vec![id1.clone()]
    );
    assert_eq!(ids(&list("?name=One&match=partial")), vec![id1.clone()]);
    assert_eq!(ids(&list("?name=one&match=ipartial")), vec![id1.clone()]);
    let meta = "?meta=%7B%22app%22%3A%22sandrun%22%2C%22run%22%3A%221%22%7D";
    assert_eq!(ids(&list(meta)), vec![id1.clone()]);
    let t1 = done["created"].as_str().unwrap().replace(':', "%3A");
    assert_eq!(ids(&list(&format!("?after={t1}"))), vec![id1b.clone()]);
    assert!(ids(&list(&format!("?before={t1}"))).is_empty());
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?status=done",
        "?match=fuzzy",
        "?before=yesterday",
        "?meta=%5B1%5D",
        "?cid=a,b,c,d,e,f,g,h,i,j,k",
    ] {
        let r = call("GET", &format!("{pins}{bad}"), Some(TOKEN), None);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(is_failure(&r) && r.json()["error"]["reason"] == "BAD_REQUEST");
    }

    // Tokens: none or a wrong one is 401; another valid token sees none of these pins.
    for t in [None, Some("wrong")] {
        let r = call("GET", &pins, t, None);
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"]["reason"], "UNAUTHORIZED");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    assert_eq!(
        call("GET", &pins, Some("other-token"), None).json()["count"],
        0
    );
    assert_eq!(
        call("GET", &format!("{pins}/{id1}"), Some("other-token"), None).status,
        404
    );

    // Bad bodies.
    for body in [
        json!({"name": "no cid"}),
        json!({"cid": "not a cid!"}),
        json!({"cid": c2, "meta": {"n": 1}}),
        json!({"cid": c2, "origins": ["/a", "/a"]}),
    ] {
        let r = call("POST", &pins, Some(TOKEN), Some(&body));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
    }

    // Replace: a new request for c2, the old one gone; Kubo keeps c1 for the other request.
    let r = call(
        "POST",
        &format!("{pins}/{id1}"),
        Some(TOKEN),
        Some(&json!({"cid": c2})),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let id2 = r.json()["requestid"].as_str().unwrap().to_string();
    assert_ne!(id2, id1);
    assert_eq!(wait_status(&url, &id2)["status"], "pinned");
    assert_eq!(
        call("GET", &format!("{pins}/{id1}"), Some(TOKEN), None).status,
        404
    );
    let mut want = vec![c1.clone(), c2.clone()];
    want.sort();
    assert_eq!(kubo.pinned(), want);

    // Delete: 202 without a body; c1 is unpinned once no request wants it.
    let r = call("DELETE", &format!("{pins}/{id1b}"), Some(TOKEN), None);
    assert_eq!((r.status, r.body.len()), (202, 0));
    assert_eq!(
        call("GET", &format!("{pins}/{id1b}"), Some(TOKEN), None).status,
        404
    );
    assert_eq!(
        call("DELETE", &format!("{pins}/{id1b}"), Some(TOKEN), None).status,
        404
    );
    wait_until("c1 unpinned on Kubo", Duration::from_secs(10), || {
        kubo.pinned() == vec![c2.clone()]
    });

    // CORS: a browser's preflight for an authorised request.
    let r = preflight(
        &node.addr("pinning"),
        "/pins",
        "POST",
        "authorization,content-type",
    );
    assert_preflight(&r, "authorization,content-type");

    // A restart loses nothing.
    node.stop();
    let node = service(&kubo, &dir.join("pins.sqlite3"));
    let url = node.url("pinning");
    let v = call(
        "GET",
        &format!("{url}/pins?status=pinned,failed"),
        Some(TOKEN),
        None,
    )
    .json();
    assert_eq!(v["count"], 2, "{v}");
    assert_eq!(
        call("GET", &format!("{url}/pins/{id2}"), Some(TOKEN), None).json()["status"],
        "pinned"
    );
}

#[test]
fn refuses_to_start_without_kubo() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempdir();
    let out = Command::new(BIN)
        .args([
            "pinning",
            "--port",
            "0",
            "--kubo",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            "t",
        ])
        .current_dir(&*dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach Kubo"));
}

// ------------------------------------------------------------------ the spec's mock, side by side

struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(token: &str) -> Mock {
        let tools = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools");
        assert!(
            std::path::Path::new(tools).join("node_modules/mock-ipfs-pinning-service").is_dir(),
            "tools/node_modules/mock-ipfs-pinning-service is missing: run `make setup` (npm ci in tools/)"
        );
        // The mock's own CLI listens on every interface: serve its app on 127.0.0.1 instead.
        let script = "const r = require('module').createRequire(process.argv[1] + '/package.json');
            const http = require('http');
            r('mock-ipfs-pinning-service').setup({ token: process.argv[2], loglevel: 'error' }).then((app) => {
              const s = http.createServer(app).listen(0, '127.0.0.1', () => console.log('mock: http://127.0.0.1:' + s.address().port));
            });";
        let mut child = Command::new("node")
            .args(["-e", script, tools, token])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (Node.js) must be on PATH");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("mock: ")
            .unwrap_or_else(|| panic!("mock said {line:?}"))
            .to_string();
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        Mock { child, url }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn answers_like_the_specs_mock_service() {
    let kubo = Kubo::start();
    let dir = tempdir();
    let ours = service(&kubo, &dir.join("pins.sqlite3"));
    let mock = Mock::start(TOKEN);
    let c1 = kubo.add(b"compared with the mock");
    let c2 = kubo.add(b"its replacement");
    let pin = json!({"cid": c1, "name": "cmp", "origins": ["/p2p/12D3KooWJXCkhqrhAEw93DRvj2CTEDBuNWA2U7ZP7tU1CeDQtwYh"], "meta": {"k": "v"}});

    // Each step on both services; the answers are compared field by field.
    let both = |step: &dyn Fn(&str) -> Resp| -> [Resp; 2] {
        [step(&mock.url), step(&ours.url("pinning"))]
    };
    let created = both(&|u| call("POST", &format!("{u}/pins"), Some(TOKEN), Some(&pin)));
    for r in &created {
        assert_eq!(r.status, 202, "{}", r.text());
        let v = r.json();
        for k in ["requestid", "status", "created", "pin", "delegates"] {
            assert!(v.get(k).is_some(), "{k} in {v}");
        }
        assert_eq!((&v["status"], &v["pin"]), (&json!("queued"), &pin));
        assert!(v["delegates"].as_array().is_some_and(|d| !d.is_empty()));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    // Ours adds the spec's optional `info`; the rest are the same keys.
    let mut ours_keys = keys(&created[1].json());
    ours_keys.retain(|k| k != "info");
    assert_eq!(keys(&created[0].json()), ours_keys);
    let id = |r: &Resp| r.json()["requestid"].as_str().unwrap().to_string();
    let ids = [id(&created[0]), id(&created[1])];
    let services = [(mock.url.clone(), &ids[0]), (ours.url("pinning"), &ids[1])];

    for (u, id) in &services {
        let got = call("GET", &format!("{u}/pins/{id}"), Some(TOKEN), None);
        assert_eq!(got.status, 200);
        assert_eq!(got.json()["pin"], pin);
        let listed = call(
            "GET",
            &format!("{u}/pins?cid={c1}&status=queued,pinning,pinned,failed"),
            Some(TOKEN),
            None,
        )
        .json();
        assert_eq!(
            (
                listed["count"].as_u64(),
                listed["results"][0]["requestid"].as_str()
            ),
            (Some(1), Some(id.as_str()))
        );
    }
    let missing = both(&|u| {
        call(
            "GET",
            &format!("{u}/pins/no-such-request"),
            Some(TOKEN),
            None,
        )
    });
    let unauthorised = both(&|u| call("GET", &format!("{u}/pins"), None, None));
    let wrong = both(&|u| call("GET", &format!("{u}/pins"), Some("wrong"), None));
    for (rs, code) in [(&missing, 404), (&unauthorised, 401), (&wrong, 401)] {
        for r in rs.iter() {
            assert_eq!(r.status, code, "{}", r.text());
            assert!(is_failure(r), "{}", r.text());
        }
    }
    for (u, id0) in &services {
        let replaced = call(
            "POST",
            &format!("{u}/pins/{id0}"),
            Some(TOKEN),
            Some(&json!({"cid": c2})),
        );
        assert_eq!(replaced.status, 202, "{}", replaced.text());
        let new_id = id(&replaced);
        assert_ne!(&&new_id, id0);
        assert_eq!(replaced.json()["pin"], json!({"cid": c2}));
        assert_eq!(
            call("GET", &format!("{u}/pins/{id0}"), Some(TOKEN), None).status,
            404
        );
        let deleted = call("DELETE", &format!("{u}/pins/{new_id}"), Some(TOKEN), None);
        assert_eq!((deleted.status, deleted.body.len()), (202, 0));
        assert_eq!(
            call("GET", &format!("{u}/pins/{new_id}"), Some(TOKEN), None).status,
            404
        );
    }
    let preflight = both(&|u| {
        preflight(
            u.trim_start_matches("http://"),
            "/pins",
            "POST",
            "authorization,content-type",
        )
    });
    for r in &preflight {
        assert_eq!(r.status, 204);
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
        assert!(r
            .header("Access-Control-Allow-Headers")
            .unwrap()
            .to_lowercase()
            .contains("authorization"));
    }
}
