//! Sending a transaction and waiting for it: gas estimate plus a buffer (a revert shows here,
//! before anything is sent), fees within the cap, the balance checked, then signed locally
//! (`eth_sendRawTransaction`, nonces from `signer`) or sent by the provider's account
//! (`eth_sendTransaction`). Waiting polls for a receipt of any hash sent for the nonce, then for
//! the confirmations; a nonce mined under another hash is classified as viem and ethers do
//! (a speed-up resolves with its receipt; a cancellation or another transaction rejects with
//! `ReplacedError`); a transaction the node forgets is reported as dropped.

use super::connection::{Chain, Sender};
use super::errors::{self, detail, with_tx};
use super::fees::{self, Fees};
use super::rpc::{At, Receipt, TxCall, TxInfo};
use super::signer::LocalKey;
use super::values::Wei;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::platform::{now_ms, sleep};
use alloy_primitives::{Address, Bytes, B256, U256};
use js_sys::Function;
use sandrun_chain::fees::gas_limit_with_buffer;
use sandrun_chain::replacement::{classify, Replacement, TxFields};
use sandrun_chain::tx::{Eip1559Tx, LegacyTx, TxRequest};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// Polls in a row in which the node knows none of the hashes sent for a nonce that is still
/// unused, before the transaction counts as dropped (5 × the poll interval: 5 s by default; a
/// load-balanced RPC may not know a transaction for a moment after it was sent).
const DROP_POLLS: u32 = 5;
/// Blocks searched per poll for the transaction that took a nonce (it is in the blocks mined
/// since the send; on a real chain there are few between two polls).
const SCAN_BLOCKS_PER_POLL: u64 = 64;
/// A cancellation is a plain transfer.
const TRANSFER_GAS: u64 = 21_000;

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// None creates a contract.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
}

/// What a caller may set for one transaction.
#[derive(Clone, Default)]
pub struct SendOptions {
    pub confirmations: Option<u64>,
    pub max_fee_per_gas: Option<U256>,
    pub gas_limit: Option<u64>,
    pub timeout_ms: Option<f64>,
    /// Called with the hash (`0x` hex) once the transaction is sent (for `speedUp`/`cancel`).
    pub on_sent: Option<Function>,
}

/// One transaction this SDK sent for a nonce.
#[derive(Debug, Clone)]
struct Sent {
    hash: B256,
    fees: Fees,
    intent: Intent,
}

/// A nonce in flight: what was first sent for it, and every hash sent since (speed-ups, a
/// cancellation).
pub struct Pending {
    from: Address,
    nonce: u64,
    chain_id: u64,
    gas: u64,
    first: Sent,
    sent: RefCell<Vec<Sent>>,
    /// Blocks up to this one were searched for a transaction that took the nonce.
    scanned_to: Cell<u64>,
}

impl Pending {
    fn fields(&self, intent: &Intent) -> TxFields {
        TxFields {
            from: self.from,
            nonce: self.nonce,
            to: intent.to,
            value: intent.value,
            input: intent.data.clone(),
        }
    }
}

thread_local! {
    /// Transactions being waited for, so that `speedUp` and `cancel` find them by any hash.
    static PENDING: RefCell<Vec<Rc<Pending>>> = const { RefCell::new(Vec::new()) };
}

fn pending_with(hash: B256) -> Option<Rc<Pending>> {
    PENDING.with(|p| {
        p.borrow()
            .iter()
            .find(|t| t.sent.borrow().iter().any(|s| s.hash == hash))
            .cloned()
    })
}

/// A mined transaction, confirmed.
#[derive(Debug, Clone)]
pub struct Mined {
    pub receipt: Receipt,
    /// The hash first sent, when a sped-up copy is what was mined.
    pub original: Option<B256>,
}

