//! Cross-checks against a real Kubo (v0.43, offline, started by scripts/kubo.sh on free ports):
//! CIDs and sizes of `add` with explicit options around chunk, link-count and HAMT boundaries;
//! files and directories re-assembled from Kubo's trustless gateway (CAR and raw blocks); and
//! tampered, incomplete and wrong-root answers refused with the right typed error.

mod common;

use common::kubo::{json_token, unquote, Kubo, Part};
use common::*;
use sandrun_ipfs::*;
use std::collections::BTreeMap;

/// The `add` query for these options, every option explicit (what the SDK will send). The base
/// must follow the version: Kubo answers a CIDv0 asked with `cid-base=base32` as its CIDv1.
fn add_query(options: &AddOptions, extra: &str) -> String {
    format!(
        "cid-version={}&raw-leaves={}&chunker={}&cid-base={}{extra}",
        options.cid_version_number(),
        options.raw_leaves(),
        options.chunker(),
        if options.cid_version == Version::V0 {
            "base58btc"
        } else {
            "base32"
        },
    )
}

/// Adds one file to Kubo and computes it locally; both must agree on CID and size.
fn check_file(kubo: &Kubo, data: &[u8], options: &AddOptions) -> Added {
    let local = file_cid(data, options);
    let lines = kubo.add(
        &add_query(options, "&pin=false&only-hash=true"),
        &[Part::File("f", data)],
    );
    let (_, hash, size) = &lines[0];
    let remote = Added {
        cid: parse_cid(hash).unwrap(),
        size: parse_size(size).unwrap(),
    };
    assert_eq!(remote, local, "{} bytes, {options:?}", data.len());
    local
}

#[test]
fn files_around_chunk_and_link_count_boundaries() {
    let kubo = Kubo::shared();
    let data = unique(3 * MIB + 64 * 174 * 174 + 7);
    let chunk = 262_144;
    for options in [AddOptions::default(), AddOptions::v1()] {
        for len in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5] {
            check_file(&kubo, &data[..len], &options);
        }
    }
    // With 64-byte chunks the link-count boundaries are small files: 174 leaves fill one node,
    // 174² fill two levels, one more byte adds a level.
    for options in [AddOptions::default(), AddOptions::v1()] {
        let options = options.with_chunker("size-64").unwrap();
        for len in [64 * 174, 64 * 174 + 1, 64 * 174 * 174, 64 * 174 * 174 + 1] {
            check_file(&kubo, &data[..len], &options);
        }
    }
    // The mixed combinations Kubo allows, and odd chunk sizes.
    let mixed = [
        AddOptions::default().with_raw_leaves(true),
        AddOptions::v1().with_raw_leaves(false),
        AddOptions::default().with_chunker("size-1000").unwrap(),
        AddOptions::v1().with_chunker("size-1048576").unwrap(),
    ];
    for options in mixed {
        check_file(&kubo, &data[..2 * MIB + 17], &options);
    }
}

#[test]
fn answers_in_other_bases_and_size_forms_are_normalized() {
    let kubo = Kubo::shared();
    let options = AddOptions::v1();
    let local = file_cid(&hello(), &options);
    // js-ipfs answers CIDv1 in base58btc; Kubo does too when asked. Same CID once parsed.
    let query = add_query(&options, "&pin=false&only-hash=true")
        .replace("cid-base=base32", "cid-base=base58btc");
    let (_, hash, size) = kubo
        .add(&query, &[Part::File("hello.txt", &hello())])
        .remove(0);
    assert!(hash.starts_with('z'), "{hash}");
    assert_eq!(parse_cid(&hash).unwrap(), local.cid);
    assert_eq!(normalize_cid(&hash).unwrap(), local.cid.to_string());
    // Kubo sends Size as a string; `files/stat` sends numbers. Both parse to the same u64.
    assert!(size.starts_with('"'), "Kubo's add sends a string: {size}");
    assert_eq!(parse_size(&size).unwrap(), local.size);

    // CIDv0 with `cid-base=base32`: Kubo prints the CIDv1 of the same block.
    let v0 = AddOptions::default();
    let local = file_cid(&hello(), &v0);
    let query = add_query(&v0, "&pin=false&only-hash=true")
        .replace("cid-base=base58btc", "cid-base=base32");
    let (_, hash, _) = kubo
        .add(&query, &[Part::File("hello.txt", &hello())])
        .remove(0);
    let answered = parse_cid(&hash).unwrap();
    assert_eq!(answered.version(), Version::V1, "{hash}");
    assert!(same_block(&answered, &local.cid));
    assert_eq!(other_version(&answered), Some(local.cid));
}

