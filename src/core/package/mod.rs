//! Packaging: a resolved job (files + manifest) becomes the bytes the worker takes — one gzip'd
//! tar of the job tree and the manifest JSON, in one multipart body — plus the job hash the worker
//! will sign, computed here before anything is sent.
//!
//! The tar is written here (sorted, fixed mtime: the same job gives the same bytes); gzip is the
//! platform's (`CompressionStream`, zlib in Node), which costs no wasm: our own fixed-Huffman
//! deflate measured 1.2 KB of the core's gzip'd wasm, and compressed worse. The same job still
//! gives the same archive on one platform (zlib is deterministic for a given level).

mod multipart;
mod tar;

pub use multipart::Multipart;

use sandrun_protocol::map::SortedMap;
use sandrun_protocol::{hash::job_hash_input, manifest::Manifest};

/// What `submit()` sends (once the tar is gzip'd), and what it expects back.
pub struct Package {
    pub tar: Vec<u8>,
    pub manifest_json: String,
    /// What the job hash the worker will report (and sign) is the sha256 of; the caller hashes
    /// it (WebCrypto in the SDK).
    pub hash_input: Vec<u8>,
}

/// Packs `files` (path → bytes, byte-ordered) with a validated `manifest`. Deterministic: the same
/// inputs give the same bytes.
pub fn package(files: &SortedMap<Vec<u8>>, manifest: &Manifest) -> Package {
    let entry_bytes = files
        .get(&manifest.entrypoint)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let hash_input = job_hash_input(
        &manifest.entrypoint,
        manifest.effective_interpreter(),
        manifest.effective_environment(),
        &manifest.args,
        entry_bytes,
    );
    let tar = tar::write(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    Package {
        tar,
        manifest_json: manifest.to_json(),
        hash_input,
    }
}

impl Package {
    /// The upload, given the gzip'd tar and the job hash (which names the parts' boundary).
    pub fn multipart(&self, archive: &[u8], job_hash: &str) -> Multipart {
        Multipart::new(
            job_hash,
            &[
                multipart::Part {
                    name: "files",
                    filename: Some("job.tar.gz"),
                    content_type: Some("application/gzip"),
                    body: archive,
                },
                multipart::Part {
                    name: "manifest",
                    filename: None,
                    content_type: None,
                    body: self.manifest_json.as_bytes(),
                },
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (SortedMap<Vec<u8>>, Manifest) {
        let mut files = SortedMap::new();
        files.insert(
            "main.py".into(),
            include_bytes!("../../../protocol/fixtures/signed-job/main.py").to_vec(),
        );
        files.insert("data/input.csv".into(), b"a,b\n1,2\n".to_vec());
        let manifest = Manifest {
            entrypoint: "main.py".into(),
            args: vec!["--n".into(), "3".into()],
            ..Default::default()
        };
        (files, manifest)
    }

    #[test]
    fn job_hash_is_the_one_the_real_worker_signed() {
        let (files, manifest) = fixture();
        // From ../shared/protocol/fixtures/signed-job/status.json: other files do not enter it.
        assert_eq!(
            sandrun_protocol::hash::sha256_hex(&package(&files, &manifest).hash_input),
            "13dffb9640613e70bfb5800bc52c641d7b601974bb49e0c6790426e79e777eb4"
        );
    }

    #[test]
    fn same_inputs_same_bytes_and_a_readable_archive() {
        let (files, manifest) = fixture();
        let a = package(&files, &manifest);
        let b = package(&files, &manifest);
        assert_eq!(a.tar, b.tar);
        assert_eq!(a.multipart(b"gz", "ab").body, b.multipart(b"gz", "ab").body);
        // Read the tar headers back.
        let tar = &a.tar;
        let mut names = Vec::new();
        let mut at = 0;
        while tar[at] != 0 {
            let name = String::from_utf8(
                tar[at..at + 100]
                    .iter()
                    .take_while(|&&c| c != 0)
                    .copied()
                    .collect(),
            )
            .unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&tar[at + 124..at + 135]).unwrap(), 8)
                    .unwrap();
            assert_eq!(
                &tar[at + 512..at + 512 + size],
                files.get(&name).unwrap().as_slice()
            );
            names.push(name);
            at += 512 + size.div_ceil(512) * 512;
        }
        assert_eq!(names, ["data/input.csv", "main.py"]);
        assert_eq!(
            a.manifest_json,
            r#"{"entrypoint":"main.py","args":["--n","3"]}"#
        );
    }
}
