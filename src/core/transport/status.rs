//! A worker's error answers read into errors: the status decides the code, the body's `error`
//! text (byte-escaped by the real worker) becomes the message and cause, and a 429's wait is read
//! from `Retry-After` or, as the real worker gives it, from the text.

use crate::core::boundary::error::{Code, SdkError};
use crate::core::boundary::js::string;
use crate::core::boundary::platform::Response;

/// JSON bytes → a JS value, through the host's `JSON.parse` (no JSON parser in the wasm).
pub fn parse_json(bytes: &[u8]) -> std::result::Result<wasm_bindgen::JsValue, &'static str> {
    js_sys::JSON::parse(&String::from_utf8_lossy(bytes)).map_err(|_| "not JSON")
}

pub fn status_error(op: &'static str, res: &Response) -> SdkError {
    let text = parse_json(&res.body)
        .ok()
        .and_then(|v| string(&v, "error"))
        .map(|e| {
            sandrun_protocol::text::recover_text(&e, sandrun_protocol::text::is_bytewise(&res.body))
        })
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&res.body)
                .chars()
                .take(200)
                .collect()
        });
    let mut e = match res.status {
        404 => SdkError::new(Code::NotFound, format!("{op}: not found ({text})")),
        429 => {
            let mut e = SdkError::new(
                Code::RateLimited,
                format!("{op}: rate limited by the server: {text}"),
            );
            e.context.retry_after_ms = retry_after_ms(res.header("Retry-After"), &text);
            e
        }
        413 => SdkError::new(
            Code::Http,
            format!("{op}: the server refused the request as too large (the worker takes up to 100 MiB)"),
        )
        .retryable(false),
        s => SdkError::new(Code::Http, format!("{op}: the server answered {s}: {text}"))
            .retryable(s >= 500),
    };
    e.context.status = Some(res.status);
    e.cause(text)
}

/// Milliseconds to wait, from a `Retry-After` header (seconds) or the error text
/// (`CPU quota exhausted, wait 45 seconds`). Integer parsing only: both are whole seconds, and
/// float parsing would add 4 KiB to the wasm.
pub fn retry_after_ms(header: Option<&str>, error_text: &str) -> Option<f64> {
    if let Some(secs) = header.and_then(|h| h.trim().parse::<u32>().ok()) {
        return Some(secs as f64 * 1000.0);
    }
    let rest = &error_text[sandrun_protocol::text::find(error_text, "wait ")? + 5..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u32 = digits.parse().ok()?;
    rest[digits.len()..]
        .trim_start()
        .starts_with("second")
        .then_some(n as f64 * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_wins_then_text() {
        assert_eq!(retry_after_ms(Some("3"), "wait 45 seconds"), Some(3000.0));
        assert_eq!(
            retry_after_ms(None, "CPU quota exhausted, wait 45 seconds"),
            Some(45_000.0)
        );
        assert_eq!(
            retry_after_ms(None, "Max concurrent jobs reached (2)"),
            None
        );
        assert_eq!(retry_after_ms(Some("soon"), "wait 2 seconds"), Some(2000.0));
        assert_eq!(retry_after_ms(None, "wait 2 minutes"), None);
    }
}
