//! A submitted job: its status, logs, outputs and cancellation. `JobExecution` is the handle JS
//! holds; the state behind it is shared with its `LogStream`s.

mod assembler;
mod logs;

pub use logs::LogStream;

use crate::client::Client;
use crate::error::{Code, Result, SdkError};
use crate::transport::{wire, CallOpts};
use crate::{platform, verify};
use js_sys::{Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::hash::sha256_hex;
use sandrun_protocol::manifest::check_path;
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{is_terminal, StatusBody};
use std::cell::RefCell;
use std::rc::Rc;
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// What the SDK knows locally about a job it submitted.
pub struct Expected {
    pub job_hash: String,
}

#[derive(Default)]
pub struct ExecState {
    pub last: Option<StatusBody>,
    /// `%g` CPU figures from the stream's `[DONE]` line (`%f`), which pin the signed one.
    pub cpu_fixed: Vec<String>,
    pub cancelled: bool,
    /// Outputs downloaded so far and whether their bytes matched the signed hash.
    pub checked: SortedMap<bool>,
}

pub struct ExecInner {
    pub client: Rc<Client>,
    pub id: String,
    pub expected: Option<Expected>,
    pub signal: Option<JsValue>,
    pub state: RefCell<ExecState>,
    /// A pool job: its workers' executions (see `consensus::Group`).
    #[cfg(feature = "full")]
    pub group: std::cell::OnceCell<Rc<crate::consensus::Group>>,
}

/// A job on a worker. Also reachable later with `sandrun.execution(id)`.
#[wasm_bindgen]
pub struct JobExecution {
    pub(crate) inner: Rc<ExecInner>,
}

/// `wait()`'s answer.
#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct JobResult {
    pub id: String,
    /// `completed` (exit code 0) or `failed`.
    pub status: String,
    pub exit_code: Option<f64>,
    /// CPU seconds as `/status` shows them (two decimals).
    pub cpu_seconds: Option<f64>,
    pub memory_mb: Option<f64>,
    pub job_hash: String,
    /// Base64 Ed25519 public key of the worker; `null` for an anonymous worker.
    pub worker_id: Option<String>,
    /// The worker signed the result (`verify()` checks the signature).
    pub signed: bool,
    #[tsify(type = "Record<string, OutputInfo>")]
    pub outputs: SortedMap<OutputInfo>,
    /// Present when the client was created with `requireVerified: true`.
    #[tsify(optional)]
    pub verification: Option<verify::VerificationReport>,
    /// k-of-n consensus evidence (a job run with `.consensus()` on a pool).
    #[cfg(feature = "full")]
    #[tsify(optional)]
    pub consensus: Option<crate::consensus::ConsensusReport>,
    /// Where a pool job ran (worker, coordinator id).
    #[cfg(feature = "full")]
    #[tsify(optional)]
    pub route: Option<crate::pool::Route>,
}

#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct OutputInfo {
    pub size: f64,
    pub sha256: String,
    /// The worker's guess: `text`, `data`, `image`, …
    #[serde(rename = "type")]
    pub kind: String,
}

impl ToJs for JobResult {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("id", &self.id)
            .set("status", &self.status)
            .set("exitCode", &self.exit_code)
            .set("cpuSeconds", &self.cpu_seconds)
            .set("memoryMb", &self.memory_mb)
            .set("jobHash", &self.job_hash)
            .set("workerId", &self.worker_id)
            .set("signed", &self.signed)
            .set("outputs", &self.outputs);
        if let Some(v) = &self.verification {
            o.set("verification", v);
        }
        #[cfg(feature = "full")]
        if let Some(c) = &self.consensus {
            o.set("consensus", c);
        }
        #[cfg(feature = "full")]
        if let Some(r) = &self.route {
            o.set("route", r);
        }
        o.into()
    }
}

impl ToJs for OutputInfo {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("size", &self.size)
            .set("sha256", &self.sha256)
            .set("type", &self.kind);
        o.into()
    }
}

/// Options for `wait()`.
#[derive(Debug, Clone, Default, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct WaitOptions {
    /// Overrides the client's `timeoutMs` for this wait.
    #[tsify(optional)]
    pub timeout_ms: Option<f64>,
    /// An `AbortSignal`; aborting rejects the wait with a `CancelledError`.
    #[tsify(optional, type = "AbortSignal")]
    pub signal: Option<JsValue>,
}

impl WaitOptions {
    pub fn from_js(v: &JsValue) -> Result<WaitOptions> {
        let mut r = crate::convert::Reader::new(v, "wait options.");
        r.only(&["timeoutMs", "signal"]);
        let o = WaitOptions {
            timeout_ms: r.number("timeoutMs"),
            signal: r.value("signal"),
        };
        r.finish(o).map_err(|e| e.op("wait"))
    }
}

