//! Input checks that run before anything is sent; every error names the field it is about.

use alloy_primitives::{Address, B256, U256};
use core::fmt;

/// The most nodes a job may ask for (the contract's `MAX_NODES`).
pub const MAX_NODES: u8 = 16;
/// The longest CID the contract takes (`MAX_CID_LENGTH`).
pub const MAX_CID_LENGTH: usize = 128;
/// The longest node endpoint the contract takes (`MAX_ENDPOINT_LENGTH`).
pub const MAX_ENDPOINT_LENGTH: usize = 256;
/// The longest worker job id `started` takes (`MAX_RUN_LENGTH`).
pub const MAX_RUN_LENGTH: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The field, as the SDK's caller names it (`"jobHash"`, `"k"`, `"deadline"`, ...).
    pub field: String,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not `0x` followed by hex digits.
    NotHex,
    /// Hex of the wrong size (in bytes).
    WrongLength { expected: usize, got: usize },
    /// Mixed-case address whose EIP-55 checksum does not match.
    BadChecksum,
    /// Must not be zero.
    Zero,
    /// k = 0, k > n, n = 0 or n > 16.
    QuorumOutOfRange { k: u64, n: u64 },
    /// k must be a strict majority of n (so that at most one result can reach k).
    QuorumNotMajority { k: u64, n: u64 },
    /// The deadline is not after `now` (unix seconds).
    DeadlineNotInFuture { deadline: u64, now: u64 },
    /// A number above what the contract's field holds (or above another field it must not
    /// exceed).
    AboveMax { max: U256 },
    /// Longer than the contract takes (or empty where it needs something).
    BadLength {
        length: usize,
        min: usize,
        max: usize,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.field)?;
        match &self.problem {
            Problem::NotHex => write!(f, "expected 0x-prefixed hex"),
            Problem::WrongLength { expected, got } => {
                write!(f, "expected {expected} bytes, got {got}")
            }
            Problem::BadChecksum => write!(f, "mixed-case address with a wrong EIP-55 checksum"),
            Problem::Zero => write!(f, "must not be zero"),
            Problem::QuorumOutOfRange { k, n } => {
                write!(f, "need 1 <= k <= n <= {MAX_NODES}, got k = {k}, n = {n}")
            }
            Problem::QuorumNotMajority { k, n } => {
                write!(f, "k must be more than n/2 (k = {k}, n = {n})")
            }
            Problem::DeadlineNotInFuture { deadline, now } => {
                write!(f, "deadline {deadline} is not after now ({now})")
            }
            Problem::AboveMax { max } => write!(f, "must be at most {max}"),
            Problem::BadLength { length, min, max } => {
                write!(f, "length {length}, must be {min} to {max}")
            }
        }
    }
}

impl std::error::Error for InputError {}

fn err(field: &str, problem: Problem) -> InputError {
    InputError {
        field: field.to_string(),
        problem,
    }
}

/// `0x`-prefixed hex → bytes (any even length).
pub fn hex_bytes(field: &str, s: &str) -> Result<Vec<u8>, InputError> {
    let digits = s
        .strip_prefix("0x")
        .ok_or_else(|| err(field, Problem::NotHex))?;
    alloy_primitives::hex::decode(digits).map_err(|_| err(field, Problem::NotHex))
}

/// `0x`-prefixed hex of exactly `expected` bytes.
fn hex_of_len(field: &str, s: &str, expected: usize) -> Result<Vec<u8>, InputError> {
    let bytes = hex_bytes(field, s)?;
    if bytes.len() != expected {
        return Err(err(
            field,
            Problem::WrongLength {
                expected,
                got: bytes.len(),
            },
        ));
    }
    Ok(bytes)
}

/// An address: all lower- or all upper-case hex is taken as is; mixed case must carry a valid
/// EIP-55 checksum (a typo in a checksummed address is caught instead of sending funds away).
pub fn address(field: &str, s: &str) -> Result<Address, InputError> {
    let bytes = hex_of_len(field, s, 20)?;
    let digits = &s[2..];
    let mixed = digits.bytes().any(|b| b.is_ascii_lowercase())
        && digits.bytes().any(|b| b.is_ascii_uppercase());
    if mixed {
        return Address::parse_checksummed(s, None).map_err(|_| err(field, Problem::BadChecksum));
    }
    Ok(Address::from_slice(&bytes))
}

/// A 32-byte hash (job hash, result hash, worker key as hex).
pub fn bytes32(field: &str, s: &str) -> Result<B256, InputError> {
    Ok(B256::from_slice(&hex_of_len(field, s, 32)?))
}

/// A 32-byte value that must not be zero (the contract refuses a zero job hash or worker key).
pub fn nonzero_bytes32(field: &str, s: &str) -> Result<B256, InputError> {
    let value = bytes32(field, s)?;
    if value.is_zero() {
        return Err(err(field, Problem::Zero));
    }
    Ok(value)
}

