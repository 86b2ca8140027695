//! One typed error for the whole crate. Each variant has a stable `code()` so the SDK can hand it
//! to JS as `error.code` and tests can match on the kind without parsing messages.

use cid::Cid;
use core::fmt;

/// Everything that can go wrong while computing CIDs or checking what a node or gateway sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An option value Kubo would refuse too (`chunker`, `cid-version`, ...), caught before any work.
    InvalidOption {
        option: &'static str,
        reason: String,
    },
    /// A path given to the directory builder that Kubo could not represent.
    InvalidPath { path: String, reason: &'static str },
    /// A CID string or byte form that does not parse.
    InvalidCid { input: String, reason: String },
    /// The bytes of a block do not hash to its CID: the source sent a wrong or tampered block.
    HashMismatch { cid: Cid },
    /// The CID names a hash this crate does not verify (only sha2-256 and identity).
    UnsupportedHash { cid: Cid, code: u64 },
    /// A CID whose codec is neither dag-pb nor raw, where a UnixFS node was expected.
    UnexpectedCodec { cid: Cid, codec: u64 },
    /// A block the DAG needs was not delivered (a CAR stream ended without it).
    MissingBlock { cid: Cid },
    /// A CAR whose header does not name the root that was asked for.
    WrongRoot { expected: Cid, found: Vec<Cid> },
    /// A CAR stream that is not a well-formed CARv1 (or is a CARv2, which gateways do not send).
    MalformedCar { offset: u64, reason: String },
    /// A dag-pb / UnixFS node that does not decode or contradicts its parent (sizes, link counts).
    MalformedNode { cid: Cid, reason: String },
    /// The node is valid but not of the kind asked for (a directory where a file was expected, ...).
    UnexpectedKind {
        cid: Cid,
        expected: &'static str,
        found: &'static str,
    },
    /// A bound that protects memory against a hostile source was reached.
    LimitExceeded {
        limit: &'static str,
        value: u64,
        max: u64,
    },
}

impl Error {
    /// Stable machine-readable code, for JS (`error.code`) and for tests.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidOption { .. } => "IPFS_INVALID_OPTION",
            Error::InvalidPath { .. } => "IPFS_INVALID_PATH",
            Error::InvalidCid { .. } => "IPFS_INVALID_CID",
            Error::HashMismatch { .. } => "IPFS_HASH_MISMATCH",
            Error::UnsupportedHash { .. } => "IPFS_UNSUPPORTED_HASH",
            Error::UnexpectedCodec { .. } => "IPFS_UNEXPECTED_CODEC",
            Error::MissingBlock { .. } => "IPFS_MISSING_BLOCK",
            Error::WrongRoot { .. } => "IPFS_WRONG_ROOT",
            Error::MalformedCar { .. } => "IPFS_MALFORMED_CAR",
            Error::MalformedNode { .. } => "IPFS_MALFORMED_NODE",
            Error::UnexpectedKind { .. } => "IPFS_UNEXPECTED_KIND",
            Error::LimitExceeded { .. } => "IPFS_LIMIT_EXCEEDED",
        }
    }

    /// The CID the error is about, when there is one (which block was wrong or missing).
    pub fn cid(&self) -> Option<&Cid> {
        match self {
            Error::HashMismatch { cid }
            | Error::UnsupportedHash { cid, .. }
            | Error::UnexpectedCodec { cid, .. }
            | Error::MissingBlock { cid }
            | Error::MalformedNode { cid, .. }
            | Error::UnexpectedKind { cid, .. } => Some(cid),
            Error::WrongRoot { expected, .. } => Some(expected),
            _ => None,
        }
    }

    pub(crate) fn malformed(cid: &Cid, reason: impl Into<String>) -> Self {
        Error::MalformedNode {
            cid: *cid,
            reason: reason.into(),
        }
    }
}

/// A CID in an error message, written as Kubo writes it (`multibase::cid`, not `Cid`'s `Display`, which
/// would bring the whole `multibase` crate into the wasm).
struct Text<'a>(&'a Cid);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::multibase::cid(self.0))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidOption { option, reason } => {
                write!(f, "invalid option {option}: {reason}")
            }
            Error::InvalidPath { path, reason } => write!(f, "invalid path {path:?}: {reason}"),
            Error::InvalidCid { input, reason } => write!(f, "invalid CID {input:?}: {reason}"),
            Error::HashMismatch { cid } => write!(f, "block {} does not match its hash", Text(cid)),
            Error::UnsupportedHash { cid, code } => {
                write!(
                    f,
                    "block {} uses multihash 0x{code:x}; only sha2-256 and identity are verified",
                    Text(cid)
                )
            }
            Error::UnexpectedCodec { cid, codec } => {
                write!(
                    f,
                    "block {} has codec 0x{codec:x}; expected dag-pb or raw",
                    Text(cid)
                )
            }
            Error::MissingBlock { cid } => write!(f, "block {} is missing", Text(cid)),
            Error::WrongRoot { expected, found } => {
                write!(f, "CAR roots are [")?;
                for (i, root) in found.iter().enumerate() {
                    write!(f, "{}{}", if i == 0 { "" } else { ", " }, Text(root))?;
                }
                write!(f, "], expected {}", Text(expected))
            }
            Error::MalformedCar { offset, reason } => {
                write!(f, "malformed CAR at byte {offset}: {reason}")
            }
            Error::MalformedNode { cid, reason } => {
                write!(f, "malformed UnixFS node {}: {reason}", Text(cid))
            }
            Error::UnexpectedKind {
                cid,
                expected,
                found,
            } => {
                write!(f, "{} is a {found}, expected a {expected}", Text(cid))
            }
            Error::LimitExceeded { limit, value, max } => {
                write!(f, "limit {limit} exceeded: {value} > {max}")
            }
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = core::result::Result<T, E>;
