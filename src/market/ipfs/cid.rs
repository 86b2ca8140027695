//! Local CIDs, identical to Kubo's `add` for the same options (the `sandrun-ipfs` crate builds the
//! DAG; this module feeds it and hashes with the platform's SHA-256 where it can).

use super::hasher::Hasher;
use super::input::Input;
use crate::core::boundary::error::{Result, SdkError};
use sandrun_ipfs::{AddOptions, Added, DirectoryAdded, DirectoryBuilder, FileAdder};

/// One file's CID, computed as its bytes go by (blocks are not kept).
pub struct FileCid(FileAdder<Hasher>);

impl FileCid {
    pub fn new(options: &AddOptions) -> FileCid {
        FileCid(FileAdder::with_hasher(options, Hasher::new()))
    }

    pub fn push(&mut self, piece: &[u8]) {
        self.0.push(piece, &mut ());
    }

    pub fn finish(self) -> Added {
        self.0.finish(&mut ())
    }
}

/// The CID of everything `input` gives.
pub async fn of_input(input: &mut Input, options: &AddOptions) -> Result<Added> {
    let mut cid = FileCid::new(options);
    while let Some(piece) = input.next().await? {
        cid.push(&piece);
    }
    Ok(cid.finish())
}

/// The CID of a directory holding `files` (by path) and the empty directories `dirs`, wrapped
/// as Kubo's `add` wraps them. `field` names the input in problems.
pub fn directory(
    files: &[(String, Added)],
    dirs: &[String],
    options: &AddOptions,
    field: &str,
) -> Result<DirectoryAdded> {
    let bad = |e: sandrun_ipfs::Error| SdkError::field(field, e.to_string());
    let mut dir = DirectoryBuilder::new(options);
    for (path, added) in files {
        dir.add_file(path, added).map_err(bad)?;
    }
    for path in dirs {
        dir.add_directory(path).map_err(bad)?;
    }
    dir.finish(&mut ()).map_err(bad)
}

/// A CID as Kubo prints it: base58btc for CIDv0, base32 for CIDv1.
pub fn text(cid: &sandrun_ipfs::Cid) -> String {
    sandrun_ipfs::cid_to_text(cid)
}
