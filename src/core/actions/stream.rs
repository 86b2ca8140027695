//! WebSocket `/stream/{id}` (the documented `/logs/{id}/stream` is a 404 on the real worker).
//! Messages: `[STATUS] …`, the whole output after the job, `[STDERR]\n…`, then `[DONE] …`; no
//! close frame on a live job (`sandrun_protocol::stream` reads them).

use crate::core::boundary::platform::Socket;
use crate::core::config::ws_base;
use crate::core::transport::{CallOpts, Http};
use std::rc::Rc;

pub async fn open(http: &Http, id: &str, opts: &CallOpts) -> Result<Rc<Socket>, String> {
    let url = format!("{}/stream/{id}", ws_base(&http.endpoint));
    http.open_stream(&url, opts).await
}
