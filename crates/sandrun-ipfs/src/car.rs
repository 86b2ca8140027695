//! A push-based CARv1 reader: feed it the bytes of a gateway response as they arrive, take out
//! the header's roots and then each block, already verified against its CID.
//!
//! Written here rather than taken from a crate: the CAR readers on crates.io read from
//! `std::io::Read` or an async reader (a JS stream can only push), and the one sans-IO reader
//! (navira-car 0.1) brings serde, ciborium and a second `cid` version (0.7) into the wasm. CARv1
//! is a varint-framed list of (CID, bytes) after one small dag-cbor map, so the reader is short;
//! its memory is one section (≤ the block limit) plus whatever a single push hands it.

use crate::block::Block;
use crate::cid_text::same_block;
use crate::error::{Error, Result};
use cid::Cid;

/// Kubo's (and bitswap's) block size limit: 2 MiB. Larger sections are refused.
pub const DEFAULT_MAX_BLOCK_SIZE: usize = 2 * 1024 * 1024;
/// Room for a section's CID next to its block (a sha2-256 CIDv1 is 36 bytes).
const MAX_CID_LEN: usize = 128;
/// A CARv1 header is a map of a version and a few roots; 64 KiB is hundreds of roots.
const MAX_HEADER_LEN: usize = 64 * 1024;
/// Compact the buffer once this many consumed bytes sit at its front (keeps copying linear).
const COMPACT_AT: usize = 1 << 20;

/// What the reader yields, in stream order: the header once, then blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarItem {
    Header { roots: Vec<Cid> },
    Block(Block),
}

pub struct CarReader {
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
    /// Stream offset of `buf[0]`, for error messages.
    base: u64,
    header_done: bool,
    expected_root: Option<Cid>,
    max_block_size: usize,
}

impl CarReader {
    /// `expected_root`: the CID that was asked for; a header that does not name it (as the same
    /// block: CIDv0 and v1 of one dag-pb hash are the same) is refused with [`Error::WrongRoot`].
    pub fn new(expected_root: Option<Cid>) -> Self {
        CarReader {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            header_done: false,
            expected_root,
            max_block_size: DEFAULT_MAX_BLOCK_SIZE,
        }
    }

    pub fn with_max_block_size(mut self, max: usize) -> Self {
        self.max_block_size = max;
        self
    }

    /// Hands the reader the next bytes of the stream (any split).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos >= COMPACT_AT || (self.pos > 0 && self.pos == self.buf.len()) {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next item, or `None` when more bytes are needed.
    pub fn next_item(&mut self) -> Result<Option<CarItem>> {
        let max = if self.header_done {
            self.max_block_size + MAX_CID_LEN
        } else {
            MAX_HEADER_LEN
        };
        let Some((start, len)) = self.frame(max)? else {
            return Ok(None);
        };
        let offset = self.offset();
        let body = &self.buf[start..start + len];
        let item = if self.header_done {
            let (cid, data) = split_section(body).map_err(|reason| malformed(offset, reason))?;
            CarItem::Block(Block::verify(cid, data.to_vec())?)
        } else {
            let roots = parse_header(body).map_err(|reason| malformed(offset, reason))?;
            if let Some(expected) = self.expected_root {
                if !roots.iter().any(|root| same_block(root, &expected)) {
                    return Err(Error::WrongRoot {
                        expected,
                        found: roots,
                    });
                }
            }
            self.header_done = true;
            CarItem::Header { roots }
        };
        self.pos = start + len;
        Ok(Some(item))
    }

