//! Revert data → the error's name and arguments: SandrunMarket's custom errors, `Error(string)`
//! and `Panic(uint256)`. Displayed as `Name(arg, …)`.

use crate::market::SandrunMarket;
use alloy_primitives::{hex, Address, Bytes, I256, U256};
use alloy_sol_types::{SolError, SolInterface};
use core::fmt;

/// A custom error of the contract as its ABI describes it.
pub(crate) struct ErrorInfo {
    pub selector: [u8; 4],
    pub name: &'static str,
    /// (name, Solidity type) of each parameter
    pub params: &'static [(&'static str, &'static str)],
}

include!(concat!(env!("OUT_DIR"), "/abi_tables.rs"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertArg {
    pub name: String,
    /// The Solidity type (`uint256`, `address`, `uint8` for an enum, `string`...).
    pub ty: String,
    /// Integers in decimal, addresses EIP-55 checksummed, bytes as 0x lower-case hex.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevertError {
    pub name: String,
    pub args: Vec<RevertArg>,
    pub data: Bytes,
}

impl fmt::Display for RevertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{}", arg.value)?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for RevertError {}

fn arg(name: &str, ty: &str, value: String) -> RevertArg {
    RevertArg {
        name: name.to_string(),
        ty: ty.to_string(),
        value,
    }
}

/// Decodes revert data. None when it is empty (a revert without data), has a selector none of
/// these errors has, or does not decode as its selector says: the caller keeps the raw data.
pub fn decode_revert(data: &[u8]) -> Option<RevertError> {
    let selector: [u8; 4] = data.get(..4)?.try_into().ok()?;
    let (name, args) = if selector == alloy_sol_types::Revert::SELECTOR {
        let reason = alloy_sol_types::Revert::abi_decode(data).ok()?.reason;
        ("Error".to_string(), vec![arg("message", "string", reason)])
    } else if selector == alloy_sol_types::Panic::SELECTOR {
        let code = alloy_sol_types::Panic::abi_decode(data).ok()?.code;
        (
            "Panic".to_string(),
            vec![arg("code", "uint256", code.to_string())],
        )
    } else {
        // The typed decode (sol!) checks the data against the error's shape; the table (build.rs,
        // from the same artifact) gives the parameters' names and types.
        SandrunMarket::SandrunMarketErrors::abi_decode(data).ok()?;
        let error = ERRORS.iter().find(|e| e.selector == selector)?;
        let args = error
            .params
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                let word = &data[4 + 32 * i..4 + 32 * (i + 1)];
                arg(name, ty, format_static(ty, word))
            })
            .collect();
        (error.name.to_string(), args)
    };
    Some(RevertError {
        name,
        args,
        data: Bytes::copy_from_slice(data),
    })
}

/// One ABI word of a static type as text. Every parameter of the contract's errors is static
/// (checked by a test), so no offsets to follow.
fn format_static(ty: &str, word: &[u8]) -> String {
    if ty == "address" {
        Address::from_slice(&word[12..]).to_checksum(None)
    } else if ty == "bool" {
        (word[31] == 1).to_string()
    } else if ty.starts_with("uint") {
        U256::from_be_slice(word).to_string()
    } else if ty.starts_with("int") {
        I256::from_be_bytes::<32>(word.try_into().expect("32-byte word")).to_string()
    } else if let Some(size) = ty
        .strip_prefix("bytes")
        .and_then(|n| n.parse::<usize>().ok())
    {
        format!("0x{}", hex::encode(&word[..size.min(32)]))
    } else {
        format!("0x{}", hex::encode(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolError;

    #[test]
    fn the_table_has_every_custom_error_with_only_static_parameters() {
        assert_eq!(
            ERRORS.len(),
            SandrunMarket::SandrunMarketErrors::SELECTORS.len()
        );
        for error in ERRORS {
            assert!(
                SandrunMarket::SandrunMarketErrors::valid_selector(error.selector),
                "{}",
                error.name
            );
            for &(name, ty) in error.params {
                let fixed_bytes = ty.strip_prefix("bytes").is_some_and(|n| !n.is_empty());
                assert!(
                    ty == "address"
                        || ty == "bool"
                        || ty.starts_with("uint")
                        || ty.starts_with("int")
                        || fixed_bytes,
                    "{}: parameter {name} of type {ty} needs a dynamic decoder",
                    error.name
                );
            }
        }
    }

    #[test]
    fn standard_errors() {
        let data = alloy_sol_types::Revert::from("not allowed").abi_encode();
        let e = decode_revert(&data).unwrap();
        assert_eq!(e.to_string(), "Error(not allowed)");
        assert_eq!(e.args, vec![arg("message", "string", "not allowed".into())]);
        let data =
            alloy_sol_types::Panic::from(alloy_sol_types::PanicKind::UnderOverflow).abi_encode();
        assert_eq!(decode_revert(&data).unwrap().to_string(), "Panic(17)");
    }

    #[test]
    fn unknown_or_malformed_data_is_none() {
        assert_eq!(decode_revert(&[]), None);
        assert_eq!(decode_revert(&[1, 2, 3]), None);
        assert_eq!(decode_revert(&[0xde, 0xad, 0xbe, 0xef, 0, 0]), None);
        // JobNotFound's selector with a truncated argument
        let mut data = SandrunMarket::JobNotFound {
            jobId: U256::from(9),
        }
        .abi_encode();
        assert_eq!(decode_revert(&data).unwrap().to_string(), "JobNotFound(9)");
        data.truncate(20);
        assert_eq!(decode_revert(&data), None);
    }
}
