//! Turns what the worker sends about a job's output — stream frames, reconnects, a final `/logs`
//! body — into text chunks, each byte once, in order.
//!
//! Duplicates are avoided by counting: the assembler knows how many bytes of each stream it has
//! given out, and when a source starts again from the beginning (a reconnect, `/logs` after a
//! broken stream) it skips that many first. UTF-8 sequences split across frames are held back
//! until complete.

use sandrun_protocol::stream::{classify, Done, StreamMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdout = 0,
    Stderr = 1,
}

#[derive(Debug, Default)]
pub struct Assembler {
    emitted: [usize; 2],
    skip: [usize; 2],
    pending: [Vec<u8>; 2],
    /// The stream said the job had finished before we attached.
    pub attached_after_finish: bool,
    pub done: Option<Done>,
    pub error: Option<String>,
    /// Output came through the stream.
    pub saw_output: bool,
}

impl Assembler {
    /// Feeds one stream frame; returns the text it adds.
    pub fn frame(&mut self, frame: &[u8]) -> Vec<String> {
        match classify(frame) {
            StreamMessage::Status(s) => {
                if let Some(state) = s.strip_prefix("Job status: ") {
                    if sandrun_protocol::status::is_terminal(state.trim()) {
                        self.attached_after_finish = true;
                    }
                }
                vec![]
            }
            StreamMessage::Stdout(b) => self.bytes(Source::Stdout, &b),
            StreamMessage::Stderr(b) => self.bytes(Source::Stderr, &b),
            StreamMessage::Done(d) => {
                self.done = Some(d);
                self.flush()
            }
            StreamMessage::Error(e) => {
                self.error = Some(e);
                self.flush()
            }
        }
    }

    /// The source starts over from the first byte (a new connection, or the full `/logs`).
    pub fn restart(&mut self) {
        for s in [Source::Stdout, Source::Stderr] {
            let i = s as usize;
            self.skip[i] = self.emitted[i] + self.pending[i].len();
        }
    }

    /// The complete output (from `/logs`: JSON-decoded strings, `bytewise` if the body was
    /// escaped byte by byte, see `sandrun_protocol::text::is_bytewise`).
    pub fn full(&mut self, stdout: &[u8], stderr: &[u8]) -> Vec<String> {
        self.restart();
        let mut out = self.bytes(Source::Stdout, stdout);
        out.extend(self.bytes(Source::Stderr, stderr));
        out.extend(self.flush());
        out
    }

    fn bytes(&mut self, s: Source, b: &[u8]) -> Vec<String> {
        let i = s as usize;
        let skipped = self.skip[i].min(b.len());
        self.skip[i] -= skipped;
        let b = &b[skipped..];
        if b.is_empty() {
            return vec![];
        }
        self.saw_output = true;
        let pending = &mut self.pending[i];
        pending.extend_from_slice(b);
        let cut = complete_utf8_prefix(pending);
        let ready: Vec<u8> = pending.drain(..cut).collect();
        self.emitted[i] += ready.len();
        if ready.is_empty() {
            vec![]
        } else {
            vec![String::from_utf8_lossy(&ready).into_owned()]
        }
    }

    /// Gives out held-back bytes (at the end: an incomplete sequence becomes U+FFFD).
    pub fn flush(&mut self) -> Vec<String> {
        let mut out = vec![];
        for i in 0..2 {
            if !self.pending[i].is_empty() {
                let rest = std::mem::take(&mut self.pending[i]);
                self.emitted[i] += rest.len();
                out.push(String::from_utf8_lossy(&rest).into_owned());
            }
        }
        out
    }
}

/// Length of the longest prefix that does not end inside a UTF-8 sequence (invalid bytes count as
/// complete: they will be replaced, not waited for).
fn complete_utf8_prefix(b: &[u8]) -> usize {
    let n = b.len();
    for back in 1..=3.min(n) {
        let c = b[n - back];
        if c & 0xC0 == 0x80 {
            continue; // continuation byte: look further back for the lead
        }
        let need = match c {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if need > back { n - back } else { n };
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(a: &mut Assembler, frames: &[&[u8]]) -> String {
        frames.iter().flat_map(|f| a.frame(f)).collect()
    }

    #[test]
    fn live_stream_in_order_with_split_utf8() {
        let mut a = Assembler::default();
        let check = "✓".as_bytes();
        let text = all(
            &mut a,
            &[
                b"[STATUS] Job status: queued\n",
                b"[STATUS] Job started\n",
                b"a\n",
                b"a\n",
                &[b'x', check[0]],
                &check[1..],
                b"[STDERR]\nwarn\n",
                b"[DONE] Job completed (exit=0, CPU=0.010000s, Mem=1MB)\n",
            ],
        );
        assert_eq!(text, "a\na\nx✓warn\n");
        assert_eq!(a.done.as_ref().unwrap().exit_code, Some(0));
        assert!(!a.attached_after_finish);
    }

    #[test]
    fn reconnect_skips_what_was_given() {
        let mut a = Assembler::default();
        let mut text: String = a.frame(b"one\n").concat();
        a.restart();
        text += &all(&mut a, &[b"one\ntwo\n", b"three\n"]);
        assert_eq!(text, "one\ntwo\nthree\n");
    }

    #[test]
    fn logs_fallback_gives_only_the_rest() {
        let mut a = Assembler::default();
        let mut text: String = a.frame(b"hello ").concat();
        // /logs as the real worker sends it (every byte >= 0x80 escaped on its own), recovered.
        let stdout = sandrun_protocol::text::recover_bytes("hello h\u{00c3}\u{00a9}llo\n", true);
        text += &a.full(&stdout, b"err\n").concat();
        assert_eq!(text, "hello héllo\nerr\n");
    }

    #[test]
    fn finished_job_status_is_noticed() {
        let mut a = Assembler::default();
        a.frame(b"[STATUS] Job status: completed\n");
        assert!(a.attached_after_finish);
        a.frame(b"[ERROR] Job not found: x\n");
        assert_eq!(a.error.as_deref(), Some("Job not found: x"));
    }

    #[test]
    fn utf8_prefix() {
        assert_eq!(complete_utf8_prefix(b"ab"), 2);
        assert_eq!(complete_utf8_prefix(&[b'a', 0xE2, 0x9C]), 1);
        assert_eq!(complete_utf8_prefix(&[0xE2, 0x9C, 0x93]), 3);
        assert_eq!(complete_utf8_prefix(&[b'a', 0xFF]), 2);
    }
}
