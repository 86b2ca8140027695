//! `--compat`: the real worker's client-visible quirks, one by one, over raw sockets (the header
//! case matters, so no HTTP client crate here).

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

// A copy of ../shared/protocol/fixtures/signed-job, kept in the repo so a bare clone tests too.
const FIXTURE_MAIN: &str = "../protocol/fixtures/signed-job/main.py";

fn compat(extra: &[&str]) -> (Node, String) {
    let mut args = vec!["--compat"];
    args.extend_from_slice(extra);
    let (n, id) = Node::worker(&args);
    (n, id)
}

fn submit(addr: &str, parts: &[Part]) -> String {
    let r = raw_submit(addr, parts, "Content-Type", "Content-Length").unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["job_id"].as_str().unwrap().to_string()
}

fn wait_raw(addr: &str, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = raw_get(addr, &format!("/status/{id}")).json();
        let s = v["status"].as_str().unwrap().to_string();
        assert_ne!(s, "running", "compat never shows running from the outside");
        if s == "completed" || s == "failed" {
            return v;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn full_lifecycle_compat_matches_the_real_fixture() {
    let (node, worker_id) = compat(&[]);
    let addr = node.addr("worker");
    let main = std::fs::read(format!("{}/{FIXTURE_MAIN}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let id = submit(
        &addr,
        &job_parts(
            &[("main.py", &main)],
            r#"{"entrypoint": "main.py", "args": ["--n", "3"]}"#,
        ),
    );
    let st = wait_raw(&addr, &id);
    assert_eq!(st["status"], "completed");
    assert!(
        st["execution_metadata"].get("cpu_signed").is_none(),
        "no extension in compat"
    );
    assert_eq!(st["execution_metadata"]["wall_time_ms"], 0);
    assert_eq!(
        st["job_hash"],
        "13dffb9640613e70bfb5800bc52c641d7b601974bb49e0c6790426e79e777eb4"
    );
    // signature found by the candidate search (what an SDK must do against the real server)
    assert!(verify_status(&st).is_some());
    assert_eq!(st["worker_metadata"]["worker_id"], worker_id.as_str());
    // /status is pretty-printed with cpu_seconds at two decimals
    let raw_status = raw_get(&addr, &format!("/status/{id}"));
    let text = raw_status.text();
    assert!(text.starts_with("{\n  \"job_id\": "), "{text}");
    let cpu_line = text.lines().find(|l| l.contains("cpu_seconds")).unwrap();
    assert!(
        cpu_line
            .trim_end_matches(',')
            .split(": ")
            .nth(1)
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len()
            == 2,
        "{cpu_line}"
    );
    // logs: byte-wise escaped, exactly like the fixture
    let logs = raw_get(&addr, &format!("/logs/{id}"));
    assert_eq!(
        logs.text(),
        r#"{"stdout":"hello from sandrun job\nargs: ['--n', '3']\nunicode: h\u00c3\u00a9llo \u00e2\u009c\u0093\n","stderr":"warn: to stderr\n"}"#
    );
    let recovered =
        sandrun_protocol::text::recover_text(logs.json()["stdout"].as_str().unwrap(), true);
    assert!(recovered.contains("héllo ✓"));
    // outputs without patterns: every file, inputs included
    let outs = raw_get(&addr, &format!("/outputs/{id}")).json();
    assert_eq!(outs["total_files"], 4);
    let d = raw_get(&addr, &format!("/download/{id}/out/plot.png"));
    assert_eq!(d.status, 200);
    assert_eq!(d.header("Content-Type"), Some("image/png"));
    assert_eq!(
        sha256_hex(&d.body),
        st["output_files"]["out/plot.png"]["sha256"]
            .as_str()
            .unwrap()
    );
    // response head: ACAO (+CORP), no Date/Server/Connection
    assert_eq!(d.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        d.header("Cross-Origin-Resource-Policy"),
        Some("cross-origin")
    );
    for h in ["Connection", "Date", "Server"] {
        assert!(d.header(h).is_none(), "{h}");
    }
    // missing file → 500, traversal → 403, names are not percent-decoded
    assert_eq!(
        raw_get(&addr, &format!("/download/{id}/nope.txt")).status,
        500
    );
    assert_eq!(
        raw_get(&addr, &format!("/download/{id}/../../../etc/passwd")).status,
        403
    );
    assert_eq!(
        raw_get(&addr, &format!("/download/{id}/out%2Fplot.png")).status,
        500
    );
    // whole-folder download deletes the job
    let all = raw_get(&addr, &format!("/download/{id}"));
    assert_eq!(all.status, 200);
    assert_eq!(&all.body[..2], &[0x1f, 0x8b]);
    assert_eq!(raw_get(&addr, &format!("/status/{id}")).status, 404);
}

#[test]
fn header_names_are_case_sensitive() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let parts = job_parts(&[("main.py", b"print(1)\n")], "{}");
    // lower-case content-type: the boundary is not found
    let r = raw_submit(&addr, &parts, "content-type", "Content-Length").unwrap();
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("No files uploaded"))
    );
    // lower-case content-length: no body is read → the same 400, or the connection drops
    match raw_submit(&addr, &parts, "Content-Type", "content-length") {
        Ok(r) => assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (400, Some("No files uploaded"))
        ),
        Err(e) => eprintln!("dropped connection, as allowed: {e}"),
    }
    // canonical names work
    let r = raw_submit(&addr, &parts, "Content-Type", "Content-Length").unwrap();
    assert_eq!(r.status, 200);
    // part headers must be written exactly
    let body = "--B\r\ncontent-disposition: form-data; name=\"files\"; filename=\"main.py\"\r\n\r\nprint(1)\r\n--B--\r\n";
    let req = format!("POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    assert_eq!(raw(&addr, req.as_bytes()).unwrap().status, 400);
}

