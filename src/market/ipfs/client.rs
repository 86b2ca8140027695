//! `Ipfs`, the class `sandrun.ipfs()` returns: local CIDs, adds through the RPC node (checked
//! against the local CID), verified reads from every source, pins on the node and on every
//! pinning service, and the health of each.

use super::cid;
use super::config::Settings;
use super::failure::{self, exhausted, IpfsAttempt};
use super::fetch::{read_to_end, Endpoint};
use super::input::Input;
use super::join::{all, Task};
use super::kubo::{AddRequest, Kubo};
use super::options::{
    self, AddOptions, CallOptions, CidOptions, DirectoryOptions, GetOptions, SourceOptions,
};
use super::pinning::{Query, Service};
use super::sources::Source;
use super::stream::{readable, Step};
use super::tree;
use super::upload::{self, Part};
use super::walk::{parse, Piece, Plan, Walk};
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::boundary::platform::now_ms;
use crate::core::boundary::promise::promise;
use crate::core::boundary::reader::FromJs;
use crate::core::sandrun::Sandrun;
use crate::core::transport::CallOpts;
use js_sys::{Promise, Uint8Array};
use sandrun_ipfs::{same_block, Added, Cid, Expect, RootKind};
use sandrun_protocol::map::SortedMap;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// IPFS through the client's config (`sandrun.ipfs()`).
#[wasm_bindgen]
pub struct Ipfs {
    pub(super) inner: Rc<Inner>,
}

pub(super) struct Inner {
    settings: Settings,
    pub(super) node: Option<Kubo>,
    pub(super) services: Vec<Service>,
    /// The node first (it is the user's own), then the gateways in their order.
    sources: Rc<[Source]>,
}

/// What `add()` gives.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct AddResult {
    /// The CID, computed locally and equal to the node's (base58btc for v0, base32 for v1).
    pub cid: String,
    /// Kubo's `Size`: the DAG's cumulative size (a little more than the file's bytes).
    pub size: f64,
}

/// One file or directory of `addDirectory()`.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct AddedPath {
    pub path: String,
    pub cid: String,
    pub size: f64,
}

/// What `addDirectory()` gives: the wrapping directory, and every path in it.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct DirectoryAddResult {
    pub cid: String,
    pub size: f64,
    pub entries: Vec<AddedPath>,
}

/// A directory entry (`ls()`).
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct IpfsEntry {
    pub name: String,
    pub cid: String,
    /// The link's cumulative DAG size.
    pub size: f64,
}

/// What `getDirectory()` gives: every file's bytes by path, and every directory's path.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct DirectoryContents {
    pub cid: String,
    #[js(ts = "Record<string, Uint8Array>")]
    pub files: SortedMap<JsValue>,
    pub directories: Vec<String>,
}

/// What `stat()` gives, read from the verified root block (as Kubo's `files stat`).
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct IpfsStat {
    pub cid: String,
    #[js(
        name = "type",
        ts = "'file' | 'directory' | 'symlink' | 'metadata node'"
    )]
    pub kind: String,
    /// A file's bytes (0 for a directory).
    pub size: f64,
    /// Kubo's `CumulativeSize` (what `add` calls `Size`).
    pub cumulative_size: f64,
    /// Links of the root block.
    pub blocks: f64,
}

/// One source's health.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct SourceHealth {
    pub url: String,
    #[js(ts = "'up' | 'down'")]
    pub status: String,
    /// The node's version.
    pub version: Option<String>,
    pub error: Option<String>,
    pub latency_ms: f64,
}

/// `health()`: `up` when everything answered, `degraded` when something did not but content can
/// still be read (the node or a gateway is up), `down` when nothing can be read.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct IpfsHealth {
    #[js(ts = "'up' | 'degraded' | 'down'")]
    pub status: String,
    pub node: Option<SourceHealth>,
    pub gateways: Vec<SourceHealth>,
    pub pinning: Vec<SourceHealth>,
}

