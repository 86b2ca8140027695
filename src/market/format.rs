//! The market job format, v1: what a node and a submitter exchange through IPFS and the contract.
//! Pure functions (no I/O), shared by the node agent (`operator`) and the coordinated submit.
//!
//! - Job (`inputCid`): a UnixFS directory with exactly `job.tar.gz` (the gzip'd deterministic tar
//!   the core packages, what a worker's `/submit` takes as `files`) and `manifest.json` (what it
//!   takes as `manifest`).
//! - `jobHash` (bytes32): the job hash the worker signs (hex sha256 of `Package.hash_input`).
//! - Result (`outputCid`): a UnixFS directory with `status.json` (the worker's signed status JSON,
//!   byte for byte as it answered) and `outputs/<path>` for every output file.
//! - `resultHash` (bytes32): sha256 of the consensus `result_key(job_hash, exit_code, outputs)`
//!   (the same text k-of-n compares; CPU and memory left out as they differ between honest runs).
//! - `signature`: the worker's 64-byte Ed25519 signature from the status.

use crate::ext::consensus::decide::result_key;
use alloy_primitives::B256;
use sandrun_protocol::b64;
use sandrun_protocol::hash::{hex, is_sha256_hex, sha256_hex};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use sha2::{Digest, Sha256};
use std::fmt;

pub const ARCHIVE: &str = "job.tar.gz";
pub const MANIFEST: &str = "manifest.json";
pub const STATUS: &str = "status.json";
/// Outputs sit under this folder of the result directory, at their worker paths.
pub const OUTPUTS: &str = "outputs/";
/// Both directories are added as CIDv1 (raw leaves, the IPFS layer's default for v1).
pub const CID_VERSION: u8 = 1;

/// Why a job or result directory does not follow the format (the text says what and where).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, FormatError>;

fn err<T>(message: impl Into<String>) -> Result<T> {
    Err(FormatError(message.into()))
}

/// The job directory's files, path → bytes (what `addDirectory` takes).
pub fn input_entries(archive: &[u8], manifest_json: &str) -> SortedMap<Vec<u8>> {
    let mut files = SortedMap::new();
    files.insert(ARCHIVE.into(), archive.to_vec());
    files.insert(MANIFEST.into(), manifest_json.as_bytes().to_vec());
    files
}

/// A job directory read back: (archive, manifest JSON). Anything but exactly the two files is
/// refused, so a job cannot carry data the worker would not see.
pub fn read_input(files: &SortedMap<Vec<u8>>) -> Result<(Vec<u8>, String)> {
    if let Some(extra) = files.keys().find(|p| *p != ARCHIVE && *p != MANIFEST) {
        return err(format!(
            "the job directory holds \"{extra}\": only {ARCHIVE} and {MANIFEST} belong there"
        ));
    }
    let (Some(archive), Some(manifest)) = (files.get(ARCHIVE), files.get(MANIFEST)) else {
        return err(format!(
            "the job directory must hold {ARCHIVE} and {MANIFEST}"
        ));
    };
    let manifest = String::from_utf8(manifest.clone())
        .map_err(|_| FormatError(format!("{MANIFEST} is not UTF-8")))?;
    Ok((archive.clone(), manifest))
}

/// The result directory's files: the status text as the worker sent it, and every output.
pub fn result_entries(status_json: &str, outputs: &SortedMap<Vec<u8>>) -> SortedMap<Vec<u8>> {
    let mut files = SortedMap::new();
    files.insert(STATUS.into(), status_json.as_bytes().to_vec());
    for (path, bytes) in outputs.iter() {
        files.insert(format!("{OUTPUTS}{path}"), bytes.clone());
    }
    files
}

/// A result directory read back: the parsed status, its exact text, and the outputs by worker
/// path. `parse` reads the status JSON (the SDK's JS reader in wasm, serde in native tests).
/// Does not check the outputs against the status: `check_outputs` does.
pub fn read_result(
    files: &SortedMap<Vec<u8>>,
    parse: impl FnOnce(&str) -> std::result::Result<StatusBody, String>,
) -> Result<(StatusBody, String, SortedMap<Vec<u8>>)> {
    let Some(status) = files.get(STATUS) else {
        return err(format!("the result directory has no {STATUS}"));
    };
    let text = String::from_utf8(status.clone())
        .map_err(|_| FormatError(format!("{STATUS} is not UTF-8")))?;
    let parsed = parse(&text).map_err(|e| FormatError(format!("{STATUS}: {e}")))?;
    let mut outputs = SortedMap::new();
    for (path, bytes) in files.iter() {
        match path.strip_prefix(OUTPUTS) {
            Some(p) if !p.is_empty() => {
                outputs.insert(p.to_string(), bytes.clone());
            }
            _ if path == STATUS => {}
            _ => {
                return err(format!(
                "the result directory holds \"{path}\": only {STATUS} and {OUTPUTS}… belong there"
            ))
            }
        }
    }
    Ok((parsed, text, outputs))
}

