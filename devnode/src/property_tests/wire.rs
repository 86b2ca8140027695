//! HTTP request heads, chunked bodies, percent-encoded paths and WebSocket frames.

use proptest::prelude::*;

use crate::http::chunked::{self, ChunkErr};
use crate::http::head;
use crate::http::{percent_decode, percent_encode_path};
use crate::ws::{frame, parse_frame};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Reads a chunked body from `input` as the server does (nothing more will come).
fn read_chunked(input: &[u8], max: usize) -> (Result<Vec<u8>, ChunkErr>, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let mut rest = Vec::new();
    let mut reader = input;
    let r = rt.block_on(chunked::read(&mut reader, &mut rest, max));
    (r, rest)
}

proptest! {
    #[test]
    fn heads_never_panic(raw in bytes(300)) {
        let _ = head::parse(&raw);
    }

    #[test]
    fn heads_round_trip(
        method in "[A-Z]{1,7}",
        target in "/[!-~]{0,30}",
        headers in proptest::collection::vec(("[A-Za-z0-9-]{1,20}", "[ -~]{0,30}"), 0..6),
    ) {
        let mut raw = format!("{method} {target} HTTP/1.1");
        for (n, v) in &headers {
            raw.push_str(&format!("\r\n{n}: {v}"));
        }
        let h = head::parse(raw.as_bytes()).unwrap();
        prop_assert_eq!((h.method, h.target, h.version.as_str()), (method, target, "HTTP/1.1"));
        let want: Vec<(String, String)> = headers.into_iter().map(|(n, v)| (n, v.trim().to_string())).collect();
        prop_assert_eq!(h.headers, want);
    }

    #[test]
    fn chunked_bodies_round_trip_at_any_split(body in bytes(2000), cuts in proptest::collection::vec(1usize..700, 0..8), after in bytes(20)) {
        let mut input = Vec::new();
        let mut rest = &body[..];
        for c in cuts {
            let n = c.min(rest.len());
            if n == 0 { break; }
            input.extend_from_slice(format!("{n:x};ext=1\r\n").as_bytes());
            input.extend_from_slice(&rest[..n]);
            input.extend_from_slice(b"\r\n");
            rest = &rest[n..];
        }
        if !rest.is_empty() {
            input.extend_from_slice(format!("{:X}\r\n", rest.len()).as_bytes());
            input.extend_from_slice(rest);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
        input.extend_from_slice(&after);
        let (got, left) = read_chunked(&input, 1 << 20);
        prop_assert_eq!(got, Ok(body.clone()));
        prop_assert_eq!(left, after, "bytes after the body stay for the next request");
        // One byte less than the body is refused as too large.
        if !body.is_empty() {
            prop_assert_eq!(read_chunked(&input, body.len() - 1).0, Err(ChunkErr::TooLarge));
        }
    }

    #[test]
    fn chunked_reading_never_panics(input in bytes(400), sizes in "[0-9a-fA-F;xX ]{0,20}") {
        let _ = read_chunked(&input, 1 << 16);
        let forged = format!("{sizes}\r\nabc\r\n0\r\n\r\n");
        let _ = read_chunked(forged.as_bytes(), 1 << 16);
        // Sizes beyond usize and beyond the limit.
        let huge = format!("{}\r\n", "f".repeat(1 + sizes.len()));
        prop_assert!(read_chunked(huge.as_bytes(), 100).0.is_err());
    }

    #[test]
    fn percent_encoding_round_trips(path in "\\PC{0,40}") {
        prop_assert_eq!(percent_decode(&percent_encode_path(&path)), Some(path));
    }

    #[test]
    fn percent_decoding_never_panics(s in "[%0-9a-fA-FG-Zé/]{0,40}") {
        let _ = percent_decode(&s);
    }

    #[test]
    fn ws_frames_never_panic(raw in bytes(64), len_form in 0u8..3) {
        let _ = parse_frame(&raw);
        // The extended length forms (126: 16 bits, 127: 64 bits) with any length.
        let mut forged = vec![0x81, [125u8, 126, 127][len_form as usize] | 0x80];
        forged.extend_from_slice(&raw);
        let _ = parse_frame(&forged);
    }

    #[test]
    fn masked_client_frames_round_trip(opcode in 0u8..16, payload in bytes(70_000), mask in any::<[u8; 4]>(), more in bytes(10)) {
        // A client frame: the server's framing with the mask bit and a masked payload.
        let mut f = frame(opcode, &payload);
        let head_len = f.len() - payload.len();
        f[1] |= 0x80;
        let masked: Vec<u8> = payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
        f.truncate(head_len);
        f.extend_from_slice(&mask);
        f.extend_from_slice(&masked);
        let whole = f.len();
        f.extend_from_slice(&more);
        prop_assert_eq!(parse_frame(&f), Some((opcode, payload, whole)));
        prop_assert_eq!(parse_frame(&f[..whole - 1]), None, "incomplete");
    }
}
