//! Verification of a finished job, as a decision over evidence plus a crypto port: the job hash
//! against the one computed before submission, the worker's Ed25519 signature over the result
//! (found by trying the CPU figures the signed message may hold; `Ed25519` is the port, WebCrypto
//! in the SDK), the worker's key against the trusted ones, and output bytes against the signed
//! hashes. Nothing here does I/O: the execution gathers the evidence.

pub mod crypto;

use super::boundary::error::Result;
use super::transport::Fut;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use sandrun_protocol::{b64, cpu, hash::is_sha256_hex, signing::result_message};

/// Options for `verify()`.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "verify options.")]
pub struct VerifyOptions {
    /// Download every output and check its bytes (default: check only those already downloaded).
    pub download_outputs: Option<bool>,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct VerificationReport {
    /// Every check that could run passed, and the result was signed.
    pub ok: bool,
    pub job_id: String,
    pub worker_id: Option<String>,
    /// `true`/`false` against the configured `trustedWorkers`; `null` when none are configured.
    pub trusted: Option<bool>,
    pub job_hash: HashCheck,
    pub signature: SignatureCheck,
    pub outputs: Vec<OutputCheck>,
    /// What failed, in words.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct HashCheck {
    /// What the worker reported (and signed).
    pub reported: String,
    /// Computed locally before submission; `null` for a re-attached job.
    pub expected: Option<String>,
    pub matches: Option<bool>,
}

#[derive(Debug, Clone, Default, sandrun_derive::ToJs)]
pub struct SignatureCheck {
    pub present: bool,
    pub valid: bool,
    /// The CPU figure the worker signed (found from the stream, the dev node's `cpu_signed`, or
    /// by trying every value that rounds to what `/status` shows).
    pub cpu: Option<String>,
    pub candidates_tried: u32,
    /// The exact signed message, when the signature verified.
    pub message: Option<String>,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct OutputCheck {
    pub path: String,
    pub sha256: String,
    pub size: f64,
    /// The bytes were downloaded and hashed.
    pub checked: bool,
    /// Downloaded bytes matched the signed sha256 (`null` if not downloaded).
    pub matches: Option<bool>,
}

/// The crypto port: which of `messages` (if any) `signature` verifies under `key`.
pub trait Ed25519 {
    fn first_valid<'a>(
        &'a self,
        key: &'a [u8],
        signature: &'a [u8],
        messages: &'a [String],
    ) -> Fut<'a, Result<Option<usize>>>;
}

/// What the execution knows when it verifies.
pub struct Evidence<'a> {
    pub job_id: &'a str,
    pub status: &'a StatusBody,
    /// The job hash computed before submission (`None` for a re-attached job).
    pub expected_hash: Option<&'a str>,
    pub trusted_workers: &'a [String],
    /// CPU figures known to be the signed one (the stream's `[DONE]` line, `cpu_signed`).
    pub cpu_pins: Vec<String>,
    /// Outputs downloaded so far, and whether their bytes matched.
    pub checked: &'a SortedMap<bool>,
    /// Outputs that could not be downloaded to be checked, and why.
    pub unreadable: Vec<String>,
}

/// How many candidate messages go to the crypto port at once.
const BATCH: usize = 512;

