//! A request as the server read it, the response a handler gives back, and the handler type.

use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::TcpStream;

use crate::json::{self, Escape};

#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target exactly as sent (not decoded, query included).
    pub target: String,
    /// Header names as sent (case preserved) and values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: IpAddr,
}

impl Request {
    /// A header value; `exact` compares the name case-sensitively (the real worker's way).
    pub fn header(&self, name: &str, exact: bool) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| {
                if exact {
                    n == name
                } else {
                    n.eq_ignore_ascii_case(name)
                }
            })
            .map(|(_, v)| v.as_str())
    }

    /// Path without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query string (after `?`), empty when there is none.
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

pub type UpgradeFn = Box<dyn FnOnce(TcpStream) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

pub struct Response {
    pub status: u16,
    pub content_type: Cow<'static, str>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Routed responses carry `Access-Control-Allow-Origin: *` in compat mode (default mode: all).
    pub cors: bool,
    /// Overrides the Content-Length header and the number of body bytes written (compat 413).
    pub truncate_to: Option<usize>,
    /// Hand the socket over (WebSocket, a deliberately dropped connection); nothing is written
    /// by the server loop.
    pub upgrade: Option<UpgradeFn>,
    /// Close the connection after this response even in keep-alive mode.
    pub close: bool,
}

impl Response {
    pub fn new(status: u16, content_type: impl Into<Cow<'static, str>>, body: Vec<u8>) -> Self {
        Response {
            status,
            content_type: content_type.into(),
            headers: Vec::new(),
            body,
            cors: true,
            truncate_to: None,
            upgrade: None,
            close: false,
        }
    }
    pub fn json(status: u16, body: String) -> Self {
        Self::new(status, "application/json", body.into_bytes())
    }
    pub fn error(status: u16, msg: &str, esc: Escape) -> Self {
        Self::new(status, "application/json", json::error_body(msg, esc))
    }
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
    pub fn upgrade(f: UpgradeFn) -> Self {
        let mut r = Self::new(101, "text/plain", Vec::new());
        r.upgrade = Some(f);
        r
    }
}

pub type Handler =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;
