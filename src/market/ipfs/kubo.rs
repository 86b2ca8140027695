//! The Kubo RPC calls (`POST /api/v0/…`, arguments in the query string). Every `add` option that
//! decides a CID is sent explicitly, so a node with other defaults cannot give another CID
//! unnoticed; `cid-base` is base58btc for CIDv0 (Kubo answers a v0 add asked for base32 with the
//! v1 CID) and base32 for CIDv1 (js-ipfs would print base58btc). Answers are read tolerantly:
//! CIDs in any multibase and sizes as strings (Kubo) or numbers (js-ipfs).

use super::fetch::{read_to_end, Body, Endpoint, MAX_JSON_BODY};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{entries, num, prop, string};
use crate::core::transport::status::parse_json;
use crate::core::transport::CallOpts;
use js_sys::Function;
use sandrun_ipfs::{parse_cid, AddOptions, Cid};
use wasm_bindgen::JsValue;

#[derive(Clone)]
pub struct Kubo {
    pub endpoint: Endpoint,
}

/// One line of `add`'s answer: a file or directory the node made.
#[derive(Debug, Clone)]
pub struct AddedEntry {
    /// Its path in the upload (`""` for the wrapping directory).
    pub name: String,
    pub cid: Cid,
    pub size: u64,
}

/// How `add` adds: the CID options (all sent), wrapping, pinning, and who hears the progress.
pub struct AddRequest<'a> {
    pub options: &'a AddOptions,
    pub wrap: bool,
    pub pin: bool,
    pub progress: Option<&'a Function>,
}

/// A query value, percent-encoded.
pub fn q(v: &str) -> String {
    js_sys::encode_uri_component(v).into()
}

impl Kubo {
    pub fn url(&self) -> &str {
        self.endpoint.url()
    }

    /// `version`: the node's version (`health()`).
    pub async fn version(&self, opts: &CallOpts) -> Result<String> {
        let v = self
            .endpoint
            .json("ipfs.version", "POST", "/api/v0/version", None, opts)
            .await?;
        Ok(string(&v, "Version").unwrap_or_else(|| "unknown".into()))
    }

