//! Watching the contract's events by polling `eth_getLogs`: back-fill from `fromBlock`, each log
//! delivered once (by block hash and log index), only once it has its confirmations, and a log
//! delivered before that a reorg took back reported with `removed: true`. A provider that fails
//! is retried with backoff (the poll interval doubling to 30 s); what was missed meanwhile is
//! back-filled, since the next range starts where the last good one ended.
//!
//! Reorgs are found by asking again, each poll, for the last `REORG_DEPTH` blocks already
//! delivered: a delivered log no longer among them (or above a head that went back) is reported
//! removed once the chain has another block at its height (another hash). Until then it stays
//! delivered: a log merely missing from one answer (a load-balanced node that is behind) is not
//! a reorg, and the blocks asked again each poll also pick up what such a node missed.
//! `eth_subscribe` over a WebSocket is not used (polling works with every provider and wallet;
//! a socket would save requests, not change what is delivered).

use super::connection::Chain;
use super::rpc::{Log, LogFilter};
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::platform::sleep;
use crate::core::boundary::promise::{spawn, Stopper};
use crate::core::transport::Fut;
use alloy_primitives::{Address, B256};
use sandrun_chain::events::{decode_log, MarketEvent};
use std::cell::Cell;
use std::rc::Rc;

/// Blocks below the head asked for again each poll to notice reorgs (anvil's
/// `evm_revert` and real chains' reorgs are far shallower; it costs one `eth_getLogs` over
/// that range, filtered by contract and event).
const REORG_DEPTH: u64 = 64;
/// The most blocks one `eth_getLogs` covers while back-filling (public nodes refuse ranges
/// above 1,000 to 10,000 blocks).
const MAX_RANGE: u64 = 1_000;
/// The longest pause between attempts while the provider fails.
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// The next block: only what happens from now on.
    Latest,
    /// This block and everything after (back-filled).
    Block(u64),
}

/// One delivery: a log and its event, `removed` when a reorg took it back.
#[derive(Debug, Clone)]
pub struct WatchedLog {
    pub event: MarketEvent,
    pub log: Log,
    pub removed: bool,
}

/// Receives each delivery in order; the next waits until the returned future is done.
pub type Sink = Rc<dyn Fn(WatchedLog) -> Fut<'static, ()>>;
/// Receives each failure (the watch goes on).
pub type OnError = Rc<dyn Fn(SdkError)>;

#[derive(Clone)]
pub struct WatchOptions {
    pub from: From,
    /// Blocks a log's block must be under (its own counts) before it is delivered; at least 1.
    pub confirmations: u64,
    pub poll_ms: f64,
    pub on_error: Option<OnError>,
}

/// Stops a watch: no delivery starts after `stop()`.
#[derive(Clone)]
pub struct WatchHandle(Rc<(Cell<bool>, Stopper)>);

impl WatchHandle {
    pub fn stop(&self) {
        self.0 .0.set(true);
        self.0 .1.stop();
    }

    pub fn stopped(&self) -> bool {
        self.0 .0.get()
    }
}

/// Starts watching logs of `address` matching `topics`; runs until stopped.
pub fn watch(
    chain: Rc<Chain>,
    address: Address,
    topics: Vec<Option<B256>>,
    opts: WatchOptions,
    sink: Sink,
) -> WatchHandle {
    let handle = WatchHandle(Rc::new((Cell::new(false), Stopper::new())));
    let h = handle.clone();
    spawn(async move {
        let mut w = Watcher {
            chain,
            address,
            topics,
            confirmations: opts.confirmations.max(1),
            start: match opts.from {
                From::Block(n) => Some(n),
                From::Latest => None,
            },
            next: None,
            delivered: Vec::new(),
            sink,
            handle: h.clone(),
        };
        let mut pause = opts.poll_ms;
        while !h.stopped() {
            match w.poll().await {
                Ok(()) => pause = opts.poll_ms,
                Err(e) => {
                    if let Some(f) = &opts.on_error {
                        if !h.stopped() {
                            f(e);
                        }
                    }
                    pause = (pause * 2.0).min(MAX_BACKOFF_MS).max(opts.poll_ms);
                }
            }
            if sleep(pause, Some(&h.0 .1.signal())).await.is_err() {
                break; // stopped
            }
        }
    });
    handle
}

