//! Verification of a finished job: the job hash against the one computed before submission, the
//! worker's Ed25519 signature over the result (WebCrypto, so no curve code in the wasm), the
//! worker's key against the trusted ones, and output bytes against the signed hashes.

use crate::convert::{Obj, ToJs};
use crate::error::{Code, Result, SdkError};
use crate::execution::ExecInner;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::{b64, cpu, hash::is_sha256_hex, signing::result_message};
use std::rc::Rc;
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct VerifyOptions {
    /// Download every output and check its bytes (default: check only those already downloaded).
    #[tsify(optional)]
    pub download_outputs: Option<bool>,
}

#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Tsify)]
pub struct HashCheck {
    /// What the worker reported (and signed).
    pub reported: String,
    /// Computed locally before submission; `null` for a re-attached job.
    pub expected: Option<String>,
    pub matches: Option<bool>,
}

#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Tsify)]
pub struct OutputCheck {
    pub path: String,
    pub sha256: String,
    pub size: f64,
    /// The bytes were downloaded and hashed.
    pub checked: bool,
    /// Downloaded bytes matched the signed sha256 (`null` if not downloaded).
    pub matches: Option<bool>,
}

impl ToJs for VerificationReport {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("ok", &self.ok)
            .set("jobId", &self.job_id)
            .set("workerId", &self.worker_id)
            .set("trusted", &self.trusted)
            .set_js("jobHash", &{
                let h = Obj::new();
                h.set("reported", &self.job_hash.reported)
                    .set("expected", &self.job_hash.expected)
                    .set("matches", &self.job_hash.matches);
                h.into()
            })
            .set_js("signature", &{
                let s = &self.signature;
                let g = Obj::new();
                g.set("present", &s.present)
                    .set("valid", &s.valid)
                    .set("cpu", &s.cpu)
                    .set("candidatesTried", &(s.candidates_tried as f64))
                    .set("message", &s.message);
                g.into()
            })
            .set("outputs", &self.outputs)
            .set("problems", &self.problems);
        o.into()
    }
}

impl ToJs for OutputCheck {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("path", &self.path)
            .set("sha256", &self.sha256)
            .set("size", &self.size)
            .set("checked", &self.checked)
            .set("matches", &self.matches);
        o.into()
    }
}

impl VerifyOptions {
    pub fn from_js(v: &JsValue) -> Result<VerifyOptions> {
        let mut r = crate::convert::Reader::new(v, "verify options.");
        r.only(&["downloadOutputs"]);
        let o = VerifyOptions {
            download_outputs: r.boolean("downloadOutputs"),
        };
        r.finish(o).map_err(|e| e.op("verify"))
    }
}

pub async fn verify(exec: &Rc<ExecInner>, download_outputs: bool) -> Result<VerificationReport> {
    let status = exec.wait_terminal(None, None).await?;
    let mut problems = Vec::new();

    let expected = exec.expected.as_ref().map(|e| e.job_hash.clone());
    let matches = expected.as_ref().map(|e| *e == status.job_hash);
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

    let worker = status.worker_metadata.clone();
    let worker_id = worker.as_ref().and_then(|w| w.worker_id.clone());
    let mut signature = SignatureCheck {
        present: false,
        valid: false,
        cpu: None,
        candidates_tried: 0,
        message: None,
    };
    match (
        worker_id.as_deref(),
        worker.as_ref().and_then(|w| w.signature.as_deref()),
        status.execution_metadata.as_ref(),
    ) {
        (Some(id), Some(sig), Some(meta)) => {
            signature.present = true;
            match (
                b64::decode(id).filter(|k| k.len() == 32),
                b64::decode(sig).filter(|s| s.len() == 64),
            ) {
                (Some(key), Some(sig)) => {
                    let mut pinned: Vec<String> = meta.cpu_signed.iter().cloned().collect();
                    for cpu in exec.state.borrow().cpu_fixed.iter() {
                        if !pinned.contains(cpu) {
                            pinned.push(cpu.clone());
                        }
                    }
                    let message = |cpu: &str| {
                        result_message(
                            &status.job_hash,
                            meta.exit_code,
                            cpu,
                            meta.memory_peak_mb,
                            status
                                .output_files
                                .iter()
                                .map(|(k, f)| (k.as_str(), f.sha256.as_str())),
                        )
                    };
                    let mut found = find_signed(
                        &key,
                        &sig,
                        &pinned,
                        &message,
                        &mut signature.candidates_tried,
                    )
                    .await?;
                    if found.is_none() {
                        let all = cpu::candidates(meta.cpu_seconds);
                        found = find_signed(
                            &key,
                            &sig,
                            &all,
                            &message,
                            &mut signature.candidates_tried,
                        )
                        .await?;
                    }
                    match found {
                        Some(cpu) => {
                            signature.valid = true;
                            signature.message = Some(message(&cpu));
                            signature.cpu = Some(cpu);
                        }
                        None => problems.push(
                            "the worker's signature does not match this result (its job hash, exit code, resources or output hashes were changed)".into(),
                        ),
                    }
                }
                _ => problems.push(
                    "the worker id or signature is not valid base64 of the right length".into(),
                ),
            }
        }
        _ => problems.push("the result is not signed (an anonymous worker)".into()),
    }

    let trusted_keys = &exec.client.config.trusted_workers;
    let trusted = (!trusted_keys.is_empty()).then(|| {
        worker_id
            .as_ref()
            .map(|id| trusted_keys.contains(id))
            .unwrap_or(false)
    });
    if trusted == Some(false) {
        problems.push(format!(
            "worker {} is not among the trusted workers",
            worker_id.as_deref().unwrap_or("(anonymous)")
        ));
    }

    if download_outputs {
        for path in status.output_files.keys() {
            if let Err(e) = exec.download(path).await {
                if e.code != Code::Verification {
                    problems.push(format!(
                        "{path}: could not be downloaded to check ({})",
                        e.message
                    ));
                }
            }
        }
    }
    let checked = exec.state.borrow().checked.clone();
    let outputs: Vec<OutputCheck> = status
        .output_files
        .iter()
        .map(|(path, f)| OutputCheck {
            path: path.clone(),
            sha256: f.sha256.clone(),
            size: f.size_bytes as f64,
            checked: checked.contains_key(path),
            matches: checked.get(path).copied(),
        })
        .collect();
    for o in outputs.iter().filter(|o| o.matches == Some(false)) {
        problems.push(format!(
            "{}: downloaded bytes do not match the signed sha256",
            o.path
        ));
    }

    Ok(VerificationReport {
        ok: problems.is_empty(),
        job_id: exec.id.clone(),
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
    })
}

