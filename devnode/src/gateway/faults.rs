//! The hostile gateway's faults (`--fault`, repeatable) and what each does to an answer.
//!
//! - `tamper-block`: one byte of a block flipped (a raw block; the last block of a CAR), so
//!   the block no longer hashes to its CID;
//! - `car-missing-block`: a CAR without its last block;
//! - `car-wrong-block`: a CAR whose last block is replaced by a block that is not part of the
//!   DAG (it hashes to its own CID, which nothing in the DAG links to);
//! - `wrong-root`: a CAR whose header names another root;
//! - `slow:MS`: every answer waits MS milliseconds;
//! - `status-5xx[:CODE]`: every request is answered CODE (default 502) without asking upstream;
//! - `drop`: every connection is closed without an answer.
//!
//! Raw-block faults leave CAR answers alone and CAR faults leave raw blocks alone.

use super::car::{self, Car};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    TamperBlock,
    CarMissingBlock,
    CarWrongBlock,
    WrongRoot,
    Slow(u64),
    Status(u16),
    Drop,
}

pub const HELP: &str = "tamper-block | car-missing-block | car-wrong-block | wrong-root | slow:MS | status-5xx[:CODE] | drop";

pub fn parse(spec: &str) -> Result<Fault, String> {
    let (name, arg) = match spec.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (spec, None),
    };
    let bad = || format!("--fault {spec:?}: expected one of {HELP}");
    Ok(match (name, arg) {
        ("tamper-block", None) => Fault::TamperBlock,
        ("car-missing-block", None) => Fault::CarMissingBlock,
        ("car-wrong-block", None) => Fault::CarWrongBlock,
        ("wrong-root", None) => Fault::WrongRoot,
        ("slow", Some(ms)) => Fault::Slow(ms.parse().map_err(|_| bad())?),
        ("status-5xx", None) => Fault::Status(502),
        ("status-5xx", Some(code)) => match code.parse() {
            Ok(c @ 500..=599) => Fault::Status(c),
            _ => return Err(bad()),
        },
        ("drop", None) => Fault::Drop,
        _ => return Err(bad()),
    })
}

/// Flips one byte in the middle of `block` (an empty block gains a byte instead).
pub fn tamper(block: &mut Vec<u8>) {
    match block.len() {
        0 => block.push(0x00),
        n => block[n / 2] ^= 0xff,
    }
}

/// The bytes of the block `car-wrong-block` puts in.
const STRANGER: &[u8] = b"sandrun-devnode: a block that is not part of this DAG";

/// Applies the CAR faults among `faults` to a CAR answer. None when `body` is not a CAR v1
/// (it is then passed on unchanged).
pub fn apply_to_car(faults: &[Fault], body: &[u8]) -> Option<Vec<u8>> {
    let mut c: Car = car::parse(body)?;
    for f in faults {
        match f {
            Fault::TamperBlock => {
                if let Some((_, data)) = c.blocks.last_mut() {
                    tamper(data);
                }
            }
            Fault::CarMissingBlock => {
                c.blocks.pop();
            }
            Fault::CarWrongBlock => {
                if let Some(last) = c.blocks.last_mut() {
                    *last = (car::raw_cid(STRANGER), STRANGER.to_vec());
                }
            }
            Fault::WrongRoot => {
                c.header = car::header_for_root(&car::raw_cid(b"sandrun-devnode: wrong root"));
            }
            Fault::Slow(_) | Fault::Status(_) | Fault::Drop => {}
        }
    }
    Some(c.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault() {
        assert_eq!(parse("slow:250"), Ok(Fault::Slow(250)));
        assert_eq!(parse("status-5xx"), Ok(Fault::Status(502)));
        assert_eq!(parse("status-5xx:503"), Ok(Fault::Status(503)));
        assert_eq!(parse("drop"), Ok(Fault::Drop));
        for bad in ["status-5xx:404", "slow", "slow:x", "tamper", "drop:1"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn car_faults_change_what_they_say() {
        let blocks: Vec<(Vec<u8>, Vec<u8>)> = [b"a".to_vec(), b"bb".to_vec()]
            .into_iter()
            .map(|d| (car::raw_cid(&d), d))
            .collect();
        let honest = Car {
            header: car::header_for_root(&blocks[0].0),
            blocks,
        };
        let run = |f: Fault| car::parse(&apply_to_car(&[f], &honest.to_bytes()).unwrap()).unwrap();
        let t = run(Fault::TamperBlock);
        assert_eq!(t.blocks[1].0, honest.blocks[1].0);
        assert_ne!(t.blocks[1].1, honest.blocks[1].1);
        assert_eq!(run(Fault::CarMissingBlock).blocks, honest.blocks[..1]);
        let w = run(Fault::CarWrongBlock);
        assert_eq!(w.blocks[1].0, car::raw_cid(&w.blocks[1].1));
        assert_ne!(w.blocks[1].0, honest.blocks[1].0);
        assert_ne!(run(Fault::WrongRoot).header, honest.header);
        assert_eq!(apply_to_car(&[Fault::TamperBlock], b"not a car"), None);
    }
}
