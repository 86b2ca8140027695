//! What the `Market` methods and `deployMarket` take, read and checked before anything is
//! sent: every problem at once, as a `ValidationError` naming each field (`jobHash`, `k`,
//! `deadline`, `workerKey`, `options.maxFeePerGas`, …). The argument types' TypeScript is
//! written here (fields required where the call needs them).

use super::config::MAX_CONFIRMATIONS;
use super::connection::Chain;
use super::contract::DeploySettings;
use super::events::{self, Indexed};
use super::send::SendOptions;
use super::values::{address, amount, base64, hash32, job_id, small, unix_seconds, MAX_SAFE};
use super::watch::{From, OnError, WatchOptions};
use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::entries;
use crate::core::boundary::reader::FromJs;
use alloy_primitives::{B256, U256};
use js_sys::Function;
use sandrun_chain::market::PostJob;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Options of every sending call.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "options.")]
pub struct TxOptions {
    /// Blocks the transaction must be under before the call resolves (default: the config's).
    pub confirmations: Option<f64>,
    /// The most to pay per gas for this transaction (default: the config's cap).
    #[js(ts = "bigint | string")]
    pub max_fee_per_gas: Option<JsValue>,
    /// Gas limit instead of the estimate plus its buffer.
    pub gas_limit: Option<f64>,
    /// How long the transaction may stay pending (default: the config's `timeoutMs`).
    pub timeout_ms: Option<f64>,
    /// Called with the transaction's hash once it is sent (for `speedUp` and
    /// `cancelTransaction`).
    #[js(ts = "(txHash: string) => void")]
    pub on_sent: Option<Function>,
}

/// All problems at once, or the value.
fn finish<T>(problems: Vec<FieldProblem>, value: impl FnOnce() -> T) -> Result<T> {
    if problems.is_empty() {
        Ok(value())
    } else {
        Err(SdkError::validation(problems))
    }
}

/// `Ok(v)` kept, `Err(p)` noted.
fn note<T>(problems: &mut Vec<FieldProblem>, r: std::result::Result<T, FieldProblem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

/// A required field: missing is a problem.
fn need<T>(problems: &mut Vec<FieldProblem>, field: &str, v: Option<T>) -> Option<T> {
    if v.is_none() {
        problems.push(FieldProblem::new(field, "is required"));
    }
    v
}

pub fn tx_options(v: Option<JsValue>) -> Result<SendOptions> {
    let o = TxOptions::from_js(&v.unwrap_or(JsValue::UNDEFINED))?;
    let mut problems = Vec::new();
    let confirmations = o.confirmations.map(JsValue::from_f64).and_then(|c| {
        note(
            &mut problems,
            small("options.confirmations", &c, MAX_CONFIRMATIONS)
                .and_then(|c| nonzero("options.confirmations", c)),
        )
    });
    let gas_limit = o.gas_limit.map(JsValue::from_f64).and_then(|g| {
        note(
            &mut problems,
            small("options.gasLimit", &g, 30_000_000).and_then(|g| nonzero("options.gasLimit", g)),
        )
    });
    let max_fee_per_gas = o
        .max_fee_per_gas
        .as_ref()
        .and_then(|v| note(&mut problems, amount("options.maxFeePerGas", v)));
    let timeout_ms = o.timeout_ms.and_then(|t| {
        let ok = t.is_finite() && t > 0.0;
        if !ok {
            problems.push(FieldProblem::new(
                "options.timeoutMs",
                "must be a positive number of ms",
            ));
        }
        ok.then_some(t)
    });
    finish(problems, || SendOptions {
        confirmations,
        max_fee_per_gas,
        gas_limit,
        timeout_ms,
        on_sent: o.on_sent,
    })
}

fn nonzero(field: &str, v: u64) -> std::result::Result<u64, FieldProblem> {
    if v == 0 {
        return Err(FieldProblem::new(field, "must be at least 1"));
    }
    Ok(v)
}

/// An argument that must be an object (its fields are then named without a prefix, as the
/// contract's checks name them: `jobHash`, `k`, `deadline`, …).
fn object<'a>(name: &str, v: &'a JsValue) -> Result<&'a JsValue> {
    if v.is_object() {
        Ok(v)
    } else {
        Err(SdkError::field(name, "must be an object"))
    }
}

