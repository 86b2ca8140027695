//! Recovering text from the real worker's JSON strings, which escape every byte >= 0x80 on its
//! own (`é` arrives as `\u00c3\u00a9`): after JSON decoding each code unit is one byte.

/// Whether a JSON body was written with the real worker's byte-wise escaping. Such a body is pure
/// ASCII (every byte >= 0x80 escaped on its own), whereas the dev node's default mode sends raw
/// UTF-8; a pure-ASCII body with no escapes reads the same either way. Decided on the raw body,
/// not the decoded strings, because a job may print bytes that are not UTF-8 at all.
pub fn is_bytewise(raw_body: &[u8]) -> bool {
    raw_body.is_ascii()
}

/// The bytes a JSON-decoded string stands for: with `bytewise` (see [`is_bytewise`]) each code
/// unit is one byte, otherwise the string is text.
pub fn recover_bytes(decoded: &str, bytewise: bool) -> Vec<u8> {
    if bytewise && decoded.chars().all(|c| (c as u32) <= 0xFF) {
        decoded.chars().map(|c| c as u32 as u8).collect()
    } else {
        decoded.as_bytes().to_vec()
    }
}

/// `recover_bytes` then UTF-8 decoding (lossy: a job may print invalid UTF-8).
pub fn recover_text(decoded: &str, bytewise: bool) -> String {
    String::from_utf8_lossy(&recover_bytes(decoded, bytewise)).into_owned()
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
    #[test]
    fn find_agrees_with_str_find() {
        for (text, needle) in [
            ("a wait 5", "wait "),
            ("", ""),
            ("abc", ""),
            ("ab", "abc"),
            ("ééx", "éx"),
            ("xx", "x"),
        ] {
            assert_eq!(
                super::find(text, needle),
                text.find(needle),
                "{text:?} {needle:?}"
            );
        }
    }

    use super::*;

    #[test]
    fn fixture_logs_recover_utf8() {
        #[derive(serde::Deserialize)]
        struct Logs {
            stdout: String,
            stderr: String,
        }
        let raw = include_str!("../fixtures/signed-job/logs.json");
        assert!(is_bytewise(raw.as_bytes()));
        let l: Logs = serde_json::from_str(raw).unwrap();
        assert!(recover_text(&l.stdout, true).contains("unicode: héllo ✓"));
        assert_eq!(recover_text(&l.stderr, true), "warn: to stderr\n");
    }

    #[test]
    fn proper_utf8_left_alone() {
        let body = r#"{"stdout":"héllo ✓"}"#;
        assert!(!is_bytewise(body.as_bytes()));
        assert_eq!(recover_text("héllo ✓", false), "héllo ✓");
        assert_eq!(recover_text("plain", true), "plain");
    }

    #[test]
    fn invalid_utf8_from_the_job_stays_readable_around_it() {
        let raw = b"ok before\n\xff\xfe\nok after \xc3\xa9\n";
        let json = format!("\"{}\"", escape_bytewise(raw));
        assert!(is_bytewise(json.as_bytes()));
        let decoded: String = serde_json::from_str(&json).unwrap();
        assert_eq!(recover_bytes(&decoded, true), raw);
        assert_eq!(
            recover_text(&decoded, true),
            "ok before\n\u{fffd}\u{fffd}\nok after é\n"
        );
    }

    #[test]
    fn escape_roundtrip() {
        let raw = "héllo ✓ \"q\"\n".as_bytes();
        let json = format!("\"{}\"", escape_bytewise(raw));
        assert!(json.contains("\\u00c3\\u00a9"));
        let decoded: String = serde_json::from_str(&json).unwrap();
        assert_eq!(recover_bytes(&decoded, true), raw);
    }
}

/// Where `needle` first occurs in `text` (byte offset). The one substring search of the SDK's wasm:
/// `str::find` with a `&str` pattern brings the two-way searcher (about 2 KB of wasm) for the
/// few short needles of the protocol.
pub fn find(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    text.as_bytes()
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}
