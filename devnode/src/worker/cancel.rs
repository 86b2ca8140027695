//! `DELETE /jobs/{id}` (a default-mode extension): a queued job ends at once, cancelled and
//! signed; a running job's process group is killed and the runner ends it.

use std::net::IpAddr;
use std::sync::Arc;

use super::bodies;
use super::job::{Job, JobResult, Status};
use super::store::Worker;
use crate::http::Response;
use crate::sandbox;

pub fn cancel(w: &Worker, job: &Arc<Job>, peer: IpAddr) -> Response {
    if peer != job.owner {
        return Response::error(
            403,
            "Only the client that submitted a job can cancel it",
            w.esc(),
        );
    }
    let mut st = job.st.lock().unwrap();
    match st.status {
        Status::Queued => {
            st.cancel = true;
            let cpu_str = "0".to_string();
            let signature = w.sign(job, -1, &cpu_str, 0, &[]);
            let result = JobResult {
                exit_code: -1,
                cpu: 0.0,
                cpu_str,
                memory_mb: 0,
                wall_ms: 0,
                outputs: vec![],
                signature,
            };
            st.end(Status::Cancelled, result);
            drop(st);
            w.quotas.release(job.owner, false, None);
        }
        Status::Running => {
            st.cancel = true;
            if let Some(pid) = st.pid {
                sandbox::kill_group(pid);
            }
        }
        s => return bodies::already_finished(w, s),
    }
    bodies::job_state(w, job, "cancelled")
}
