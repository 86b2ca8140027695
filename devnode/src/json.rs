//! A tiny ordered JSON value and writer. The worker needs what serde_json does not give directly:
//! key order as the real server prints it, numbers printed verbatim (`"cpu_seconds": 0.10`), and
//! the real server's byte-wise `\u00XX` escaping of non-ASCII bytes in `--compat` mode.

#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    I(i64),
    U(u64),
    /// A number printed verbatim (must be valid JSON number text).
    Raw(String),
    S(String),
    /// Bytes a job produced (logs, file names): lossy UTF-8 in default mode, byte-wise escaped in
    /// compat mode (so invalid UTF-8 survives exactly as the real server sends it).
    B(Vec<u8>),
    A(Vec<J>),
    O(Vec<(String, J)>),
}

impl J {
    pub fn obj(fields: Vec<(&str, J)>) -> J {
        J::O(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
    pub fn s(v: impl Into<String>) -> J {
        J::S(v.into())
    }
    pub fn opt_s(v: Option<&str>) -> J {
        v.map(|s| J::S(s.to_string())).unwrap_or(J::Null)
    }
}

/// How strings are escaped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Escape {
    /// Proper UTF-8 JSON (invalid bytes replaced by U+FFFD).
    Utf8,
    /// Every byte >= 0x80 escaped on its own as `\u00XX`, as the real worker does.
    Bytewise,
}

pub fn to_string(v: &J, esc: Escape, pretty: bool) -> String {
    let mut out = String::new();
    write(v, esc, if pretty { Some(0) } else { None }, &mut out);
    out
}

pub fn error_body(msg: &str, esc: Escape) -> Vec<u8> {
    to_string(&J::obj(vec![("error", J::s(msg))]), esc, false).into_bytes()
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(n) = indent {
        out.push('\n');
        for _ in 0..n {
            out.push_str("  ");
        }
    }
}

fn write(v: &J, esc: Escape, indent: Option<usize>, out: &mut String) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::I(i) => out.push_str(&i.to_string()),
        J::U(u) => out.push_str(&u.to_string()),
        J::Raw(r) => out.push_str(r),
        J::S(s) => write_str(s.as_bytes(), esc, out),
        J::B(b) => write_str(b, esc, out),
        J::A(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            let inner = indent.map(|n| n + 1);
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                write(it, esc, inner, out);
            }
            newline(out, indent);
            out.push(']');
        }
        J::O(fields) => {
            if fields.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            let inner = indent.map(|n| n + 1);
            for (i, (k, it)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, inner);
                write_str(k.as_bytes(), esc, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(it, esc, inner, out);
            }
            newline(out, indent);
            out.push('}');
        }
    }
}

fn write_str(bytes: &[u8], esc: Escape, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    let escape_ascii = |b: u8, out: &mut String| match b {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        b if b < 0x20 || b == 0x7f => {
            let _ = write!(out, "\\u{:04x}", b);
        }
        b => out.push(b as char),
    };
    match esc {
        Escape::Bytewise => {
            for &b in bytes {
                if b >= 0x80 {
                    let _ = write!(out, "\\u{:04x}", b);
                } else {
                    escape_ascii(b, out);
                }
            }
        }
        Escape::Utf8 => {
            for c in String::from_utf8_lossy(bytes).chars() {
                if c.is_ascii() {
                    escape_ascii(c as u8, out);
                } else {
                    out.push(c);
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytewise_matches_fixture_style() {
        let v = J::obj(vec![("stdout", J::B("héllo ✓\n".as_bytes().to_vec()))]);
        assert_eq!(
            to_string(&v, Escape::Bytewise, false),
            r#"{"stdout":"h\u00c3\u00a9llo \u00e2\u009c\u0093\n"}"#
        );
        assert_eq!(
            to_string(&v, Escape::Utf8, false),
            "{\"stdout\":\"héllo ✓\\n\"}"
        );
    }

    #[test]
    fn pretty_like_the_server() {
        let v = J::obj(vec![
            ("a", J::Raw("0.10".into())),
            ("b", J::O(vec![])),
            ("c", J::A(vec![J::I(1)])),
        ]);
        assert_eq!(
            to_string(&v, Escape::Utf8, true),
            "{\n  \"a\": 0.10,\n  \"b\": {},\n  \"c\": [\n    1\n  ]\n}"
        );
        let parsed: serde_json::Value =
            serde_json::from_str(&to_string(&v, Escape::Utf8, true)).unwrap();
        assert_eq!(parsed["a"], 0.1);
    }
}
