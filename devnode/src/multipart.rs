//! multipart/form-data parsing, strict (compat: the real worker's exact header text) or lenient.

#[derive(Debug)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.trim_start().starts_with("multipart/form-data") {
        return None;
    }
    let i = lower.find("boundary=")?;
    let raw = &content_type[i + 9..];
    let b = raw.split(';').next().unwrap_or("").trim().trim_matches('"');
    (!b.is_empty()).then(|| b.to_string())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Splits the body into parts. `compat`: a part is read only if its header is exactly
/// `Content-Disposition: form-data; name="…"` (optionally `; filename="…"` after the name).
pub fn parse(body: &[u8], boundary: &str, compat: bool) -> Result<Vec<Part>, String> {
    let delim = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let Some(mut pos) = find(body, &delim, 0) else {
        return Err("no multipart boundary found in the body".into());
    };
    loop {
        pos += delim.len();
        if body[pos..].starts_with(b"--") {
            break; // final boundary
        }
        // skip the CRLF after the boundary line
        if body[pos..].starts_with(b"\r\n") {
            pos += 2;
        } else {
            return Err("malformed multipart boundary line".into());
        }
        let Some(head_end) = find(body, b"\r\n\r\n", pos) else {
            return Err("multipart part without headers end".into());
        };
        let head = String::from_utf8_lossy(&body[pos..head_end]).to_string();
        let data_start = head_end + 4;
        let mut end_delim = b"\r\n".to_vec();
        end_delim.extend_from_slice(&delim);
        let Some(data_end) = find(body, &end_delim, data_start) else {
            return Err("multipart body is truncated (no closing boundary)".into());
        };
        if let Some((name, filename)) = disposition(&head, compat) {
            parts.push(Part {
                name,
                filename,
                data: body[data_start..data_end].to_vec(),
            });
        }
        pos = data_end + 2;
    }
    Ok(parts)
}

fn disposition(head: &str, compat: bool) -> Option<(String, Option<String>)> {
    for line in head.split("\r\n") {
        if compat {
            let Some(rest) = line.strip_prefix("Content-Disposition: form-data; name=\"") else {
                continue;
            };
            let end = rest.find('"')?;
            let name = rest[..end].to_string();
            let after = &rest[end + 1..];
            let filename = after.find("filename=\"").and_then(|i| {
                let r = &after[i + 10..];
                r.find('"').map(|e| r[..e].to_string())
            });
            return Some((name, filename));
        }
        let (n, v) = line.split_once(':')?;
        if !n.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        let mut name = None;
        let mut filename = None;
        for param in split_params(v) {
            let param = param.trim();
            if let Some((k, val)) = param.split_once('=') {
                let val = val.trim();
                let val = val
                    .strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(val);
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(val.to_string()),
                    "filename" => filename = Some(val.to_string()),
                    _ => {}
                }
            }
        }
        return name.map(|n| (n, filename));
    }
    None
}

/// Splits on `;` outside quotes.
fn split_params(v: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in v.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&v[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&v[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(disp: &str) -> Vec<u8> {
        format!(
            "--XX\r\n{disp}\r\nContent-Type: application/octet-stream\r\n\r\nDATA\r\n--XX--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn strict_and_lenient() {
        let b = body("Content-Disposition: form-data; name=\"files\"; filename=\"a.tar.gz\"");
        let p = parse(&b, "XX", true).unwrap();
        assert_eq!(
            (p[0].name.as_str(), p[0].filename.as_deref(), &p[0].data[..]),
            ("files", Some("a.tar.gz"), &b"DATA"[..])
        );
        let b = body("content-disposition: form-data; filename=\"a.py\"; name=\"files\"");
        assert!(parse(&b, "XX", true).unwrap().is_empty());
        let p = parse(&b, "XX", false).unwrap();
        assert_eq!(p[0].filename.as_deref(), Some("a.py"));
        assert_eq!(
            boundary("multipart/form-data; boundary=\"abc\""),
            Some("abc".into())
        );
        assert!(parse(
            b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nxx",
            "XX",
            false
        )
        .is_err());
    }
}
