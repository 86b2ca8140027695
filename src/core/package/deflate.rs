//! A small deflate (RFC 1951) encoder: LZ77 over a 32 KiB window with hash chains, coded with the
//! fixed Huffman tables, in one block. About a tenth of a general-purpose compressor's code in
//! the wasm, at a ratio close to zlib's fast levels on source code and text; deterministic.

const WINDOW: usize = 32 * 1024;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
const MAX_CHAIN: usize = 64;

/// Base lengths of length symbols 257..=285 and their extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of distance codes 0..=29 and their extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    /// Writes `count` bits of `value`, least significant first (how deflate packs fields).
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Writes a Huffman code, whose bits go most significant first.
    fn code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.put(reversed, len);
    }

    /// A literal/length symbol with the fixed table.
    fn symbol(&mut self, sym: u32) {
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xC0 + sym - 280, 8),
        }
    }

    fn matched(&mut self, len: usize, dist: usize) {
        let li = LEN_BASE
            .iter()
            .rposition(|&b| b as usize <= len)
            .unwrap_or(0);
        self.symbol(257 + li as u32);
        self.put((len - LEN_BASE[li] as usize) as u32, LEN_EXTRA[li] as u32);
        let di = DIST_BASE
            .iter()
            .rposition(|&b| b as usize <= dist)
            .unwrap_or(0);
        self.code(di as u32, 5);
        self.put(
            (dist - DIST_BASE[di] as usize) as u32,
            DIST_EXTRA[di] as u32,
        );
    }
}

fn hash(d: &[u8]) -> usize {
    let v = (d[0] as u32) << 16 | (d[1] as u32) << 8 | d[2] as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut bits = Bits {
        out: Vec::with_capacity(data.len() / 2 + 16),
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = 01, fixed Huffman
                    // head[h]: last position + 1 with hash h; prev[i % WINDOW]: the one before it.
    let mut head = vec![0u32; 1 << HASH_BITS];
    let mut prev = vec![0u32; WINDOW];
    let insert = |head: &mut Vec<u32>, prev: &mut Vec<u32>, i: usize| {
        if i + MIN_MATCH <= data.len() {
            let h = hash(&data[i..]);
            prev[i % WINDOW] = head[h];
            head[h] = i as u32 + 1;
        }
    };
    let mut i = 0;
    while i < data.len() {
        let (mut best_len, mut best_dist) = (0, 0);
        if i + MIN_MATCH <= data.len() {
            let max = MAX_MATCH.min(data.len() - i);
            let mut cand = head[hash(&data[i..])] as usize;
            let mut chain = MAX_CHAIN;
            while cand > 0 && chain > 0 {
                let j = cand - 1;
                if i - j > WINDOW {
                    break;
                }
                let len = data[j..]
                    .iter()
                    .zip(&data[i..i + max])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best_len {
                    (best_len, best_dist) = (len, i - j);
                    if len == max {
                        break;
                    }
                }
                let next = prev[j % WINDOW] as usize;
                if next >= cand {
                    break; // the slot was reused by a newer position: the chain ends here
                }
                cand = next;
                chain -= 1;
            }
        }
        if best_len >= MIN_MATCH {
            bits.matched(best_len, best_dist);
            for k in i..i + best_len {
                insert(&mut head, &mut prev, k);
            }
            i += best_len;
        } else {
            bits.symbol(data[i] as u32);
            insert(&mut head, &mut prev, i);
            i += 1;
        }
    }
    bits.symbol(256); // end of block
    bits.put(0, 7); // flush the last byte
    bits.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) -> usize {
        let c = compress(data);
        // miniz_oxide (a dev-dependency) is a real inflater: it checks every code we wrote.
        assert_eq!(
            miniz_oxide::inflate::decompress_to_vec(&c).expect("valid deflate"),
            data
        );
        c.len()
    }

    #[test]
    fn roundtrips_edge_cases() {
        roundtrip(b"");
        roundtrip(b"a");
        roundtrip(b"ab");
        roundtrip(b"abc");
        roundtrip(&[0u8; 100_000]); // long runs: distance 1, maximum lengths
        let all: Vec<u8> = (0..=255u8).cycle().take(70_000).collect(); // every literal, matches far back
        roundtrip(&all);
        // Pseudo-random bytes: no matches, every 8- and 9-bit literal code.
        let mut x = 0x1234_5678u32;
        let noise: Vec<u8> = (0..50_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        roundtrip(&noise);
        // Matches longer than the window apart must not be used.
        let mut far = noise.clone();
        far.extend_from_slice(&noise[..1000]);
        roundtrip(&far);
    }

    #[test]
    fn compresses_source_code_well() {
        let src = include_str!("deflate.rs").repeat(3);
        let ours = roundtrip(src.as_bytes());
        let zlib6 = miniz_oxide::deflate::compress_to_vec(src.as_bytes(), 6).len();
        // Fixed Huffman trails zlib's dynamic tables a little; it must stay in the same league.
        println!(
            "deflate.rs x3: {} bytes -> ours {ours}, zlib -6 {zlib6}",
            src.len()
        );
        assert!(ours < src.len() / 3, "{ours} of {}", src.len());
        assert!(
            (ours as f64) < zlib6 as f64 * 1.6,
            "ours {ours}, zlib -6 {zlib6}"
        );
    }
}
