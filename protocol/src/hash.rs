//! The job hash the worker computes and signs: sha256 over the manifest as the server reads it and
//! the entrypoint's bytes. Other input files do not enter it.

use sha2::{Digest, Sha256};

/// `hex(sha256(entrypoint "|" interpreter "|" environment "|" arg1 "|" … argN "|" entrypoint_bytes))`.
pub fn job_hash(
    entrypoint: &str,
    interpreter: &str,
    environment: &str,
    args: &[String],
    entrypoint_bytes: &[u8],
) -> String {
    sha256_hex(&job_hash_input(
        entrypoint,
        interpreter,
        environment,
        args,
        entrypoint_bytes,
    ))
}

/// The bytes the job hash is the sha256 of (the wasm SDK hashes them with WebCrypto, which costs
/// no wasm).
pub fn job_hash_input(
    entrypoint: &str,
    interpreter: &str,
    environment: &str,
    args: &[String],
    entrypoint_bytes: &[u8],
) -> Vec<u8> {
    let mut m = Vec::new();
    for part in [entrypoint, interpreter, environment]
        .into_iter()
        .chain(args.iter().map(String::as_str))
    {
        m.extend_from_slice(part.as_bytes());
        m.push(b'|');
    }
    m.extend_from_slice(entrypoint_bytes);
    m
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// True for a 64-character lowercase hex string (a sha256 as the server prints it).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_job_hash() {
        let main_py = include_bytes!("../fixtures/signed-job/main.py");
        let args = vec!["--n".to_string(), "3".to_string()];
        assert_eq!(
            job_hash("main.py", "python3", "", &args, main_py),
            "13dffb9640613e70bfb5800bc52c641d7b601974bb49e0c6790426e79e777eb4"
        );
        // Changing any part changes the hash.
        assert_ne!(
            job_hash("main.py", "python3", "", &args[..1], main_py),
            "13dffb9640613e70bfb5800bc52c641d7b601974bb49e0c6790426e79e777eb4"
        );
    }

    #[test]
    fn sha256_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_hex(&sha256_hex(b"abc")));
        assert!(!is_sha256_hex("ABC"));
    }
}
