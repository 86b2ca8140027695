//! The worker's JSON as clients read it: `/status` parses as `sandrun_protocol`'s `StatusBody`
//! with the same values, and `/logs` gives a job's bytes back, in both escapings.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use sandrun_protocol::status::StatusBody;
use sandrun_protocol::text::{is_bytewise, recover_bytes, recover_text};
use serde::Serialize;

use crate::json::{self, Escape, JobText};
use crate::sandbox::Limits;
use crate::worker::bodies::StatusJson;
use crate::worker::job::{Job, JobResult, JobState, OutFile};

fn job(environment: String, interpreter: String) -> Job {
    Job {
        id: "job_1_1".into(),
        seq: 1,
        owner: [127, 0, 0, 1].into(),
        submitted: Instant::now(),
        dir: PathBuf::new(),
        entrypoint: "main.py".into(),
        interpreter,
        environment,
        args: vec![],
        outputs: vec![],
        env: vec![],
        limits: Limits {
            cpu_secs: 1,
            memory_bytes: 1,
            file_bytes: 1,
        },
        wall: Duration::from_secs(1),
        job_hash: "ab".repeat(32),
        st: Mutex::new(JobState::new()),
    }
}

fn result() -> impl Strategy<Value = JobResult> {
    let file = ("\\PC{1,12}(/\\PC{1,8})?", any::<u64>(), "[0-9a-f]{64}")
        .prop_map(|(path, size, sha256)| OutFile { path, size, sha256 });
    (
        any::<i64>(),
        0.0f64..100_000.0,
        0u64..1 << 40,
        proptest::collection::vec(file, 0..5),
        proptest::option::of("[A-Za-z0-9+/]{86}=="),
    )
        .prop_map(
            |(exit_code, cpu, memory_mb, outputs, signature)| JobResult {
                exit_code,
                cpu,
                cpu_str: sandrun_protocol::cpu::format_g(cpu),
                memory_mb,
                wall_ms: 7,
                outputs,
                signature,
            },
        )
}

proptest! {
    #[test]
    fn status_reads_back_as_the_protocols_status_body(r in result(), env in "\\PC{0,12}", interp in "\\PC{0,12}", compat in any::<bool>(), worker in proptest::option::of("[A-Za-z0-9+/]{43}=")) {
        let job = job(env.clone(), interp.clone());
        let mut st = JobState::new();
        st.result = Some(r);
        let r = st.result.as_ref().unwrap();
        let esc = if compat { Escape::Bytewise } else { Escape::Utf8 };
        let body = StatusJson::new(&job, &st, "completed", 0, worker.clone(), compat);
        let text = json::to_string(&body, esc, true);
        prop_assert_eq!(is_bytewise(text.as_bytes()), compat || (text.is_ascii()));
        let back: StatusBody = serde_json::from_str(&text).unwrap();
        let bytewise = is_bytewise(text.as_bytes());
        let m = back.execution_metadata.unwrap();
        prop_assert!((m.cpu_seconds - r.cpu).abs() <= 0.005 + 1e-9, "{} vs {}", m.cpu_seconds, r.cpu);
        prop_assert_eq!((m.exit_code, m.memory_peak_mb), (r.exit_code, r.memory_mb));
        prop_assert_eq!(recover_text(&m.environment, bytewise), env);
        prop_assert_eq!(recover_text(&m.interpreter, bytewise), interp);
        prop_assert_eq!(m.cpu_signed, (!compat).then(|| r.cpu_str.clone()));
        prop_assert_eq!(back.job_hash, job.job_hash.clone());
        let w = back.worker_metadata.unwrap();
        prop_assert_eq!((w.worker_id, w.signature), (worker, r.signature.clone()));
        // Every output, keyed by its path (the last one wins when a path repeats).
        for f in &r.outputs {
            let (_, got) = back.output_files.iter().find(|(k, _)| recover_text(k, bytewise) == f.path).unwrap();
            let last = r.outputs.iter().rev().find(|o| o.path == f.path).unwrap();
            prop_assert_eq!((got.size_bytes, &got.sha256), (last.size, &last.sha256));
        }
    }

    #[test]
    fn logs_give_the_jobs_bytes_back(out in proptest::collection::vec(any::<u8>(), 0..300), text in "\\PC{0,50}") {
        #[derive(Serialize)]
        struct Logs<'a> {
            stdout: JobText<'a>,
        }
        let read = |raw: &str| -> String {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            v["stdout"].as_str().unwrap().to_string()
        };
        // Compat: any bytes at all survive, byte for byte.
        let raw = json::to_string(&Logs { stdout: JobText(&out, Escape::Bytewise) }, Escape::Bytewise, false);
        prop_assert!(is_bytewise(raw.as_bytes()));
        prop_assert_eq!(recover_bytes(&read(&raw), true), out.clone());
        // Default mode: proper UTF-8 (invalid sequences replaced), and text comes back as text.
        let raw = json::to_string(&Logs { stdout: JobText(&out, Escape::Utf8) }, Escape::Utf8, false);
        prop_assert_eq!(read(&raw), String::from_utf8_lossy(&out).into_owned());
        let raw = json::to_string(&Logs { stdout: JobText(text.as_bytes(), Escape::Utf8) }, Escape::Utf8, false);
        prop_assert_eq!(recover_text(&read(&raw), is_bytewise(raw.as_bytes())), text);
    }
}
