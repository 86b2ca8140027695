//! A streaming UnixFS DAG walker: from a root CID and verified blocks arriving in any order, it
//! yields a file's bytes in order, or a directory's entries (flat or HAMT), and says which block
//! it needs next.
//!
//! Not rust-unixfs's `Walker`: that one must be handed exactly the block it asks for (but a CAR
//! sends a repeated block once, and a caller may fetch several at once), and it has no bound on
//! depth or on its pending-link stack (a hostile DAG of 2 MiB nodes adds ~50,000 links per
//! level). Here every node is checked against what its parent declared (a child's size must
//! equal the parent's `blocksizes` entry, a node's `filesize` its data plus children), and
//! memory is bounded by [`Limits`].

use crate::block::Block;
use crate::error::{Error, Result};
use crate::unixfs_node::{decode, Node};
use bytes::Bytes;
use cid::Cid;
use ipld_dagpb::PbLink;
use std::collections::{HashMap, VecDeque};

/// Bounds that keep a hostile source from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Levels below the root. Kubo's balanced files of 256 KiB chunks need 4 levels for 240 TB;
    /// HAMT directories need about one level per 8 bits of name hash.
    pub max_depth: usize,
    /// A file whose root declares more bytes is refused before any data is fetched.
    pub max_file_size: u64,
    /// Directory entries listed, over all HAMT shards.
    pub max_entries: u64,
    /// Links known but not visited yet (file parts, shards, entries to report).
    pub max_pending: usize,
    /// Bytes of blocks kept for later: blocks that arrived before they were needed, and blocks
    /// already used that a deduplicated CAR will not send again (a file that repeats a chunk).
    pub max_cached_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_file_size: u64::MAX,
            max_entries: 1 << 20,
            max_pending: 1 << 17,
            max_cached_bytes: 8 << 20,
        }
    }
}

/// What the caller wants the root to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Any,
    File,
    Directory,
}

/// One entry of a directory: its name, the CID it links to, and the link's cumulative size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub cid: Cid,
    pub size: u64,
}

/// What the root turned out to be, known once its block was visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    File { size: u64 },
    Directory { sharded: bool },
}

/// One step of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The next bytes of the file.
    Data(Bytes),
    /// The next directory entry (HAMT entries come in shard order, as Kubo's `ls` lists them).
    Entry(DirEntry),
    /// The walk cannot go on without this block: [`supply`](DagWalker::supply) it.
    Need(Cid),
    /// Every byte or entry has been yielded.
    Done,
}

enum Part {
    Root,
    /// A file node or leaf that must hold exactly this many bytes.
    File {
        size: u64,
    },
    Shard,
    Entry(DirEntry),
}

struct Pending {
    cid: Cid,
    depth: usize,
    part: Part,
}

pub struct DagWalker {
    expect: Expect,
    limits: Limits,
    /// Depth-first: the top is visited next.
    stack: Vec<Pending>,
    cache: BlockCache,
    kind: Option<RootKind>,
    /// File bytes wanted: `start..end` (the whole file by default).
    start: u64,
    end: u64,
    /// File offset of the next byte the walk reaches.
    pos: u64,
    entries: u64,
}

impl DagWalker {
    pub fn new(root: Cid, expect: Expect, limits: Limits) -> Self {
        DagWalker {
            expect,
            limits,
            stack: vec![Pending {
                cid: root,
                depth: 0,
                part: Part::Root,
            }],
            cache: BlockCache::new(limits.max_cached_bytes),
            kind: None,
            start: 0,
            end: u64::MAX,
            pos: 0,
            entries: 0,
        }
    }

    /// Only the file bytes `offset..offset + length` (like Kubo's `cat?offset=&length=`);
    /// blocks wholly outside are not asked for.
    pub fn with_range(mut self, offset: u64, length: Option<u64>) -> Self {
        self.start = offset;
        self.end = length.map_or(u64::MAX, |len| offset.saturating_add(len));
        self
    }

    /// The root's kind, once its block has been visited.
    pub fn kind(&self) -> Option<RootKind> {
        self.kind
    }

    /// Hands over a block (from a CAR, or fetched after [`Step::Need`]); it is kept until used
    /// or until the cache bound pushes it out.
    pub fn supply(&mut self, block: Block) {
        self.cache.insert(block);
    }

