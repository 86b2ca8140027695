//! Messages of the worker's log stream (WebSocket `/stream/{id}`).

/// One message of the stream, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamMessage {
    /// `[STATUS] …` — progress of the job, not output.
    Status(String),
    /// `[STDERR]\n…` — the job's standard error.
    Stderr(Vec<u8>),
    /// `[DONE] Job completed (exit=0, CPU=0.087581s, Mem=13MB)` — the end.
    Done(Done),
    /// `[ERROR] …` — the server gave up (e.g. unknown job); the end.
    Error(String),
    /// Anything else is the job's standard output.
    Stdout(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    pub exit_code: Option<i64>,
    /// CPU seconds as printed (`%f`, six decimals).
    pub cpu_fixed: Option<String>,
    pub memory_mb: Option<u64>,
}

pub fn classify(frame: &[u8]) -> StreamMessage {
    let text = |rest: &[u8]| String::from_utf8_lossy(rest).trim_end().to_string();
    if let Some(rest) = frame.strip_prefix(b"[STATUS] ") {
        StreamMessage::Status(text(rest))
    } else if let Some(rest) = frame.strip_prefix(b"[STDERR]\n") {
        StreamMessage::Stderr(rest.to_vec())
    } else if let Some(rest) = frame.strip_prefix(b"[DONE] ") {
        StreamMessage::Done(parse_done(&text(rest)))
    } else if let Some(rest) = frame.strip_prefix(b"[ERROR] ") {
        StreamMessage::Error(text(rest))
    } else {
        StreamMessage::Stdout(frame.to_vec())
    }
}

fn parse_done(s: &str) -> Done {
    let field = |key: &str| -> Option<&str> {
        let start = crate::text::find(s, key)? + key.len();
        let rest = &s[start..];
        let end = rest.find([',', ')']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    };
    Done {
        exit_code: field("exit=").and_then(|v| v.parse().ok()),
        cpu_fixed: field("CPU=").map(|v| v.trim_end_matches('s').to_string()),
        memory_mb: field("Mem=").and_then(|v| v.strip_suffix("MB").unwrap_or(v).parse().ok()),
    }
}

/// The `[DONE]` line as the worker prints it.
pub fn format_done(status_word: &str, exit_code: i64, cpu_seconds: f64, memory_mb: u64) -> String {
    format!(
        "[DONE] Job {status_word} (exit={exit_code}, CPU={cpu_seconds:.6}s, Mem={memory_mb}MB)\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_kind() {
        assert_eq!(
            classify(b"[STATUS] Job started\n"),
            StreamMessage::Status("Job started".into())
        );
        assert_eq!(
            classify(b"[STDERR]\nwarn\n"),
            StreamMessage::Stderr(b"warn\n".to_vec())
        );
        assert_eq!(
            classify(b"hello\n"),
            StreamMessage::Stdout(b"hello\n".to_vec())
        );
        assert_eq!(
            classify(b"[ERROR] Job not found: x\n"),
            StreamMessage::Error("Job not found: x".into())
        );
        let line = format_done("completed", 0, 0.087581, 13);
        assert_eq!(
            line,
            "[DONE] Job completed (exit=0, CPU=0.087581s, Mem=13MB)\n"
        );
        assert_eq!(
            classify(line.as_bytes()),
            StreamMessage::Done(Done {
                exit_code: Some(0),
                cpu_fixed: Some("0.087581".into()),
                memory_mb: Some(13)
            })
        );
        match classify(b"[DONE] Job failed (exit=-1, CPU=1.000000s, Mem=5MB)\n") {
            StreamMessage::Done(d) => assert_eq!(d.exit_code, Some(-1)),
            other => panic!("{other:?}"),
        }
    }
}
