//! What Kubo's `files stat` reports for a CID, read from its root block alone (so a client can
//! check it against the CID instead of trusting a node's answer): the kind, the file size, the
//! cumulative DAG size and the number of links.

use crate::block::Block;
use crate::error::{Error, Result};
use crate::unixfs_node::{decode, Node};
use crate::RAW;
use ipld_dagpb::PbNode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeStat {
    /// `file`, `directory`, `symlink` or `metadata node`.
    pub kind: &'static str,
    /// A file's bytes (Kubo's `Size`); 0 for the other kinds.
    pub size: u64,
    /// The root block's length plus every link's `Tsize` (Kubo's `CumulativeSize`, which `add`
    /// reports as `Size`).
    pub cumulative_size: u64,
    /// Links of the root block (Kubo's `Blocks`).
    pub blocks: u64,
    /// A HAMT-sharded directory.
    pub sharded: bool,
}

/// Reads the stat of the DAG whose root is `block` (already verified against its CID).
pub fn stat(block: &Block) -> Result<NodeStat> {
    let len = block.data().len() as u64;
    let (links, tsizes) = if block.cid().codec() == RAW {
        (0, 0)
    } else {
        let pb = PbNode::from_bytes(block.data().clone())
            .map_err(|e| Error::malformed(block.cid(), format!("dag-pb: {e}")))?;
        let sum = pb
            .links
            .iter()
            .try_fold(0u64, |sum, l| sum.checked_add(l.size.unwrap_or(0)))
            .ok_or_else(|| Error::malformed(block.cid(), "link sizes overflow"))?;
        (pb.links.len() as u64, sum)
    };
    let node = decode(block)?;
    let (size, sharded) = match &node {
        Node::File { data, children } => (
            children
                .iter()
                .try_fold(data.len() as u64, |sum, (_, size)| sum.checked_add(*size))
                .ok_or_else(|| Error::malformed(block.cid(), "sizes overflow"))?,
            false,
        ),
        Node::HamtShard { .. } => (0, true),
        _ => (0, false),
    };
    Ok(NodeStat {
        kind: node.kind(),
        size,
        cumulative_size: len.saturating_add(tsizes),
        blocks: links,
        sharded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{file_cid, AddOptions, Cid, DirectoryBuilder, FileAdder};

    /// Adds `data` and returns its root block.
    fn root_block(data: &[u8], options: &AddOptions) -> Block {
        let mut last = None;
        let mut sink = |cid: &Cid, bytes: &[u8]| last = Some(Block::verify(*cid, bytes.to_vec()));
        let mut adder = FileAdder::new(options);
        adder.push(data, &mut sink);
        adder.finish(&mut sink);
        last.unwrap().unwrap()
    }

    #[test]
    fn files_report_what_add_reported() {
        let data: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for options in [AddOptions::default(), AddOptions::v1()] {
            let added = file_cid(&data, &options);
            let s = stat(&root_block(&data, &options)).unwrap();
            assert_eq!(
                (s.kind, s.size, s.cumulative_size, s.blocks, s.sharded),
                ("file", 700_000, added.size, 3, false)
            );
        }
        // A single raw leaf: the block is the file.
        let s = stat(&root_block(b"hi", &AddOptions::v1())).unwrap();
        assert_eq!(
            (s.kind, s.size, s.cumulative_size, s.blocks),
            ("file", 2, 2, 0)
        );
    }

    #[test]
    fn directories_have_no_size_but_a_cumulative_one() {
        let options = AddOptions::default();
        let mut dir = DirectoryBuilder::new(&options);
        dir.add_file("a.txt", &file_cid(b"a", &options)).unwrap();
        dir.add_file("b.txt", &file_cid(b"bb", &options)).unwrap();
        let mut root = None;
        let mut sink = |cid: &Cid, bytes: &[u8]| root = Some(Block::verify(*cid, bytes.to_vec()));
        let added = dir.finish(&mut sink).unwrap().root;
        let s = stat(&root.unwrap().unwrap()).unwrap();
        assert_eq!(
            (s.kind, s.size, s.cumulative_size, s.blocks),
            ("directory", 0, added.size, 2)
        );
    }
}
