//! One file or directory listing read from the sources (the RPC node, then the gateways), every
//! block verified against its CID and the DAG re-assembled by the crate's walker as the bytes
//! arrive. A source that fails (no answer, an error status, a block that does not hash to its
//! CID, a CAR that lacks a block or names another root) is reported and the next one takes over
//! where it stopped: after the bytes (or entries) already handed out, so a stream never repeats
//! or skips anything. A block that hashes right but is not what the DAG needs is the content's
//! fault, not the source's: that ends the walk at once.

use super::failure::{about_content, content_error, exhausted, IpfsAttempt};
use super::join::{first_ok, Task};
use super::options::Format;
use super::sources::Source;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::ToJs;
use crate::core::boundary::platform::Streamed;
use crate::core::transport::CallOpts;
use js_sys::Function;
use sandrun_ipfs::{
    Block, Bytes, CarWalk, Cid, DagWalker, DirEntry, Expect, Limits, RootKind, Step,
};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// What a walk hands out.
pub enum Piece {
    Data(Bytes),
    Entry(DirEntry),
}

/// How a walk asks its sources.
#[derive(Clone)]
pub struct Plan {
    pub sources: Rc<[Source]>,
    pub format: Format,
    pub race: bool,
    pub on_attempt: Option<Function>,
    pub opts: CallOpts,
}

impl Plan {
    /// Records an attempt and tells the caller's `onAttempt`.
    pub fn report(&self, attempts: &mut Vec<IpfsAttempt>, attempt: IpfsAttempt) {
        if let Some(f) = &self.on_attempt {
            // A listener that throws must not break the retrieval.
            let _ = f.call1(&JsValue::NULL, &attempt.to_js());
        }
        attempts.push(attempt);
    }
}

enum Reading {
    Car { walk: CarWalk, body: Streamed },
    Blocks { walker: DagWalker },
}

pub struct Walk {
    op: &'static str,
    cid: Cid,
    cid_text: String,
    expect: Expect,
    plan: Plan,
    /// File bytes wanted: from `start`, at most `length`.
    start: u64,
    length: Option<u64>,
    /// Sources not tried yet, in order.
    untried: Vec<usize>,
    current: Option<(usize, Reading)>,
    bytes_out: u64,
    entries_out: u64,
    /// Entries a new source gives again before reaching new ones.
    skip_entries: u64,
    kind: Option<RootKind>,
    attempts: Vec<IpfsAttempt>,
    done: bool,
}

impl Walk {
    pub fn new(op: &'static str, cid: &str, expect: Expect, plan: Plan) -> Result<Walk> {
        let parsed = parse(cid)?;
        Ok(Walk {
            op,
            cid: parsed,
            cid_text: cid.trim().to_string(),
            expect,
            untried: (0..plan.sources.len()).collect(),
            plan,
            start: 0,
            length: None,
            current: None,
            bytes_out: 0,
            entries_out: 0,
            skip_entries: 0,
            kind: None,
            attempts: Vec::new(),
            done: false,
        })
    }

    /// Only the file bytes `offset..offset + length`.
    pub fn range(mut self, offset: u64, length: Option<u64>) -> Walk {
        self.start = offset;
        self.length = length;
        self
    }

    /// The root's kind, once a source has given the root block.
    pub fn kind(&self) -> Option<RootKind> {
        self.kind
    }

