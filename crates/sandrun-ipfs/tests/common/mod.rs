//! Shared by the test files: the reference files of `shared/ipfs/reference-cids.md`, generated
//! with its recipes, and small helpers.
#![allow(dead_code)] // each test file uses a part

pub mod kubo;

use sandrun_ipfs::{AddOptions, Added, Block, Cid, FileAdder};
use sha2::{Digest, Sha256};

pub const MIB: usize = 1 << 20;

/// `printf 'hello sandrun\n'`
pub fn hello() -> Vec<u8> {
    b"hello sandrun\n".to_vec()
}

/// `bytes(range(256)) * 12288`: 3 MiB, every 256 KiB chunk the same.
pub fn three_mb() -> Vec<u8> {
    (0..=255u8).cycle().take(3 * MIB).collect()
}

/// `sha256(i.to_bytes(8, 'big'))` for i = 0, 1, ... concatenated, cut to `len` bytes: no two
/// chunks alike.
pub fn unique(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    for i in 0..len.div_ceil(32) as u64 {
        out.extend_from_slice(&Sha256::digest(i.to_be_bytes()));
    }
    out.truncate(len);
    out
}

/// A 1 MiB hash chain from `seed`, repeated 50 times.
pub fn fifty_mb() -> Vec<u8> {
    let mut pattern = Vec::with_capacity(MIB + 32);
    let mut h = b"seed".to_vec();
    while pattern.len() < MIB {
        h = Sha256::digest(&h).to_vec();
        pattern.extend_from_slice(&h);
    }
    pattern.truncate(MIB);
    pattern.repeat(50)
}

/// Adds `data` pushed in pieces of `step` bytes; returns the root and every block made.
pub fn add_blocks(data: &[u8], options: &AddOptions, step: usize) -> (Added, Vec<Block>) {
    let mut blocks = Vec::new();
    let mut sink = |cid: &Cid, bytes: &[u8]| {
        blocks.push(Block::verify(*cid, bytes.to_vec()).expect("own block verifies"))
    };
    let mut adder = FileAdder::new(options);
    for piece in data.chunks(step.max(1)) {
        adder.push(piece, &mut sink);
    }
    let added = adder.finish(&mut sink);
    (added, blocks)
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A deterministic pseudo-random generator for test orders and sizes (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}
