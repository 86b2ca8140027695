//! Properties of the log assembler (issue 13): whatever way the worker's output is cut into
//! frames, however often the stream reconnects, and whenever the SDK falls back to `/logs`, every
//! byte of each stream is given exactly once, in order, and no input makes it panic.
//!
//! Stdout is drawn from one alphabet and stderr from another (both with 2-, 3- and 4-byte UTF-8
//! characters), so the two streams can be told apart in the assembler's output, which does not
//! say which stream a chunk came from. Neither has `[`: a frame that starts with `[STATUS] ` is a
//! status line whatever the job meant by it, on the real worker as here.

use super::assembler::Assembler;
use proptest::prelude::*;

const STDOUT: &[char] = &['a', 'b', '\n', ' ', 'é', '✓', '😀'];
const STDERR: &[char] = &['X', 'Y', '\t', 'ß', '€', '🎉'];

fn text(alphabet: &'static [char], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max)
        .prop_map(|cs| cs.into_iter().collect())
}

/// `bytes` cut at `cuts` (byte offsets, any order, duplicates allowed): the pieces in order.
fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| c % (bytes.len() + 1))
        .chain([0, bytes.len()])
        .collect();
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

/// The worker's frames for the two streams, interleaved as `order` says (`true`: stderr next).
fn frames(
    out: &str,
    err: &str,
    out_cuts: &[usize],
    err_cuts: &[usize],
    order: &[bool],
) -> Vec<Vec<u8>> {
    let mut o = cut(out.as_bytes(), out_cuts).into_iter();
    let mut e = cut(err.as_bytes(), err_cuts)
        .into_iter()
        .map(|b| [b"[STDERR]\n".to_vec(), b].concat());
    let mut all = Vec::new();
    for &pick_err in order.iter().chain(std::iter::repeat(&false)) {
        let next = if pick_err {
            e.next().or_else(|| o.next())
        } else {
            o.next().or_else(|| e.next())
        };
        match next {
            Some(f) => all.push(f),
            None => break,
        }
    }
    all
}

const DONE: &[u8] = b"[DONE] Job completed (exit=0, CPU=0.010000s, Mem=1MB)\n";

/// The chunks' characters, split back into the two streams by alphabet.
fn streams(chunks: &[String]) -> (String, String) {
    let all: String = chunks.concat();
    let out = all.chars().filter(|c| STDOUT.contains(c)).collect();
    let err = all.chars().filter(|c| STDERR.contains(c)).collect();
    assert_eq!(
        all.chars()
            .filter(|c| !STDOUT.contains(c) && !STDERR.contains(c))
            .count(),
        0,
        "{all:?}"
    );
    (out, err)
}

fn feed(a: &mut Assembler, frames: &[Vec<u8>]) -> Vec<String> {
    frames.iter().flat_map(|f| a.frame(f)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_framing_gives_each_byte_once(
        out in text(STDOUT, 40), err in text(STDERR, 40),
        out_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        err_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        order in proptest::collection::vec(any::<bool>(), 0..24),
    ) {
        let mut a = Assembler::default();
        let mut chunks = feed(&mut a, &frames(&out, &err, &out_cuts, &err_cuts, &order));
        chunks.extend(a.frame(DONE));
        prop_assert_eq!(streams(&chunks), (out, err));
        prop_assert!(a.done.is_some());
    }

    #[test]
    fn a_reconnect_anywhere_repeats_nothing(
        out in text(STDOUT, 40), err in text(STDERR, 40),
        out_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        err_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        order in proptest::collection::vec(any::<bool>(), 0..24),
        (first, second) in (any::<usize>(), any::<usize>()),
    ) {
        let fs = frames(&out, &err, &out_cuts, &err_cuts, &order);
        let mut a = Assembler::default();
        // The first connection breaks after `first` frames; the second, which starts again from
        // the job's first byte, after `second`; the third runs to the end.
        let mut chunks = feed(&mut a, &fs[..first % (fs.len() + 1)]);
        a.restart();
        chunks.extend(feed(&mut a, &fs[..second % (fs.len() + 1)]));
        a.restart();
        chunks.extend(feed(&mut a, &fs));
        chunks.extend(a.frame(DONE));
        prop_assert_eq!(streams(&chunks), (out, err));
    }

    #[test]
    fn the_logs_fallback_after_any_prefix_repeats_nothing(
        out in text(STDOUT, 40), err in text(STDERR, 40),
        out_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        err_cuts in proptest::collection::vec(any::<usize>(), 0..12),
        order in proptest::collection::vec(any::<bool>(), 0..24),
        seen in any::<usize>(),
    ) {
        let fs = frames(&out, &err, &out_cuts, &err_cuts, &order);
        let mut a = Assembler::default();
        let mut chunks = feed(&mut a, &fs[..seen % (fs.len() + 1)]);
        chunks.extend(a.full(out.as_bytes(), err.as_bytes()));
        prop_assert_eq!(streams(&chunks), (out, err));
    }

    #[test]
    fn any_frames_and_calls_never_panic(
        steps in proptest::collection::vec(
            (0u8..4, proptest::collection::vec(any::<u8>(), 0..40), proptest::collection::vec(any::<u8>(), 0..40)),
            0..20,
        ),
    ) {
        let mut a = Assembler::default();
        for (what, x, y) in steps {
            match what {
                0 => { a.frame(&x); }
                1 => { a.frame(&[b"[STDERR]\n".as_slice(), &x].concat()); }
                2 => a.restart(),
                _ => { a.full(&x, &y); }
            }
        }
        a.flush();
    }
}

/// Exhaustively: the stdout text cut into two or three frames at every pair of byte positions
/// (inside every multi-byte character included).
#[test]
fn every_split_position() {
    let out = "a✓é😀\nb€😀é\n";
    let bytes = out.as_bytes();
    for i in 0..=bytes.len() {
        for j in i..=bytes.len() {
            let mut a = Assembler::default();
            let mut chunks = feed(
                &mut a,
                &[
                    bytes[..i].to_vec(),
                    bytes[i..j].to_vec(),
                    bytes[j..].to_vec(),
                ],
            );
            chunks.extend(a.frame(DONE));
            assert_eq!(chunks.concat(), out, "cut at {i} and {j}");
            // Each chunk is whole characters: nothing was replaced by U+FFFD.
            assert!(
                chunks.iter().all(|c| !c.contains('\u{FFFD}')),
                "cut at {i} and {j}"
            );
        }
    }
}
