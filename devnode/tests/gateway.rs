//! `sandrun-devnode gateway` in front of a real Kubo gateway: each fault is what it claims,
//! checked with the IPFS facts (every block hashes to its CID, the CAR names its root, which
//! blocks a DAG has) against the honest answer of the same gateway without a fault.

mod common;
use common::kubo::{block_matches, cid_bytes, random_bytes, read_car, Kubo};
use common::*;
use std::collections::BTreeSet;
use std::io::Read;
use std::time::{Duration, Instant};

fn gateway(kubo: &Kubo, faults: &[&str]) -> Node {
    let mut args = vec!["gateway", "--port", "0", "--upstream", &kubo.gateway];
    for f in faults {
        args.extend(["--fault", f]);
    }
    Node::start(&args, &["gateway"])
}

fn fetch(node: &Node, cid: &str, accept: &str) -> Resp {
    let url = format!("{}/ipfs/{cid}", node.url("gateway"));
    from_ureq(
        agent()
            .get(&url)
            .header("Accept", accept)
            .call()
            .expect("GET through the gateway"),
    )
}

const RAW: &str = "application/vnd.ipld.raw";
const CAR: &str = "application/vnd.ipld.car";

fn cids(blocks: &[(Vec<u8>, Vec<u8>)]) -> BTreeSet<Vec<u8>> {
    blocks.iter().map(|(c, _)| c.clone()).collect()
}

/// The sections whose bytes do not hash to their CID.
fn mismatched(blocks: &[(Vec<u8>, Vec<u8>)]) -> usize {
    blocks.iter().filter(|(c, d)| !block_matches(c, d)).count()
}

#[test]
fn every_fault_is_what_it_claims() {
    let kubo = Kubo::start();
    // 600 KB in 256 KiB chunks: three raw leaves under one dag-pb root.
    let file = kubo.add(&random_bytes(600_000));
    let leaf = kubo.add(b"one raw block");
    let root = cid_bytes(&file);

    // The honest gateway: what every fault is measured against.
    let honest = gateway(&kubo, &[]);
    let car = fetch(&honest, &file, CAR);
    assert_eq!(car.status, 200);
    assert!(car.header("content-type").unwrap().starts_with(CAR));
    assert_eq!(car.header("access-control-allow-origin"), Some("*"));
    let (car_root, blocks) = read_car(&car.body);
    assert_eq!(car_root, root);
    assert_eq!(blocks.len(), 4, "a root and three leaves");
    assert_eq!(mismatched(&blocks), 0);
    let raw = fetch(&honest, &leaf, RAW);
    assert_eq!(raw.status, 200);
    assert!(block_matches(&cid_bytes(&leaf), &raw.body));
    // ?format= works as Accept does.
    let by_query = agent()
        .get(&format!("{}/ipfs/{leaf}?format=raw", honest.url("gateway")))
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(by_query, raw.body);

    // tamper-block: the raw block and one CAR block no longer hash to their CIDs.
    let g = gateway(&kubo, &["tamper-block"]);
    let t = fetch(&g, &leaf, RAW);
    assert_eq!((t.status, t.body.len()), (200, raw.body.len()));
    assert!(
        !block_matches(&cid_bytes(&leaf), &t.body),
        "tampered raw block"
    );
    let (r, b) = read_car(&fetch(&g, &file, CAR).body);
    assert_eq!(
        (r, cids(&b)),
        (root.clone(), cids(&blocks)),
        "same root and CIDs"
    );
    assert_eq!(mismatched(&b), 1, "exactly one tampered block");

    // car-missing-block: exactly one block less, the others intact; raw blocks untouched.
    let g = gateway(&kubo, &["car-missing-block"]);
    let (r, b) = read_car(&fetch(&g, &file, CAR).body);
    assert_eq!(r, root);
    assert_eq!(b.len(), blocks.len() - 1);
    assert_eq!(cids(&blocks).difference(&cids(&b)).count(), 1);
    assert_eq!(mismatched(&b), 0);
    assert_eq!(fetch(&g, &leaf, RAW).body, raw.body);

    // car-wrong-block: every block hashes to its CID, but one is not a block of this DAG.
    let g = gateway(&kubo, &["car-wrong-block"]);
    let (r, b) = read_car(&fetch(&g, &file, CAR).body);
    assert_eq!((r, b.len()), (root.clone(), blocks.len()));
    assert_eq!(mismatched(&b), 0, "the stranger block is self-consistent");
    assert_eq!(cids(&b).difference(&cids(&blocks)).count(), 1);
    assert_eq!(cids(&blocks).difference(&cids(&b)).count(), 1);

    // wrong-root: the header names another root; the blocks are the honest ones.
    let g = gateway(&kubo, &["wrong-root"]);
    let (r, b) = read_car(&fetch(&g, &file, CAR).body);
    assert_ne!(r, root);
    assert_eq!(b, blocks);

    // slow:MS delays the answer, which is otherwise honest.
    let g = gateway(&kubo, &["slow:400"]);
    let started = Instant::now();
    let s = fetch(&g, &leaf, RAW);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(s.body, raw.body);

    // status-5xx: the status, upstream never asked.
    let g = gateway(&kubo, &["status-5xx:503"]);
    assert_eq!(fetch(&g, &leaf, RAW).status, 503);
    let g = gateway(&kubo, &["status-5xx"]);
    assert_eq!(fetch(&g, &leaf, RAW).status, 502);

    // drop: the connection closes without a byte of answer.
    let g = gateway(&kubo, &["drop"]);
    let mut s = std::net::TcpStream::connect(g.addr("gateway")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::io::Write::write_all(
        &mut s,
        format!("GET /ipfs/{leaf}?format=raw HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(got.is_empty(), "{:?}", String::from_utf8_lossy(&got));
}

#[test]
fn cors_preflight_and_bad_requests() {
    let kubo = Kubo::start();
    let g = gateway(&kubo, &["tamper-block"]);
    let addr = g.addr("gateway");
    let r = preflight(&addr, "/ipfs/x", "GET", "accept");
    assert_preflight(&r, "accept");
    assert_eq!(raw_get(&addr, "/not-ipfs").status, 404);
    // An unknown CID: upstream's error is passed on, not tampered with.
    let missing = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyka";
    let r = raw_get(&addr, &format!("/ipfs/{missing}?format=raw"));
    assert!(r.status >= 400, "{}", r.status);
    for bad in ["tamper", "slow", "status-5xx:404"] {
        let out = std::process::Command::new(BIN)
            .args([
                "gateway",
                "--port",
                "0",
                "--upstream",
                &kubo.gateway,
                "--fault",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("expected one of"));
    }
}