pub fn one_job_id(v: &JsValue) -> Result<U256> {
    job_id("jobId", v).map_err(|p| SdkError::validation(vec![p]))
}

#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "", no_ts)]
struct NodeFields {
    worker_key: Option<String>,
    endpoint: Option<String>,
    price: Option<JsValue>,
    bond: Option<JsValue>,
}

/// `registerNode` / `updateNode` input: worker key (base64 → 32 bytes), endpoint, price and
/// bond (required to register; on an update the bond is what is added, default none).
pub fn node_fields(v: &JsValue, bond_required: bool) -> Result<(B256, String, U256, U256)> {
    let f = NodeFields::from_js(object("node", v)?)?;
    let mut p = Vec::new();
    let key = need(&mut p, "workerKey", f.worker_key)
        .and_then(|k| note(&mut p, base64("workerKey", &k, 32)));
    let endpoint = need(&mut p, "endpoint", f.endpoint);
    let price = need(&mut p, "price", f.price).and_then(|v| note(&mut p, amount("price", &v)));
    let bond = match f.bond {
        Some(b) => note(&mut p, amount("bond", &b)),
        None if bond_required => need(&mut p, "bond", None),
        None => Some(U256::ZERO),
    };
    finish(p, || {
        (
            key.map(|k| B256::from_slice(&k)).unwrap_or_default(),
            endpoint.unwrap_or_default(),
            price.unwrap_or_default(),
            bond.unwrap_or_default(),
        )
    })
}

#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "", no_ts)]
struct JobFields {
    job_hash: Option<String>,
    input_cid: Option<String>,
    k: Option<JsValue>,
    n: Option<JsValue>,
    price_per_node: Option<JsValue>,
    deadline: Option<JsValue>,
}

pub fn job_fields(v: &JsValue) -> Result<PostJob> {
    let f = JobFields::from_js(object("job", v)?)?;
    let mut p = Vec::new();
    let job_hash =
        need(&mut p, "jobHash", f.job_hash).and_then(|h| note(&mut p, hash32("jobHash", &h)));
    let input_cid = need(&mut p, "inputCid", f.input_cid);
    let k = need(&mut p, "k", f.k).and_then(|v| note(&mut p, small("k", &v, 255)));
    let n = need(&mut p, "n", f.n).and_then(|v| note(&mut p, small("n", &v, 255)));
    let price = need(&mut p, "pricePerNode", f.price_per_node)
        .and_then(|v| note(&mut p, amount("pricePerNode", &v)));
    let deadline = need(&mut p, "deadline", f.deadline)
        .and_then(|v| note(&mut p, unix_seconds("deadline", &v)));
    finish(p, || PostJob {
        job_hash: job_hash.unwrap_or_default(),
        input_cid: input_cid.unwrap_or_default(),
        k: k.unwrap_or_default(),
        n: n.unwrap_or_default(),
        price_per_node: price.unwrap_or_default(),
        deadline: deadline.unwrap_or_default(),
    })
}

#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "", no_ts)]
struct ResultFields {
    result_hash: Option<String>,
    output_cid: Option<String>,
    signature: Option<String>,
}

pub fn result_fields(v: &JsValue) -> Result<(B256, String, Vec<u8>)> {
    let f = ResultFields::from_js(object("result", v)?)?;
    let mut p = Vec::new();
    let hash = need(&mut p, "resultHash", f.result_hash)
        .and_then(|h| note(&mut p, hash32("resultHash", &h)));
    let cid = need(&mut p, "outputCid", f.output_cid);
    let sig = need(&mut p, "signature", f.signature)
        .and_then(|s| note(&mut p, base64("signature", &s, 64)));
    finish(p, || {
        (
            hash.unwrap_or_default(),
            cid.unwrap_or_default(),
            sig.unwrap_or_default(),
        )
    })
}

