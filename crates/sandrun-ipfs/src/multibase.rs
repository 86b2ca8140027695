//! The multibase text of CIDs, for the bases nodes and gateways use: base58btc (`z`, and bare
//! CIDv0 `Qm…`), base32 (`b`/`B`), base36 (`k`/`K`), base16 (`f`/`F`) and base64 (`m`, `M`, `u`,
//! `U`). Written here rather than taken from the `multibase` crate (which `Cid`'s `Display` and
//! `FromStr` use): that one carries every base (data-encoding's generic codec, base256emoji, …),
//! about 75 KB of the SDK's wasm before compression, for the few a CID is ever written in.

const BASE58BTC: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The bytes behind a multibase string (its first character names the base); a bare base58btc
/// CIDv0 (`Qm…`, 46 characters) has no prefix.
pub fn decode(text: &str) -> Result<Vec<u8>, &'static str> {
    if text.len() == 46 && text.starts_with("Qm") {
        return radix_decode(BASE58BTC, text);
    }
    let mut chars = text.chars();
    let prefix = chars.next().ok_or("empty")?;
    let rest = chars.as_str();
    match prefix {
        'z' => radix_decode(BASE58BTC, rest),
        'k' | 'K' => radix_decode(BASE36, &rest.to_ascii_lowercase()),
        'b' | 'B' => bits_decode(BASE32, 5, &rest.to_ascii_lowercase()),
        'f' | 'F' => bits_decode(b"0123456789abcdef", 4, &rest.to_ascii_lowercase()),
        'm' | 'M' => bits_decode(BASE64, 6, rest.trim_end_matches('=')),
        'u' | 'U' => bits_decode(BASE64URL, 6, rest.trim_end_matches('=')),
        _ => Err("not a multibase this SDK reads (base58btc, base32, base36, base16, base64)"),
    }
}

/// A CID as Kubo writes it by default: base58btc for v0, base32 (lower case, `b`) for v1. Here
/// rather than in `cid_text` so that errors can name CIDs without depending on that module.
pub fn cid(cid: &cid::Cid) -> String {
    match cid.version() {
        cid::Version::V0 => base58btc(&cid.to_bytes()),
        cid::Version::V1 => base32(&cid.to_bytes()),
    }
}

/// base58btc, without a prefix (how CIDv0 is written).
pub fn base58btc(bytes: &[u8]) -> String {
    radix_encode(BASE58BTC, bytes)
}

/// `b` + lower-case base32 without padding (how Kubo writes CIDv1).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(1 + bytes.len() * 8 / 5 + 1);
    out.push('b');
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Bases of a power of two: `bits` per character, most significant first, no padding.
fn bits_decode(alphabet: &[u8], bits: u32, text: &str) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(text.len() * bits as usize / 8);
    let (mut acc, mut have) = (0u32, 0u32);
    for c in text.bytes() {
        let v = alphabet
            .iter()
            .position(|&a| a == c)
            .ok_or("a character outside the base's alphabet")?;
        acc = (acc << bits) | v as u32;
        have += bits;
        if have >= 8 {
            have -= 8;
            out.push((acc >> have) as u8);
            acc &= (1 << have) - 1;
        }
    }
    // What is left must be padding bits of zero, shorter than a character.
    if have >= bits || acc != 0 {
        return Err("trailing bits");
    }
    Ok(out)
}

/// base58 and base36: the text is one big number; leading zero bytes are leading zero digits.
fn radix_decode(alphabet: &[u8], text: &str) -> Result<Vec<u8>, &'static str> {
    let base = alphabet.len() as u32;
    let zeros = text.bytes().take_while(|&c| c == alphabet[0]).count();
    let mut num: Vec<u8> = Vec::new(); // little-endian base-256 digits
    for c in text.bytes() {
        let mut carry = alphabet
            .iter()
            .position(|&a| a == c)
            .ok_or("a character outside the base's alphabet")? as u32;
        for d in num.iter_mut() {
            carry += u32::from(*d) * base;
            *d = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            num.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(num.iter().rev());
    Ok(out)
}

fn radix_encode(alphabet: &[u8], bytes: &[u8]) -> String {
    let base = alphabet.len() as u32;
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    let mut digits: Vec<u8> = Vec::new(); // little-endian base-`base` digits
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % base) as u8;
            carry /= base;
        }
        while carry > 0 {
            digits.push((carry % base) as u8);
            carry /= base;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n(alphabet[0] as char, zeros));
    out.extend(digits.iter().rev().map(|&d| alphabet[d as usize] as char));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cid::multibase::{encode, Base};

    /// Against the `multibase` crate, for lengths around every padding case.
    #[test]
    fn agrees_with_the_multibase_crate() {
        for len in 0..70usize {
            let bytes: Vec<u8> = (0..len as u32).map(|i| (i * 37 + 11) as u8).collect();
            let mut leading = vec![0u8, 0];
            leading.extend(&bytes);
            for data in [&bytes, &leading] {
                assert_eq!(base32(data), encode(Base::Base32Lower, data), "{len}");
                assert_eq!(
                    format!("z{}", base58btc(data)),
                    encode(Base::Base58Btc, data)
                );
                for base in [
                    Base::Base58Btc,
                    Base::Base32Lower,
                    Base::Base32Upper,
                    Base::Base36Lower,
                    Base::Base36Upper,
                    Base::Base16Lower,
                    Base::Base16Upper,
                    Base::Base64,
                    Base::Base64Pad,
                    Base::Base64Url,
                    Base::Base64UrlPad,
                ] {
                    let text = encode(base, data);
                    assert_eq!(decode(&text).as_ref(), Ok(data), "{base:?} {text}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_base_it_reads() {
        for bad in ["", "x123", "b1", "zl0", "f0g", "bab"] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }
}
