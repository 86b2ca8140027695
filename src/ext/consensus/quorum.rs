//! k agreeing results out of n workers: `'2-of-3'`, `{ k, n }`, or a majority of n. k must be
//! more than half of n, or two different results could both win.

use crate::core::boundary::js::number;
use wasm_bindgen::JsValue;

/// k agreeing results out of n workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    pub k: u32,
    pub n: u32,
}

/// The most workers one job may run on.
pub const MAX_N: u32 = 16;

impl Quorum {
    /// `'2-of-3'`, `{ k, n }`, or (for `redundancy(n)`) a majority of n.
    pub fn parse(v: &JsValue) -> std::result::Result<Quorum, String> {
        let (k, n) = if let Some(s) = v.as_string() {
            let (k, n) = s
                .split_once("-of-")
                .ok_or_else(|| format!("{s:?} is not a strategy like '2-of-3'"))?;
            let num = |x: &str| x.trim().parse::<u32>().ok();
            match (num(k), num(n)) {
                (Some(k), Some(n)) => (k, n),
                _ => return Err(format!("{s:?} is not a strategy like '2-of-3'")),
            }
        } else if v.is_object() {
            let get = |key: &str| {
                number(v, key)
                    .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x <= 1000.0)
                    .map(|x| x as u32)
            };
            match (get("k"), get("n")) {
                (Some(k), Some(n)) => (k, n),
                _ => return Err("must have whole numbers k and n, e.g. { k: 2, n: 3 }".into()),
            }
        } else {
            return Err("must be a string like '2-of-3' or { k, n }".into());
        };
        Quorum::new(k, n)
    }

    pub fn new(k: u32, n: u32) -> std::result::Result<Quorum, String> {
        if n == 0 || k == 0 || k > n {
            return Err(format!("{k}-of-{n}: need 1 <= k <= n"));
        }
        if n > MAX_N {
            return Err(format!("{k}-of-{n}: at most {MAX_N} workers per job"));
        }
        if k * 2 <= n {
            return Err(format!(
                "{k}-of-{n}: k must be more than half of n, or two different results could both win"
            ));
        }
        Ok(Quorum { k, n })
    }

    pub fn majority(n: u32) -> std::result::Result<Quorum, String> {
        Quorum::new(n / 2 + 1, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_rules() {
        assert_eq!(Quorum::new(2, 3), Ok(Quorum { k: 2, n: 3 }));
        assert!(
            Quorum::new(1, 2).is_err(),
            "two different results could both win"
        );
        assert!(Quorum::new(4, 3).is_err());
        assert!(Quorum::new(0, 3).is_err());
        assert!(Quorum::new(17, 17).is_err());
        assert_eq!(Quorum::majority(5), Ok(Quorum { k: 3, n: 5 }));
        assert_eq!(Quorum::majority(1), Ok(Quorum { k: 1, n: 1 }));
    }
}
