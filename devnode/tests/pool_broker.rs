//! The pool coordinator over two workers with distinct keys, the broker's marketplace flow with
//! heartbeat expiry and restart persistence, and `all`.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn pool_dispatches_over_two_workers_by_capacity() {
    let (w1, id1) = Node::worker(&["--max-concurrent", "10"]);
    let (w2, id2) = Node::worker(&["--max-concurrent", "10"]);
    let (impostor, _) = Node::worker(&[]);
    assert_ne!(id1, id2);
    let dir = tempdir();
    let list = json!([
        {"endpoint": w1.url("worker"), "worker_id": id1, "max_concurrent_jobs": 1},
        {"endpoint": w2.url("worker"), "worker_id": id2, "max_concurrent_jobs": 1},
        // allow-listed key does not match what this worker presents → never healthy
        {"endpoint": impostor.url("worker"), "worker_id": id1, "max_concurrent_jobs": 5},
    ]);
    let file = dir.join("workers.json");
    std::fs::write(&file, list.to_string()).unwrap();
    let pool = Node::start(
        &[
            "pool",
            "--port",
            "0",
            "--workers",
            file.to_str().unwrap(),
            "--health-interval-secs",
            "0.2",
        ],
        &["pool"],
    );
    let url = pool.url("pool");
    wait_until("two healthy workers", Duration::from_secs(10), || {
        get(&format!("{url}/pool")).json()["healthy_workers"] == 2
    });
    let info = get(&format!("{url}/pool")).json();
    let ws = info["workers"].as_array().unwrap();
    assert_eq!(ws[2]["is_healthy"], false);
    assert!(ws[0]["last_health_check"].is_number());

    let slow = || {
        job_parts(
            &[(
                "main.py",
                b"import time\ntime.sleep(0.8)\nopen('r.txt','w').write('hi')\n",
            )],
            r#"{"entrypoint":"main.py","outputs":["r.txt"]}"#,
        )
    };
    let a = submit_ok(&url, &slow());
    let b = submit_ok(&url, &slow());
    assert!(a.starts_with("pool-") && a.len() == 21, "{a}");
    let status = |id: &str| get(&format!("{url}/status/{id}")).json();
    let wa = status(&a)["worker_id"].as_str().unwrap().to_string();
    let wb = status(&b)["worker_id"].as_str().unwrap().to_string();
    assert_ne!(
        wa, wb,
        "the second job must go to the worker with free capacity"
    );
    for id in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let st = loop {
            let st = status(id);
            if st["pool_status"] == "completed" {
                break st;
            }
            assert!(Instant::now() < deadline, "{st}");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(st["completed_at"].is_number());
        let wst = &st["worker_status"];
        assert_eq!(wst["status"], "completed");
        assert!(verify_status(wst).is_some(), "{wst}");
        assert_eq!(wst["worker_metadata"]["worker_id"], st["worker_id"]);
        let out = get(&format!("{url}/outputs/{id}/r.txt"));
        assert_eq!(out.status, 200);
        assert_eq!(out.body, b"hi");
        assert_eq!(
            sha256_hex(&out.body),
            wst["output_files"]["r.txt"]["sha256"].as_str().unwrap()
        );
        assert_eq!(get(&format!("{url}/outputs/{id}/")).status, 404);
        assert_eq!(get(&format!("{url}/outputs/{id}/missing.txt")).status, 404);
    }
    // bad submissions
    let r = post_multipart(
        &format!("{url}/submit"),
        &[file_part("main.py", b"print(1)".to_vec())],
    );
    assert_eq!(r.status, 400);
    let r = post_multipart(
        &format!("{url}/submit"),
        &[
            file_part("main.py", b"print(1)".to_vec()),
            manifest_part("{oops"),
        ],
    );
    assert_eq!(r.status, 400);
    let r = post_multipart(&format!("{url}/submit"), &[manifest_part("{}")]);
    assert_eq!(r.status, 400);
    assert_eq!(
        get(&format!("{url}/status/pool-0000000000000000")).status,
        404
    );
    assert_eq!(get(&format!("{url}/health")).status, 404);
}