/// Sends `intent` and waits until it is mined and confirmed.
pub async fn send(chain: &Chain, intent: Intent, opts: &SendOptions) -> Result<Mined> {
    let pending = Rc::new(submit(chain, intent, opts).await?);
    PENDING.with(|p| p.borrow_mut().push(pending.clone()));
    let mined = wait(chain, &pending, opts).await;
    PENDING.with(|p| p.borrow_mut().retain(|t| !Rc::ptr_eq(t, &pending)));
    let mined = mined?;
    if mined.receipt.success {
        return Ok(mined);
    }
    Err(revert_of(chain, &pending, &mined.receipt).await)
}

async fn submit(chain: &Chain, intent: Intent, opts: &SendOptions) -> Result<Pending> {
    let chain_id = chain.ensure().await?;
    let sender = chain.sender().await?;
    let from = sender.address();
    let call = TxCall {
        from: Some(from),
        to: intent.to,
        value: intent.value,
        data: intent.data.clone(),
        ..TxCall::default()
    };
    // The value alone is checked before the estimate: a node asked to estimate a call it
    // cannot pay for answers with an error that says less.
    let balance = chain.rpc.balance(from).await?;
    if balance < intent.value {
        return Err(cannot_pay(from, balance, intent.value));
    }
    let gas = match opts.gas_limit {
        Some(g) => g,
        None => gas_limit_with_buffer(
            chain.rpc.estimate_gas(&call).await?,
            chain.settings.gas_buffer_percent,
        ),
    };
    let fees = fees::quote(chain, opts.max_fee_per_gas).await?;
    let needed = intent
        .value
        .saturating_add(U256::from(gas).saturating_mul(fees.max_per_gas()));
    if balance < needed {
        return Err(cannot_pay(from, balance, needed));
    }
    let start_block = chain.rpc.block_number().await?;
    let (hash, nonce) = dispatch(chain, &sender, chain_id, &intent, gas, &fees, None).await?;
    if let Some(f) = &opts.on_sent {
        // A callback that throws must not lose the transaction.
        let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&hash.to_string()));
    }
    let first = Sent { hash, fees, intent };
    Ok(Pending {
        from,
        nonce,
        chain_id,
        gas,
        sent: RefCell::new(vec![first.clone()]),
        first,
        scanned_to: Cell::new(start_block.saturating_sub(1)),
    })
}

fn cannot_pay(from: Address, balance: U256, needed: U256) -> SdkError {
    let e = SdkError::new(
        Code::InsufficientFunds,
        format!(
            "{} has {balance} wei; the transaction may cost {needed} wei (value plus gas × max fee): nothing was sent",
            from.to_checksum(None)
        ),
    );
    detail(
        detail(e, "balance", &Wei(balance)),
        "required",
        &Wei(needed),
    )
}

/// Signs and sends (local key) or has the provider send (its account); the hash and the nonce.
/// `nonce` is given for a replacement, else the key's next one (or the wallet's choice).
async fn dispatch(
    chain: &Chain,
    sender: &Sender<'_>,
    chain_id: u64,
    intent: &Intent,
    gas: u64,
    fees: &Fees,
    nonce: Option<u64>,
) -> Result<(B256, u64)> {
    match sender {
        Sender::Local(key) => send_signed(chain, key, chain_id, intent, gas, fees, nonce).await,
        Sender::Account(from) => {
            let (max_fee, priority, gas_price) = match *fees {
                Fees::Eip1559 { max_fee, priority } => (Some(max_fee), Some(priority), None),
                Fees::Legacy { gas_price } => (None, None, Some(gas_price)),
            };
            let call = TxCall {
                from: Some(*from),
                to: intent.to,
                value: intent.value,
                data: intent.data.clone(),
                gas: Some(gas),
                nonce,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: priority,
                gas_price,
            };
            // The nonce the wallet will most likely take, in case the node does not show the
            // transaction right away.
            let expected = match nonce {
                Some(n) => n,
                None => chain.rpc.nonce(*from, At::Pending).await?,
            };
            let hash = chain.rpc.send_transaction(&call).await?;
            let nonce = match chain.rpc.transaction(hash).await {
                Ok(Some(tx)) => tx.nonce,
                _ => expected,
            };
            Ok((hash, nonce))
        }
    }
}

