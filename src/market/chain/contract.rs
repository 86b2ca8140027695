//! SandrunMarket as Rust methods on a connected chain: every call and view, with inputs checked
//! by sandrun-chain before anything is sent (each error names the field), and the results as
//! the crate's plain types. The `Market` class JS holds is a thin layer over this; the paid,
//! coordinated job (issue 11) posts, watches, reads and settles through it from Rust.

use super::connection::Chain;
use super::errors;
use super::rpc::{At, LogFilter, TxCall};
use super::send::{self, Intent, Mined, SendOptions};
use super::values::{invalid, problem};
use super::watch::{self, Sink, WatchHandle, WatchOptions};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::platform::now_ms;
use alloy_primitives::{Address, Bytes, B256, U256};
use sandrun_chain::events::{decode_log, settlement, topic0, MarketEvent, Settlement};
use sandrun_chain::input::InputError;
use sandrun_chain::market::{self as m, Job, Node, PostJob};
use std::rc::Rc;

/// A check of the pure crate that failed, as the ValidationError of operation `op`.
fn checked<T>(op: &'static str, r: std::result::Result<T, InputError>) -> Result<T> {
    r.map_err(|e| invalid(op, problem(e)))
}

fn decoded<T>(what: &str, r: std::result::Result<T, m::DecodeError>) -> Result<T> {
    r.map_err(|e| SdkError::new(Code::Protocol, format!("{what}: {e}")))
}

/// The local market defaults (also `scripts/deploy-market.mjs`): 0.1 ether minimum bond, 0.01
/// ether locked per claim, one minute of unbonding.
pub struct DeploySettings {
    pub min_bond: U256,
    pub claim_bond: U256,
    pub unbonding_delay: u32,
}

impl Default for DeploySettings {
    fn default() -> Self {
        let milli = U256::from(1_000_000_000_000_000u64);
        DeploySettings {
            min_bond: milli * U256::from(100u8),
            claim_bond: milli * U256::from(10u8),
            unbonding_delay: 60,
        }
    }
}

/// Deploys the committed artifact; its address and the deployment's receipt.
pub async fn deploy(
    chain: &Chain,
    settings: &DeploySettings,
    opts: &SendOptions,
) -> Result<(Address, Mined)> {
    let code = checked(
        "deployMarket",
        m::deploy_code(
            settings.min_bond,
            settings.claim_bond,
            settings.unbonding_delay,
        ),
    )?;
    let intent = Intent {
        to: None,
        value: U256::ZERO,
        data: code,
    };
    let mined = send::send(chain, intent, opts).await?;
    let address = mined.receipt.contract_address.ok_or_else(|| {
        errors::bad_answer(
            "eth_getTransactionReceipt",
            "a deployment without contractAddress",
        )
    })?;
    Ok((address, mined))
}

/// The market's parameters, fixed at deployment.
#[derive(Debug, Clone, Copy)]
pub struct MarketSettings {
    pub min_bond: U256,
    pub claim_bond: U256,
    pub unbonding_delay: u64,
}

pub struct MarketContract {
    pub chain: Rc<Chain>,
    pub address: Address,
    pub chain_id: u64,
}

impl MarketContract {
    /// The contract at `address`: the provider on the expected chain, code there, and the code
    /// answers as SandrunMarket (`jobCount()`).
    pub async fn open(chain: Rc<Chain>, address: Address) -> Result<MarketContract> {
        let chain_id = chain.ensure().await?;
        if chain.rpc.code(address).await?.is_empty() {
            return Err(errors::no_contract(address, chain_id));
        }
        let c = MarketContract {
            chain,
            address,
            chain_id,
        };
        match c.view(m::job_count()).await {
            Ok(data) if m::decode_uint(&data).is_ok() => Ok(c),
            Ok(_) => Err(errors::not_a_market(
                address,
                "jobCount() answered something else",
            )),
            Err(e) => Err(errors::not_a_market(address, &e.message)),
        }
    }

    /// `eth_call` of a view, from the local key or account when there is one.
    async fn view(&self, data: Bytes) -> Result<Bytes> {
        let call = TxCall {
            from: self.chain.local_address(),
            to: Some(self.address),
            data,
            ..TxCall::default()
        };
        self.chain.rpc.call(&call, At::Latest).await
    }

    async fn send(&self, data: Bytes, value: U256, opts: &SendOptions) -> Result<Mined> {
        let intent = Intent {
            to: Some(self.address),
            value,
            data,
        };
        send::send(&self.chain, intent, opts).await
    }

    /// This contract's events among a receipt's logs.
    fn events(&self, mined: &Mined) -> Vec<MarketEvent> {
        mined
            .receipt
            .logs
            .iter()
            .filter(|l| l.address == self.address)
            .filter_map(|l| decode_log(&l.topics, &l.data).ok())
            .collect()
    }

    pub async fn register_node(
        &self,
        worker_key: B256,
        endpoint: &str,
        price: U256,
        bond: U256,
        opts: &SendOptions,
    ) -> Result<Mined> {
        let data = checked(
            "registerNode",
            m::register_node(worker_key, endpoint, price),
        )?;
        self.send(data, bond, opts).await
    }

    /// Replaces the node's key, endpoint and price; `more_bond` adds to its bond.
    pub async fn update_node(
        &self,
        worker_key: B256,
        endpoint: &str,
        price: U256,
        more_bond: U256,
        opts: &SendOptions,
    ) -> Result<Mined> {
        let data = checked("updateNode", m::update_node(worker_key, endpoint, price))?;
        self.send(data, more_bond, opts).await
    }

    pub async fn unregister_node(&self, opts: &SendOptions) -> Result<Mined> {
        self.send(m::unregister_node(), U256::ZERO, opts).await
    }

