//! The `Market` class JS holds (`await sandrun.market(address)`), and `sandrun.deployMarket()`.
//! Each method reads and checks its input here (a `ValidationError` naming the field, before
//! anything is sent), calls `MarketContract`, and converts the answer (`results`).

use super::connection::Chain;
use super::contract::{self, DeploySettings, MarketContract};
use super::events::{self, EventLog, Indexed};
use super::results::{JobInfo, JobSettlement, MarketNode, MarketSettings, PostedJob, TxReceipt};
use super::send::{self, SendOptions};
use super::values::{
    address, amount, base64, bigint, hash32, job_id, small, unix_seconds, Wei, MAX_SAFE,
};
use super::watch::{From, OnError, Sink, WatchOptions, WatchedLog};
use crate::core::boundary::error::{FieldProblem, Result, SdkError};
use crate::core::boundary::js::{entries, ToJs};
use crate::core::boundary::platform::call_async;
use crate::core::boundary::promise::promise;
use crate::core::boundary::reader::FromJs;
use crate::core::sandrun::Sandrun;
use crate::core::transport::Fut;
use alloy_primitives::{B256, U256};
use js_sys::{Function, Promise};
use sandrun_chain::market::PostJob;
use std::future::Future;
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

fn tx_options(v: Option<JsValue>) -> Result<SendOptions> {
    let o = TxOptions::from_js(&v.unwrap_or(JsValue::UNDEFINED))?;
    let mut problems = Vec::new();
    let confirmations = o.confirmations.map(JsValue::from_f64).and_then(|c| {
        note(
            &mut problems,
            small(
                "options.confirmations",
                &c,
                super::config::MAX_CONFIRMATIONS,
            )
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

fn one_job_id(v: &JsValue) -> Result<U256> {
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
fn node_fields(v: &JsValue, bond_required: bool) -> Result<(B256, String, U256, U256)> {
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

fn job_fields(v: &JsValue) -> Result<PostJob> {
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

fn result_fields(v: &JsValue) -> Result<(B256, String, Vec<u8>)> {
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
type Watching = (Vec<Option<B256>>, WatchOptions, Option<Function>);

fn watch_options(chain: &Chain, event: &str, v: Option<JsValue>) -> Result<Watching> {
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
            small(
                "watch options.confirmations",
                &c,
                super::config::MAX_CONFIRMATIONS,
            )
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

/// SandrunMarket on the client's chain.
#[wasm_bindgen]
pub struct Market {
    inner: Rc<MarketContract>,
}

impl Market {
    /// The contract for Rust callers (the coordinated job).
    pub fn contract(&self) -> &Rc<MarketContract> {
        &self.inner
    }

    /// Runs `f` on the contract as a promise; errors name `op`. The call's future is boxed to
    /// one type first, so that `promise` is compiled once for all the methods rather than once
    /// each (19 copies measured 36 KB of the wasm before optimisation).
    fn run<F, Fut2>(&self, op: &'static str, input: Result<F>) -> Promise
    where
        F: FnOnce(Rc<MarketContract>) -> Fut2 + 'static,
        Fut2: Future<Output = Result<JsValue>> + 'static,
    {
        let c = self.inner.clone();
        let call: Fut<'static, Result<JsValue>> = Box::pin(async move {
            let f = input.map_err(|e| e.op(op))?;
            f(c).await.map_err(|e| e.op(op))
        });
        promise(call)
    }
}

#[wasm_bindgen]
impl Market {
    /// The contract's address (EIP-55).
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        self.inner.address.to_checksum(None)
    }

    /// The chain it is on.
    #[wasm_bindgen(getter = chainId, unchecked_return_type = "bigint")]
    pub fn chain_id(&self) -> JsValue {
        bigint(U256::from(self.inner.chain_id))
    }

    /// The account this client sends from (a wallet may ask the user for access).
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn account(&self) -> Promise {
        self.run(
            "account",
            Ok(|c: Rc<MarketContract>| async move {
                Ok(JsValue::from_str(
                    &c.chain.sender().await?.address().to_checksum(None),
                ))
            }),
        )
    }

    /// Registers the sender as a node with a bond (`bond` wei sent).
    #[wasm_bindgen(js_name = registerNode, unchecked_return_type = "Promise<TxReceipt>")]
    pub fn register_node(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NodeRegistration")] node: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = node_fields(&node, true).and_then(|n| Ok((n, tx_options(options)?)));
        self.run(
            "registerNode",
            input.map(|((key, endpoint, price, bond), o)| {
                move |c: Rc<MarketContract>| async move {
                    let m = c.register_node(key, &endpoint, price, bond, &o).await?;
                    Ok(TxReceipt::of(&m).to_js())
                }
            }),
        )
    }

    /// Replaces the node's worker key, endpoint and price; `bond` (optional) is added.
    #[wasm_bindgen(js_name = updateNode, unchecked_return_type = "Promise<TxReceipt>")]
    pub fn update_node(
        &self,
        #[wasm_bindgen(unchecked_param_type = "NodeRegistration")] node: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = node_fields(&node, false).and_then(|n| Ok((n, tx_options(options)?)));
        self.run(
            "updateNode",
            input.map(|((key, endpoint, price, bond), o)| {
                move |c: Rc<MarketContract>| async move {
                    let m = c.update_node(key, &endpoint, price, bond, &o).await?;
                    Ok(TxReceipt::of(&m).to_js())
                }
            }),
        )
    }

    /// Stops new claims and starts the unbonding delay.
    #[wasm_bindgen(js_name = unregisterNode, unchecked_return_type = "Promise<TxReceipt>")]
    pub fn unregister_node(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.run(
            "unregisterNode",
            tx_options(options).map(|o| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.unregister_node(&o).await?).to_js())
                }
            }),
        )
    }

    /// Pays the bond back once the unbonding delay has passed.
    #[wasm_bindgen(js_name = withdrawBond, unchecked_return_type = "Promise<TxReceipt>")]
    pub fn withdraw_bond(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.run(
            "withdrawBond",
            tx_options(options).map(|o| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.withdraw_bond(&o).await?).to_js())
                }
            }),
        )
    }

    /// Posts a job with `pricePerNode × n` in escrow; its id.
    #[wasm_bindgen(js_name = postJob, unchecked_return_type = "Promise<PostedJob>")]
    pub fn post_job(
        &self,
        #[wasm_bindgen(unchecked_param_type = "JobPosting")] job: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = job_fields(&job).and_then(|j| Ok((j, tx_options(options)?)));
        self.run(
            "postJob",
            input.map(|(job, o)| {
                move |c: Rc<MarketContract>| async move {
                    let (id, m) = c.post_job(&job, &o).await?;
                    let receipt = TxReceipt::of(&m);
                    Ok(PostedJob {
                        job_id: Wei(id),
                        tx_hash: receipt.hash.clone(),
                        receipt,
                    }
                    .to_js())
                }
            }),
        )
    }

    /// Claims the job for the sender's node (locks part of its bond).
    #[wasm_bindgen(unchecked_return_type = "Promise<TxReceipt>")]
    pub fn claim(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = one_job_id(&job_id).and_then(|id| Ok((id, tx_options(options)?)));
        self.run(
            "claim",
            input.map(|(id, o)| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.claim(id, &o).await?).to_js())
                }
            }),
        )
    }

    /// Submits the node's signed result for a job it claimed.
    #[wasm_bindgen(js_name = submitResult, unchecked_return_type = "Promise<TxReceipt>")]
    pub fn submit_result(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ResultSubmission")] result: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = one_job_id(&job_id)
            .and_then(|id| Ok((id, result_fields(&result)?, tx_options(options)?)));
        self.run(
            "submitResult",
            input.map(|(id, (hash, cid, sig), o)| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.submit_result(id, hash, &cid, &sig, &o).await?).to_js())
                }
            }),
        )
    }

    /// Settles a job k results agree on: agreeing nodes paid, dissenters slashed, the rest of
    /// the escrow credited back to the poster.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobSettlement>")]
    pub fn finalize(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.settle("finalize", job_id, options, |c, id, o| {
            Box::pin(async move { c.finalize(id, &o).await })
        })
    }

    /// Refunds a job whose deadline passed without k agreeing results.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobSettlement>")]
    pub fn refund(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.settle("refund", job_id, options, |c, id, o| {
            Box::pin(async move { c.refund(id, &o).await })
        })
    }

    /// Cancels a job nobody has claimed (its poster only).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobSettlement>")]
    pub fn cancel(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.settle("cancel", job_id, options, |c, id, o| {
            Box::pin(async move { c.cancel(id, &o).await })
        })
    }

    /// Sends the sender everything credited to it (payments, refunds).
    #[wasm_bindgen(unchecked_return_type = "Promise<TxReceipt>")]
    pub fn withdraw(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.run(
            "withdraw",
            tx_options(options).map(|o| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.withdraw(&o).await?).to_js())
                }
            }),
        )
    }

    /// A job's whole state.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobInfo>")]
    pub fn job(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
    ) -> Promise {
        self.run("job", one_job_id(&job_id).map(|id| {
            move |c: Rc<MarketContract>| async move { Ok(JobInfo::of(&c.job(id).await?).to_js()) }
        }))
    }

    /// A node's record.
    #[wasm_bindgen(unchecked_return_type = "Promise<MarketNode>")]
    pub fn node(&self, node: String) -> Promise {
        let a = address("address", &node).map_err(|p| SdkError::validation(vec![p]));
        self.run("node", a.map(|a| {
            move |c: Rc<MarketContract>| async move { Ok(MarketNode::of(&c.node(a).await?).to_js()) }
        }))
    }

    /// What is credited to `account` and not yet withdrawn, in wei.
    #[wasm_bindgen(js_name = balanceOf, unchecked_return_type = "Promise<bigint>")]
    pub fn balance_of(&self, account: String) -> Promise {
        let a = address("account", &account).map_err(|p| SdkError::validation(vec![p]));
        self.run(
            "balanceOf",
            a.map(
                |a| move |c: Rc<MarketContract>| async move { Ok(bigint(c.balance_of(a).await?)) },
            ),
        )
    }

    /// Jobs posted so far (job ids are 1 to this).
    #[wasm_bindgen(js_name = jobCount, unchecked_return_type = "Promise<bigint>")]
    pub fn job_count(&self) -> Promise {
        self.run(
            "jobCount",
            Ok(|c: Rc<MarketContract>| async move { Ok(bigint(c.job_count().await?)) }),
        )
    }

    /// The market's parameters (minimum bond, claim bond, unbonding delay).
    #[wasm_bindgen(unchecked_return_type = "Promise<MarketSettings>")]
    pub fn settings(&self) -> Promise {
        self.run(
            "settings",
            Ok(|c: Rc<MarketContract>| async move {
                Ok(MarketSettings::of(&c.settings().await?).to_js())
            }),
        )
    }

    /// Calls `handler` with each `event` log (`MarketLog`): back-filled from `fromBlock`, each
    /// once, after its confirmations; a log a reorg took back comes again with
    /// `removed: true`. A handler's promise is awaited before the next log. Returns the
    /// function that stops the watch.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn watch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "MarketEventName")] event: String,
        #[wasm_bindgen(unchecked_param_type = "WatchOptions | undefined")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(log: MarketLog) => void | Promise<void>")]
        handler: Function,
    ) -> std::result::Result<Function, JsValue> {
        let options = (!options.is_undefined() && !options.is_null()).then_some(options);
        let (topics, opts, on_error_js) = watch_options(&self.inner.chain, &event, options)
            .map_err(|e| e.op("watch").into_js())?;
        // A handler that throws: its error goes to `onError` as it was thrown.
        let on_error = on_error_js;
        let sink: Sink = Rc::new(move |w: WatchedLog| -> Fut<'static, ()> {
            let handler = handler.clone();
            let on_error = on_error.clone();
            Box::pin(async move {
                let log = EventLog {
                    event: &w.event,
                    log: &w.log,
                    removed: w.removed,
                }
                .to_js();
                if let Err(thrown) = call_async(&handler, &JsValue::NULL, &[&log]).await {
                    if let Some(f) = &on_error {
                        let _ = f.call1(&JsValue::NULL, &thrown);
                    }
                }
            })
        });
        let handle = self.inner.watch(topics, opts, sink);
        let stop = Closure::<dyn FnMut()>::new(move || handle.stop());
        Ok(stop.into_js_value().unchecked_into())
    }

    /// Sends the same call again for the same nonce at higher fees (at least +11 %); resolves
    /// to the new hash. The call that sent `txHash` resolves with whichever copy is mined.
    #[wasm_bindgen(js_name = speedUp, unchecked_return_type = "Promise<string>")]
    pub fn speed_up(
        &self,
        #[wasm_bindgen(js_name = txHash)] tx_hash: String,
        #[wasm_bindgen(unchecked_optional_param_type = "{ maxFeePerGas?: Amount }")]
        options: Option<JsValue>,
    ) -> Promise {
        self.replace("speedUp", tx_hash, options, false)
    }

    /// Replaces a pending transaction with a zero-value transfer to the sender (same nonce,
    /// higher fees); resolves to its hash. The call that sent `txHash` then rejects with a
    /// `ReplacedError` whose `reason` is `cancelled`.
    #[wasm_bindgen(js_name = cancelTransaction, unchecked_return_type = "Promise<string>")]
    pub fn cancel_transaction(
        &self,
        #[wasm_bindgen(js_name = txHash)] tx_hash: String,
        #[wasm_bindgen(unchecked_optional_param_type = "{ maxFeePerGas?: Amount }")]
        options: Option<JsValue>,
    ) -> Promise {
        self.replace("cancelTransaction", tx_hash, options, true)
    }
}

