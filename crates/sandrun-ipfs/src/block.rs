//! Block verification: the only way to make a [`Block`] is to check its bytes against its CID, so
//! everything downstream (CAR reader, DAG walker) handles verified bytes only.

use crate::error::{Error, Result};
use bytes::Bytes;
use cid::Cid;
use sha2::{Digest, Sha256};

/// Multihash code of sha2-256 (what Kubo uses by default).
pub const SHA2_256: u64 = 0x12;
/// Multihash code of the identity "hash": the digest is the data itself (Kubo's `--inline`).
pub const IDENTITY: u64 = 0x00;
/// dag-pb codec (UnixFS nodes).
pub const DAG_PB: u64 = 0x70;
/// raw codec (CIDv1 leaves).
pub const RAW: u64 = 0x55;

/// A block whose bytes were checked against its CID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    cid: Cid,
    data: Bytes,
}

impl Block {
    /// Checks that `data` hashes to `cid`'s multihash (sha2-256 or identity); anything else is
    /// refused as [`Error::UnsupportedHash`] rather than trusted unchecked.
    pub fn verify(cid: Cid, data: impl Into<Bytes>) -> Result<Block> {
        let data = data.into();
        let hash = cid.hash();
        let matches = match hash.code() {
            SHA2_256 if hash.size() == 32 => Sha256::digest(&data).as_slice() == hash.digest(),
            IDENTITY => data.as_ref() == hash.digest(),
            code => return Err(Error::UnsupportedHash { cid, code }),
        };
        if matches {
            Ok(Block { cid, data })
        } else {
            Err(Error::HashMismatch { cid })
        }
    }

    /// The block an identity CID carries inside itself.
    pub fn from_identity(cid: &Cid) -> Option<Block> {
        (cid.hash().code() == IDENTITY).then(|| Block {
            cid: *cid,
            data: Bytes::copy_from_slice(cid.hash().digest()),
        })
    }

    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    pub fn data(&self) -> &Bytes {
        &self.data
    }

    pub fn into_parts(self) -> (Cid, Bytes) {
        (self.cid, self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_identity_and_the_rest() {
        // `hello world` as a raw CIDv1 leaf (toolchain.md reference).
        // (Cid's own parser: this test stays clear of `cid_text`, which depends on this module.)
        let cid: Cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
            .parse()
            .unwrap();
        assert!(Block::verify(cid, &b"hello world"[..]).is_ok());
        let err = Block::verify(cid, &b"hello world!"[..]).unwrap_err();
        assert_eq!(err, Error::HashMismatch { cid });

        let id = Cid::new_v1(
            RAW,
            cid::multihash::Multihash::wrap(IDENTITY, b"inline").unwrap(),
        );
        assert_eq!(
            Block::from_identity(&id).unwrap().data().as_ref(),
            b"inline"
        );
        assert!(Block::verify(id, &b"inline"[..]).is_ok());
        assert_eq!(
            Block::verify(id, &b"other"[..]).unwrap_err().code(),
            "IPFS_HASH_MISMATCH"
        );

        let blake3 = Cid::new_v1(
            RAW,
            cid::multihash::Multihash::wrap(0x1e, &[0u8; 32]).unwrap(),
        );
        assert_eq!(
            Block::verify(blake3, &b""[..]).unwrap_err(),
            Error::UnsupportedHash {
                cid: blake3,
                code: 0x1e
            }
        );
        // A truncated sha2-256 digest is not something this crate vouches for either.
        let short = Cid::new_v1(
            RAW,
            cid::multihash::Multihash::wrap(SHA2_256, &[0u8; 20]).unwrap(),
        );
        assert_eq!(
            Block::verify(short, &b""[..]).unwrap_err().code(),
            "IPFS_UNSUPPORTED_HASH"
        );
    }
}
