//! `JobBuilder`: the fluent, immutable way to describe a job. Every method returns a new builder
//! and leaves the old one as it was, so a builder works as a template. Methods never throw:
//! problems are collected and reported by `validate()`, and `submit()` refuses to send a job
//! that has any.

use crate::client::Client;
use crate::convert::Reader;
use crate::error::{Code, FieldProblem, Result, SdkError};
use crate::execution::{ExecInner, Expected, JobExecution};
use crate::package::package;
use crate::platform;
use crate::spec::{FileSource, GpuSpec, JobDraft, ResolvedJob};
use crate::transport::{wire, CallOpts};
use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::StatusBody;
use std::rc::Rc;
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
pub struct JobBuilder {
    client: Rc<Client>,
    draft: JobDraft,
}

/// Options for `code()`.
#[derive(Debug, Clone, Default, Tsify)]
pub struct CodeOptions {
    /// The file name the code is stored under (default `main.py`).
    #[tsify(optional)]
    pub filename: Option<String>,
}

/// Options for `directory()`.
#[derive(Debug, Clone, Default, Tsify)]
pub struct DirectoryOptions {
    /// Put the folder's files under this path in the job (default: at the top).
    #[tsify(optional)]
    pub prefix: Option<String>,
}

/// A file's content, as JS gives it.
fn content(field: &str, v: &JsValue) -> std::result::Result<FileSource, FieldProblem> {
    if let Some(s) = v.as_string() {
        return Ok(FileSource::Bytes(Rc::from(s.into_bytes())));
    }
    if let Some(a) = v.dyn_ref::<Uint8Array>() {
        return Ok(FileSource::Bytes(Rc::from(a.to_vec())));
    }
    if v.is_instance_of::<ArrayBuffer>() {
        return Ok(FileSource::Bytes(Rc::from(Uint8Array::new(v).to_vec())));
    }
    if Reflect::get(v, &"arrayBuffer".into())
        .map(|f| f.is_function())
        .unwrap_or(false)
    {
        return Ok(FileSource::Blob(v.clone()));
    }
    Err(FieldProblem {
        field: field.to_string(),
        message: "must be a string, Uint8Array, ArrayBuffer or Blob".into(),
    })
}

/// Reads a one-string options object (`{ filename }`, `{ prefix }`), problems kept.
fn option_string(
    v: Option<JsValue>,
    what: &'static str,
    key: &str,
) -> (Option<String>, Vec<FieldProblem>) {
    let mut r = Reader::new(&v.unwrap_or(JsValue::UNDEFINED), what);
    r.only(&[key]);
    let value = r.string(key);
    (value, r.problems)
}

impl JobBuilder {
    pub fn new(client: Rc<Client>) -> JobBuilder {
        JobBuilder {
            client,
            draft: JobDraft::default(),
        }
    }

    fn edit(&self, f: impl FnOnce(&mut JobDraft)) -> JobBuilder {
        let mut draft = self.draft.clone();
        f(&mut draft);
        JobBuilder {
            client: self.client.clone(),
            draft,
        }
    }

    fn problem(&self, p: FieldProblem) -> JobBuilder {
        self.edit(|d| d.problems.push(p))
    }

    /// Reads every Blob and folder: the job's final files.
    async fn resolve_files(draft: &JobDraft) -> Result<SortedMap<Vec<u8>>> {
        let mut files = SortedMap::new();
        for (dir, prefix) in &draft.directories {
            for (rel, bytes) in platform::read_directory(dir).await? {
                files.insert(format!("{prefix}{rel}"), bytes);
            }
        }
        for (path, src) in &draft.files {
            let bytes = match src {
                FileSource::Bytes(b) => b.to_vec(),
                FileSource::Blob(blob) => platform::read_blob(blob).await.map_err(|e| {
                    SdkError::field(
                        format!("files[{path:?}]"),
                        format!("could not be read: {e}"),
                    )
                })?,
            };
            files.insert(path.clone(), bytes);
        }
        Ok(files)
    }

