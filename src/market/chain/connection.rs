//! A connected chain: the provider, the chain the client expects (the config's `chainId`, or
//! the first one seen, so that a wallet switching chains mid-session is noticed), who sends
//! (the local key, or one of the provider's accounts), and the wallet's events
//! (`chainChanged`, `accountsChanged`, `disconnect`) kept up to date without asking again.

use super::config::{self, Settings};
use super::errors;
use super::provider::{Provider, RpcError};
use super::rpc::{parse_address, parse_u64, qty64, Rpc};
use super::signer::LocalKey;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::Obj;
use crate::core::client::Client;
use alloy_primitives::Address;
use js_sys::{Array, Object};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A wallet event's listener, kept to be removed when the chain is dropped.
type Listener = Closure<dyn FnMut(JsValue)>;

/// What a wallet's events said last.
#[derive(Default)]
struct WalletState {
    chain_id: Cell<Option<u64>>,
    /// None until asked or announced.
    accounts: RefCell<Option<Vec<Address>>>,
}

/// Who signs a transaction.
pub enum Sender<'a> {
    /// The local key: the SDK signs and sends raw bytes.
    Local(&'a LocalKey),
    /// An account the provider manages (`eth_sendTransaction`; a wallet prompts).
    Account(Address),
}

impl Sender<'_> {
    pub fn address(&self) -> Address {
        match self {
            Sender::Local(k) => k.address(),
            Sender::Account(a) => *a,
        }
    }
}

