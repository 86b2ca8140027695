//! The DAG walker without a network: DAGs made by the local adder, blocks handed over in any
//! order, byte ranges, and hand-made hostile nodes (lying sizes, wrong kinds, names that escape a
//! directory, limits).

mod common;

use bytes::Bytes;
use common::*;
use ipld_dagpb::{PbLink, PbNode};
use sandrun_ipfs::*;
use std::collections::BTreeMap;

/// Walks to the end, supplying blocks only when asked; returns the bytes and how many were asked.
fn walk_on_demand(mut walker: DagWalker, blocks: &[Block]) -> Result<(Vec<u8>, usize)> {
    let by_cid: BTreeMap<Cid, &Block> = blocks.iter().map(|b| (*b.cid(), b)).collect();
    let (mut out, mut asked) = (Vec::new(), 0);
    loop {
        match walker.poll()? {
            Step::Data(bytes) => out.extend_from_slice(&bytes),
            Step::Need(cid) => {
                asked += 1;
                let block = by_cid.get(&cid).ok_or(Error::MissingBlock { cid })?;
                walker.supply((*block).clone());
            }
            Step::Done => return Ok((out, asked)),
            Step::Entry(e) => panic!("entry {e:?}"),
        }
    }
}

fn file_walker(root: Cid) -> DagWalker {
    DagWalker::new(root, Expect::File, Limits::default())
}

#[test]
fn any_block_order_gives_the_file() {
    let mut rng = Rng(7);
    let data = unique(300_000);
    for options in [
        AddOptions::default().with_chunker("size-256").unwrap(), // three levels
        AddOptions::v1().with_chunker("size-1000").unwrap(),
        AddOptions::v1(),
    ] {
        let (added, mut blocks) = add_blocks(&data, &options, 4096);
        rng.shuffle(&mut blocks);
        let mut walker = file_walker(added.cid);
        blocks.into_iter().for_each(|b| walker.supply(b));
        let (out, asked) = walk_on_demand(walker, &[]).unwrap();
        assert!(out == data, "{options:?}");
        assert_eq!(asked, 0);
    }
}

#[test]
fn repeated_chunks_are_asked_once_and_memory_stays_bounded() {
    // 3mb.bin: twelve links to one leaf. With a cache of one byte the walker still keeps the
    // newest block, which is the one it needs again.
    let (added, blocks) = add_blocks(&three_mb(), &AddOptions::default(), 1 << 20);
    let limits = Limits {
        max_cached_bytes: 1,
        ..Limits::default()
    };
    let (out, asked) =
        walk_on_demand(DagWalker::new(added.cid, Expect::File, limits), &blocks).unwrap();
    assert!(out == three_mb());
    assert_eq!(asked, 2, "the root and the one leaf");
}

#[test]
fn byte_ranges_fetch_only_the_blocks_they_cover() {
    let data = unique(100_000);
    let (added, blocks) = add_blocks(
        &data,
        &AddOptions::v1().with_chunker("size-1000").unwrap(),
        5000,
    );
    let mut rng = Rng(11);
    let cases = [
        (0, Some(0)),
        (0, None),
        (99_999, Some(10)),
        (100_000, Some(5)),
        (250, Some(2000)),
        (5_000, Some(1000)),
    ];
    let random = (0..20).map(|_| (rng.below(100_100), Some(rng.below(30_000))));
    for (offset, length) in cases.into_iter().chain(random) {
        let walker = file_walker(added.cid).with_range(offset, length);
        let (out, asked) = walk_on_demand(walker, &blocks).unwrap();
        let start = (offset as usize).min(data.len());
        let end = length
            .map_or(data.len(), |l| (offset + l) as usize)
            .min(data.len());
        assert!(out == data[start..end], "{offset} {length:?}");
        let leaves = (end.div_ceil(1000)).saturating_sub(start / 1000);
        assert!(
            asked <= 2 + leaves,
            "{offset} {length:?}: {asked} blocks for {leaves} leaves"
        );
    }
}

#[test]
fn identity_cids_need_no_block() {
    let inline = Cid::new_v1(
        RAW,
        cid::multihash::Multihash::wrap(IDENTITY, b"tiny file").unwrap(),
    );
    let (out, asked) = walk_on_demand(file_walker(inline), &[]).unwrap();
    assert_eq!((out.as_slice(), asked), (&b"tiny file"[..], 0));
}

