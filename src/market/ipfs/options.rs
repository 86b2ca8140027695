//! Every method's options, read from JS and checked before anything is read or sent. The options
//! that decide a CID are named as Kubo's `add` flags in camelCase and default as Kubo does, so
//! that the same options give the same CID locally and on the node.

use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::num;
use crate::core::transport::CallOpts;
use js_sys::Function;
use wasm_bindgen::prelude::*;

/// `cid()`: the options of Kubo's `add` that decide a CID.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "cid options.")]
pub struct CidOptions {
    /// `cid-version`: 0 (the default: `Qm…` in base58btc, dag-pb leaves) or 1 (`bafy…` in
    /// base32, raw leaves).
    #[js(ts = "0 | 1")]
    pub cid_version: Option<f64>,
    /// `raw-leaves` (default: true for CIDv1, false for CIDv0).
    pub raw_leaves: Option<bool>,
    /// `chunker`: `size-N` (default `size-262144`). Content-defined chunkers are refused: their
    /// CIDs could not be checked.
    pub chunker: Option<String>,
    /// `wrap-with-directory`: the CID of a directory that holds the data as `name`.
    pub wrap_with_directory: Option<bool>,
    /// The name in the wrapping directory (default: a `File`'s own name, else the data's CID,
    /// which is how Kubo names an upload without a name).
    pub name: Option<String>,
}

/// `add()`: the CID options, and what the upload does.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "add options.")]
pub struct AddOptions {
    /// As for `cid()`.
    #[js(ts = "0 | 1")]
    pub cid_version: Option<f64>,
    pub raw_leaves: Option<bool>,
    pub chunker: Option<String>,
    pub wrap_with_directory: Option<bool>,
    pub name: Option<String>,
    /// Pin on the RPC node (default true, as Kubo).
    pub pin: Option<bool>,
    /// Called with the bytes the node has taken in so far (Kubo's `progress`).
    #[js(ts = "(bytes: number) => void")]
    pub progress: Option<Function>,
    /// The longest wait on the node (default `config.ipfs.timeoutMs`).
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `addDirectory()`: a directory is always wrapped, so the CID options less `wrapWithDirectory`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "addDirectory options.")]
pub struct DirectoryOptions {
    #[js(ts = "0 | 1")]
    pub cid_version: Option<f64>,
    pub raw_leaves: Option<bool>,
    pub chunker: Option<String>,
    pub pin: Option<bool>,
    #[js(ts = "(bytes: number) => void")]
    pub progress: Option<Function>,
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `get()` and `cat()`: one file, read from the sources and verified.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "get options.")]
pub struct GetOptions {
    /// A `ReadableStream<Uint8Array>` instead of the whole file (flat memory for large files).
    pub stream: Option<bool>,
    /// Only the bytes from here (default 0).
    pub offset: Option<f64>,
    /// At most this many bytes (default: to the end).
    pub length: Option<f64>,
    /// `car` (default: one CAR per source, `dag-scope=entity`) or `raw` (one request per block:
    /// slower, but a source that lacks a block does not cost the blocks already read).
    #[js(ts = "'car' | 'raw'")]
    pub format: Option<String>,
    /// Overrides `config.ipfs.race`.
    pub race: Option<bool>,
    /// Called once per source asked: `{ source, ok, problem, message }`.
    #[js(ts = "(attempt: IpfsAttempt) => void")]
    pub on_attempt: Option<Function>,
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `getDirectory()`, `ls()`, `stat()`: read from the sources and verified.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "options.")]
pub struct SourceOptions {
    #[js(ts = "'car' | 'raw'")]
    pub format: Option<String>,
    pub race: Option<bool>,
    #[js(ts = "(attempt: IpfsAttempt) => void")]
    pub on_attempt: Option<Function>,
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `pin()` and `replacePin()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "pin options.")]
pub struct PinOptions {
    /// The pin's name (pinning services; Kubo keeps it as the pin's name too).
    pub name: Option<String>,
    /// Multiaddrs of peers that have the data (pinning services fetch from them first).
    pub origins: Option<Vec<String>>,
    /// Extra data for the services, `{ key: 'value' }`.
    #[js(ts = "Record<string, string>")]
    pub meta: Option<JsValue>,
    /// Wait until each service says `pinned` or `failed` (default true), polling with backoff.
    pub wait: Option<bool>,
    /// How long to wait for that (default 120000 ms); each request has `config.ipfs.timeoutMs`.
    pub timeout_ms: Option<f64>,
    /// Pin on the RPC node too (default true when `config.ipfs.api` is set).
    pub node: Option<bool>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `pins()`: the Pinning Service API's filters.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "pins filter.")]
pub struct PinFilter {
    /// Only these CIDs (at most 10).
    #[js(ts = "string | string[]")]
    pub cid: Option<JsValue>,
    pub name: Option<String>,
    /// How `name` matches (default `exact`).
    #[js(name = "match", ts = "'exact' | 'iexact' | 'partial' | 'ipartial'")]
    pub match_: Option<String>,
    /// Default: every status (the API's own default is `pinned` only).
    #[js(ts = "PinState[]")]
    pub status: Option<Vec<String>>,
    /// Created before / after (a `Date` or RFC 3339 text).
    #[js(ts = "Date | string")]
    pub before: Option<JsValue>,
    #[js(ts = "Date | string")]
    pub after: Option<JsValue>,
    /// At most this many per service (1 to 1000, default 10).
    pub limit: Option<f64>,
    /// Pins whose `meta` holds these.
    #[js(ts = "Record<string, string>")]
    pub meta: Option<JsValue>,
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// `unpin()`, `health()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "options.")]
pub struct CallOptions {
    pub timeout_ms: Option<f64>,
    #[js(ts = "AbortSignal")]
    pub signal: Option<JsValue>,
}

