//! Property tests of every part of the protocol crate that reads what a server or a user sent:
//! no input makes them panic, and what is written is read back unchanged.
//!
//! 256 cases per property by default; `PROPTEST_CASES=N cargo test -p sandrun-protocol` runs more.

use proptest::prelude::*;
use sandrun_protocol::manifest::{check_path, check_text, Manifest};
use sandrun_protocol::map::SortedMap;
use sandrun_protocol::status::{ExecutionMetadata, OutputFile, StatusBody, WorkerMetadata};
use sandrun_protocol::stream::{classify, format_done, StreamMessage};
use sandrun_protocol::{b64, cpu, glob, text};

// ------------------------------------------------------------------ strategies

/// Text the worker's substring reader keeps intact in an array: printable ASCII without `"`,
/// `\` or `]` (it ends an array at the first `]`).
fn plain(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ !#-\\[^-~]{{0,{max}}}")).unwrap()
}

/// A relative path of 1 to 4 segments, none empty, `.` or `..`.
fn rel_path() -> impl Strategy<Value = String> {
    proptest::collection::vec("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,10}", 1..5).prop_map(|s| s.join("/"))
}

/// An `outputs` pattern: non-empty, at most one `*`.
fn pattern() -> impl Strategy<Value = String> {
    let part = || proptest::string::string_regex("[ !#-)+-\\[^-~]{0,8}").unwrap();
    (part(), any::<bool>(), part())
        .prop_map(|(a, star, b)| format!("{a}{}{b}", if star { "*" } else { "" }))
        .prop_filter("non-empty", |p| !p.is_empty())
}

type ManifestParts = (
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    Vec<String>,
);

fn manifest((entrypoint, interpreter, environment, args, outputs): ManifestParts) -> Manifest {
    Manifest {
        entrypoint,
        interpreter,
        environment,
        args,
        outputs,
    }
}

fn valid_manifest() -> impl Strategy<Value = Manifest> {
    let name = || proptest::option::of("[A-Za-z0-9._+/-]{1,12}");
    (
        rel_path(),
        name(),
        name(),
        proptest::collection::vec(plain(12), 0..5),
        proptest::collection::vec(pattern(), 0..4),
    )
        .prop_map(manifest)
}

fn any_manifest() -> impl Strategy<Value = Manifest> {
    let s = || any::<String>();
    (
        s(),
        proptest::option::of(s()),
        proptest::option::of(s()),
        proptest::collection::vec(s(), 0..4),
        proptest::collection::vec(s(), 0..4),
    )
        .prop_map(manifest)
}

fn status_body() -> impl Strategy<Value = StatusBody> {
    let meta = (
        0u32..100_000,
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<i64>(),
        any::<String>(),
        any::<String>(),
        proptest::option::of("[0-9.e+-]{1,10}"),
    )
        .prop_map(|(hundredths, bytes, mb, wall, exit, env, interp, signed)| {
            ExecutionMetadata {
                // The server prints two decimals; that is what a client reads back.
                cpu_seconds: hundredths as f64 / 100.0,
                memory_peak_bytes: bytes,
                memory_peak_mb: mb,
                wall_time_ms: wall,
                exit_code: exit,
                environment: env,
                interpreter: interp,
                cpu_signed: signed,
            }
        });
    let file =
        (any::<u64>(), "[0-9a-f]{64}", "[a-z]{0,8}").prop_map(|(size, sha, kind)| OutputFile {
            size_bytes: size,
            sha256: sha,
            kind,
        });
    let worker = (
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
    )
        .prop_map(|(worker_id, signature)| WorkerMetadata {
            worker_id,
            signature,
        });
    (
        any::<String>(),
        "queued|running|completed|failed|cancelled",
        proptest::option::of(any::<u64>()),
        proptest::option::of(meta),
        "[0-9a-f]{64}",
        proptest::collection::vec((any::<String>(), file), 0..5),
        proptest::option::of(worker),
    )
        .prop_map(
            |(job_id, status, queue_position, meta, job_hash, files, worker)| StatusBody {
                job_id,
                status,
                queue_position,
                execution_metadata: meta,
                job_hash,
                output_files: files.into_iter().collect(),
                worker_metadata: worker,
            },
        )
}

// ------------------------------------------------------------------ manifest