    /// The next bytes or entry; `None` once everything was handed out.
    pub async fn next(&mut self) -> Result<Option<Piece>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.current.is_none() {
                self.current = Some(self.open().await?);
            }
            let Some((source, reading)) = self.current.as_mut() else {
                continue;
            };
            let source = *source;
            let step = match reading {
                Reading::Car { walk, .. } => {
                    let step = walk.poll();
                    self.kind = self.kind.or(walk.kind());
                    step
                }
                Reading::Blocks { walker } => {
                    let step = walker.poll();
                    self.kind = self.kind.or(walker.kind());
                    step
                }
            };
            match step {
                Ok(Step::Data(bytes)) => {
                    self.bytes_out += bytes.len() as u64;
                    return Ok(Some(Piece::Data(bytes)));
                }
                Ok(Step::Entry(entry)) => {
                    if self.skip_entries > 0 {
                        self.skip_entries -= 1;
                        continue;
                    }
                    self.entries_out += 1;
                    return Ok(Some(Piece::Entry(entry)));
                }
                Ok(Step::Done) => {
                    self.current = None;
                    self.done = true;
                    let ok = IpfsAttempt::ok(self.plan.sources[source].url());
                    self.plan.report(&mut self.attempts, ok);
                    return Ok(None);
                }
                Ok(Step::Need(cid)) => {
                    if let Err(attempt) = self.feed(source, &cid).await? {
                        self.drop_source(attempt);
                    }
                }
                Err(e) if about_content(&e) => {
                    return Err(content_error(self.op, &self.cid_text, &e));
                }
                Err(e) => {
                    let attempt = IpfsAttempt::from_content(self.plan.sources[source].url(), &e);
                    self.drop_source(attempt);
                }
            }
        }
    }

    /// Gets the walk what it needs next from the current source: more of the CAR, or the block.
    /// `Ok(Err(attempt))` when the source failed.
    async fn feed(
        &mut self,
        source: usize,
        cid: &Cid,
    ) -> Result<std::result::Result<(), IpfsAttempt>> {
        let url = self.plan.sources[source].url().to_string();
        let Some((_, reading)) = self.current.as_mut() else {
            return Ok(Ok(()));
        };
        match reading {
            Reading::Car { walk, body } => match body.next().await {
                Ok(Some(piece)) => walk.push(&piece),
                Ok(None) => {
                    if let Err(e) = walk.end() {
                        return Ok(Err(IpfsAttempt::from_content(&url, &e)));
                    }
                }
                Err(f) => {
                    let e = super::fetch::failure(self.op, &f, &url);
                    return self.transport(&url, e).map(Err);
                }
            },
            Reading::Blocks { walker } => {
                let text = sandrun_ipfs::cid_to_text(cid);
                match self.plan.sources[source]
                    .block(&text, &self.plan.opts)
                    .await
                {
                    Ok(bytes) => match Block::verify(*cid, bytes) {
                        Ok(block) => walker.supply(block),
                        Err(e) => return Ok(Err(IpfsAttempt::from_content(&url, &e))),
                    },
                    Err(e) => return self.transport(&url, e).map(Err),
                }
            }
        }
        Ok(Ok(()))
    }

    /// A transport error as an attempt, unless the caller cancelled (then the walk ends).
    fn transport(&self, url: &str, e: SdkError) -> Result<IpfsAttempt> {
        if e.code == Code::Cancelled {
            return Err(e.op(self.op));
        }
        Ok(IpfsAttempt::from_error(url, &e))
    }

    /// Reports the current source's failure; the next one resumes after what was handed out.
    fn drop_source(&mut self, attempt: IpfsAttempt) {
        self.current = None;
        self.skip_entries = self.entries_out;
        self.plan.report(&mut self.attempts, attempt);
    }

    fn walker(&self) -> DagWalker {
        let offset = self.start + self.bytes_out;
        let length = self.length.map(|l| l.saturating_sub(self.bytes_out));
        DagWalker::new(self.cid, self.expect, Limits::default()).with_range(offset, length)
    }

    /// The next source to read from (raced, the first time, when asked).
    async fn open(&mut self) -> Result<(usize, Reading)> {
        if self.plan.race
            && self.plan.format == Format::Car
            && self.attempts.is_empty()
            && self.untried.len() > 1
        {
            if let Some(won) = self.race().await? {
                return Ok(won);
            }
        }
        while !self.untried.is_empty() {
            let source = self.untried.remove(0);
            if self.plan.format == Format::Raw {
                return Ok((
                    source,
                    Reading::Blocks {
                        walker: self.walker(),
                    },
                ));
            }
            let url = self.plan.sources[source].url().to_string();
            let offset = self.start + self.bytes_out;
            match self.plan.sources[source]
                .car(&self.cid_text, offset, &self.plan.opts)
                .await
            {
                Ok(Some(body)) => return Ok((source, self.car(body))),
                Ok(None) => {
                    return Ok((
                        source,
                        Reading::Blocks {
                            walker: self.walker(),
                        },
                    ))
                }
                Err(e) => {
                    let attempt = self.transport(&url, e)?;
                    self.plan.report(&mut self.attempts, attempt);
                }
            }
        }
        Err(exhausted(
            self.op,
            &self.cid_text,
            Some(&self.cid_text),
            &self.attempts,
        ))
    }

    fn car(&self, body: Streamed) -> Reading {
        Reading::Car {
            walk: CarWalk::from_walker(self.cid, self.walker()),
            body,
        }
    }

    /// Asks every untried source at once and reads from the first that answers 2xx; the others
    /// are aborted. Those that failed before it are reported; the rest stay untried (in order),
    /// for when the winner fails.
    async fn race(&mut self) -> Result<Option<(usize, Reading)>> {
        let offset = self.start + self.bytes_out;
        let mut controllers = Vec::new();
        let mut racers: Vec<Task<'static, Result<Option<Streamed>>>> = Vec::new();
        for &i in &self.untried {
            let controller = controller(self.plan.opts.signal.as_ref());
            let opts = CallOpts {
                signal: controller.as_ref().map(|c| c.signal().into()),
                ..self.plan.opts.clone()
            };
            let sources = self.plan.sources.clone();
            let cid = self.cid_text.clone();
            racers.push(Box::pin(async move {
                sources[i].car(&cid, offset, &opts).await
            }));
            controllers.push(controller);
        }
        let (winner, failed) = first_ok(racers).await;
        for (slot, e) in &failed {
            let url = self.plan.sources[self.untried[*slot]].url().to_string();
            let attempt = self.transport(&url, e.clone())?;
            self.plan.report(&mut self.attempts, attempt);
        }
        let won = winner.as_ref().map(|(slot, _)| *slot);
        for (slot, c) in controllers.iter().enumerate() {
            if Some(slot) != won {
                if let Some(c) = c {
                    c.abort();
                }
            }
        }
        let source = won.map(|slot| self.untried[slot]);
        self.untried = std::mem::take(&mut self.untried)
            .into_iter()
            .enumerate()
            .filter(|(slot, _)| Some(*slot) != won && !failed.iter().any(|(f, _)| f == slot))
            .map(|(_, i)| i)
            .collect();
        Ok(winner
            .zip(source)
            .map(|((_, body), source)| (source, self.car(body))))
    }
}

/// Parses a CID the user gave (any multibase, `/ipfs/` prefix allowed).
pub fn parse(cid: &str) -> Result<Cid> {
    sandrun_ipfs::parse_cid(cid).map_err(|e| SdkError::field("cid", e.to_string()))
}

/// An abort controller of one raced request, aborted too when the caller's signal is.
fn controller(user: Option<&JsValue>) -> Option<web_sys::AbortController> {
    let c = web_sys::AbortController::new().ok()?;
    if let Some(user) = user.filter(|s| s.is_object()) {
        let own = c.clone();
        let abort = Closure::once_into_js(move || own.abort());
        let target: &web_sys::EventTarget = user.unchecked_ref();
        let _ = target.add_event_listener_with_callback("abort", abort.unchecked_ref());
    }
    Some(c)
}
