//! What may be added or hashed (`IpfsData`): bytes, text, a Blob or File, a `ReadableStream`, or
//! any async iterable of bytes (a Node stream). Each is read in pieces of at most `PIECE` bytes,
//! so the wasm never holds more than one piece of it, whatever its size.

use crate::core::boundary::error::{Code, Result, SdkError};
use crate::core::boundary::js::{message_of, method, prop, string};
use js_sys::{ArrayBuffer, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// 1 MiB: four of Kubo's default chunks per round trip to JS, and little memory.
pub const PIECE: u32 = 1 << 20;

#[wasm_bindgen(typescript_custom_section)]
const DATA_TS: &'static str = r#"
/** What `add()` and `cid()` take: bytes, text (UTF-8), a Blob or File, a ReadableStream, or an async iterable of bytes (a Node stream). Read in pieces: memory stays flat. */
export type IpfsData = Uint8Array | ArrayBuffer | ArrayBufferView | string | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
"#;

enum Source {
    /// Bytes already in JS: copied into the wasm a piece at a time.
    Array {
        bytes: Uint8Array,
        at: u32,
    },
    Blob {
        blob: web_sys::Blob,
        at: f64,
    },
    /// `next()` of a stream's reader or an async iterator: `{ value, done }`.
    Pull {
        next: Function,
        this: JsValue,
    },
    Done,
}

pub struct Input {
    source: Source,
    /// A `File`'s name.
    name: Option<String>,
}

impl Input {
    /// Reads `v` as data; anything else is a `ValidationError` on `field`.
    pub fn from_js(v: &JsValue, field: &str) -> Result<Input> {
        let bad = || {
            SdkError::field(
                field,
                "must be bytes, a string, a Blob, a ReadableStream or an async iterable of bytes",
            )
        };
        let mut name = None;
        let source = if let Some(text) = v.as_string() {
            Source::Array {
                bytes: Uint8Array::from(text.as_bytes()),
                at: 0,
            }
        } else if let Some(bytes) = as_bytes(v) {
            Source::Array { bytes, at: 0 }
        } else if method(v, "slice").is_some() && method(v, "arrayBuffer").is_some() {
            // A File's name; a plain Blob has none.
            name = string(v, "name").filter(|n| !n.is_empty());
            Source::Blob {
                blob: v.clone().unchecked_into(),
                at: 0.0,
            }
        } else if let Some(get_reader) = method(v, "getReader") {
            let reader = get_reader.call0(v).map_err(|_| bad())?;
            let next = method(&reader, "read").ok_or_else(bad)?;
            Source::Pull { next, this: reader }
        } else if let Some(iterate) = v
            .is_object()
            .then(|| Reflect::get(v, &js_sys::Symbol::async_iterator()).ok())
            .flatten()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let iterator = iterate.call0(v).map_err(|_| bad())?;
            let next = method(&iterator, "next").ok_or_else(bad)?;
            Source::Pull {
                next,
                this: iterator,
            }
        } else {
            return Err(bad());
        };
        Ok(Input { source, name })
    }

    /// A `File`'s own name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The next piece, `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        match &mut self.source {
            Source::Array { bytes, at } => {
                let end = bytes.length().min(at.saturating_add(PIECE));
                if *at >= end {
                    self.source = Source::Done;
                    return Ok(None);
                }
                let piece = bytes.subarray(*at, end).to_vec();
                *at = end;
                Ok(Some(piece))
            }
            Source::Blob { blob, at } => {
                let size = blob.size();
                if *at >= size {
                    self.source = Source::Done;
                    return Ok(None);
                }
                let end = size.min(*at + PIECE as f64);
                let piece = blob
                    .slice_with_f64_and_f64(*at, end)
                    .map_err(|e| read_error(&e))?;
                let buf = JsFuture::from(piece.array_buffer())
                    .await
                    .map_err(|e| read_error(&e))?;
                *at = end;
                Ok(Some(Uint8Array::new(&buf).to_vec()))
            }
            Source::Pull { next, this } => loop {
                let step = next.call0(this).map_err(|e| read_error(&e))?;
                let step = JsFuture::from(Promise::resolve(&step))
                    .await
                    .map_err(|e| read_error(&e))?;
                if prop(&step, "done").and_then(|d| d.as_bool()) == Some(true) {
                    self.source = Source::Done;
                    return Ok(None);
                }
                let value = prop(&step, "value").unwrap_or(JsValue::UNDEFINED);
                let piece = match value.as_string() {
                    Some(text) => text.into_bytes(),
                    None => as_bytes(&value)
                        .ok_or_else(|| {
                            SdkError::new(
                                Code::Validation,
                                "the stream gave something else than bytes or text",
                            )
                        })?
                        .to_vec(),
                };
                // Empty pieces are skipped rather than handed on as an end.
                if !piece.is_empty() {
                    return Ok(Some(piece));
                }
            },
            Source::Done => Ok(None),
        }
    }
}

/// A `Uint8Array` over any `ArrayBuffer` or view of one (`Buffer`, `DataView`, typed arrays).
fn as_bytes(v: &JsValue) -> Option<Uint8Array> {
    if let Some(b) = v.dyn_ref::<Uint8Array>() {
        return Some(b.clone());
    }
    if let Some(buf) = v.dyn_ref::<ArrayBuffer>() {
        return Some(Uint8Array::new(buf));
    }
    if ArrayBuffer::is_view(v) {
        let buf = prop(v, "buffer")?;
        let offset = prop(v, "byteOffset")?.as_f64()? as u32;
        let len = prop(v, "byteLength")?.as_f64()? as u32;
        return Some(Uint8Array::new_with_byte_offset_and_length(
            &buf, offset, len,
        ));
    }
    None
}

fn read_error(e: &JsValue) -> SdkError {
    SdkError::new(
        Code::Validation,
        format!("the data could not be read: {}", message_of(e)),
    )
    .cause(message_of(e))
}
