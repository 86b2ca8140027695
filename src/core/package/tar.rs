//! A minimal, deterministic ustar writer: regular files only (the extractor creates parent
//! folders), mode 0644, owner 0/0, a fixed mtime, entries in the order given.

/// 2000-01-01T00:00:00Z: fixed so the same files give the same archive; not 0 because GNU tar
/// warns about "implausibly old" timestamps.
const MTIME: u64 = 946_684_800;

pub fn write<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, bytes) in files {
        out.extend_from_slice(&header(path, bytes.len() as u64));
        out.extend_from_slice(bytes);
        let pad = (512 - bytes.len() % 512) % 512;
        out.resize(out.len() + pad, 0);
    }
    // Two zero blocks end the archive; then pad to tar's 10 KiB record size.
    out.resize(out.len() + 1024, 0);
    let pad = (10_240 - out.len() % 10_240) % 10_240;
    out.resize(out.len() + pad, 0);
    out
}

fn header(path: &str, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    let (prefix, name) = split_path(path);
    put(&mut h[0..100], name.as_bytes());
    put(&mut h[100..108], b"0000644");
    put(&mut h[108..116], b"0000000");
    put(&mut h[116..124], b"0000000");
    put(&mut h[124..136], format!("{size:011o}").as_bytes());
    put(&mut h[136..148], format!("{MTIME:011o}").as_bytes());
    h[148..156].copy_from_slice(b"        "); // checksum field counts as spaces
    h[156] = b'0';
    put(&mut h[257..263], b"ustar\0");
    put(&mut h[263..265], b"00");
    put(&mut h[345..500], prefix.as_bytes());
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    put(&mut h[148..156], format!("{sum:06o}\0 ").as_bytes());
    h
}

/// ustar keeps names up to 100 bytes, longer ones split at a `/` into a 155-byte prefix and the
/// rest. Paths are validated to at most 255 bytes before they get here.
fn split_path(path: &str) -> (&str, &str) {
    if path.len() <= 100 {
        return ("", path);
    }
    path.char_indices()
        .filter(|&(i, c)| c == '/' && i <= 155 && path.len() - i - 1 <= 100)
        .map(|(i, _)| (&path[..i], &path[i + 1..]))
        .next()
        .unwrap_or(("", path))
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_checksum() {
        let t = write([("a.txt", &b"hello"[..]), ("dir/b.bin", &[0u8, 1, 2][..])].into_iter());
        assert_eq!(t.len() % 10_240, 0);
        assert_eq!(&t[0..5], b"a.txt");
        assert_eq!(&t[257..262], b"ustar");
        assert_eq!(&t[124..135], b"00000000005");
        assert_eq!(&t[512..517], b"hello");
        assert_eq!(&t[1024..1033], b"dir/b.bin");
        // The checksum is the byte sum of the header with the checksum field as spaces.
        let mut h = t[..512].to_vec();
        let stored = u32::from_str_radix(std::str::from_utf8(&h[148..154]).unwrap(), 8).unwrap();
        h[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, h.iter().map(|&b| b as u32).sum::<u32>());
    }

    #[test]
    fn long_paths_use_the_prefix_field() {
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let t = write([(long.as_str(), &b"x"[..])].into_iter());
        assert_eq!(&t[0..90], "f".repeat(90).as_bytes());
        assert_eq!(&t[345..465], "d".repeat(120).as_bytes());
    }
}
