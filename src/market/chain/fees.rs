//! What a transaction offers per gas: EIP-1559 fees from the last blocks' `eth_feeHistory`
//! (priority fee at a reward percentile, a multiple of the next base fee, the user's cap on
//! `maxFeePerGas`), or a legacy gas price on a chain without a base fee; and the raise a
//! replacement needs.

use super::connection::Chain;
use super::errors::detail;
use super::values::Wei;
use crate::core::boundary::error::{Code, Result, SdkError};
use alloy_primitives::U256;
use sandrun_chain::fees::{eip1559_fees, legacy_gas_price, FeeError, FeePolicy};

/// Blocks of history the priority fee is read from.
const HISTORY_BLOCKS: u64 = 5;
/// A legacy gas price is the node's suggestion plus 10 %: its suggestion is already what the
/// last blocks paid, so there is no base-fee growth to cover.
const LEGACY_MULTIPLIER_PERCENT: u32 = 110;
/// Nodes take a replacement only when it raises both fees by at least 10 % (geth's
/// `txpool.pricebump`; anvil and reth do the same). 11 % leaves room for rounding.
const REPLACEMENT_BUMP_PERCENT: u32 = 111;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fees {
    Eip1559 { max_fee: U256, priority: U256 },
    Legacy { gas_price: U256 },
}

impl Fees {
    /// The most one gas may cost.
    pub fn max_per_gas(&self) -> U256 {
        match self {
            Fees::Eip1559 { max_fee, .. } => *max_fee,
            Fees::Legacy { gas_price } => *gas_price,
        }
    }
}

/// The fees to offer now, within `cap` (the call's, else the config's).
pub async fn quote(chain: &Chain, cap: Option<U256>) -> Result<Fees> {
    let s = &chain.settings.fees;
    let cap = cap.or(s.cap);
    let history = chain.rpc.fee_history(HISTORY_BLOCKS, s.percentile).await?;
    let policy = FeePolicy {
        base_fee_multiplier_percent: s.multiplier_percent,
        percentile_index: 0,
        max_fee_cap: cap,
        ..FeePolicy::default()
    };
    match history.as_ref().map(|h| eip1559_fees(h, &policy)) {
        Some(Ok(f)) => Ok(Fees::Eip1559 {
            max_fee: f.max_fee_per_gas,
            priority: f.max_priority_fee_per_gas,
        }),
        Some(Err(FeeError::CapTooLow { cap, required })) => Err(cap_too_low(cap, required)),
        // No base fee: a legacy chain.
        Some(Err(FeeError::NoBaseFee)) | None => {
            let price = chain.rpc.gas_price().await?;
            match legacy_gas_price(price, LEGACY_MULTIPLIER_PERCENT, cap) {
                Ok(gas_price) => Ok(Fees::Legacy { gas_price }),
                Err(FeeError::CapTooLow { cap, required }) => Err(cap_too_low(cap, required)),
                Err(FeeError::NoBaseFee) => Err(cap_too_low(U256::ZERO, price)),
            }
        }
    }
}

/// The chain needs more per gas than the cap allows.
pub fn cap_too_low(cap: U256, required: U256) -> SdkError {
    let e = SdkError::new(
        Code::Chain,
        format!("the fee cap of {cap} wei per gas is below the {required} wei the chain needs now: nothing was sent"),
    );
    detail(
        detail(detail(e, "reason", &"fee-cap"), "maxFeePerGas", &Wei(cap)),
        "required",
        &Wei(required),
    )
}

/// The fees of a replacement for a transaction sent with `old`: at least 11 % more on each,
/// and at least what the chain asks now (`now`).
pub fn bump(old: &Fees, now: &Fees) -> Fees {
    let raise = |v: U256| {
        (v.saturating_mul(U256::from(REPLACEMENT_BUMP_PERCENT)) / U256::from(100u8))
            .saturating_add(U256::from(1u8))
    };
    match (old, now) {
        (
            Fees::Eip1559 { max_fee, priority },
            Fees::Eip1559 {
                max_fee: now_max,
                priority: now_priority,
            },
        ) => {
            let priority = raise(*priority).max(*now_priority);
            Fees::Eip1559 {
                max_fee: raise(*max_fee).max(*now_max).max(priority),
                priority,
            }
        }
        _ => Fees::Legacy {
            gas_price: raise(old.max_per_gas()).max(now.max_per_gas()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gwei(n: u64) -> U256 {
        U256::from(n) * U256::from(1_000_000_000u64)
    }

    #[test]
    fn a_replacement_raises_both_fees_past_the_nodes_bump() {
        let old = Fees::Eip1559 {
            max_fee: gwei(100),
            priority: gwei(2),
        };
        let calm = Fees::Eip1559 {
            max_fee: gwei(50),
            priority: gwei(1),
        };
        let Fees::Eip1559 { max_fee, priority } = bump(&old, &calm) else {
            panic!("stays EIP-1559");
        };
        // at least +10 % on each (what geth, reth and anvil ask), never below the market
        assert!(max_fee * U256::from(10u8) >= gwei(100) * U256::from(11u8));
        assert!(priority * U256::from(10u8) >= gwei(2) * U256::from(11u8));
        let busy = Fees::Eip1559 {
            max_fee: gwei(300),
            priority: gwei(9),
        };
        assert_eq!(bump(&old, &busy), busy);
        let legacy = bump(
            &Fees::Legacy {
                gas_price: gwei(10),
            },
            &Fees::Legacy { gas_price: gwei(1) },
        );
        assert_eq!(
            legacy,
            Fees::Legacy {
                gas_price: gwei(10) * U256::from(111u8) / U256::from(100u8) + U256::from(1u8)
            }
        );
    }
}