/// `cancel()`'s answer.
#[derive(Debug, Clone, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CancelResult {
    /// The worker stopped the job.
    pub stopped_on_server: bool,
    pub message: String,
}

impl ToJs for CancelResult {
    fn to_js(&self) -> JsValue {
        let o = Obj::new();
        o.set("stoppedOnServer", &self.stopped_on_server)
            .set("message", &self.message);
        o.into()
    }
}

impl ExecInner {
    pub fn new(
        client: Rc<Client>,
        id: String,
        expected: Option<Expected>,
        signal: Option<JsValue>,
        status: Option<StatusBody>,
    ) -> Rc<Self> {
        Rc::new(ExecInner {
            client,
            id,
            expected,
            signal,
            state: RefCell::new(ExecState {
                last: status,
                ..Default::default()
            }),
            #[cfg(feature = "full")]
            group: Default::default(),
        })
    }

    fn opts(&self, timeout_ms: Option<f64>, signal: Option<&JsValue>) -> CallOpts {
        CallOpts {
            timeout_ms,
            signal: signal.or(self.signal.as_ref()).cloned(),
            on_progress: None,
            job_id: Some(self.id.clone()),
        }
    }

    fn terminal(&self) -> Option<StatusBody> {
        self.state
            .borrow()
            .last
            .clone()
            .filter(|s| is_terminal(&s.status))
    }

    /// Polls `/status` until the job ends. Works when the worker holds each poll until the
    /// running job finishes (the real worker does): a poll may take up to the whole deadline.
    pub async fn wait_terminal(
        &self,
        timeout_ms: Option<f64>,
        signal: Option<&JsValue>,
    ) -> Result<StatusBody> {
        if let Some(s) = self.terminal() {
            return Ok(s);
        }
        #[cfg(feature = "full")]
        if let Some(g) = self.group.get() {
            return Box::pin(g.clone().settle()).await.map(|s| s.status);
        }
        let cfg = &self.client.config;
        let timeout = timeout_ms.unwrap_or(cfg.timeout_ms);
        let deadline = platform::now_ms() + timeout;
        let signal = signal.or(self.signal.as_ref());
        let mut failures = 0;
        loop {
            if self.state.borrow().cancelled {
                return Err(SdkError::new(Code::Cancelled, "the job was cancelled")
                    .job(&self.id)
                    .op("wait"));
            }
            if platform::aborted(signal) {
                return Err(SdkError::new(Code::Cancelled, "wait was aborted")
                    .job(&self.id)
                    .op("wait"));
            }
            let remaining = deadline - platform::now_ms();
            if remaining <= 0.0 {
                return Err(SdkError::new(
                    Code::Timeout,
                    format!(
                        "job {} did not finish within {} ms",
                        self.id,
                        crate::convert::num(timeout)
                    ),
                )
                .job(&self.id)
                .op("wait"));
            }
            let mut pause = cfg.poll_interval_ms;
            match self
                .client
                .http
                .get_json(
                    "status",
                    &format!("/status/{}", self.id),
                    &self.opts(Some(remaining), signal),
                    wire::status,
                )
                .await
            {
                Ok(s) if s.job_id != self.id => {
                    return Err(SdkError::new(
                        Code::Protocol,
                        format!(
                            "asked for job {} and got the status of {}",
                            self.id, s.job_id
                        ),
                    )
                    .job(&self.id)
                    .op("status"))
                }
                Ok(s) => {
                    failures = 0;
                    let done = is_terminal(&s.status);
                    self.state.borrow_mut().last = Some(s.clone());
                    if done {
                        return Ok(s);
                    }
                }
                Err(e) if e.code == Code::RateLimited => {
                    pause = e.context.retry_after_ms.unwrap_or(pause).max(pause);
                }
                Err(e) if e.retryable && e.code != Code::Timeout && failures < 5 => {
                    failures += 1;
                    pause *= failures as f64;
                }
                Err(e) if e.code == Code::Timeout => continue, // the deadline check above decides
                Err(e) => return Err(e),
            }
            let remaining = deadline - platform::now_ms();
            platform::sleep(pause.min(remaining.max(0.0)), signal)
                .await
                .map_err(|e| e.job(&self.id).op("wait"))?;
        }
    }

