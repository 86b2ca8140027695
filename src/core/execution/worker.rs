//! A job on one worker: its status polled until it ends, its outputs downloaded and checked
//! against the signed hashes, its result verified.

use super::result::{outputs_of, CancelResult, JobResult, OutputInfo, WaitOptions};
use super::watch::{Seen, Watcher};
use super::Execution;
use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::ToJs;
use crate::core::boundary::platform;
use crate::core::boundary::webcrypto::sha256_hex;
use crate::core::client::Client;
use crate::core::transport::{CallOpts, Fut};
use crate::core::verify::{self, Evidence, VerificationReport, VerifyOptions};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{is_terminal, StatusBody};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

#[derive(Default)]
pub struct WorkerState {
    /// `%g` CPU figures from the stream's `[DONE]` line (`%f`), which pin the signed one.
    pub cpu_fixed: Vec<String>,
    pub cancelled: bool,
    /// Outputs downloaded so far and whether their bytes matched the signed hash.
    pub checked: SortedMap<bool>,
}

pub struct WorkerExecution {
    pub client: Rc<Client>,
    pub id: String,
    /// The job hash computed before submission (`None` for a re-attached job).
    pub expected_hash: Option<String>,
    pub signal: Option<JsValue>,
    /// The last status seen (shared with the watcher while the SDK waits).
    pub seen: Seen,
    pub state: RefCell<WorkerState>,
}

thread_local! {
    /// Executions alive on the Rust side: `bench/scale.mjs` checks that every one is released
    /// once JS drops its handles.
    static LIVE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How many job executions the Rust side holds now.
pub fn live() -> u32 {
    LIVE.with(|l| l.get())
}

impl Drop for WorkerExecution {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get().saturating_sub(1)));
    }
}

impl WorkerExecution {
    pub fn new(
        client: Rc<Client>,
        id: String,
        expected_hash: Option<String>,
        signal: Option<JsValue>,
        status: Option<StatusBody>,
    ) -> Rc<Self> {
        LIVE.with(|l| l.set(l.get() + 1));
        Rc::new(WorkerExecution {
            client,
            id,
            expected_hash,
            signal,
            seen: Rc::new(RefCell::new(status)),
            state: RefCell::new(WorkerState::default()),
        })
    }

    pub fn opts(&self, timeout_ms: Option<f64>, signal: Option<&JsValue>) -> CallOpts {
        CallOpts {
            timeout_ms,
            signal: signal.or(self.signal.as_ref()).cloned(),
            job_id: Some(self.id.clone()),
            ..Default::default()
        }
    }

    pub fn last_status(&self) -> Option<StatusBody> {
        self.seen.borrow().clone()
    }

    fn terminal(&self) -> Option<StatusBody> {
        self.last_status().filter(|s| is_terminal(&s.status))
    }

    fn failed(&self, code: Code, message: String) -> SdkError {
        SdkError::new(code, message).job(&self.id).op("wait")
    }

    /// Waits until the job ends, through its worker's watcher (one for all the jobs of a worker:
    /// `watch.rs`). The real worker holds each status poll until its running job ends; the
    /// watcher gives a poll the rest of the longest wait as its timeout.
    pub async fn wait_terminal(
        &self,
        timeout_ms: Option<f64>,
        signal: Option<&JsValue>,
    ) -> Result<StatusBody> {
        if let Some(s) = self.terminal() {
            return Ok(s);
        }
        if self.state.borrow().cancelled {
            return Err(self.failed(Code::Cancelled, "the job was cancelled".into()));
        }
        let signal = signal.or(self.signal.as_ref());
        if platform::aborted(signal) {
            return Err(self.failed(Code::Cancelled, "wait was aborted".into()));
        }
        let timeout = timeout_ms.unwrap_or(self.client.config.timeout_ms);
        let s = Watcher::of(&self.client)
            .wait(
                &self.client.http,
                &self.id,
                timeout,
                signal.cloned(),
                self.seen.clone(),
            )
            .await?;
        *self.seen.borrow_mut() = Some(s.clone());
        Ok(s)
    }

    /// Verifies the (ended) job's result; with `download_outputs`, downloads every output first.
    pub async fn check(&self, download_outputs: bool) -> Result<VerificationReport> {
        let status = self.wait_terminal(None, None).await?;
        let mut unreadable = Vec::new();
        if download_outputs {
            for path in status.output_files.keys() {
                if let Err(e) = self.download_checked(path).await {
                    if e.code != Code::Verification {
                        unreadable.push(format!(
                            "{path}: could not be downloaded to check ({})",
                            e.message
                        ));
                    }
                }
            }
        }
        let (cpu_pins, checked) = {
            let st = self.state.borrow();
            (st.cpu_fixed.clone(), st.checked.clone())
        };
        let evidence = Evidence {
            job_id: &self.id,
            status: &status,
            expected_hash: self.expected_hash.as_deref(),
            trusted_workers: &self.client.config.trusted_workers,
            cpu_pins,
            checked: &checked,
            unreadable,
        };
        verify::verify(&evidence, verify::port()).await
    }

