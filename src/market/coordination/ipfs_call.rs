//! The IPFS layer as the paid job uses it: the client's `Ipfs` (config.ipfs), called through its
//! own methods so every check of that layer applies (the node's CID against the local one,
//! verified reads with gateway fallback, pins on the node and on every pinning service).

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{entries, message_of};
use crate::core::client::Client;
use crate::core::sandrun::Sandrun;
use crate::market::ipfs::Ipfs;
use js_sys::{Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

pub struct MarketIpfs {
    pub ipfs: Ipfs,
    /// A Kubo RPC node is configured (adding needs one).
    pub has_node: bool,
}

impl MarketIpfs {
    pub fn open(client: &Rc<Client>) -> Result<MarketIpfs> {
        let section = client.config.section("ipfs").ok_or_else(|| {
            SdkError::field(
                "config.ipfs",
                "a paid job puts its inputs on IPFS: Sandrun.create({ ipfs: { api: 'http://127.0.0.1:5001' } })",
            )
        })?;
        let has_node = crate::core::boundary::js::string(section, "api").is_some();
        let s = Sandrun::new(client.clone(), Rc::from(Vec::new()));
        let ipfs = s.ipfs().map_err(|e| thrown(e, Code::Ipfs))?;
        Ok(MarketIpfs { ipfs, has_node })
    }
}

/// A rejection of one of the layers' promises as an `SdkError` that reaches JS as it was thrown
/// (an `IpfsError` keeps its `attempts`); `code` is what Rust sees of it.
pub fn thrown(e: JsValue, code: Code) -> SdkError {
    let mut err = SdkError::new(code, message_of(&e));
    err.js = Some(e);
    err
}

pub async fn settle(p: Promise) -> Result<JsValue> {
    JsFuture::from(p).await.map_err(|e| thrown(e, Code::Ipfs))
}

/// Adds `files` as one directory, CIDv1 (the market format's; the layer's other defaults: raw
/// leaves, pinned on the node); its CID. `on_progress` hears Kubo's byte counts.
pub async fn add_directory(
    ipfs: &MarketIpfs,
    files: &SortedMap<Vec<u8>>,
    on_progress: Option<&js_sys::Function>,
) -> Result<String> {
    let tree = Object::new();
    for (path, bytes) in files.iter() {
        let _ = Reflect::set(&tree, &path.into(), &Uint8Array::from(&bytes[..]));
    }
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"cidVersion".into(), &JsValue::from(1));
    if let Some(f) = on_progress {
        let _ = Reflect::set(&opts, &"progress".into(), f);
    }
    let added = settle(ipfs.ipfs.add_directory(tree.into(), Some(opts.into()))).await?;
    crate::core::boundary::js::string(&added, "cid")
        .ok_or_else(|| SdkError::new(Code::Protocol, "addDirectory gave no cid"))
}

/// Pins `cid` on the node and every configured pinning service (without waiting for the
/// services to finish: they fetch from the node, which already has it). Each place's outcome.
pub async fn pin(ipfs: &MarketIpfs, cid: &str) -> Result<JsValue> {
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"wait".into(), &JsValue::FALSE);
    settle(ipfs.ipfs.pin(cid.to_string(), Some(opts.into()))).await
}

/// A directory's files, path → bytes, read and verified.
pub async fn directory_files(
    ipfs: &MarketIpfs,
    cid: &str,
) -> std::result::Result<SortedMap<Vec<u8>>, String> {
    let dir = JsFuture::from(ipfs.ipfs.get_directory(cid.to_string(), None))
        .await
        .map_err(|e| message_of(&e))?;
    let files = Reflect::get(&dir, &"files".into()).map_err(|e| message_of(&e))?;
    let mut out = SortedMap::new();
    for (path, bytes) in entries(&files) {
        out.insert(path, Uint8Array::new(&bytes).to_vec());
    }
    Ok(out)
}
