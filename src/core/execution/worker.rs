//! A job on one worker: its status polled until it ends, its outputs downloaded and checked
//! against the signed hashes, its result verified.

use super::result::{outputs_of, CancelResult, JobResult, OutputInfo, WaitOptions};
use super::Execution;
use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{num, ToJs};
use crate::core::boundary::platform;
use crate::core::boundary::webcrypto::sha256_hex;
use crate::core::client::Client;
use crate::core::transport::{CallOpts, Fut};
use crate::core::verify::{self, crypto::WebCrypto, Evidence, VerificationReport, VerifyOptions};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{is_terminal, StatusBody};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

#[derive(Default)]
pub struct WorkerState {
    pub last: Option<StatusBody>,
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
    pub state: RefCell<WorkerState>,
}

impl WorkerExecution {
    pub fn new(
        client: Rc<Client>,
        id: String,
        expected_hash: Option<String>,
        signal: Option<JsValue>,
        status: Option<StatusBody>,
    ) -> Rc<Self> {
        Rc::new(WorkerExecution {
            client,
            id,
            expected_hash,
            signal,
            state: RefCell::new(WorkerState {
                last: status,
                ..Default::default()
            }),
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
        self.state.borrow().last.clone()
    }

    fn terminal(&self) -> Option<StatusBody> {
        self.last_status().filter(|s| is_terminal(&s.status))
    }

    fn failed(&self, code: Code, message: String) -> SdkError {
        SdkError::new(code, message).job(&self.id).op("wait")
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
        let cfg = &self.client.config;
        let timeout = timeout_ms.unwrap_or(cfg.timeout_ms);
        let deadline = platform::now_ms() + timeout;
        let signal = signal.or(self.signal.as_ref());
        let mut failures = 0;
        loop {
            if self.state.borrow().cancelled {
                return Err(self.failed(Code::Cancelled, "the job was cancelled".into()));
            }
            if platform::aborted(signal) {
                return Err(self.failed(Code::Cancelled, "wait was aborted".into()));
            }
            let remaining = deadline - platform::now_ms();
            if remaining <= 0.0 {
                return Err(self.failed(
                    Code::Timeout,
                    format!("job {} did not finish within {} ms", self.id, num(timeout)),
                ));
            }
            let mut pause = cfg.poll_interval_ms;
            let polled = actions::status::status(
                &self.client.http,
                &self.id,
                &self.opts(Some(remaining), signal),
            )
            .await;
            match polled {
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
        verify::verify(&evidence, &WebCrypto).await
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
                    report.problems.join("; ")
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
        st.last
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
            self.state.borrow_mut().last = Some(s);
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
