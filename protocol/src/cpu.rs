//! CPU time as the worker prints it into the signed message: C's `%g` (six significant digits).
//!
//! `/status` only shows the figure rounded to two decimals, so a verifier that has nothing better
//! enumerates every `%g` string a microsecond-resolution CPU time within ±0.005 s of the shown
//! figure could print as, and tries each (see [`candidates`]).

/// Formats `v` exactly like C's `printf("%g", v)`.
pub fn format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
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

/// The `%g` strings a CPU time of `micros` microseconds can print as. Integer arithmetic only
/// (no float formatting code in the wasm SDK). Usually one string; two when the seventh
/// significant digit is an exact tie, because the result then depends on how the server computed
/// its double (`sec + usec / 1e6` or otherwise), which rounds it up or down.
pub fn format_g_micros(micros: u64) -> Vec<String> {
    if micros == 0 {
        return vec!["0".into()];
    }
    let digits = micros.to_string();
    let len = digits.len() as i32;
    // micros × 10^-6: the leading digit's exponent.
    let exp = len - 7;
    if len <= 6 {
        return vec![render(&digits, exp)];
    }
    let drop = 10u64.pow((len - 6) as u32);
    let (q, r, half) = (micros / drop, micros % drop, drop / 2);
    let rounded = |q: u64| {
        if q == 1_000_000 {
            render("100000", exp + 1)
        } else {
            render(&q.to_string(), exp)
        }
    };
    match r.cmp(&half) {
        std::cmp::Ordering::Less => vec![rounded(q)],
        std::cmp::Ordering::Greater => vec![rounded(q + 1)],
        // Round half to even first: that is what an exact tie gives.
        std::cmp::Ordering::Equal if q % 2 == 0 => vec![rounded(q), rounded(q + 1)],
        std::cmp::Ordering::Equal => vec![rounded(q + 1), rounded(q)],
    }
}

/// `%g` layout of significant digits `sig` (first digit at 10^exp): fixed notation for
/// -4 <= exp < 6, else `d.ddde±XX`; trailing zeros dropped.
fn render(sig: &str, exp: i32) -> String {
    let sig = sig.trim_end_matches('0');
    let sig = if sig.is_empty() { "0" } else { sig };
    if !(-4..6).contains(&exp) {
        let (first, rest) = sig.split_at(1);
        let sign = if exp < 0 { '-' } else { '+' };
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    if exp < 0 {
        return format!("0.{}{sig}", "0".repeat((-exp - 1) as usize));
    }
    let int_len = exp as usize + 1;
    if sig.len() <= int_len {
        format!("{sig}{}", "0".repeat(int_len - sig.len()))
    } else {
        format!("{}.{}", &sig[..int_len], &sig[int_len..])
    }
}

/// Every `%g` string a microsecond-resolution CPU time that `/status` shows as `shown` (two
/// decimals, so ±0.005 s) could have printed as, nearest to `shown` first.
pub fn candidates(shown: f64) -> Vec<String> {
    let center = (shown * 1e6).round().max(0.0) as u64;
    let side = |micros: &mut dyn Iterator<Item = u64>| {
        let mut out: Vec<String> = Vec::new();
        for m in micros {
            for s in format_g_micros(m) {
                // Monotonic in `m`, so a repeat can only be among the last two (a tie's pair).
                if !out.iter().rev().take(2).any(|o| *o == s) {
                    out.push(s);
                }
            }
        }
        out
    };
    let up = side(&mut (center..=center + 5_000));
    let down = side(&mut (center.saturating_sub(5_000)..center).rev());
    let mut out = Vec::with_capacity(up.len() + down.len());
    let (mut u, mut d) = (up.into_iter(), down.into_iter());
    loop {
        match (u.next(), d.next()) {
            (None, None) => break,
            // The two sides meet only at the centre, where both may start with the same string.
            (a, b) => {
                for s in a.into_iter().chain(b) {
                    if out.len() > 2 || !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
    }
    out
}

/// The `%g` strings for a CPU time printed with six decimals (`%f`, as in the stream's `[DONE]`
/// line), which pin the signed figure.
pub fn from_fixed(fixed: &str) -> Vec<String> {
    let (int, frac) = fixed.trim().split_once('.').unwrap_or((fixed.trim(), ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
    {
        return vec![];
    }
    let (Ok(int), Ok(frac)) = (int.parse::<u64>(), format!("{frac:0<6}").parse::<u64>()) else {
        return vec![];
    };
    int.checked_mul(1_000_000)
        .and_then(|i| i.checked_add(frac))
        .map(format_g_micros)
        .unwrap_or_default()
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
    fn integer_g_agrees_with_float_g() {
        // Every value up to 0.4 s, then strides up to 10^6 s: the integer rendering must
        // give what C's %g gives for the double (first candidate, or the second at exact ties).
        let check = |m: u64| {
            let want = format_g(m as f64 / 1e6);
            let got = format_g_micros(m);
            assert!(got.contains(&want), "{m} µs: %g {want}, integer {got:?}");
            assert!(got.len() == 1 || m.is_multiple_of(5), "{m}: {got:?}");
        };
        (0..400_000)
            .chain((400_000..12_000_000).step_by(37))
            .for_each(check);
        (12_000_000..1_000_000_000_000u64)
            .step_by(77_777_777)
            .for_each(check);
        for m in [
            9_999_995,
            99_999_950,
            999_999_500,
            1,
            10,
            100,
            1000,
            100_000_000_000,
        ] {
            check(m);
        }
        assert_eq!(format_g_micros(12_345_650), ["12.3456", "12.3457"]);
    }

    #[test]
    fn fixed_to_g() {
        assert_eq!(from_fixed("0.087581"), ["0.087581"]);
        assert_eq!(from_fixed("9.831320"), ["9.83132"]);
        assert!(
            from_fixed("x").is_empty()
                && from_fixed("-1.0").is_empty()
                && from_fixed("1.1234567").is_empty()
        );
    }
}