/// Every signed output is present and hashes to its signed sha256, and nothing else is there.
pub fn check_outputs(status: &StatusBody, outputs: &SortedMap<Vec<u8>>) -> Result<()> {
    for (path, file) in status.output_files.iter() {
        let Some(bytes) = outputs.get(path) else {
            return err(format!("output {path} is signed but missing"));
        };
        let got = sha256_hex(bytes);
        if got != file.sha256 {
            return err(format!(
                "output {path} hashes to {got}, the worker signed {}",
                file.sha256
            ));
        }
    }
    if let Some(extra) = outputs
        .keys()
        .find(|p| !status.output_files.contains_key(p))
    {
        return err(format!("output {extra} is not among the signed outputs"));
    }
    Ok(())
}

/// The exit code the worker signed (0 when the status has no execution metadata).
pub fn exit_code(status: &StatusBody) -> i64 {
    status
        .execution_metadata
        .as_ref()
        .map(|m| m.exit_code)
        .unwrap_or(0)
}

/// `resultHash` of a status: sha256 of its consensus key.
pub fn result_hash(status: &StatusBody) -> B256 {
    let outputs: SortedMap<String> = {
        let mut m = SortedMap::new();
        for (path, f) in status.output_files.iter() {
            m.insert(path.clone(), f.sha256.clone());
        }
        m
    };
    result_hash_of(&status.job_hash, exit_code(status), &outputs)
}

/// `resultHash` from its parts (output path → sha256 hex).
pub fn result_hash_of(job_hash: &str, exit_code: i64, outputs: &SortedMap<String>) -> B256 {
    let key = result_key(job_hash, exit_code, outputs);
    B256::from(<[u8; 32]>::from(Sha256::digest(key.as_bytes())))
}

