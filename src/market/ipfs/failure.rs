//! What went wrong with a node, gateway or pinning service (`IpfsAttempt`), and the `IpfsError`
//! that lists every source tried when none gave what was asked.

use crate::core::boundary::error::{Code, SdkError};
use crate::core::boundary::js::Obj;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const PROBLEM_TS: &'static str = r#"
/** What was wrong with a source: no connection, no answer in time, an error status (404, 401/403, other), an answer of the wrong shape, bytes that do not hash to their CID, a CAR that is malformed or names another root, a block the answer lacked. */
export type IpfsProblem = 'unreachable' | 'timeout' | 'not-found' | 'unauthorized' | 'error-status' | 'bad-answer' | 'wrong-bytes' | 'wrong-car' | 'missing-block';
"#;

/// One source asked: what it gave.
#[derive(Debug, Clone, sandrun_derive::ToJs)]
pub struct IpfsAttempt {
    /// The node's, gateway's or service's URL.
    pub source: String,
    pub ok: bool,
    /// What was wrong (`null` when `ok`).
    #[js(ts = "IpfsProblem | null")]
    pub problem: Option<String>,
    pub message: String,
    /// The HTTP status, when it answered one.
    pub status: Option<u32>,
}

impl IpfsAttempt {
    pub fn ok(source: &str) -> IpfsAttempt {
        IpfsAttempt {
            source: source.to_string(),
            ok: true,
            problem: None,
            message: "ok".into(),
            status: None,
        }
    }

    /// A transport error (no connection, no answer in time, an error status, an answer that is
    /// not what was asked).
    pub fn from_error(source: &str, e: &SdkError) -> IpfsAttempt {
        let status = e.context.status.map(u32::from);
        let problem = match (e.code, status) {
            (Code::Network, _) => "unreachable",
            (Code::Timeout, _) => "timeout",
            (Code::NotFound, _) | (_, Some(404)) => "not-found",
            (_, Some(401 | 403)) => "unauthorized",
            (Code::Http | Code::RateLimited, _) => "error-status",
            _ => "bad-answer",
        };
        IpfsAttempt {
            source: source.to_string(),
            ok: false,
            problem: Some(problem.into()),
            message: e.message.clone(),
            status,
        }
    }

    /// Bytes from the source that do not check out against the CIDs asked for.
    pub fn from_content(source: &str, e: &sandrun_ipfs::Error) -> IpfsAttempt {
        use sandrun_ipfs::Error::*;
        let problem = match e {
            HashMismatch { .. } => "wrong-bytes",
            MissingBlock { .. } => "missing-block",
            WrongRoot { .. } | MalformedCar { .. } => "wrong-car",
            _ => "bad-answer",
        };
        IpfsAttempt {
            source: source.to_string(),
            ok: false,
            problem: Some(problem.into()),
            message: e.to_string(),
            status: None,
        }
    }
}

/// Whether a crate error is about the content itself (a block that hashes right but is not a
/// UnixFS node of the expected kind, a size the DAG contradicts, a limit): no other source can
/// do better, so the retrieval stops there instead of asking the next one.
pub fn about_content(e: &sandrun_ipfs::Error) -> bool {
    use sandrun_ipfs::Error::*;
    matches!(
        e,
        MalformedNode { .. }
            | UnexpectedKind { .. }
            | UnexpectedCodec { .. }
            | UnsupportedHash { .. }
            | LimitExceeded { .. }
    )
}

/// The error of a content problem (see `about_content`), from the first source that showed it.
pub fn content_error(op: &'static str, cid: &str, e: &sandrun_ipfs::Error) -> SdkError {
    let d = Obj::new();
    d.set("cid", &cid);
    SdkError::new(Code::Ipfs, format!("{op} {cid}: {e}"))
        .retryable(false)
        .op(op)
        .with_details(d.into())
}

/// `IpfsError` listing every attempt: no source gave what was asked.
pub fn exhausted(
    op: &'static str,
    what: &str,
    cid: Option<&str>,
    attempts: &[IpfsAttempt],
) -> SdkError {
    let message = if attempts.is_empty() {
        format!(
            "{op} {what}: no IPFS source is configured (config.ipfs.api or config.ipfs.gateways)"
        )
    } else {
        let each: Vec<String> = attempts
            .iter()
            .map(|a| format!("{} {}", a.source, a.problem.as_deref().unwrap_or("ok")))
            .collect();
        format!("{op} {what}: every source failed ({})", each.join(", "))
    };
    let d = Obj::new();
    d.set("attempts", &attempts.to_vec());
    if let Some(cid) = cid {
        d.set("cid", &cid);
    }
    // Worth retrying later only when some source was down or slow, not when all lied.
    let transient = attempts.iter().any(|a| {
        matches!(
            a.problem.as_deref(),
            Some("unreachable" | "timeout" | "error-status")
        )
    });
    let mut e = SdkError::new(Code::Ipfs, message)
        .retryable(transient)
        .op(op)
        .with_details(d.into());
    if let [one] = attempts {
        e.context.status = one.status.map(|s| s as u16);
        e = e.endpoint(&one.source);
    }
    e
}

/// A single server's failure as an `IpfsError` (the node on `add`, a pinning service), unless the
/// caller cancelled: a `CancelledError` stays one.
pub fn one(op: &'static str, source: &str, e: SdkError) -> SdkError {
    if matches!(
        e.code,
        Code::Cancelled | Code::Validation | Code::CidMismatch | Code::Ipfs
    ) {
        return e;
    }
    let attempt = IpfsAttempt::from_error(source, &e);
    let mut out = exhausted(op, "", None, &[attempt]);
    out.message = format!("{op}: {}", e.message.trim_start_matches(&format!("{op}: ")));
    if let Some(d) = e.details {
        if let Some(mine) = &out.details {
            js_sys::Object::assign(
                mine.unchecked_ref::<js_sys::Object>(),
                d.unchecked_ref::<js_sys::Object>(),
            );
        }
    }
    out.context.cause = e.context.cause;
    out
}
