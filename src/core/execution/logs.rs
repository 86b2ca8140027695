//! `LogStream`: the job's output as text chunks, live from the worker's WebSocket when it can,
//! otherwise (no stream, a broken one, a job that had already ended) from `/logs` once the job is
//! over. The assembler makes sure no byte is given twice.

use super::assembler::Assembler;
use super::watch::Watcher;
use super::worker::WorkerExecution;
use super::Execution;
use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::platform::Socket;
use crate::core::boundary::promise::promise;
use js_sys::Promise;
use sandrun_protocol::cpu;
use sandrun_protocol::status::is_terminal;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// How often a broken stream is reopened before falling back to `/logs`.
const RECONNECTS: u32 = 2;

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Start,
    Streaming,
    Fallback,
    End,
}

struct State {
    phase: Phase,
    asm: Assembler,
    queue: VecDeque<String>,
    socket: Option<Rc<Socket>>,
    reconnects: u32,
    /// The worker whose logs these are (a pool job's learns it when it is placed).
    source: Option<Rc<WorkerExecution>>,
}

/// Pull-based log reader; the package wraps it as an async iterator (`exec.logs()`).
#[wasm_bindgen]
pub struct LogStream {
    exec: Rc<dyn Execution>,
    st: Rc<RefCell<State>>,
}

impl LogStream {
    pub fn new(exec: Rc<dyn Execution>) -> LogStream {
        let st = State {
            phase: Phase::Start,
            asm: Assembler::default(),
            queue: VecDeque::new(),
            socket: None,
            reconnects: 0,
            source: None,
        };
        LogStream {
            exec,
            st: Rc::new(RefCell::new(st)),
        }
    }
}

fn ended(w: &WorkerExecution) -> bool {
    w.last_status()
        .map(|s| is_terminal(&s.status))
        .unwrap_or(false)
}

async fn next_chunk(exec: Rc<dyn Execution>, st: Rc<RefCell<State>>) -> Result<Option<String>> {
    loop {
        let (phase, source) = {
            let mut s = st.borrow_mut();
            if let Some(c) = s.queue.pop_front() {
                return Ok(Some(c));
            }
            (s.phase, s.source.clone())
        };
        if phase == Phase::End {
            return Ok(None);
        }
        let w = match source {
            Some(w) => w,
            None => {
                let w = exec.clone().log_source().await?;
                st.borrow_mut().source = Some(w.clone());
                w
            }
        };
        match phase {
            Phase::End => return Ok(None),
            Phase::Start => {
                if ended(&w) || !w.client.config.stream_logs {
                    st.borrow_mut().phase = Phase::Fallback;
                    continue;
                }
                let opened =
                    actions::stream::open(&w.client.http, &w.id, &w.opts(None, None)).await;
                let mut s = st.borrow_mut();
                match opened {
                    Ok(sock) => {
                        s.socket = Some(sock);
                        s.phase = Phase::Streaming;
                    }
                    Err(_) => s.phase = Phase::Fallback,
                }
            }
            Phase::Streaming => {
                let Some(sock) = st.borrow().socket.clone() else {
                    st.borrow_mut().phase = Phase::Fallback;
                    continue;
                };
                let got = sock.next().await;
                let mut s = st.borrow_mut();
                match got {
                    Ok(Some(frame)) => {
                        let chunks = s.asm.frame(&frame);
                        s.queue.extend(chunks.into_iter().filter(|c| !c.is_empty()));
                        if s.asm.attached_after_finish && !s.asm.saw_output {
                            // An ended job's stream replays its output (twice, on the real
                            // worker): read it once from /logs instead.
                            sock.close();
                            s.socket = None;
                            s.phase = Phase::Fallback;
                        } else if let Some(done) = &s.asm.done {
                            if let Some(fixed) = &done.cpu_fixed {
                                w.state.borrow_mut().cpu_fixed = cpu::from_fixed(fixed);
                            }
                            // The job ended: its waits need not wait for the next poll.
                            Watcher::of(&w.client).poke(&w.id);
                            sock.close();
                            s.socket = None;
                            s.phase = Phase::End;
                        } else if let Some(err) = s.asm.error.clone() {
                            sock.close();
                            s.socket = None;
                            s.phase = Phase::End;
                            if err.starts_with("Job not found") {
                                return Err(SdkError::new(
                                    Code::NotFound,
                                    format!("logs: the worker does not know job {}", w.id),
                                )
                                .job(&w.id)
                                .op("logs"));
                            }
                            s.phase = Phase::Fallback;
                        }
                    }
                    // Ended without [DONE], or broke (a browser fails the socket with 1007 on
                    // invalid UTF-8): reopen, then fall back.
                    Ok(None) | Err(_) => {
                        sock.close();
                        s.socket = None;
                        if s.reconnects < RECONNECTS && !ended(&w) {
                            s.reconnects += 1;
                            s.asm.restart();
                            s.phase = Phase::Start;
                        } else {
                            s.phase = Phase::Fallback;
                        }
                    }
                }
            }
            Phase::Fallback => {
                w.wait_terminal(None, None).await?;
                let logs = actions::logs::logs(&w.client.http, &w.id, &w.opts(None, None)).await?;
                let mut s = st.borrow_mut();
                let chunks = s.asm.full(&logs.stdout, &logs.stderr);
                s.queue.extend(chunks.into_iter().filter(|c| !c.is_empty()));
                s.phase = Phase::End;
            }
        }
    }
}

#[wasm_bindgen]
impl LogStream {
    /// The next chunk of text, or `undefined` at the end.
    #[wasm_bindgen(unchecked_return_type = "Promise<string | undefined>")]
    pub fn next(&self) -> Promise {
        let (exec, st) = (self.exec.clone(), self.st.clone());
        promise(async move {
            Ok(next_chunk(exec, st)
                .await?
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// Stops reading and closes the socket.
    pub fn close(&self) {
        let mut s = self.st.borrow_mut();
        if let Some(sock) = s.socket.take() {
            sock.close();
        }
        s.phase = Phase::End;
        s.queue.clear();
    }
}