/// Why the pool reaches workers with its own client (devnode/src/http/client.rs) and not ureq:
/// ureq writes header names in lower case, which the real worker's reader does not see.
#[test]
fn lower_case_clients_cannot_submit() {
    // What ureq sends, byte for byte, captured by a listener of our own.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let capture_url = format!("http://{}", listener.local_addr().unwrap());
    let catcher = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = Vec::new();
        let mut chunk = [0u8; 65536];
        while let Ok(n) = s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            req.extend_from_slice(&chunk[..n]);
            if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&req[..end]).to_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if req.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        req
    });
    let parts = job_parts(&[("main.py", b"print(1)\n")], "{}");
    let (ct, body) = multipart(&parts);
    let _ = agent()
        .post(&format!("{capture_url}/submit"))
        .header("Content-Type", &ct)
        .send(&body[..]);
    let sent = catcher.join().unwrap();
    let head =
        String::from_utf8_lossy(&sent[..sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap()])
            .to_string();
    assert!(
        head.contains("\r\ncontent-type: multipart/form-data"),
        "{head}"
    );
    assert!(head.contains("\r\ncontent-length: "), "{head}");
    // The same bytes to a --compat worker: refused (or the connection drops mid-upload).
    let (node, _) = compat(&[]);
    match raw(&node.addr("worker"), &sent) {
        Ok(r) => assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (400, Some("No files uploaded"))
        ),
        Err(e) => eprintln!("dropped connection, as allowed: {e}"),
    }
}

#[test]
fn one_request_per_connection_without_connection_header() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap(); // returns: the server closed the socket
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 1, "{all}");
    assert!(!all.contains("Connection:"));
}

#[test]
fn status_and_friends_block_while_a_job_runs() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let id = submit(
        &addr,
        &job_parts(
            &[("main.py", b"import time\ntime.sleep(1.5)\nprint('done')\n")],
            "{}",
        ),
    );
    let mut blocked = Duration::ZERO;
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = Instant::now();
        let v = raw_get(&addr, &format!("/status/{id}")).json();
        blocked = blocked.max(t.elapsed());
        let s = v["status"].as_str().unwrap().to_string();
        assert_ne!(s, "running");
        seen.push(s.clone());
        if s == "completed" {
            break;
        }
        assert!(Instant::now() < deadline);
        // /health stays responsive meanwhile
        let t = Instant::now();
        assert_eq!(raw_get(&addr, "/health").status, 200);
        assert!(t.elapsed() < Duration::from_millis(1000));
    }
    assert!(
        blocked >= Duration::from_millis(700),
        "status never blocked ({blocked:?}, {seen:?})"
    );
}