/// Finds the signed message: the pinned CPU figures first, then every figure that rounds to what
/// `/status` shows, nearest first.
pub async fn check_signature(
    e: &Evidence<'_>,
    crypto: &dyn Ed25519,
) -> Result<(SignatureCheck, Option<String>)> {
    let mut check = SignatureCheck::default();
    let worker = e.status.worker_metadata.as_ref();
    let (Some(id), Some(sig), Some(meta)) = (
        worker.and_then(|w| w.worker_id.as_deref()),
        worker.and_then(|w| w.signature.as_deref()),
        e.status.execution_metadata.as_ref(),
    ) else {
        return Ok((
            check,
            Some("the result is not signed (an anonymous worker)".into()),
        ));
    };
    check.present = true;
    let (Some(key), Some(sig)) = (
        b64::decode(id).filter(|k| k.len() == 32),
        b64::decode(sig).filter(|s| s.len() == 64),
    ) else {
        return Ok((
            check,
            Some("the worker id or signature is not valid base64 of the right length".into()),
        ));
    };
    let message = |cpu: &str| {
        result_message(
            &e.status.job_hash,
            meta.exit_code,
            cpu,
            meta.memory_peak_mb,
            e.status
                .output_files
                .iter()
                .map(|(k, f)| (k.as_str(), f.sha256.as_str())),
        )
    };
    let mut pins: Vec<String> = meta.cpu_signed.iter().cloned().collect();
    for p in &e.cpu_pins {
        if !pins.contains(p) {
            pins.push(p.clone());
        }
    }
    // The search list (thousands of `%g` strings, ~13 ms in Node) is made only when no pinned
    // figure verifies.
    let search = std::iter::once_with(|| cpu::candidates(meta.cpu_seconds));
    for cpus in std::iter::once(pins).chain(search) {
        for chunk in cpus.chunks(BATCH) {
            let messages: Vec<String> = chunk.iter().map(|c| message(c)).collect();
            let found = crypto.first_valid(&key, &sig, &messages).await?;
            check.candidates_tried += chunk.len() as u32;
            if let Some(i) = found {
                check.valid = true;
                check.cpu = chunk.get(i).cloned();
                check.message = messages.into_iter().nth(i);
                return Ok((check, None));
            }
        }
    }
    Ok((check, Some("the worker's signature does not match this result (its job hash, exit code, resources or output hashes were changed)".into())))
}

/// The verdict over the evidence and the signature check: pure.
pub fn decide(
    e: &Evidence<'_>,
    signature: SignatureCheck,
    signature_problem: Option<String>,
) -> VerificationReport {
    let status = e.status;
    let mut problems = Vec::new();
    let expected = e.expected_hash.map(String::from);
    let matches = expected.as_ref().map(|h| *h == status.job_hash);
    if matches == Some(false) {
        problems.push(format!(
            "job hash {} differs from the {} computed before submission: the worker ran something else",
            status.job_hash,
            expected.as_deref().unwrap_or_default()
        ));
    }
    if !is_sha256_hex(&status.job_hash) {
        problems.push("the worker reported no valid job hash".into());
    }
    problems.extend(signature_problem);
    let worker_id = status
        .worker_metadata
        .as_ref()
        .and_then(|w| w.worker_id.clone());
    let trusted = (!e.trusted_workers.is_empty()).then(|| {
        worker_id
            .as_ref()
            .map(|id| e.trusted_workers.contains(id))
            .unwrap_or(false)
    });
    if trusted == Some(false) {
        problems.push(format!(
            "worker {} is not among the trusted workers",
            worker_id.as_deref().unwrap_or("(anonymous)")
        ));
    }
    problems.extend(e.unreadable.iter().cloned());
    let outputs: Vec<OutputCheck> = status
        .output_files
        .iter()
        .map(|(path, f)| OutputCheck {
            path: path.clone(),
            sha256: f.sha256.clone(),
            size: f.size_bytes as f64,
            checked: e.checked.contains_key(path),
            matches: e.checked.get(path).copied(),
        })
        .collect();
    for o in outputs.iter().filter(|o| o.matches == Some(false)) {
        problems.push(format!(
            "{}: downloaded bytes do not match the signed sha256",
            o.path
        ));
    }
    VerificationReport {
        ok: problems.is_empty(),
        job_id: e.job_id.to_string(),
        worker_id,
        trusted,
        job_hash: HashCheck {
            reported: status.job_hash.clone(),
            expected,
            matches,
        },
        signature,
        outputs,
        problems,
    }
}

thread_local! {
    /// The port a layer above installed (the full build's faster search), if any.
    static PORT: std::cell::Cell<Option<&'static dyn Ed25519>> = const { std::cell::Cell::new(None) };
}

/// Makes `port` the Ed25519 port of every verification (a layer above the core calls it once, from
/// `setPlatform`). It must give the verdicts WebCrypto gives.
pub fn install_port(port: &'static dyn Ed25519) {
    PORT.with(|p| p.set(Some(port)));
}

/// The Ed25519 port: the installed one, or WebCrypto.
pub fn port() -> &'static dyn Ed25519 {
    PORT.with(|p| p.get()).unwrap_or(&crypto::WebCrypto)
}

