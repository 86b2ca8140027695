//! Reading a `Transfer-Encoding: chunked` request body (default mode only; the real worker
//! rejects chunked uploads).

use tokio::io::AsyncRead;

use super::io::{fill, find, READ_TIMEOUT};

#[derive(Debug, PartialEq)]
pub enum ChunkErr {
    TooLarge,
    Bad,
    Io,
}

/// The decoded body: `buf` holds what was already read after the head; bytes after the body stay
/// in it. At most `max` body bytes.
pub async fn read<R: AsyncRead + Unpin>(
    stream: &mut R,
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
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ChunkErr::Bad);
        }
        // A size beyond usize is certainly too large.
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ChunkErr::TooLarge)?;
        if size == 0 {
            // trailers until an empty line
            loop {
                let p = loop {
                    if let Some(p) = find(buf, b"\r\n") {
                        break p;
                    }
                    if buf.len() > 64 * 1024 {
                        return Err(ChunkErr::Bad);
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
        if size > max.saturating_sub(body.len()) {
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