proptest! {
    #[test]
    fn manifest_checks_never_panic(m in any_manifest()) {
        // Whatever a user passes, the answer is Ok or a FieldError naming a field; when Ok, the
        // JSON is what a parser and the substring reader both read back.
        match m.validate() {
            Ok(()) => {
                let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
                prop_assert_eq!(v["entrypoint"].as_str(), Some(m.entrypoint.as_str()));
            }
            Err(e) => prop_assert!(!e.field.is_empty() && !e.problem.is_empty()),
        }
    }

    #[test]
    fn valid_manifests_round_trip_as_plain_json(m in valid_manifest()) {
        prop_assert_eq!(m.validate(), Ok(()));
        let json = m.to_json();
        // No escapes at all: the worker's reader does not decode them.
        prop_assert!(!json.contains('\\'), "{}", json);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let list = |k: &str| -> Vec<String> {
            v[k].as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
        };
        prop_assert_eq!(v["entrypoint"].as_str(), Some(m.entrypoint.as_str()));
        prop_assert_eq!(v["interpreter"].as_str(), m.interpreter.as_deref());
        prop_assert_eq!(v["environment"].as_str(), m.environment.as_deref());
        prop_assert_eq!(list("args"), m.args);
        prop_assert_eq!(list("outputs"), m.outputs);
    }

    #[test]
    fn check_text_accepts_exactly_plain_ascii(s in any::<String>()) {
        let plain = s.chars().all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\');
        prop_assert_eq!(check_text("f", &s).is_ok(), plain);
    }

    #[test]
    fn check_path_refuses_every_escape(segs in proptest::collection::vec("[a-z]{1,3}|\\.|\\.\\.|", 1..5), lead in any::<bool>()) {
        let path = format!("{}{}", if lead { "/" } else { "" }, segs.join("/"));
        let climbs = lead || segs.iter().any(|s| s.is_empty() || s == "." || s == "..");
        prop_assert_eq!(check_path("p", &path).is_err(), climbs, "{}", path);
    }
}

// ------------------------------------------------------------------ status JSON

proptest! {
    #[test]
    fn status_body_round_trips(s in status_body()) {
        let json = serde_json::to_string(&s).unwrap();
        let back: StatusBody = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn status_reading_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = serde_json::from_slice::<StatusBody>(&bytes);
    }

    #[test]
    fn sorted_map_keeps_the_last_value_in_key_order(pairs in proptest::collection::vec((any::<String>(), any::<u8>()), 0..20)) {
        let m: SortedMap<u8> = pairs.iter().cloned().collect();
        let keys: Vec<&String> = m.keys().collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (k, _) in &pairs {
            let last = pairs.iter().rev().find(|(k2, _)| k2 == k).map(|(_, v)| v);
            prop_assert_eq!(m.get(k), last);
        }
        let back: SortedMap<u8> = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        prop_assert_eq!(back, m);
    }
}

// ------------------------------------------------------------------ byte-escaped text

