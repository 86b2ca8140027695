//! Recovering text from the real worker's JSON strings, which escape every byte >= 0x80 on its
//! own (`é` arrives as `\u00c3\u00a9`): after JSON decoding each code unit is one byte.

/// The bytes a JSON-decoded string stands for. A string with a character above U+00FF cannot come
/// from byte-wise escaping (the dev node's default mode sends proper UTF-8), so it is taken as
/// text; one made only of characters up to U+00FF whose bytes form valid UTF-8 is taken as
/// byte-escaped.
pub fn recover_bytes(decoded: &str) -> Vec<u8> {
    if decoded.chars().all(|c| (c as u32) < 0x80) {
        return decoded.as_bytes().to_vec();
    }
    if decoded.chars().any(|c| (c as u32) > 0xFF) {
        return decoded.as_bytes().to_vec();
    }
    let bytes: Vec<u8> = decoded.chars().map(|c| c as u32 as u8).collect();
    if std::str::from_utf8(&bytes).is_ok() {
        bytes
    } else {
        decoded.as_bytes().to_vec()
    }
}

/// `recover_bytes` then UTF-8 decoding (lossy: a job may print invalid UTF-8).
pub fn recover_text(decoded: &str) -> String {
    String::from_utf8_lossy(&recover_bytes(decoded)).into_owned()
}

/// JSON string escaping as the real worker does it: every byte >= 0x80 as its own `\u00XX`.
/// Used by the dev node's compatibility mode.
pub fn escape_bytewise(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\u{:04x}", b)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_logs_recover_utf8() {
        #[derive(serde::Deserialize)]
        struct Logs {
            stdout: String,
            stderr: String,
        }
        let l: Logs =
            serde_json::from_str(include_str!("../fixtures/signed-job/logs.json")).unwrap();
        assert!(recover_text(&l.stdout).contains("unicode: héllo ✓"));
        assert_eq!(recover_text(&l.stderr), "warn: to stderr\n");
    }

    #[test]
    fn proper_utf8_left_alone() {
        assert_eq!(recover_text("héllo ✓"), "héllo ✓");
        assert_eq!(recover_text("plain"), "plain");
    }

    #[test]
    fn escape_roundtrip() {
        let raw = "héllo ✓ \"q\"\n".as_bytes();
        let json = format!("\"{}\"", escape_bytewise(raw));
        assert!(json.contains("\\u00c3\\u00a9"));
        let decoded: String = serde_json::from_str(&json).unwrap();
        assert_eq!(recover_bytes(&decoded), raw);
    }
}