/// The CID options as the crate takes them; `op` names the method in problems.
pub fn import(
    op: &str,
    cid_version: Option<f64>,
    raw_leaves: Option<bool>,
    chunker: Option<&str>,
) -> Result<sandrun_ipfs::AddOptions> {
    let bad =
        |field: &str, message: String| SdkError::field(format!("{op} options.{field}"), message);
    let mut o = sandrun_ipfs::AddOptions::default();
    if let Some(v) = cid_version {
        o = match v {
            v if v == 0.0 || v == 1.0 => o
                .with_cid_version(v as u64)
                .map_err(|e| bad("cidVersion", e.to_string()))?,
            v => return Err(bad("cidVersion", format!("must be 0 or 1, got {}", num(v)))),
        };
    }
    if let Some(raw) = raw_leaves {
        o = o.with_raw_leaves(raw);
    }
    if let Some(c) = chunker {
        o = o
            .with_chunker(c)
            .map_err(|e| bad("chunker", e.to_string()))?;
    }
    Ok(o)
}

/// A call's timeout and signal, the timeout defaulting to the configured one.
pub fn call(
    timeout_ms: Option<f64>,
    signal: Option<JsValue>,
    default_ms: f64,
    op: &str,
) -> Result<CallOpts> {
    if let Some(ms) = timeout_ms.filter(|ms| !(ms.is_finite() && *ms > 0.0)) {
        return Err(SdkError::field(
            format!("{op} options.timeoutMs"),
            format!("must be a positive number of milliseconds, got {}", num(ms)),
        ));
    }
    Ok(CallOpts {
        timeout_ms: Some(timeout_ms.unwrap_or(default_ms)),
        signal,
        ..CallOpts::default()
    })
}

/// A byte offset or length: a whole number, not negative.
pub fn byte_count(op: &str, field: &str, v: Option<f64>) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(n)
            if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 =>
        {
            Ok(Some(n as u64))
        }
        Some(n) => Err(SdkError::field(
            format!("{op} options.{field}"),
            format!("must be a whole number of bytes, got {}", num(n)),
        )),
    }
}

/// How blocks are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Car,
    Raw,
}

pub fn format(op: &str, v: Option<&str>) -> Result<Format> {
    match v {
        None | Some("car") => Ok(Format::Car),
        Some("raw") => Ok(Format::Raw),
        Some(other) => Err(SdkError::field(
            format!("{op} options.format"),
            format!("must be 'car' or 'raw', got \"{other}\""),
        )),
    }
}
