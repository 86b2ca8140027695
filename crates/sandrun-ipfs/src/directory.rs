//! Directory CIDs, identical to Kubo's `add` with `wrap-with-directory` (and `-r` for nested paths).
//!
//! Files are added first (each through a [`FileAdder`](crate::FileAdder)), then linked here by
//! path; `rust-unixfs` renders the directories, switching a directory to a HAMT shard (fanout 256,
//! murmur3-x64-64 of the name) exactly when Kubo v0.43 does: `len(name) + len(cid bytes)` summed
//! over its entries strictly above 256 KiB ([`HAMT_THRESHOLD`]). Directory nodes are few and
//! small, so they keep rust-unixfs's own SHA-256 (the file adder's is pluggable).

use crate::adder::{Added, BlockSink};
use crate::error::{Error, Result};
use crate::options::{AddOptions, HAMT_THRESHOLD};
use rust_unixfs::dir::builder::{BufferingTreeBuilder, TreeBuildingFailed, TreeOptions};
use rust_unixfs::Metadata;

/// Collects the entries of a directory tree, then renders it.
pub struct DirectoryBuilder {
    inner: BufferingTreeBuilder,
}

/// The result of [`DirectoryBuilder::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryAdded {
    /// The wrapping directory: what Kubo's `add` reports last, with the empty name.
    pub root: Added,
    /// Every directory below the root, by path (`"a"`, `"a/b"`), children before parents, as
    /// Kubo reports them: the CID of `a` is what `ipfs add -r a` (without wrapping) returns.
    pub directories: Vec<(String, Added)>,
}

impl DirectoryBuilder {
    /// Directory nodes take the CID version of `options` (leaf options belong to the files).
    pub fn new(options: &AddOptions) -> Self {
        let mut tree = TreeOptions::default();
        tree.cid_version(options.cid_version);
        tree.wrap_with_directory();
        tree.shard_threshold(Some(HAMT_THRESHOLD));
        // Kubo has no cap on a flat directory's block (the HAMT threshold keeps it near 256 KiB
        // of names and CIDs); rust-unixfs would otherwise refuse blocks above 512 KiB.
        tree.block_size_limit(None);
        DirectoryBuilder {
            inner: BufferingTreeBuilder::new(tree),
        }
    }

    /// Links an added file (or any DAG) at `path` (`"a/b.txt"`; parents are implied).
    pub fn add_file(&mut self, path: &str, file: &Added) -> Result<()> {
        check_path(path)?;
        self.inner
            .put_link(path, file.cid, file.size)
            .map_err(|e| path_error(path, e))
    }

    /// Adds a directory at `path`, so that it exists even when empty (Kubo keeps empty
    /// directories: `Import.UnixFSIncludeEmptyDirs` defaults to true).
    pub fn add_directory(&mut self, path: &str) -> Result<()> {
        check_path(path)?;
        self.inner
            .set_metadata(path, Metadata::default())
            .map_err(|e| path_error(path, e))
    }

    /// Renders every directory (children first, HAMT shards included) into `sink`.
    pub fn finish(self, sink: &mut impl BlockSink) -> Result<DirectoryAdded> {
        let mut nodes = self.inner.build();
        let mut directories = Vec::new();
        let mut last = None;
        while let Some(node) = nodes.next_borrowed() {
            let node = node.map_err(|e| Error::InvalidPath {
                path: String::new(),
                reason: render_reason(&e),
            })?;
            sink.block(node.cid, node.block);
            let added = Added {
                cid: *node.cid,
                size: node.total_size,
            };
            // Interior HAMT shards come with the empty path, like the root; only the last node
            // is the root, so real directories are the ones with a path.
            if !node.path.is_empty() {
                directories.push((node.path.to_string(), added));
            }
            last = Some(added);
        }
        // With wrapping on, the wrapper is always rendered, even with no entries at all.
        let root = last.ok_or(Error::InvalidPath {
            path: String::new(),
            reason: "empty tree",
        })?;
        Ok(DirectoryAdded { root, directories })
    }
}

/// Paths as Kubo's multipart upload carries them: relative, `/`-separated, no empty, `.` or `..`
/// segments (Kubo refuses those; rust-unixfs would accept `.` as a name).
fn check_path(path: &str) -> Result<()> {
    let reason = if path.is_empty() {
        Some("empty path")
    } else if path.split('/').any(|s| s == "." || s == "..") {
        Some("`.` and `..` are not entry names")
    } else if path.split('/').any(str::is_empty) {
        Some("leading, trailing or repeated `/`")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidPath {
            path: path.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

fn path_error(path: &str, e: TreeBuildingFailed) -> Error {
    let reason = match e {
        TreeBuildingFailed::DuplicatePath(_) => "added twice",
        TreeBuildingFailed::LeafAsDirectory(_) => "a file is in the way of this directory",
        _ => "not a relative path",
    };
    Error::InvalidPath {
        path: path.to_string(),
        reason,
    }
}

/// Rendering fails only for a HAMT whose names collide on all 64 hash bits, which no real tree
/// reaches; the reason is kept static so the error stays `Clone + Eq`.
fn render_reason(e: &rust_unixfs::dir::builder::TreeConstructionFailed) -> &'static str {
    use rust_unixfs::dir::builder::TreeConstructionFailed::*;
    match e {
        ShardTooDeep(_) => "HAMT names collide on every hash bit",
        _ => "directory node could not be encoded",
    }
}