#[test]
fn routing_quirks() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let r = raw(&addr, b"OPTIONS /submit HTTP/1.1\r\nHost: x\r\nOrigin: http://a\r\nAccess-Control-Request-Method: POST\r\n\r\n").unwrap();
    assert_eq!(r.status, 404);
    let r = raw_get(&addr, "/definitely/not/a/route");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["service"], "sandrun");
    let r = raw(
        &addr,
        b"POST /nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("Not found"))
    );
    let r = raw(&addr, b"DELETE /jobs/x HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 404);
    assert_eq!(raw_get(&addr, "/status/job_1_1?x=1").status, 404);
    assert_eq!(raw_get(&addr, "/logs/job_1_1/stream").status, 404);
    // status lines other than 200/400/404/500 say Unknown
    let r = raw(&addr, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(r.status, 200);
    assert!(raw_get(&addr, "/health").json()["worker_id"].is_string());
}

#[test]
fn rate_limit_text_only_and_unknown_reason() {
    let (node, _) = compat(&["--jobs-per-hour", "1"]);
    let addr = node.addr("worker");
    submit(&addr, &job_parts(&[("main.py", b"print(1)\n")], "{}"));
    let (ct, body) = multipart(&job_parts(&[("main.py", b"print(1)\n")], "{}"));
    let mut req = format!(
        "POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(&req).unwrap();
    let mut raw_bytes = Vec::new();
    s.read_to_end(&mut raw_bytes).unwrap();
    let text = String::from_utf8_lossy(&raw_bytes).to_string();
    assert!(text.starts_with("HTTP/1.1 429 Unknown\r\n"), "{text}");
    assert!(!text.to_ascii_lowercase().contains("retry-after"));
    let r = parse_resp(&raw_bytes).unwrap();
    assert_eq!(r.json()["error"], "Max jobs per hour reached (1)");
    assert!(r.json().get("retry_after").is_none());
}

#[test]
fn oversized_request_gets_truncated_413_without_cors() {
    let (node, _) = compat(&["--max-request-bytes", "20000"]);
    let addr = node.addr("worker");
    let big = vec![b'x'; 50_000];
    let r = raw_submit(
        &addr,
        &[file_part("big.bin", big)],
        "Content-Type",
        "Content-Length",
    )
    .unwrap();
    assert_eq!(r.status, 413);
    assert!(r.header("Access-Control-Allow-Origin").is_none());
    let declared: usize = r.header("Content-Length").unwrap().parse().unwrap();
    assert_eq!(r.body.len(), declared);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&r.body).is_err(),
        "body must be cut short"
    );
    assert!(String::from_utf8_lossy(&r.body).starts_with("{\"error\":"));
}

