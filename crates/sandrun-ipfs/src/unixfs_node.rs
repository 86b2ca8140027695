//! Decoding one UnixFS node (dag-pb, or a raw leaf) into what the walker needs.
//!
//! dag-pb itself is decoded by `ipld-dagpb`. The UnixFS `Data` message inside it is read here with
//! quick-protobuf's reader because rust-unixfs keeps its protobuf types private; the message is
//! eight fields (`unixfs.proto`), of which the walker uses six.

use crate::block::{Block, DAG_PB, RAW};
use crate::error::{Error, Result};
use bytes::Bytes;
use cid::Cid;
use ipld_dagpb::{PbLink, PbNode};
use quick_protobuf::BytesReader;

/// UnixFS `Data.Type` values.
const TYPE_RAW: i32 = 0;
const TYPE_DIRECTORY: i32 = 1;
const TYPE_FILE: i32 = 2;
const TYPE_METADATA: i32 = 3;
const TYPE_SYMLINK: i32 = 4;
const TYPE_HAMT: i32 = 5;
/// Multihash code of murmur3-x64-64, the only HAMT hash UnixFS defines.
const MURMUR3_X64_64: u64 = 0x22;

/// A decoded node.
pub(crate) enum Node {
    /// File content: bytes held in this block, then children of the given sizes in order.
    File {
        data: Bytes,
        children: Vec<(Cid, u64)>,
    },
    /// A flat directory: its entries as dag-pb links (name, target, Tsize).
    Directory { links: Vec<PbLink> },
    /// One node of a HAMT-sharded directory; link names start with `prefix_len` hex digits.
    HamtShard {
        links: Vec<PbLink>,
        prefix_len: usize,
    },
    /// A symlink or a metadata node: valid UnixFS, but nothing the SDK reads.
    Other { kind: &'static str },
}

impl Node {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::File { .. } => "file",
            Node::Directory { .. } | Node::HamtShard { .. } => "directory",
            Node::Other { kind } => kind,
        }
    }
}

/// The fields of UnixFS `Data` the walker uses.
#[derive(Default)]
struct UnixfsData<'a> {
    kind: Option<i32>,
    data: Option<&'a [u8]>,
    filesize: Option<u64>,
    blocksizes: Vec<u64>,
    hash_type: Option<u64>,
    fanout: Option<u64>,
}

pub(crate) fn decode(block: &Block) -> Result<Node> {
    let cid = block.cid();
    match cid.codec() {
        RAW => {
            return Ok(Node::File {
                data: block.data().clone(),
                children: Vec::new(),
            })
        }
        DAG_PB => {}
        codec => return Err(Error::UnexpectedCodec { cid: *cid, codec }),
    }
    let node = PbNode::from_bytes(block.data().clone())
        .map_err(|e| Error::malformed(cid, format!("dag-pb: {e}")))?;
    let raw_data = node
        .data
        .clone()
        .ok_or_else(|| Error::malformed(cid, "dag-pb node without UnixFS data"))?;
    let fields =
        read_unixfs(&raw_data).map_err(|e| Error::malformed(cid, format!("UnixFS data: {e}")))?;
    match fields.kind {
        Some(TYPE_FILE | TYPE_RAW) => file_node(cid, &raw_data, fields, node.links),
        Some(TYPE_DIRECTORY) => Ok(Node::Directory { links: node.links }),
        Some(TYPE_HAMT) => hamt_node(cid, fields, node.links),
        Some(TYPE_SYMLINK) => Ok(Node::Other { kind: "symlink" }),
        Some(TYPE_METADATA) => Ok(Node::Other {
            kind: "metadata node",
        }),
        Some(other) => Err(Error::malformed(
            cid,
            format!("unknown UnixFS type {other}"),
        )),
        None => Err(Error::malformed(cid, "UnixFS data without a type")),
    }
}

fn file_node(cid: &Cid, raw: &Bytes, fields: UnixfsData<'_>, links: Vec<PbLink>) -> Result<Node> {
    if links.len() != fields.blocksizes.len() {
        return Err(Error::malformed(
            cid,
            format!(
                "{} links but {} blocksizes",
                links.len(),
                fields.blocksizes.len()
            ),
        ));
    }
    let data = fields.data.map(|d| raw.slice_ref(d)).unwrap_or_default();
    let total = fields
        .blocksizes
        .iter()
        .try_fold(data.len() as u64, |sum, &size| sum.checked_add(size))
        .ok_or_else(|| Error::malformed(cid, "blocksizes overflow"))?;
    if let Some(filesize) = fields.filesize {
        if filesize != total {
            return Err(Error::malformed(
                cid,
                format!("filesize {filesize} but data and children hold {total}"),
            ));
        }
    }
    let children = links
        .into_iter()
        .map(|link| link.cid)
        .zip(fields.blocksizes)
        .collect();
    Ok(Node::File { data, children })
}

fn hamt_node(cid: &Cid, fields: UnixfsData<'_>, links: Vec<PbLink>) -> Result<Node> {
    if fields.hash_type != Some(MURMUR3_X64_64) {
        return Err(Error::malformed(
            cid,
            format!(
                "HAMT hash type {:?} is not murmur3-x64-64",
                fields.hash_type
            ),
        ));
    }
    // Fanout: a power of two (Kubo: 256, and 8..=1024 when configured); bucket names are the
    // index in upper-case hex, padded to the width of `fanout - 1` ("FF" → 2 digits).
    let prefix_len = match fields.fanout {
        Some(f) if f.is_power_of_two() && (8..=1 << 16).contains(&f) => {
            format!("{:X}", f - 1).len()
        }
        other => return Err(Error::malformed(cid, format!("HAMT fanout {other:?}"))),
    };
    Ok(Node::HamtShard { links, prefix_len })
}

fn read_unixfs(bytes: &[u8]) -> quick_protobuf::Result<UnixfsData<'_>> {
    let mut reader = BytesReader::from_bytes(bytes);
    let mut out = UnixfsData::default();
    while !reader.is_eof() {
        match reader.next_tag(bytes)? {
            8 => out.kind = Some(reader.read_int32(bytes)?),
            18 => out.data = Some(reader.read_bytes(bytes)?),
            24 => out.filesize = Some(reader.read_uint64(bytes)?),
            32 => out.blocksizes.push(reader.read_uint64(bytes)?),
            34 => out
                .blocksizes
                .extend(reader.read_packed(bytes, |r, b| r.read_uint64(b))?),
            40 => out.hash_type = Some(reader.read_uint64(bytes)?),
            48 => out.fanout = Some(reader.read_uint64(bytes)?),
            tag => reader.read_unknown(bytes, tag)?,
        }
    }
    Ok(out)
}