#[test]
fn broker_marketplace_expiry_and_restart() {
    let dir = tempdir();
    let db = dir.join("b.sqlite3");
    let args = [
        "broker",
        "--port",
        "0",
        "--db",
        db.to_str().unwrap(),
        "--heartbeat-timeout-secs",
        "1",
    ];
    let mut broker = Node::start(&args, &["broker"]);
    let url = broker.url("broker");
    assert_eq!(
        get(&format!("{url}/health")).json(),
        json!({"active_nodes": 0, "jobs": 0, "status": "healthy"})
    );
    let r = post_json(&format!("{url}/submit"), &json!({"interpreter": "python3"}));
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"error": "Missing code"}))
    );
    let r = post_json(
        &format!("{url}/submit"),
        &json!({"code": "print(1)", "args": ["x"]}),
    );
    let job = r.json()["job_id"].as_str().unwrap().to_string();
    assert_eq!(job.len(), 16);
    assert_eq!(r.json()["status"], "pending");
    // keys sorted in the raw body
    let raw_status = get(&format!("{url}/status/{job}")).text();
    assert!(
        raw_status.find("\"completed_at\"").unwrap() < raw_status.find("\"created_at\"").unwrap()
    );
    let r = get(&format!("{url}/results/{job}"));
    assert_eq!(
        (r.status, r.json()),
        (202, json!({"error": "Job not completed"}))
    );

    let n1 = post_json(
        &format!("{url}/register"),
        &json!({"endpoint": "http://node-a:8443", "capabilities": {"cpu": 2}}),
    )
    .json();
    let n1 = n1["node_id"].as_str().unwrap().to_string();
    assert_eq!(n1, &sha256_hex(b"http://node-a:8443")[..16]);
    let again = post_json(
        &format!("{url}/register"),
        &json!({"endpoint": "http://node-a:8443"}),
    )
    .json();
    assert_eq!(again["node_id"], n1.as_str());
    let claim = post_json(&format!("{url}/claim"), &json!({"node_id": n1})).json();
    assert_eq!(claim["job"]["id"], job.as_str());
    assert_eq!(claim["job"]["code"], "print(1)");
    assert_eq!(claim["job"]["interpreter"], "python3");
    assert_eq!(claim["job"]["args"], json!(["x"]));
    assert_eq!(
        get(&format!("{url}/status/{job}")).json()["status"],
        "assigned"
    );
    assert_eq!(
        post_json(&format!("{url}/claim"), &json!({"node_id": n1})).json(),
        json!({"job": null})
    );

    // node a goes silent → inactive, job re-queued; node b heartbeats and gets it
    let n2 = post_json(
        &format!("{url}/register"),
        &json!({"endpoint": "http://node-b:8443", "capabilities": {}}),
    )
    .json();
    let n2 = n2["node_id"].as_str().unwrap().to_string();
    wait_until("re-queue", Duration::from_secs(10), || {
        let _ = post_json(&format!("{url}/heartbeat"), &json!({"node_id": n2}));
        get(&format!("{url}/status/{job}")).json()["status"] == "pending"
    });
    let nodes = get(&format!("{url}/nodes")).json();
    let a = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == n1.as_str())
        .unwrap()
        .clone();
    assert_eq!(a["active"], false);
    assert_eq!(
        post_json(&format!("{url}/heartbeat"), &json!({"node_id": "unknown"})).json(),
        json!({"status": "ok"})
    );
    let claim = post_json(&format!("{url}/claim"), &json!({"node_id": n2})).json();
    assert_eq!(claim["job"]["id"], job.as_str());
    let r = post_json(
        &format!("{url}/complete"),
        &json!({"node_id": n2, "job_id": job, "output": "1\n", "error": "", "exit_code": 0}),
    );
    assert_eq!(r.json(), json!({"status": "ok"}));
    let res = get(&format!("{url}/results/{job}")).json();
    assert_eq!(
        res,
        json!({"job_id": job, "status": "completed", "output": "1\n", "error": "", "exit_code": 0})
    );
    let st = get(&format!("{url}/status/{job}")).json();
    assert_eq!(st["node_id"], n2.as_str());
    let ts = st["completed_at"].as_str().unwrap();
    assert!(
        ts.len() == 19 && &ts[4..5] == "-" && &ts[10..11] == " ",
        "{ts}"
    );
    // a failing job
    let j2 = post_json(
        &format!("{url}/submit"),
        &json!({"code": "raise SystemExit(3)"}),
    )
    .json()["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    post_json(
        &format!("{url}/complete"),
        &json!({"node_id": n2, "job_id": j2, "output": "", "error": "boom", "exit_code": 3}),
    );
    assert_eq!(
        get(&format!("{url}/status/{j2}")).json()["status"],
        "failed"
    );
    assert_eq!(
        post_json(
            &format!("{url}/complete"),
            &json!({"node_id": n2, "job_id": "nope", "exit_code": 0})
        )
        .status,
        404
    );
    assert_eq!(get(&format!("{url}/status/nope")).status, 404);
    // CORS preflight
    let r = raw(
        &broker.addr("broker"),
        b"OPTIONS /submit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        (r.status, r.header("Access-Control-Allow-Origin")),
        (204, Some("*"))
    );

    // restart: nothing lost
    broker.stop();
    let broker2 = Node::start(&args, &["broker"]);
    let url = broker2.url("broker");
    assert_eq!(get(&format!("{url}/results/{job}")).json()["output"], "1\n");
    assert_eq!(get(&format!("{url}/health")).json()["jobs"], 2);
    let nodes = get(&format!("{url}/nodes")).json();
    let b = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == n2.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (b["jobs_completed"].as_i64(), b["jobs_failed"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(b["capabilities"], json!({}));
}

#[test]
fn all_starts_fast_and_serves_the_three_apis() {
    // Fixed default ports are used by `make demo`; here free ports keep tests parallel-safe.
    let dir = tempdir();
    let t = Instant::now();
    let node = Node::start(
        &[
            "all",
            "--worker-port",
            "0",
            "--pool-port",
            "0",
            "--broker-port",
            "0",
            "--data-dir",
            dir.to_str().unwrap(),
        ],
        &["worker", "pool", "broker"],
    );
    let started = t.elapsed();
    assert!(started < Duration::from_secs(2), "{started:?}");
    assert_eq!(
        get(&format!("{}/health", node.url("broker"))).json()["status"],
        "healthy"
    );
    let wid = get(&format!("{}/health", node.url("worker"))).json()["worker_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("pool sees worker", Duration::from_secs(10), || {
        get(&format!("{}/pool", node.url("pool"))).json()["healthy_workers"] == 1
    });
    let id = submit_ok(
        &node.url("pool"),
        &job_parts(
            &[("main.py", b"print('via pool')\n")],
            r#"{"entrypoint":"main.py"}"#,
        ),
    );
    wait_until("pool job done", Duration::from_secs(20), || {
        get(&format!("{}/status/{id}", node.url("pool"))).json()["pool_status"] == "completed"
    });
    assert_eq!(
        get(&format!("{}/status/{id}", node.url("pool"))).json()["worker_id"],
        wid.as_str()
    );
    assert!(dir.join("worker.pem").exists() && dir.join("broker.sqlite3").exists());
}