    pub async fn withdraw_bond(&self, opts: &SendOptions) -> Result<Mined> {
        self.send(m::withdraw_bond(), U256::ZERO, opts).await
    }

    /// Posts a job with its escrow (pricePerNode × n); its id (from the `JobPosted` log).
    pub async fn post_job(&self, job: &PostJob, opts: &SendOptions) -> Result<(U256, Mined)> {
        let now = (now_ms() / 1000.0) as u64;
        let data = checked("postJob", m::post_job(job, now))?;
        let mined = self.send(data, job.escrow(), opts).await?;
        let id = self.events(&mined).iter().find_map(|e| match e {
            MarketEvent::JobPosted(p) => Some(p.jobId),
            _ => None,
        });
        let id =
            id.ok_or_else(|| errors::bad_answer("postJob", "the receipt has no JobPosted log"))?;
        Ok((id, mined))
    }

    pub async fn claim(&self, job_id: U256, opts: &SendOptions) -> Result<Mined> {
        self.send(m::claim(job_id), U256::ZERO, opts).await
    }

    /// Announces `run`, the id the node's worker gave the job (a claimant before its result).
    pub async fn started(&self, job_id: U256, run: &str, opts: &SendOptions) -> Result<Mined> {
        let data = checked("started", m::started(job_id, run))?;
        self.send(data, U256::ZERO, opts).await
    }

    pub async fn submit_result(
        &self,
        job_id: U256,
        result_hash: B256,
        output_cid: &str,
        signature: &[u8],
        opts: &SendOptions,
    ) -> Result<Mined> {
        let data = checked(
            "submitResult",
            m::submit_result(job_id, result_hash, output_cid, signature),
        )?;
        self.send(data, U256::ZERO, opts).await
    }

    /// Settles a job k results agree on: who was paid, who was slashed, what went back.
    pub async fn finalize(&self, job_id: U256, opts: &SendOptions) -> Result<(Settlement, Mined)> {
        let mined = self.send(m::finalize(job_id), U256::ZERO, opts).await?;
        self.settled(job_id, mined)
    }

    /// Refunds a job whose deadline passed without k agreeing results.
    pub async fn refund(&self, job_id: U256, opts: &SendOptions) -> Result<(Settlement, Mined)> {
        let mined = self.send(m::refund(job_id), U256::ZERO, opts).await?;
        self.settled(job_id, mined)
    }

    /// Cancels a job nobody claimed (its poster only).
    pub async fn cancel(&self, job_id: U256, opts: &SendOptions) -> Result<(Settlement, Mined)> {
        let mined = self.send(m::cancel(job_id), U256::ZERO, opts).await?;
        self.settled(job_id, mined)
    }

    fn settled(&self, job_id: U256, mined: Mined) -> Result<(Settlement, Mined)> {
        let s = settlement(job_id, &self.events(&mined)).ok_or_else(|| {
            errors::bad_answer("settlement", "the receipt does not settle the job")
        })?;
        Ok((s, mined))
    }

    /// Sends the caller everything credited to it.
    pub async fn withdraw(&self, opts: &SendOptions) -> Result<Mined> {
        self.send(m::withdraw(), U256::ZERO, opts).await
    }

    pub async fn job(&self, job_id: U256) -> Result<Job> {
        decoded(
            "getJob",
            m::decode_job(&self.view(m::get_job(job_id)).await?),
        )
    }

    pub async fn node(&self, node: Address) -> Result<Node> {
        decoded(
            "getNode",
            m::decode_node(&self.view(m::get_node(node)).await?),
        )
    }

    pub async fn balance_of(&self, account: Address) -> Result<U256> {
        decoded(
            "balanceOf",
            m::decode_uint(&self.view(m::balance_of(account)).await?),
        )
    }

    pub async fn job_count(&self) -> Result<U256> {
        decoded(
            "jobCount",
            m::decode_uint(&self.view(m::job_count()).await?),
        )
    }

    pub async fn settings(&self) -> Result<MarketSettings> {
        let uint = |what, data: Bytes| decoded(what, m::decode_uint(&data));
        Ok(MarketSettings {
            min_bond: uint("minBond", self.view(m::min_bond()).await?)?,
            claim_bond: uint("claimBond", self.view(m::claim_bond()).await?)?,
            unbonding_delay: u64::try_from(uint(
                "unbondingDelay",
                self.view(m::unbonding_delay()).await?,
            )?)
            .unwrap_or(u64::MAX),
        })
    }

    /// The runs announced for `job_id` since `from_block` (`JobRunning` logs, of `node` only
    /// when given): (node, the worker's job id), in chain order.
    pub async fn runs(
        &self,
        job_id: U256,
        node: Option<Address>,
        from_block: u64,
    ) -> Result<Vec<(Address, String)>> {
        let mut topics = vec![topic0("JobRunning"), Some(B256::from(job_id))];
        if let Some(node) = node {
            topics.push(Some(node.into_word()));
        }
        let filter = LogFilter {
            address: self.address,
            topics,
            from_block,
            to_block: self.chain.rpc.block_number().await?,
        };
        let logs = self.chain.rpc.logs(&filter).await?;
        Ok(logs
            .iter()
            .filter_map(|l| match decode_log(&l.topics, &l.data) {
                Ok(MarketEvent::JobRunning(r)) if r.jobId == job_id => Some((r.node, r.run)),
                _ => None,
            })
            .collect())
    }

    /// Watches this contract's logs matching `topics` (see `events::topics`).
    pub fn watch(&self, topics: Vec<Option<B256>>, opts: WatchOptions, sink: Sink) -> WatchHandle {
        watch::watch(self.chain.clone(), self.address, topics, opts, sink)
    }
}
