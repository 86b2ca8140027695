//! Packaging: a resolved job (files + manifest) becomes the bytes the worker takes — one gzip'd
//! tar of the job tree and the manifest JSON, in one multipart body — plus the job hash the worker
//! will sign, computed here before anything is sent.

mod deflate;
mod gzip;
mod multipart;
mod tar;

pub use multipart::Multipart;

use sandrun_protocol::map::SortedMap;
use sandrun_protocol::{hash::job_hash, manifest::Manifest};

/// What `submit()` sends, and what it expects back.
pub struct Package {
    pub archive: Vec<u8>,
    pub manifest_json: String,
    /// The job hash the worker should report (and sign) for this upload.
    pub job_hash: String,
}

/// Packs `files` (path → bytes, byte-ordered) with a validated `manifest`. Deterministic: the same
/// inputs give the same bytes.
pub fn package(files: &SortedMap<Vec<u8>>, manifest: &Manifest) -> Package {
    let entry_bytes = files
        .get(&manifest.entrypoint)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let job_hash = job_hash(
        &manifest.entrypoint,
        manifest.effective_interpreter(),
        manifest.effective_environment(),
        &manifest.args,
        entry_bytes,
    );
    let tar = tar::write(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    Package {
        archive: gzip::compress(&tar),
        manifest_json: manifest.to_json(),
        job_hash,
    }
}

impl Package {
    pub fn multipart(&self) -> Multipart {
        Multipart::new(&[
            multipart::Part {
                name: "files",
                filename: Some("job.tar.gz"),
                content_type: Some("application/gzip"),
                body: &self.archive,
            },
            multipart::Part {
                name: "manifest",
                filename: None,
                content_type: None,
                body: self.manifest_json.as_bytes(),
            },
        ])
    }
}