async fn send_signed(
    chain: &Chain,
    key: &LocalKey,
    chain_id: u64,
    intent: &Intent,
    gas: u64,
    fees: &Fees,
    fixed: Option<u64>,
) -> Result<(B256, u64)> {
    let nonces = key.nonces(&chain.rpc, chain_id);
    let mut retried = false;
    loop {
        let nonce = match fixed {
            Some(n) => n,
            None => nonces.reserve(&chain.rpc, key.address()).await?,
        };
        let request = match *fees {
            Fees::Eip1559 { max_fee, priority } => TxRequest::Eip1559(Eip1559Tx {
                chain_id,
                nonce,
                max_priority_fee_per_gas: u128::try_from(priority).unwrap_or(u128::MAX),
                max_fee_per_gas: u128::try_from(max_fee).unwrap_or(u128::MAX),
                gas_limit: gas,
                to: intent.to,
                value: intent.value,
                input: intent.data.clone(),
            }),
            Fees::Legacy { gas_price } => TxRequest::Legacy(LegacyTx {
                chain_id,
                nonce,
                gas_price: u128::try_from(gas_price).unwrap_or(u128::MAX),
                gas_limit: gas,
                to: intent.to,
                value: intent.value,
                input: intent.data.clone(),
            }),
        };
        let signed = key
            .sign(&request)
            .map_err(|e| SdkError::new(Code::Internal, format!("signing: {e}")))?;
        match chain.rpc.send_raw(&signed.raw).await {
            Ok(_) => return Ok((signed.hash, nonce)),
            Err(e) => {
                if fixed.is_some() {
                    return Err(e);
                }
                // The nonce is unused: the node's pending count gives it out again.
                nonces.reset();
                let cause = e
                    .context
                    .cause
                    .as_deref()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if !retried && cause.contains("nonce too low") {
                    retried = true; // another sender used the key: read the count again
                    continue;
                }
                return Err(e);
            }
        }
    }
}

/// What one poll found.
enum Step {
    Mined(Box<Mined>),
    /// Something changed (a copy at another price to follow): poll again now.
    Again,
    Pending,
    /// No hash sent for the nonce is known to the node any more, and the nonce is unused.
    Dropped,
}

/// Waits for a receipt of any hash sent for the nonce, or for what took the nonce instead. A
/// poll that fails with a retryable error (the node or the wallet unreachable for a moment) is
/// tried again until the deadline: the transaction is out, so giving up would lose it.
async fn wait(chain: &Chain, p: &Pending, opts: &SendOptions) -> Result<Mined> {
    let confirmations = opts.confirmations.unwrap_or(chain.settings.confirmations);
    let timeout = opts.timeout_ms.unwrap_or(chain.settings.timeout_ms);
    let deadline = now_ms() + timeout;
    let mut unseen = 0;
    loop {
        match step(chain, p, confirmations, deadline, &mut unseen).await {
            Ok(Step::Mined(mined)) => return Ok(*mined),
            Ok(Step::Again) => continue,
            Ok(Step::Pending) => {}
            Ok(Step::Dropped) => {
                // The nonce is unused again: the next send from a local key must take it.
                if let Some(key) = chain.key() {
                    key.nonces(&chain.rpc, p.chain_id).reset();
                }
                return Err(errors::dropped(p.first.hash));
            }
            Err(e) if e.retryable && now_ms() < deadline => {}
            Err(e) => return Err(errors::about_tx(e, p.first.hash)),
        }
        if now_ms() > deadline {
            return Err(timed_out(p.first.hash, timeout));
        }
        sleep(chain.settings.poll_ms, None).await?;
    }
}