    pub(crate) async fn submit_inner(
        client: Rc<Client>,
        draft: JobDraft,
        on_progress: Option<js_sys::Function>,
    ) -> Result<JobExecution> {
        // Plugins: the job's pipeline, onInit / onBuild / onSubmit (which may change the spec).
        #[cfg(feature = "full")]
        let (client, draft) = crate::plugins::prepare_submit(client, draft).await?;
        let problems = draft.problems(false);
        if !problems.is_empty() {
            return Err(SdkError::validation(problems).op("submit"));
        }
        let files = Self::resolve_files(&draft)
            .await
            .map_err(|e| e.op("submit"))?;
        let job = ResolvedJob::check(&draft, files)?;
        let pkg = package(&job.files, &job.manifest);
        let multipart = pkg.multipart();
        #[cfg(feature = "full")]
        crate::consensus::require_pool(&draft)?;
        if platform::aborted(draft.signal.as_ref()) {
            return Err(
                SdkError::new(Code::Cancelled, "submit was aborted before sending").op("submit"),
            );
        }
        #[cfg(feature = "full")]
        if let Some(pool) = draft.pool.clone() {
            let (ct, body) = (&multipart.content_type, &multipart.body);
            return crate::pool::submit(pool, &draft, pkg.job_hash.clone(), ct, body).await;
        }
        let opts = CallOpts {
            signal: draft.signal.clone(),
            on_progress,
            ..Default::default()
        };
        let res = client
            .http
            .send(
                "submit",
                "POST",
                "/submit",
                Some((&multipart.content_type, &multipart.body)),
                &opts,
            )
            .await?;
        let answer = crate::transport::parse_value(&res.body)
            .map_err(String::from)
            .and_then(|v| Ok((wire::required(&v, "job_id")?, wire::string(&v, "status"))));
        let (job_id, job_status) = answer.map_err(|why| {
            SdkError::new(
                Code::Protocol,
                format!("submit: the worker's answer has no job id ({why})"),
            )
            .op("submit")
        })?;
        if job_id.is_empty()
            || !job_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(SdkError::new(
                Code::Protocol,
                format!(
                    "submit: the worker returned an unusable job id {:?}",
                    job_id
                ),
            )
            .op("submit"));
        }
        let status = StatusBody {
            job_id: job_id.clone(),
            status: job_status.unwrap_or_else(|| "queued".into()),
            queue_position: None,
            execution_metadata: None,
            job_hash: String::new(),
            output_files: Default::default(),
            worker_metadata: None,
        };
        let inner = ExecInner::new(
            client,
            job_id,
            Some(Expected {
                job_hash: pkg.job_hash,
            }),
            draft.signal.clone(),
            Some(status),
        );
        Ok(JobExecution { inner })
    }
}

#[wasm_bindgen]
impl JobBuilder {
    /// Adds source code as a file (default name `main.py`) and makes it the entrypoint unless
    /// one is set.
    pub fn code(
        &self,
        source: String,
        #[wasm_bindgen(unchecked_optional_param_type = "CodeOptions")] options: Option<JsValue>,
    ) -> JobBuilder {
        let (filename, problems) = option_string(options, "code options.", "filename");
        let name = filename.unwrap_or_else(|| "main.py".into());
        self.edit(|d| {
            d.problems.extend(problems);
            d.files.insert(
                name.clone(),
                FileSource::Bytes(Rc::from(source.into_bytes())),
            );
            d.entrypoint.get_or_insert(name);
        })
    }

    /// Adds one file: text, bytes or a Blob/File (read at submit).
    pub fn file(
        &self,
        name: String,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array | ArrayBuffer | Blob")] content: JsValue,
    ) -> JobBuilder {
        match self::content(&format!("files[{name:?}]"), &content) {
            Ok(src) => self.edit(|d| {
                d.files.insert(name, src);
            }),
            Err(p) => self.problem(p),
        }
    }