/// How many signature checks run at once.
const BATCH: usize = 512;

/// The first of `cpus` whose message the signature verifies.
async fn find_signed(
    key: &[u8],
    sig: &[u8],
    cpus: &[String],
    message: &dyn Fn(&str) -> String,
    tried: &mut u32,
) -> Result<Option<String>> {
    if cpus.is_empty() {
        return Ok(None);
    }
    let subtle = subtle()?;
    let alg = Object::new();
    let _ = Reflect::set(&alg, &"name".into(), &"Ed25519".into());
    let import = method(&subtle, "importKey")?;
    let usages = Array::of1(&"verify".into());
    let key_promise = import
        .call5(
            &subtle,
            &"raw".into(),
            &Uint8Array::from(key),
            &alg,
            &false.into(),
            &usages,
        )
        .map_err(unsupported)?;
    let crypto_key = JsFuture::from(Promise::resolve(&key_promise))
        .await
        .map_err(unsupported)?;
    let verify = method(&subtle, "verify")?;
    let sig = Uint8Array::from(sig);
    for chunk in cpus.chunks(BATCH) {
        let promises: Array = chunk
            .iter()
            .map(|cpu| {
                verify
                    .call4(
                        &subtle,
                        &alg,
                        &crypto_key,
                        &sig,
                        &Uint8Array::from(message(cpu).as_bytes()),
                    )
                    .unwrap_or(JsValue::FALSE)
            })
            .collect();
        let results = JsFuture::from(Promise::all(&promises))
            .await
            .map_err(unsupported)?;
        *tried += chunk.len() as u32;
        if let Some(i) = Array::from(&results)
            .iter()
            .position(|r| r.as_bool() == Some(true))
        {
            return Ok(chunk.get(i).cloned());
        }
    }
    Ok(None)
}

fn subtle() -> Result<JsValue> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).unwrap_or(JsValue::UNDEFINED);
    let subtle = Reflect::get(&crypto, &"subtle".into()).unwrap_or(JsValue::UNDEFINED);
    if subtle.is_undefined() {
        return Err(SdkError::new(
            Code::Unsupported,
            "WebCrypto is not available (browsers expose it only on https:// or localhost pages)",
        ));
    }
    Ok(subtle)
}

fn method(obj: &JsValue, name: &str) -> Result<js_sys::Function> {
    Reflect::get(obj, &name.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| SdkError::new(Code::Unsupported, format!("WebCrypto has no {name}()")))
}

fn unsupported(e: JsValue) -> SdkError {
    SdkError::new(
        Code::Unsupported,
        format!(
            "this platform's WebCrypto cannot verify Ed25519 signatures: {}",
            crate::error::js_message(&e)
        ),
    )
}
