//! gzip (RFC 1952) around our deflate, with a zero mtime so output is deterministic.

pub fn compress(data: &[u8]) -> Vec<u8> {
    let deflated = super::deflate::compress(data);
    let mut out = Vec::with_capacity(deflated.len() + 18);
    // magic, CM=deflate, no flags, mtime 0, XFL 0, OS 255 (unknown)
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bitwise: the archive is small next to
/// the upload, and a table would cost 1 KiB of wasm.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn roundtrips_and_is_deterministic() {
        let data = b"hello hello hello hello".repeat(100);
        let gz = compress(&data);
        assert_eq!(gz, compress(&data));
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8]);
        let body = &gz[10..gz.len() - 8];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), data);
        assert!(gz.len() < data.len() / 10);
    }
}