/// A worker's job hash (64 lowercase hex digits) as the contract's bytes32.
pub fn job_hash_bytes(job_hash: &str) -> Result<B256> {
    if !is_sha256_hex(job_hash) {
        return err(format!(
            "job hash \"{job_hash}\": expected 64 lowercase hex digits"
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in job_hash.as_bytes().chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        out[i] = digit(pair[0]) << 4 | digit(pair[1]);
    }
    Ok(B256::from(out))
}

/// The contract's bytes32 job hash as the worker writes it (64 lowercase hex digits, no `0x`).
pub fn job_hash_hex(job_hash: &B256) -> String {
    hex(job_hash.as_slice())
}

/// The status's 64-byte Ed25519 signature (what `submitResult` records).
pub fn signature(status: &StatusBody) -> Result<Vec<u8>> {
    let sig = status
        .worker_metadata
        .as_ref()
        .and_then(|w| w.signature.as_deref())
        .ok_or_else(|| FormatError("the status is not signed".into()))?;
    b64::decode(sig)
        .filter(|s| s.len() == 64)
        .ok_or_else(|| FormatError("the status's signature is not base64 of 64 bytes".into()))
}

/// The status's worker key (32 bytes, what `registerNode` records).
pub fn worker_key(worker_id_b64: &str) -> Result<B256> {
    b64::decode(worker_id_b64)
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .map(B256::from)
        .ok_or_else(|| {
            FormatError(format!(
                "worker id \"{worker_id_b64}\": expected base64 of a 32-byte Ed25519 key"
            ))
        })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../protocol/fixtures/signed-job/status.json");

    fn parse(text: &str) -> std::result::Result<StatusBody, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    /// The signed fixture's status with outputs of our own (the fixture keeps no output bytes):
    /// its output list replaced by theirs, as a worker that produced them would sign it.
    fn fixture() -> (StatusBody, SortedMap<Vec<u8>>) {
        let mut status = parse(FIXTURE).unwrap();
        let mut outputs = SortedMap::new();
        outputs.insert("data.json".to_string(), br#"{"n":3}"#.to_vec());
        outputs.insert("out/result.txt".to_string(), b"sum = 6\n".to_vec());
        status.output_files = SortedMap::new();
        for (path, bytes) in outputs.iter() {
            status.output_files.insert(
                path.clone(),
                sandrun_protocol::status::OutputFile {
                    size_bytes: bytes.len() as u64,
                    sha256: sha256_hex(bytes),
                    kind: String::new(),
                },
            );
        }
        (status, outputs)
    }

    #[test]
    fn input_round_trip() {
        let files = input_entries(b"\x1f\x8b gz", r#"{"entrypoint":"main.py"}"#);
        assert_eq!(files.keys().collect::<Vec<_>>(), [ARCHIVE, MANIFEST]);
        let (archive, manifest) = read_input(&files).unwrap();
        assert_eq!(archive, b"\x1f\x8b gz");
        assert_eq!(manifest, r#"{"entrypoint":"main.py"}"#);
        let mut extra = files.clone();
        extra.insert("notes.txt".into(), b"x".to_vec());
        assert!(read_input(&extra).unwrap_err().0.contains("notes.txt"));
        let mut only = SortedMap::new();
        only.insert(ARCHIVE.to_string(), b"x".to_vec());
        assert!(read_input(&only).is_err());
    }

    #[test]
    fn result_round_trip_of_the_signed_fixture() {
        let (status, outputs) = fixture();
        check_outputs(&status, &outputs).unwrap();
        // The real signed status, byte for byte, with outputs (read_result does not check them).
        let files = result_entries(FIXTURE, &outputs);
        assert!(files.contains_key("outputs/out/result.txt"));
        let (parsed, text, back) = read_result(&files, parse).unwrap();
        assert_eq!(parsed, parse(FIXTURE).unwrap());
        assert_eq!(text, FIXTURE, "status.json is kept byte for byte");
        assert_eq!(back, outputs);
        assert_eq!(
            signature(&parsed).unwrap(),
            b64::decode(
                parsed
                    .worker_metadata
                    .as_ref()
                    .unwrap()
                    .signature
                    .as_ref()
                    .unwrap()
            )
            .unwrap()
        );
        let key = worker_key("CtC6kdQ1jJjoO0QM9h2ef79eyohOUj2kDj8J5UgiFTw=").unwrap();
        assert_eq!(key[0], 0x0a);
        assert!(worker_key("AAAA").is_err());
    }

    #[test]
    fn outputs_must_match_what_was_signed() {
        let (status, outputs) = fixture();
        let mut altered = outputs.clone();
        let first = altered.keys().next().unwrap().clone();
        let mut bytes = altered.get(&first).unwrap().clone();
        bytes[0] ^= 1;
        altered.insert(first.clone(), bytes);
        assert!(check_outputs(&status, &altered)
            .unwrap_err()
            .0
            .contains(&first));
        let mut missing = SortedMap::new();
        for (p, b) in outputs.iter().skip(1) {
            missing.insert(p.clone(), b.clone());
        }
        assert!(check_outputs(&status, &missing)
            .unwrap_err()
            .0
            .contains("missing"));
        let mut extra = outputs.clone();
        extra.insert("out/more.txt".into(), Vec::new());
        assert!(check_outputs(&status, &extra).is_err());
        let mut stray = result_entries(FIXTURE, &outputs);
        stray.insert("readme".into(), Vec::new());
        assert!(read_result(&stray, parse).is_err());
        assert!(read_result(&SortedMap::new(), parse).is_err());
    }

    #[test]
    fn result_hash_is_sha256_of_the_consensus_key() {
        let status = parse(FIXTURE).unwrap();
        let mut outs = SortedMap::new();
        for (p, f) in status.output_files.iter() {
            outs.insert(p.clone(), f.sha256.clone());
        }
        let key = result_key(&status.job_hash, 0, &outs);
        assert_eq!(
            hex(result_hash(&status).as_slice()),
            sha256_hex(key.as_bytes())
        );
        // Another exit code or output hash is another result.
        let mut other = status.clone();
        other.execution_metadata.as_mut().unwrap().exit_code = 1;
        assert_ne!(result_hash(&other), result_hash(&status));
        let mut other = status.clone();
        other.output_files.insert(
            "data.json".into(),
            sandrun_protocol::status::OutputFile {
                size_bytes: 1,
                sha256: "00".repeat(32),
                kind: String::new(),
            },
        );
        assert_ne!(result_hash(&other), result_hash(&status));
        // CPU time does not enter it.
        let mut cpu = status.clone();
        cpu.execution_metadata.as_mut().unwrap().cpu_seconds = 9.0;
        assert_eq!(result_hash(&cpu), result_hash(&status));
    }

    #[test]
    fn job_hash_hex_and_bytes32() {
        let h = "13dffb9640613e70bfb5800bc52c641d7b601974bb49e0c6790426e79e777eb4";
        let b = job_hash_bytes(h).unwrap();
        assert_eq!(b[0], 0x13);
        assert_eq!(b[31], 0xb4);
        assert_eq!(job_hash_hex(&b), h);
        assert_eq!(format!("{b}"), format!("0x{h}"));
        assert!(job_hash_bytes("0x13df").is_err());
        assert!(job_hash_bytes(&h.to_uppercase()).is_err());
    }
}