    /// Up to `n` blocks the walk will need next, in order, that have not been supplied: for a
    /// caller that fetches several blocks at once.
    pub fn upcoming(&self, n: usize) -> Vec<Cid> {
        self.stack
            .iter()
            .rev()
            .filter(|p| !matches!(p.part, Part::Entry(_)))
            .map(|p| p.cid)
            .filter(|cid| Block::from_identity(cid).is_none() && !self.cache.contains(cid))
            .take(n)
            .collect()
    }

    /// Advances as far as the blocks at hand allow.
    pub fn poll(&mut self) -> Result<Step> {
        loop {
            let Some(next) = self.stack.last() else {
                return Ok(Step::Done);
            };
            if let Part::File { size } = next.part {
                if self.pos >= self.end {
                    self.stack.clear(); // past the range: only file parts are left
                    continue;
                }
                if self.pos.saturating_add(size) <= self.start && size > 0 {
                    self.pos += size;
                    self.stack.pop();
                    continue;
                }
            }
            let (cid, is_entry) = (next.cid, matches!(next.part, Part::Entry(_)));
            if is_entry {
                if let Some(Pending {
                    part: Part::Entry(entry),
                    ..
                }) = self.stack.pop()
                {
                    return Ok(Step::Entry(entry));
                }
            }
            let Some(block) = Block::from_identity(&cid).or_else(|| self.cache.get(&cid)) else {
                return Ok(Step::Need(cid));
            };
            let pending = self.stack.pop().expect("checked above");
            if let Some(data) = self.visit(pending, &block)? {
                return Ok(Step::Data(data));
            }
        }
    }

    fn visit(&mut self, pending: Pending, block: &Block) -> Result<Option<Bytes>> {
        let cid = block.cid();
        let node = decode(block)?;
        match (pending.part, node) {
            (Part::Root, node) => self.visit_root(block, node),
            (Part::File { size }, Node::File { data, children }) => {
                self.visit_file(cid, pending.depth, data, children, Some(size))
            }
            (Part::Shard, Node::HamtShard { links, prefix_len }) => self
                .push_shard_links(cid, pending.depth, links, prefix_len)
                .map(|_| None),
            (Part::File { .. }, node) => Err(Error::malformed(
                cid,
                format!("a file links to a {}", node.kind()),
            )),
            (_, node) => Err(Error::malformed(
                cid,
                format!("a HAMT shard links to a {}", node.kind()),
            )),
        }
    }

    fn visit_root(&mut self, block: &Block, node: Node) -> Result<Option<Bytes>> {
        let cid = block.cid();
        let unexpected = |expected| Error::UnexpectedKind {
            cid: *cid,
            expected,
            found: node.kind(),
        };
        match (self.expect, &node) {
            (Expect::Directory, Node::File { .. } | Node::Other { .. }) => {
                return Err(unexpected("directory"))
            }
            (_, Node::Other { .. }) => return Err(unexpected("file")),
            (Expect::File, Node::Directory { .. } | Node::HamtShard { .. }) => {
                return Err(unexpected("file"))
            }
            _ => {}
        }
        match node {
            Node::File { data, children } => {
                let size = file_size(cid, &data, &children)?;
                if size > self.limits.max_file_size {
                    return Err(Error::LimitExceeded {
                        limit: "file size",
                        value: size,
                        max: self.limits.max_file_size,
                    });
                }
                self.kind = Some(RootKind::File { size });
                self.visit_file(cid, 0, data, children, None)
            }
            Node::Directory { links } => {
                self.kind = Some(RootKind::Directory { sharded: false });
                self.reserve(links.len())?;
                for link in links.into_iter().rev() {
                    let entry = self.entry(cid, link, 0)?;
                    self.stack.push(Pending {
                        cid: entry.cid,
                        depth: 1,
                        part: Part::Entry(entry),
                    });
                }
                Ok(None)
            }
            Node::HamtShard { links, prefix_len } => {
                self.kind = Some(RootKind::Directory { sharded: true });
                self.push_shard_links(cid, 0, links, prefix_len)
                    .map(|_| None)
            }
            // Refused by the kind check above.
            Node::Other { .. } => Ok(None),
        }
    }

