//! The `Market` class JS holds (`await sandrun.market(address)`), and `sandrun.deployMarket()`.
//! Each method reads its input (`inputs`: a `ValidationError` naming the field, before anything
//! is sent), calls `MarketContract`, and converts the answer (`results`).

use super::connection::Chain;
use super::contract::{self, MarketContract};
use super::events::EventLog;
use super::inputs::{
    deploy_options, job_fields, node_fields, one_job_id, result_fields, tx_options, watch_options,
};
use super::results::{JobInfo, JobSettlement, MarketNode, MarketSettings, PostedJob, TxReceipt};
use super::send::{self, SendOptions};
use super::values::{address, bigint, hash32, Wei};
use super::watch::{Sink, WatchedLog};
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::ToJs;
use crate::core::boundary::platform::call_async;
use crate::core::boundary::promise::promise;
use crate::core::sandrun::Sandrun;
use crate::core::transport::Fut;
use alloy_primitives::U256;
use js_sys::{Function, Promise};
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

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

    /// Announces the id the node's worker gave a job it claimed (the `JobRunning` event), so
    /// that clients can follow the run's logs on the node's endpoint.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxReceipt>")]
    pub fn started(
        &self,
        #[wasm_bindgen(js_name = jobId, unchecked_param_type = "bigint | number")] job_id: JsValue,
        run: String,
        #[wasm_bindgen(unchecked_optional_param_type = "TxOptions")] options: Option<JsValue>,
    ) -> Promise {
        let input = one_job_id(&job_id).and_then(|id| Ok((id, tx_options(options)?)));
        self.run(
            "started",
            input.map(|(id, o)| {
                move |c: Rc<MarketContract>| async move {
                    Ok(TxReceipt::of(&c.started(id, &run, &o).await?).to_js())
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
