//! Helpers for the dev node's integration tests: start the real binary on a free port, talk to it
//! over real sockets (ureq for well-behaved HTTP, raw TcpStream where header case matters, a tiny
//! WebSocket client), build tar.gz uploads and multipart bodies, verify signed results.
#![allow(dead_code)]

pub mod kubo;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_sandrun-devnode");

pub struct Node {
    pub child: Child,
    pub urls: BTreeMap<String, String>,
    pub dir: TempDir,
    /// Other folders that live as long as the node (its key).
    pub keep: Vec<TempDir>,
}

impl Node {
    /// Starts `sandrun-devnode <args>` and waits for the URL lines it prints (`worker: http://…`).
    pub fn start(args: &[&str], expect: &[&str]) -> Node {
        let dir = tempdir();
        let mut cmd = Command::new(BIN);
        let log = if std::env::var_os("DEVNODE_TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        };
        cmd.args(args)
            .current_dir(&*dir)
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = cmd.spawn().expect("start sandrun-devnode");
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut urls = BTreeMap::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while urls.len() < expect.len() {
            assert!(Instant::now() < deadline, "node did not start");
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("node exited before printing its URLs: {:?}", child.wait());
            }
            if let Some((name, url)) = line.trim().split_once(':') {
                if expect.contains(&name) {
                    urls.insert(name.to_string(), url.trim().to_string());
                }
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        Node {
            child,
            urls,
            dir,
            keep: Vec::new(),
        }
    }

    /// A worker with a fresh key on a free port. Returns (node, worker id).
    pub fn worker(extra: &[&str]) -> (Node, String) {
        let dir = tempdir();
        let key = dir.join("worker.pem");
        let out = Command::new(BIN)
            .arg("--generate-key")
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let id = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let key = key.to_string_lossy().to_string();
        let mut args = vec!["worker", "--port", "0", "--worker-key", key.as_str()];
        args.extend_from_slice(extra);
        let mut node = Node::start(&args, &["worker"]);
        node.keep.push(dir);
        (node, id)
    }

    pub fn anonymous_worker(extra: &[&str]) -> Node {
        let mut args = vec!["worker", "--port", "0"];
        args.extend_from_slice(extra);
        Node::start(&args, &["worker"])
    }

    pub fn url(&self, name: &str) -> String {
        self.urls[name].clone()
    }

    pub fn addr(&self, name: &str) -> String {
        self.urls[name].trim_start_matches("http://").to_string()
    }

    pub fn stop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// SIGTERM, up to 5 s to exit, then SIGKILL.
pub fn stop_child(child: &mut Child) {
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A temporary folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn tempdir() -> TempDir {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!(
        "devnode-test-{}-{}-{}",
        std::process::id(),
        n,
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

// ------------------------------------------------------------------ uploads

pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// A tar.gz whose single entry has a raw (possibly unsafe) name, type and link target.
pub fn tgz_raw(name: &str, kind: tar::EntryType, link: Option<&str>, data: &[u8]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    let mut h = tar::Header::new_old();
    {
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append(&h, data).unwrap();
    // plus a valid entrypoint so the job itself is fine
    let main = b"print('ok')\n";
    let mut h2 = tar::Header::new_gnu();
    h2.set_size(main.len() as u64);
    h2.set_mode(0o644);
    b.append_data(&mut h2, "main.py", &main[..]).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub data: Vec<u8>,
}

pub fn file_part<'a>(filename: &'a str, data: Vec<u8>) -> Part<'a> {
    Part {
        name: "files",
        filename: Some(filename),
        data,
    }
}

pub fn manifest_part(json: &str) -> Part<'static> {
    Part {
        name: "manifest",
        filename: None,
        data: json.as_bytes().to_vec(),
    }
}

pub const BOUNDARY: &str = "----devnodetestboundary7MA4YWxkTrZu0gW";

pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p.filename {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n", p.name).as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", p.name).as_bytes()),
        }
        body.extend_from_slice(&p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// The usual job: an entrypoint in a tar.gz plus a manifest.
pub fn job_parts(files: &[(&str, &[u8])], manifest: &str) -> Vec<Part<'static>> {
    vec![file_part("job.tar.gz", tgz(files)), manifest_part(manifest)]
}

// ------------------------------------------------------------------ HTTP

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

pub fn from_ureq(mut r: ureq::http::Response<ureq::Body>) -> Resp {
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = r
        .body_mut()
        .with_config()
        .limit(200 << 20)
        .read_to_vec()
        .unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str) -> Resp {
    from_ureq(agent().get(url).call().expect("GET"))
}

pub fn delete(url: &str) -> Resp {
    from_ureq(agent().delete(url).call().expect("DELETE"))
}

pub fn post_json(url: &str, v: &Value) -> Resp {
    from_ureq(
        agent()
            .post(url)
            .header("Content-Type", "application/json")
            .send(v.to_string().as_bytes())
            .expect("POST"),
    )
}

pub fn post_multipart(url: &str, parts: &[Part]) -> Resp {
    let (ct, body) = multipart(parts);
    from_ureq(
        agent()
            .post(url)
            .header("Content-Type", &ct)
            .send(&body[..])
            .expect("POST"),
    )
}

/// One raw request on a fresh connection; reads until the server closes (or Content-Length with
/// `Connection: close` sent by us).
pub fn raw(addr: &str, request: &[u8]) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(request)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_resp(&buf).ok_or_else(|| {
        std::io::Error::other(format!("bad response: {:?}", String::from_utf8_lossy(&buf)))
    })
}

pub fn parse_resp(buf: &[u8]) -> Option<Resp> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    Some(Resp {
        status,
        headers,
        body: buf[end + 4..].to_vec(),
    })
}

