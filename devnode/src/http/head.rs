//! Parsing a request head (request line and header lines), as sent by any client.

#[derive(Debug, PartialEq)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: String,
    /// Names as sent (case preserved), values trimmed.
    pub headers: Vec<(String, String)>,
}

/// Reads the head's bytes (without the blank line that ends it). The error is the 400 message.
pub fn parse(raw: &[u8]) -> Result<Head, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "Request head is not valid UTF-8")?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("Malformed request line");
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err("Malformed request line");
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let Some((n, v)) = line.split_once(':') else {
            return Err("Malformed header line");
        };
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Ok(Head {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
    })
}
