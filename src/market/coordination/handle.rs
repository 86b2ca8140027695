//! What JS holds of a market job: its progress on the `JobExecution` (`on('progress', fn)`,
//! `off`, `progress()`), and `sandrun.execution('market:<jobId>')`, which re-attaches to a job
//! from chain state alone (after a reload or a restart) and settles it once.

use super::config::market_of;
use super::execution::{MarketExecution, PREFIX};
use super::ipfs_call::MarketIpfs;
use super::progress::Progress;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::client::Client;
use crate::core::execution::{Execution, JobExecution};
use crate::market::chain::connection::Chain;
use crate::market::chain::contract::MarketContract;
use alloy_primitives::U256;
use js_sys::Function;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const PROGRESS_TS: &'static str = r#"
/** One stage of a paid market job; each carries what that stage knows. */
export type MarketProgress =
  | { stage: 'packaging'; at: number; jobHash: string; bytes: number }
  | { stage: 'uploading'; at: number; bytes: number; total: number; cid?: string; pins?: unknown[] }
  | { stage: 'escrow'; at: number; txHash: string; confirmations: number; jobId?: bigint; block?: number; gasUsed?: bigint; gasCost?: bigint; escrow?: bigint }
  | { stage: 'claims'; at: number; claimed: number; n: number }
  | { stage: 'running'; at: number; node: string; workerJob?: string; endpoint?: string }
  | { stage: 'verifying'; at: number; node: string; valid?: boolean; problems?: string[] }
  | { stage: 'settling'; at: number; action: 'finalize' | 'refund' }
  | { stage: 'done'; at: number; outcome: 'finalized' | 'refunded' | 'cancelled' | 'failed'; txHash?: string; error?: string };
export interface SubmitOptions {
  /**
   * A paid market job's stages, each once and as it happens: `packaging`, `uploading` and
   * `escrow` before `submit()` resolves, then the rest until `done` — the events
   * `exec.on('progress')` and `exec.progress()` give. A callback that throws does not stop the
   * job. A job without `.payment()` has no stages: it is never called. (`onProgress` hears a
   * paid job's IPFS upload, `{ loaded, total }` in bytes as the node counts them.)
   */
  onStage?: (event: MarketProgress) => void;
}
export interface JobResult {
  /** How a paid market job was settled. */
  settlement?: MarketSettlement;
  /** Where a paid market job's inputs and result are. */
  market?: { jobId: bigint; contract: string; inputCid: string; outputCid: string };
}
"#;

fn market_of_exec(exec: &JobExecution) -> Result<&MarketExecution> {
    exec.execution()
        .as_any()
        .and_then(|a| a.downcast_ref::<MarketExecution>())
        .ok_or_else(|| {
            SdkError::new(
                Code::Unsupported,
                "progress events are reported by paid market jobs (.payment()) only",
            )
        })
}

fn progress_of(exec: &JobExecution) -> std::result::Result<Rc<Progress>, JsValue> {
    market_of_exec(exec)
        .map(|m| m.progress.clone())
        .map_err(SdkError::into_js)
}

#[wasm_bindgen]
impl JobExecution {
    /// A paid market job's stage events: `on('progress', fn)`. The listener first hears every
    /// event so far, then each new one until `done`.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'progress'")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: MarketProgress) => void")]
        listener: Function,
    ) -> std::result::Result<(), JsValue> {
        if event != "progress" {
            return Err(SdkError::field(
                "event",
                format!("\"{event}\" is not an event of a job (expected: progress)"),
            )
            .into_js());
        }
        progress_of(self)?.listen(listener);
        Ok(())
    }

    /// Removes a listener added with `on()`; true if it was there.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "'progress'")] event: String,
        #[wasm_bindgen(unchecked_param_type = "(event: MarketProgress) => void")]
        listener: Function,
    ) -> std::result::Result<bool, JsValue> {
        Ok(event == "progress" && progress_of(self)?.off(&listener))
    }

    /// The stage events as an async iterator, from the first: `for await (const e of
    /// exec.progress())`; it ends after `done`.
    #[wasm_bindgen(unchecked_return_type = "AsyncIterableIterator<MarketProgress>")]
    pub fn progress(&self) -> std::result::Result<JsValue, JsValue> {
        Ok(progress_of(self)?.iterator())
    }
}

/// `sandrun.execution('market:<jobId>')`: the job on this client's market, watched from its
/// logs; it settles once (a job someone else settled is read back).
pub fn attach(client: &Rc<Client>, id: &str) -> Result<Rc<dyn Execution>> {
    let digits = id.strip_prefix(PREFIX).unwrap_or_default();
    let job_id = U256::from_str_radix(digits, 10)
        .ok()
        .filter(|v| !v.is_zero() && !digits.is_empty())
        .ok_or_else(|| {
            SdkError::field(
                "id",
                format!("\"{id}\" is not a market job id (market:<job id>, e.g. market:12)"),
            )
        })?;
    let address = market_of(client)?;
    let chain = Chain::open(client)?;
    let ipfs = MarketIpfs::open(client)?;
    // The contract is not opened (that needs the network, and this call does not wait): a
    // wrong address shows as a job that was never posted.
    let contract = Rc::new(MarketContract {
        chain,
        address,
        chain_id: 0,
    });
    let progress = Rc::new(Progress::default());
    Ok(MarketExecution::start(
        client.clone(),
        contract,
        Rc::new(ipfs),
        job_id,
        None,
        progress,
        0,
    ))
}
