//! The job as data: what the builder collected, its plain-JSON view (`toSpec()`), validation
//! against the worker's rules, and resolution into bytes and a manifest ready to package.

use super::boundary::error::{FieldProblem, Result, SdkError};
use super::boundary::js::num;
use sandrun_protocol::manifest::{check_path, implied_interpreter, Manifest, DEFAULT_ENTRYPOINTS};
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// Where a file's bytes come from; read only at `submit()`.
#[derive(Clone)]
pub enum FileSource {
    Bytes(Rc<[u8]>),
    /// A `Blob`/`File`, read when the job is submitted.
    Blob(JsValue),
}

/// GPU request. Kept in the spec for schedulers that honour it; the Sandrun worker ignores it.
/// Unset fields are left out, not null: this is the user's own request echoed back.
#[derive(Debug, Clone, PartialEq, sandrun_derive::ToJs)]
pub struct GpuSpec {
    /// e.g. `"A100"`.
    #[js(name = "type", optional)]
    pub kind: Option<String>,
    /// GPU memory in GB.
    #[js(optional)]
    pub memory: Option<f64>,
    #[js(optional)]
    pub count: Option<f64>,
}

/// Everything the builder collected. Cheap to clone: file bytes are shared.
#[derive(Clone, Default)]
pub struct JobDraft {
    pub files: SortedMap<FileSource>,
    /// Node folders to read at submit, with the prefix they go under.
    pub directories: Vec<(String, String)>,
    pub entrypoint: Option<String>,
    pub interpreter: Option<String>,
    pub environment: Option<String>,
    pub args: Vec<String>,
    pub outputs: Vec<String>,
    pub env: SortedMap<String>,
    pub timeout_ms: Option<f64>,
    pub memory_mb: Option<f64>,
    pub gpu: Option<GpuSpec>,
    pub signal: Option<JsValue>,
    /// Problems found while building (a wrong type passed to a method), reported by `validate()`.
    pub problems: Vec<FieldProblem>,
}

/// `toSpec()`: the job as plain JSON.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct JobSpec {
    pub entrypoint: Option<String>,
    /// The interpreter the worker will use (`python3` unless set or implied by the entrypoint).
    pub interpreter: String,
    pub environment: Option<String>,
    pub args: Vec<String>,
    pub outputs: Vec<String>,
    /// Environment variables (not applied by the Sandrun worker; kept for schedulers that do).
    pub env: SortedMap<String>,
    pub timeout_ms: Option<f64>,
    pub memory_mb: Option<f64>,
    pub gpu: Option<GpuSpec>,
    pub files: Vec<SpecFile>,
    pub directories: Vec<String>,
}

#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct SpecFile {
    pub path: String,
    /// Size in bytes; `null` for a Blob not read yet.
    pub size: Option<f64>,
    /// Where the bytes come from.
    #[js(ts = "'bytes' | 'blob'")]
    pub source: &'static str,
}

/// `validate()`: every problem at once.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct ValidationReport {
    pub ok: bool,
    pub errors: Vec<FieldProblem>,
}

/// The largest request the worker takes (headers + body); larger gets a 413.
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

impl JobDraft {
    pub fn file_names(&self) -> impl Iterator<Item = &String> {
        self.files.keys()
    }

    /// The entrypoint, named or found among the worker's defaults.
    pub fn effective_entrypoint(&self) -> Option<String> {
        self.entrypoint.clone().or_else(|| {
            DEFAULT_ENTRYPOINTS
                .iter()
                .find(|d| self.files.contains_key(d))
                .map(|d| d.to_string())
        })
    }

    pub fn manifest(&self) -> Option<Manifest> {
        let entrypoint = self.effective_entrypoint()?;
        let interpreter = self.interpreter.clone().or_else(|| {
            implied_interpreter(&entrypoint)
                .filter(|i| *i != "python3")
                .map(String::from)
        });
        Some(Manifest {
            entrypoint,
            interpreter,
            environment: self.environment.clone(),
            args: self.args.clone(),
            outputs: self.outputs.clone(),
        })
    }

    pub fn to_spec(&self) -> JobSpec {
        let manifest = self.manifest();
        JobSpec {
            entrypoint: manifest.as_ref().map(|m| m.entrypoint.clone()),
            interpreter: manifest
                .as_ref()
                .map(|m| m.effective_interpreter().to_string())
                .unwrap_or_else(|| "python3".into()),
            environment: self.environment.clone(),
            args: self.args.clone(),
            outputs: self.outputs.clone(),
            env: self.env.clone(),
            timeout_ms: self.timeout_ms,
            memory_mb: self.memory_mb,
            gpu: self.gpu.clone(),
            files: self
                .files
                .iter()
                .map(|(path, src)| match src {
                    FileSource::Bytes(b) => SpecFile {
                        path: path.clone(),
                        size: Some(b.len() as f64),
                        source: "bytes",
                    },
                    FileSource::Blob(_) => SpecFile {
                        path: path.clone(),
                        size: None,
                        source: "blob",
                    },
                })
                .collect(),
            directories: self.directories.iter().map(|(d, _)| d.clone()).collect(),
        }
    }

