//! multipart/form-data bodies (both the lenient reader and the real worker's exact one).

use proptest::prelude::*;

use crate::multipart::{boundary, parse};

#[derive(Debug, Clone)]
struct Part {
    name: String,
    filename: Option<String>,
    data: Vec<u8>,
}

fn part() -> impl Strategy<Value = Part> {
    (
        "[a-z_]{1,10}",
        proptest::option::of("[A-Za-z0-9 ._-]{1,20}"),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(name, filename, data)| Part {
            name,
            filename,
            data,
        })
}

/// A body as browsers and curl write it: the exact part headers the real worker wants.
fn body(parts: &[Part], b: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{b}\r\n").as_bytes());
        let file = p
            .filename
            .as_ref()
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        out.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{}\"{file}\r\nContent-Type: application/octet-stream\r\n\r\n",
                p.name
            )
            .as_bytes(),
        );
        out.extend_from_slice(&p.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    out
}

proptest! {
    #[test]
    fn multipart_round_trips(parts in proptest::collection::vec(part(), 1..5), b in "[A-Za-z0-9'()+_,./:=?-]{1,70}") {
        let delimiter = format!("\r\n--{b}");
        prop_assume!(parts.iter().all(|p| !p.data.windows(delimiter.len()).any(|w| w == delimiter.as_bytes())));
        let raw = body(&parts, &b);
        prop_assert_eq!(boundary(&format!("multipart/form-data; boundary={b}")), Some(b.clone()));
        for compat in [false, true] {
            let got = parse(&raw, &b, compat).unwrap();
            prop_assert_eq!(got.len(), parts.len());
            for (g, p) in got.iter().zip(&parts) {
                prop_assert_eq!((&g.name, &g.filename, &g.data), (&p.name, &p.filename, &p.data));
            }
        }
    }

    #[test]
    fn multipart_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..400), b in "[A-Za-z0-9-]{0,10}", compat in any::<bool>(), ct in "\\PC{0,60}") {
        let _ = parse(&raw, &b, compat);
        let _ = boundary(&ct);
        // A real body cut anywhere.
        let whole = body(&[Part { name: "files".into(), filename: Some("a.tgz".into()), data: raw.clone() }], "XX");
        let cut = raw.len().min(whole.len());
        let _ = parse(&whole[..cut], "XX", compat);
    }
}
