//! CPU time as the worker prints it into the signed message: C's `%g` (six significant digits).
//!
//! `/status` only shows the figure rounded to two decimals, so a verifier that has nothing better
//! enumerates every `%g` string a microsecond-resolution CPU time within ±0.005 s of the shown
//! figure could print as, and tries each (see [`candidates`]).

/// Formats `v` exactly like C's `printf("%g", v)`.
pub fn format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    // `{:.5e}` rounds to six significant digits; its exponent is the one %g decides with.
    let sci = format!("{:.5e}", v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let mantissa = strip_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (5 - exp) as usize;
        strip_zeros(&format!("{:.*}", decimals, v)).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Every distinct `%g` string of a CPU time with microsecond resolution that rounds to `shown`
/// (two decimals, ±0.005 inclusive), nearest to `shown` first.
pub fn candidates(shown: f64) -> Vec<String> {
    let center = (shown * 1e6).round() as i64;
    let lo = (center - 5_000).max(0);
    let hi = center + 5_000;
    let mut out: Vec<(i64, String)> = Vec::with_capacity(10_001);
    let mut last = String::new();
    for micros in lo..=hi {
        let s = format_g(micros as f64 / 1e6);
        if s != last {
            last.clone_from(&s);
            out.push(((micros - center).abs(), s));
        }
    }
    out.sort_by_key(|(d, _)| *d);
    out.into_iter().map(|(_, s)| s).collect()
}

/// The `%g` string for a CPU time printed with six decimals (`%f`, as in the stream's `[DONE]`
/// line), which pins the signed figure to one candidate.
pub fn from_fixed(fixed: &str) -> Option<String> {
    let v: f64 = fixed.trim().parse().ok()?;
    v.is_finite().then(|| format_g(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_c_printf_g() {
        // Expected strings are what glibc's printf("%g") prints for these values.
        let cases = [
            (0.095498, "0.095498"),
            (9.83132, "9.83132"),
            (0.1, "0.1"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (123456789.0, "1.23457e+08"),
            (12.3456789, "12.3457"),
            (0.999999, "0.999999"),
            (0.9999995, "1"),
            (1.5, "1.5"),
            (2.0, "2"),
            (0.0, "0"),
            (10.0, "10"),
        ];
        for (v, want) in cases {
            assert_eq!(format_g(v), want, "format_g({v})");
        }
    }

    #[test]
    fn candidates_cover_the_fixture_cpu() {
        // The fixture's /status shows 0.10; the signed figure was 0.095498.
        let c = candidates(0.10);
        assert!(c.iter().any(|s| s == "0.095498"));
        assert_eq!(c[0], "0.1");
        assert!(c.len() > 9_000 && c.len() <= 10_001, "{}", c.len());
        // Large values have fewer digits after the point, so fewer distinct strings.
        assert!(candidates(12.34).len() < 200);
    }

    #[test]
    fn fixed_to_g() {
        assert_eq!(from_fixed("0.087581").as_deref(), Some("0.087581"));
        assert_eq!(from_fixed("9.831320").as_deref(), Some("9.83132"));
        assert_eq!(from_fixed("x"), None);
    }
}
