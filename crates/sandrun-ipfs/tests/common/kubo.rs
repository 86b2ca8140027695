//! A real Kubo for the tests: started through scripts/kubo.sh (fresh repo, offline, loopback,
//! free ports), shared by the tests of one test binary and stopped when the last one is done.
//! Plus a minimal HTTP/1.0 client (Go answers HTTP/1.0 without chunking, so the body is simply
//! everything up to the close) and the multipart body Kubo's `add` takes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

pub struct Kubo {
    name: String,
    pub api: u16,
    pub gateway: u16,
}

static SHARED: Mutex<Weak<Kubo>> = Mutex::new(Weak::new());

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> PathBuf {
    repo_root().join("scripts/kubo.sh")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Kubo {
    /// The running Kubo of this test binary, started on first use. Fails loudly when the binary
    /// is missing: these tests exist to compare with the real thing, never skip them silently.
    pub fn shared() -> Arc<Kubo> {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kubo) = shared.upgrade() {
            return kubo;
        }
        let kubo = Arc::new(Kubo::start());
        *shared = Arc::downgrade(&kubo);
        kubo
    }

    fn start() -> Kubo {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("ipfs-test-{}-{n}", std::process::id());
        let (api, gateway) = (free_port(), free_port());
        let out = Command::new("bash")
            .arg(script())
            .args(["start", &name, &api.to_string(), &gateway.to_string()])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "scripts/kubo.sh start failed (is Kubo installed? bash scripts/setup.d/10-kubo.sh, or set IPFS_BIN):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Kubo { name, api, gateway }
    }

    /// `POST /api/v0/<command>?<query>`; panics on a non-200 answer (with Kubo's message).
    pub fn rpc(&self, command: &str, query: &str, body: Option<(&str, &[u8])>) -> Vec<u8> {
        let (ctype, bytes) = body.unwrap_or(("text/plain", b""));
        let res = http(
            self.api,
            "POST",
            &format!("/api/v0/{command}?{query}"),
            &[("Content-Type", ctype)],
            bytes,
        );
        assert_eq!(
            res.status,
            200,
            "{command}?{query}: {}",
            String::from_utf8_lossy(&res.body)
        );
        res.body
    }

    /// `add` with every option sent explicitly; returns the NDJSON lines as (Name, Hash, Size token).
    pub fn add(&self, query: &str, parts: &[Part<'_>]) -> Vec<(String, String, String)> {
        let boundary = "sandrun-ipfs-test-boundary-7f3a";
        let body = multipart(boundary, parts);
        let ctype = format!("multipart/form-data; boundary={boundary}");
        let out = self.rpc("add", query, Some((&ctype, &body)));
        String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let field =
                    |key| json_token(line, key).unwrap_or_else(|| panic!("{key} in {line}"));
                (
                    unquote(&field("Name")),
                    unquote(&field("Hash")),
                    field("Size"),
                )
            })
            .collect()
    }

    /// A gateway GET with the given Accept header.
    pub fn gateway_get(&self, path_and_query: &str, accept: &str) -> Response {
        http(
            self.gateway,
            "GET",
            path_and_query,
            &[("Accept", accept)],
            b"",
        )
    }
}

impl Drop for Kubo {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .args(["stop", &self.name])
            .status();
        // The daemon's log stays in .devnode/ only when the test that ended it failed.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(repo_root().join(format!(".devnode/{}.log", self.name)));
        }
    }
}

/// One part of a multipart `add` body: a file with its bytes, or a directory.
pub enum Part<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
}

fn multipart(boundary: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        let (name, ctype, data): (&str, &str, &[u8]) = match part {
            Part::File(name, data) => (name, "application/octet-stream", data),
            Part::Dir(name) => (name, "application/x-directory", b""),
        };
        // Kubo reads the filename URL-escaped (a `/` inside is `%2F`).
        let escaped = name.replace('%', "%25").replace('/', "%2F");
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{escaped}\"\r\nContent-Type: {ctype}\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    body
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The raw JSON token of `"key":` in a one-line object (a quoted string or a bare number): good
/// enough for Kubo's flat answers without pulling a JSON parser into the tests.
pub fn json_token(line: &str, key: &str) -> Option<String> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = line[at..].trim_start();
    let end = if let Some(stripped) = rest.strip_prefix('"') {
        stripped.find('"')? + 2
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].to_string())
}

pub fn unquote(token: &str) -> String {
    token.trim_matches('"').to_string()
}
