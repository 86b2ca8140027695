//! What the IPFS parts read: CAR answers from an upstream gateway and `GET /pins` query strings.

use proptest::prelude::*;

use crate::gateway::car::{self, Car};
use crate::pinning::filter::{self, Match};

fn car() -> impl Strategy<Value = Car> {
    let block = proptest::collection::vec(any::<u8>(), 0..400).prop_map(|d| (car::raw_cid(&d), d));
    (
        proptest::collection::vec(block, 0..6),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(blocks, salt)| Car {
            header: car::header_for_root(&car::raw_cid(&salt)),
            blocks,
        })
}

proptest! {
    #[test]
    fn cars_round_trip(c in car()) {
        let bytes = c.to_bytes();
        prop_assert_eq!(car::parse(&bytes), Some(c.clone()));
        // Cut anywhere inside a section: refused, not misread.
        if let Some(cut) = (1..bytes.len()).rev().find(|&i| car::parse(&bytes[..i]).is_some()) {
            prop_assert!(car::parse(&bytes[..cut]).unwrap().blocks.len() < c.blocks.len());
        }
    }

    #[test]
    fn car_parsing_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300), lens in proptest::collection::vec(any::<u64>(), 1..3)) {
        let _ = car::parse(&raw);
        let _ = car::cid_len(&raw);
        let _ = car::read_varint(&raw);
        // Sections whose lengths claim anything at all.
        let mut forged = Vec::new();
        for l in lens {
            car::write_varint(l, &mut forged);
            forged.extend_from_slice(&raw);
        }
        let _ = car::parse(&forged);
    }

    #[test]
    fn varints_round_trip(v in any::<u64>().prop_map(|v| v >> 1)) {
        let mut b = Vec::new();
        car::write_varint(v, &mut b);
        prop_assert_eq!(car::read_varint(&b), Some((v, b.len())));
    }

    #[test]
    fn pin_filters_never_panic(q in "\\PC{0,80}", pairs in proptest::collection::vec(("cid|name|match|status|before|after|limit|meta|x", "[%+,a-z0-9:TZ.{}\"-]{0,20}"), 0..6)) {
        let _ = filter::parse(&q);
        let built: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = filter::parse(&built.join("&"));
    }

    #[test]
    fn pin_filters_read_what_clients_write(
        cids in proptest::collection::vec("[a-z2-7]{10,20}", 1..11),
        name in "[A-Za-z0-9 &=+%-]{1,20}",
        how in 0usize..4,
        states in proptest::sample::subsequence(vec!["queued", "pinning", "pinned", "failed"], 1..5),
        limit in 1usize..=1000,
        meta in proptest::collection::btree_map("[a-z]{1,5}", "[ -~]{0,8}", 0..4),
    ) {
        // As URLSearchParams and Go's url.Values write them: form-encoded, lists comma-joined.
        let enc = |s: &str| -> String {
            s.bytes().map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            }).collect()
        };
        let words = ["exact", "iexact", "partial", "ipartial"];
        let meta_json = serde_json::to_string(&meta).unwrap();
        let q = format!(
            "cid={}&name={}&match={}&status={}&limit={limit}&meta={}",
            enc(&cids.join(",")), enc(&name), words[how], enc(&states.join(",")), enc(&meta_json)
        );
        let f = filter::parse(&q).unwrap();
        prop_assert_eq!(f.cids, Some(cids));
        prop_assert_eq!(f.name, Some(name));
        prop_assert_eq!(f.how, [Match::Exact, Match::IExact, Match::Partial, Match::IPartial][how]);
        let got: Vec<&str> = f.states.iter().map(|s| s.word()).collect();
        prop_assert_eq!(got, states);
        prop_assert_eq!(f.limit, limit);
        prop_assert_eq!(f.meta, Some(meta));
    }
}
