//! JSON as the dev node's servers write it: serde_json with the worker's two extra needs.
//!
//! - `--compat` escapes every byte >= 0x80 on its own as `\u00XX`, as the real worker does
//!   ([`Escape::Bytewise`], a formatter around serde_json's own);
//! - text a job printed ([`JobText`]) may be invalid UTF-8; compat mode sends its bytes exactly,
//!   default mode replaces invalid sequences with U+FFFD.
//!
//! Key order is the order of a body's struct fields; numbers the real worker prints with a fixed
//! number of decimals go as [`fixed2`] / [`round2`] (raw number text).

use std::io;

use sandrun_protocol::text::escape_bytewise;
use serde::{Serialize, Serializer};
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use serde_json::value::RawValue;

/// How strings are escaped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Escape {
    /// Proper UTF-8 JSON.
    Utf8,
    /// Every byte >= 0x80 escaped on its own as `\u00XX`, as the real worker does.
    Bytewise,
}

/// `value` as JSON text (`pretty`: two-space indent and `": "`, as the worker's `/status`).
pub fn to_string<T: Serialize + ?Sized>(value: &T, esc: Escape, pretty: bool) -> String {
    let pretty_f = || PrettyFormatter::with_indent(b"  ");
    let out = match (esc, pretty) {
        (Escape::Utf8, false) => write(value, CompactFormatter),
        (Escape::Utf8, true) => write(value, pretty_f()),
        (Escape::Bytewise, false) => write(value, Bytewise(CompactFormatter)),
        (Escape::Bytewise, true) => write(value, Bytewise(pretty_f())),
    };
    // Both formatters write ASCII or the UTF-8 of `str`s.
    String::from_utf8(out).unwrap_or_default()
}

fn write<T: Serialize + ?Sized, F: Formatter>(value: &T, f: F) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, f);
    if value.serialize(&mut ser).is_err() {
        // Only a map with non-string keys or bad raw number text could fail; bodies have neither.
        return br#"{"error":"internal error: unserialisable body"}"#.to_vec();
    }
    out
}

/// `{"error": msg}`.
pub fn error_body(msg: &str, esc: Escape) -> Vec<u8> {
    #[derive(Serialize)]
    struct E<'a> {
        error: &'a str,
    }
    to_string(&E { error: msg }, esc, false).into_bytes()
}

/// Bytes a job produced (its stdout or stderr), written per [`Escape`].
pub struct JobText<'a>(pub &'a [u8], pub Escape);

impl Serialize for JobText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Escape::Utf8 => s.serialize_str(&String::from_utf8_lossy(self.0)),
            // Raw JSON text: a `str` cannot carry bytes that are not UTF-8.
            Escape::Bytewise => raw(format!("\"{}\"", escape_bytewise(self.0))).serialize(s),
        }
    }
}

fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::from_string("null".into()).unwrap())
}

/// A number with exactly two decimals (`0.10`), as the worker prints `cpu_seconds`.
pub fn fixed2(v: f64) -> Box<RawValue> {
    raw(format!("{:.2}", finite(v)))
}

/// A number rounded to two decimals and printed shortest (`10`, `0.5`), as the worker prints its
/// quota figures.
pub fn round2(v: f64) -> Box<RawValue> {
    raw(format!("{}", (finite(v) * 100.0).round() / 100.0))
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// serde_json's formatter `F` with strings escaped byte by byte. serde_json hands string
/// contents over in fragments that need no escaping, and escapes `"`, `\` and control
/// characters itself; a fragment's bytes >= 0x80 are escaped here.
struct Bytewise<F>(F);

impl<F: Formatter> Formatter for Bytewise<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        f: &str,
    ) -> io::Result<()> {
        w.write_all(escape_bytewise(f.as_bytes()).as_bytes())
    }
    // The layout (compact or pretty) is the inner formatter's.
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Logs<'a> {
        stdout: JobText<'a>,
        name: &'a str,
    }

    #[test]
    fn bytewise_matches_fixture_style() {
        let out = "héllo ✓\n".as_bytes();
        let v = Logs {
            stdout: JobText(out, Escape::Bytewise),
            name: "é\"",
        };
        assert_eq!(
            to_string(&v, Escape::Bytewise, false),
            r#"{"stdout":"h\u00c3\u00a9llo \u00e2\u009c\u0093\n","name":"\u00c3\u00a9\""}"#
        );
        let v = Logs {
            stdout: JobText(out, Escape::Utf8),
            name: "é\"",
        };
        assert_eq!(
            to_string(&v, Escape::Utf8, false),
            "{\"stdout\":\"héllo ✓\\n\",\"name\":\"é\\\"\"}"
        );
        // Invalid UTF-8 survives byte-wise, and is replaced in proper UTF-8.
        let bad = JobText(b"\xff", Escape::Bytewise);
        assert_eq!(to_string(&bad, Escape::Bytewise, false), r#""\u00ff""#);
        let bad = JobText(b"\xff", Escape::Utf8);
        assert_eq!(to_string(&bad, Escape::Utf8, false), "\"\u{fffd}\"");
    }

    #[test]
    fn pretty_like_the_server() {
        #[derive(Serialize)]
        struct V {
            a: Box<RawValue>,
            b: Empty,
            c: Vec<u8>,
        }
        #[derive(Serialize)]
        struct Empty {}
        let v = V {
            a: fixed2(0.1),
            b: Empty {},
            c: vec![1],
        };
        let text = to_string(&v, Escape::Bytewise, true);
        assert_eq!(
            text,
            "{\n  \"a\": 0.10,\n  \"b\": {},\n  \"c\": [\n    1\n  ]\n}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["a"], 0.1);
        assert_eq!(round2(10.0).get(), "10");
        assert_eq!(round2(0.456).get(), "0.46");
        assert_eq!(fixed2(f64::NAN).get(), "0.00");
    }
}
