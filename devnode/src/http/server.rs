//! A small hand-written HTTP/1.1 server and client over tokio sockets. Hand-written so that the
//! `--compat` quirks of the real worker (case-sensitive header names, one request per connection
//! without a `Connection` header, `Unknown` reasons, the truncated 413) can be reproduced exactly,
//! while the default mode behaves like a well-mannered server (keep-alive, CORS preflight,
//! chunked request bodies, `Expect: 100-continue`).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::faults::Faults;
use crate::json::{self, Escape};

const MAX_HEAD: usize = 64 * 1024;
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target exactly as sent (not decoded, query included).
    pub target: String,
    /// Header names as sent (case preserved) and values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: IpAddr,
}

impl Request {
    /// A header value; `exact` compares the name case-sensitively (the real worker's way).
    pub fn header(&self, name: &str, exact: bool) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| {
                if exact {
                    n == name
                } else {
                    n.eq_ignore_ascii_case(name)
                }
            })
            .map(|(_, v)| v.as_str())
    }

    /// Path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

pub type UpgradeFn = Box<dyn FnOnce(TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Routed responses carry `Access-Control-Allow-Origin: *` in compat mode (default mode: all).
    pub cors: bool,
    /// Overrides the Content-Length header and the number of body bytes written (compat 413).
    pub truncate_to: Option<usize>,
    /// Hand the socket over (WebSocket); nothing is written by the server loop.
    pub upgrade: Option<UpgradeFn>,
    /// Close the connection after this response even in keep-alive mode.
    pub close: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &'static str, body: Vec<u8>) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
            cors: true,
            truncate_to: None,
            upgrade: None,
            close: false,
        }
    }
    pub fn json(status: u16, body: String) -> Self {
        Self::new(status, "application/json", body.into_bytes())
    }
    pub fn error(status: u16, msg: &str, esc: Escape) -> Self {
        Self::new(status, "application/json", json::error_body(msg, esc))
    }
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn upgrade(f: UpgradeFn) -> Self {
        let mut r = Self::new(101, "text/plain", Vec::new());
        r.upgrade = Some(f);
        r
    }
}

pub type Handler =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct ServerCfg {
    /// Reproduce the real worker's transport quirks.
    pub compat: bool,
    /// Largest accepted request (head + body) in bytes.
    pub max_request: usize,
    pub faults: Arc<Faults>,
    /// Name used in log lines.
    pub name: &'static str,
}

pub fn reason(status: u16, compat: bool) -> &'static str {
    if compat {
        return match status {
            101 => "Switching Protocols",
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "Unknown",
        };
    }
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Serialises a response head and body.
pub fn render(resp: &Response, compat: bool, keep_alive: bool) -> Vec<u8> {
    let len = resp
        .truncate_to
        .unwrap_or(resp.body.len())
        .min(resp.body.len());
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        resp.status,
        reason(resp.status, compat)
    );
    if resp.status != 204 {
        head.push_str(&format!(
            "Content-Type: {}\r\nContent-Length: {}\r\n",
            resp.content_type, len
        ));
    }
    if compat {
        if resp.cors {
            head.push_str("Access-Control-Allow-Origin: *\r\n");
            // Not sent by the real server; harmless, and needed by cross-origin browser tests.
            head.push_str("Cross-Origin-Resource-Policy: cross-origin\r\n");
        }
    } else {
        head.push_str("Access-Control-Allow-Origin: *\r\n");
        head.push_str("Access-Control-Expose-Headers: Retry-After, Content-Disposition\r\n");
        head.push_str("Cross-Origin-Resource-Policy: cross-origin\r\n");
        head.push_str(if keep_alive {
            "Connection: keep-alive\r\n"
        } else {
            "Connection: close\r\n"
        });
    }
    for (n, v) in &resp.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&resp.body[..len]);
    out
}

