//! The spec's JSON answers: `PinStatus`, `PinResults` and `Failure`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::store::{Pin, PinRecord, PinState};
use crate::http::Response;
use crate::util::rfc3339_ms;

#[derive(Serialize)]
struct PinStatus<'a> {
    requestid: &'a str,
    status: &'static str,
    created: String,
    pin: &'a Pin,
    delegates: &'a [String],
    /// `status_details` says why a pin failed.
    info: BTreeMap<&'static str, &'a str>,
}

fn pin_status<'a>(r: &'a PinRecord, delegates: &'a [String]) -> PinStatus<'a> {
    let mut info = BTreeMap::new();
    if let (PinState::Failed, Some(d)) = (r.state, &r.details) {
        info.insert("status_details", d.as_str());
    }
    PinStatus {
        requestid: &r.requestid,
        status: r.state.word(),
        created: rfc3339_ms(r.created),
        pin: &r.pin,
        delegates,
        info,
    }
}

fn json<T: Serialize>(status: u16, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_default();
    Response::json(status, text)
}

/// One request: 200 for `GET /pins/{id}`, 202 when it was just made.
pub fn status(code: u16, r: &PinRecord, delegates: &[String]) -> Response {
    json(code, &pin_status(r, delegates))
}

/// `GET /pins`: `count` is every match, `results` the first `limit` of them.
pub fn results(count: usize, page: &[PinRecord], delegates: &[String]) -> Response {
    #[derive(Serialize)]
    struct PinResults<'a> {
        count: usize,
        results: Vec<PinStatus<'a>>,
    }
    let results = page.iter().map(|r| pin_status(r, delegates)).collect();
    json(200, &PinResults { count, results })
}

/// `{"error": {"reason": REASON, "details": …}}` with the spec's reasons (`BAD_REQUEST`,
/// `UNAUTHORIZED`, `NOT_FOUND`, `INTERNAL_SERVER_ERROR`).
pub fn failure(code: u16, reason: &str, details: &str) -> Response {
    #[derive(Serialize)]
    struct Failure<'a> {
        error: Reason<'a>,
    }
    #[derive(Serialize)]
    struct Reason<'a> {
        reason: &'a str,
        details: &'a str,
    }
    json(
        code,
        &Failure {
            error: Reason { reason, details },
        },
    )
}
