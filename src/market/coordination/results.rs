//! One node's result, checked by the shared VALID rule of the market format (`format.rs`): its
//! directory is read from IPFS (every block verified against the output CID), `status.json`
//! parses, its job hash is the job's, its Ed25519 signature verifies under the worker key the
//! node registered on chain and is the signature recorded on chain, the resultHash recomputed
//! from it is the one on chain, and every output hashes to its signed sha256 (none missing,
//! none extra). The outcome is the consensus layer's `WorkerEvidence`, so k-of-n is decided by
//! the same `decide` as a pool's.

use super::ipfs_call::{directory_files, MarketIpfs};
use crate::core::actions::status::read as read_status;
use crate::core::verify::{self, Evidence, VerificationReport};
use crate::ext::consensus::WorkerEvidence;
use crate::market::format;
use alloy_primitives::{Address, B256};
use sandrun_chain::market::Node;
use sandrun_protocol::b64;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;

/// What the chain says a node submitted.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub node: Address,
    pub result_hash: B256,
    pub output_cid: String,
    pub signature: Vec<u8>,
}

/// A checked result: the evidence for the decision, and what a download needs.
#[derive(Debug, Clone)]
pub struct Checked {
    pub evidence: WorkerEvidence,
    pub output_cid: String,
    pub status: Option<StatusBody>,
    /// The core's verification of the signed status (signature, job hash, outputs).
    pub report: Option<VerificationReport>,
}

fn parse(text: &str) -> Result<StatusBody, String> {
    let v = js_sys::JSON::parse(text).map_err(|_| "is not JSON".to_string())?;
    read_status(&v, false)
}

/// `result_hash` as the consensus groups compare it (`0x` hex of the on-chain bytes32).
pub fn group_key(h: &B256) -> String {
    h.to_string()
}

/// Checks `s` against the job hash and the node's record.
pub async fn check(ipfs: &MarketIpfs, job_hash: &str, s: &Submitted, node: &Node) -> Checked {
    let key_b64 = b64::encode(node.worker_key.as_slice());
    let mut ev = WorkerEvidence {
        worker_id: key_b64.clone(),
        endpoint: node.endpoint.clone(),
        job_id: s.node.to_checksum(None),
        result_hash: Some(group_key(&s.result_hash)),
        signature: Some(b64::encode(&s.signature)),
        ..WorkerEvidence::default()
    };
    let mut report = None;
    let status = match read(ipfs, job_hash, s, node, &key_b64, &mut ev, &mut report).await {
        Ok(st) => Some(st),
        Err(problem) => {
            ev.problems.push(problem);
            None
        }
    };
    ev.verified = ev.problems.is_empty();
    Checked {
        evidence: ev,
        output_cid: s.output_cid.clone(),
        status,
        report,
    }
}

async fn read(
    ipfs: &MarketIpfs,
    job_hash: &str,
    s: &Submitted,
    node: &Node,
    key_b64: &str,
    ev: &mut WorkerEvidence,
    out: &mut Option<VerificationReport>,
) -> Result<StatusBody, String> {
    if !node.registered {
        return Err("the node is not registered on chain".into());
    }
    let files = directory_files(ipfs, &s.output_cid).await.map_err(|e| {
        format!(
            "the result {} could not be read from IPFS: {e}",
            s.output_cid
        )
    })?;
    let (status, _text, outputs) = format::read_result(&files, parse).map_err(|e| e.to_string())?;
    ev.status = Some(status.status.clone());
    ev.exit_code = Some(format::exit_code(&status) as f64);
    ev.job_hash = Some(status.job_hash.clone());
    for (path, f) in status.output_files.iter() {
        ev.outputs.insert(path.clone(), f.sha256.clone());
    }
    let signed_by = status
        .worker_metadata
        .as_ref()
        .and_then(|w| w.worker_id.clone())
        .unwrap_or_default();
    if signed_by != key_b64 {
        return Err(format!(
            "signed by worker {signed_by}, the node registered worker key {key_b64}"
        ));
    }
    match format::signature(&status) {
        Ok(sig) if sig == s.signature => {}
        Ok(_) => return Err("the signature on chain is not the status's signature".into()),
        Err(e) => return Err(e.to_string()),
    }
    let mut checked = SortedMap::new();
    let outputs_ok = format::check_outputs(&status, &outputs);
    for path in status.output_files.keys() {
        checked.insert(path.clone(), outputs_ok.is_ok());
    }
    let trusted = [key_b64.to_string()];
    let evidence = Evidence {
        job_id: &status.job_id,
        status: &status,
        expected_hash: Some(job_hash),
        trusted_workers: &trusted,
        cpu_pins: Vec::new(),
        checked: &checked,
        unreadable: Vec::new(),
    };
    let report = verify::verify(&evidence, verify::port())
        .await
        .map_err(|e| e.message)?;
    ev.signed_message = report.signature.message.clone();
    let ok = report.ok;
    let problems = report.problems.join("; ");
    *out = Some(report);
    if !ok {
        return Err(problems);
    }
    outputs_ok.map_err(|e| e.to_string())?;
    let recomputed = format::result_hash(&status);
    if recomputed != s.result_hash {
        return Err(format!(
            "the resultHash on chain ({}) is not the one of the signed result ({recomputed})",
            s.result_hash
        ));
    }
    Ok(status)
}