/// The whole check: the signature search through `crypto`, then the verdict.
pub async fn verify(e: &Evidence<'_>, crypto: &dyn Ed25519) -> Result<VerificationReport> {
    let (signature, problem) = check_signature(e, crypto).await?;
    Ok(decide(e, signature, problem))
}

// Native only: the stand-in for WebCrypto is ed25519-dalek, a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use sandrun_protocol::status::{ExecutionMetadata, OutputFile, WorkerMetadata};

    /// The real signed job in protocol/fixtures, verified through a native Ed25519 (the SDK
    /// uses WebCrypto; natively the protocol crate's ed25519-dalek stands in for it, given the
    /// status' own base64 key and signature).
    struct Native(String, String);

    impl Ed25519 for Native {
        fn first_valid<'a>(
            &'a self,
            _key: &'a [u8],
            _signature: &'a [u8],
            messages: &'a [String],
        ) -> Fut<'a, Result<Option<usize>>> {
            Box::pin(async move {
                Ok(messages
                    .iter()
                    .position(|m| sandrun_protocol::signing::verify(&self.0, &self.1, m)))
            })
        }
    }

    fn fixture() -> StatusBody {
        let text = include_str!("../../../protocol/fixtures/signed-job/status.json");
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        let meta = &v["execution_metadata"];
        let mut output_files = SortedMap::new();
        for (k, f) in v["output_files"].as_object().unwrap() {
            output_files.insert(
                k.clone(),
                OutputFile {
                    size_bytes: f["size_bytes"].as_u64().unwrap(),
                    sha256: f["sha256"].as_str().unwrap().into(),
                    kind: f["type"].as_str().unwrap_or_default().into(),
                },
            );
        }
        StatusBody {
            job_id: v["job_id"].as_str().unwrap().into(),
            status: v["status"].as_str().unwrap().into(),
            queue_position: None,
            execution_metadata: Some(ExecutionMetadata {
                cpu_seconds: meta["cpu_seconds"].as_f64().unwrap(),
                memory_peak_bytes: meta["memory_peak_bytes"].as_u64().unwrap_or(0),
                memory_peak_mb: meta["memory_peak_mb"].as_u64().unwrap(),
                wall_time_ms: 0,
                exit_code: meta["exit_code"].as_i64().unwrap(),
                environment: String::new(),
                interpreter: "python3".into(),
                cpu_signed: None,
            }),
            job_hash: v["job_hash"].as_str().unwrap().into(),
            output_files,
            worker_metadata: Some(WorkerMetadata {
                worker_id: v["worker_metadata"]["worker_id"].as_str().map(String::from),
                signature: v["worker_metadata"]["signature"].as_str().map(String::from),
            }),
        }
    }

    fn run(status: &StatusBody, expected: Option<&str>, trusted: &[String]) -> VerificationReport {
        let checked = SortedMap::new();
        let e = Evidence {
            job_id: "j",
            status,
            expected_hash: expected,
            trusted_workers: trusted,
            cpu_pins: Vec::new(),
            checked: &checked,
            unreadable: Vec::new(),
        };
        let w = status.worker_metadata.clone().unwrap();
        let native = Native(w.worker_id.unwrap(), w.signature.unwrap());
        block_on(verify(&e, &native)).unwrap()
    }

    /// Drives a future that never waits (the native port answers at once).
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
        fn noop(_: *const ()) {}
        fn clone(p: *const ()) -> RawWaker {
            RawWaker::new(p, &VTABLE)
        }
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the native port does not wait"),
        }
    }

    #[test]
    fn the_real_signed_job_verifies_by_search() {
        let s = fixture();
        let r = run(&s, Some(&s.job_hash.clone()), &[]);
        assert!(r.ok, "{:?}", r.problems);
        assert_eq!(r.signature.cpu.as_deref(), Some("0.095498"));
        assert!(r.signature.candidates_tried > 1);
    }

    #[test]
    fn a_changed_result_or_an_untrusted_key_fails() {
        let mut s = fixture();
        s.execution_metadata.as_mut().unwrap().exit_code = 1;
        let r = run(&s, None, &[]);
        assert!(!r.ok && !r.signature.valid);
        let s = fixture();
        let r = run(
            &s,
            Some("00"),
            &["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()],
        );
        assert_eq!(r.job_hash.matches, Some(false));
        assert_eq!(r.trusted, Some(false));
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
    }
}
