//! Where a node keeps the results it published until they are on chain, so that a restart
//! between `addDirectory` and a mined `submitResult` submits the same result instead of running
//! the job again: any object with Web Storage's `getItem(key)` and `setItem(key, value)` (string
//! values; either may return a promise), e.g. `localStorage` in a browser, or the JSON file
//! `scripts/market-node.mjs --state` keeps in Node. One entry per job:
//! `sandrun-market-node/<market>/<account>/<jobId>/<jobHash>` → `{ resultHash, outputCid,
//! signature, workerJobId }` (the job hash too: a local chain started again reuses the market's
//! address and the job ids, and its job 1 is not the last one's).

use super::job::Published;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{message_of, method, string, Obj};
use crate::market::chain::values::hash32;
use alloy_primitives::{Address, B256, U256};
use js_sys::Promise;
use sandrun_protocol::b64;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub struct Store(JsValue);

/// Which job of which node on which market an entry is for.
pub struct Place {
    pub market: Address,
    pub account: Address,
    pub job: U256,
    pub job_hash: B256,
}

impl Place {
    fn key(&self) -> String {
        let Place {
            market,
            account,
            job,
            job_hash,
        } = self;
        format!("sandrun-market-node/{market}/{account}/{job}/{job_hash}")
    }
}

fn failed(what: &str, e: JsValue) -> SdkError {
    SdkError::new(
        Code::Plugin,
        format!(
            "the node's result store failed to {what}: {}",
            message_of(&e)
        ),
    )
}

impl Store {
    /// `None` when `v` is not given; a problem text when it is not a store.
    pub fn from_js(v: Option<JsValue>) -> std::result::Result<Option<Store>, &'static str> {
        match v {
            None => Ok(None),
            Some(v) if v.is_undefined() || v.is_null() => Ok(None),
            Some(v) if method(&v, "getItem").is_some() && method(&v, "setItem").is_some() => {
                Ok(Some(Store(v)))
            }
            Some(_) => Err("must have getItem(key) and setItem(key, value), as localStorage"),
        }
    }

    async fn call(&self, name: &str, args: &[JsValue]) -> std::result::Result<JsValue, JsValue> {
        let f = method(&self.0, name).ok_or_else(|| JsValue::from_str(name))?;
        let called = match args {
            [k] => f.call1(&self.0, k)?,
            [k, v] => f.call2(&self.0, k, v)?,
            _ => f.call0(&self.0)?,
        };
        JsFuture::from(Promise::resolve(&called)).await
    }

    /// The result kept for `at`, if any and readable.
    pub async fn get(&self, at: &Place) -> Result<Option<Published>> {
        let key = at.key();
        let text = self
            .call("getItem", &[key.as_str().into()])
            .await
            .map_err(|e| failed("read", e))?;
        let Some(text) = text.as_string() else {
            return Ok(None);
        };
        let v = js_sys::JSON::parse(&text).map_err(|e| failed("read", e))?;
        let field = |k: &str| string(&v, k).unwrap_or_default();
        let bad = || SdkError::new(Code::Protocol, format!("{key}: not a kept result"));
        Ok(Some(Published {
            result_hash: hash32("resultHash", &field("resultHash")).map_err(|_| bad())?,
            output_cid: Some(field("outputCid"))
                .filter(|c| !c.is_empty())
                .ok_or_else(bad)?,
            signature: b64::decode(&field("signature"))
                .filter(|s| s.len() == 64)
                .ok_or_else(bad)?,
        }))
    }

    pub async fn set(&self, at: &Place, out: &Published, worker_job: &str) -> Result<()> {
        let o = Obj::new();
        o.set("resultHash", &out.result_hash.to_string())
            .set("outputCid", &out.output_cid)
            .set("signature", &b64::encode(&out.signature))
            .set("workerJobId", &worker_job);
        let text = js_sys::JSON::stringify(&o.into())
            .map(String::from)
            .unwrap_or_default();
        let key = at.key();
        self.call("setItem", &[key.as_str().into(), text.as_str().into()])
            .await
            .map_err(|e| failed("write", e))?;
        Ok(())
    }
}
