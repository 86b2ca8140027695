//! The local signer (`chain: { privateKey }`): the key signs here (sandrun-chain's EIP-1559 and
//! legacy transactions, RFC 6979), and its nonces are handed out here, so that concurrent sends
//! from one key get consecutive nonces without asking the node between them.
//!
//! Nonces are kept per (provider, chain id, address) for the whole page or process, not per
//! market: two markets of one client, or two clients with the same key, share them.

use super::rpc::{At, Rpc};
use crate::core::boundary::error::Result;
use crate::core::boundary::promise::Settle;
use alloy_primitives::Address;
use sandrun_chain::tx::{LocalSigner, SignedTx, TxError, TxRequest};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// The next nonces of one account on one chain.
#[derive(Default)]
pub struct Nonces {
    /// The account's pending transaction count, asked once per generation.
    base: RefCell<Rc<Settle<Result<u64>>>>,
    /// Nonces handed out since `base` was read.
    issued: Cell<u64>,
}

impl Nonces {
    /// The next nonce: the node's pending count the first time, then one more each call.
    pub async fn reserve(&self, rpc: &Rpc, address: Address) -> Result<u64> {
        loop {
            let generation = self.base.borrow().clone();
            let base = generation
                .get_or_run(|| rpc.nonce(address, At::Pending))
                .await;
            if !Rc::ptr_eq(&generation, &self.base.borrow()) {
                continue; // reset while this waited: read again
            }
            let base = match base {
                Ok(b) => b,
                Err(e) => {
                    self.reset();
                    return Err(e);
                }
            };
            let n = base + self.issued.get();
            self.issued.set(self.issued.get() + 1);
            return Ok(n);
        }
    }

    /// Forgets what was handed out: the next `reserve` asks the node again. After a send that
    /// failed (its nonce is unused: the node's pending count gives it again) or a nonce the node
    /// called too low (another sender used the key).
    pub fn reset(&self) {
        *self.base.borrow_mut() = Rc::new(Settle::default());
        self.issued.set(0);
    }
}

/// (provider identity, chain id, address) → its nonces.
type NonceTable = Vec<(JsValue, u64, Address, Rc<Nonces>)>;

thread_local! {
    static NONCES: RefCell<NonceTable> = const { RefCell::new(Vec::new()) };
}

/// The nonces of `address` on `chain_id` through the provider `identity` (its URL, or the
/// provider object).
fn nonces_of(identity: &JsValue, chain_id: u64, address: Address) -> Rc<Nonces> {
    NONCES.with(|all| {
        let mut all = all.borrow_mut();
        if let Some((_, _, _, n)) = all
            .iter()
            .find(|(i, c, a, _)| i == identity && *c == chain_id && *a == address)
        {
            return n.clone();
        }
        let n = Rc::new(Nonces::default());
        all.push((identity.clone(), chain_id, address, n.clone()));
        n
    })
}

/// A private key held in memory (its Debug shows only the address).
#[derive(Debug)]
pub struct LocalKey {
    signer: LocalSigner,
}

impl LocalKey {
    pub fn new(signer: LocalSigner) -> LocalKey {
        LocalKey { signer }
    }

    pub fn address(&self) -> Address {
        self.signer.address()
    }

    pub fn sign(&self, tx: &TxRequest) -> std::result::Result<SignedTx, TxError> {
        self.signer.sign(tx)
    }

    /// This key's nonces on `chain_id` through `rpc`'s provider.
    pub fn nonces(&self, rpc: &Rpc, chain_id: u64) -> Rc<Nonces> {
        nonces_of(&rpc.provider.identity(), chain_id, self.address())
    }
}