struct Watcher {
    chain: Rc<Chain>,
    address: Address,
    topics: Vec<Option<B256>>,
    confirmations: u64,
    /// The first block delivered from (None until the first head is known, for `Latest`).
    start: Option<u64>,
    /// The first block not yet asked for.
    next: Option<u64>,
    /// Logs delivered in the blocks still re-checked, in delivery order.
    delivered: Vec<WatchedLog>,
    sink: Sink,
    handle: WatchHandle,
}

fn same(a: &Log, b: &Log) -> bool {
    a.block_hash == b.block_hash && a.log_index == b.log_index
}

impl Watcher {
    async fn poll(&mut self) -> Result<()> {
        let head = self.chain.rpc.block_number().await?;
        // The newest block whose logs have their confirmations (None: not even block 0 has).
        let safe = (head + 1).checked_sub(self.confirmations);
        // `Latest`: blocks after the head seen first (their logs still wait for confirmations).
        let start = *self.start.get_or_insert(head + 1);
        let next = *self.next.get_or_insert(start);
        if let Some(safe) = safe {
            let mut lo = next.saturating_sub(REORG_DEPTH).max(start);
            while lo <= safe {
                let hi = safe.min(lo + MAX_RANGE - 1);
                self.range(lo, hi).await?;
                lo = hi + 1;
            }
        }
        // The head went back (a reorg, or a node behind the others): what was delivered above it
        // is gone if its block was replaced.
        let floor = safe.map_or(0, |s| s + 1);
        let gone: Vec<WatchedLog> = self
            .delivered
            .iter()
            .filter(|d| d.log.block_number >= floor)
            .cloned()
            .collect();
        self.remove(gone).await?;
        self.next = Some(floor.max(start));
        let keep_from = floor.saturating_sub(REORG_DEPTH);
        self.delivered.retain(|d| d.log.block_number >= keep_from);
        Ok(())
    }

    /// Asks for blocks `lo..=hi`: delivers what is new, reports what is no longer there.
    async fn range(&mut self, lo: u64, hi: u64) -> Result<()> {
        let filter = LogFilter {
            address: self.address,
            topics: self.topics.clone(),
            from_block: lo,
            to_block: hi,
        };
        let mut logs = self.chain.rpc.logs(&filter).await?;
        logs.sort_by_key(|l| (l.block_number, l.log_index));
        let gone: Vec<WatchedLog> = self
            .delivered
            .iter()
            .filter(|d| (lo..=hi).contains(&d.log.block_number))
            .filter(|d| !logs.iter().any(|l| same(l, &d.log)))
            .cloned()
            .collect();
        self.remove(gone).await?;
        for log in logs {
            if self.delivered.iter().any(|d| same(&d.log, &log)) {
                continue;
            }
            let event = match decode_log(&log.topics, &log.data) {
                Ok(e) => e,
                // Another contract's log at the address cannot happen; a log the ABI does not
                // describe is skipped rather than stopping the watch.
                Err(_) => continue,
            };
            let w = WatchedLog {
                event,
                log,
                removed: false,
            };
            self.delivered.push(w.clone());
            self.deliver(w).await;
        }
        Ok(())
    }

    /// Reports as removed those of `missing` whose block was replaced: the chain now has
    /// another block at that height. A log merely missing from an answer (a load-balanced node
    /// behind the others), or above a head that has no block there yet, stays delivered and is
    /// looked at again next poll.
    async fn remove(&mut self, missing: Vec<WatchedLog>) -> Result<()> {
        let mut replaced: Vec<(u64, bool)> = Vec::new();
        for mut g in missing.into_iter().rev() {
            let number = g.log.block_number;
            let gone = match replaced.iter().find(|(n, _)| *n == number) {
                Some(&(_, gone)) => gone,
                None => {
                    let now = self.chain.rpc.block_hash(number).await?;
                    let gone = now.is_some_and(|h| h != g.log.block_hash);
                    replaced.push((number, gone));
                    gone
                }
            };
            if gone {
                self.delivered.retain(|d| !same(&d.log, &g.log));
                g.removed = true;
                self.deliver(g).await;
            }
        }
        Ok(())
    }

    async fn deliver(&self, w: WatchedLog) {
        if !self.handle.stopped() {
            (self.sink)(w).await;
        }
    }
}
