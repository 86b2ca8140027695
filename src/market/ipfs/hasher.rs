//! The SHA-256 the CID builder uses: the platform's synchronous one where it has one (Node:
//! OpenSSL with SHA-NI), else the `sha2` crate compiled into the wasm. WebCrypto's `digest` is
//! asynchronous and one-shot, so a builder that hashes block by block cannot use it.
//! `make bench-ipfs` prints what each gives.

use crate::core::boundary::platform;
use sandrun_ipfs::{Sha2, Sha256};

#[derive(Clone, Copy)]
pub struct Hasher {
    platform: bool,
}

impl Hasher {
    /// The platform's hash when it offers one.
    pub fn new() -> Hasher {
        Hasher {
            platform: platform::has("sha256"),
        }
    }

    /// Which one it is, for the benchmark's figures.
    pub fn name(&self) -> &'static str {
        if self.platform {
            "platform"
        } else {
            "wasm"
        }
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

impl Sha256 for Hasher {
    fn sha256(&mut self, data: &[u8]) -> [u8; 32] {
        if self.platform {
            if let Some(digest) = platform::sha256(data) {
                return digest;
            }
            // A platform hash that failed once is not asked again.
            self.platform = false;
        }
        Sha2.sha256(data)
    }
}
