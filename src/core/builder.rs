//! `JobBuilder`: the fluent, immutable way to describe a job. Every method returns a new builder
//! and leaves the old one as it was, so a builder works as a template. Methods never throw:
//! problems are collected and reported by `validate()`, and `submit()` refuses to send a job
//! that has any. The builder only builds: `submit.rs` sends. Extensions add methods of their own
//! (`use`, `with`, `consensus`, …) that attach a `JobExtension`.

use super::boundary::error::FieldProblem;
use super::boundary::js::{entries, num, ToJs};
use super::boundary::platform;
use super::boundary::promise::promise;
use super::boundary::reader::Reader;
use super::client::Client;
use super::execution::JobExecution;
use super::extension::{attach, Extensions, JobExtension, SubmitOptions};
use super::spec::{FileSource, GpuSpec, JobDraft};
use js_sys::{Array, ArrayBuffer, Promise, Reflect, Uint8Array};
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct JobBuilder {
    client: Rc<Client>,
    draft: JobDraft,
    extensions: Extensions,
}

/// Options for `code()`.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "code options.")]
pub struct CodeOptions {
    /// The file name the code is stored under (default `main.py`).
    pub filename: Option<String>,
}

/// Options for `directory()`.
#[derive(Debug, Clone, Default, sandrun_derive::FromJs)]
#[js(context = "directory options.")]
pub struct DirectoryOptions {
    /// Put the folder's files under this path in the job (default: at the top).
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
    if crate::core::boundary::js::method(v, "arrayBuffer").is_some() {
        return Ok(FileSource::Blob(v.clone()));
    }
    Err(FieldProblem::new(
        field,
        "must be a string, Uint8Array, ArrayBuffer or Blob",
    ))
}

/// Reads an options object of type `T`; its problems are kept on the job.
fn options<T: super::boundary::reader::FromJs + Default>(
    v: Option<JsValue>,
) -> (T, Vec<FieldProblem>) {
    match T::from_js(&v.unwrap_or(JsValue::UNDEFINED)) {
        Ok(t) => (t, Vec::new()),
        Err(e) => (T::default(), e.context.errors),
    }
}

impl JobBuilder {
    pub fn new(client: Rc<Client>, extensions: Extensions) -> JobBuilder {
        JobBuilder {
            client,
            draft: JobDraft::default(),
            extensions,
        }
    }

    fn edit(&self, f: impl FnOnce(&mut JobDraft)) -> JobBuilder {
        let mut draft = self.draft.clone();
        f(&mut draft);
        JobBuilder {
            client: self.client.clone(),
            draft,
            extensions: self.extensions.clone(),
        }
    }

    /// A copy with a problem recorded (reported by `validate()` and `submit()`).
    pub fn problem(&self, p: FieldProblem) -> JobBuilder {
        self.edit(|d| d.problems.push(p))
    }

    /// A copy with `ext` attached (replacing one of its kind).
    pub fn with_extension(&self, ext: Rc<dyn JobExtension>) -> JobBuilder {
        JobBuilder {
            client: self.client.clone(),
            draft: self.draft.clone(),
            extensions: attach(&self.extensions, ext),
        }
    }

    pub fn extensions(&self) -> &[Rc<dyn JobExtension>] {
        &self.extensions
    }

    pub fn client(&self) -> &Rc<Client> {
        &self.client
    }

    pub fn draft(&self) -> &JobDraft {
        &self.draft
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
        let (o, problems) = self::options::<CodeOptions>(options);
        let name = o.filename.unwrap_or_else(|| "main.py".into());
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
        match self::content(&format!("files[\"{name}\"]"), &content) {
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
        let mut items: Vec<(String, JsValue)> = Vec::new();
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
                items.push((path, f));
            }
        } else if let Some(map) = tree.dyn_ref::<js_sys::Map>() {
            map.for_each(&mut |v, k| items.push((k.as_string().unwrap_or_default(), v)));
        } else if tree.is_object() {
            items.extend(entries(&tree));
        } else {
            return self.problem(FieldProblem::new(
                "files",
                "must be an object or Map of path → content, or a list of Files",
            ));
        }
        let mut next = self.edit(|_| {});
        for (path, v) in items {
            match content(&format!("files[\"{path}\"]"), &v) {
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
        let (o, problems) = self::options::<DirectoryOptions>(options);
        if let Some(p) = problems.into_iter().next() {
            return self.problem(p);
        }
        let prefix = o
            .prefix
            .map(|p| format!("{}/", p.trim_end_matches('/')))
            .unwrap_or_default();
        if !platform::has("readDirectory") {
            return self.problem(FieldProblem::new(
                format!("directory(\"{path}\")"),
                "reading folders is available in Node.js only; in a browser pass Files to .files()",
            ));
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
            return self.problem(FieldProblem::new("args", "must be an array of strings"));
        }
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (i, a) in Array::from(&args).iter().enumerate() {
            match (a.as_string(), a.as_f64()) {
                (Some(s), _) => out.push(s),
                (None, Some(n)) if n.is_finite() => out.push(num(n)),
                _ => problems.push(FieldProblem::new(
                    format!("args[{i}]"),
                    "must be a string or a finite number",
                )),
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
            for (k, v) in entries(&vars) {
                match v.as_string() {
                    Some(v) => {
                        map.insert(k, v);
                    }
                    None => problems.push(FieldProblem::new(
                        format!("env[\"{k}\"]"),
                        "must be a string",
                    )),
                }
            }
        } else {
            problems.push(FieldProblem::new(
                "env",
                "must be an object of name → string",
            ));
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
            return self.problem(FieldProblem::new("signal", "must be an AbortSignal"));
        }
        self.edit(|d| d.signal = Some(signal))
    }

    /// The job as plain JSON.
    #[wasm_bindgen(js_name = toSpec, unchecked_return_type = "JobSpec")]
    pub fn to_spec(&self) -> JsValue {
        self.draft.to_spec().to_js()
    }

    /// Every problem that would stop `submit()`, without sending anything.
    #[wasm_bindgen(unchecked_return_type = "ValidationReport")]
    pub fn validate(&self) -> JsValue {
        let mut report = self.draft.report();
        for e in self.extensions.iter() {
            report
                .errors
                .extend(e.problems(&self.draft, &self.extensions));
        }
        report.ok = report.errors.is_empty();
        report.to_js()
    }

    /// Validates, packages (deterministic tar.gz + manifest), computes the job hash and sends the
    /// job. `options.onProgress({ loaded, total })` follows the upload; the full build's market
    /// adds `options.onStage(event)` (a paid job's stages, live from `packaging`).
    #[wasm_bindgen(unchecked_return_type = "Promise<JobExecution>")]
    pub fn submit(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SubmitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let (client, draft, extensions) = (
            self.client.clone(),
            self.draft.clone(),
            self.extensions.clone(),
        );
        promise(async move {
            let o = SubmitOptions::read(&options.unwrap_or(JsValue::UNDEFINED))
                .map_err(|e| e.op("submit"))?;
            let exec = super::submit::submit(client, draft, &extensions, Some(o)).await?;
            Ok(JobExecution::new(exec).into())
        })
    }
}