/// `market.watch()`'s options.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "watch options.", no_ts)]
struct WatchFields {
    from_block: Option<JsValue>,
    confirmations: Option<f64>,
    poll_interval_ms: Option<f64>,
    args: Option<JsValue>,
    on_error: Option<Function>,
}

#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "options.", no_ts)]
struct DeployFields {
    min_bond: Option<JsValue>,
    claim_bond: Option<JsValue>,
    unbonding_delay: Option<JsValue>,
    #[js(rest)]
    tx: Vec<(String, JsValue)>,
}

#[wasm_bindgen(typescript_custom_section)]
const INPUTS_TS: &'static str = r#"
/** A bigint of wei, or a decimal string with a unit: `'0.01 ether'`, `'1.5 gwei'` (bare digits are wei). */
export type Amount = bigint | string;
/** `registerNode` and `updateNode`. */
export interface NodeRegistration {
  /** The Ed25519 public key the node's worker signs results with (base64, the worker's `worker_id`). */
  workerKey: string;
  /** Where the node's worker is reached. */
  endpoint: string;
  /** Its asking price per job (for posters to read; the contract does not enforce it). */
  price: Amount;
  /** Ether put up as bond (at least the market's `minBond`); on `updateNode`, what is added (default none). */
  bond?: Amount;
}
/** `postJob`. The escrow sent is `pricePerNode × n`. */
export interface JobPosting {
  /** The job's hash (`0x` + 64 hex digits, or the 64 digits as Sandrun writes them). */
  jobHash: string;
  /** Where the job's archive is on IPFS. */
  inputCid: string;
  /** Results that must agree (a majority of n). */
  k: number;
  /** Nodes that may claim it (at most 16). */
  n: number;
  pricePerNode: Amount;
  /** Unix seconds (or a Date) after which the job may be refunded; in the future. */
  deadline: number | Date;
}
/** `submitResult`. */
export interface ResultSubmission {
  /** The consensus key of the result (`0x` + 64 hex digits). */
  resultHash: string;
  /** Where the outputs are on IPFS. */
  outputCid: string;
  /** The worker's Ed25519 signature (base64, 64 bytes). */
  signature: string;
}
/** `market.watch()`. */
export interface WatchOptions {
  /** The first block to deliver from (back-filled; resume after a reload with the last block seen), or `'latest'` (the default): from the next block on. */
  fromBlock?: number | 'latest';
  /** Blocks a log's block must be under before it is delivered (default: the config's). */
  confirmations?: number;
  /** Pause between polls in ms (default: the config's). */
  pollIntervalMs?: number;
  /** Only logs whose indexed arguments have these values. */
  args?: { jobId?: bigint | number; node?: string; poster?: string; account?: string; jobHash?: string };
  /** Each failure (a provider that errors or drops; the watch retries with backoff and back-fills), and each error a handler throws. */
  onError?: (error: unknown) => void;
}
/** `sandrun.deployMarket()`: the contract's parameters (local-chain defaults) and the transaction's options. */
export interface DeployOptions extends TxOptions {
  /** Least bond a node registers with (default 0.1 ether). */
  minBond?: Amount;
  /** What each claim locks of a node's bond (default 0.01 ether). */
  claimBond?: Amount;
  /** Seconds between unregistering and withdrawing the bond (default 60). */
  unbondingDelay?: number;
}
"#;

/// A watch's topics, its options, and the JS `onError` (for errors a handler throws).
pub type Watching = (Vec<Option<B256>>, WatchOptions, Option<Function>);

