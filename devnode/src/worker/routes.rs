//! The worker's routes in default mode (paths percent-decoded, exact matches, 404 for unknown
//! paths, 405 for wrong methods, job ids checked), and the handler that picks default or compat
//! routing.

use std::sync::Arc;

use sandrun_protocol::ids::is_job_id;

use super::bodies;
use super::cancel::cancel;
use super::compat_routes;
use super::download::download;
use super::store::Worker;
use super::stream::stream;
use super::submit::submit;
use crate::http::{self, Request, Response};

pub fn handler(w: Arc<Worker>) -> http::Handler {
    Arc::new(move |req: Request| {
        let w = w.clone();
        Box::pin(async move {
            if w.cfg.compat {
                compat_routes::route(w, req).await
            } else {
                route(w, req).await
            }
        })
    })
}

async fn route(w: Arc<Worker>, req: Request) -> Response {
    let esc = w.esc();
    let Some(path) = http::percent_decode(req.path()) else {
        return Response::error(400, "Malformed percent-encoding in the path", esc);
    };
    let m = req.method.as_str();
    let seg: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    let (head, rest) = (seg[0], seg.get(1).copied());
    let allowed: &str = match (head, rest) {
        ("", None) | ("health", None) | ("stats", None) | ("environments", None) => "GET",
        ("status" | "logs" | "outputs" | "stream", Some(_)) | ("download", Some(_)) => "GET",
        ("submit", None) => "POST",
        ("jobs", Some(_)) => "DELETE",
        _ => return Response::error(404, "Not found", esc),
    };
    if m != allowed {
        return Response::error(
            405,
            &format!("Method {m} not allowed here (use {allowed})"),
            esc,
        )
        .with_header("Allow", format!("{allowed}, OPTIONS"));
    }
    // The job id: the whole rest of the path, or (download) its first segment.
    let rest = rest.unwrap_or("");
    let id = match head {
        "download" => rest.split('/').next().unwrap_or(""),
        _ => rest,
    };
    match head {
        "" => bodies::info(&w),
        "health" => bodies::health(&w),
        "stats" => bodies::stats(&w, req.peer),
        "environments" => bodies::environments(&w),
        "submit" => submit(&w, req).await,
        _ if !is_job_id(id) => Response::error(404, "Not found", esc),
        "download" => download(&w, rest).await,
        "stream" => {
            let Some(key) = req.header("Sec-WebSocket-Key", false) else {
                return Response::error(
                    400,
                    "WebSocket upgrade required (Upgrade: websocket, Sec-WebSocket-Key)",
                    esc,
                );
            };
            if !req
                .header("Upgrade", false)
                .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
            {
                return Response::error(
                    400,
                    "WebSocket upgrade required (Upgrade: websocket)",
                    esc,
                );
            }
            stream(w.clone(), id.to_string(), key.to_string())
        }
        _ => {
            let Some(job) = w.job(id) else {
                return bodies::not_found(&w);
            };
            match head {
                "status" => bodies::status(&w, &job),
                "logs" => bodies::logs(&w, &job),
                "outputs" => bodies::outputs(&w, &job),
                _ => cancel(&w, &job, req.peer),
            }
        }
    }
}