async fn step(
    chain: &Chain,
    p: &Pending,
    confirmations: u64,
    deadline: f64,
    unseen: &mut u32,
) -> Result<Step> {
    if let Some(mined) = mined_receipt(chain, p, confirmations, deadline).await? {
        return Ok(Step::Mined(Box::new(mined)));
    }
    if chain.rpc.nonce(p.from, At::Latest).await? > p.nonce {
        // Mined between the two requests?
        if let Some(mined) = mined_receipt(chain, p, confirmations, deadline).await? {
            return Ok(Step::Mined(Box::new(mined)));
        }
        if let Some(other) = find_taker(chain, p).await? {
            let fields = TxFields {
                from: other.from,
                nonce: other.nonce,
                to: other.to,
                value: other.value,
                input: other.input.clone(),
            };
            match classify(&p.fields(&p.first.intent), &fields) {
                // Someone (another tab, the wallet's own speed-up) sent the same call at
                // another price: follow that one.
                Some(Replacement::Repriced) => p.sent.borrow_mut().push(Sent {
                    hash: other.hash,
                    fees: p.first.fees,
                    intent: p.first.intent.clone(),
                }),
                Some(how) => return Err(errors::replaced(p.first.hash, how, other.hash)),
                None => {}
            }
            return Ok(Step::Again);
        }
    }
    let hashes: Vec<B256> = p.sent.borrow().iter().map(|s| s.hash).collect();
    let mut known = false;
    for h in hashes {
        if chain.rpc.transaction(h).await?.is_some() {
            known = true;
            break;
        }
    }
    *unseen = if known { 0 } else { *unseen + 1 };
    Ok(if *unseen >= DROP_POLLS {
        Step::Dropped
    } else {
        Step::Pending
    })
}

fn timed_out(hash: B256, timeout: f64) -> SdkError {
    with_tx(
        SdkError::new(
            Code::Timeout,
            format!(
                "transaction {hash} is still pending after {} s: speed it up or cancel it",
                (timeout / 1000.0).round() as u64
            ),
        ),
        hash,
    )
}

/// The receipt of one of the hashes sent, confirmed; a cancellation or another call mined
/// instead is a `ReplacedError`. None while none is mined (or the one mined was re-organised
/// away before its confirmations).
async fn mined_receipt(
    chain: &Chain,
    p: &Pending,
    confirmations: u64,
    deadline: f64,
) -> Result<Option<Mined>> {
    let sent = p.sent.borrow().clone();
    for s in sent.iter().rev() {
        let Some(receipt) = chain.rpc.receipt(s.hash).await? else {
            continue;
        };
        if s.hash != p.first.hash {
            match classify(&p.fields(&p.first.intent), &p.fields(&s.intent)) {
                Some(Replacement::Repriced) | None => {}
                Some(how) => return Err(errors::replaced(p.first.hash, how, s.hash)),
            }
        }
        let Some(receipt) = confirm(chain, receipt, confirmations, deadline).await? else {
            return Ok(None);
        };
        let original = (s.hash != p.first.hash).then_some(p.first.hash);
        return Ok(Some(Mined { receipt, original }));
    }
    Ok(None)
}

/// Waits until `confirmations` blocks include the receipt's (its own counts), then reads the
/// receipt again: None if its block is no longer the chain's (a reorg).
async fn confirm(
    chain: &Chain,
    receipt: Receipt,
    confirmations: u64,
    deadline: f64,
) -> Result<Option<Receipt>> {
    if confirmations <= 1 {
        return Ok(Some(receipt));
    }
    let target = receipt.block_number + confirmations - 1;
    while chain.rpc.block_number().await? < target {
        if now_ms() > deadline {
            let e = SdkError::new(
                Code::Timeout,
                format!(
                    "transaction {} was mined in block {} but has not reached {confirmations} confirmations in time",
                    receipt.hash, receipt.block_number
                ),
            );
            return Err(with_tx(e, receipt.hash));
        }
        sleep(chain.settings.poll_ms, None).await?;
    }
    Ok(chain
        .rpc
        .receipt(receipt.hash)
        .await?
        .filter(|r| r.block_hash == receipt.block_hash))
}