#[wasm_bindgen(typescript_custom_section)]
const IPFS_TS: &'static str = r#"
export interface Ipfs {
  /**
   * A file, read from the RPC node and the gateways (in order, or raced), every block checked
   * against its CID: the bytes, or with `{ stream: true }` a `ReadableStream` (flat memory). A
   * source that fails is skipped (`onAttempt` hears of each); when all fail, an `IpfsError` lists
   * every attempt.
   */
  get(cid: string, options: GetOptions & { stream: true }): Promise<ReadableStream<Uint8Array>>;
  get(cid: string, options?: GetOptions & { stream?: false }): Promise<Uint8Array>;
  /** `get()` under Kubo's name (both take `offset` and `length`). */
  cat(cid: string, options: GetOptions & { stream: true }): Promise<ReadableStream<Uint8Array>>;
  cat(cid: string, options?: GetOptions & { stream?: false }): Promise<Uint8Array>;
}
"#;

#[wasm_bindgen]
impl Sandrun {
    /// IPFS through `config.ipfs` (local CIDs need no config at all).
    pub fn ipfs(&self) -> std::result::Result<Ipfs, JsValue> {
        let section = self
            .client()
            .config
            .section("ipfs")
            .cloned()
            .unwrap_or(JsValue::UNDEFINED);
        let settings = Settings::read(&section).map_err(|e| e.op("ipfs").into_js())?;
        let http = &self.client().http;
        let node = settings.api.as_ref().map(|api| Kubo {
            endpoint: Endpoint::new(http, api, settings.api_headers.clone()),
        });
        let services = settings
            .pinning
            .iter()
            .map(|s| Service {
                endpoint: Endpoint::new(
                    http,
                    &s.endpoint,
                    vec![("Authorization".into(), format!("Bearer {}", s.token))],
                ),
            })
            .collect();
        let sources: Vec<Source> = node
            .iter()
            .cloned()
            .map(Source::Node)
            .chain(
                settings
                    .gateways
                    .iter()
                    .map(|g| Source::Gateway(Endpoint::new(http, g, Vec::new()))),
            )
            .collect();
        Ok(Ipfs {
            inner: Rc::new(Inner {
                node,
                services,
                sources: sources.into(),
                settings,
            }),
        })
    }
}

/// A promise of `f`'s value, or rejected at once with an error found before it started.
pub(super) fn run<T: ToJs, F: Future<Output = Result<T>> + 'static>(
    op: &'static str,
    f: Result<F>,
) -> Promise {
    match f {
        Ok(f) => promise(async move { f.await.map(|v| v.to_js()).map_err(|e| e.op(op)) }),
        Err(e) => Promise::reject(&e.op(op).into_js()),
    }
}

pub(super) fn opts<T: FromJs + Default>(v: Option<JsValue>) -> Result<T> {
    match v {
        Some(v) if !v.is_undefined() && !v.is_null() => T::from_js(&v),
        _ => Ok(T::default()),
    }
}

impl Inner {
    fn node(&self, op: &str) -> Result<&Kubo> {
        self.node.as_ref().ok_or_else(|| {
            SdkError::field(
                "config.ipfs.api",
                format!("{op} needs a Kubo RPC node: set config.ipfs.api"),
            )
        })
    }

    pub(super) fn call(
        &self,
        op: &str,
        timeout_ms: Option<f64>,
        signal: Option<JsValue>,
    ) -> Result<CallOpts> {
        options::call(timeout_ms, signal, self.settings.timeout_ms, op)
    }

    /// How a read asks the sources, from its options.
    fn plan(&self, op: &str, o: SourceOptions) -> Result<Plan> {
        Ok(Plan {
            sources: self.sources.clone(),
            format: options::format(op, o.format.as_deref())?,
            race: o.race.unwrap_or(self.settings.race),
            on_attempt: o.on_attempt,
            opts: self.call(op, o.timeout_ms, o.signal)?,
        })
    }