    /// Call at the end of the stream: refuses a CAR cut inside a section or without a header.
    pub fn finish(&self) -> Result<()> {
        if !self.header_done {
            return Err(malformed(
                self.offset(),
                "the stream ended before the CAR header",
            ));
        }
        if self.pos < self.buf.len() {
            return Err(malformed(
                self.offset(),
                "the stream ended inside a block section",
            ));
        }
        Ok(())
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Finds the next varint-framed section: (start of its body in `buf`, its length), or `None`
    /// while incomplete.
    fn frame(&self, max: usize) -> Result<Option<(usize, usize)>> {
        let unread = &self.buf[self.pos..];
        let (len, rest) = match unsigned_varint::decode::u64(unread) {
            Ok(decoded) => decoded,
            Err(unsigned_varint::decode::Error::Insufficient) => return Ok(None),
            Err(e) => return Err(malformed(self.offset(), format!("bad section length: {e}"))),
        };
        if len == 0 || len > max as u64 {
            return Err(Error::LimitExceeded {
                limit: "CAR section length",
                value: len,
                max: max as u64,
            });
        }
        let start = self.pos + (unread.len() - rest.len());
        let len = len as usize;
        Ok((rest.len() >= len).then_some((start, len)))
    }
}

fn malformed(offset: u64, reason: impl Into<String>) -> Error {
    Error::MalformedCar {
        offset,
        reason: reason.into(),
    }
}

fn split_section(body: &[u8]) -> Result<(Cid, &[u8]), String> {
    let mut cursor = std::io::Cursor::new(body);
    let cid = Cid::read_bytes(&mut cursor).map_err(|e| format!("bad block CID: {e}"))?;
    Ok((cid, &body[cursor.position() as usize..]))
}

/// Reads the header map `{"roots": [CID...], "version": 1}` (dag-cbor; roots are tag 42 byte
/// strings with a leading 0x00). Unknown keys are skipped.
fn parse_header(bytes: &[u8]) -> Result<Vec<Cid>, String> {
    let mut cbor = Cbor { bytes, pos: 0 };
    let (major, entries) = cbor.head()?;
    if major != MAP {
        return Err("the header is not a map".into());
    }
    let (mut roots, mut version) = (None, None);
    for _ in 0..entries {
        match cbor.text()? {
            "roots" => roots = Some(cbor.cid_list()?),
            "version" => version = Some(cbor.uint()?),
            _ => cbor.skip(0)?,
        }
    }
    match version {
        Some(1) => {}
        Some(2) => return Err("this is a CARv2; gateways send CARv1 (ask for version=1)".into()),
        other => return Err(format!("unsupported CAR version {other:?}")),
    }
    if cbor.pos != bytes.len() {
        return Err("bytes after the header map".into());
    }
    roots.ok_or_else(|| "the header has no roots".into())
}

const UINT: u8 = 0;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const ARRAY: u8 = 4;
const MAP: u8 = 5;
const TAG: u8 = 6;
/// dag-cbor's tag for a CID.
const CID_TAG: u64 = 42;
/// Nesting allowed inside an unknown header value before we call it hostile.
const MAX_CBOR_DEPTH: usize = 16;

/// The few dag-cbor reads a CAR header needs (definite lengths only: dag-cbor forbids the rest).
struct Cbor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cbor<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("the header is truncated")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Major type and argument of the next item.
    fn head(&mut self) -> Result<(u8, u64), String> {
        let first = self.take(1)?[0];
        let info = first & 0x1f;
        let arg = match info {
            0..=23 => info as u64,
            24..=27 => self
                .take(1 << (info - 24))?
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | b as u64),
            _ => return Err("indefinite or reserved CBOR length in the header".into()),
        };
        Ok((first >> 5, arg))
    }

    fn text(&mut self) -> Result<&'a str, String> {
        match self.head()? {
            (TEXT, len) => core::str::from_utf8(self.take(len)?)
                .map_err(|_| "a header key is not UTF-8".into()),
            _ => Err("a header key is not a string".into()),
        }
    }

    fn uint(&mut self) -> Result<u64, String> {
        match self.head()? {
            (UINT, value) => Ok(value),
            _ => Err("the version is not an unsigned integer".into()),
        }
    }

    fn cid_list(&mut self) -> Result<Vec<Cid>, String> {
        let (ARRAY, count) = self.head()? else {
            return Err("roots is not an array".into());
        };
        // Each root takes several bytes, so a count beyond the header's length is a lie.
        if count > self.bytes.len() as u64 {
            return Err("roots count exceeds the header".into());
        }
        (0..count)
            .map(|_| {
                let (TAG, CID_TAG) = self.head()? else {
                    return Err("a root is not a CID (tag 42)".into());
                };
                let (BYTES, len) = self.head()? else {
                    return Err("a root CID is not a byte string".into());
                };
                match self.take(len)? {
                    [0, cid @ ..] => Cid::try_from(cid).map_err(|e| format!("bad root CID: {e}")),
                    _ => Err("a root CID lacks its 0x00 prefix".into()),
                }
            })
            .collect()
    }

    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_CBOR_DEPTH {
            return Err("the header nests too deeply".into());
        }
        let (major, arg) = self.head()?;
        match major {
            BYTES | TEXT => {
                self.take(arg)?;
            }
            ARRAY => (0..arg).try_for_each(|_| self.skip(depth + 1))?,
            MAP => (0..arg.saturating_mul(2)).try_for_each(|_| self.skip(depth + 1))?,
            TAG => self.skip(depth + 1)?,
            _ => {} // integers and simple values carry their value in the head
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cid_text::parse_cid;

    /// A CARv1 built by hand: header {roots: [root], version: 1} and the given sections.
    fn car(root: &Cid, sections: &[(&Cid, &[u8])]) -> Vec<u8> {
        let root_bytes = root.to_bytes();
        let mut header = vec![0xa2, 0x65];
        header.extend_from_slice(b"roots");
        header.extend_from_slice(&[0x81, 0xd8, 42, 0x58, root_bytes.len() as u8 + 1, 0]);
        header.extend_from_slice(&root_bytes);
        header.push(0x67);
        header.extend_from_slice(b"version");
        header.push(0x01);
        let mut out = Vec::new();
        frame(&mut out, &header);
        for (cid, data) in sections {
            frame(&mut out, &[cid.to_bytes(), data.to_vec()].concat());
        }
        out
    }

    fn frame(out: &mut Vec<u8>, body: &[u8]) {
        let mut len = unsigned_varint::encode::u64_buffer();
        out.extend_from_slice(unsigned_varint::encode::u64(body.len() as u64, &mut len));
        out.extend_from_slice(body);
    }

    fn read_all(reader: &mut CarReader, bytes: &[u8], step: usize) -> Result<Vec<CarItem>> {
        let mut items = Vec::new();
        for chunk in bytes.chunks(step.max(1)) {
            reader.push(chunk);
            while let Some(item) = reader.next_item()? {
                items.push(item);
            }
        }
        reader.finish()?;
        Ok(items)
    }

    fn hello() -> Cid {
        parse_cid("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e").unwrap()
    }

    #[test]
    fn reads_header_and_verified_blocks_in_any_split() {
        let cid = hello();
        let bytes = car(&cid, &[(&cid, b"hello world")]);
        for step in [1, 2, 7, bytes.len()] {
            let items = read_all(&mut CarReader::new(Some(cid)), &bytes, step).unwrap();
            assert_eq!(items.len(), 2);
            assert_eq!(items[0], CarItem::Header { roots: vec![cid] });
            let CarItem::Block(block) = &items[1] else {
                panic!()
            };
            assert_eq!(block.data().as_ref(), b"hello world");
        }
    }

    #[test]
    fn refuses_tampered_wrong_root_truncated_and_v2() {
        let cid = hello();
        let tampered = car(&cid, &[(&cid, b"hello worle")]);
        assert_eq!(
            read_all(&mut CarReader::new(None), &tampered, 5).unwrap_err(),
            Error::HashMismatch { cid }
        );

        let other =
            parse_cid("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").unwrap();
        let err = read_all(&mut CarReader::new(Some(other)), &car(&cid, &[]), 3).unwrap_err();
        assert_eq!(
            err,
            Error::WrongRoot {
                expected: other,
                found: vec![cid]
            }
        );

        let full = car(&cid, &[(&cid, b"hello world")]);
        let err = read_all(&mut CarReader::new(None), &full[..full.len() - 1], 4).unwrap_err();
        assert_eq!(err.code(), "IPFS_MALFORMED_CAR");

        let mut v2 = Vec::new();
        frame(
            &mut v2,
            &[0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02],
        );
        let err = read_all(&mut CarReader::new(None), &v2, 100).unwrap_err();
        assert!(err.to_string().contains("CARv2"), "{err}");

        assert_eq!(
            read_all(&mut CarReader::new(None), &[], 1)
                .unwrap_err()
                .code(),
            "IPFS_MALFORMED_CAR"
        );
    }

    #[test]
    fn bounds_sections_and_header() {
        let cid = hello();
        let mut bytes = car(&cid, &[]);
        // A section claiming 1 GiB must be refused up front, not buffered.
        let mut len = unsigned_varint::encode::u64_buffer();
        bytes.extend_from_slice(unsigned_varint::encode::u64(1 << 30, &mut len));
        let err = read_all(&mut CarReader::new(None), &bytes, 64).unwrap_err();
        assert_eq!(err.code(), "IPFS_LIMIT_EXCEEDED");
        // A header map claiming a huge roots array.
        let mut hostile = Vec::new();
        frame(
            &mut hostile,
            &[
                0xa1, 0x65, b'r', b'o', b'o', b't', b's', 0x9b, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
            ],
        );
        assert_eq!(
            read_all(&mut CarReader::new(None), &hostile, 64)
                .unwrap_err()
                .code(),
            "IPFS_MALFORMED_CAR"
        );
    }
}
