//! CID text forms and the Kubo answer quirks a client has to tolerate.
//!
//! Kubo prints CIDv0 in base58btc and CIDv1 in whatever `cid-base` asked for (base32 by default);
//! js-ipfs prints CIDv1 in base58btc unless told otherwise; gateways may redirect to base36 or
//! base32 subdomains. So a CID that comes back is parsed (any multibase) and compared as a value,
//! never as a string.

use crate::error::{Error, Result};
use crate::multibase;
use cid::{Cid, Version};

/// Parses a CID in any text form a node or gateway may return: CIDv0 (`Qm…`) or CIDv1 in any
/// multibase (`bafy…`, `zb2r…`, `k2…`, `B…` upper-case base32, `f01…` base16, ...).
pub fn parse_cid(text: &str) -> Result<Cid> {
    let trimmed = text.trim();
    // A path such as `/ipfs/<cid>` is what some answers carry (`Path` fields, Location headers).
    let bare = trimmed.strip_prefix("/ipfs/").unwrap_or(trimmed);
    let bare = bare.split('/').next().unwrap_or(bare);
    let invalid = |reason: String| Error::InvalidCid {
        input: text.to_string(),
        reason,
    };
    let bytes = multibase::decode(bare).map_err(|why| invalid(why.to_string()))?;
    Cid::try_from(bytes.as_slice()).map_err(|e| invalid(e.to_string()))
}

/// The canonical text of a CID, as Kubo prints it by default: base58btc for v0, base32 (lower
/// case, `b` prefix) for v1.
pub fn cid_to_text(cid: &Cid) -> String {
    multibase::cid(cid)
}

/// Re-writes any CID text in the canonical form (see [`cid_to_text`]), e.g. to compare or to
/// display what a node returned next to a locally computed CID.
pub fn normalize_cid(text: &str) -> Result<String> {
    parse_cid(text).map(|cid| cid_to_text(&cid))
}

/// Whether two CIDs address the same bytes with the same codec: equal, or a CIDv0 and the CIDv1
/// (dag-pb) of the same multihash. A node asked for CIDv1 that answers v0 has still stored the
/// same block; whether that is acceptable is the caller's call (it also compares versions).
pub fn same_block(a: &Cid, b: &Cid) -> bool {
    a.codec() == b.codec() && a.hash() == b.hash()
}

/// The CID as the other version, when one exists (v0 ↔ v1 for dag-pb/sha2-256 only).
pub fn other_version(cid: &Cid) -> Option<Cid> {
    match cid.version() {
        Version::V0 => Some(Cid::new_v1(cid.codec(), *cid.hash())),
        Version::V1 => Cid::new_v0(*cid.hash())
            .ok()
            .filter(|_| cid.codec() == crate::block::DAG_PB),
    }
}

/// Reads a `Size`/`Bytes`/`CumulativeSize` value out of a JSON answer. `token` is the raw JSON
/// value text: Kubo sends sizes as strings (`"Size":"22"`), js-ipfs and some Kubo commands as
/// numbers (`"Size":22`). Both mean the same u64; anything else is refused.
pub fn parse_size(token: &str) -> Result<u64> {
    let t = token.trim();
    let digits = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidOption {
            option: "size",
            reason: format!("not an unsigned integer: {token:?}"),
        });
    }
    digits.parse::<u64>().map_err(|_| Error::InvalidOption {
        option: "size",
        reason: format!("out of range: {token:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V0: &str = "QmNWjAiQfTGAAiUYphGbCchJz8J4Z1F6KrqFWjJ8fxLU9e";

    #[test]
    fn parses_every_base_a_node_may_use() {
        let v0 = parse_cid(V0).unwrap();
        let v1 = other_version(&v0).unwrap();
        let b32 = v1.to_string();
        assert!(b32.starts_with("bafybei"), "{b32}");
        for base in [
            cid::multibase::Base::Base58Btc,
            cid::multibase::Base::Base32Upper,
            cid::multibase::Base::Base36Lower,
            cid::multibase::Base::Base16Lower,
            cid::multibase::Base::Base64Url,
        ] {
            let text = v1.to_string_of_base(base).unwrap();
            assert_eq!(parse_cid(&text).unwrap(), v1, "{text}");
            assert_eq!(normalize_cid(&text).unwrap(), b32);
        }
        assert_eq!(parse_cid(&format!("/ipfs/{V0}/a/b.txt")).unwrap(), v0);
        assert!(same_block(&v0, &v1));
        assert_ne!(v0, v1);
        assert_eq!(other_version(&v1), Some(v0));
    }

    #[test]
    fn bad_cid_text_is_a_typed_error() {
        for bad in ["", "Qm", "bafy!!", "hello"] {
            let err = parse_cid(bad).unwrap_err();
            assert_eq!(err.code(), "IPFS_INVALID_CID", "{bad}");
        }
    }

    #[test]
    fn sizes_as_strings_or_numbers() {
        assert_eq!(parse_size("\"3146481\"").unwrap(), 3146481);
        assert_eq!(parse_size(" 22 ").unwrap(), 22);
        for bad in ["\"\"", "-1", "1.5", "\"12a\"", "18446744073709551616"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
