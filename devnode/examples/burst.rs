//! Bench: start-up time of `worker` and `all`, and a 100-job burst (jobs/s, peak RSS of the node).
//!
//!     cargo build --release -p sandrun-devnode
//!     cargo run --release -p sandrun-devnode --example burst [-- JOBS]
//!
//! Uses the `sandrun-devnode` binary next to this example's folder (or $SANDRUN_DEVNODE_BIN).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("SANDRUN_DEVNODE_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("sandrun-devnode")
}

fn start(args: &[&str], names: usize) -> (Child, Vec<String>, Duration) {
    let t = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node (build it first)");
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut urls = Vec::new();
    while urls.len() < names {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "node exited");
        if let Some(i) = line.find("http://") {
            urls.push(line[i..].trim().to_string());
        }
    }
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
    });
    // ready = answers /health
    let health = format!("{}/health", urls[0]);
    while ureq::get(&health).call().is_err() {
        std::thread::sleep(Duration::from_millis(2));
    }
    (child, urls, t.elapsed())
}

fn stop(mut c: Child) {
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let _ = c.wait();
}

fn peak_rss_kb(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn job_body() -> (String, Vec<u8>) {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let code = b"print('hello from the burst')\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(code.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "main.py", &code[..]).unwrap();
    let tgz = b.into_inner().unwrap().finish().unwrap();
    let bd = "burstboundary";
    let mut body = format!(
        "--{bd}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"job.tar.gz\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&tgz);
    body.extend_from_slice(format!("\r\n--{bd}\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\n{{\"entrypoint\":\"main.py\"}}\r\n--{bd}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={bd}"), body)
}

/// One request on a fresh connection with canonical header names (the real worker and `--compat`
/// only understand those; ureq sends lower-case names).
fn raw(url: &str, method: &str, path: &str, ct: Option<&str>, body: &[u8]) -> serde_json::Value {
    use std::io::Write;
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(ct) = ct {
        req.push_str(&format!(
            "Content-Type: {ct}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    serde_json::from_slice(&out[end + 4..])
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
}

fn burst(url: &str, n: usize, threads: usize) -> Duration {
    let (ct, body) = job_body();
    let t = Instant::now();
    let per = n.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let (url, ct, body) = (url.to_string(), ct.clone(), body.clone());
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for _ in 0..per.min(n.saturating_sub(k * per)) {
                    let v = raw(&url, "POST", "/submit", Some(&ct), &body);
                    ids.push(
                        v["job_id"]
                            .as_str()
                            .unwrap_or_else(|| panic!("{v}"))
                            .to_string(),
                    );
                }
                for id in ids {
                    loop {
                        let v = raw(&url, "GET", &format!("/status/{id}"), None, b"");
                        match v["status"].as_str() {
                            Some("completed") => break,
                            Some("failed") => panic!("job failed: {v}"),
                            _ => std::thread::sleep(Duration::from_millis(10)),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    t.elapsed()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let lift = [
        "--max-concurrent",
        "100000",
        "--jobs-per-hour",
        "100000",
        "--cpu-per-minute",
        "100000",
    ];
    let data = std::env::temp_dir().join(format!("burst-{}", std::process::id()));

    let mut starts = Vec::new();
    for _ in 0..5 {
        let (c, _, d) = start(&["worker", "--port", "0"], 1);
        starts.push(d);
        stop(c);
    }
    starts.sort();
    println!(
        "worker start-up (spawn → /health answers): median {:?}, max {:?}",
        starts[2], starts[4]
    );
    let (c, _, d) = start(
        &[
            "all",
            "--worker-port",
            "0",
            "--pool-port",
            "0",
            "--broker-port",
            "0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        3,
    );
    println!("all start-up (spawn → three URLs printed, worker /health answers): {d:?}");
    stop(c);
    let _ = std::fs::remove_dir_all(&data);

    for (mode, extra) in [("default", None), ("compat", Some("--compat"))] {
        let mut args = vec!["worker", "--port", "0"];
        args.extend_from_slice(&lift);
        if let Some(e) = extra {
            args.push(e);
        }
        let (c, urls, _) = start(&args, 1);
        let idle = peak_rss_kb(c.id());
        let el = burst(&urls[0], n, 8);
        let peak = peak_rss_kb(c.id());
        println!(
            "{mode:>7} mode: {n} jobs (python3 print) from 8 client threads in {:.2?} = {:.1} jobs/s; node RSS peak {:.1} MiB (idle {:.1} MiB)",
            el,
            n as f64 / el.as_secs_f64(),
            peak as f64 / 1024.0,
            idle as f64 / 1024.0
        );
        stop(c);
    }
}
