//! The connection loop: read a request (head, then a `Content-Length` or chunked body), apply the
//! injected faults, hand it to the handler and write the answer; keep-alive in default mode, one
//! request per connection in compat mode.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::chunked::{self, ChunkErr};
use super::head;
use super::io::{fill, find, READ_TIMEOUT};
use super::message::{Handler, Request, Response};
use super::render::render;
use crate::faults::{self, Faults};
use crate::json::{self, Escape};

const MAX_HEAD: usize = 64 * 1024;
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

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
        let head = match head::parse(&head_bytes[..head_end - 4]) {
            Ok(h) => h,
            Err(msg) => {
                let mut r = Response::error(400, msg, esc);
                r.cors = !compat;
                let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                return;
            }
        };
        let get = |name: &str| -> Option<&str> {
            head.headers
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
            && head.version == "HTTP/1.1"
            && !get("Connection").is_some_and(|v| v.to_ascii_lowercase().contains("close"));
        let chunked = !compat
            && get("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        // The real worker finds the length only behind the exact text `Content-Length: `: with
        // compat, `get` compares names exactly and a bad number counts as no length.
        let content_length: Option<usize> = match get("Content-Length") {
            None => None,
            Some(v) => match v.parse::<usize>() {
                Ok(n) => Some(n),
                Err(_) if compat => None,
                Err(_) => {
                    let r = Response::error(400, "Invalid Content-Length", esc);
                    let _ = write_all(&mut stream, &render(&r, compat, false)).await;
                    return;
                }
            },
        };
        let declared = content_length.unwrap_or(0);
        if head_end.saturating_add(declared) > cfg.max_request {
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
            let max = cfg.max_request.saturating_sub(head_end);
            match chunked::read(&mut stream, &mut buf, max).await {
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
        let fault = cfg.faults.decide(&head.target);
        let target = faults::strip_scope(&head.target).unwrap_or(head.target);
        let req = Request {
            method: head.method,
            target,
            headers: head.headers,
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
