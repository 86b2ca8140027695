//! The body of Kubo's `add`: `multipart/form-data` with one part per file (its `filename` the
//! percent-encoded path, which Kubo decodes) and one per empty directory
//! (`application/x-directory`), written as a stream while each file's local CID is computed from
//! the very bytes sent. The core's `Multipart` holds a whole body and picks its boundary by
//! scanning the parts; here the data may be larger than memory and is read once, so the boundary
//! is random instead (104 bits: content cannot contain it but by chance).

use super::cid::FileCid;
use super::input::Input;
use super::stream::{readable, Step};
use crate::core::boundary::error::{Result, SdkError};
use sandrun_ipfs::{AddOptions, Added};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// One part: a file (`content`) or an empty directory. A file without a path is sent without a
/// filename, which Kubo answers with the file's CID as its name.
pub struct Part {
    pub path: Option<String>,
    pub content: Option<Input>,
}

/// What the upload found on the way: each file's local CID (by path, `""` for an unnamed one),
/// the directories, the bytes read, and why it stopped if it failed.
#[derive(Default)]
pub struct Outcome {
    pub files: Vec<(String, Added)>,
    pub dirs: Vec<String>,
    pub bytes: u64,
    pub error: Option<SdkError>,
}

struct Body {
    boundary: String,
    parts: VecDeque<Part>,
    current: Option<(String, Input, FileCid)>,
    options: AddOptions,
    outcome: Rc<RefCell<Outcome>>,
    closed: bool,
}

/// The body to send (a `ReadableStream`), its content type, and where the local CIDs will be
/// once it has been read to the end.
pub fn body(
    parts: Vec<Part>,
    options: &AddOptions,
) -> Result<(JsStream, String, Rc<RefCell<Outcome>>)> {
    let boundary = format!("sandrun-{:013x}{:013x}", random52(), random52());
    let outcome = Rc::new(RefCell::new(Outcome::default()));
    let body = Body {
        boundary: boundary.clone(),
        parts: parts.into(),
        current: None,
        options: *options,
        outcome: outcome.clone(),
        closed: false,
    };
    let stream = readable(body, step)?;
    Ok((
        stream.into(),
        format!("multipart/form-data; boundary={boundary}"),
        outcome,
    ))
}

pub type JsStream = wasm_bindgen::JsValue;

fn step(mut body: Body) -> Step<Body> {
    Box::pin(async move {
        let piece = body.next().await;
        if let Err(e) = &piece {
            body.outcome.borrow_mut().error = Some(e.clone());
        }
        (body, piece)
    })
}

impl Body {
    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        if let Some((_, input, cid)) = &mut self.current {
            if let Some(piece) = input.next().await? {
                cid.push(&piece);
                self.outcome.borrow_mut().bytes += piece.len() as u64;
                return Ok(Some(piece));
            }
            if let Some((path, _, cid)) = self.current.take() {
                self.outcome.borrow_mut().files.push((path, cid.finish()));
            }
            return Ok(Some(b"\r\n".to_vec()));
        }
        let Some(part) = self.parts.pop_front() else {
            if self.closed {
                return Ok(None);
            }
            self.closed = true;
            return Ok(Some(format!("--{}--\r\n", self.boundary).into_bytes()));
        };
        let filename = part
            .path
            .as_deref()
            .map(|p| {
                format!(
                    "; filename=\"{}\"",
                    String::from(js_sys::encode_uri_component(p))
                )
            })
            .unwrap_or_default();
        let content_type = if part.content.is_some() {
            "application/octet-stream"
        } else {
            "application/x-directory"
        };
        let mut head = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"file\"{filename}\r\nContent-Type: {content_type}\r\n\r\n",
            self.boundary
        );
        let path = part.path.unwrap_or_default();
        match part.content {
            Some(input) => {
                self.current = Some((path, input, FileCid::new(&self.options)));
            }
            None => {
                head.push_str("\r\n");
                self.outcome.borrow_mut().dirs.push(path);
            }
        }
        Ok(Some(head.into_bytes()))
    }
}

/// 52 random bits (`Math.random`: the boundary must only be unlikely in the data, not secret).
fn random52() -> u64 {
    (js_sys::Math::random() * (1u64 << 52) as f64) as u64
}
