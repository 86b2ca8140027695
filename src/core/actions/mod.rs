//! Worker actions (viem's actions): one function per endpoint of a Sandrun worker. Each owns its
//! path, the reading of its answer and the real server's quirks for it
//! (`../shared/protocol/sandrun-wire.md`); executions, pools, consensus and the node agent all
//! call these instead of speaking HTTP themselves.
//!
//! `/outputs/{id}` is not used: the signed `output_files` of `/status` name every output with
//! its sha256, while `/outputs` is unsigned and unsorted.

pub mod cancel;
pub mod download;
pub mod health;
pub mod logs;
pub mod status;
pub mod stream;
pub mod submit;

/// A job id as workers and coordinators issue them: refused before it goes into a URL path
/// when it is anything else.
pub use sandrun_protocol::ids::is_job_id;
