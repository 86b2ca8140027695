//! CAR v1 framing, just what the hostile gateway needs to take a CAR apart and put it back:
//! `varint(len) header` then `varint(len) CID block` sections. The header is never decoded (the
//! `wrong-root` fault writes a new one), so no CBOR decoder is needed; a CID is only measured.
//!
//! Own code rather than a CAR crate: the whole job is ~100 lines of framing, while a CAR crate
//! (iroh-car) brings `cid`, `multihash`, `serde_ipld_dagcbor` and an async reader API for
//! nothing the gateway uses.

use sha2::{Digest, Sha256};

/// A CAR taken apart: the header's bytes and the sections' (CID bytes, block bytes).
#[derive(Clone, Debug, PartialEq)]
pub struct Car {
    pub header: Vec<u8>,
    pub blocks: Vec<(Vec<u8>, Vec<u8>)>,
}

/// An unsigned LEB128 varint (multiformats' unsigned-varint, at most 9 bytes): (value, length).
pub fn read_varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(9) {
        v |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

pub fn write_varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The length of the binary CID at the start of `b`: 34 bytes for a CIDv0 (a bare sha2-256
/// multihash), else version, codec and multihash (code, length, digest).
pub fn cid_len(b: &[u8]) -> Option<usize> {
    if b.starts_with(&[0x12, 0x20]) {
        return (b.len() >= 34).then_some(34);
    }
    let mut pos = 0;
    for _ in 0..3 {
        // version, codec, multihash code
        let (_, n) = read_varint(b.get(pos..)?)?;
        pos += n;
    }
    let (digest_len, n) = read_varint(b.get(pos..)?)?;
    let end = pos
        .checked_add(n)?
        .checked_add(usize::try_from(digest_len).ok()?)?;
    (end <= b.len()).then_some(end)
}

/// Splits a CAR v1; None when it is not one (truncated, or a length that does not fit).
pub fn parse(b: &[u8]) -> Option<Car> {
    let take = |pos: usize| -> Option<(&[u8], usize)> {
        let (len, n) = read_varint(b.get(pos..)?)?;
        let start = pos + n;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        Some((b.get(start..end)?, end))
    };
    let (header, mut pos) = take(0)?;
    let mut blocks = Vec::new();
    while pos < b.len() {
        let (section, next) = take(pos)?;
        let cl = cid_len(section)?;
        blocks.push((section[..cl].to_vec(), section[cl..].to_vec()));
        pos = next;
    }
    Some(Car {
        header: header.to_vec(),
        blocks,
    })
}

impl Car {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(self.header.len() as u64, &mut out);
        out.extend_from_slice(&self.header);
        for (cid, data) in &self.blocks {
            write_varint((cid.len() + data.len()) as u64, &mut out);
            out.extend_from_slice(cid);
            out.extend_from_slice(data);
        }
        out
    }
}

/// The binary CIDv1 of `data` as a raw block (codec 0x55, sha2-256).
pub fn raw_cid(data: &[u8]) -> Vec<u8> {
    let mut cid = vec![0x01, 0x55, 0x12, 0x20];
    cid.extend_from_slice(&Sha256::digest(data));
    cid
}

/// A CAR v1 header naming `root`: the DAG-CBOR map `{"roots": [CID], "version": 1}` (keys in
/// DAG-CBOR's order: shorter first), the CID as tag 42 over a byte string with a 0x00 prefix.
pub fn header_for_root(root: &[u8]) -> Vec<u8> {
    let mut h = vec![0xa2, 0x65];
    h.extend_from_slice(b"roots");
    h.extend_from_slice(&[0x81, 0xd8, 0x2a]);
    let n = root.len() + 1;
    if n < 24 {
        h.push(0x40 + n as u8);
    } else {
        h.extend_from_slice(&[0x58, n as u8]);
    }
    h.push(0x00);
    h.extend_from_slice(root);
    h.push(0x67);
    h.extend_from_slice(b"version");
    h.push(0x01);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_a_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 16_384, u32::MAX as u64] {
            let mut b = Vec::new();
            write_varint(v, &mut b);
            assert_eq!(read_varint(&b), Some((v, b.len())));
        }
        let block = b"hello".to_vec();
        let car = Car {
            header: header_for_root(&raw_cid(&block)),
            blocks: vec![(raw_cid(&block), block)],
        };
        assert_eq!(parse(&car.to_bytes()), Some(car.clone()));
        // A CIDv0 section.
        let mut v0 = vec![0x12, 0x20];
        v0.extend_from_slice(&[7; 32]);
        let car = Car {
            header: car.header,
            blocks: vec![(v0, b"x".to_vec())],
        };
        assert_eq!(parse(&car.to_bytes()), Some(car.clone()));
        let bytes = car.to_bytes();
        assert_eq!(parse(&bytes[..bytes.len() - 1]), None, "truncated");
    }

    #[test]
    fn header_is_the_dag_cbor_kubo_writes() {
        // Kubo's header for bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e
        // ("hello world" as a raw block) starts a2 65 'roots' 81 d8 2a 58 25 00 01 55 12 20.
        let h = header_for_root(&raw_cid(b"hello world"));
        assert_eq!(h.len(), 58);
        assert_eq!(
            &h[..14],
            &[0xa2, 0x65, b'r', b'o', b'o', b't', b's', 0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00, 0x01]
        );
        assert_eq!(&h[h.len() - 9..], b"\x67version\x01");
    }
}