    /// `add` of a multipart body (`upload.rs`); `progress` is called with Kubo's byte counts.
    /// Returns every entry the node reports, the root last.
    pub async fn add(
        &self,
        body: JsValue,
        content_type: String,
        how: &AddRequest<'_>,
        opts: &CallOpts,
    ) -> Result<Vec<AddedEntry>> {
        let AddRequest {
            options,
            wrap,
            pin,
            progress,
        } = *how;
        let v1 = options.cid_version_number() == 1;
        let path = format!(
            "/api/v0/add?cid-version={}&raw-leaves={}&chunker={}&cid-base={}&hash=sha2-256&trickle=false&inline=false&wrap-with-directory={wrap}&pin={pin}&progress=true",
            options.cid_version_number(),
            options.raw_leaves(),
            options.chunker(),
            if v1 { "base32" } else { "base58btc" },
        );
        let body = Body::Stream {
            content_type,
            stream: body,
        };
        let mut res = self
            .endpoint
            .open("ipfs.add", "POST", &path, Some(body), opts)
            .await?;
        // NDJSON: progress lines `{"Name","Bytes"}`, then one line per file and directory made.
        let mut out = Vec::new();
        let mut pending = Vec::new();
        let mut line_error = None;
        let mut progress = AddedBytes {
            hear: progress,
            ..AddedBytes::default()
        };
        loop {
            let piece = res
                .next()
                .await
                .map_err(|f| super::fetch::failure("ipfs.add", &f, self.url()))?;
            let ended = piece.is_none();
            pending.extend(piece.unwrap_or_default());
            while let Some(at) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=at).collect();
                self.read_add_line(&line, &mut progress, &mut out, &mut line_error);
            }
            if pending.len() > MAX_JSON_BODY {
                return Err(protocol(
                    "ipfs.add",
                    self.url(),
                    "a line longer than 16 MiB",
                ));
            }
            if ended {
                if !pending.is_empty() {
                    let rest = std::mem::take(&mut pending);
                    self.read_add_line(&rest, &mut progress, &mut out, &mut line_error);
                }
                break;
            }
        }
        if let Some(e) = line_error {
            return Err(e);
        }
        if out.is_empty() {
            return Err(protocol("ipfs.add", self.url(), "no CID in the answer"));
        }
        Ok(out)
    }

    fn read_add_line(
        &self,
        line: &[u8],
        progress: &mut AddedBytes,
        out: &mut Vec<AddedEntry>,
        error: &mut Option<SdkError>,
    ) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Ok(v) = parse_json(line) else {
            error.get_or_insert_with(|| protocol("ipfs.add", self.url(), "a line is not JSON"));
            return;
        };
        // An error in the middle of the stream (Kubo also sets an X-Stream-Error trailer, which
        // fetch cannot read).
        if let Some(m) = string(&v, "Message") {
            error.get_or_insert_with(|| {
                SdkError::new(Code::Http, format!("ipfs.add: the node failed: {m}")).cause(m)
            });
            return;
        }
        match string(&v, "Hash") {
            Some(hash) => match (parse_cid(&hash), size(&v, "Size")) {
                (Ok(cid), Some(size)) => out.push(AddedEntry {
                    name: string(&v, "Name").unwrap_or_default(),
                    cid,
                    size,
                }),
                _ => {
                    error.get_or_insert_with(|| {
                        protocol("ipfs.add", self.url(), &format!("unreadable entry {hash}"))
                    });
                }
            },
            None => {
                if let Some(bytes) = size(&v, "Bytes") {
                    progress.heard(&string(&v, "Name").unwrap_or_default(), bytes);
                }
            }
        }
    }

    /// `pin/add` (recursive), with a name.
    pub async fn pin_add(&self, cid: &str, name: Option<&str>, opts: &CallOpts) -> Result<()> {
        let name = name.map(|n| format!("&name={}", q(n))).unwrap_or_default();
        let path = format!(
            "/api/v0/pin/add?arg={}&recursive=true&progress=false{name}",
            q(cid)
        );
        self.endpoint
            .json("ipfs.pin", "POST", &path, None, opts)
            .await
            .map(drop)
    }

    /// `pin/rm` (recursive); `false` when the CID was not pinned.
    pub async fn pin_rm(&self, cid: &str, opts: &CallOpts) -> Result<bool> {
        let path = format!("/api/v0/pin/rm?arg={}&recursive=true", q(cid));
        match self
            .endpoint
            .json("ipfs.unpin", "POST", &path, None, opts)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if not_pinned(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `pin/update`: pins `to`, then unpins `from` (sharing the blocks they have in common).
    pub async fn pin_update(&self, from: &str, to: &str, opts: &CallOpts) -> Result<()> {
        let path = format!(
            "/api/v0/pin/update?arg={}&arg={}&unpin=true",
            q(from),
            q(to)
        );
        self.endpoint
            .json("ipfs.replacePin", "POST", &path, None, opts)
            .await
            .map(drop)
    }

    /// `pin/ls` of recursive pins (of `cids` only, when given): `(cid, name)`.
    pub async fn pin_ls(&self, cids: &[String], opts: &CallOpts) -> Result<Vec<(String, String)>> {
        let args: String = cids.iter().map(|c| format!("&arg={}", q(c))).collect();
        let path = format!("/api/v0/pin/ls?type=recursive&names=true{args}");
        let v = match self
            .endpoint
            .json("ipfs.pins", "POST", &path, None, opts)
            .await
        {
            Ok(v) => v,
            Err(e) if not_pinned(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let keys = prop(&v, "Keys").unwrap_or(JsValue::UNDEFINED);
        Ok(entries(&keys)
            .into_iter()
            .map(|(cid, info)| (cid, string(&info, "Name").unwrap_or_default()))
            .collect())
    }

    /// `dag/export`: the whole DAG as a CAR, streamed.
    pub fn dag_export_path(cid: &str) -> String {
        format!("/api/v0/dag/export?arg={}&progress=false", q(cid))
    }

    /// `block/get`: one block's bytes.
    pub async fn block_get(&self, cid: &str, opts: &CallOpts) -> Result<Vec<u8>> {
        let path = format!("/api/v0/block/get?arg={}", q(cid));
        let mut res = self
            .endpoint
            .open("ipfs.block", "POST", &path, None, opts)
            .await?;
        read_to_end(&mut res, sandrun_ipfs::DEFAULT_MAX_BLOCK_SIZE)
            .await
            .map_err(|e| e.op("ipfs.block").endpoint(self.url()))
    }
}

/// Kubo's answer to an unpin or list of a CID that has no pin.
fn not_pinned(e: &SdkError) -> bool {
    e.context
        .cause
        .as_deref()
        .is_some_and(|c| c.contains("not pinned"))
}

/// A size field as a string (Kubo) or a number (js-ipfs).
pub fn size(v: &JsValue, key: &str) -> Option<u64> {
    let v = prop(v, key)?;
    match v.as_string() {
        Some(s) => sandrun_ipfs::parse_size(&s).ok(),
        None => sandrun_ipfs::parse_size(&num(v.as_f64()?)).ok(),
    }
}

fn protocol(op: &'static str, url: &str, why: &str) -> SdkError {
    SdkError::new(
        Code::Protocol,
        format!("{op}: {url} answered with something else than expected ({why})"),
    )
    .op(op)
    .endpoint(url)
}

/// Kubo counts each file's bytes on its own (adding a directory of a 300,000 B and a 6 B file
/// answers `{"Name":"d/a.bin","Bytes":262144}`, `…300000}`, then `{"Name":"d/b.txt","Bytes":6}`);
/// `progress` hears the bytes taken in so far over all the files (262144, 300000, 300006).
#[derive(Default)]
struct AddedBytes<'a> {
    hear: Option<&'a Function>,
    /// The bytes of the files before the current one.
    before: u64,
    file: String,
    bytes: u64,
}

impl AddedBytes<'_> {
    fn heard(&mut self, file: &str, bytes: u64) {
        if file != self.file {
            self.before += self.bytes;
            self.file = file.to_string();
        }
        self.bytes = bytes;
        if let Some(f) = self.hear {
            let _ = f.call1(
                &JsValue::NULL,
                &JsValue::from_f64((self.before + bytes) as f64),
            );
        }
    }
}
