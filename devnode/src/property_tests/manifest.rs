//! The manifest as the dev node reads it: the real worker's substring reader (compat) and the
//! strict JSON reader (default mode), against what the SDK writes (`sandrun_protocol`).

use proptest::prelude::*;
use sandrun_protocol::manifest::Manifest as Sent;

use crate::manifest::{parse_compat, parse_strict};

/// Printable ASCII without `"` or `\` (what `check_text` lets through); `]` included.
fn plain(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ !#-\\[\\]-~]{{0,{max}}}")).unwrap()
}

fn sent() -> impl Strategy<Value = Sent> {
    let name = || proptest::option::of("[A-Za-z0-9._+-]{1,12}");
    let path = proptest::collection::vec("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,8}", 1..4)
        .prop_map(|s| s.join("/"));
    let no_star = || proptest::string::string_regex("[ !#-)+-\\[\\]-~]{0,6}").unwrap();
    let pattern = (no_star(), any::<bool>(), no_star())
        .prop_map(|(a, star, b)| format!("{a}{}{b}", if star { "*" } else { "" }))
        .prop_filter("non-empty", |p| !p.is_empty());
    (
        path,
        name(),
        name(),
        proptest::collection::vec(plain(10), 0..5),
        proptest::collection::vec(pattern, 0..4),
    )
        .prop_map(
            |(entrypoint, interpreter, environment, args, outputs)| Sent {
                entrypoint,
                interpreter,
                environment,
                args,
                outputs,
            },
        )
}

proptest! {
    /// What the SDK sends reads back the same through the real worker's substring reader and
    /// through the strict reader; what it would not read back (an array item with `]`, which the
    /// substring reader ends the array at) the SDK refuses before sending.
    #[test]
    fn what_the_sdk_sends_reads_back(m in sent()) {
        let has_bracket = m.args.iter().chain(&m.outputs).any(|v| v.contains(']'));
        prop_assert_eq!(m.validate().is_err(), has_bracket);
        prop_assume!(!has_bracket);
        let json = m.to_json();
        for got in [parse_compat(&json), parse_strict(&json).unwrap()] {
            prop_assert_eq!(got.entrypoint.as_deref(), Some(m.entrypoint.as_str()));
            prop_assert_eq!(&got.interpreter, &m.interpreter);
            prop_assert_eq!(&got.environment, &m.environment);
            prop_assert_eq!(&got.args, &m.args);
            prop_assert_eq!(&got.outputs, &m.outputs);
        }
    }

    #[test]
    fn manifest_readers_never_panic(text in "\\PC{0,200}", json_like in "[{}\\[\\]\":, a-z0-9\\\\]{0,120}") {
        for t in [&text, &json_like] {
            let _ = parse_compat(t);
            let _ = parse_strict(t);
        }
        for key in ["entrypoint", "args", "outputs"] {
            let _ = parse_compat(&format!("{{\"{key}\"{json_like}"));
        }
    }
}
