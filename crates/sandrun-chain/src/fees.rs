//! Fees for a transaction, from what the chain reports: EIP-1559 fees from `eth_feeHistory`
//! (a priority fee at a reward percentile, a multiple of the next base fee, a user cap on
//! `maxFeePerGas`), a legacy gas price for chains without a base fee, and a gas-limit buffer.

use alloy_primitives::U256;
use core::fmt;

/// The parts of an `eth_feeHistory` answer used here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeeHistory {
    /// One per block asked for, then the next block's: the last entry is the base fee the
    /// transaction will meet first. Empty (or all zero) on a chain without EIP-1559.
    pub base_fee_per_gas: Vec<U256>,
    /// Per block, the priority fees paid at the requested percentiles; `percentile_index`
    /// picks the column.
    pub reward: Vec<Vec<U256>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeePolicy {
    /// maxFeePerGas = next base fee × this / 100 + the priority fee. 200 (×2) keeps the
    /// transaction includable through six full blocks in a row (+12.5 % each: 1.125^6 = 2.03).
    pub base_fee_multiplier_percent: u32,
    /// Which column of `reward` to read (the caller asked eth_feeHistory for these percentiles).
    pub percentile_index: usize,
    /// The least priority fee to offer (blocks with no transactions report a reward of 0).
    pub min_priority_fee: U256,
    /// The user's cap on maxFeePerGas (legacy: on gasPrice).
    pub max_fee_cap: Option<U256>,
}