/// Accepts connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    cfg: ServerCfg,
    handler: Handler,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => {
                match r {
                    Ok((stream, peer)) => {
                        let (cfg, handler) = (cfg.clone(), handler.clone());
                        tokio::spawn(async move { connection(stream, peer, cfg, handler).await });
                    }
                    Err(e) => {
                        eprintln!("[{}] accept failed: {e}", cfg.name);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

enum Head {
    Ok {
        method: String,
        target: String,
        version: String,
        headers: Vec<(String, String)>,
        len: usize,
    },
    Bad(&'static str),
}

fn parse_head(raw: &[u8]) -> Head {
    let Ok(text) = std::str::from_utf8(raw) else {
        return Head::Bad("Request head is not valid UTF-8");
    };
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Head::Bad("Malformed request line");
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Head::Bad("Malformed request line");
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let Some((n, v)) = line.split_once(':') else {
            return Head::Bad("Malformed header line");
        };
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Head::Ok {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        len: raw.len(),
    }
}

/// Reads more bytes into `buf`; Ok(false) at end of stream.
async fn fill(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(timeout, stream.read(&mut chunk)).await {
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "read timeout",
        )),
        Ok(Err(e)) => Err(e),
        Ok(Ok(0)) => Ok(false),
        Ok(Ok(n)) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(true)
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn write_all(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    matches!(
        tokio::time::timeout(READ_TIMEOUT, stream.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

/// The most a refused request's body is drained before the connection is closed anyway.
const MAX_LINGER_BYTES: usize = 256 * 1024 * 1024;

/// After refusing a request, read (and discard) what the client still sends for a while so that
/// it gets to read the response instead of a reset.
async fn linger(mut stream: TcpStream, max: usize) {
    let _ = stream.shutdown().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    while seen < max {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => seen += n,
            _ => break,
        }
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, cfg: ServerCfg, handler: Handler) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::new();
    let compat = cfg.compat;
    let esc = if compat {
        Escape::Bytewise
    } else {
        Escape::Utf8
    };
    loop {
        // --- head
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            if buf.len() > MAX_HEAD {
                let r = Response::error(431, "Request header too large", esc);
                let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                return;
            }
            let timeout = if buf.is_empty() {
                IDLE_TIMEOUT
            } else {
                READ_TIMEOUT
            };
            match fill(&mut stream, &mut buf, timeout).await {
                Ok(true) => {}
                _ => return,
            }
        };
        let head_bytes: Vec<u8> = buf.drain(..head_end).collect();
        let (method, target, version, headers, head_len) =
            match parse_head(&head_bytes[..head_end - 4]) {
                Head::Ok {
                    method,
                    target,
                    version,
                    headers,
                    len,
                } => (method, target, version, headers, len),
                Head::Bad(msg) => {
                    let mut r = Response::error(400, msg, esc);
                    r.cors = !compat;
                    let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                    return;
                }
            };
        let get = |name: &str| -> Option<&str> {
            headers
                .iter()
                .find(|(n, _)| {
                    if compat {
                        n == name
                    } else {
                        n.eq_ignore_ascii_case(name)
                    }
                })
                .map(|(_, v)| v.as_str())
        };
        let keep_alive = !compat
            && version == "HTTP/1.1"
            && !get("Connection").is_some_and(|v| v.to_ascii_lowercase().contains("close"));
        let chunked = !compat
            && get("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let content_length: Option<usize> = if compat {
            // The real worker finds the length only behind the exact text `Content-Length: `.
            headers
                .iter()
                .find(|(n, _)| n == "Content-Length")
                .and_then(|(_, v)| v.parse().ok())
        } else {
            match get("Content-Length") {
                None => None,
                Some(v) => match v.parse::<usize>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        let r = Response::error(400, "Invalid Content-Length", esc);
                        let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                        return;
                    }
                },
            }
        };
        let declared = content_length.unwrap_or(0);
        if head_len + 4 + declared > cfg.max_request {
            let r = too_large(compat, cfg.max_request);
            let _ = write_all(&mut stream, &render(&r, compat, false)).await;
            // Drain the whole declared body (bounded): closing with unread bytes sends a reset,
            // and the client would see a broken pipe instead of this 413.
            linger(stream, declared.min(MAX_LINGER_BYTES)).await;
            return;
        }
        if !compat && get("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
            // Compat: never answered (clients stall about a second and then send anyway).
            if !write_all(&mut stream, b"HTTP/1.1 100 Continue\r\n\r\n").await {
                return;
            }
        }
        // --- body
        let body = if chunked {
            match read_chunked(
                &mut stream,
                &mut buf,
                cfg.max_request.saturating_sub(head_len),
            )
            .await
            {
                Ok(b) => b,
                Err(ChunkErr::TooLarge) => {
                    let r = too_large(compat, cfg.max_request);
                    let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                    linger(stream, cfg.max_request).await;
                    return;
                }
                Err(ChunkErr::Bad) => {
                    let r = Response::error(400, "Malformed chunked body", esc);
                    let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                    return;
                }
                Err(ChunkErr::Io) => return,
            }
        } else {
            while buf.len() < declared {
                match fill(&mut stream, &mut buf, READ_TIMEOUT).await {
                    Ok(true) => {}
                    _ => return, // client went away mid-upload: nothing was created
                }
            }
            buf.drain(..declared).collect()
        };
        if compat {
            buf.clear(); // one request per connection; anything pipelined is ignored
        }
        // --- faults (worker only), then the `/~scope` segment is routed as if absent
        let fault = cfg.faults.decide(&target);
        let target = crate::faults::strip_scope(&target).unwrap_or(target);
        let req = Request {
            method,
            target,
            headers,
            body,
            peer: peer.ip(),
        };
        if fault.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
        }
        if fault.drop {
            return;
        }
        let resp = if let Some(status) = fault.status {
            // 429 says how long to wait twice, differently: `Retry-After: 1` (default mode) and
            // the real worker's text form, which is all that compat mode sends.
            let msg = if status == 429 {
                "Injected fault: CPU quota exhausted, wait 2 seconds".to_string()
            } else {
                format!("Injected fault: status {status}")
            };
            let mut r = Response::error(status, &msg, esc);
            if status == 429 && !compat {
                r = r.with_header("Retry-After", "1");
            }
            r
        } else if !compat && req.method == "OPTIONS" {
            preflight(&req)
        } else {
            handler(req).await
        };

        if let Some(up) = resp.upgrade {
            up(stream).await;
            return;
        }
        let close = !keep_alive || resp.close;
        if !write_all(&mut stream, &render(&resp, compat, !close)).await {
            return;
        }
        if close {
            let _ = stream.flush().await;
            // Compat: close right away, without a `Connection: close` header (as the real server).
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn too_large(compat: bool, max: usize) -> Response {
    if compat {
        let body = json::error_body("Request too large", Escape::Bytewise);
        let mut r = Response::new(413, "application/json", body);
        r.truncate_to = Some(r.body.len() - 3); // the real server's Content-Length is 3 bytes short
        r.cors = false;
        r
    } else {
        Response::error(
            413,
            &format!("Request too large (limit {max} bytes, headers included)"),
            Escape::Utf8,
        )
    }
}

fn preflight(req: &Request) -> Response {
    let allow_headers = req
        .header("Access-Control-Request-Headers", false)
        .unwrap_or("Content-Type, Authorization")
        .to_string();
    let mut r = Response::new(204, "text/plain", Vec::new())
        .with_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
        .with_header("Access-Control-Allow-Headers", allow_headers)
        .with_header("Access-Control-Max-Age", "600");
    if req
        .header("Access-Control-Request-Private-Network", false)
        .is_some()
    {
        r = r.with_header("Access-Control-Allow-Private-Network", "true");
    }
    r
}

enum ChunkErr {
    TooLarge,
    Bad,
    Io,
}

async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Vec<u8>, ChunkErr> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(p) = find(buf, b"\r\n") {
                break p;
            }
            if buf.len() > 1024 {
                return Err(ChunkErr::Bad);
            }
            if !matches!(fill(stream, buf, READ_TIMEOUT).await, Ok(true)) {
                return Err(ChunkErr::Io);
            }
        };
        let line = String::from_utf8_lossy(&buf[..line_end]).to_string();
        buf.drain(..line_end + 2);
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ChunkErr::Bad)?;
        if size == 0 {
            // trailers until an empty line
            loop {
                let p = loop {
                    if let Some(p) = find(buf, b"\r\n") {
                        break p;
                    }
                    if !matches!(fill(stream, buf, READ_TIMEOUT).await, Ok(true)) {
                        return Err(ChunkErr::Io);
                    }
                };
                buf.drain(..p + 2);
                if p == 0 {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > max {
            return Err(ChunkErr::TooLarge);
        }
        while buf.len() < size + 2 {
            if !matches!(fill(stream, buf, READ_TIMEOUT).await, Ok(true)) {
                return Err(ChunkErr::Io);
            }
        }
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(ChunkErr::Bad);
        }
        buf.drain(..size + 2);
    }
}

// ---------------------------------------------------------------- client

pub struct ClientResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ClientResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `http://host:port[/base]` → (host:port, base path without trailing slash).
pub fn split_endpoint(endpoint: &str) -> Result<(String, String), String> {
    let rest = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint {endpoint:?} must start with http://"))?;
    let (hostport, base) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    Ok((hostport, base.to_string()))
}

/// One request on a fresh connection (`Connection: close`), reading the whole answer.
pub async fn client_request(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<ClientResponse, String> {
    let (hostport, base) = split_endpoint(endpoint)?;
    let fut = async {
        let mut s = TcpStream::connect(&hostport)
            .await
            .map_err(|e| format!("connect {hostport}: {e}"))?;
        let mut head =
            format!("{method} {base}{path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        s.write_all(body).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw)
            .await
            .map_err(|e| format!("read {hostport}: {e}"))?;
        parse_client_response(&raw)
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| format!("{endpoint}{path}: timed out"))?
}

fn parse_client_response(raw: &[u8]) -> Result<ClientResponse, String> {
    let end = find(raw, b"\r\n\r\n").ok_or("incomplete HTTP response")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(ClientResponse {
        status,
        headers,
        body,
    })
}

/// Percent-decodes a path (default mode only; the real worker does not decode).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes each segment of a relative path, keeping `/`.
pub fn percent_encode_path(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