#[test]
fn directories_flat_and_sharded_list_every_entry() {
    for count in [3usize, 5000] {
        let mut dir = DirectoryBuilder::new(&AddOptions::v1());
        let mut expected = BTreeMap::new();
        for i in 0..count {
            // Long names so that 5000 entries pass the 256 KiB HAMT threshold.
            let name = format!("entry-{i:05}-{}", "x".repeat(40));
            let file = file_cid(name.as_bytes(), &AddOptions::v1());
            dir.add_file(&name, &file).unwrap();
            expected.insert(name, (file.cid, file.size));
        }
        let mut blocks = Vec::new();
        let root = dir
            .finish(&mut |c: &Cid, d: &[u8]| blocks.push(Block::verify(*c, d.to_vec()).unwrap()))
            .unwrap()
            .root;
        let mut walker = DagWalker::new(root.cid, Expect::Directory, Limits::default());
        let by_cid: BTreeMap<Cid, Block> = blocks.into_iter().map(|b| (*b.cid(), b)).collect();
        let mut listed = BTreeMap::new();
        loop {
            match walker.poll().unwrap() {
                Step::Entry(e) => assert!(listed.insert(e.name, (e.cid, e.size)).is_none()),
                Step::Need(cid) => walker.supply(by_cid[&cid].clone()),
                Step::Done => break,
                Step::Data(_) => panic!("data in a directory"),
            }
        }
        assert_eq!(listed, expected, "{count} entries");
        assert_eq!(
            walker.kind(),
            Some(RootKind::Directory { sharded: count > 3 })
        );
    }
}

// ---- hand-made hostile nodes ----

/// UnixFS `Data` bytes: type, optional data, optional filesize, blocksizes.
fn unixfs(kind: u8, data: &[u8], filesize: Option<u64>, blocksizes: &[u64]) -> Vec<u8> {
    let mut out = vec![0x08, kind];
    if !data.is_empty() {
        out.push(0x12);
        varint(&mut out, data.len() as u64);
        out.extend_from_slice(data);
    }
    if let Some(size) = filesize {
        out.push(0x18);
        varint(&mut out, size);
    }
    for size in blocksizes {
        out.push(0x20);
        varint(&mut out, *size);
    }
    out
}

fn varint(out: &mut Vec<u8>, value: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(value, &mut buf));
}

/// A dag-pb node as a verified block (CIDv0).
fn node(links: &[(&str, Cid, u64)], data: Vec<u8>) -> Block {
    let links = links.iter().map(|(name, cid, size)| PbLink {
        cid: *cid,
        name: Some(name.to_string()),
        size: Some(*size),
    });
    let bytes = PbNode {
        links: links.collect(),
        data: Some(Bytes::from(data)),
    }
    .into_bytes();
    let digest = sha2::Sha256::digest(&bytes);
    let cid = Cid::new_v0(cid::multihash::Multihash::wrap(SHA2_256, &digest).unwrap()).unwrap();
    Block::verify(cid, bytes).unwrap()
}

use sha2::Digest;

fn raw_leaf(data: &[u8]) -> Block {
    let digest = sha2::Sha256::digest(data);
    let cid = Cid::new_v1(
        RAW,
        cid::multihash::Multihash::wrap(SHA2_256, &digest).unwrap(),
    );
    Block::verify(cid, data.to_vec()).unwrap()
}

fn walk_err(root: &Block, blocks: &[Block], expect: Expect, limits: Limits) -> Error {
    let mut walker = DagWalker::new(*root.cid(), expect, limits);
    let all: Vec<Block> = blocks.iter().cloned().chain([root.clone()]).collect();
    let by_cid: BTreeMap<Cid, Block> = all.into_iter().map(|b| (*b.cid(), b)).collect();
    loop {
        match walker.poll() {
            Err(e) => return e,
            Ok(Step::Need(cid)) => walker.supply(
                by_cid
                    .get(&cid)
                    .cloned()
                    .unwrap_or_else(|| panic!("asked {cid}")),
            ),
            Ok(Step::Done) => panic!("a hostile DAG was accepted"),
            Ok(_) => {}
        }
    }
}

/// The code of the error a file walk from `root` ends with, and the block it names.
fn file_refused(root: &Block, blocks: &[Block]) -> (&'static str, Option<Cid>) {
    let err = walk_err(root, blocks, Expect::File, Limits::default());
    (err.code(), err.cid().copied())
}

