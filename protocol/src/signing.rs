//! The message a worker signs for a finished job, and (feature `ed25519`) signing and verifying it.
//!
//! `job_hash "|" exit_code "|" cpu "|" memory_mb "|"` then `path ":" sha256 "|"` for every output
//! file in byte order of the path. Job id, stdout and stderr are not covered.

/// `outputs` are `(path, sha256 hex)` pairs in any order; the message lists them in byte order of
/// the path, as the worker signs them.
pub fn result_message<'a>(
    job_hash: &str,
    exit_code: i64,
    cpu: &str,
    memory_mb: u64,
    outputs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    // Sorted by insertion, not `sort_unstable`: the standard sort is 1.6 KB of the SDK's gzip'd
    // wasm. The SDK passes the status map's outputs, already in order: each lands at the end.
    let mut sorted: Vec<(&str, &str)> = Vec::new();
    for o in outputs {
        let at = sorted.partition_point(|x| *x < o);
        sorted.insert(at, o);
    }
    let mut m = format!("{job_hash}|{exit_code}|{cpu}|{memory_mb}|");
    for (path, sha) in sorted {
        m.push_str(path);
        m.push(':');
        m.push_str(sha);
        m.push('|');
    }
    m
}

#[cfg(feature = "ed25519")]
pub use keys::{verify, WorkerKey};

#[cfg(feature = "ed25519")]
mod keys {
    use crate::b64;
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

    /// A worker's Ed25519 identity. The key file format is PKCS#8 PEM; the worker id is the
    /// base64 (standard alphabet, padded) of the 32-byte public key.
    pub struct WorkerKey(SigningKey);

    impl WorkerKey {
        pub fn generate() -> Self {
            let mut seed = [0u8; 32];
            getrandom(&mut seed);
            WorkerKey(SigningKey::from_bytes(&seed))
        }

        pub fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
            SigningKey::from_pkcs8_pem(pem)
                .map(WorkerKey)
                .map_err(|e| format!("not a PKCS#8 PEM Ed25519 private key: {e}"))
        }

        pub fn to_pkcs8_pem(&self) -> String {
            self.0
                .to_pkcs8_pem(Default::default())
                .map(|z| z.to_string())
                .unwrap_or_default()
        }

        pub fn worker_id(&self) -> String {
            b64::encode(self.0.verifying_key().as_bytes())
        }

        pub fn sign(&self, message: &str) -> String {
            b64::encode(&self.0.sign(message.as_bytes()).to_bytes())
        }
    }

    /// Verifies a base64 signature by a base64 worker id over `message` (RFC 8032, pure Ed25519).
    pub fn verify(worker_id_b64: &str, signature_b64: &str, message: &str) -> bool {
        let (Some(pk), Some(sig)) = (b64::decode(worker_id_b64), b64::decode(signature_b64)) else {
            return false;
        };
        let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(pk), <[u8; 64]>::try_from(sig)) else {
            return false;
        };
        let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
            return false;
        };
        vk.verify(message.as_bytes(), &Signature::from_bytes(&sig))
            .is_ok()
    }

    fn getrandom(buf: &mut [u8]) {
        use std::io::Read;
        // Native only (dev node, tests): the kernel's CSPRNG.
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            if f.read_exact(buf).is_ok() {
                return;
            }
        }
        panic!("no /dev/urandom to generate a worker key from");
    }
}

#[cfg(all(test, feature = "ed25519"))]
mod tests {
    use super::*;
    use crate::status::StatusBody;

    fn fixture_status() -> StatusBody {
        serde_json::from_str(include_str!("../fixtures/signed-job/status.json")).unwrap()
    }

    fn fixture_outputs(s: &StatusBody) -> Vec<(String, String)> {
        s.output_files
            .iter()
            .map(|(k, v)| (k.clone(), v.sha256.clone()))
            .collect()
    }

    fn pairs(o: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
        o.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    #[test]
    fn real_fixture_signature_verifies() {
        let s = fixture_status();
        let w = s.worker_metadata.as_ref().unwrap();
        let (id, sig) = (
            w.worker_id.as_deref().unwrap(),
            w.signature.as_deref().unwrap(),
        );
        let msg = result_message(&s.job_hash, 0, "0.095498", 13, pairs(&fixture_outputs(&s)));
        assert!(verify(id, sig, &msg));
        // Any other CPU figure or a changed output hash must fail.
        let outs = fixture_outputs(&s);
        assert!(!verify(
            id,
            sig,
            &result_message(&s.job_hash, 0, "0.095499", 13, pairs(&outs))
        ));
        // The order outputs are given in does not matter; their hashes do.
        let mut outs = outs;
        outs.reverse();
        assert!(verify(
            id,
            sig,
            &result_message(&s.job_hash, 0, "0.095498", 13, pairs(&outs))
        ));
        outs[0].1 = crate::hash::sha256_hex(b"tampered");
        assert!(!verify(
            id,
            sig,
            &result_message(&s.job_hash, 0, "0.095498", 13, pairs(&outs))
        ));
    }

    #[test]
    fn fixture_found_by_candidate_search() {
        let s = fixture_status();
        let w = s.worker_metadata.as_ref().unwrap();
        let meta = s.execution_metadata.as_ref().unwrap();
        let outs = fixture_outputs(&s);
        let found = crate::cpu::candidates(meta.cpu_seconds)
            .into_iter()
            .find(|cpu| {
                let msg = result_message(
                    &s.job_hash,
                    meta.exit_code,
                    cpu,
                    meta.memory_peak_mb,
                    pairs(&outs),
                );
                verify(
                    w.worker_id.as_deref().unwrap(),
                    w.signature.as_deref().unwrap(),
                    &msg,
                )
            });
        assert_eq!(found.as_deref(), Some("0.095498"));
    }

    #[test]
    fn sign_then_verify_roundtrip_and_pem() {
        let k = WorkerKey::generate();
        let pem = k.to_pkcs8_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let k2 = WorkerKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(k.worker_id(), k2.worker_id());
        let sig = k.sign("m");
        assert!(verify(&k2.worker_id(), &sig, "m"));
        assert!(!verify(&k2.worker_id(), &sig, "n"));
        assert!(WorkerKey::from_pkcs8_pem("junk").is_err());
    }
}