pub fn watch_options(chain: &Chain, event: &str, v: Option<JsValue>) -> Result<Watching> {
    let f = WatchFields::from_js(&v.unwrap_or(JsValue::UNDEFINED))?;
    let mut p = Vec::new();
    let from = match &f.from_block {
        None => From::Latest,
        Some(v) if v.as_string().as_deref() == Some("latest") => From::Latest,
        Some(v) => note(&mut p, small("watch options.fromBlock", v, MAX_SAFE as u64))
            .map(From::Block)
            .unwrap_or(From::Latest),
    };
    let confirmations = match f.confirmations.map(JsValue::from_f64) {
        Some(c) => note(
            &mut p,
            small("watch options.confirmations", &c, MAX_CONFIRMATIONS)
                .and_then(|c| nonzero("watch options.confirmations", c)),
        ),
        None => Some(chain.settings.confirmations),
    };
    let poll_ms = match f.poll_interval_ms {
        Some(ms) if ms.is_finite() && ms >= 10.0 => ms,
        Some(_) => {
            p.push(FieldProblem::new(
                "watch options.pollIntervalMs",
                "must be at least 10 ms",
            ));
            chain.settings.poll_ms
        }
        None => chain.settings.poll_ms,
    };
    let mut filter = Vec::new();
    for (name, v) in f.args.as_ref().map(entries).unwrap_or_default() {
        let field = format!("watch options.args.{name}");
        let value = match events::indexed_kind(&name) {
            Some("id") => note(&mut p, job_id(&field, &v)).map(Indexed::Id),
            Some("hash") => v
                .as_string()
                .and_then(|s| note(&mut p, hash32(&field, &s)))
                .map(Indexed::Hash),
            Some(_) => v
                .as_string()
                .and_then(|s| note(&mut p, address(&field, &s)))
                .map(Indexed::Address),
            None => {
                p.push(FieldProblem::new(
                    &field,
                    "is not an indexed argument (jobId, node, poster, account, jobHash)",
                ));
                None
            }
        };
        if let Some(value) = value {
            filter.push((name, value));
        }
    }
    let topics = note(&mut p, events::topics(event, &filter));
    let on_error: Option<OnError> = f.on_error.clone().map(|f| -> OnError {
        Rc::new(move |e: SdkError| {
            let _ = f.call1(&JsValue::NULL, &e.into_js());
        })
    });
    finish(p, || {
        (
            topics.unwrap_or_default(),
            WatchOptions {
                from,
                confirmations: confirmations.unwrap_or(1),
                poll_ms,
                on_error,
            },
            f.on_error,
        )
    })
}

pub fn deploy_options(v: Option<JsValue>) -> Result<(DeploySettings, SendOptions)> {
    let f = DeployFields::from_js(&v.unwrap_or(JsValue::UNDEFINED))?;
    let mut p = Vec::new();
    let defaults = DeploySettings::default();
    let min_bond = f.min_bond.map_or(Some(defaults.min_bond), |v| {
        note(&mut p, amount("options.minBond", &v))
    });
    let claim_bond = f.claim_bond.map_or(Some(defaults.claim_bond), |v| {
        note(&mut p, amount("options.claimBond", &v))
    });
    let delay = f
        .unbonding_delay
        .map_or(Some(u64::from(defaults.unbonding_delay)), |v| {
            note(
                &mut p,
                small("options.unbondingDelay", &v, u64::from(u32::MAX)),
            )
        });
    let tx = js_sys::Object::new();
    for (k, v) in &f.tx {
        let _ = js_sys::Reflect::set(&tx, &k.into(), v);
    }
    let o = note(
        &mut p,
        tx_options(Some(tx.into())).map_err(|e| {
            e.context
                .errors
                .into_iter()
                .next()
                .unwrap_or_else(|| FieldProblem::new("options", e.message))
        }),
    );
    finish(p, || {
        (
            DeploySettings {
                min_bond: min_bond.unwrap_or_default(),
                claim_bond: claim_bond.unwrap_or_default(),
                unbonding_delay: delay.unwrap_or_default() as u32,
            },
            o.unwrap_or_default(),
        )
    })
}
