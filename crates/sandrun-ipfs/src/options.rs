//! `add` options, named and defaulted as Kubo's (`ipfs add --help`, Kubo v0.43 `config/import.go`).

use crate::error::{Error, Result};
use cid::Version;

/// Kubo's default chunk: `size-262144`.
pub const DEFAULT_CHUNK_SIZE: usize = 256 * 1024;
/// The largest `size-N` Kubo accepts: its 2 MiB block limit less a 256-byte framing budget
/// (boxo `chunker.ChunkSizeLimit`).
pub const MAX_CHUNK_SIZE: usize = 2 * 1024 * 1024 - 256;
/// Links per file node in Kubo's balanced layout (`Import.UnixFSFileMaxLinks`).
pub const FILE_MAX_LINKS: usize = 174;
/// Kubo switches a directory to a HAMT when the sum over its entries of
/// `len(name) + len(cid bytes)` is strictly above this (`Import.UnixFSHAMTDirectorySizeThreshold`,
/// estimation mode `links`, both Kubo v0.43 defaults). At exactly this value it stays flat.
pub const HAMT_THRESHOLD: u64 = 256 * 1024;

/// What `ipfs add` is told. Every field maps to one Kubo RPC parameter, so the SDK can send the
/// same values explicitly and compare the CID that comes back with the local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOptions {
    /// `cid-version` (0 or 1).
    pub cid_version: Version,
    /// `raw-leaves`; when `None`, Kubo's rule: on for CIDv1, off for CIDv0.
    pub raw_leaves: Option<bool>,
    /// `chunker=size-N`: fixed-size chunks of this many bytes.
    pub chunk_size: usize,
}

impl Default for AddOptions {
    /// Kubo's defaults: CIDv0, dag-pb leaves, `size-262144`.
    fn default() -> Self {
        AddOptions {
            cid_version: Version::V0,
            raw_leaves: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl AddOptions {
    /// Kubo's `add?cid-version=1`: CIDv1 with raw leaves.
    pub fn v1() -> Self {
        AddOptions {
            cid_version: Version::V1,
            ..Self::default()
        }
    }

    /// `cid-version` as Kubo takes it (0 or 1).
    pub fn with_cid_version(mut self, version: u64) -> Result<Self> {
        self.cid_version = match version {
            0 => Version::V0,
            1 => Version::V1,
            other => {
                return Err(Error::InvalidOption {
                    option: "cidVersion",
                    reason: format!("{other} is not 0 or 1"),
                })
            }
        };
        Ok(self)
    }

    pub fn with_raw_leaves(mut self, raw_leaves: bool) -> Self {
        self.raw_leaves = Some(raw_leaves);
        self
    }

    /// `chunker` as Kubo spells it: `size-N` (1 ≤ N ≤ [`MAX_CHUNK_SIZE`]), or `default`/empty for
    /// `size-262144`. Content-defined chunkers (`rabin`, `buzhash`) are refused: the SDK does not
    /// reproduce them, and a CID it cannot check is worse than an error.
    pub fn with_chunker(mut self, chunker: &str) -> Result<Self> {
        self.chunk_size = parse_chunker(chunker)?;
        Ok(self)
    }

    /// The effective `raw-leaves`.
    pub fn raw_leaves(&self) -> bool {
        self.raw_leaves.unwrap_or(self.cid_version == Version::V1)
    }

    /// The `chunker` parameter to send to Kubo.
    pub fn chunker(&self) -> String {
        format!("size-{}", self.chunk_size)
    }

    /// The `cid-version` parameter to send to Kubo.
    pub fn cid_version_number(&self) -> u64 {
        match self.cid_version {
            Version::V0 => 0,
            Version::V1 => 1,
        }
    }
}

fn parse_chunker(chunker: &str) -> Result<usize> {
    let invalid = |reason: String| Error::InvalidOption {
        option: "chunker",
        reason,
    };
    if chunker.is_empty() || chunker == "default" {
        return Ok(DEFAULT_CHUNK_SIZE);
    }
    let Some(size) = chunker.strip_prefix("size-") else {
        return Err(invalid(format!(
            "{chunker:?}: only fixed-size chunking (size-N) is supported"
        )));
    };
    let size: usize = size
        .parse()
        .ok()
        .filter(|_| size.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| invalid(format!("{chunker:?}: N must be a decimal number")))?;
    if size == 0 || size > MAX_CHUNK_SIZE {
        return Err(invalid(format!(
            "{chunker:?}: N must be between 1 and {MAX_CHUNK_SIZE}"
        )));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubo_defaults_and_rules() {
        let d = AddOptions::default();
        assert_eq!(
            (d.cid_version_number(), d.raw_leaves(), d.chunker().as_str()),
            (0, false, "size-262144")
        );
        let v1 = AddOptions::v1();
        assert!(v1.raw_leaves(), "cid-version=1 implies raw leaves");
        assert!(!v1.with_raw_leaves(false).raw_leaves());
        assert_eq!(d.with_chunker("size-1024").unwrap().chunk_size, 1024);
        assert_eq!(
            d.with_chunker("default").unwrap().chunk_size,
            DEFAULT_CHUNK_SIZE
        );
        assert_eq!(
            d.with_chunker(&format!("size-{MAX_CHUNK_SIZE}"))
                .unwrap()
                .chunk_size,
            MAX_CHUNK_SIZE
        );
    }

    #[test]
    fn refuses_what_kubo_refuses_or_we_cannot_reproduce() {
        let d = AddOptions::default();
        for bad in [
            "size-0",
            "size-",
            "size--1",
            "size-+4",
            "size-2096897",
            "rabin",
            "buzhash",
            "size-1-2",
        ] {
            let err = d.with_chunker(bad).unwrap_err();
            assert_eq!(err.code(), "IPFS_INVALID_OPTION", "{bad}");
        }
        assert!(d.with_cid_version(2).is_err());
    }
}
