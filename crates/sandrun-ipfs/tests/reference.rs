//! Every CID of shared/ipfs/reference-cids.md (agreed by Kubo, js-ipfs, Helia and an independent
//! importer), reproduced from files generated with its recipes, sizes included; and the
//! references of design/toolchain.md.

mod common;

use common::*;
use sandrun_ipfs::{file_cid, AddOptions, DirectoryBuilder};

struct Row {
    name: &'static str,
    data: fn() -> Vec<u8>,
    sha256: (&'static str, &'static str),
    v0: (&'static str, u64),
    v1: (&'static str, u64),
}

const ROWS: &[Row] = &[
    Row {
        name: "hello.txt",
        data: hello,
        sha256: ("8dc54231", "f688"),
        v0: ("QmNWjAiQfTGAAiUYphGbCchJz8J4Z1F6KrqFWjJ8fxLU9e", 22),
        v1: (
            "bafkreienyvbdc435qv2yxige5ty3asrutuliddjnwzsksjadz3q6nvhwra",
            14,
        ),
    },
    Row {
        name: "3mb.bin",
        data: three_mb,
        sha256: ("f6dd7fec", "d2c0"),
        v0: ("Qmf5S8JCEUSRGf9EvC7y4ARoZSwcJfwwUxE72We8t8ARzf", 3146481),
        v1: (
            "bafybeieybf3rjofigdtabgxnc3k5n4nkb76ft3omredejeckm6i5krw7m4",
            3146337,
        ),
    },
    Row {
        name: "3mb-unique.bin",
        data: || unique(3 * MIB),
        sha256: ("5300c979", "5ebe"),
        v0: ("QmfCxjziYJVdayFhSYQrQnYDyS5Wcc9AHsGz4rryC1yqie", 3146481),
        v1: (
            "bafybeicf7lp2mpkqa6ou7b44rdefbecnevozunnbthbe63rc5ey6euoav4",
            3146337,
        ),
    },
    Row {
        name: "50mb.bin",
        data: fifty_mb,
        sha256: ("6a0b1f13", "5bea"),
        v0: ("QmPc1SXT3DUjPMULUbTpmVoJDUv5gFtho8MBhAoEhJKsSy", 52441328),
        v1: (
            "bafybeig5hk2fxi6vc7gw7dt4tk6fyavidvyozg6ikut6v4pegox2u4zqdm",
            52438932,
        ),
    },
    Row {
        name: "50mb-unique.bin",
        data: || unique(50 * MIB),
        sha256: ("", ""), // not listed in the reference
        v0: ("Qmej56355LtBHWPcpr2B9wjLUyboKWWiaZHbKDuP5qVfr7", 52441328),
        v1: (
            "bafybeihgmftmnygjwq3rvkwrujcecjueeqdtv4rmmfoo4bojyfernynes4",
            52438932,
        ),
    },
];

#[test]
fn every_reference_file_cid_v0_and_v1() {
    for row in ROWS {
        let data = (row.data)();
        let digest = sha256_hex(&data);
        assert!(
            digest.starts_with(row.sha256.0) && digest.ends_with(row.sha256.1),
            "{}: sha256 {digest}",
            row.name
        );
        for (options, (cid, size)) in [(AddOptions::default(), row.v0), (AddOptions::v1(), row.v1)]
        {
            let added = file_cid(&data, &options);
            assert_eq!(
                (added.cid.to_string().as_str(), added.size),
                (cid, size),
                "{} {options:?}",
                row.name
            );
        }
    }
}

#[test]
fn streaming_in_any_piece_size_gives_the_same_cid() {
    let data = unique(3 * MIB);
    for step in [1usize, 7, 4096, 262_143, 262_145, 1 << 20] {
        // Pieces of 1 byte over 3 MiB are slow-ish unoptimised; a prefix shows the same thing.
        let data = if step == 1 {
            &data[..600_000]
        } else {
            &data[..]
        };
        let whole = file_cid(data, &AddOptions::v1());
        let (streamed, _) = add_blocks(data, &AddOptions::v1(), step);
        assert_eq!(streamed, whole, "step {step}");
    }
    let (streamed, _) = add_blocks(&data, &AddOptions::default(), 65_537);
    assert_eq!(
        streamed.cid.to_string(),
        "QmfCxjziYJVdayFhSYQrQnYDyS5Wcc9AHsGz4rryC1yqie"
    );
}

#[test]
fn three_mb_unique_v1_dag_shape() {
    // The reference: a 609-byte root (sha256 45fadfa63d50079d…) over 12 raw leaves of 262,144 B.
    let (added, blocks) = add_blocks(&unique(3 * MIB), &AddOptions::v1(), 100_000);
    let (root, leaves) = blocks.split_last().unwrap();
    assert_eq!(root.cid(), &added.cid);
    assert_eq!(root.data().len(), 609);
    assert!(sha256_hex(root.data()).starts_with("45fadfa63d50079d"));
    assert_eq!(leaves.len(), 12);
    assert!(leaves
        .iter()
        .all(|b| b.data().len() == 262_144 && b.cid().codec() == sandrun_ipfs::RAW));
}

/// Files of a wrapped directory, then its CID and size for v0 and for v1.
type DirRow = (
    &'static [(&'static str, fn() -> Vec<u8>)],
    (&'static str, u64),
    (&'static str, u64),
);

#[test]
fn wrap_with_directory_rows() {
    let rows: [DirRow; 2] = [
        (
            &[("hello.txt", hello)],
            ("QmTs2Dj6d7Kw8PTQB89eD1CqrDm2cdJDU8TsWF6VVLVa3y", 77),
            (
                "bafybeieyb6iwz5zwy7gfssfjtg45ixvelqf75xnqttz3ab7nnzxwqo5ahu",
                71,
            ),
        ),
        (
            &[("hello.txt", hello), ("3mb.bin", three_mb)],
            ("QmfMdbuQvmDsLo9qw77gKWfhH7xmmjxWd9Sujwo16EnCpq", 3146610),
            (
                "bafybeihy7xs66qecvxxjfpfz5ukykchq26kaakcz372uv6l5mfzbfao7du",
                3146462,
            ),
        ),
    ];
    for (files, v0, v1) in rows {
        for (options, (cid, size)) in [(AddOptions::default(), v0), (AddOptions::v1(), v1)] {
            let mut dir = DirectoryBuilder::new(&options);
            for (name, data) in files {
                dir.add_file(name, &file_cid(&data(), &options)).unwrap();
            }
            let root = dir.finish(&mut ()).unwrap().root;
            assert_eq!(
                (root.cid.to_string().as_str(), root.size),
                (cid, size),
                "{files:?} {options:?}",
                files = files.len()
            );
        }
    }
}

#[test]
fn toolchain_references_and_empty_things() {
    let cases: [(&[u8], &str, &str); 2] = [
        (
            b"hello world",
            "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD",
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
        ),
        (
            b"",
            "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
        ),
    ];
    for (data, v0, v1) in cases {
        assert_eq!(file_cid(data, &AddOptions::default()).cid.to_string(), v0);
        assert_eq!(file_cid(data, &AddOptions::v1()).cid.to_string(), v1);
    }
    // The empty directory every IPFS implementation knows.
    let empty = DirectoryBuilder::new(&AddOptions::default())
        .finish(&mut ())
        .unwrap()
        .root;
    assert_eq!(
        empty.cid.to_string(),
        "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    );
}
