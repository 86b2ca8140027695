//! The log stream, WebSocket `/stream/{id}`: live output in default mode; in compat mode the real
//! worker's way (output only after the job, no close frame on a live stream, replay twice on a
//! finished job).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::job::{Ev, Job, JobState, Status};
use super::store::Worker;
use crate::http::Response;
use crate::ws::{self, Incoming};

/// Hands back complete UTF-8 text, keeping an unfinished trailing sequence for later.
fn take_utf8(pending: &mut Vec<u8>, flush: bool) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(pending) {
            Ok(s) => {
                out.push_str(s);
                pending.clear();
                return out;
            }
            Err(e) => {
                let v = e.valid_up_to();
                out.push_str(std::str::from_utf8(&pending[..v]).unwrap_or(""));
                match e.error_len() {
                    Some(n) => {
                        out.push('\u{FFFD}');
                        pending.drain(..v + n);
                    }
                    None => {
                        pending.drain(..v);
                        if flush {
                            out.push('\u{FFFD}');
                            pending.clear();
                        }
                        return out;
                    }
                }
            }
        }
    }
}

pub fn stream(w: Arc<Worker>, id: String, key: String) -> Response {
    Response::upgrade(Box::new(move |sock| {
        Box::pin(async move {
            let Some((mut out, mut inc)) = ws::accept(sock, &key).await else {
                return;
            };
            let Some(job) = w.job(&id) else {
                out.text(format!("[ERROR] Job not found: {id}\n").as_bytes())
                    .await;
                out.close(1000).await;
                linger_ws(&mut inc, Duration::from_secs(2)).await;
                return;
            };
            if w.cfg.compat {
                stream_compat(&w, job, out, inc).await
            } else {
                stream_default(&w, job, out, inc).await
            }
        })
    }))
}

async fn linger_ws(inc: &mut mpsc::UnboundedReceiver<Incoming>, d: Duration) {
    let _ = tokio::time::timeout(d, async {
        while let Some(m) = inc.recv().await {
            if matches!(m, Incoming::Closed { .. }) {
                return;
            }
        }
    })
    .await;
}

fn done_line(w: &Worker, st: &JobState) -> String {
    let r = st.result.as_ref();
    sandrun_protocol::stream::format_done(
        w.status_word(st.status),
        r.map(|r| r.exit_code).unwrap_or(-1),
        r.map(|r| r.cpu).unwrap_or(0.0),
        r.map(|r| r.memory_mb).unwrap_or(0),
    )
}

async fn stream_compat(
    w: &Worker,
    job: Arc<Job>,
    mut out: ws::WsWriter,
    mut inc: mpsc::UnboundedReceiver<Incoming>,
) {
    let (status, rx) = {
        let mut st = job.st.lock().unwrap();
        let rx = st.subscribe();
        (st.status, rx)
    };
    out.text(format!("[STATUS] Job status: {}\n", w.status_word(status)).as_bytes())
        .await;
    let Some(mut rx) = rx else {
        // Attaching to a finished job replays the output twice: accumulated, then split.
        let (stdout, stderr, done) = {
            let st = job.st.lock().unwrap();
            (st.stdout.clone(), st.stderr.clone(), done_line(w, &st))
        };
        let mut all = stdout.clone();
        all.extend_from_slice(&stderr);
        if !all.is_empty() {
            out.text(&all).await;
        }
        send_final(&mut out, &stdout, &stderr).await;
        out.text(done.as_bytes()).await;
        out.close(1000).await;
        linger_ws(&mut inc, Duration::from_secs(2)).await;
        return;
    };
    if status == Status::Running {
        out.text(b"[STATUS] Job started\n").await;
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Ev::Started) => { out.text(b"[STATUS] Job started\n").await; }
                Some(Ev::Out(_)) | Some(Ev::Err(_)) => {} // not streamed by the real server
                Some(Ev::Done) | None => break,
            },
            m = inc.recv() => match m {
                Some(Incoming::Ping(p)) => { out.pong(&p).await; }
                _ => return, // client went away
            },
        }
    }
    let (stdout, stderr, done) = {
        let st = job.st.lock().unwrap();
        (st.stdout.clone(), st.stderr.clone(), done_line(w, &st))
    };
    send_final(&mut out, &stdout, &stderr).await;
    out.text(done.as_bytes()).await;
    // No close frame on a live stream: wait for the client to hang up.
    linger_ws(&mut inc, Duration::from_secs(120)).await;
}

async fn send_final(out: &mut ws::WsWriter, stdout: &[u8], stderr: &[u8]) {
    if !stdout.is_empty() {
        out.text(stdout).await;
    }
    if !stderr.is_empty() {
        let mut f = b"[STDERR]\n".to_vec();
        f.extend_from_slice(stderr);
        out.text(&f).await;
    }
}

async fn stream_default(
    w: &Worker,
    job: Arc<Job>,
    mut out: ws::WsWriter,
    mut inc: mpsc::UnboundedReceiver<Incoming>,
) {
    let (status, mut pend_out, mut pend_err, rx) = {
        let mut st = job.st.lock().unwrap();
        let rx = st.subscribe();
        (st.status, st.stdout.clone(), st.stderr.clone(), rx)
    };
    out.text(format!("[STATUS] Job status: {}\n", status.word()).as_bytes())
        .await;
    if status != Status::Queued {
        out.text(b"[STATUS] Job started\n").await;
    }
    async fn send_out(
        out: &mut ws::WsWriter,
        pending: &mut Vec<u8>,
        is_err: bool,
        flush: bool,
    ) -> bool {
        let text = take_utf8(pending, flush);
        if text.is_empty() {
            return true;
        }
        if is_err {
            out.text(format!("[STDERR]\n{text}").as_bytes()).await
        } else {
            out.text(text.as_bytes()).await
        }
    }
    let terminal = rx.is_none();
    send_out(&mut out, &mut pend_out, false, terminal).await;
    send_out(&mut out, &mut pend_err, true, terminal).await;
    if let Some(mut rx) = rx {
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(Ev::Started) => { out.text(b"[STATUS] Job started\n").await; }
                    Some(Ev::Out(b)) => { pend_out.extend_from_slice(&b); if !send_out(&mut out, &mut pend_out, false, false).await { return; } }
                    Some(Ev::Err(b)) => { pend_err.extend_from_slice(&b); if !send_out(&mut out, &mut pend_err, true, false).await { return; } }
                    Some(Ev::Done) | None => break,
                },
                m = inc.recv() => match m {
                    Some(Incoming::Ping(p)) => { out.pong(&p).await; }
                    Some(Incoming::Closed { got_close_frame: true }) => { out.close(1000).await; return; }
                    _ => return,
                },
            }
        }
        send_out(&mut out, &mut pend_out, false, true).await;
        send_out(&mut out, &mut pend_err, true, true).await;
    }
    let done = {
        let st = job.st.lock().unwrap();
        done_line(w, &st)
    };
    out.text(done.as_bytes()).await;
    out.close(1000).await;
    linger_ws(&mut inc, Duration::from_secs(2)).await;
}
