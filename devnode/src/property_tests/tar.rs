//! Unpacking uploaded tar.gz archives: whatever the entries say (`..`, absolute paths, links
//! out of the folder, links then files through them, long GNU and PAX names, bogus or huge size
//! fields, cut-off archives), nothing is written outside the job folder and nothing panics.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use proptest::prelude::*;

use crate::archive::unpack_tar_gz;

#[derive(Debug, Clone)]
enum Size {
    /// The data's real length.
    True,
    /// Octal digits larger than any archive (or than u64).
    Huge(String),
    /// Not a number at all.
    Garbage(String),
}

#[derive(Debug, Clone)]
struct Entry {
    /// `0` file, `1` hard link, `2` symlink, `5` folder, `3` device, `6` FIFO.
    kind: u8,
    name: String,
    link: String,
    data: Vec<u8>,
    size: Size,
    /// Name given in a GNU `L` entry or a PAX header instead of the header's own field.
    long_form: u8,
}

/// Path pieces that climb, jump or name what the test planted outside the folder.
fn path() -> impl Strategy<Value = String> {
    let seg = prop_oneof![
        Just("..".to_string()),
        Just(".".to_string()),
        Just("outside".to_string()),
        Just("canary".to_string()),
        Just("link".to_string()),
        Just(String::new()),
        "[a-c]{1,3}",
        "[a-z]{100,140}",
    ];
    (any::<bool>(), proptest::collection::vec(seg, 1..6))
        .prop_map(|(abs, segs)| format!("{}{}", if abs { "/" } else { "" }, segs.join("/")))
}

fn entry() -> impl Strategy<Value = Entry> {
    let size = prop_oneof![
        6 => Just(Size::True),
        1 => "7[0-7]{10}".prop_map(Size::Huge),
        1 => "[ -~]{1,11}".prop_map(Size::Garbage),
    ];
    (
        prop_oneof![
            Just(b'0'),
            Just(b'1'),
            Just(b'2'),
            Just(b'5'),
            Just(b'3'),
            Just(b'6')
        ],
        path(),
        path(),
        proptest::collection::vec(any::<u8>(), 0..600),
        size,
        0u8..3,
    )
        .prop_map(|(kind, name, link, data, size, long_form)| Entry {
            kind,
            name,
            link,
            data,
            size,
            long_form,
        })
}

/// A 512-byte ustar header, written field by field so that nothing is refused on the way.
fn header(name: &[u8], kind: u8, size: &[u8], link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, len: usize, v: &[u8]| {
        let n = v.len().min(len);
        h[at..at + n].copy_from_slice(&v[..n]);
    };
    put(&mut h, 0, 100, name);
    put(&mut h, 100, 8, b"0000644\0");
    put(&mut h, 108, 8, b"0000000\0");
    put(&mut h, 116, 8, b"0000000\0");
    put(&mut h, 124, 12, size);
    put(&mut h, 136, 12, b"00000000000\0");
    h[156] = kind;
    put(&mut h, 157, 100, link);
    put(&mut h, 257, 8, b"ustar\x0000");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    put(&mut h, 148, 8, format!("{sum:06o}\0 ").as_bytes());
    h
}

fn padded(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn octal(n: usize) -> Vec<u8> {
    format!("{n:011o}\0").into_bytes()
}

fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let name = e.name.as_bytes();
        match e.long_form {
            1 => {
                // GNU long name: an `L` entry whose data is the name.
                let data = [name, b"\0"].concat();
                out.extend_from_slice(&header(b"././@LongLink", b'L', &octal(data.len()), b""));
                padded(&mut out, &data);
            }
            2 => {
                // PAX: `len path=…\n` records (the length counts the whole record).
                let mut recs = Vec::new();
                for (k, v) in [("path", &e.name), ("linkpath", &e.link)] {
                    let body = format!(" {k}={v}\n");
                    let mut len = body.len() + 1;
                    while len.to_string().len() + body.len() != len {
                        len += 1;
                    }
                    recs.extend_from_slice(format!("{len}{body}").as_bytes());
                }
                out.extend_from_slice(&header(b"pax", b'x', &octal(recs.len()), b""));
                padded(&mut out, &recs);
            }
            _ => {}
        }
        let size = match &e.size {
            Size::True => octal(e.data.len()),
            Size::Huge(s) | Size::Garbage(s) => s.as_bytes().to_vec(),
        };
        out.extend_from_slice(&header(name, e.kind, &size, e.link.as_bytes()));
        padded(&mut out, &e.data);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(raw).unwrap();
    gz.finish().unwrap()
}

/// Every path under `dir`, links not followed.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        out.push(p.clone());
        if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            walk(&p, out);
        }
    }
}

/// True when a link at `at` (relative to the job folder) pointing to `target` stays inside.
fn lexically_inside(at: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return false;
    }
    let mut depth: i32 = 0;
    for c in at
        .parent()
        .unwrap_or(Path::new(""))
        .join(target)
        .components()
    {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// A folder removed when the case ends, whatever its outcome.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn nothing_is_written_outside_the_job_folder(entries in proptest::collection::vec(entry(), 1..8), cut in any::<Option<u16>>()) {
        let base = Scratch(std::env::temp_dir().join(format!("devnode-tar-prop-{}-{}", std::process::id(), fastrand::u64(..))));
        let base = &base.0;
        let root = base.join("job");
        let outside = base.join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("canary"), b"untouched").unwrap();
        let mut raw = tar(&entries);
        if let Some(c) = cut {
            raw.truncate(c as usize % (raw.len() + 1));
        }
        let limit = 1 << 20;
        let _ = unpack_tar_gz(&gzip(&raw), &root, limit);
        // Not gzip at all: refused, no panic.
        let _ = unpack_tar_gz(&raw, &root, limit);

        let mut beside: Vec<_> = fs::read_dir(base).unwrap().flatten().map(|e| e.file_name()).collect();
        beside.sort();
        let outside_now: Vec<_> = fs::read_dir(&outside).unwrap().flatten().map(|e| e.file_name()).collect();
        let canary = fs::symlink_metadata(outside.join("canary")).unwrap();
        let canary_text = fs::read(outside.join("canary")).unwrap();
        let mut inside = Vec::new();
        walk(&root, &mut inside);

        prop_assert_eq!(beside, vec![std::ffi::OsString::from("job"), "outside".into()]);
        prop_assert_eq!(outside_now, vec![std::ffi::OsString::from("canary")]);
        prop_assert_eq!(canary_text, b"untouched".to_vec());
        prop_assert_eq!(std::os::unix::fs::MetadataExt::nlink(&canary), 1, "no hard link to it");
        let mut total = 0u64;
        for p in &inside {
            let m = fs::symlink_metadata(p).unwrap();
            let rel = p.strip_prefix(&root).unwrap();
            if m.file_type().is_symlink() {
                let target = fs::read_link(p).unwrap();
                prop_assert!(lexically_inside(rel, &target), "{} -> {}", rel.display(), target.display());
            } else if m.is_file() {
                total += m.len();
            }
        }
        prop_assert!(total <= limit, "{total} bytes written");
    }
}