impl Default for FeePolicy {
    fn default() -> Self {
        Self {
            base_fee_multiplier_percent: 200,
            percentile_index: 0,
            min_priority_fee: U256::from(1_000_000u64), // 0.001 gwei
            max_fee_cap: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eip1559Fees {
    pub max_fee_per_gas: U256,
    pub max_priority_fee_per_gas: U256,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeeError {
    /// The chain reports no base fee: use a legacy gas price.
    NoBaseFee,
    /// The cap is below the least the chain needs now (next base fee + priority fee, or the
    /// current gas price).
    CapTooLow { cap: U256, required: U256 },
}

impl fmt::Display for FeeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBaseFee => write!(f, "the chain reports no base fee (not EIP-1559)"),
            Self::CapTooLow { cap, required } => write!(
                f,
                "maxFeePerGas cap {cap} wei is below the {required} wei the chain needs now"
            ),
        }
    }
}

impl std::error::Error for FeeError {}

/// EIP-1559 fees: the priority fee is the median of the blocks' rewards at the chosen
/// percentile (empty blocks left out), at least `min_priority_fee`; maxFeePerGas is the next
/// base fee times the multiplier plus that, lowered to the cap when one is set.
pub fn eip1559_fees(history: &FeeHistory, policy: &FeePolicy) -> Result<Eip1559Fees, FeeError> {
    let next_base = match history.base_fee_per_gas.last() {
        Some(base) if !history.base_fee_per_gas.iter().all(|b| b.is_zero()) => *base,
        _ => return Err(FeeError::NoBaseFee),
    };
    let mut rewards: Vec<U256> = history
        .reward
        .iter()
        .filter_map(|block| block.get(policy.percentile_index).copied())
        .filter(|r| !r.is_zero())
        .collect();
    rewards.sort_unstable();
    let median = rewards.get(rewards.len() / 2).copied().unwrap_or_default();
    let priority = median.max(policy.min_priority_fee);
    let desired = next_base.saturating_mul(U256::from(policy.base_fee_multiplier_percent))
        / U256::from(100u8);
    let desired = desired.max(next_base).saturating_add(priority);
    let max_fee = match policy.max_fee_cap {
        Some(cap) => {
            let required = next_base.saturating_add(priority);
            if cap < required {
                return Err(FeeError::CapTooLow { cap, required });
            }
            desired.min(cap)
        }
        None => desired,
    };
    Ok(Eip1559Fees {
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority,
    })
}

/// A legacy gas price: `eth_gasPrice` × multiplier / 100, lowered to the cap; an error when
/// the cap is below the chain's current gas price.
pub fn legacy_gas_price(
    gas_price: U256,
    multiplier_percent: u32,
    cap: Option<U256>,
) -> Result<U256, FeeError> {
    let price = (gas_price.saturating_mul(U256::from(multiplier_percent)) / U256::from(100u8))
        .max(gas_price);
    match cap {
        Some(cap) if cap < gas_price => Err(FeeError::CapTooLow {
            cap,
            required: gas_price,
        }),
        Some(cap) => Ok(price.min(cap)),
        None => Ok(price),
    }
}

/// `estimate` plus `percent` %, rounded up (a buffer for state that changes between the
/// estimate and the block: another claim on the same job, a new distinct result...).
pub fn gas_limit_with_buffer(estimate: u64, percent: u32) -> u64 {
    let scaled = u128::from(estimate) * (100 + u128::from(percent));
    u64::try_from(scaled.div_ceil(100)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gwei(n: u64) -> U256 {
        U256::from(n) * U256::from(1_000_000_000u64)
    }

    fn history(base: &[u64], rewards: &[u64]) -> FeeHistory {
        FeeHistory {
            base_fee_per_gas: base.iter().map(|&b| gwei(b)).collect(),
            reward: rewards.iter().map(|&r| vec![gwei(r)]).collect(),
        }
    }

    #[test]
    fn median_reward_and_doubled_next_base_fee() {
        let h = history(&[10, 11, 12, 13], &[1, 3, 2]);
        let fees = eip1559_fees(&h, &FeePolicy::default()).unwrap();
        assert_eq!(fees.max_priority_fee_per_gas, gwei(2));
        assert_eq!(fees.max_fee_per_gas, gwei(13 * 2 + 2));
    }

    #[test]
    fn empty_blocks_and_the_floor() {
        // anvil: every reward 0 → the floor
        let h = history(&[1, 1, 1], &[0, 0]);
        let policy = FeePolicy::default();
        let fees = eip1559_fees(&h, &policy).unwrap();
        assert_eq!(fees.max_priority_fee_per_gas, policy.min_priority_fee);
        assert_eq!(fees.max_fee_per_gas, gwei(2) + policy.min_priority_fee);
        // empty blocks do not drag the median down
        let h = history(&[5, 5, 5, 5, 5], &[0, 0, 4, 4]);
        assert_eq!(
            eip1559_fees(&h, &policy).unwrap().max_priority_fee_per_gas,
            gwei(4)
        );
    }

    #[test]
    fn percentile_column_and_multiplier() {
        let h = FeeHistory {
            base_fee_per_gas: vec![gwei(100), gwei(100)],
            reward: vec![vec![gwei(1), gwei(5)]],
        };
        let policy = FeePolicy {
            percentile_index: 1,
            base_fee_multiplier_percent: 120,
            ..FeePolicy::default()
        };
        let fees = eip1559_fees(&h, &policy).unwrap();
        assert_eq!(fees.max_priority_fee_per_gas, gwei(5));
        assert_eq!(fees.max_fee_per_gas, gwei(125));
    }

    #[test]
    fn cap_lowers_the_fee_or_is_refused_when_too_low() {
        let h = history(&[10, 20], &[2]);
        let capped = FeePolicy {
            max_fee_cap: Some(gwei(30)),
            ..FeePolicy::default()
        };
        assert_eq!(eip1559_fees(&h, &capped).unwrap().max_fee_per_gas, gwei(30));
        let exact = FeePolicy {
            max_fee_cap: Some(gwei(22)),
            ..FeePolicy::default()
        };
        assert_eq!(eip1559_fees(&h, &exact).unwrap().max_fee_per_gas, gwei(22));
        let low = FeePolicy {
            max_fee_cap: Some(gwei(21)),
            ..FeePolicy::default()
        };
        let e = eip1559_fees(&h, &low).unwrap_err();
        assert_eq!(
            e,
            FeeError::CapTooLow {
                cap: gwei(21),
                required: gwei(22)
            }
        );
        assert!(e.to_string().contains("22000000000 wei"));
        let high = FeePolicy {
            max_fee_cap: Some(gwei(1000)),
            ..FeePolicy::default()
        };
        assert_eq!(eip1559_fees(&h, &high).unwrap().max_fee_per_gas, gwei(42));
    }

    #[test]
    fn no_base_fee_means_legacy() {
        assert_eq!(
            eip1559_fees(&FeeHistory::default(), &FeePolicy::default()),
            Err(FeeError::NoBaseFee)
        );
        assert_eq!(
            eip1559_fees(&history(&[0, 0], &[0]), &FeePolicy::default()),
            Err(FeeError::NoBaseFee)
        );
        assert_eq!(legacy_gas_price(gwei(10), 110, None), Ok(gwei(11)));
        assert_eq!(
            legacy_gas_price(gwei(10), 110, Some(gwei(10))),
            Ok(gwei(10))
        );
        assert_eq!(
            legacy_gas_price(gwei(10), 110, Some(gwei(9))),
            Err(FeeError::CapTooLow {
                cap: gwei(9),
                required: gwei(10)
            })
        );
    }

    #[test]
    fn gas_buffer_rounds_up() {
        assert_eq!(gas_limit_with_buffer(100_000, 20), 120_000);
        assert_eq!(gas_limit_with_buffer(21_001, 20), 25_202); // 25,201.2 → 25,202
        assert_eq!(gas_limit_with_buffer(0, 20), 0);
        assert_eq!(gas_limit_with_buffer(u64::MAX, 20), u64::MAX);
    }
}