    pub fn result(&self, s: &StatusBody) -> JobResult {
        let meta = s.execution_metadata.as_ref();
        let worker = s.worker_metadata.as_ref();
        JobResult {
            id: self.id.clone(),
            status: s.status.clone(),
            exit_code: meta.map(|m| m.exit_code as f64),
            cpu_seconds: meta.map(|m| m.cpu_seconds),
            memory_mb: meta.map(|m| m.memory_peak_mb as f64),
            job_hash: s.job_hash.clone(),
            worker_id: worker.and_then(|w| w.worker_id.clone()),
            signed: worker.map(|w| w.signature.is_some()).unwrap_or(false),
            outputs: s
                .output_files
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        OutputInfo {
                            size: v.size_bytes as f64,
                            sha256: v.sha256.clone(),
                            kind: v.kind.clone(),
                        },
                    )
                })
                .collect(),
            verification: None,
            #[cfg(feature = "full")]
            consensus: None,
            #[cfg(feature = "full")]
            route: None,
        }
    }

    pub async fn wait(self: &Rc<Self>, opts: WaitOptions) -> Result<JobResult> {
        let status = self
            .wait_terminal(opts.timeout_ms, opts.signal.as_ref())
            .await?;
        let mut result = self.result(&status);
        #[cfg(feature = "full")]
        if let Some(g) = self.group.get() {
            g.decorate(&g.clone().settle().await?, &mut result);
        }
        if self.client.config.require_verified {
            let report = verify::verify(self, false).await?;
            if !report.ok {
                let js = crate::convert::to_js(&report).unwrap_or(JsValue::UNDEFINED);
                return Err(SdkError::new(
                    Code::Verification,
                    format!(
                        "job {}'s result failed verification: {}",
                        self.id,
                        report.problems.join("; ")
                    ),
                )
                .job(&self.id)
                .op("wait")
                .with_report(js));
            }
            result.verification = Some(report);
        }
        Ok(result)
    }

    /// Downloads one output and checks its bytes against the signed sha256.
    pub async fn download(&self, path: &str) -> Result<Vec<u8>> {
        #[cfg(feature = "full")]
        if let Some(g) = self.group.get() {
            return Box::pin(g.clone().download(path)).await;
        }
        // Never an empty path: `GET /download/{id}` returns the whole job folder and deletes the job.
        check_path("path", path).map_err(|e| SdkError::field(e.field, e.problem).op("download"))?;
        if path.contains(' ') {
            return Err(SdkError::new(
                Code::Unsupported,
                format!("{path:?}: the Sandrun worker cannot serve file names with spaces"),
            )
            .op("download")
            .job(&self.id));
        }
        let status = self.wait_terminal(None, None).await?;
        let Some(expected) = status.output_files.get(path) else {
            let known: Vec<&str> = status.output_files.keys().map(String::as_str).collect();
            return Err(SdkError::new(
                Code::NotFound,
                format!(
                    "{path:?} is not an output of job {} (outputs: {})",
                    self.id,
                    known.join(", ")
                ),
            )
            .op("download")
            .job(&self.id));
        };
        let res = self
            .client
            .http
            .send(
                "download",
                "GET",
                &format!("/download/{}/{}", self.id, path),
                None,
                &self.opts(None, None),
            )
            .await
            .map_err(|e| {
                // The real worker answers a missing file with 500.
                if e.context.status == Some(500) {
                    SdkError {
                        code: Code::NotFound,
                        retryable: false,
                        ..e
                    }
                } else {
                    e
                }
            })?;
        let actual = sha256_hex(&res.body);
        let ok = actual == expected.sha256;
        self.state.borrow_mut().checked.insert(path.to_string(), ok);
        if !ok {
            return Err(SdkError::new(
                Code::Verification,
                format!(
                    "{path}: downloaded bytes have sha256 {actual}, but the worker reported {}",
                    expected.sha256
                ),
            )
            .op("download")
            .job(&self.id));
        }
        Ok(res.body)
    }
}

use crate::convert::{to_js as ts, Obj, ToJs};