    /// Downloads one output and checks its bytes against the signed sha256.
    pub async fn download_checked(&self, path: &str) -> Result<Vec<u8>> {
        actions::download::check(&self.id, path)?;
        let status = self.wait_terminal(None, None).await?;
        let Some(expected) = status.output_files.get(path) else {
            let known: Vec<&str> = status.output_files.keys().map(String::as_str).collect();
            return Err(SdkError::new(
                Code::NotFound,
                format!(
                    "\"{path}\" is not an output of job {} (outputs: {})",
                    self.id,
                    known.join(", ")
                ),
            )
            .op("download")
            .job(&self.id));
        };
        let bytes =
            actions::download::download(&self.client.http, &self.id, path, &self.opts(None, None))
                .await?;
        let actual = sha256_hex(&bytes).await?;
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
        Ok(bytes)
    }

    /// `requireVerified`: the result must verify, or `wait()` rejects with the report.
    pub async fn require_verified(&self, result: &mut JobResult) -> Result<()> {
        if !self.client.config.require_verified {
            return Ok(());
        }
        let report = self.check(false).await?;
        if !report.ok {
            return Err(SdkError::new(
                Code::Verification,
                format!(
                    "job {}'s result failed verification: {}",
                    self.id,
                    report
                        .problems
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
            .job(&self.id)
            .op("wait")
            .with_report(report.to_js()));
        }
        result.verification = Some(report);
        Ok(())
    }
}

impl Execution for WorkerExecution {
    fn id(&self) -> String {
        self.id.clone()
    }

    fn status(&self) -> String {
        let st = self.state.borrow();
        if st.cancelled {
            return "cancelled".into();
        }
        self.seen
            .borrow()
            .as_ref()
            .map(|s| s.status.clone())
            .unwrap_or_else(|| "queued".into())
    }

    fn job_hash(&self) -> Option<String> {
        self.expected_hash.clone()
    }

    fn client(&self) -> Rc<Client> {
        self.client.clone()
    }

    fn wait(&self, opts: WaitOptions) -> Fut<'_, Result<JobResult>> {
        Box::pin(async move {
            let status = self
                .wait_terminal(opts.timeout_ms, opts.signal.as_ref())
                .await?;
            let mut result = JobResult::from_status(&self.id, &status);
            self.require_verified(&mut result).await?;
            Ok(result)
        })
    }

    fn refresh(&self) -> Fut<'_, Result<String>> {
        Box::pin(async move {
            let opts = self.opts(Some(self.client.config.timeout_ms), None);
            let s = actions::status::status(&self.client.http, &self.id, &opts).await?;
            let status = s.status.clone();
            *self.seen.borrow_mut() = Some(s);
            Ok(status)
        })
    }

    fn outputs(&self) -> Fut<'_, Result<SortedMap<OutputInfo>>> {
        Box::pin(async move { Ok(outputs_of(&self.wait_terminal(None, None).await?)) })
    }

    fn download<'a>(&'a self, path: &'a str) -> Fut<'a, Result<Vec<u8>>> {
        Box::pin(self.download_checked(path))
    }

    fn cancel(&self) -> Fut<'_, Result<CancelResult>> {
        Box::pin(async move {
            let res =
                actions::cancel::cancel(&self.client.http, &self.id, &self.opts(None, None)).await;
            self.state.borrow_mut().cancelled = true;
            Ok(match res {
                Ok(()) => CancelResult {
                    stopped_on_server: true,
                    message: format!("job {} was stopped", self.id),
                },
                Err(e) => CancelResult {
                    stopped_on_server: false,
                    message: format!("the worker could not cancel job {} ({}); the SDK stopped watching it, and it may still run", self.id, e.message),
                },
            })
        })
    }

    fn verify(&self, opts: VerifyOptions) -> Fut<'_, Result<VerificationReport>> {
        Box::pin(self.check(opts.download_outputs.unwrap_or(false)))
    }

    fn log_source(self: Rc<Self>) -> Fut<'static, Result<Rc<WorkerExecution>>> {
        Box::pin(async move { Ok(self) })
    }
}
