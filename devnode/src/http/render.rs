//! Writing a response head and body, with the real worker's reason phrases and header set in
//! compat mode.

use super::message::Response;

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
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
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