type Settled = Fut<'static, Result<(sandrun_chain::events::Settlement, send::Mined)>>;

impl Market {
    fn settle(
        &self,
        op: &'static str,
        job_id: JsValue,
        options: Option<JsValue>,
        f: fn(Rc<MarketContract>, U256, SendOptions) -> Settled,
    ) -> Promise {
        let input = one_job_id(&job_id).and_then(|id| Ok((id, tx_options(options)?)));
        self.run(
            op,
            input.map(|(id, o)| {
                move |c: Rc<MarketContract>| async move {
                    let (s, m) = f(c, id, o).await?;
                    Ok(JobSettlement::of(&s, &m).to_js())
                }
            }),
        )
    }

    fn replace(
        &self,
        op: &'static str,
        tx_hash: String,
        options: Option<JsValue>,
        cancel: bool,
    ) -> Promise {
        let input = hash32("txHash", &tx_hash)
            .map_err(|p| SdkError::validation(vec![p]))
            .and_then(|h| {
                let o = tx_options(options)?;
                Ok((h, o.max_fee_per_gas))
            });
        self.run(
            op,
            input.map(|(hash, cap)| {
                move |c: Rc<MarketContract>| async move {
                    let new = if cancel {
                        send::cancel(&c.chain, hash, cap).await?
                    } else {
                        send::speed_up(&c.chain, hash, cap).await?
                    };
                    Ok(JsValue::from_str(&new.to_string()))
                }
            }),
        )
    }
}