    /// Adds many files: an object or `Map` of path → content, or a `FileList`/array of `File`s
    /// (a picked folder keeps its inner paths, without the folder's own name).
    pub fn files(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "Record<string, string | Uint8Array | ArrayBuffer | Blob> | Map<string, string | Uint8Array | ArrayBuffer | Blob> | ArrayLike<File>"
        )]
        tree: JsValue,
    ) -> JobBuilder {
        let mut entries: Vec<(String, JsValue)> = Vec::new();
        let is_list = Array::is_array(&tree)
            || Reflect::get(&tree, &"item".into())
                .map(|f| f.is_function())
                .unwrap_or(false);
        if is_list {
            let files: Vec<JsValue> = Array::from(&tree).iter().collect();
            let rel: Vec<String> = files
                .iter()
                .map(|f| {
                    let get = |k: &str| {
                        Reflect::get(f, &k.into())
                            .ok()
                            .and_then(|v| v.as_string())
                            .filter(|s| !s.is_empty())
                    };
                    get("webkitRelativePath")
                        .or_else(|| get("name"))
                        .unwrap_or_default()
                })
                .collect();
            // A picked folder names every file "folder/…": drop the shared first segment.
            let first = rel
                .first()
                .and_then(|p| p.split_once('/'))
                .map(|(a, _)| a.to_string());
            let strip = first.filter(|f| rel.iter().all(|p| p.starts_with(&format!("{f}/"))));
            for (path, f) in rel.into_iter().zip(files) {
                let path = match &strip {
                    Some(s) => path[s.len() + 1..].to_string(),
                    None => path,
                };
                entries.push((path, f));
            }
        } else if let Some(map) = tree.dyn_ref::<js_sys::Map>() {
            map.for_each(&mut |v, k| entries.push((k.as_string().unwrap_or_default(), v)));
        } else if tree.is_object() {
            for pair in Object::entries(tree.unchecked_ref()).iter() {
                let pair = Array::from(&pair);
                entries.push((pair.get(0).as_string().unwrap_or_default(), pair.get(1)));
            }
        } else {
            return self.problem(FieldProblem {
                field: "files".into(),
                message: "must be an object or Map of path → content, or a list of Files".into(),
            });
        }
        let mut next = self.edit(|_| {});
        for (path, v) in entries {
            match content(&format!("files[{path:?}]"), &v) {
                Ok(src) => {
                    next.draft.files.insert(path, src);
                }
                Err(p) => next.draft.problems.push(p),
            }
        }
        next
    }

    /// Node: adds every file under a folder (read at submit).
    pub fn directory(
        &self,
        path: String,
        #[wasm_bindgen(unchecked_optional_param_type = "DirectoryOptions")] options: Option<
            JsValue,
        >,
    ) -> JobBuilder {
        let (prefix, problems) = option_string(options, "directory options.", "prefix");
        if let Some(p) = problems.into_iter().next() {
            return self.problem(p);
        }
        let prefix = prefix
            .map(|p| format!("{}/", p.trim_end_matches('/')))
            .unwrap_or_default();
        if !platform::has("readDirectory") {
            return self.problem(FieldProblem {
                field: format!("directory({path:?})"),
                message: "reading folders is available in Node.js only; in a browser pass Files to .files()".into(),
            });
        }
        self.edit(|d| d.directories.push((path, prefix)))
    }

    /// The file to run (relative path inside the job).
    pub fn entrypoint(&self, path: String) -> JobBuilder {
        self.edit(|d| d.entrypoint = Some(path))
    }

    /// The interpreter (`python3` by default, `node` for `.js`, `bash` for `.sh`).
    pub fn interpreter(&self, name: String) -> JobBuilder {
        self.edit(|d| d.interpreter = Some(name))
    }

    /// A worker environment template (see the worker's `/environments`).
    pub fn environment(&self, name: String) -> JobBuilder {
        self.edit(|d| d.environment = Some(name))
    }

    /// Command-line arguments. Numbers are sent as their decimal text.
    pub fn args(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadonlyArray<string | number>")] args: JsValue,
    ) -> JobBuilder {
        if !Array::is_array(&args) {
            return self.problem(FieldProblem {
                field: "args".into(),
                message: "must be an array of strings".into(),
            });
        }
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (i, a) in Array::from(&args).iter().enumerate() {
            match (a.as_string(), a.as_f64()) {
                (Some(s), _) => out.push(s),
                (None, Some(n)) if n.is_finite() => out.push(crate::convert::num(n)),
                _ => problems.push(FieldProblem {
                    field: format!("args[{i}]"),
                    message: "must be a string or a finite number".into(),
                }),
            }
        }
        self.edit(|d| {
            d.args = out;
            d.problems.extend(problems);
        })
    }

    /// Which files are results: `*`, an exact path, `*.ext`, `prefix*` or `prefix*suffix`.
    /// Without any, every file in the job folder (inputs too) is an output.
    pub fn outputs(&self, globs: Vec<String>) -> JobBuilder {
        self.edit(|d| d.outputs = globs)
    }

    /// Environment variables (kept in the spec; the Sandrun worker does not apply them).
    pub fn env(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] vars: JsValue,
    ) -> JobBuilder {
        let mut map = SortedMap::new();
        let mut problems = Vec::new();
        if vars.is_object() {
            for pair in Object::entries(vars.unchecked_ref()).iter() {
                let pair = Array::from(&pair);
                let k = pair.get(0).as_string().unwrap_or_default();
                match pair.get(1).as_string() {
                    Some(v) => {
                        map.insert(k, v);
                    }
                    None => problems.push(FieldProblem {
                        field: format!("env[{k:?}]"),
                        message: "must be a string".into(),
                    }),
                }
            }
        } else {
            problems.push(FieldProblem {
                field: "env".into(),
                message: "must be an object of name → string".into(),
            });
        }
        self.edit(|d| {
            d.env.extend(map);
            d.problems.extend(problems);
        })
    }

    /// Wall-time limit in ms (kept in the spec; the Sandrun worker applies its own limits).
    pub fn timeout(&self, ms: f64) -> JobBuilder {
        self.edit(|d| d.timeout_ms = Some(ms))
    }

    /// Memory limit in MB (kept in the spec; the Sandrun worker applies its own limits).
    pub fn memory(&self, mb: f64) -> JobBuilder {
        self.edit(|d| d.memory_mb = Some(mb))
    }

    /// GPU request `{ type, memory, count }` (kept in the spec; the Sandrun worker has no GPUs).
    pub fn gpu(
        &self,
        #[wasm_bindgen(unchecked_param_type = "GpuSpec")] gpu: JsValue,
    ) -> JobBuilder {
        let mut r = Reader::new(&gpu, "gpu.");
        r.only(&["type", "memory", "count"]);
        let g = GpuSpec {
            kind: r.string("type"),
            memory: r.number("memory"),
            count: r.number("count"),
        };
        let problems = r.problems;
        self.edit(|d| {
            d.gpu = Some(g);
            d.problems.extend(problems);
        })
    }

    /// An `AbortSignal` that cancels submission and every later wait of this job.
    pub fn signal(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AbortSignal")] signal: JsValue,
    ) -> JobBuilder {
        if Reflect::get(&signal, &"aborted".into())
            .map(|a| a.as_bool().is_none())
            .unwrap_or(true)
        {
            return self.problem(FieldProblem {
                field: "signal".into(),
                message: "must be an AbortSignal".into(),
            });
        }
        self.edit(|d| d.signal = Some(signal))
    }

    /// The job as plain JSON.
    #[wasm_bindgen(js_name = toSpec, unchecked_return_type = "JobSpec")]
    pub fn to_spec(&self) -> std::result::Result<JsValue, JsValue> {
        crate::convert::to_js_value(&self.draft.to_spec())
    }

    /// Every problem that would stop `submit()`, without sending anything.
    #[wasm_bindgen(unchecked_return_type = "ValidationReport")]
    pub fn validate(&self) -> std::result::Result<JsValue, JsValue> {
        crate::convert::to_js_value(&self.draft.report())
    }

    /// Validates, packages (deterministic tar.gz + manifest), computes the job hash and sends the
    /// job. `options.onProgress({ loaded, total })` follows the upload.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobExecution>")]
    pub fn submit(
        &self,
        #[wasm_bindgen(
            unchecked_optional_param_type = "{ onProgress?: (p: { loaded: number; total: number }) => void }"
        )]
        options: Option<Object>,
    ) -> Promise {
        let (client, draft) = (self.client.clone(), self.draft.clone());
        let on_progress = options
            .and_then(|o| Reflect::get(&o, &"onProgress".into()).ok())
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        future_to_promise(async move {
            JobBuilder::submit_inner(client, draft, on_progress)
                .await
                .map(JsValue::from)
                .map_err(SdkError::into_js)
        })
    }
}

