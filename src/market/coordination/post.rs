//! `submit()` of a paid job, up to its escrow: every check that needs no network first (terms,
//! config), the spend caps (on the payment plus the estimated gas: reads only), then the inputs
//! on IPFS (an IPFS failure stops here, before any payment), the no-double-pay check, and
//! `postJob`. A failed or rejected escrow leaves nothing posted and nothing paid; its error
//! names the stage and keeps the input CID for a retry.

use super::config::{limits_of, market_of};
use super::execution::MarketExecution;
use super::history::unsettled_duplicate;
use super::ipfs_call::{add_directory, pin, MarketIpfs};
use super::progress::{Progress, ON_STAGE};
use super::spend;
use super::terms::Paid;
use crate::core::boundary::error::FieldProblem;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::boundary::platform::now_ms;
use crate::core::execution::Execution;
use crate::core::extension::{JobExtension, Packaged};
use crate::core::spec::JobDraft;
use crate::core::transport::Fut;
use crate::market::chain::connection::Chain;
use crate::market::chain::contract::MarketContract;
use crate::market::chain::send::SendOptions;
use crate::market::chain::values::Wei;
use crate::market::format;
use js_sys::{Function, Reflect};
use sandrun_chain::market::PostJob;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The job's `market` extension (recorded by the builder, `terms.rs`): its checks before
/// packaging, and where the packaged job goes.
impl JobExtension for Paid {
    fn kind(&self) -> &'static str {
        "market"
    }

    fn places_on_workers(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn problems(&self, _draft: &JobDraft, all: &[Rc<dyn JobExtension>]) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        if all.iter().any(|e| e.kind() == "pool") {
            problems.push(FieldProblem::new(
                "payment",
                "a paid job goes to the market's nodes: leave out .with(pool)",
            ));
        }
        if let Err(p) = self.terms(all, now_ms() / 1000.0) {
            problems.extend(p);
        }
        problems
    }

    /// The job goes to the market: IPFS, escrow, the nodes (`post` below).
    fn dispatch<'a>(&'a self, job: Packaged<'a>) -> Option<Fut<'a, Result<Rc<dyn Execution>>>> {
        Some(Box::pin(post(self, job)))
    }
}

/// Adds `stage` (and the input CID, when there is one) to an error, whichever side made it.
pub fn at_stage(mut e: SdkError, stage: &str, input_cid: Option<&str>) -> SdkError {
    let target = match (&e.js, &e.details) {
        (Some(js), _) if js.is_object() => js.clone(),
        (_, Some(d)) if d.is_object() => d.clone(),
        _ => {
            let d: JsValue = Obj::new().into();
            e.details = Some(d.clone());
            d
        }
    };
    let _ = Reflect::set(&target, &"stage".into(), &stage.into());
    if let Some(cid) = input_cid {
        let _ = Reflect::set(&target, &"inputCid".into(), &cid.into());
    }
    e
}

/// The upload's byte counts, told as `uploading` stages and to `submit({ onProgress })`.
struct Uploaded {
    progress: Rc<Progress>,
    on_progress: Option<Function>,
    total: f64,
}

impl Uploaded {
    fn report(&self, loaded: f64, fields: &[(&str, &dyn ToJs)]) {
        let mut all: Vec<(&str, &dyn ToJs)> = vec![("bytes", &loaded), ("total", &self.total)];
        all.extend_from_slice(fields);
        self.progress.emit("uploading", &all);
        if let Some(f) = &self.on_progress {
            let o = Obj::new();
            o.set("loaded", &loaded).set("total", &self.total);
            // A callback that throws must not stop the job.
            let _ = f.call1(&JsValue::NULL, &o.into());
        }
    }
}