fn deploy_options(v: Option<JsValue>) -> Result<(DeploySettings, SendOptions)> {
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

#[wasm_bindgen]
impl Sandrun {
    /// The marketplace contract at `address` on this client's chain (`config.chain`): checks
    /// the chain (a wallet elsewhere is asked to switch) and that a SandrunMarket is there.
    #[wasm_bindgen(unchecked_return_type = "Promise<Market>")]
    pub fn market(&self, address: String) -> Promise {
        let client = self.client().clone();
        promise(async move {
            let run = async {
                let a = super::values::address("address", &address)
                    .map_err(|p| SdkError::validation(vec![p]))?;
                let chain = Chain::open(&client)?;
                let inner = MarketContract::open(chain, a).await?;
                Ok(JsValue::from(Market {
                    inner: Rc::new(inner),
                }))
            };
            run.await.map_err(|e: SdkError| e.op("market"))
        })
    }

    /// Deploys the committed SandrunMarket from this client's account; resolves to its
    /// address. The defaults suit a local chain (0.1 ether minimum bond, 0.01 per claim, 60 s
    /// unbonding).
    #[wasm_bindgen(js_name = deployMarket, unchecked_return_type = "Promise<string>")]
    pub fn deploy_market(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DeployOptions")] options: Option<JsValue>,
    ) -> Promise {
        let client = self.client().clone();
        let input = deploy_options(options);
        promise(async move {
            let run = async {
                let (settings, o) = input?;
                let chain = Chain::open(&client)?;
                let (address, _) = contract::deploy(&chain, &settings, &o).await?;
                Ok(JsValue::from_str(&address.to_checksum(None)))
            };
            run.await.map_err(|e: SdkError| e.op("deployMarket"))
        })
    }
}