/// A tree as Kubo's multipart upload carries it: directories before their contents.
fn tree_parts<'a>(dirs: &'a [&'a str], files: &'a [(String, Vec<u8>)]) -> Vec<Part<'a>> {
    let mut parts: Vec<Part<'a>> = dirs.iter().map(|d| Part::Dir(d)).collect();
    parts.extend(files.iter().map(|(path, data)| Part::File(path, data)));
    parts
}

/// Builds the tree locally, returns (root, every directory by path, every file by path).
fn local_tree(
    dirs: &[&str],
    files: &[(String, Vec<u8>)],
    options: &AddOptions,
) -> (Added, BTreeMap<String, Added>) {
    let mut builder = DirectoryBuilder::new(options);
    let mut all = BTreeMap::new();
    for dir in dirs {
        builder.add_directory(dir).unwrap();
    }
    for (path, data) in files {
        let added = file_cid(data, options);
        builder.add_file(path, &added).unwrap();
        all.insert(path.clone(), added);
    }
    let out = builder.finish(&mut ()).unwrap();
    all.extend(out.directories);
    (out.root, all)
}

fn kubo_tree(
    kubo: &Kubo,
    dirs: &[&str],
    files: &[(String, Vec<u8>)],
    options: &AddOptions,
    extra: &str,
) -> BTreeMap<String, Added> {
    let query = add_query(options, &format!("&wrap-with-directory=true{extra}"));
    kubo.add(&query, &tree_parts(dirs, files))
        .into_iter()
        .map(|(name, hash, size)| {
            (
                name,
                Added {
                    cid: parse_cid(&hash).unwrap(),
                    size: parse_size(&size).unwrap(),
                },
            )
        })
        .collect()
}

#[test]
fn nested_directories_match_kubo() {
    let kubo = Kubo::shared();
    let dirs = ["a", "a/b", "a/b/empty", "c"];
    let files: Vec<(String, Vec<u8>)> = vec![
        ("a/b/deep.txt".into(), b"deep\n".to_vec()),
        ("a/one-chunk.bin".into(), unique(262_144)),
        ("a/two-chunks.bin".into(), unique(262_145)),
        ("c/hello.txt".into(), hello()),
        ("top.bin".into(), three_mb()),
        ("empty.txt".into(), Vec::new()),
    ];
    for options in [AddOptions::default(), AddOptions::v1()] {
        let (root, local) = local_tree(&dirs, &files, &options);
        let remote = kubo_tree(&kubo, &dirs, &files, &options, "&pin=false&only-hash=true");
        assert_eq!(remote[""], root, "root, {options:?}");
        for (path, added) in &local {
            assert_eq!(remote.get(path), Some(added), "{path}, {options:?}");
        }
        assert_eq!(
            remote.len(),
            local.len() + 1,
            "Kubo reports every file, directory and the wrapper"
        );
    }
}

/// `count` files in directory `d` whose names make Kubo's size estimate (Σ name + CID bytes)
/// land exactly on `total`.
fn hamt_files(count: usize, cid_len: usize, total: usize) -> Vec<(String, Vec<u8>)> {
    let base = total / count - cid_len;
    let extra = total - count * (base + cid_len); // the first `extra` names get one more byte
    (0..count)
        .map(|i| {
            let width = base - 1 + usize::from(i < extra);
            let name = format!("d/f{i:0width$}");
            let data = name.as_bytes().to_vec();
            (name, data)
        })
        .collect()
}

