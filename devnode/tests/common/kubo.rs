//! A real Kubo for the pinning-service and gateway tests: a fresh repo (`init --profile test`),
//! offline, no swarm, no bootstrap, API and gateway on free 127.0.0.1 ports; killed on drop. And
//! the small IPFS facts the tests check answers with (CIDs, CAR sections, block hashes), written
//! independently of the dev node's own CAR code.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{agent, multipart, stop_child, tempdir, Part, TempDir};

/// The Kubo binary: `scripts/kubo.sh bin` (`$IPFS_BIN`, else where the project's setup installs
/// it), else `ipfs` on PATH.
fn kubo_bin() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/kubo.sh");
    let from_script = Command::new("bash")
        .args([script, "bin"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|p| p.is_file());
    let on_path = || {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("ipfs"))
                .find(|p| p.is_file())
        })
    };
    from_script.or_else(on_path).unwrap_or_else(|| {
        panic!(
            "no Kubo binary: these tests need a real Kubo. Install it with \
             `bash scripts/setup.d/10-kubo.sh` (or `make setup`), or set IPFS_BIN"
        )
    })
}

pub struct Kubo {
    child: Child,
    /// `http://127.0.0.1:PORT` of the RPC API and of the gateway.
    pub api: String,
    pub gateway: String,
    /// Pins the fresh repo already has (Kubo pins the empty folder at init).
    initial_pins: Vec<String>,
    _repo: TempDir,
}

impl Kubo {
    pub fn start() -> Kubo {
        let bin = kubo_bin();
        let repo = tempdir();
        let ipfs = |args: &[&str]| {
            let out = Command::new(&bin)
                .args(args)
                .env("IPFS_PATH", &*repo)
                .env("IPFS_TELEMETRY", "off")
                .output()
                .expect("run ipfs");
            assert!(out.status.success(), "ipfs {args:?}: {out:?}");
            out.stdout
        };
        ipfs(&["init", "--profile", "test", "--empty-repo"]);
        let mut c: Value = serde_json::from_slice(&ipfs(&["config", "show"])).unwrap();
        c["Addresses"]["API"] = "/ip4/127.0.0.1/tcp/0".into();
        c["Addresses"]["Gateway"] = "/ip4/127.0.0.1/tcp/0".into();
        c["Addresses"]["Swarm"] = serde_json::json!([]);
        c["Bootstrap"] = serde_json::json!([]);
        c["Routing"]["Type"] = "none".into();
        // A missing block is an error at once, not a search that cannot succeed offline.
        c["Gateway"]["NoFetch"] = true.into();
        let file = repo.join("config.new");
        std::fs::write(&file, c.to_string()).unwrap();
        ipfs(&["config", "replace", file.to_str().unwrap()]);
        let mut child = Command::new(&bin)
            .args(["daemon", "--offline"])
            .env("IPFS_PATH", &*repo)
            .env("IPFS_TELEMETRY", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ipfs daemon");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let (mut api, mut gateway) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = |line: &str, what: &str| {
            line.strip_prefix(what)
                .and_then(|a| a.trim().rsplit('/').next())
                .map(|p| format!("http://127.0.0.1:{p}"))
        };
        loop {
            assert!(Instant::now() < deadline, "Kubo did not start");
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("Kubo exited at start: {:?}", child.wait());
            }
            api = api.or_else(|| port(&line, "RPC API server listening on "));
            gateway = gateway.or_else(|| port(&line, "Gateway server listening on "));
            if line.starts_with("Daemon is ready") {
                break;
            }
        }
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        let mut k = Kubo {
            child,
            api: api.expect("Kubo printed no API address"),
            gateway: gateway.expect("Kubo printed no gateway address"),
            initial_pins: Vec::new(),
            _repo: repo,
        };
        k.initial_pins = k.pinned();
        k
    }

    /// One RPC call.
    pub fn rpc(&self, cmd: &str, args: &[(&str, &str)]) -> Value {
        let mut req = agent().post(format!("{}/api/v0/{cmd}", self.api));
        for (k, v) in args {
            req = req.query(*k, *v);
        }
        let mut r = req.send_empty().expect("Kubo RPC");
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// Adds `data` without pinning it; its CID (v1, raw leaves, 256 KiB chunks).
    pub fn add(&self, data: &[u8]) -> String {
        let (ct, body) = multipart(&[Part {
            name: "file",
            filename: Some("data.bin"),
            data: data.to_vec(),
        }]);
        let url = format!(
            "{}/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-262144&pin=false",
            self.api
        );
        let mut r = agent()
            .post(&url)
            .header("Content-Type", &ct)
            .send(&body[..])
            .expect("Kubo add");
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        v["Hash"].as_str().unwrap().to_string()
    }

    /// The CIDs with a recursive pin (besides those of the fresh repo), sorted.
    pub fn pinned(&self) -> Vec<String> {
        let v = self.rpc("pin/ls", &[("type", "recursive")]);
        let mut pins: Vec<String> = v["Keys"]
            .as_object()
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        pins.retain(|p| !self.initial_pins.contains(p));
        pins.sort();
        pins
    }
}

impl Drop for Kubo {
    fn drop(&mut self) {
        stop_child(&mut self.child);
    }
}

/// `n` bytes that do not repeat (a multi-block file for 256 KiB chunks).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(n as u64);
    (0..n).map(|_| rng.u8(..)).collect()
}

/// The binary CID of a CIDv1 in base32 (`b…`), as CAR sections carry it.
pub fn cid_bytes(cid: &str) -> Vec<u8> {
    let text = cid.strip_prefix('b').expect("a base32 CIDv1");
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {cid}"),
        } as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Whether `data` hashes to the sha2-256 digest at the end of `cid` (binary, 32-byte digest).
pub fn block_matches(cid: &[u8], data: &[u8]) -> bool {
    cid.len() > 32 && cid[cid.len() - 32..] == Sha256::digest(data)[..]
}

fn varint(b: &[u8], pos: &mut usize) -> usize {
    let mut v = 0usize;
    for i in 0..9 {
        let byte = b[*pos];
        *pos += 1;
        v |= ((byte & 0x7f) as usize) << (7 * i);
        if byte & 0x80 == 0 {
            break;
        }
    }
    v
}

/// (CID, block bytes) pairs, binary.
pub type Blocks = Vec<(Vec<u8>, Vec<u8>)>;

/// A CAR v1: the root named in its header and its (CID, block) sections. The CIDs here are v1
/// with sha2-256 (36 bytes), as Kubo writes them for `cid-version=1`.
pub fn read_car(b: &[u8]) -> (Vec<u8>, Blocks) {
    let mut pos = 0;
    let header_len = varint(b, &mut pos);
    let header = &b[pos..pos + header_len];
    // … 0xd8 0x2a 0x58 0x25 0x00 <36-byte CID> …: the one root, tag 42, a 37-byte string.
    let at = header
        .windows(4)
        .position(|w| w == [0xd8, 0x2a, 0x58, 0x25])
        .expect("a CAR header with one root");
    let root = header[at + 5..at + 5 + 36].to_vec();
    pos += header_len;
    let mut blocks = Vec::new();
    while pos < b.len() {
        let len = varint(b, &mut pos);
        let section = &b[pos..pos + len];
        blocks.push((section[..36].to_vec(), section[36..].to_vec()));
        pos += len;
    }
    (root, blocks)
}