/// A browser's CORS preflight for `method` with `headers` (as `Access-Control-Request-Headers`).
pub fn preflight(addr: &str, path: &str, method: &str, headers: &str) -> Resp {
    raw(
        addr,
        format!("OPTIONS {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://localhost:5173\r\nAccess-Control-Request-Method: {method}\r\nAccess-Control-Request-Headers: {headers}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap()
}

/// A preflight answered as a browser needs: 204, any origin, the methods, the headers asked for.
pub fn assert_preflight(r: &Resp, headers: &str) {
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
    assert!(r
        .header("Access-Control-Allow-Methods")
        .unwrap()
        .contains("DELETE"));
    assert_eq!(r.header("Access-Control-Allow-Headers"), Some(headers));
}

/// A GET with canonical header names on a fresh connection.
pub fn raw_get(addr: &str, path: &str) -> Resp {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap()
}

/// A multipart POST /submit written byte by byte as we choose (header names included).
pub fn raw_submit(
    addr: &str,
    parts: &[Part],
    ct_name: &str,
    cl_name: &str,
) -> std::io::Result<Resp> {
    let (ct, body) = multipart(parts);
    let mut req = format!("POST /submit HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{ct_name}: {ct}\r\n{cl_name}: {}\r\n\r\n", body.len()).into_bytes();
    req.extend_from_slice(&body);
    raw(addr, &req)
}

pub fn submit_ok(url: &str, parts: &[Part]) -> String {
    let r = post_multipart(&format!("{url}/submit"), parts);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "queued");
    v["job_id"].as_str().unwrap().to_string()
}

/// Polls /status until the job is terminal.
pub fn wait_done(url: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get(&format!("{url}/status/{id}"));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if sandrun_protocol::status::is_terminal(v["status"].as_str().unwrap()) {
            return v;
        }
        assert!(Instant::now() < deadline, "job {id} never finished: {v}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

// ------------------------------------------------------------------ verification

/// Verifies a /status body's signature with the spec's algorithm: the message is rebuilt from
/// job_hash, exit code, the CPU figure (`cpu_signed` when present, else every %g candidate within
/// ±0.005 of the shown figure), memory MB and the output hashes. Returns the CPU string that
/// verified.
pub fn verify_status(v: &Value) -> Option<String> {
    let wm = &v["worker_metadata"];
    let (id, sig) = (wm["worker_id"].as_str()?, wm["signature"].as_str()?);
    let meta = &v["execution_metadata"];
    let outputs: BTreeMap<String, String> = v["output_files"]
        .as_object()?
        .iter()
        .map(|(k, f)| (k.clone(), f["sha256"].as_str().unwrap().to_string()))
        .collect();
    let exit = meta["exit_code"].as_i64()?;
    let mem = meta["memory_peak_mb"].as_u64()?;
    let hash = v["job_hash"].as_str()?;
    let candidates = match meta["cpu_signed"].as_str() {
        Some(c) => vec![c.to_string()],
        None => sandrun_protocol::cpu::candidates(meta["cpu_seconds"].as_f64()?),
    };
    candidates.into_iter().find(|cpu| {
        let pairs = outputs.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let msg = sandrun_protocol::signing::result_message(hash, exit, cpu, mem, pairs);
        sandrun_protocol::signing::verify(id, sig, &msg)
    })
}

pub fn sha256_hex(b: &[u8]) -> String {
    sandrun_protocol::hash::sha256_hex(b)
}

// ------------------------------------------------------------------ WebSocket

pub struct Ws {
    pub s: TcpStream,
    buf: Vec<u8>,
}

#[derive(Debug, PartialEq)]
pub enum Frame {
    Text(Vec<u8>),
    Close(Option<u16>),
    Other(u8),
}

impl Ws {
    pub fn connect(addr: &str, path: &str) -> Ws {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://localhost:5173\r\n\r\n"
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed during handshake");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(
            head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{head}"
        );
        let rest = buf[end + 4..].to_vec();
        Ws { s, buf: rest }
    }

    /// Next frame, or None at end of stream / timeout.
    pub fn next(&mut self, timeout: Duration) -> Option<Frame> {
        self.s.set_read_timeout(Some(timeout)).unwrap();
        loop {
            if self.buf.len() >= 2 {
                let op = self.buf[0] & 0x0f;
                let mut len = (self.buf[1] & 0x7f) as usize;
                let mut pos = 2;
                if len == 126 && self.buf.len() >= 4 {
                    len = u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize;
                    pos = 4;
                } else if len == 127 && self.buf.len() >= 10 {
                    len = u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize;
                    pos = 10;
                }
                if (self.buf[1] & 0x7f) < 126 || pos > 2 {
                    assert_eq!(self.buf[1] & 0x80, 0, "server frames must not be masked");
                    if self.buf.len() >= pos + len {
                        let payload = self.buf[pos..pos + len].to_vec();
                        self.buf.drain(..pos + len);
                        return Some(match op {
                            1 => Frame::Text(payload),
                            8 => Frame::Close(
                                (payload.len() >= 2)
                                    .then(|| u16::from_be_bytes([payload[0], payload[1]])),
                            ),
                            o => Frame::Other(o),
                        });
                    }
                }
            }
            let mut chunk = [0u8; 8192];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Text messages until [DONE]/[ERROR] (inclusive) and whatever follows within `after`.
    pub fn collect(&mut self, after: Duration) -> (Vec<Vec<u8>>, Option<Frame>) {
        let mut msgs = Vec::new();
        loop {
            match self.next(Duration::from_secs(30)) {
                Some(Frame::Text(t)) => {
                    let end = t.starts_with(b"[DONE] ") || t.starts_with(b"[ERROR] ");
                    msgs.push(t);
                    if end {
                        break;
                    }
                }
                other => return (msgs, other),
            }
        }
        let trailer = self.next(after);
        (msgs, trailer)
    }

    pub fn send_close(&mut self) {
        let _ = self
            .s
            .write_all(&[0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]);
    }
}
