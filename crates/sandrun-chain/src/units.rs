//! Amounts as decimal strings, never floats: `parse_ether("0.1")`, `parse_units("1.5 gwei")`,
//! `format_ether(wei)`.
//!
//! Our own small parser rather than `alloy_primitives::utils::parse_units`: that one accepts
//! signed amounts ("-1" parses) and reports too many decimals and overflow alike as one generic
//! error, while the SDK must refuse a negative amount and say which rule the input broke.

use alloy_primitives::U256;
use core::fmt;

/// The units an amount may be written in, with their decimals.
pub const UNITS: &[(&str, u8)] = &[("wei", 0), ("gwei", 9), ("ether", 18), ("eth", 18)];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitsError {
    Empty,
    Negative,
    /// Not `digits[.digits]` (after an optional unit).
    NotADecimal(String),
    TooManyDecimals {
        decimals: usize,
        max: u8,
    },
    UnknownUnit(String),
    /// More than 2^256 - 1 wei.
    Overflow,
}

impl fmt::Display for UnitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "empty amount"),
            Self::Negative => write!(f, "negative amount"),
            Self::NotADecimal(s) => write!(f, "not a decimal amount: {s:?}"),
            Self::TooManyDecimals { decimals, max } => {
                write!(f, "{decimals} decimals, the unit allows {max}")
            }
            Self::UnknownUnit(u) => {
                write!(f, "unknown unit {u:?} (wei, gwei, ether)")
            }
            Self::Overflow => write!(f, "amount above 2^256 - 1 wei"),
        }
    }
}

impl std::error::Error for UnitsError {}

/// `"0.1"` ether → wei.
pub fn parse_ether(amount: &str) -> Result<U256, UnitsError> {
    parse_decimal(amount, 18)
}

/// `"1.5 gwei"`, `"0.01 ether"`, `"21000 wei"` → wei. A bare number is wei.
pub fn parse_units(amount: &str) -> Result<U256, UnitsError> {
    let amount = amount.trim();
    let (number, unit) = match amount.split_once(char::is_whitespace) {
        Some((number, unit)) => (number, unit.trim()),
        None => (amount, "wei"),
    };
    parse_decimal(number, unit_decimals(unit)?)
}

/// The decimals of a unit name (case-insensitive).
pub fn unit_decimals(unit: &str) -> Result<u8, UnitsError> {
    UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|&(_, decimals)| decimals)
        .ok_or_else(|| UnitsError::UnknownUnit(unit.to_string()))
}

/// `digits[.digits]` × 10^decimals, exactly.
pub fn parse_decimal(amount: &str, decimals: u8) -> Result<U256, UnitsError> {
    let s = amount.trim();
    if s.is_empty() {
        return Err(UnitsError::Empty);
    }
    if s.starts_with('-') {
        return Err(UnitsError::Negative);
    }
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(UnitsError::NotADecimal(s.to_string()));
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > usize::from(decimals) {
        return Err(UnitsError::TooManyDecimals {
            decimals: fraction.len(),
            max: decimals,
        });
    }
    let mut wei = U256::ZERO;
    let padding = usize::from(decimals) - fraction.len();
    for b in whole
        .bytes()
        .chain(fraction.bytes())
        .chain(core::iter::repeat_n(b'0', padding))
    {
        wei = wei
            .checked_mul(U256::from(10u8))
            .and_then(|w| w.checked_add(U256::from(b - b'0')))
            .ok_or(UnitsError::Overflow)?;
    }
    Ok(wei)
}

/// wei → ether as a decimal string without trailing zeros (`"0.1"`, `"1"`, `"0.000000001"`).
pub fn format_ether(wei: U256) -> String {
    format_decimal(wei, 18)
}

/// wei → `amount / 10^decimals` as a decimal string without trailing zeros.
pub fn format_decimal(wei: U256, decimals: u8) -> String {
    let digits = wei.to_string();
    let decimals = usize::from(decimals);
    let (whole, fraction) = if digits.len() > decimals {
        digits.split_at(digits.len() - decimals)
    } else {
        ("0", digits.as_str())
    };
    let fraction = format!("{fraction:0>decimals$}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wei(s: &str) -> U256 {
        s.parse().unwrap()
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse_ether("0.1"), Ok(wei("100000000000000000")));
        assert_eq!(parse_ether("1"), Ok(wei("1000000000000000000")));
        assert_eq!(parse_ether(".5"), Ok(wei("500000000000000000")));
        assert_eq!(parse_ether("2."), Ok(wei("2000000000000000000")));
        assert_eq!(parse_ether("0.000000000000000001"), Ok(wei("1")));
        assert_eq!(
            parse_ether("1.0000000000000000000000"),
            Ok(wei("1000000000000000000"))
        );
        assert_eq!(parse_units("1.5 gwei"), Ok(wei("1500000000")));
        assert_eq!(parse_units("0.01 ether"), Ok(wei("10000000000000000")));
        assert_eq!(parse_units("0.01 ETH"), Ok(wei("10000000000000000")));
        assert_eq!(parse_units("21000"), Ok(wei("21000")));
        assert_eq!(parse_units(" 7 wei "), Ok(wei("7")));
    }

    #[test]
    fn refuses_bad_amounts_with_the_rule_broken() {
        assert_eq!(parse_ether(""), Err(UnitsError::Empty));
        assert_eq!(parse_ether("-1"), Err(UnitsError::Negative));
        assert_eq!(parse_units("-0.5 ether"), Err(UnitsError::Negative));
        assert_eq!(
            parse_ether("1e18"),
            Err(UnitsError::NotADecimal("1e18".into()))
        );
        assert_eq!(parse_ether("."), Err(UnitsError::NotADecimal(".".into())));
        assert_eq!(
            parse_ether("0x10"),
            Err(UnitsError::NotADecimal("0x10".into()))
        );
        assert_eq!(
            parse_ether("1,5"),
            Err(UnitsError::NotADecimal("1,5".into()))
        );
        assert_eq!(
            parse_ether("0.0000000000000000001"),
            Err(UnitsError::TooManyDecimals {
                decimals: 19,
                max: 18
            })
        );
        assert_eq!(
            parse_units("1.5 wei"),
            Err(UnitsError::TooManyDecimals {
                decimals: 1,
                max: 0
            })
        );
        assert_eq!(
            parse_units("1 finney"),
            Err(UnitsError::UnknownUnit("finney".into()))
        );
        let max = U256::MAX.to_string();
        assert_eq!(parse_units(&max), Ok(U256::MAX));
        assert_eq!(parse_units(&format!("{max}0")), Err(UnitsError::Overflow));
        assert_eq!(parse_ether(&max), Err(UnitsError::Overflow));
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(format_ether(wei("100000000000000000")), "0.1");
        assert_eq!(format_ether(wei("1000000000000000000")), "1");
        assert_eq!(
            format_ether(wei("1395633240123456000")),
            "1.395633240123456"
        );
        assert_eq!(format_ether(wei("1")), "0.000000000000000001");
        assert_eq!(format_ether(U256::ZERO), "0");
        assert_eq!(format_decimal(wei("1500000000"), 9), "1.5");
        for s in ["0.1", "123.456", "0.000000000000000001", "1000000"] {
            assert_eq!(format_ether(parse_ether(s).unwrap()), s);
        }
    }
}
