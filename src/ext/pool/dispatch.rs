//! A job attached to a pool (`.with(pool)`): it goes to one worker chosen by the pool's strategy,
//! to n distinct workers under `.consensus('k-of-n')` (the job's, else the pool's), or — when the
//! pool's only source is a coordinator and no consensus is asked for — through the coordinator.

use super::coordinator::{self, CoordinatorExecution};
use super::state::{closed, Bookkeeping, PoolInner};
use crate::core::actions;
use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{Obj, ToJs};
use crate::core::execution::{Execution, WorkerExecution};
use crate::core::extension::{find, JobExtension, Packaged};
use crate::core::transport::{CallOpts, Fut};
use crate::ext::consensus::decide::decide;
use crate::ext::consensus::{Consensus, GroupExecution, Member};
use std::any::Any;
use std::rc::Rc;

/// The pool a job is attached to.
pub struct PoolJob(pub Rc<PoolInner>);

impl JobExtension for PoolJob {
    fn kind(&self) -> &'static str {
        "pool"
    }

    fn places_on_workers(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn dispatch<'a>(&'a self, job: Packaged<'a>) -> Option<Fut<'a, Result<Rc<dyn Execution>>>> {
        Some(Box::pin(submit(self.0.clone(), job)))
    }
}

async fn submit(pool: Rc<PoolInner>, job: Packaged<'_>) -> Result<Rc<dyn Execution>> {
    if pool.closed.get() {
        return Err(closed().op("submit"));
    }
    let quorum = find::<Consensus>(job.extensions)
        .map(|c| c.0)
        .or(pool.quorum);
    let observer = Rc::new(Bookkeeping(Rc::downgrade(&pool)));
    let started = Obj::new();
    if let (None, Some(url)) = (quorum, pool.coordinator_only()) {
        let coordinator = pool.client.for_endpoint(&url);
        let id =
            coordinator::submit(&coordinator.http, job.body.clone(), &CallOpts::default()).await?;
        started.set("jobId", &id).set("coordinator", &url);
        pool.emit("job-started", &started.into());
        return Ok(CoordinatorExecution::start(
            coordinator,
            id,
            job.job_hash,
            Rc::downgrade(&pool),
            observer,
        ));
    }
    let n = quorum.map(|q| q.n).unwrap_or(1) as usize;
    let mut tried: Vec<usize> = Vec::new();
    let mut members: Vec<Member> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let opts = CallOpts {
        signal: job.draft.signal.clone(),
        ..Default::default()
    };
    let release_all = |members: &[Member]| {
        for m in members.iter().filter_map(|m| m.node) {
            pool.release(m, false);
        }
    };
    while members.len() < n {
        let Some((i, client)) = pool.pick(&tried) else {
            break;
        };
        tried.push(i);
        match actions::submit::submit(&client.http, job.body.clone(), &opts).await {
            Ok(sent) => {
                let status = actions::status::queued(&sent.job_id);
                let exec = WorkerExecution::new(
                    client,
                    sent.job_id,
                    Some(job.job_hash.clone()),
                    job.draft.signal.clone(),
                    Some(status),
                );
                members.push(Member {
                    exec,
                    node: Some(i),
                });
            }
            Err(e) => {
                pool.release(i, false);
                match e.code {
                    Code::Network | Code::Timeout => pool.fail(i, &e.message),
                    // The job itself is refused: no other worker will take it.
                    Code::Http if e.context.status == Some(400) => {
                        release_all(&members);
                        return Err(e);
                    }
                    Code::Cancelled => {
                        release_all(&members);
                        return Err(e);
                    }
                    _ => {}
                }
                errors.push(format!("{}: {}", pool.endpoint_of_node(i), e.message));
            }
        }
    }
    if members.len() < n {
        release_all(&members);
        let message = format!(
            "the pool could place the job on {} of the {n} distinct worker(s) it needs{}{}",
            members.len(),
            if errors.is_empty() { "" } else { ": " },
            errors.join("; ")
        );
        return Err(match quorum {
            Some(q) => {
                let report = decide(q, Vec::new());
                SdkError::new(Code::Consensus, message).with_report(report.to_js())
            }
            None => SdkError::new(Code::Unsupported, message).retryable(true),
        }
        .op("submit"));
    }
    let endpoints: Vec<String> = members
        .iter()
        .map(|m| m.exec.client.config.endpoint.clone())
        .collect();
    started
        .set("jobId", &members[0].exec.id)
        .set("endpoints", &endpoints);
    if let Some(q) = quorum {
        started.set("consensus", &format!("{}-of-{}", q.k, q.n));
    }
    pool.emit("job-started", &started.into());
    Ok(GroupExecution::start(
        quorum,
        members,
        job.job_hash,
        Some(observer),
    ))
}