fn promise<F>(f: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue>> + 'static,
{
    future_to_promise(async move { f.await.map_err(SdkError::into_js) })
}

#[wasm_bindgen]
impl JobExecution {
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The last status seen: `queued`, `running`, `completed`, `failed` (or `cancelled`).
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        let st = self.inner.state.borrow();
        if st.cancelled {
            return "cancelled".into();
        }
        st.last
            .as_ref()
            .map(|s| s.status.clone())
            .unwrap_or_else(|| "queued".into())
    }

    /// The job hash computed locally before submission (`undefined` for a re-attached job).
    #[wasm_bindgen(getter, js_name = jobHash)]
    pub fn job_hash(&self) -> Option<String> {
        self.inner.expected.as_ref().map(|e| e.job_hash.clone())
    }

    /// Waits for the job to end; resolves with its result whatever the exit code (check
    /// `status`). Rejects on timeout, abort, cancellation, or — with `requireVerified` — a result
    /// that fails verification.
    #[wasm_bindgen(unchecked_return_type = "Promise<JobResult>")]
    pub fn wait(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "WaitOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let opts = WaitOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))?;
            let result = inner.wait(opts).await?;
            let js = ts(&result)?;
            #[cfg(feature = "full")]
            crate::plugins::on_result(&inner.client.http.pipeline, &inner.id, &result.status, &js)
                .await?;
            Ok(js)
        })
    }

    /// Fetches the status once (the real worker may hold this until its running job ends).
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn refresh(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let s: StatusBody = inner
                .client
                .http
                .get_json(
                    "status",
                    &format!("/status/{}", inner.id),
                    &inner.opts(Some(inner.client.config.timeout_ms), None),
                    wire::status,
                )
                .await?;
            let status = s.status.clone();
            inner.state.borrow_mut().last = Some(s);
            Ok(status.into())
        })
    }

    /// The job's log as it happens: iterate with `for await (const chunk of exec.logs())`.
    #[wasm_bindgen(js_name = logStream)]
    pub fn log_stream(&self) -> LogStream {
        LogStream::new(self.inner.clone())
    }

    /// The job's output files (after it ends): path → size, sha256, type.
    #[wasm_bindgen(unchecked_return_type = "Promise<Record<string, OutputInfo>>")]
    pub fn outputs(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let s = inner.wait_terminal(None, None).await?;
            ts(&inner.result(&s).outputs)
        })
    }

    /// One output file's bytes, checked against the sha256 the worker signed.
    #[wasm_bindgen(unchecked_return_type = "Promise<Uint8Array>")]
    pub fn download(&self, path: String) -> Promise {
        let inner = self.inner.clone();
        promise(async move { Ok(Uint8Array::from(inner.download(&path).await?.as_slice()).into()) })
    }

    /// Every output file: path → bytes, each checked.
    #[wasm_bindgen(js_name = downloadAll, unchecked_return_type = "Promise<Record<string, Uint8Array>>")]
    pub fn download_all(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let s = inner.wait_terminal(None, None).await?;
            let out = Object::new();
            for path in s.output_files.keys() {
                let bytes = inner.download(path).await?;
                let _ = Reflect::set(
                    &out,
                    &path.as_str().into(),
                    &Uint8Array::from(bytes.as_slice()),
                );
            }
            Ok(out.into())
        })
    }

    /// Node: writes every output under `dir` (refusing paths that would leave it); resolves with
    /// the written file paths.
    #[wasm_bindgen(js_name = downloadTo, unchecked_return_type = "Promise<string[]>")]
    pub fn download_to(&self, dir: String) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            if !platform::has("writeFileInside") {
                return Err(SdkError::new(Code::Unsupported, "downloadTo() writes files and is available in Node.js only; use downloadAll() in a browser").op("downloadTo"));
            }
            let s = inner.wait_terminal(None, None).await?;
            let written = js_sys::Array::new();
            for path in s.output_files.keys() {
                let bytes = inner.download(path).await?;
                written.push(
                    &platform::write_file_inside(&dir, path, &bytes)
                        .await?
                        .into(),
                );
            }
            Ok(written.into())
        })
    }

    /// Stops the job where the worker can (the dev node's `DELETE /jobs/{id}`); elsewhere stops
    /// watching it and says so. Either way `wait()` then rejects with a `CancelledError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<CancelResult>")]
    pub fn cancel(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let res = inner
                .client
                .http
                .send(
                    "cancel",
                    "DELETE",
                    &format!("/jobs/{}", inner.id),
                    None,
                    &inner.opts(None, None),
                )
                .await;
            inner.state.borrow_mut().cancelled = true;
            ts(&match res {
                Ok(_) => CancelResult { stopped_on_server: true, message: format!("job {} was stopped", inner.id) },
                Err(e) => CancelResult {
                    stopped_on_server: false,
                    message: format!("the worker could not cancel job {} ({}); the SDK stopped watching it, and it may still run", inner.id, e.message),
                },
            })
        })
    }

    /// Verifies the result: job hash, the worker's Ed25519 signature, trusted keys and (with
    /// `{ downloadOutputs: true }`, or for files already downloaded) output bytes.
    #[wasm_bindgen(unchecked_return_type = "Promise<VerificationReport>")]
    pub fn verify(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "VerifyOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let opts = verify::VerifyOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))?;
            ts(&verify::verify(&inner, opts.download_outputs.unwrap_or(false)).await?)
        })
    }
}
