//! Malformed requests: a JSON error with the right status, never a panic or a hung connection,
//! and never a write outside the job folder.

mod common;
use common::*;
use std::time::Duration;

fn err(r: &Resp) -> String {
    r.json()["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn missing_parts_and_invalid_manifests() {
    let node = Node::anonymous_worker(&[]);
    let url = node.url("worker");
    let s = |parts: &[Part]| post_multipart(&format!("{url}/submit"), parts);
    let r = s(&[manifest_part(r#"{"entrypoint":"main.py"}"#)]);
    assert_eq!((r.status, err(&r)), (400, "No files uploaded".into()));
    let r = s(&job_parts(&[("lib.py", b"x=1")], "{}"));
    assert_eq!((r.status, err(&r)), (400, "No entrypoint specified".into()));
    for (manifest, needle) in [
        ("{not json", "not valid JSON"),
        ("[1,2]", "JSON object"),
        (r#"{"args":"--n 3"}"#, "'args' must be an array"),
        (r#"{"args":["--n",3]}"#, "args[1]"),
        (r#"{"entrypoint":"../main.py"}"#, "relative path"),
        (r#"{"entrypoint":"/etc/passwd"}"#, "relative path"),
        (r#"{"entrypoint":"other.py"}"#, "not a file of the upload"),
        (r#"{"interpreter":"/bin/sh -c"}"#, "bare command name"),
        (
            r#"{"interpreter":"no-such-interpreter-xyz"}"#,
            "not available",
        ),
        (r#"{"outputs":[""]}"#, "outputs[0]"),
        (r#"{"timeout":-1}"#, "positive number"),
        (r#"{"env":{"1BAD":"x"}}"#, "not a valid variable"),
    ] {
        let r = s(&job_parts(&[("main.py", b"print(1)")], manifest));
        assert_eq!(r.status, 400, "{manifest}: {}", r.text());
        assert!(err(&r).contains(needle), "{manifest}: {}", err(&r));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    }
    // not multipart at all
    let r = post_json(&format!("{url}/submit"), &serde_json::json!({"code": "x"}));
    assert_eq!(r.status, 400);
    assert!(err(&r).contains("multipart"));
    // truncated multipart
    let (ct, body) = multipart(&job_parts(&[("main.py", b"print(1)")], "{}"));
    let cut = &body[..body.len() - 30];
    let r = raw(&node.addr("worker"), &[format!("POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n", cut.len()).as_bytes(), cut].concat()).unwrap();
    assert_eq!(r.status, 400);
    assert!(err(&r).contains("Malformed multipart"), "{}", r.text());
    // garbage request line, chunked body works in default mode
    let r = raw(&node.addr("worker"), b"HELLO\r\n\r\n").unwrap();
    assert_eq!(r.status, 400);
    let (ct, body) = multipart(&job_parts(&[("main.py", b"print(1)")], "{}"));
    let mut req = format!("POST /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {ct}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    for c in body.chunks(100) {
        req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend_from_slice(c);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(&node.addr("worker"), &req).unwrap().status, 200);
    // quota was given back for every refused submission
    assert_eq!(
        get(&format!("{url}/stats")).json()["your_quota"]["can_submit"],
        true
    );
}

#[test]
fn oversized_bodies_get_413() {
    let node = Node::anonymous_worker(&["--max-request-bytes", "100000"]);
    let url = node.url("worker");
    let r = post_multipart(
        &format!("{url}/submit"),
        &[file_part("big.bin", vec![7u8; 300_000])],
    );
    assert_eq!(r.status, 413);
    assert!(err(&r).contains("limit 100000"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(get(&format!("{url}/health")).status, 200);
}

#[test]
fn traversal_in_archives_and_file_names_is_refused() {
    let node = Node::anonymous_worker(&[]);
    let url = node.url("worker");
    let canary = tempdir().join("escaped.txt");
    let rel_escape = format!("../../../../../../../../..{}", canary.display());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            tgz_raw("../evil.txt", tar::EntryType::Regular, None, b"x"),
            "leaves the job folder",
        ),
        (
            tgz_raw(&rel_escape, tar::EntryType::Regular, None, b"x"),
            "leaves the job folder",
        ),
        (
            tgz_raw(
                canary.to_str().unwrap(),
                tar::EntryType::Regular,
                None,
                b"x",
            ),
            "leaves the job folder",
        ),
        (
            tgz_raw("link", tar::EntryType::Symlink, Some("/etc"), b""),
            "leaves the job folder",
        ),
        (
            tgz_raw("link", tar::EntryType::Symlink, Some("../../.."), b""),
            "leaves the job folder",
        ),
        (
            tgz_raw("hard", tar::EntryType::Link, Some("/etc/passwd"), b""),
            "leaves the job folder",
        ),
    ];
    for (archive, needle) in cases {
        let r = post_multipart(
            &format!("{url}/submit"),
            &[
                file_part("job.tar.gz", archive),
                manifest_part(r#"{"entrypoint":"main.py"}"#),
            ],
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(err(&r).contains(needle), "{}", err(&r));
    }
    assert!(!canary.exists());
    let r = post_multipart(
        &format!("{url}/submit"),
        &[file_part("../main.py", b"print(1)".to_vec())],
    );
    assert_eq!(r.status, 400);
    assert!(err(&r).contains("leaves the job folder"));
    let r = post_multipart(
        &format!("{url}/submit"),
        &[file_part("job.tar.gz", b"not gzip".to_vec())],
    );
    assert_eq!(r.status, 400);
    assert!(err(&r).contains("Cannot unpack"));
    // a link inside the folder is fine, and is never an output nor downloadable as its target
    let id = submit_ok(
        &url,
        &[file_part(
            "job.tar.gz",
            tgz_raw("alias.py", tar::EntryType::Symlink, Some("main.py"), b""),
        )],
    );
    let st = wait_done(&url, &id);
    assert_eq!(st["status"], "completed");
    assert!(st["output_files"].get("alias.py").is_none());
    // sub-folders in plain file names are created in default mode
    let id = submit_ok(
        &url,
        &[
            file_part("main.py", b"import pkg.mod\nprint(pkg.mod.x)\n".to_vec()),
            file_part("pkg/mod.py", b"x=41+1\n".to_vec()),
        ],
    );
    wait_done(&url, &id);
    assert_eq!(get(&format!("{url}/logs/{id}")).json()["stdout"], "42\n");
    // downloads: traversal 403, missing 404, percent-encoded names decoded
    assert_eq!(
        raw_get(
            &node.addr("worker"),
            &format!("/download/{id}/../../etc/passwd")
        )
        .status,
        403
    );
    assert_eq!(get(&format!("{url}/download/{id}/nope.txt")).status, 404);
    assert_eq!(
        get(&format!("{url}/download/{id}/pkg%2Fmod.py")).body,
        b"x=41+1\n"
    );
    // a job that writes a link to /etc/passwd: not an output, download refused
    let id = submit_ok(
        &url,
        &[file_part(
            "main.py",
            b"import os\nos.symlink('/etc/passwd','leak.txt')\n".to_vec(),
        )],
    );
    let st = wait_done(&url, &id);
    assert!(st["output_files"].get("leak.txt").is_none());
    assert_eq!(get(&format!("{url}/download/{id}/leak.txt")).status, 403);
}

#[test]
fn compat_skips_unsafe_entries_without_writing_outside() {
    let (node, _) = Node::worker(&["--compat"]);
    let canary = tempdir().join("compat-escaped.txt");
    let archive = tgz_raw(
        canary.to_str().unwrap(),
        tar::EntryType::Regular,
        None,
        b"x",
    );
    let r = raw_submit(
        &node.addr("worker"),
        &[file_part("job.tar.gz", archive)],
        "Content-Type",
        "Content-Length",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let archive = tgz_raw(
        "../../../../../../../../tmp/compat-evil.txt",
        tar::EntryType::Regular,
        None,
        b"x",
    );
    let r = raw_submit(
        &node.addr("worker"),
        &[file_part("job.tar.gz", archive)],
        "Content-Type",
        "Content-Length",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    let r = raw_submit(
        &node.addr("worker"),
        &[file_part("../../../../tmp/compat-evil2.py", b"x".to_vec())],
        "Content-Type",
        "Content-Length",
    )
    .unwrap();
    assert_eq!(r.status, 400); // dropped → nothing to run
    std::thread::sleep(Duration::from_millis(200));
    assert!(!canary.exists());
    assert!(!std::path::Path::new("/tmp/compat-evil.txt").exists());
    assert!(!std::path::Path::new("/tmp/compat-evil2.py").exists());
}

#[test]
fn unknown_ids_everywhere() {
    let node = Node::anonymous_worker(&[]);
    let url = node.url("worker");
    for p in ["status", "logs", "outputs"] {
        let r = get(&format!("{url}/{p}/job_1_1"));
        assert_eq!((r.status, err(&r)), (404, "Job not found".into()), "{p}");
    }
    assert_eq!(get(&format!("{url}/download/job_1_1/x.txt")).status, 404);
    assert_eq!(get(&format!("{url}/download/job_1_1")).status, 404);
    assert_eq!(delete(&format!("{url}/jobs/job_1_1")).status, 404);
    let r = agent()
        .put(&format!("{url}/submit"))
        .send(&b""[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let r = get(&format!("{url}/stream/job_1_1"));
    assert_eq!(r.status, 400, "plain GET on the stream path");
}