proptest! {
    #[test]
    fn bytewise_escaping_recovers_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let json = format!("\"{}\"", text::escape_bytewise(&bytes));
        prop_assert!(text::is_bytewise(json.as_bytes()));
        let decoded: String = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(text::recover_bytes(&decoded, true), bytes.clone());
        prop_assert_eq!(text::recover_text(&decoded, true), String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn text_is_recovered_whichever_way_it_was_escaped(s in any::<String>()) {
        // The dev node's default mode (and any proper server) sends UTF-8; the real worker
        // escapes byte by byte. Deciding on the raw body gives the text back in both cases.
        let proper = serde_json::to_string(&s).unwrap();
        let bytewise = format!("\"{}\"", text::escape_bytewise(s.as_bytes()));
        for raw in [proper, bytewise] {
            let decoded: String = serde_json::from_str(&raw).unwrap();
            prop_assert_eq!(&text::recover_text(&decoded, text::is_bytewise(raw.as_bytes())), &s);
        }
    }

    #[test]
    fn recovery_never_panics(s in any::<String>(), bytewise in any::<bool>()) {
        let b = text::recover_bytes(&s, bytewise);
        if !bytewise {
            prop_assert_eq!(b, s.as_bytes().to_vec());
        }
        let _ = text::recover_text(&s, bytewise);
    }
}

// ------------------------------------------------------------------ log stream messages

proptest! {
    #[test]
    fn classifying_never_panics(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = classify(&frame);
    }

    #[test]
    fn done_line_round_trips(word in "completed|failed", exit in -255i64..256, micros in 0u64..10_000_000_000, mem in 0u64..100_000) {
        let cpu = micros as f64 / 1e6;
        let line = format_done(word.as_str(), exit, cpu, mem);
        let StreamMessage::Done(d) = classify(line.as_bytes()) else {
            return Err(TestCaseError::fail(format!("not a [DONE] line: {line}")));
        };
        prop_assert_eq!(d.exit_code, Some(exit));
        prop_assert_eq!(d.memory_mb, Some(mem));
        let fixed = d.cpu_fixed.unwrap();
        prop_assert_eq!(&fixed, &format!("{cpu:.6}"));
        // Six decimals pin the signed %g figure.
        prop_assert!(cpu::from_fixed(&fixed).contains(&cpu::format_g(cpu)), "{}", fixed);
    }

    #[test]
    fn prefixed_frames_keep_their_payload(payload in proptest::collection::vec(any::<u8>(), 0..100)) {
        let mut f = b"[STDERR]\n".to_vec();
        f.extend_from_slice(&payload);
        prop_assert_eq!(classify(&f), StreamMessage::Stderr(payload));
    }
}

// ------------------------------------------------------------------ CPU figures

proptest! {
    #[test]
    fn true_cpu_is_among_the_candidates_of_its_rounding(micros in 0u64..10_000_000_000) {
        // The worker signs %g of its double and shows it with two decimals in /status.
        let signed = cpu::format_g(micros as f64 / 1e6);
        let shown: f64 = format!("{:.2}", micros as f64 / 1e6).parse().unwrap();
        prop_assert!(cpu::candidates(shown).contains(&signed), "{} shown as {}", signed, shown);
    }

    #[test]
    fn integer_and_float_g_agree(micros in any::<u64>().prop_map(|m| m % 1_000_000_000_000_000)) {
        let want = cpu::format_g(micros as f64 / 1e6);
        prop_assert!(cpu::format_g_micros(micros).contains(&want), "{}: {}", micros, want);
    }

    #[test]
    fn fixed_parsing_never_panics(s in any::<String>(), digits in "[0-9]{0,25}\\.?[0-9]{0,9}") {
        let _ = cpu::from_fixed(&s);
        let _ = cpu::from_fixed(&digits);
    }
}

// ------------------------------------------------------------------ output patterns

proptest! {
    #[test]
    fn star_patterns_match_prefix_anything_suffix(pre in "[a-z/.]{0,6}", mid in "[a-z/.]{0,6}", suf in "[a-z/.]{0,6}", other in "[a-z/.]{0,12}") {
        let pat = format!("{pre}*{suf}");
        let inside = format!("{pre}{mid}{suf}");
        prop_assert!(glob::matches(&pat, &inside));
        let want = other.len() >= pre.len() + suf.len() && other.starts_with(&pre) && other.ends_with(&suf);
        prop_assert_eq!(glob::matches(&pat, &other), want);
        // Without a star a pattern is an exact path.
        prop_assert_eq!(glob::matches(&other, &mid), other == mid);
        prop_assert!(glob::matches("*", &other));
    }

    #[test]
    fn glob_never_panics(p in any::<String>(), s in any::<String>()) {
        let _ = glob::matches(&p, &s);
    }

    #[test]
    fn substring_search_agrees_with_str_find(text in "[abé]{0,12}", needle in "[abé]{0,3}") {
        prop_assert_eq!(sandrun_protocol::text::find(&text, &needle), text.find(&needle));
    }
}

// ------------------------------------------------------------------ base64

proptest! {
    #[test]
    fn base64_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let enc = b64::encode(&bytes);
        prop_assert_eq!(enc.len(), bytes.len().div_ceil(3) * 4);
        prop_assert_eq!(b64::decode(&enc), Some(bytes));
    }

    #[test]
    fn base64_decoding_never_panics(s in "[A-Za-z0-9+/= !-]{0,40}", t in any::<String>()) {
        for input in [&s, &t] {
            if let Some(b) = b64::decode(input) {
                prop_assert!(b.len() <= input.trim().len() / 4 * 3);
            }
        }
    }
}