/// k of n: 1 <= k <= n <= 16 and k > n/2, as the SDK's consensus and the contract require.
/// The error names "k" (or "n" when n alone is out of range).
pub fn quorum(k: u64, n: u64) -> Result<(u8, u8), InputError> {
    if n == 0 || n > u64::from(MAX_NODES) {
        return Err(err("n", Problem::QuorumOutOfRange { k, n }));
    }
    if k == 0 || k > n {
        return Err(err("k", Problem::QuorumOutOfRange { k, n }));
    }
    if 2 * k <= n {
        return Err(err("k", Problem::QuorumNotMajority { k, n }));
    }
    Ok((k as u8, n as u8))
}

/// A deadline (unix seconds) strictly after `now`.
pub fn deadline(deadline: u64, now: u64) -> Result<u64, InputError> {
    if deadline <= now {
        return Err(err(
            "deadline",
            Problem::DeadlineNotInFuture { deadline, now },
        ));
    }
    Ok(deadline)
}

/// A string field whose byte length must be within `min..=max` (CIDs, endpoints).
pub fn length(field: &str, s: &str, min: usize, max: usize) -> Result<(), InputError> {
    if s.len() < min || s.len() > max {
        return Err(err(
            field,
            Problem::BadLength {
                length: s.len(),
                min,
                max,
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let lower = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
        let checksummed = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let a = address("to", lower).unwrap();
        assert_eq!(address("to", checksummed), Ok(a));
        assert_eq!(
            address("to", &lower.to_uppercase().replace("0X", "0x")),
            Ok(a)
        );
        assert_eq!(a.to_checksum(None), checksummed);
        let typo = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92267";
        assert_eq!(
            address("to", typo).unwrap_err(),
            err("to", Problem::BadChecksum)
        );
        let wrong_case = "0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266";
        assert_eq!(
            address("to", wrong_case).unwrap_err().problem,
            Problem::BadChecksum
        );
        assert_eq!(
            address("market", "f39fd6e51aad88f6f4ce6ab8827279cfffb92266").unwrap_err(),
            err("market", Problem::NotHex)
        );
        assert_eq!(
            address("market", "0xzz").unwrap_err().problem,
            Problem::NotHex
        );
        assert_eq!(
            address("market", "0x1234").unwrap_err(),
            err(
                "market",
                Problem::WrongLength {
                    expected: 20,
                    got: 2
                }
            )
        );
        assert_eq!(
            address("to", "").unwrap_err().to_string(),
            "to: expected 0x-prefixed hex"
        );
    }

    #[test]
    fn hashes() {
        let h = format!("0x{}", "ab".repeat(32));
        assert_eq!(bytes32("jobHash", &h).unwrap(), B256::repeat_byte(0xab));
        assert_eq!(
            bytes32("jobHash", "0xabcd").unwrap_err().to_string(),
            "jobHash: expected 32 bytes, got 2"
        );
        assert_eq!(
            bytes32("resultHash", &format!("0x{}", "0".repeat(63)))
                .unwrap_err()
                .problem,
            Problem::NotHex
        );
        let zero = format!("0x{}", "00".repeat(32));
        assert_eq!(bytes32("jobHash", &zero), Ok(B256::ZERO));
        assert_eq!(
            nonzero_bytes32("workerKey", &zero).unwrap_err(),
            err("workerKey", Problem::Zero)
        );
    }

    #[test]
    fn quorums() {
        assert_eq!(quorum(2, 3), Ok((2, 3)));
        assert_eq!(quorum(1, 1), Ok((1, 1)));
        assert_eq!(quorum(9, 16), Ok((9, 16)));
        assert_eq!(quorum(3, 5), Ok((3, 5)));
        assert_eq!(
            quorum(4, 3).unwrap_err(),
            err("k", Problem::QuorumOutOfRange { k: 4, n: 3 })
        );
        assert_eq!(quorum(0, 3).unwrap_err().field, "k");
        assert_eq!(quorum(1, 0).unwrap_err().field, "n");
        assert_eq!(
            quorum(17, 17).unwrap_err(),
            err("n", Problem::QuorumOutOfRange { k: 17, n: 17 })
        );
        assert_eq!(
            quorum(1, 2).unwrap_err(),
            err("k", Problem::QuorumNotMajority { k: 1, n: 2 })
        );
        assert_eq!(
            quorum(8, 16).unwrap_err().to_string(),
            "k: k must be more than n/2 (k = 8, n = 16)"
        );
    }

    #[test]
    fn deadlines_and_lengths() {
        assert_eq!(deadline(101, 100), Ok(101));
        assert_eq!(
            deadline(100, 100).unwrap_err().to_string(),
            "deadline: deadline 100 is not after now (100)"
        );
        assert!(length("inputCid", "bafy", 1, MAX_CID_LENGTH).is_ok());
        assert_eq!(
            length("inputCid", "", 1, MAX_CID_LENGTH)
                .unwrap_err()
                .problem,
            Problem::BadLength {
                length: 0,
                min: 1,
                max: 128
            }
        );
    }
}