/// The transaction that took the nonce, searched in the blocks mined since the send.
async fn find_taker(chain: &Chain, p: &Pending) -> Result<Option<TxInfo>> {
    let head = chain.rpc.block_number().await?;
    let from = p.scanned_to.get() + 1;
    let to = head.min(from + SCAN_BLOCKS_PER_POLL - 1);
    for n in from..=to {
        let Some(txs) = chain.rpc.block_transactions(n).await? else {
            break;
        };
        p.scanned_to.set(n);
        if let Some(tx) = txs
            .into_iter()
            .find(|t| t.from == p.from && t.nonce == p.nonce)
        {
            return Ok(Some(tx));
        }
    }
    Ok(None)
}

/// Why a mined transaction reverted: the call replayed on the state before its block.
async fn revert_of(chain: &Chain, p: &Pending, receipt: &Receipt) -> SdkError {
    let call = TxCall {
        from: Some(p.from),
        to: p.first.intent.to,
        value: p.first.intent.value,
        data: p.first.intent.data.clone(),
        gas: Some(p.gas),
        ..TxCall::default()
    };
    let at = At::Number(receipt.block_number.saturating_sub(1));
    let e = match chain.rpc.call(&call, at).await {
        Err(e) if e.code == Code::Reverted => e,
        _ => SdkError::new(
            Code::Reverted,
            format!("transaction {} reverted", receipt.hash),
        ),
    };
    detail(
        with_tx(e, receipt.hash),
        "blockNumber",
        &(receipt.block_number as f64),
    )
}

/// `speedUp(hash)`: the same call for the same nonce at higher fees; the new hash. The call
/// that sent it resolves with the copy that is mined.
pub async fn speed_up(chain: &Chain, hash: B256, max_fee: Option<U256>) -> Result<B256> {
    let p = pending_with(hash).ok_or_else(|| not_pending(hash))?;
    let intent = p.first.intent.clone();
    replace(chain, &p, intent, p.gas, max_fee).await
}

/// `cancel(hash)`: a zero-value transfer to the sender for the same nonce at higher fees; the
/// new hash. The call that sent the original rejects with a `ReplacedError` (`cancelled`)
/// once it is mined.
pub async fn cancel(chain: &Chain, hash: B256, max_fee: Option<U256>) -> Result<B256> {
    let p = pending_with(hash).ok_or_else(|| not_pending(hash))?;
    let intent = Intent {
        to: Some(p.from),
        value: U256::ZERO,
        data: Bytes::new(),
    };
    replace(chain, &p, intent, TRANSFER_GAS, max_fee).await
}

async fn replace(
    chain: &Chain,
    p: &Pending,
    intent: Intent,
    gas: u64,
    max_fee: Option<U256>,
) -> Result<B256> {
    let sender = chain.sender().await?;
    if sender.address() != p.from {
        return Err(SdkError::new(
            Code::Chain,
            format!(
                "the transaction was sent by {}, and this client sends from {}",
                p.from.to_checksum(None),
                sender.address().to_checksum(None)
            ),
        ));
    }
    let last = p
        .sent
        .borrow()
        .last()
        .map(|s| s.fees)
        .unwrap_or(p.first.fees);
    let now = fees::quote(chain, max_fee).await?;
    let fees = fees::bump(&last, &now);
    if let Some(cap) = max_fee.or(chain.settings.fees.cap) {
        if fees.max_per_gas() > cap {
            return Err(fees::cap_too_low(cap, fees.max_per_gas()));
        }
    }
    let (hash, _) = dispatch(
        chain,
        &sender,
        p.chain_id,
        &intent,
        gas,
        &fees,
        Some(p.nonce),
    )
    .await?;
    p.sent.borrow_mut().push(Sent { hash, fees, intent });
    Ok(hash)
}

fn not_pending(hash: B256) -> SdkError {
    with_tx(
        SdkError::new(
            Code::Chain,
            format!("transaction {hash} is not one this client is waiting for (mined already, or sent elsewhere)"),
        ),
        hash,
    )
}
