//! One market job on the node's own worker: the job directory fetched by CID (every block
//! verified by the IPFS layer), run on the worker exactly as posted, the signed result checked
//! like a submitter will check it, then published as the result directory (format v1).

use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{code_of, entries, message_of, string};
use crate::core::client::Client;
use crate::core::execution::worker::WorkerExecution;
use crate::core::package::Package;
use crate::core::transport::{Body, CallOpts};
use crate::market::format;
use crate::market::ipfs::client::Ipfs;
use alloy_primitives::B256;
use js_sys::{Object, Reflect, Uint8Array};
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A job the worker finished and whose result checked out.
pub struct Finished {
    /// The job's id on the worker.
    pub worker_job: String,
    /// `/status` as the worker answered it, byte for byte (what `status.json` holds).
    pub status_json: String,
    pub status: StatusBody,
    /// Output path → bytes, each matching its signed sha256.
    pub outputs: SortedMap<Vec<u8>>,
}

/// What goes on chain for a finished job.
pub struct Published {
    pub result_hash: B256,
    pub output_cid: String,
    pub signature: Vec<u8>,
}

/// A rejection of one of the IPFS layer's promises (or a throw), back as the error it was.
pub fn from_js(e: JsValue) -> SdkError {
    let code = code_of(&e)
        .and_then(|c| Code::ALL.iter().copied().find(|k| k.as_str() == c))
        .unwrap_or(Code::Internal);
    SdkError::new(code, message_of(&e))
}

fn bad_format(cid: &str, e: format::FormatError) -> SdkError {
    SdkError::new(Code::Protocol, format!("{cid}: {e}"))
}

/// The job directory at `cid`: (archive, manifest JSON).
async fn fetch_input(ipfs: &Ipfs, cid: &str) -> Result<(Vec<u8>, String)> {
    let dir = JsFuture::from(ipfs.get_directory(cid.to_string(), None))
        .await
        .map_err(from_js)?;
    let mut files = SortedMap::new();
    if let Ok(listed) = Reflect::get(&dir, &"files".into()) {
        for (path, bytes) in entries(&listed) {
            files.insert(path, Uint8Array::new(&bytes).to_vec());
        }
    }
    format::read_input(&files).map_err(|e| bad_format(cid, e))
}

/// A status text parsed as the SDK reads the worker's `/status`.
pub fn parse_status(text: &str) -> std::result::Result<StatusBody, String> {
    let v = js_sys::JSON::parse(text).map_err(|e| message_of(&e))?;
    actions::status::read(&v, false)
}

/// Hands the job at `input_cid` to `worker`; the id the worker gave the run.
pub async fn submit(
    worker: &Rc<Client>,
    ipfs: &Ipfs,
    job_hash: &B256,
    input_cid: &str,
) -> Result<String> {
    let (archive, manifest_json) = fetch_input(ipfs, input_cid).await?;
    let expected = format::job_hash_hex(job_hash);
    // The posted archive goes to the worker as it is: re-packaging could change its bytes.
    let upload = Package {
        tar: Vec::new(),
        manifest_json,
        hash_input: Vec::new(),
    }
    .multipart(&archive, &expected);
    let body = Body::new(&upload.content_type, upload.body);
    let sent = actions::submit::submit(&worker.http, body, &CallOpts::default()).await?;
    Ok(sent.job_id)
}

/// Waits for the worker's run `id` of the job posted as `job_hash` and checks what it signed:
/// the job hash must be `job_hash` (else the worker ran something else and nothing may be
/// submitted), the signature must verify and every output's bytes must match their signed
/// sha256.
pub async fn finish(worker: &Rc<Client>, job_hash: &B256, id: String) -> Result<Finished> {
    let expected = format::job_hash_hex(job_hash);
    let exec = WorkerExecution::new(
        worker.clone(),
        id.clone(),
        Some(expected.clone()),
        None,
        Some(actions::status::queued(&id)),
    );
    let status = exec.wait_terminal(None, None).await?;
    if status.job_hash != expected {
        return Err(SdkError::new(
            Code::Verification,
            format!(
                "the worker reports job hash {} for a job posted as {expected}: no result is submitted",
                status.job_hash
            ),
        )
        .job(&id));
    }
    let report = exec.check(true).await?;
    if !report.ok {
        return Err(SdkError::new(
            Code::Verification,
            format!(
                "the worker's result does not verify: {}",
                report.problems.join("; ")
            ),
        )
        .job(&id));
    }
    let mut outputs = SortedMap::new();
    for path in status.output_files.keys() {
        outputs.insert(path.clone(), exec.download_checked(path).await?);
    }
    // status.json is the worker's own text: fetched once more, raw, and held to what verified.
    let raw = worker
        .http
        .send(
            "status",
            "GET",
            &format!("/status/{id}"),
            None,
            &CallOpts::default(),
        )
        .await?;
    let status_json = String::from_utf8(raw.body)
        .map_err(|_| SdkError::new(Code::Protocol, "the worker's status is not UTF-8"))?;
    let reread = parse_status(&status_json).map_err(|e| SdkError::new(Code::Protocol, e))?;
    let same = format::result_hash(&reread) == format::result_hash(&status)
        && format::signature(&reread).ok() == format::signature(&status).ok();
    if !same {
        return Err(SdkError::new(
            Code::Protocol,
            "the worker's status changed after the job ended",
        )
        .job(&id));
    }
    format::check_outputs(&reread, &outputs).map_err(|e| bad_format(&id, e))?;
    Ok(Finished {
        worker_job: id,
        status_json,
        status: reread,
        outputs,
    })
}

/// A faulty node's outputs: one bit of each file flipped (an empty file gets a byte), so the
/// result no longer matches what the worker signed.
fn alter(outputs: &mut SortedMap<Vec<u8>>) {
    let paths: Vec<String> = outputs.keys().cloned().collect();
    for path in paths {
        let mut bytes = outputs.get(&path).cloned().unwrap_or_default();
        match bytes.first_mut() {
            Some(b) => *b ^= 1,
            None => bytes.push(0),
        }
        outputs.insert(path, bytes);
    }
}

/// Adds the result directory to IPFS (pinned on the node) and gives what `submitResult` takes.
/// `faulty` alters the outputs first and reports the result hash of the altered bytes.
pub async fn publish(ipfs: &Ipfs, done: &Finished, faulty: bool) -> Result<Published> {
    let signature = format::signature(&done.status).map_err(|e| bad_format(&done.worker_job, e))?;
    let mut outputs = done.outputs.clone();
    let result_hash = if faulty {
        alter(&mut outputs);
        let mut hashes = SortedMap::new();
        for (path, bytes) in outputs.iter() {
            hashes.insert(path.clone(), sha256_hex(bytes));
        }
        format::result_hash_of(
            &done.status.job_hash,
            format::exit_code(&done.status),
            &hashes,
        )
    } else {
        format::result_hash(&done.status)
    };
    let tree = Object::new();
    for (path, bytes) in format::result_entries(&done.status_json, &outputs).iter() {
        let _ = Reflect::set(&tree, &path.into(), &Uint8Array::from(&bytes[..]));
    }
    let options = Object::new();
    let _ = Reflect::set(
        &options,
        &"cidVersion".into(),
        &f64::from(format::CID_VERSION).into(),
    );
    let added = JsFuture::from(ipfs.add_directory(tree.into(), Some(options.into())))
        .await
        .map_err(from_js)?;
    let output_cid = string(&added, "cid")
        .ok_or_else(|| SdkError::new(Code::Internal, "addDirectory gave no CID"))?;
    Ok(Published {
        result_hash,
        output_cid,
        signature,
    })
}