/// Plugins, middleware, pools and consensus (feature `full`, `@sandrun/sdk/full`).
#[cfg(feature = "full")]
#[wasm_bindgen]
impl JobBuilder {
    /// Adds a plugin — an object with optional hooks (`onSubmit`, `onRequest`, `onResult`, …) —
    /// to this job only (see `Sandrun.use` for every job of a client).
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Plugin | BuiltinPlugin")] plugin: JsValue,
    ) -> JobBuilder {
        self.edit(|d| d.plugins.push(plugin))
    }

    /// Runs the job on n distinct workers of its pool and accepts the result k of them agree on:
    /// `'2-of-3'`, `'3-of-5'`, `{ k, n }` (k more than half of n). Needs `.with(pool)`.
    pub fn consensus(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConsensusStrategy")] strategy: JsValue,
    ) -> JobBuilder {
        match crate::consensus::Quorum::parse(&strategy) {
            Ok(q) => self.edit(|d| d.consensus = Some(q)),
            Err(message) => self.problem(FieldProblem {
                field: "consensus".into(),
                message,
            }),
        }
    }

    /// Attaches a pool (the job goes to its workers) or a middleware
    /// (`{ execute(next, context) }`, wrapped around every operation of the job).
    #[wasm_bindgen(js_name = "with")]
    pub fn with_(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] target: JsValue,
    ) -> JobBuilder {
        let mut next = self.edit(|_| {});
        if !crate::pool::attach(&mut next.draft, &target) {
            next.draft.middleware.push(target);
        }
        next
    }
}