#[test]
fn hamt_threshold_exactly_at_and_just_above() {
    let kubo = Kubo::shared();
    let threshold = HAMT_THRESHOLD as usize;
    for (options, cid_len) in [(AddOptions::default(), 34), (AddOptions::v1(), 36)] {
        for (total, sharded) in [(threshold, false), (threshold + 1, true)] {
            let files = hamt_files(4096, cid_len, total);
            let estimate: usize = files.iter().map(|(p, _)| p.len() - 2 + cid_len).sum();
            assert_eq!(estimate, total);
            let (_, local) = local_tree(&["d"], &files, &options);
            let remote = kubo_tree(&kubo, &["d"], &files, &options, "&pin=false&only-hash=true");
            assert_eq!(
                remote["d"], local["d"],
                "directory d at estimate {total}, {options:?}"
            );
            // The walker tells flat from sharded, and lists the same entries either way.
            let (kind, entries) = list_with_local_blocks(&files, &options);
            assert_eq!(kind, RootKind::Directory { sharded }, "estimate {total}");
            assert_eq!(entries.len(), 4096);
        }
    }
}

/// Lists directory `d` of `files` from the blocks the local builder made (no Kubo involved).
fn list_with_local_blocks(
    files: &[(String, Vec<u8>)],
    options: &AddOptions,
) -> (RootKind, BTreeMap<String, Cid>) {
    let mut blocks = Vec::new();
    let mut builder = DirectoryBuilder::new(options);
    for (path, data) in files {
        builder
            .add_file(path.strip_prefix("d/").unwrap(), &file_cid(data, options))
            .unwrap();
    }
    let root = builder
        .finish(&mut |cid: &Cid, data: &[u8]| {
            blocks.push(Block::verify(*cid, data.to_vec()).unwrap())
        })
        .unwrap()
        .root;
    let mut walker = DagWalker::new(root.cid, Expect::Directory, Limits::default());
    blocks.into_iter().for_each(|b| walker.supply(b));
    let mut entries = BTreeMap::new();
    loop {
        match walker.poll().unwrap() {
            Step::Entry(e) => assert!(entries.insert(e.name, e.cid).is_none()),
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    (walker.kind().unwrap(), entries)
}

/// Stores `data` in Kubo (pinned) and returns its CID, checked against the local one.
fn store(kubo: &Kubo, data: &[u8], options: &AddOptions) -> Cid {
    let (_, hash, _) = kubo
        .add(&add_query(options, "&pin=true"), &[Part::File("f", data)])
        .remove(0);
    let cid = parse_cid(&hash).unwrap();
    assert_eq!(cid, file_cid(data, options).cid);
    cid
}

fn fetch_car(kubo: &Kubo, cid: &Cid, query: &str, accept: &str) -> Vec<u8> {
    let res = kubo.gateway_get(&format!("/ipfs/{cid}{query}"), accept);
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert!(res
        .header("Content-Type")
        .unwrap()
        .starts_with("application/vnd.ipld.car"));
    res.body
}

/// Walks a CAR pushed in pieces of `step` bytes; returns the file bytes, or the first error.
fn walk_car(walk: &mut CarWalk, car: &[u8], step: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut pieces = car.chunks(step);
    loop {
        match walk.poll()? {
            Step::Data(bytes) => out.extend_from_slice(&bytes),
            Step::Need(_) => match pieces.next() {
                Some(piece) => walk.push(piece),
                None => walk.end()?,
            },
            Step::Done => return Ok(out),
            Step::Entry(e) => panic!("entry {e:?} in a file"),
        }
    }
}

#[test]
fn files_reassembled_from_gateway_cars() {
    let kubo = Kubo::shared();
    let small_chunks = AddOptions::v1().with_chunker("size-1024").unwrap();
    let cases: Vec<(Vec<u8>, AddOptions)> = vec![
        (unique(3 * MIB), AddOptions::default()),
        (unique(3 * MIB), AddOptions::v1()),
        (three_mb(), AddOptions::default()), // 12 links to one deduplicated leaf
        (unique(200 * 1024 + 3), small_chunks), // two levels of 174-link nodes
        (hello(), AddOptions::v1()),         // a single raw block
    ];
    for (data, options) in &cases {
        let cid = store(&kubo, data, options);
        for (query, accept) in [
            ("?format=car&dag-scope=all", "*/*"),
            (
                "?dag-scope=all",
                "application/vnd.ipld.car; version=1; order=dfs; dups=y",
            ),
        ] {
            let car = fetch_car(&kubo, &cid, query, accept);
            let mut walk = CarWalk::new(cid, Expect::File, Limits::default());
            let bytes = walk_car(&mut walk, &car, 50_000).unwrap();
            assert!(bytes == *data, "{} bytes via {query} {accept}", data.len());
            assert_eq!(
                walk.kind(),
                Some(RootKind::File {
                    size: data.len() as u64
                })
            );
        }
    }
    // A byte range: Kubo sends the blocks for `entity-bytes`, the walker cuts the same slice.
    let (data, options) = &cases[3];
    let cid = file_cid(data, options).cid;
    let (from, to) = (100_000u64, 150_000u64);
    let car = fetch_car(
        &kubo,
        &cid,
        &format!("?format=car&dag-scope=entity&entity-bytes={from}:{to}"),
        "*/*",
    );
    let walker =
        DagWalker::new(cid, Expect::File, Limits::default()).with_range(from, Some(to - from + 1));
    let bytes = walk_car(&mut CarWalk::from_walker(cid, walker), &car, 4096).unwrap();
    assert!(bytes == data[from as usize..=to as usize]);
}

#[test]
fn files_reassembled_from_raw_blocks_fetched_one_by_one() {
    let kubo = Kubo::shared();
    let data = unique(200 * 1024 + 3);
    let cid = store(
        &kubo,
        &data,
        &AddOptions::default().with_chunker("size-1024").unwrap(),
    );
    let mut walker = DagWalker::new(cid, Expect::File, Limits::default());
    let (mut out, mut fetched) = (Vec::new(), 0);
    loop {
        match walker.poll().unwrap() {
            Step::Data(bytes) => out.extend_from_slice(&bytes),
            Step::Need(need) => {
                // Fetch the next few at once, as a caller with parallel requests would.
                let upcoming = walker.upcoming(4);
                assert_eq!(upcoming[0], need);
                for cid in upcoming {
                    let res = kubo.gateway_get(&format!("/ipfs/{cid}"), "application/vnd.ipld.raw");
                    assert_eq!(res.status, 200);
                    walker.supply(Block::verify(cid, res.body).unwrap());
                    fetched += 1;
                }
            }
            Step::Done => break,
            Step::Entry(_) => unreachable!(),
        }
    }
    assert!(out == data);
    assert_eq!(fetched, 1 + 2 + 201, "root, two 174-link nodes, 201 leaves");
}

#[test]
fn directories_listed_from_gateway_cars_match_kubo_ls() {
    let kubo = Kubo::shared();
    let options = AddOptions::v1();
    // A flat directory and a HAMT-sharded one (just above the threshold).
    for files in [
        vec![
            ("d/a.txt".to_string(), b"a".to_vec()),
            ("d/b.bin".to_string(), unique(300_000)),
        ],
        hamt_files(4096, 36, HAMT_THRESHOLD as usize + 1),
    ] {
        let added = kubo_tree(&kubo, &["d"], &files, &options, "&pin=true");
        let dir = added["d"].cid;
        let car = fetch_car(&kubo, &dir, "?format=car&dag-scope=entity", "*/*");
        let mut walk = CarWalk::new(dir, Expect::Directory, Limits::default());
        let mut listed = BTreeMap::new();
        let mut pieces = car.chunks(8192);
        loop {
            match walk.poll().unwrap() {
                Step::Entry(e) => assert!(listed.insert(e.name.clone(), (e.cid, e.size)).is_none()),
                Step::Need(_) => match pieces.next() {
                    Some(piece) => walk.push(piece),
                    None => walk.end().unwrap(),
                },
                Step::Done => break,
                Step::Data(_) => unreachable!(),
            }
        }
        let ls = String::from_utf8(kubo.rpc(
            "ls",
            &format!("arg={dir}&size=true&resolve-type=false"),
            None,
        ))
        .unwrap();
        let mut expected = BTreeMap::new();
        for object in ls.split("{\"Name\":").skip(1) {
            let object = format!("{{\"Name\":{object}");
            let name = unquote(&json_token(&object, "Name").unwrap());
            let hash = parse_cid(&unquote(&json_token(&object, "Hash").unwrap())).unwrap();
            let size = parse_size(&json_token(&object, "Size").unwrap()).unwrap();
            if !name.is_empty() {
                expected.insert(name, (hash, size));
            }
        }
        assert_eq!(listed.len(), files.len());
        // Kubo's `ls` Size is the file size; the walker reports the link's cumulative size. The
        // names and CIDs must match exactly; the sizes through the local add.
        for (name, (cid, size)) in &listed {
            assert_eq!(expected[name].0, *cid, "{name}");
            let path = format!("d/{name}");
            let data = &files.iter().find(|(p, _)| *p == path).unwrap().1;
            assert_eq!(*size, file_cid(data, &options).size, "{name}");
            assert_eq!(expected[name].1, data.len() as u64, "{name}");
        }
    }
}

/// The sections of a CAR: (start, end) byte ranges, header first.
fn sections(car: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < car.len() {
        let (len, rest) = unsigned_varint::decode::u64(&car[at..]).unwrap();
        let end = car.len() - rest.len() + len as usize;
        out.push((at, end));
        at = end;
    }
    out
}

#[test]
fn tampered_incomplete_and_wrong_root_answers_are_refused() {
    let kubo = Kubo::shared();
    let data = unique(3 * MIB);
    let cid = store(&kubo, &data, &AddOptions::v1());
    let car = fetch_car(&kubo, &cid, "?format=car&dag-scope=all", "*/*");
    let parts = sections(&car);
    assert_eq!(parts.len(), 1 + 1 + 12, "header, root, 12 leaves");
    // The CIDs of the blocks, in CAR order.
    let mut reader = CarReader::new(Some(cid));
    reader.push(&car);
    let mut cids = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        if let CarItem::Block(block) = item {
            cids.push(*block.cid());
        }
    }

    // One flipped byte in the 5th leaf: refused as that block's hash mismatch.
    let mut tampered = car.clone();
    tampered[parts[6].1 - 10] ^= 1;
    let err = walk_car(
        &mut CarWalk::new(cid, Expect::File, Limits::default()),
        &tampered,
        65_536,
    )
    .unwrap_err();
    assert_eq!(err, Error::HashMismatch { cid: cids[5] });

    // The 3rd leaf left out: the walk stops at it and names it.
    let missing: Vec<u8> = [&car[..parts[4].0], &car[parts[4].1..]].concat();
    let err = walk_car(
        &mut CarWalk::new(cid, Expect::File, Limits::default()),
        &missing,
        65_536,
    )
    .unwrap_err();
    assert_eq!(err, Error::MissingBlock { cid: cids[3] });

    // A CAR of something else.
    let other = store(&kubo, &hello(), &AddOptions::v1());
    let wrong = fetch_car(&kubo, &other, "?format=car", "*/*");
    let err = walk_car(
        &mut CarWalk::new(cid, Expect::File, Limits::default()),
        &wrong,
        100,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::WrongRoot {
            expected: cid,
            found: vec![other]
        }
    );

    // A raw block with one byte changed.
    let res = kubo.gateway_get(&format!("/ipfs/{}", cids[1]), "application/vnd.ipld.raw");
    let mut raw = res.body;
    raw[0] ^= 0x80;
    assert_eq!(
        Block::verify(cids[1], raw).unwrap_err(),
        Error::HashMismatch { cid: cids[1] }
    );

    // A file where a directory was asked for (and the other way round).
    let err = walk_car(
        &mut CarWalk::new(cid, Expect::Directory, Limits::default()),
        &car,
        65_536,
    )
    .unwrap_err();
    assert_eq!(err.code(), "IPFS_UNEXPECTED_KIND");
}