    /// Adds `parts` through the node and checks its root CID against the local one, computed
    /// from the same bytes as they were sent. Returns the local root and, when wrapped, every
    /// path in it (`name` names an unnamed file, else Kubo's rule: its CID).
    async fn add_parts(
        &self,
        parts: Vec<Part>,
        how: &AddRequest<'_>,
        name: Option<String>,
        call: &CallOpts,
    ) -> Result<(Added, Vec<(String, Added)>)> {
        let node = self.node("add")?;
        let (body, content_type, outcome) = upload::body(parts, how.options)?;
        let sent = node.add(body, content_type, how, call).await;
        let outcome = std::mem::take(&mut *outcome.borrow_mut());
        // A failure to read the data breaks the upload: say that, not what the transport saw.
        if let Some(e) = outcome.error {
            return Err(e);
        }
        let entries = sent.map_err(|e| failure::one("add", node.url(), e))?;
        let (local, paths) = if how.wrap {
            let files: Vec<(String, Added)> = outcome
                .files
                .into_iter()
                .map(|(path, added)| match (&name, path.is_empty()) {
                    (Some(n), true) => (n.clone(), added),
                    (None, true) => (cid::text(&added.cid), added),
                    _ => (path, added),
                })
                .collect();
            let dir = cid::directory(&files, &outcome.dirs, how.options, "tree")?;
            let mut paths = files;
            paths.extend(dir.directories);
            (dir.root, paths)
        } else {
            let file = outcome.files.first().map(|(_, a)| *a).ok_or_else(|| {
                SdkError::new(Code::Internal, "the upload ended without its file")
            })?;
            (file, Vec::new())
        };
        let Some(root) = entries.last() else {
            return Err(SdkError::new(
                Code::Protocol,
                "add: the node reported nothing",
            ));
        };
        check_cid(node, &local.cid, &root.cid, how.pin, call).await?;
        Ok((local, paths))
    }
}

/// The node's CID must be the local one. The same block under the other CID version is
/// tolerated (a node that ignores `cid-base` prints it so); anything else is a
/// `CidMismatchError`, and the node's pin of it is removed.
async fn check_cid(
    node: &Kubo,
    local: &Cid,
    remote: &Cid,
    pinned: bool,
    call: &CallOpts,
) -> Result<()> {
    if local == remote || same_block(local, remote) {
        return Ok(());
    }
    let (local, remote) = (cid::text(local), cid::text(remote));
    let unpinned = pinned && node.pin_rm(&remote, call).await.unwrap_or(false);
    let d = Obj::new();
    d.set("localCid", &local).set("nodeCid", &remote);
    Err(SdkError::new(
        Code::CidMismatch,
        format!(
            "add: the node made {remote}, the data's CID is {local} with these options{}",
            if unpinned {
                " (the node's pin was removed)"
            } else {
                ""
            }
        ),
    )
    .endpoint(node.url())
    .with_details(d.into()))
}

/// The CID `addDirectory(tree)` would give, computed here.
async fn tree_cid(tree: &JsValue, options: &sandrun_ipfs::AddOptions) -> Result<String> {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for entry in tree::read(tree).await? {
        match entry.content {
            Some(mut input) => files.push((entry.path, cid::of_input(&mut input, options).await?)),
            None => dirs.push(entry.path),
        }
    }
    let dir = cid::directory(&files, &dirs, options, "tree")?;
    Ok(cid::text(&dir.root.cid))
}

fn step_walk(mut walk: Walk) -> Step<Walk> {
    Box::pin(async move {
        let piece = loop {
            match walk.next().await {
                Ok(Some(Piece::Data(b))) => break Ok(Some(b.to_vec())),
                // Entries are not bytes: a directory cannot be read as a file.
                Ok(Some(Piece::Entry(_))) => continue,
                Ok(None) => break Ok(None),
                Err(e) => break Err(e),
            }
        };
        (walk, piece)
    })
}

/// Every piece of a walk: the file's bytes, or the directory's entries.
async fn drain(walk: &mut Walk) -> Result<(Vec<u8>, Vec<sandrun_ipfs::DirEntry>)> {
    let (mut bytes, mut dir) = (Vec::new(), Vec::new());
    while let Some(piece) = walk.next().await? {
        match piece {
            Piece::Data(b) => bytes.extend_from_slice(&b),
            Piece::Entry(e) => dir.push(e),
        }
    }
    Ok((bytes, dir))
}

/// Reads the DAG at `cid` into `out` under `path` (files' bytes, directories recursively).
fn read_tree<'a>(
    plan: &'a Plan,
    cid: String,
    path: String,
    expect: Expect,
    out: &'a mut DirectoryContents,
) -> std::pin::Pin<Box<dyn Future<Output = Result<()>> + 'a>> {
    Box::pin(async move {
        let mut walk = Walk::new("getDirectory", &cid, expect, plan.clone())?;
        let (bytes, dir) = drain(&mut walk).await?;
        match walk.kind() {
            Some(RootKind::Directory { .. }) => {
                if !path.is_empty() {
                    out.directories.push(path.clone());
                }
                for e in dir {
                    let child = if path.is_empty() {
                        e.name.clone()
                    } else {
                        format!("{path}/{}", e.name)
                    };
                    read_tree(plan, cid::text(&e.cid), child, Expect::Any, out).await?;
                }
            }
            _ => {
                out.files.insert(path, Uint8Array::from(&bytes[..]).into());
            }
        }
        Ok(())
    })
}

