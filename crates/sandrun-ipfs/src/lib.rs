//! IPFS pieces for the Sandrun SDK, in pure Rust with no I/O (builds natively and for
//! `wasm32-unknown-unknown`):
//!
//! - **Local CIDs identical to Kubo's `add`** (v0.43), streaming in constant memory:
//!   [`FileAdder`] for files (CIDv0 + dag-pb leaves by default, CIDv1 + raw leaves, any
//!   `size-N` chunker, balanced layout of 174 links) and [`DirectoryBuilder`] for
//!   `wrap-with-directory` trees, nested directories and HAMT-sharded ones; blocks can be
//!   captured as they are made ([`BlockSink`]).
//! - **Verified retrieval**: [`Block::verify`] (sha2-256, identity), a push-based [`CarReader`],
//!   and a [`DagWalker`] that re-assembles a file or lists a directory from blocks arriving in
//!   any order, saying which block it needs next; [`CarWalk`] joins the two for a gateway's CAR.
//! - **Stat from the root block** ([`stat`]): what Kubo's `files stat` reports, checked.
//! - **Kubo answer quirks**: CIDs in any multibase ([`parse_cid`], [`same_block`]), sizes as
//!   strings or numbers ([`parse_size`]).
//!
//! Everything that can fail returns [`Error`], whose [`Error::code`] is stable.

mod adder;
mod block;
mod car;
mod car_walk;
mod cid_text;
mod directory;
mod error;
mod multibase;
mod options;
mod stat;
mod unixfs_node;
mod walker;

pub use adder::{file_cid, Added, BlockSink, FileAdder, Sha2, Sha256};
pub use block::{Block, DAG_PB, IDENTITY, RAW, SHA2_256};
/// The byte buffer blocks and [`Step::Data`] hold.
pub use bytes::Bytes;
pub use car::{CarItem, CarReader, DEFAULT_MAX_BLOCK_SIZE};
pub use car_walk::CarWalk;
pub use cid::{Cid, Version};
pub use cid_text::{cid_to_text, normalize_cid, other_version, parse_cid, parse_size, same_block};
pub use directory::{DirectoryAdded, DirectoryBuilder};
pub use error::{Error, Result};
pub use options::{AddOptions, DEFAULT_CHUNK_SIZE, FILE_MAX_LINKS, HAMT_THRESHOLD, MAX_CHUNK_SIZE};
pub use stat::{stat, NodeStat};
pub use walker::{DagWalker, DirEntry, Expect, Limits, RootKind, Step};