/// The core build has no plugins, middleware, pools or consensus: the methods exist (the class
/// has the same shape as in `@sandrun/sdk/full`) and record a problem that names the full entry.
#[cfg(not(feature = "full"))]
#[wasm_bindgen]
impl JobBuilder {
    fn full_only(&self, field: &str, what: &str) -> JobBuilder {
        self.problem(FieldProblem {
            field: field.into(),
            message: crate::error::full_only_message(what),
        })
    }

    /// Plugins need the full SDK (`import … from '@sandrun/sdk/full'`): recorded as a problem.
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] plugin: JsValue,
    ) -> JobBuilder {
        let _ = plugin;
        self.full_only("use", "plugins")
    }

    /// Consensus needs the full SDK (`import … from '@sandrun/sdk/full'`): recorded as a problem.
    pub fn consensus(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | { k: number; n: number }")]
        strategy: JsValue,
    ) -> JobBuilder {
        let _ = strategy;
        self.full_only("consensus", "k-of-n consensus")
    }

    /// Pools and middleware need the full SDK (`import … from '@sandrun/sdk/full'`): recorded as
    /// a problem.
    #[wasm_bindgen(js_name = "with")]
    pub fn with_(
        &self,
        #[wasm_bindgen(unchecked_param_type = "object")] target: JsValue,
    ) -> JobBuilder {
        let _ = target;
        self.full_only("with", "pools and middleware")
    }
}