#[wasm_bindgen]
impl Ipfs {
    /// The CID Kubo's `add` would give `data` with these options, computed here (streamed: a
    /// Blob or stream is read in pieces). Nothing is sent. A `{ path: data }` tree gives the CID
    /// `addDirectory(tree)` would.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn cid(
        &self,
        #[wasm_bindgen(unchecked_param_type = "IpfsData | DirectoryTree")] data: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CidOptions")] options: Option<JsValue>,
    ) -> Promise {
        let made = (|| {
            let o: CidOptions = opts(options)?;
            let add = options::import("cid", o.cid_version, o.raw_leaves, o.chunker.as_deref())?;
            let is_tree = tree::is_tree(&data);
            let mut input = match is_tree {
                true => None,
                false => Some(Input::from_js(&data, "data")?),
            };
            let name = o.name.or_else(|| input.as_ref()?.name().map(String::from));
            let wrap = o.wrap_with_directory.unwrap_or(false);
            Ok(async move {
                let Some(input) = input.as_mut() else {
                    return tree_cid(&data, &add).await;
                };
                let file = cid::of_input(input, &add).await?;
                if !wrap {
                    return Ok(cid::text(&file.cid));
                }
                let name = name.unwrap_or_else(|| cid::text(&file.cid));
                let dir = cid::directory(&[(name, file)], &[], &add, "cid options.name")?;
                Ok(cid::text(&dir.root.cid))
            })
        })();
        run("cid", made)
    }

    /// Adds `data` through the RPC node (every CID option sent explicitly) and checks that the
    /// node's CID is the one computed locally from the same bytes as they were sent.
    #[wasm_bindgen(unchecked_return_type = "Promise<AddResult>")]
    pub fn add(
        &self,
        #[wasm_bindgen(unchecked_param_type = "IpfsData")] data: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AddOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let made = (|| {
            let o: AddOptions = opts(options)?;
            let add = options::import("add", o.cid_version, o.raw_leaves, o.chunker.as_deref())?;
            let call = inner.call("add", o.timeout_ms, o.signal)?;
            inner.node("add")?;
            let input = Input::from_js(&data, "data")?;
            let name = o.name.or_else(|| input.name().map(String::from));
            let wrap = o.wrap_with_directory.unwrap_or(false);
            let part = Part {
                path: name.clone(),
                content: Some(input),
            };
            Ok(async move {
                let how = AddRequest {
                    options: &add,
                    wrap,
                    pin: o.pin.unwrap_or(true),
                    progress: o.progress.as_ref(),
                };
                let (local, _) = inner.add_parts(vec![part], &how, name, &call).await?;
                Ok(AddResult {
                    cid: cid::text(&local.cid),
                    size: local.size as f64,
                })
            })
        })();
        run("add", made)
    }

    /// Adds a directory (`{ path: data }`, or in Node a folder's path) through the RPC node,
    /// wrapped as Kubo's `add -w`; every path is kept. The root CID is checked against the local
    /// one.
    #[wasm_bindgen(js_name = addDirectory, unchecked_return_type = "Promise<DirectoryAddResult>")]
    pub fn add_directory(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DirectoryTree | string")] tree: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DirectoryOptions")] options: Option<
            JsValue,
        >,
    ) -> Promise {
        let inner = self.inner.clone();
        let made = (|| {
            let o: DirectoryOptions = opts(options)?;
            let add = options::import(
                "addDirectory",
                o.cid_version,
                o.raw_leaves,
                o.chunker.as_deref(),
            )?;
            let call = inner.call("addDirectory", o.timeout_ms, o.signal)?;
            inner.node("addDirectory")?;
            Ok(async move {
                let parts = tree::read(&tree)
                    .await?
                    .into_iter()
                    .map(|e| Part {
                        path: Some(e.path),
                        content: e.content,
                    })
                    .collect();
                let how = AddRequest {
                    options: &add,
                    wrap: true,
                    pin: o.pin.unwrap_or(true),
                    progress: o.progress.as_ref(),
                };
                let (root, all) = inner.add_parts(parts, &how, None, &call).await?;
                let mut entries: Vec<AddedPath> = all
                    .into_iter()
                    .map(|(path, a)| AddedPath {
                        path,
                        cid: cid::text(&a.cid),
                        size: a.size as f64,
                    })
                    .collect();
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(DirectoryAddResult {
                    cid: cid::text(&root.cid),
                    size: root.size as f64,
                    entries,
                })
            })
        })();
        run("addDirectory", made)
    }

    /// A file, read from the RPC node and the gateways (in order, or raced), every block checked
    /// against its CID: the bytes, or with `{ stream: true }` a `ReadableStream` (flat memory).
    /// A source that fails is skipped (`onAttempt` hears of each); when all fail, an `IpfsError`
    /// lists every attempt.
    // Typed by the overloads in IPFS_TS (bytes, or a stream with `stream: true`).
    #[wasm_bindgen(skip_typescript)]
    pub fn get(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "GetOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.read("get", cid, options)
    }

    /// `get()` under Kubo's name (both take `offset` and `length`). Not Kubo's `/api/v0/cat`:
    /// its bytes could not be checked against the CID.
    // Typed by the overloads in IPFS_TS (bytes, or a stream with `stream: true`).
    #[wasm_bindgen(skip_typescript)]
    pub fn cat(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "GetOptions")] options: Option<JsValue>,
    ) -> Promise {
        self.read("cat", cid, options)
    }

    fn read(&self, op: &'static str, cid: String, options: Option<JsValue>) -> Promise {
        let made = (|| {
            let o: GetOptions = opts(options)?;
            let offset = options::byte_count(op, "offset", o.offset)?.unwrap_or(0);
            let length = options::byte_count(op, "length", o.length)?;
            let plan = self.inner.plan(
                op,
                SourceOptions {
                    format: o.format,
                    race: o.race,
                    on_attempt: o.on_attempt,
                    timeout_ms: o.timeout_ms,
                    signal: o.signal,
                },
            )?;
            let mut walk = Walk::new(op, &cid, Expect::File, plan)?.range(offset, length);
            let stream = o.stream.unwrap_or(false);
            Ok(async move {
                if stream {
                    return Ok(JsValue::from(readable(walk, step_walk)?));
                }
                let (bytes, _) = drain(&mut walk).await?;
                Ok(Uint8Array::from(&bytes[..]).into())
            })
        })();
        run(op, made)
    }

    /// A directory and everything below it, read and verified as `get()` reads a file.
    #[wasm_bindgen(js_name = getDirectory, unchecked_return_type = "Promise<DirectoryContents>")]
    pub fn get_directory(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "SourceOptions")] options: Option<JsValue>,
    ) -> Promise {
        let made = (|| {
            let plan = self.inner.plan("getDirectory", opts(options)?)?;
            parse(&cid)?;
            Ok(async move {
                let mut out = DirectoryContents {
                    cid: cid.clone(),
                    files: SortedMap::new(),
                    directories: Vec::new(),
                };
                read_tree(&plan, cid, String::new(), Expect::Directory, &mut out).await?;
                Ok(out)
            })
        })();
        run("getDirectory", made)
    }

    /// A directory's entries, read and verified.
    #[wasm_bindgen(unchecked_return_type = "Promise<IpfsEntry[]>")]
    pub fn ls(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "SourceOptions")] options: Option<JsValue>,
    ) -> Promise {
        let made = (|| {
            let plan = self.inner.plan("ls", opts(options)?)?;
            let mut walk = Walk::new("ls", &cid, Expect::Directory, plan)?;
            Ok(async move {
                let (_, dir) = drain(&mut walk).await?;
                Ok(dir
                    .into_iter()
                    .map(|e| IpfsEntry {
                        name: e.name,
                        cid: cid::text(&e.cid),
                        size: e.size as f64,
                    })
                    .collect::<Vec<_>>())
            })
        })();
        run("ls", made)
    }

    /// What Kubo's `files stat` says of a CID, read from its root block (verified), from the
    /// first source that has it.
    #[wasm_bindgen(unchecked_return_type = "Promise<IpfsStat>")]
    pub fn stat(
        &self,
        cid: String,
        #[wasm_bindgen(unchecked_optional_param_type = "SourceOptions")] options: Option<JsValue>,
    ) -> Promise {
        let made = (|| {
            let plan = self.inner.plan("stat", opts(options)?)?;
            let parsed = parse(&cid)?;
            Ok(async move {
                let mut attempts = Vec::new();
                for source in plan.sources.iter() {
                    let got = match source.block(&cid, &plan.opts).await {
                        Ok(bytes) => sandrun_ipfs::Block::verify(parsed, bytes)
                            .map_err(|e| IpfsAttempt::from_content(source.url(), &e)),
                        Err(e) if e.code == Code::Cancelled => return Err(e),
                        Err(e) => Err(IpfsAttempt::from_error(source.url(), &e)),
                    };
                    let attempt = match got {
                        Ok(block) => {
                            let s = sandrun_ipfs::stat(&block)
                                .map_err(|e| failure::content_error("stat", &cid, &e))?;
                            plan.report(&mut attempts, IpfsAttempt::ok(source.url()));
                            return Ok(IpfsStat {
                                cid,
                                kind: s.kind.into(),
                                size: s.size as f64,
                                cumulative_size: s.cumulative_size as f64,
                                blocks: s.blocks as f64,
                            });
                        }
                        Err(attempt) => attempt,
                    };
                    plan.report(&mut attempts, attempt);
                }
                Err(exhausted("stat", &cid, Some(&cid), &attempts))
            })
        })();
        run("stat", made)
    }

    /// Asks each configured place at once: the node's version, each gateway for a block it can
    /// always serve, each pinning service for one pin (which also checks the token).
    #[wasm_bindgen(unchecked_return_type = "Promise<IpfsHealth>")]
    pub fn health(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "CallOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let made = (|| {
            let o: CallOptions = opts(options)?;
            let call = inner.call("health", o.timeout_ms, o.signal)?;
            Ok(async move {
                let node: Vec<Task<SourceHealth>> = inner
                    .node
                    .iter()
                    .map(|node| -> Task<SourceHealth> {
                        Box::pin(probe(node.url(), async {
                            node.version(&call).await.map(Some)
                        }))
                    })
                    .collect();
                let gateways = inner.sources.iter().filter_map(|source| match source {
                    Source::Gateway(g) => Some(g),
                    Source::Node(_) => None,
                });
                let gateways: Vec<Task<SourceHealth>> = gateways
                    .map(|g| -> Task<SourceHealth> {
                        Box::pin(probe(g.url(), async {
                            // The identity CID of no bytes: any gateway serves it from the CID
                            // alone, without storage or network.
                            let path = "/ipfs/bafkqaaa?format=raw";
                            let mut res = g.open("ipfs.health", "GET", path, None, &call).await?;
                            read_to_end(&mut res, 1024).await.map(|_| None)
                        }))
                    })
                    .collect();
                let pinning: Vec<Task<SourceHealth>> = inner
                    .services
                    .iter()
                    .map(|service| -> Task<SourceHealth> {
                        Box::pin(probe(service.url(), async {
                            let one = Query {
                                status: vec!["pinned".into()],
                                limit: Some(1),
                                ..Query::default()
                            };
                            service.list(&one, &call).await.map(|_| None)
                        }))
                    })
                    .collect();
                let node = all(node).await.pop();
                let gateways = all(gateways).await;
                let pinning = all(pinning).await;
                let readable = node.iter().chain(&gateways).any(|h| h.status == "up");
                let everything = node
                    .iter()
                    .chain(&gateways)
                    .chain(&pinning)
                    .all(|h| h.status == "up");
                let status = match (readable, everything) {
                    (false, _) => "down",
                    (true, true) => "up",
                    (true, false) => "degraded",
                };
                Ok(IpfsHealth {
                    status: status.into(),
                    node,
                    gateways,
                    pinning,
                })
            })
        })();
        run("health", made)
    }
}

/// One place's answer to a health probe, timed.
async fn probe(url: &str, asked: impl Future<Output = Result<Option<String>>>) -> SourceHealth {
    let start = now_ms();
    let answer = asked.await;
    SourceHealth {
        url: url.to_string(),
        status: if answer.is_ok() { "up" } else { "down" }.into(),
        latency_ms: now_ms() - start,
        error: answer.as_ref().err().map(|e| e.message.clone()),
        version: answer.ok().flatten(),
    }
}