pub async fn post(paid: &Paid, job: Packaged<'_>) -> Result<Rc<dyn Execution>> {
    let terms = paid
        .terms(job.extensions, now_ms() / 1000.0)
        .map_err(SdkError::validation)?;
    let client = job.client.clone();
    let address = market_of(&client)?;
    let (limits, spend_key) = limits_of(&client)?;
    let chain = Chain::open(&client)?;
    let ipfs = MarketIpfs::open(&client)?;
    if !ipfs.has_node {
        return Err(SdkError::field(
            "config.ipfs.api",
            "a paid job adds its inputs through a Kubo RPC node: set config.ipfs.api",
        ));
    }
    let job_hash = format::job_hash_bytes(&job.job_hash)
        .map_err(|e| SdkError::new(Code::Internal, e.to_string()))?;
    let progress = Rc::new(Progress::default());
    // `submit({ onStage })` hears every stage live from the first, before `submit()` resolves.
    if let Some(f) = job.options.layer(ON_STAGE) {
        progress.listen(f.clone().unchecked_into());
    }
    let files = format::input_entries(&job.archive, &job.manifest);
    let total = files.iter().map(|(_, b)| b.len()).sum::<usize>() as f64;
    progress.emit(
        "packaging",
        &[
            ("jobHash", &job.job_hash),
            ("bytes", &(job.archive.len() as f64)),
        ],
    );
    let contract = Rc::new(MarketContract::open(chain, address).await?);
    let cost = spend::cost(&contract, &terms, &limits).await?;
    spend::check(&limits, spend_key.as_ref(), cost)?;

    // Inputs on IPFS: before any payment, so that an IPFS failure costs nothing. Each count of
    // the node's (the total so far over the files) is an `uploading` stage and, for
    // `submit({ onProgress })`, `{ loaded, total }`.
    let uploaded = Rc::new(Uploaded {
        progress: progress.clone(),
        on_progress: job.options.on_progress.clone(),
        total,
    });
    uploaded.report(0.0, &[]);
    let u = uploaded.clone();
    let on_bytes = Closure::<dyn FnMut(JsValue)>::new(move |n: JsValue| {
        if let Some(n) = n.as_f64() {
            u.report(n, &[]);
        }
    });
    let on_bytes: Function = on_bytes.into_js_value().unchecked_into();
    let cid = add_directory(&ipfs, &files, Some(&on_bytes))
        .await
        .map_err(|e| at_stage(e, "uploading", None))?;
    let pins = pin(&ipfs, &cid)
        .await
        .map_err(|e| at_stage(e, "uploading", Some(&cid)))?;
    uploaded.report(total, &[("cid", &cid), ("pins", &pins)]);

    // Never pay twice for the same job by accident.
    let poster = contract.chain.sender().await?.address();
    if !terms.allow_duplicate {
        if let Some(existing) =
            unsettled_duplicate(&client, &contract, poster, job_hash, &cid).await?
        {
            let d = Obj::new();
            d.set("existingJobId", &Wei(existing)).set("inputCid", &cid);
            return Err(SdkError::new(
                Code::DuplicateJob,
                format!(
                    "this job (same job hash and inputs) is already posted as market job {existing} and not settled; nothing was paid. Re-attach with sandrun.execution('market:{existing}'), or pass {{ allowDuplicate: true }} to .payment() to post it again"
                ),
            )
            .with_details(d.into()));
        }
    }

    // Escrow.
    let reserved = spend::reserve(&limits, spend_key.as_ref(), cost)?;
    let p = progress.clone();
    let confirmations = contract.chain.settings.confirmations as f64;
    let on_sent = Closure::<dyn FnMut(JsValue)>::new(move |hash: JsValue| {
        p.emit("escrow", &[("txHash", &hash), ("confirmations", &0.0)]);
    });
    let opts = SendOptions {
        on_sent: Some(on_sent.into_js_value().unchecked_into()),
        ..SendOptions::default()
    };
    let posting = PostJob {
        job_hash,
        input_cid: cid.clone(),
        k: terms.quorum.k as u64,
        n: terms.quorum.n as u64,
        price_per_node: terms.price_per_node,
        deadline: terms.deadline,
    };
    let (job_id, mined) = match contract.post_job(&posting, &opts).await {
        Ok(r) => r,
        Err(e) => {
            spend::release(spend_key.as_ref(), reserved);
            let message = format!(
                "escrow (postJob) failed: nothing was posted or paid; the inputs stay on IPFS as {cid} for a retry. {}",
                e.message
            );
            let mut e = at_stage(e, "escrow", Some(&cid));
            e.message = message.clone();
            if let Some(js) = &e.js {
                let _ = Reflect::set(js, &"message".into(), &message.into());
            }
            return Err(e);
        }
    };
    spend::posted(spend_key.as_ref(), reserved, terms.payment, &mined);
    let gas = mined.receipt.gas_used * mined.receipt.effective_gas_price;
    progress.emit(
        "escrow",
        &[
            ("txHash", &mined.receipt.hash.to_string()),
            ("confirmations", &confirmations),
            ("jobId", &Wei(job_id)),
            ("block", &(mined.receipt.block_number as f64)),
            ("gasUsed", &Wei(mined.receipt.gas_used)),
            ("gasCost", &Wei(gas)),
            ("escrow", &Wei(terms.payment)),
        ],
    );
    let exec = MarketExecution::start(
        client,
        contract,
        Rc::new(ipfs),
        job_id,
        Some(job.job_hash.clone()),
        progress,
        mined.receipt.block_number,
    );
    Ok(exec)
}
