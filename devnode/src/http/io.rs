//! Reading from a socket into a buffer with a timeout, and finding bytes in it.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// How long a client may pause in the middle of a request.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads more bytes into `buf`; Ok(false) at end of stream.
pub async fn fill<R: AsyncRead + Unpin>(
    stream: &mut R,
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

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
