//! What became of a transaction whose nonce was mined under another hash, classified as viem
//! and ethers do: the same call at another price (`Repriced`), a zero-value self-transfer with
//! no data (`Cancelled`, how wallets cancel), or anything else (`Replaced`).

use alloy_primitives::{Address, Bytes, U256};

/// The fields that decide the classification, of the original and of the mined transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxFields {
    pub from: Address,
    pub nonce: u64,
    /// None for a contract creation.
    pub to: Option<Address>,
    pub value: U256,
    pub input: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    Repriced,
    Cancelled,
    Replaced,
}

impl Replacement {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repriced => "repriced",
            Self::Cancelled => "cancelled",
            Self::Replaced => "replaced",
        }
    }
}

/// Classifies `mined` as the replacement of `original`. None when it is no replacement: another
/// sender or another nonce. (The caller knows the hashes differ.)
pub fn classify(original: &TxFields, mined: &TxFields) -> Option<Replacement> {
    if original.from != mined.from || original.nonce != mined.nonce {
        return None;
    }
    Some(
        if mined.to == original.to && mined.value == original.value && mined.input == original.input
        {
            Replacement::Repriced
        } else if mined.to == Some(mined.from) && mined.value.is_zero() && mined.input.is_empty() {
            Replacement::Cancelled
        } else {
            Replacement::Replaced
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, bytes};

    const ME: Address = address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const MARKET: Address = address!("5FbDB2315678afecb367f032d93F642f64180aa3");

    fn original() -> TxFields {
        TxFields {
            from: ME,
            nonce: 7,
            to: Some(MARKET),
            value: U256::from(30_000_000_000_000_000u64),
            input: bytes!("12345678"),
        }
    }

    #[test]
    fn classifies_like_viem() {
        let o = original();
        assert_eq!(classify(&o, &o.clone()), Some(Replacement::Repriced));
        let cancel = TxFields {
            to: Some(ME),
            value: U256::ZERO,
            input: Bytes::new(),
            ..o.clone()
        };
        assert_eq!(classify(&o, &cancel), Some(Replacement::Cancelled));
        let other_data = TxFields {
            input: bytes!("87654321"),
            ..o.clone()
        };
        assert_eq!(classify(&o, &other_data), Some(Replacement::Replaced));
        let other_value = TxFields {
            value: U256::from(1),
            ..o.clone()
        };
        assert_eq!(classify(&o, &other_value), Some(Replacement::Replaced));
        // a self-transfer that carries value is no cancellation
        let self_pay = TxFields {
            to: Some(ME),
            value: U256::from(1),
            input: Bytes::new(),
            ..o.clone()
        };
        assert_eq!(classify(&o, &self_pay), Some(Replacement::Replaced));
        let creation = TxFields {
            to: None,
            ..o.clone()
        };
        assert_eq!(classify(&o, &creation), Some(Replacement::Replaced));
        assert_eq!(
            classify(
                &o,
                &TxFields {
                    nonce: 8,
                    ..o.clone()
                }
            ),
            None
        );
        assert_eq!(
            classify(
                &o,
                &TxFields {
                    from: MARKET,
                    ..o.clone()
                }
            ),
            None
        );
        assert_eq!(Replacement::Cancelled.as_str(), "cancelled");
    }

    #[test]
    fn cancelling_a_self_transfer_is_repriced_when_identical() {
        // the original was itself a zero-value self-transfer: the same fields mean repriced
        let o = TxFields {
            to: Some(ME),
            value: U256::ZERO,
            input: Bytes::new(),
            ..original()
        };
        assert_eq!(classify(&o, &o.clone()), Some(Replacement::Repriced));
    }
}
