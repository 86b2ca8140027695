//! Where a contract's log reads start: the block it was deployed in, found once per client.

use super::connection::Chain;
use super::rpc::At;
use crate::core::boundary::error::Result;
use crate::core::client::Client;
use alloy_primitives::Address;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

thread_local! {
    /// Deployment blocks found, per client (its `chain` config object: the same object for
    /// every operation of one `Sandrun`) and contract.
    static DEPLOYED: RefCell<Vec<(JsValue, Address, u64)>> = const { RefCell::new(Vec::new()) };
}

/// The block `address`'s code appeared in (its deployment), found once per client and kept:
/// every log read of the contract starts there instead of at block 0.
///
/// A binary search on `eth_getCode(address, block)`: code appears once and stays (the market
/// has no `selfdestruct`), so the first block with code is found in ceil(log2(head)) + 1 calls
/// — 26 for a 20M-block chain (Ethereum mainnet's head is ~21M), against reading 20M blocks of
/// logs from 0 (at a 10,000-block cap, 2,000 `eth_getLogs`). A node that keeps no old state
/// (not an archive node) cannot answer for old blocks: then 0, not kept, and the reads are split
/// as the provider needs.
pub async fn deployment_block(client: &Client, chain: &Chain, address: Address) -> Result<u64> {
    let key = client.config.section("chain").cloned().unwrap_or_default();
    let kept = DEPLOYED.with(|d| {
        d.borrow()
            .iter()
            .find(|(k, a, _)| *k == key && *a == address)
            .map(|(_, _, b)| *b)
    });
    if let Some(b) = kept {
        return Ok(b);
    }
    let head = chain.rpc.block_number().await?;
    let has_code = |n: u64| async move {
        chain
            .rpc
            .code_at(address, At::Number(n))
            .await
            .map(|c| !c.is_empty())
    };
    match has_code(head).await {
        // Not deployed (yet): nothing to keep.
        Ok(false) => return Ok(head),
        Ok(true) => {}
        Err(_) => return Ok(0),
    }
    let (mut lo, mut hi) = (0, head);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match has_code(mid).await {
            Ok(true) => hi = mid,
            Ok(false) => lo = mid + 1,
            Err(_) => return Ok(0),
        }
    }
    DEPLOYED.with(|d| d.borrow_mut().push((key, address, hi)));
    Ok(hi)
}
