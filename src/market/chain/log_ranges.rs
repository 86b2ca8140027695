//! Log reads on a long chain: block ranges split when the provider refuses one (where to start
//! is `deployment`'s).
//!
//! Public providers cap `eth_getLogs`: Infura answers -32005 "query returned more than 10000
//! results", Alchemy and QuickNode refuse ranges over 2,000-10,000 blocks (-32602/-32600, "block
//! range"/"Log response size exceeded"), BSC and Polygon nodes "exceed maximum block range:
//! 5000". The SDK's log reads (`Rpc::logs`) go through `Ranges`, which halves a refused range
//! until the provider answers, so no caller has to know a provider's limit.

/// Whether a provider's error answer to `eth_getLogs` refuses the size of the request (its
/// block range or its number of results) rather than the request itself: asking for less may
/// pass. -32005 is "limit exceeded" (EIP-1474); the others are recognised by their words, as
/// providers use -32000, -32600 and -32602 for other errors too.
pub fn is_range_refusal(code: Option<i64>, message: &str) -> bool {
    if code == Some(-32005) {
        return true;
    }
    let m = message.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "more than",
        "too many",
        "block range",
        "range too",
        "range is too",
        "range limit",
        "limited to",
        "max results",
        "maximum block range",
        "response size",
        "limit exceeded",
        "exceed",
        "too large",
        "too wide",
    ];
    WORDS.iter().any(|w| m.contains(w))
}

/// The block ranges a log read asks for, in order: the whole range first, halves of a refused
/// one next. Once the provider refused a span and answered a smaller one, a range larger than
/// any answered is split before asking (a provider with a 10,000-block cap over 20M blocks costs
/// 2,048 answered requests and 11 refusals, not a refusal for every range on the way down).
#[derive(Debug, Clone)]
pub struct Ranges {
    /// Still to ask, the next on top (ranges are inclusive).
    pending: Vec<(u64, u64)>,
    /// The smallest span refused so far.
    refused: Option<u64>,
    /// The largest span answered since the first refusal.
    answered: Option<u64>,
}

impl Ranges {
    pub fn new(from: u64, to: u64) -> Ranges {
        Ranges {
            pending: if from <= to { vec![(from, to)] } else { vec![] },
            refused: None,
            answered: None,
        }
    }

    /// The range to ask for next (None: every block was read).
    pub fn to_ask(&mut self) -> Option<(u64, u64)> {
        loop {
            let &(a, b) = self.pending.last()?;
            let span = b - a + 1;
            let too_big = match (self.refused, self.answered) {
                (Some(r), Some(ok)) => span >= r || span > ok,
                (Some(r), None) => span >= r,
                _ => false,
            };
            if too_big && a < b {
                self.split();
            } else {
                return Some((a, b));
            }
        }
    }

    /// The range `to_ask()` gave was answered.
    pub fn answered(&mut self) {
        if let Some((a, b)) = self.pending.pop() {
            if self.refused.is_some() {
                self.answered = Some(self.answered.unwrap_or(0).max(b - a + 1));
            }
        }
    }

    /// The range `to_ask()` gave was refused for its size: false when it is one block, which
    /// cannot be made smaller (the refusal is then the answer).
    pub fn refused(&mut self) -> bool {
        let Some(&(a, b)) = self.pending.last() else {
            return false;
        };
        if a == b {
            return false;
        }
        let span = b - a + 1;
        self.refused = Some(self.refused.map_or(span, |r| r.min(span)));
        self.split();
        true
    }

    fn split(&mut self) {
        if let Some((a, b)) = self.pending.pop() {
            let mid = a + (b - a) / 2;
            self.pending.push((mid + 1, b));
            self.pending.push((a, mid));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `from..=to` through `Ranges` from a provider that refuses more than `cap` blocks;
    /// the blocks read, in order, and the number of requests.
    fn read(from: u64, to: u64, cap: u64) -> (Vec<u64>, usize) {
        let mut r = Ranges::new(from, to);
        let (mut blocks, mut asked) = (Vec::new(), 0);
        while let Some((a, b)) = r.to_ask() {
            asked += 1;
            if b - a + 1 > cap {
                assert!(r.refused(), "{a}..={b} can be split");
            } else {
                blocks.extend(a..=b);
                r.answered();
            }
        }
        (blocks, asked)
    }

    #[test]
    fn an_answered_range_is_asked_once() {
        assert_eq!(read(5, 100, 1000), ((5..=100).collect(), 1));
        assert_eq!(read(7, 7, 1), (vec![7], 1));
        assert_eq!(read(9, 8, 1), (vec![], 0));
    }

    #[test]
    fn a_refused_range_is_read_in_halves_in_order_each_block_once() {
        for (from, to, cap) in [(0, 99, 10), (3, 1000, 7), (0, 1, 1), (10, 20_000, 1000)] {
            let (blocks, _) = read(from, to, cap);
            assert_eq!(
                blocks,
                (from..=to).collect::<Vec<_>>(),
                "{from}..={to} cap {cap}"
            );
        }
    }

    #[test]
    fn a_refused_span_is_not_asked_again() {
        // 20M blocks under a 10,000-block cap: 2^11 ranges of ~9,766 blocks, 11 refusals
        // (20M, 10M, … down to ~19.5k), not one for every larger range on the way.
        let (blocks, asked) = read(1, 20_000_000, 10_000);
        assert_eq!(blocks.len(), 20_000_000);
        assert_eq!(asked, 2048 + 11);
    }

    #[test]
    fn one_refused_block_is_the_answer() {
        let mut r = Ranges::new(4, 4);
        assert_eq!(r.to_ask(), Some((4, 4)));
        assert!(!r.refused());
    }

    #[test]
    fn refusals_are_told_from_other_errors() {
        let refusals = [
            (Some(-32005), "query returned more than 10000 results"),
            (Some(-32602), "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"),
            (Some(-32600), "eth_getLogs is limited to a 10000 range"),
            (Some(-32000), "exceed maximum block range: 5000"),
            (Some(-32000), "block range is too wide"),
            (None, "query exceeds max results 20000, retry with the range 1-100"),
        ];
        for (code, message) in refusals {
            assert!(is_range_refusal(code, message), "{message}");
        }
        let others = [
            (
                Some(-32602),
                "invalid argument 0: hex string without 0x prefix",
            ),
            (
                Some(-32601),
                "the method eth_getLogs does not exist/is not available",
            ),
            (Some(-32000), "header not found"),
            (Some(4001), "User rejected the request."),
        ];
        for (code, message) in others {
            assert!(!is_range_refusal(code, message), "{message}");
        }
    }
}