    fn visit_file(
        &mut self,
        cid: &Cid,
        depth: usize,
        data: Bytes,
        children: Vec<(Cid, u64)>,
        declared: Option<u64>,
    ) -> Result<Option<Bytes>> {
        let size = file_size(cid, &data, &children)?;
        if let Some(declared) = declared {
            if declared != size {
                return Err(Error::malformed(
                    cid,
                    format!("its parent declares {declared} bytes, it holds {size}"),
                ));
            }
        }
        if !children.is_empty() {
            self.check_depth(depth + 1)?;
            self.reserve(children.len())?;
            for (child, size) in children.into_iter().rev() {
                self.stack.push(Pending {
                    cid: child,
                    depth: depth + 1,
                    part: Part::File { size },
                });
            }
        }
        // This node's own bytes come before its children's; cut them to the range.
        let (at, len) = (self.pos, data.len() as u64);
        self.pos += len;
        let from = self.start.saturating_sub(at).min(len) as usize;
        let to = self.end.saturating_sub(at).min(len) as usize;
        Ok((from < to).then(|| data.slice(from..to)))
    }

    fn push_shard_links(
        &mut self,
        cid: &Cid,
        depth: usize,
        links: Vec<PbLink>,
        prefix_len: usize,
    ) -> Result<()> {
        self.check_depth(depth + 1)?;
        self.reserve(links.len())?;
        for link in links.into_iter().rev() {
            let name = link.name.as_deref().unwrap_or_default();
            let bucket_ok = name.len() >= prefix_len
                && name.as_bytes()[..prefix_len]
                    .iter()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b));
            if !bucket_ok {
                return Err(Error::malformed(
                    cid,
                    format!("HAMT link name {name:?} lacks its bucket prefix"),
                ));
            }
            if name.len() == prefix_len {
                self.stack.push(Pending {
                    cid: link.cid,
                    depth: depth + 1,
                    part: Part::Shard,
                });
            } else {
                let entry = self.entry(cid, link, prefix_len)?;
                self.stack.push(Pending {
                    cid: entry.cid,
                    depth: depth + 1,
                    part: Part::Entry(entry),
                });
            }
        }
        Ok(())
    }

    /// A directory link as an entry; `skip` bytes of bucket prefix are dropped from HAMT names.
    fn entry(&mut self, dir: &Cid, link: PbLink, skip: usize) -> Result<DirEntry> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(Error::LimitExceeded {
                limit: "directory entries",
                value: self.entries,
                max: self.limits.max_entries,
            });
        }
        let name = link.name.unwrap_or_default().split_off(skip);
        // A name that could step out of the directory when written to disk is refused here.
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(Error::malformed(
                dir,
                format!("directory entry name {name:?}"),
            ));
        }
        Ok(DirEntry {
            name,
            cid: link.cid,
            size: link.size.unwrap_or(0),
        })
    }

    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(Error::LimitExceeded {
                limit: "DAG depth",
                value: depth as u64,
                max: self.limits.max_depth as u64,
            });
        }
        Ok(())
    }

    fn reserve(&self, more: usize) -> Result<()> {
        let pending = self.stack.len() + more;
        if pending > self.limits.max_pending {
            return Err(Error::LimitExceeded {
                limit: "pending links",
                value: pending as u64,
                max: self.limits.max_pending as u64,
            });
        }
        Ok(())
    }
}

fn file_size(cid: &Cid, data: &Bytes, children: &[(Cid, u64)]) -> Result<u64> {
    children
        .iter()
        .try_fold(data.len() as u64, |sum, (_, size)| sum.checked_add(*size))
        .ok_or_else(|| Error::malformed(cid, "sizes overflow"))
}

/// Blocks at hand, first in first out within a byte budget. FIFO rather than LRU: in a CAR the
/// block needed next is the newest one, and a repeated chunk is best kept from its first arrival.
struct BlockCache {
    blocks: HashMap<Cid, Block>,
    order: VecDeque<Cid>,
    bytes: usize,
    max: usize,
}

impl BlockCache {
    fn new(max: usize) -> Self {
        BlockCache {
            blocks: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max,
        }
    }

    fn insert(&mut self, block: Block) {
        let cid = *block.cid();
        if self.blocks.contains_key(&cid) {
            return;
        }
        self.bytes += block.data().len();
        self.blocks.insert(cid, block);
        self.order.push_back(cid);
        // Always keep the newest block, even above the budget: it is the one the walk waits for.
        while self.bytes > self.max && self.order.len() > 1 {
            let oldest = self.order.pop_front().expect("len > 1");
            self.bytes -= self.blocks.remove(&oldest).map_or(0, |b| b.data().len());
        }
    }

    fn get(&self, cid: &Cid) -> Option<Block> {
        self.blocks.get(cid).cloned()
    }

    fn contains(&self, cid: &Cid) -> bool {
        self.blocks.contains_key(cid)
    }
}