#[test]
fn expect_100_continue_is_never_answered() {
    let (node, _) = compat(&[]);
    let mut s = std::net::TcpStream::connect(node.addr("worker")).unwrap();
    s.write_all(
        b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let mut b = [0u8; 64];
    assert!(
        s.read(&mut b).is_err(),
        "nothing may arrive before the body"
    );
}

#[test]
fn stream_quirks_live_and_replay() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let code = b"import sys,time\nprint('one', flush=True)\ntime.sleep(0.6)\nprint('two')\nprint('err', file=sys.stderr)\n";
    let id = submit(&addr, &job_parts(&[("main.py", code)], "{}"));
    let mut ws = Ws::connect(&addr, &format!("/stream/{id}"));
    let (msgs, trailer) = ws.collect(Duration::from_millis(1500));
    let msgs: Vec<String> = msgs
        .into_iter()
        .map(|m| String::from_utf8(m).unwrap())
        .collect();
    assert!(msgs[0].starts_with("[STATUS] Job status: "), "{msgs:?}");
    assert!(
        msgs.contains(&"[STATUS] Job started\n".to_string()),
        "{msgs:?}"
    );
    // whole stdout in one frame after the end
    assert!(msgs.contains(&"one\ntwo\n".to_string()), "{msgs:?}");
    assert!(msgs.contains(&"[STDERR]\nerr\n".to_string()), "{msgs:?}");
    assert!(msgs
        .last()
        .unwrap()
        .starts_with("[DONE] Job completed (exit=0, CPU="));
    // no close frame on a live stream
    assert_eq!(trailer, None, "server must not close a live stream");
    ws.send_close();
    // attach after the end: output replayed twice
    let mut ws = Ws::connect(&addr, &format!("/stream/{id}"));
    let (msgs, _) = ws.collect(Duration::from_secs(2));
    let all = String::from_utf8(msgs.concat()).unwrap();
    assert!(all.starts_with("[STATUS] Job status: completed\n"));
    assert_eq!(all.matches("one\ntwo\n").count(), 2, "{all:?}");
    // unknown job
    let mut ws = Ws::connect(&addr, "/stream/job_0_0");
    let (msgs, _) = ws.collect(Duration::from_secs(2));
    assert_eq!(msgs, vec![b"[ERROR] Job not found: job_0_0\n".to_vec()]);
}

#[test]
fn invalid_utf8_is_escaped_bytewise_and_streamed_raw() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let id = submit(
        &addr,
        &job_parts(
            &[(
                "main.py",
                b"import sys\nsys.stdout.buffer.write(b'a\\xff\\xc3\\xa9\\n')\n",
            )],
            "{}",
        ),
    );
    wait_raw(&addr, &id);
    let logs = raw_get(&addr, &format!("/logs/{id}"));
    assert_eq!(
        logs.text(),
        r#"{"stdout":"a\u00ff\u00c3\u00a9\n","stderr":""}"#
    );
    let mut ws = Ws::connect(&addr, &format!("/stream/{id}"));
    let (msgs, _) = ws.collect(Duration::from_secs(2));
    assert!(msgs.contains(&b"a\xff\xc3\xa9\n".to_vec()), "{msgs:?}");
}

#[test]
fn manifest_is_read_by_substring_search() {
    let (node, _) = compat(&[]);
    let addr = node.addr("worker");
    let code = b"import sys\nprint(sys.argv[1:])\n";
    // 3 is dropped (not a string); invalid JSON is fine as long as the substrings are there
    let id = submit(
        &addr,
        &job_parts(
            &[("run_me.py", code)],
            r#"{"entrypoint": "run_me.py", "args": ["a", 3, "b"] "#,
        ),
    );
    wait_raw(&addr, &id);
    let out = raw_get(&addr, &format!("/logs/{id}")).json()["stdout"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(out, "['a', 'b']\n");
    // invalid manifest silently ignored when main.py exists
    let id = submit(
        &addr,
        &job_parts(&[("main.py", b"print('default')\n")], "not json at all"),
    );
    assert_eq!(wait_raw(&addr, &id)["status"], "completed");
    // no entrypoint at all
    let r = raw_submit(
        &addr,
        &job_parts(&[("lib.py", b"x=1\n")], "{}"),
        "Content-Type",
        "Content-Length",
    )
    .unwrap();
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("No entrypoint specified"))
    );
    // plain file parts: pkg/mod.py is dropped silently (no sub-folders created)
    let parts = vec![
        file_part(
            "main.py",
            b"import os\nprint(os.path.exists('pkg/mod.py'))\n".to_vec(),
        ),
        file_part("pkg/mod.py", b"x=1\n".to_vec()),
    ];
    let id = submit(&addr, &parts);
    wait_raw(&addr, &id);
    assert_eq!(
        raw_get(&addr, &format!("/logs/{id}")).json()["stdout"],
        "False\n"
    );
}
