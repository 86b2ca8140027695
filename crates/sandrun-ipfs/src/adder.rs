//! Streaming file CIDs, identical to Kubo's `add` for the same options.
//!
//! The DAG itself is built by `rust-unixfs` (fixed-size chunker, balanced collector with Kubo's
//! 174 links per node, dag-pb or raw leaves); this wrapper adds Kubo's option rules, the
//! cumulative size Kubo reports, and a block sink. Memory stays flat: one chunk buffer plus at
//! most 174 pending links per tree level.

use crate::options::{AddOptions, FILE_MAX_LINKS};
use cid::Cid;
use rust_unixfs::file::adder::{BalancedCollector, Chunker, FileAdder as UnixfsAdder};

/// Receives every block as it is made (leaves first, the root last), e.g. to write a CAR or to
/// upload blocks one by one. `()` discards them.
pub trait BlockSink {
    fn block(&mut self, cid: &Cid, data: &[u8]);
}

impl BlockSink for () {
    fn block(&mut self, _: &Cid, _: &[u8]) {}
}

impl<F: FnMut(&Cid, &[u8])> BlockSink for F {
    fn block(&mut self, cid: &Cid, data: &[u8]) {
        self(cid, data)
    }
}

/// What `add` reports for one file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    pub cid: Cid,
    /// Kubo's `Size`: the cumulative size of the DAG (every block's bytes, a repeated block
    /// counted each time it is linked), not the file's length.
    pub size: u64,
}

/// Computes a file's CID from its bytes pushed in chunks of any size.
pub struct FileAdder {
    inner: UnixfsAdder,
    /// Sum of the lengths of the blocks made so far. The tree is made of fresh nodes only (each
    /// linked exactly once), so at the end this is the root's cumulative size.
    cumulative: u64,
    file_len: u64,
    /// The newest block made: after `finish`, the root. (A file of exactly one chunk has its only
    /// block made by `push`, and `finish` makes none.)
    last: Option<Cid>,
}

impl FileAdder {
    pub fn new(options: &AddOptions) -> Self {
        let inner = UnixfsAdder::builder()
            .with_chunker(Chunker::Size(options.chunk_size))
            .with_collector(BalancedCollector::with_branching_factor(FILE_MAX_LINKS))
            .with_cid_version(options.cid_version)
            .with_raw_leaves(options.raw_leaves())
            .build();
        FileAdder {
            inner,
            cumulative: 0,
            file_len: 0,
            last: None,
        }
    }

    /// Feeds the next bytes of the file; completed blocks go to `sink`.
    pub fn push(&mut self, mut data: &[u8], sink: &mut impl BlockSink) {
        self.file_len += data.len() as u64;
        while !data.is_empty() {
            let (blocks, consumed) = self.inner.push(data);
            for (cid, block) in blocks {
                self.cumulative += block.len() as u64;
                sink.block(&cid, &block);
                self.last = Some(cid);
            }
            data = &data[consumed..];
        }
    }

    /// Bytes pushed so far.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Ends the file: the last leaf and the remaining tree nodes go to `sink`; returns the root.
    pub fn finish(self, sink: &mut impl BlockSink) -> Added {
        let mut cumulative = self.cumulative;
        let mut root = self.last;
        for (cid, block) in self.inner.finish() {
            cumulative += block.len() as u64;
            sink.block(&cid, &block);
            root = Some(cid);
        }
        // Some block always exists by now: an empty file is one empty leaf made by `finish`.
        Added {
            cid: root.expect("a file has at least one block"),
            size: cumulative,
        }
    }
}

/// The CID of a whole in-memory file (convenience over [`FileAdder`]).
pub fn file_cid(data: &[u8], options: &AddOptions) -> Added {
    let mut adder = FileAdder::new(options);
    adder.push(data, &mut ());
    adder.finish(&mut ())
}
