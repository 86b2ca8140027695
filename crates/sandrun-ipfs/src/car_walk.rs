//! A trustless gateway's CAR response, walked as it streams in: push the response bytes, poll for
//! file bytes or directory entries. Every block is verified on arrival; the header must name the
//! root; a CAR that ends while the walk still needs a block is refused with that block's CID.

use crate::block::Block;
use crate::car::{CarItem, CarReader};
use crate::error::{Error, Result};
use crate::walker::{DagWalker, Expect, Limits, RootKind, Step};
use cid::Cid;

pub struct CarWalk {
    reader: CarReader,
    walker: DagWalker,
    ended: bool,
}

impl CarWalk {
    pub fn new(root: Cid, expect: Expect, limits: Limits) -> Self {
        Self::from_walker(root, DagWalker::new(root, expect, limits))
    }

    /// With a walker set up by the caller (e.g. [`DagWalker::with_range`]).
    pub fn from_walker(root: Cid, walker: DagWalker) -> Self {
        CarWalk {
            reader: CarReader::new(Some(root)),
            walker,
            ended: false,
        }
    }

    /// The next bytes of the response.
    pub fn push(&mut self, bytes: &[u8]) {
        self.reader.push(bytes);
    }

    /// Marks the end of the response; fails if it was cut inside a section.
    pub fn end(&mut self) -> Result<()> {
        self.ended = true;
        self.reader.finish()
    }

    /// A block from elsewhere (e.g. fetched as `application/vnd.ipld.raw` after a
    /// [`Error::MissingBlock`]: a deduplicated CAR sends a repeated block once, and the walker's
    /// cache may have let it go).
    pub fn supply(&mut self, block: Block) {
        self.walker.supply(block);
    }

    pub fn kind(&self) -> Option<RootKind> {
        self.walker.kind()
    }

    /// [`Step::Data`], [`Step::Entry`] or [`Step::Done`]; [`Step::Need`] means "push more bytes"
    /// (its CID says which block the walk waits for). After [`end`](Self::end), a block still
    /// needed is an [`Error::MissingBlock`].
    pub fn poll(&mut self) -> Result<Step> {
        loop {
            match self.walker.poll()? {
                Step::Need(cid) => match self.reader.next_item()? {
                    Some(CarItem::Block(block)) => self.walker.supply(block),
                    Some(CarItem::Header { .. }) => {}
                    None if self.ended => return Err(Error::MissingBlock { cid }),
                    None => return Ok(Step::Need(cid)),
                },
                step => return Ok(step),
            }
        }
    }
}