pub struct Chain {
    pub rpc: Rpc,
    pub settings: Settings,
    key: Option<LocalKey>,
    expected: Cell<Option<u64>>,
    state: Rc<WalletState>,
    listeners: Vec<(&'static str, Listener)>,
}

impl Drop for Chain {
    fn drop(&mut self) {
        for (event, f) in &self.listeners {
            self.rpc
                .provider
                .unlisten(event, f.as_ref().unchecked_ref());
        }
    }
}

impl Chain {
    /// The chain of a client's config (`Sandrun.create({ chain })`). Contacts nothing.
    pub fn open(client: &Client) -> Result<Rc<Chain>> {
        let section = client.config.section("chain").ok_or_else(|| {
            SdkError::field(
                "config.chain",
                "this client has no chain: Sandrun.create({ chain: { rpcUrl } }) or { chain: { provider } }",
            )
        })?;
        let (settings, signer) = config::read(section).map_err(SdkError::validation)?;
        let provider = Provider::new(&settings.source, client);
        let state = Rc::new(WalletState::default());
        let mut listeners = Vec::new();
        if provider.wallet().is_some() {
            let s = state.clone();
            let chain_changed = Closure::<dyn FnMut(JsValue)>::new(move |id: JsValue| {
                s.chain_id.set(chain_id_of(&id));
            });
            let s = state.clone();
            let accounts_changed = Closure::<dyn FnMut(JsValue)>::new(move |list: JsValue| {
                let list = Array::from(&list)
                    .iter()
                    .filter_map(|a| parse_address(&a))
                    .collect();
                *s.accounts.borrow_mut() = Some(list);
            });
            let s = state.clone();
            let disconnect = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                // Ask again after a reconnect: the wallet may come back elsewhere.
                s.chain_id.set(None);
                *s.accounts.borrow_mut() = None;
            });
            for (event, f) in [
                ("chainChanged", chain_changed),
                ("accountsChanged", accounts_changed),
                ("disconnect", disconnect),
            ] {
                if provider.listen(event, f.as_ref().unchecked_ref()) {
                    listeners.push((event, f));
                }
            }
        }
        Ok(Rc::new(Chain {
            rpc: Rpc { provider },
            expected: Cell::new(settings.chain_id),
            settings,
            key: signer.map(LocalKey::new),
            state,
            listeners,
        }))
    }

    /// The chain the provider is on now: asked once, then kept up to date by a wallet's
    /// `chainChanged` (an RPC URL stays on its chain; a wallet without events is asked each
    /// time).
    pub async fn current_chain_id(&self) -> Result<u64> {
        let kept = self.rpc.provider.wallet().is_none() || !self.listeners.is_empty();
        if let Some(id) = self.state.chain_id.get().filter(|_| kept) {
            return Ok(id);
        }
        let id = self.rpc.chain_id().await?;
        self.state.chain_id.set(Some(id));
        Ok(id)
    }

    /// The chain this client works on, checked against the provider's: a wallet elsewhere is
    /// asked to switch (and to add the chain when it does not know it, given `addChain`).
    pub async fn ensure(&self) -> Result<u64> {
        let actual = self.current_chain_id().await?;
        let expected = match self.expected.get() {
            Some(e) => e,
            None => {
                self.expected.set(Some(actual));
                actual
            }
        };
        if actual == expected {
            return Ok(expected);
        }
        if self.rpc.provider.wallet().is_none() {
            return Err(errors::wrong_chain(expected, actual, ""));
        }
        self.switch(expected).await?;
        self.state.chain_id.set(None);
        let now = self.current_chain_id().await?;
        if now != expected {
            return Err(errors::wrong_chain(
                expected,
                now,
                " (the wallet did not switch)",
            ));
        }
        Ok(expected)
    }

    /// `wallet_switchEthereumChain`, and `wallet_addEthereumChain` first when the wallet does
    /// not know the chain (EIP-3326 code 4902) and the config says how to add it.
    async fn switch(&self, to: u64) -> Result<()> {
        let id = Obj::new();
        id.set("chainId", &qty64(to));
        let params: Array = [JsValue::from(id)].iter().collect();
        let method = "wallet_switchEthereumChain";
        let first = self.rpc.provider.request(method, params.clone()).await;
        let unknown = matches!(
            &first,
            Err(RpcError::Answer {
                code: Some(4902),
                ..
            })
        );
        match (first, &self.settings.add_chain) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(add)) if unknown => {
                let p = Object::assign(&Object::new(), add.unchecked_ref());
                let _ = js_sys::Reflect::set(&p, &"chainId".into(), &qty64(to));
                self.rpc
                    .request("wallet_addEthereumChain", &[p.into()])
                    .await?;
                self.rpc.request(method, &[params.get(0)]).await?;
                Ok(())
            }
            (Err(e), _) => {
                let e = errors::rpc(method, e);
                if e.code == Code::Rejected {
                    return Err(e);
                }
                let actual = self.state.chain_id.get().unwrap_or_default();
                let why = if unknown {
                    " (the wallet does not know the chain: give config.chain.addChain)".to_string()
                } else {
                    format!(" (switching failed: {})", e.message)
                };
                Err(errors::wrong_chain(to, actual, &why))
            }
        }
    }

    /// Who sends: the local key, else the configured account or the provider's first (a wallet
    /// is asked for access when it has given none). An RPC URL alone is read-only.
    pub async fn sender(&self) -> Result<Sender<'_>> {
        if let Some(k) = &self.key {
            return Ok(Sender::Local(k));
        }
        if self.rpc.provider.wallet().is_none() {
            return self
                .settings
                .account
                .map(Sender::Account)
                .ok_or_else(errors::read_only);
        }
        let known = self.state.accounts.borrow().clone();
        let mut accounts = match known {
            Some(a) => a,
            None => self.rpc.accounts(false).await?,
        };
        if accounts.is_empty() {
            accounts = self.rpc.accounts(true).await?;
        }
        if !self.listeners.is_empty() {
            *self.state.accounts.borrow_mut() = Some(accounts.clone());
        }
        match (self.settings.account, accounts.first()) {
            (Some(a), _) if accounts.contains(&a) => Ok(Sender::Account(a)),
            (Some(a), _) => Err(SdkError::new(
                Code::Chain,
                format!(
                    "config.chain.account {} is not among the wallet's accounts",
                    a.to_checksum(None)
                ),
            )),
            (None, Some(a)) => Ok(Sender::Account(*a)),
            (None, None) => Err(SdkError::new(
                Code::Chain,
                "the wallet gave no account to send from",
            )),
        }
    }

    /// The address calls are made from, when there is one without prompting (views that
    /// depend on `msg.sender`; estimates).
    pub fn local_address(&self) -> Option<Address> {
        self.key
            .as_ref()
            .map(LocalKey::address)
            .or(self.settings.account)
    }

    pub fn key(&self) -> Option<&LocalKey> {
        self.key.as_ref()
    }
}

/// A chain id as `chainChanged` gives it (hex; a number from older wallets).
fn chain_id_of(v: &JsValue) -> Option<u64> {
    parse_u64(v).or_else(|| v.as_f64().map(|n| n as u64))
}
