//! Minimal server-side WebSocket (RFC 6455): handshake, unfragmented text frames out, masked
//! frames in (close / ping handled, the rest ignored).

use sandrun_protocol::b64;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

pub fn accept_key(key: &str) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    b64::encode(&h.digest().bytes())
}

pub fn handshake_response(key: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )
}

pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 10);
    f.push(0x80 | opcode);
    let n = payload.len();
    if n < 126 {
        f.push(n as u8);
    } else if n <= u16::MAX as usize {
        f.push(126);
        f.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        f.push(127);
        f.extend_from_slice(&(n as u64).to_be_bytes());
    }
    f.extend_from_slice(payload);
    f
}

pub fn close_frame(code: u16) -> Vec<u8> {
    frame(0x8, &code.to_be_bytes())
}

/// What the peer did.
#[derive(Debug)]
pub enum Incoming {
    /// A close frame arrived (we must answer it) or the connection ended.
    Closed {
        got_close_frame: bool,
    },
    Ping(Vec<u8>),
}

/// Reads client frames and reports closes and pings; ends at the first close or error.
pub async fn reader(mut rd: OwnedReadHalf, tx: mpsc::UnboundedSender<Incoming>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // parse as many frames as buffered
        while let Some((opcode, payload, used)) = parse_frame(&buf) {
            buf.drain(..used);
            match opcode {
                0x8 => {
                    let _ = tx.send(Incoming::Closed {
                        got_close_frame: true,
                    });
                    return;
                }
                0x9 => {
                    let _ = tx.send(Incoming::Ping(payload));
                }
                _ => {}
            }
        }
        if buf.len() > 1 << 20 {
            let _ = tx.send(Incoming::Closed {
                got_close_frame: false,
            });
            return;
        }
        match rd.read(&mut chunk).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => {
                let _ = tx.send(Incoming::Closed {
                    got_close_frame: false,
                });
                return;
            }
        }
    }
}

/// One frame at the start of `b`: (opcode, unmasked payload, bytes used); None until complete.
pub fn parse_frame(b: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if b.len() < 2 {
        return None;
    }
    let opcode = b[0] & 0x0f;
    let masked = b[1] & 0x80 != 0;
    let mut len = (b[1] & 0x7f) as usize;
    let mut pos = 2;
    if len == 126 {
        if b.len() < 4 {
            return None;
        }
        len = u16::from_be_bytes([b[2], b[3]]) as usize;
        pos = 4;
    } else if len == 127 {
        if b.len() < 10 {
            return None;
        }
        len = usize::try_from(u64::from_be_bytes(b[2..10].try_into().ok()?)).ok()?;
        pos = 10;
    }
    let mask = if masked {
        if b.len() < pos + 4 {
            return None;
        }
        let m = [b[pos], b[pos + 1], b[pos + 2], b[pos + 3]];
        pos += 4;
        Some(m)
    } else {
        None
    };
    // A length beyond the buffer waits for more (the reader gives up past 1 MiB).
    if b.len() < pos.checked_add(len)? {
        return None;
    }
    let mut payload = b[pos..pos + len].to_vec();
    if let Some(m) = mask {
        for (i, x) in payload.iter_mut().enumerate() {
            *x ^= m[i % 4];
        }
    }
    Some((opcode, payload, pos + len))
}

/// Write side of an accepted WebSocket.
pub struct WsWriter {
    pub wr: OwnedWriteHalf,
    pub closed: bool,
}

impl WsWriter {
    pub async fn text(&mut self, payload: &[u8]) -> bool {
        if self.closed {
            return false;
        }
        self.wr.write_all(&frame(0x1, payload)).await.is_ok()
    }
    pub async fn pong(&mut self, payload: &[u8]) -> bool {
        self.wr.write_all(&frame(0xA, payload)).await.is_ok()
    }
    pub async fn close(&mut self, code: u16) {
        if !self.closed {
            self.closed = true;
            let _ = self.wr.write_all(&close_frame(code)).await;
        }
    }
}

/// Completes the handshake and splits the socket.
pub async fn accept(
    mut stream: TcpStream,
    key: &str,
) -> Option<(WsWriter, mpsc::UnboundedReceiver<Incoming>)> {
    stream
        .write_all(handshake_response(key).as_bytes())
        .await
        .ok()?;
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(reader(rd, tx));
    Some((WsWriter { wr, closed: false }, rx))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_example_key() {
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
