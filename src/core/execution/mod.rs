//! A submitted job. `Execution` is what every kind of job does — one worker's (`worker.rs`), or
//! what extensions add (a coordinator's route, a k-of-n group, a market job) — and
//! `JobExecution` is the one handle JS holds, whatever is behind it.

mod assembler;
// Native only: proptest needs the OS's randomness.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod assembler_properties;
pub mod logs;
pub mod result;
pub mod watch;
pub mod worker;

pub use logs::LogStream;
pub use result::{CancelResult, JobResult, OutputInfo, WaitOptions};
pub use worker::WorkerExecution;

use super::boundary::error::{Code, Result, SdkError};
use super::boundary::js::ToJs;
use super::boundary::platform;
use super::boundary::promise::promise;
use super::boundary::reader::FromJs;
use super::client::Client;
use super::transport::Fut;
use super::verify::{VerificationReport, VerifyOptions};
use js_sys::{Object, Promise, Reflect, Uint8Array};
use sandrun_protocol::map::SortedMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub trait Execution {
    fn id(&self) -> String;
    /// The last status seen: `queued`, `running`, `completed`, `failed` or `cancelled`.
    fn status(&self) -> String;
    /// The job hash computed locally before submission (`None` for a re-attached job).
    fn job_hash(&self) -> Option<String>;
    /// The client whose hooks see the result.
    fn client(&self) -> Rc<Client>;
    fn wait(&self, opts: WaitOptions) -> Fut<'_, Result<JobResult>>;
    /// Fetches the status once; resolves with it.
    fn refresh(&self) -> Fut<'_, Result<String>>;
    fn outputs(&self) -> Fut<'_, Result<SortedMap<OutputInfo>>>;
    /// One output's bytes, checked against the hash that was signed (or agreed).
    fn download<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Vec<u8>>>;
    fn cancel(&self) -> Fut<'_, Result<CancelResult>>;
    fn verify(&self, opts: VerifyOptions) -> Fut<'_, Result<VerificationReport>>;
    /// The worker run whose logs `logs()` follows (a pool job's is known once it is placed).
    fn log_source(self: Rc<Self>) -> Fut<'static, Result<Rc<WorkerExecution>>>;
    /// The execution as its own type, for the layer that made it to add methods to
    /// `JobExecution` (the market's `on('progress')`); `None` for the core's.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// `logs()` is the package's JS (`js/api.js`): async iteration over `logStream()`.
#[wasm_bindgen(typescript_custom_section)]
const LOGS_TS: &'static str = r#"
export interface JobExecution {
    /**
     * The job's output as decoded text chunks: `for await (const chunk of exec.logs())`.
     * Live over the worker's stream while the job runs, from `/logs` after it ended; no chunk is
     * repeated. Leaving the loop early closes the stream. A pool or consensus job's logs are
     * its first member's run; a paid market job's are the first node's run (the run it announced
     * on chain, else the one its submitted result names), read from that node's worker.
     */
    logs(): AsyncIterableIterator<string>;
}
"#;

/// A job on a worker, a pool or the market. Also reachable later with `sandrun.execution(id)`.
#[wasm_bindgen]
pub struct JobExecution {
    inner: Rc<dyn Execution>,
}

impl JobExecution {
    pub fn new(inner: Rc<dyn Execution>) -> JobExecution {
        JobExecution { inner }
    }

    /// What is behind the handle (see `Execution::as_any`).
    pub fn execution(&self) -> &Rc<dyn Execution> {
        &self.inner
    }
}

#[wasm_bindgen]
impl JobExecution {
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id()
    }

    /// The last status seen: `queued`, `running`, `completed`, `failed` (or `cancelled`).
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.inner.status()
    }

    /// The job hash computed locally before submission (`undefined` for a re-attached job).
    #[wasm_bindgen(getter, js_name = jobHash)]
    pub fn job_hash(&self) -> Option<String> {
        self.inner.job_hash()
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
            let opts = WaitOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
                .map_err(|e| e.op("wait"))?;
            let result = inner.wait(opts).await?;
            let js = result.to_js();
            inner
                .client()
                .on_result(&result.id, &result.status, &js)
                .await?;
            Ok(js)
        })
    }

    /// Fetches the status once (the real worker may hold this until its running job ends).
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn refresh(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move { Ok(inner.refresh().await?.into()) })
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
        promise(async move { Ok(inner.outputs().await?.to_js()) })
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
            let out = Object::new();
            for path in inner.outputs().await?.keys() {
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
            let mut written = Vec::new();
            for path in inner.outputs().await?.keys() {
                let bytes = inner.download(path).await?;
                written.push(platform::write_file_inside(&dir, path, &bytes).await?);
            }
            Ok(written.to_js())
        })
    }

    /// Stops the job where the worker can (the dev node's `DELETE /jobs/{id}`); elsewhere stops
    /// watching it and says so. Either way `wait()` then rejects with a `CancelledError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<CancelResult>")]
    pub fn cancel(&self) -> Promise {
        let inner = self.inner.clone();
        promise(async move { Ok(inner.cancel().await?.to_js()) })
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
            let opts = VerifyOptions::from_js(&options.unwrap_or(JsValue::UNDEFINED))
                .map_err(|e| e.op("verify"))?;
            Ok(inner.verify(opts).await?.to_js())
        })
    }
}