#[test]
fn nodes_that_lie_about_sizes_are_refused_naming_the_block() {
    let leaf = raw_leaf(b"0123456789");
    let leaves = std::slice::from_ref(&leaf);
    let malformed = |cid: &Block| ("IPFS_MALFORMED_NODE", Some(*cid.cid()));
    // The parent says 11 bytes, the leaf holds 10.
    let root = node(&[("", *leaf.cid(), 10)], unixfs(2, b"", Some(11), &[11]));
    assert_eq!(file_refused(&root, leaves), malformed(&leaf));
    // filesize disagrees with data + blocksizes.
    let root = node(&[("", *leaf.cid(), 10)], unixfs(2, b"", Some(99), &[10]));
    assert_eq!(file_refused(&root, leaves), malformed(&root));
    // Two links, one blocksize.
    let root = node(
        &[("", *leaf.cid(), 10), ("", *leaf.cid(), 10)],
        unixfs(2, b"", None, &[10]),
    );
    assert_eq!(file_refused(&root, &[]), malformed(&root));
    // UnixFS data that does not decode.
    let garbage = node(&[], b"\xff\xff\xff".to_vec());
    assert_eq!(file_refused(&garbage, &[]), malformed(&garbage));
}

#[test]
fn wrong_kinds_codecs_and_names_are_refused() {
    let file = raw_leaf(b"data");
    let dir = node(&[("a", *file.cid(), 4)], unixfs(1, b"", None, &[]));
    assert_eq!(
        walk_err(&dir, &[], Expect::File, Limits::default()),
        Error::UnexpectedKind {
            cid: *dir.cid(),
            expected: "file",
            found: "directory"
        }
    );
    assert_eq!(
        walk_err(&file, &[], Expect::Directory, Limits::default()).code(),
        "IPFS_UNEXPECTED_KIND"
    );
    let symlink = node(&[], unixfs(4, b"/etc/passwd", None, &[]));
    assert_eq!(
        walk_err(&symlink, &[], Expect::Any, Limits::default()).code(),
        "IPFS_UNEXPECTED_KIND"
    );
    // A file node that links to a directory.
    let root = node(&[("", *dir.cid(), 50)], unixfs(2, b"", None, &[4]));
    assert_eq!(
        walk_err(
            &root,
            std::slice::from_ref(&dir),
            Expect::File,
            Limits::default()
        )
        .code(),
        "IPFS_MALFORMED_NODE"
    );
    // dag-cbor where UnixFS was expected.
    let cbor = Cid::new_v1(0x71, *file.cid().hash());
    let err = walk_err(
        &Block::verify(cbor, b"data".to_vec()).unwrap(),
        &[],
        Expect::Any,
        Limits::default(),
    );
    assert_eq!(
        err,
        Error::UnexpectedCodec {
            cid: cbor,
            codec: 0x71
        }
    );
    // Entry names that would leave the directory when written out.
    for bad in ["..", ".", "a/b"] {
        let dir = node(&[(bad, *file.cid(), 4)], unixfs(1, b"", None, &[]));
        assert_eq!(
            walk_err(&dir, &[], Expect::Directory, Limits::default()).code(),
            "IPFS_MALFORMED_NODE",
            "{bad}"
        );
    }
    // A HAMT link without its bucket prefix.
    let mut hamt = unixfs(5, &[1], None, &[]);
    hamt.extend_from_slice(&[0x28, 0x22, 0x30, 0x80, 0x02]); // hashType murmur3, fanout 256
    let shard = node(&[("zz-name", *file.cid(), 4)], hamt);
    assert_eq!(
        walk_err(&shard, &[], Expect::Directory, Limits::default()).code(),
        "IPFS_MALFORMED_NODE"
    );
}

#[test]
fn limits_stop_hostile_dags_early() {
    let data = unique(200_000);
    let (added, blocks) = add_blocks(
        &data,
        &AddOptions::v1().with_chunker("size-100").unwrap(),
        4096,
    );
    let root = blocks.last().unwrap().clone();
    assert_eq!(root.cid(), &added.cid);
    // Declared size above the limit: refused at the root, before any other block is asked for.
    let limits = Limits {
        max_file_size: 199_999,
        ..Limits::default()
    };
    let mut walker = DagWalker::new(added.cid, Expect::File, limits);
    walker.supply(root);
    assert_eq!(
        walker.poll().unwrap_err(),
        Error::LimitExceeded {
            limit: "file size",
            value: 200_000,
            max: 199_999
        }
    );
    // 2000 leaves of 100 B make three levels; a depth limit of 1 stops at the second.
    let err = walk_on_demand(
        DagWalker::new(
            added.cid,
            Expect::File,
            Limits {
                max_depth: 1,
                ..Limits::default()
            },
        ),
        &blocks,
    )
    .unwrap_err();
    assert_eq!(err.code(), "IPFS_LIMIT_EXCEEDED");
    let err = walk_on_demand(
        DagWalker::new(
            added.cid,
            Expect::File,
            Limits {
                max_pending: 100,
                ..Limits::default()
            },
        ),
        &blocks,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::LimitExceeded {
            limit: "pending links",
            value: 174 + 11,
            max: 100
        }
    );
}