    /// Every problem that can be seen without reading files. With `complete`, the file list is
    /// final (folders already read) so a missing entrypoint is an error too.
    pub fn problems(&self, complete: bool) -> Vec<FieldProblem> {
        let mut out = self.problems.clone();
        fn add(
            out: &mut Vec<FieldProblem>,
            r: std::result::Result<(), sandrun_protocol::manifest::FieldError>,
        ) {
            if let Err(e) = r {
                out.push(FieldProblem {
                    field: e.field,
                    message: e.problem,
                });
            }
        }
        for path in self.files.keys() {
            add(&mut out, check_path(&format!("files[\"{path}\"]"), path));
        }
        match self.manifest() {
            Some(m) => {
                add(&mut out, m.validate());
                let pending = !complete && !self.directories.is_empty();
                if !self.files.contains_key(&m.entrypoint) && !pending {
                    let known: Vec<&str> = self.files.keys().map(String::as_str).take(10).collect();
                    out.push(FieldProblem {
                        field: "entrypoint".into(),
                        message: format!(
                            "\"{}\" is not among the job's files ({}); add it with .file() or .code(), or name another",
                            m.entrypoint,
                            if known.is_empty() { "none yet".to_string() } else { known.join(", ") }
                        ),
                    });
                }
            }
            None if self.files.is_empty() && self.directories.is_empty() => out.push(FieldProblem {
                field: "files".into(),
                message: "the job has no files; add code with .code(), .file(), .files() or .directory()".into(),
            }),
            None if complete || self.directories.is_empty() => out.push(FieldProblem {
                field: "entrypoint".into(),
                message: "not set, and none of main.py, index.js or run.sh is among the files; call .entrypoint(path)".into(),
            }),
            None => {}
        }
        for (k, _) in &self.env {
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push(FieldProblem {
                    field: format!("env[\"{k}\"]"),
                    message: "names must be letters, digits and '_'".into(),
                });
            }
        }
        for (field, v) in [("timeout", self.timeout_ms), ("memory", self.memory_mb)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    out.push(FieldProblem {
                        field: field.into(),
                        message: format!("must be a positive number, got {}", num(v)),
                    });
                }
            }
        }
        if let Some(g) = &self.gpu {
            for (field, v) in [("gpu.memory", g.memory), ("gpu.count", g.count)] {
                if let Some(v) = v {
                    if !(v.is_finite() && v > 0.0) {
                        out.push(FieldProblem {
                            field: field.into(),
                            message: format!("must be a positive number, got {}", num(v)),
                        });
                    }
                }
            }
            if let Some(t) = &g.kind {
                add(
                    &mut out,
                    sandrun_protocol::manifest::check_text("gpu.type", t),
                );
            }
        }
        out
    }

    pub fn report(&self) -> ValidationReport {
        let errors = self.problems(false);
        ValidationReport {
            ok: errors.is_empty(),
            errors,
        }
    }
}

/// A job ready to package: every file read, every rule checked.
pub struct ResolvedJob {
    pub files: SortedMap<Vec<u8>>,
    pub manifest: Manifest,
}

impl ResolvedJob {
    /// Checks the final file list (after folders and Blobs were read).
    pub fn check(draft: &JobDraft, files: SortedMap<Vec<u8>>) -> Result<ResolvedJob> {
        let mut full = draft.clone();
        full.files = files
            .iter()
            .map(|(k, v)| (k.clone(), FileSource::Bytes(Rc::from(v.as_slice()))))
            .collect();
        full.directories.clear();
        let problems = full.problems(true);
        if !problems.is_empty() {
            return Err(SdkError::validation(problems).op("submit"));
        }
        let total: usize = files.values().map(Vec::len).sum();
        if total > MAX_REQUEST_BYTES {
            return Err(SdkError::field(
                "files",
                format!("the job's files add up to {total} bytes; the worker refuses requests over 100 MiB"),
            )
            .op("submit"));
        }
        let manifest = full
            .manifest()
            .ok_or_else(|| SdkError::field("entrypoint", "not set"))?;
        Ok(ResolvedJob { files, manifest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> FileSource {
        FileSource::Bytes(Rc::from(s.as_bytes()))
    }

    fn draft() -> JobDraft {
        let mut d = JobDraft::default();
        d.files.insert("main.py".into(), bytes("print(1)"));
        d
    }

    #[test]
    fn default_entrypoint_and_interpreter() {
        let d = draft();
        assert!(d.report().ok);
        let m = d.manifest().unwrap();
        assert_eq!(
            (m.entrypoint.as_str(), m.interpreter.as_deref()),
            ("main.py", None)
        );
        let mut d = JobDraft::default();
        d.files.insert("index.js".into(), bytes("1"));
        assert_eq!(d.manifest().unwrap().interpreter.as_deref(), Some("node"));
    }

    #[test]
    fn reports_everything_wrong_at_once() {
        let mut d = draft();
        d.entrypoint = Some("missing.py".into());
        d.args = vec!["ok".into(), "bad\"quote".into()];
        d.files.insert("../evil".into(), bytes("x"));
        d.timeout_ms = Some(-5.0);
        let r = d.report();
        assert!(!r.ok);
        let fields: Vec<&str> = r.errors.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["files[\"../evil\"]", "args[1]", "entrypoint", "timeout"]
        );
        assert!(r.errors[2].message.contains("missing.py"));
    }

    #[test]
    fn empty_job() {
        let r = JobDraft::default().report();
        assert_eq!(r.errors[0].field, "files");
    }

    #[test]
    fn pending_directory_defers_the_entrypoint_check() {
        let mut d = JobDraft::default();
        d.directories.push(("./job".into(), String::new()));
        d.entrypoint = Some("main.py".into());
        assert!(d.problems(false).is_empty());
        assert_eq!(d.problems(true)[0].field, "entrypoint");
    }

    #[test]
    fn resolved_job_checks_size_and_entrypoint() {
        let d = draft();
        let mut files = SortedMap::new();
        files.insert("main.py".to_string(), b"print(1)".to_vec());
        assert!(ResolvedJob::check(&d, files).is_ok());
        let e = ResolvedJob::check(&d, SortedMap::new()).err().unwrap();
        assert_eq!(e.code, crate::core::boundary::error::Code::Validation);
    }
}
