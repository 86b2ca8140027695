//! How long a 429 asks the client to wait. The dev node sends `Retry-After`; the real worker only
//! puts it in the error text (`CPU quota exhausted, wait 45 seconds`).

/// Milliseconds to wait, from a `Retry-After` header (seconds) or the error text. Integer
/// parsing only: both are whole seconds, and float parsing would add 4 KiB to the wasm.
pub fn retry_after_ms(header: Option<&str>, error_text: &str) -> Option<f64> {
    if let Some(secs) = header.and_then(|h| h.trim().parse::<u32>().ok()) {
        return Some(secs as f64 * 1000.0);
    }
    let rest = &error_text[error_text.find("wait ")? + 5..];
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
