//! IPFS for the SDK: local CIDs identical to Kubo's, a Kubo RPC client, verified retrieval from
//! untrusted gateways (and the RPC node) with fallback, and the IPFS Pinning Service API.
//! `sandrun.ipfs()` gives the `Ipfs` class (`client.rs`); the pure work (CIDs, CARs, block
//! verification, the DAG walk) is the `sandrun-ipfs` crate's.
//!
//! Modules, each using only those listed before it:
//! - `config`: the `ipfs` section of `Sandrun.create(config)`;
//! - `options`: every method's options, read and checked before anything is sent;
//! - `input`: what may be added (bytes, text, a Blob, a stream), read in pieces;
//! - `hasher`: the SHA-256 the CID builder uses (the platform's where it is faster);
//! - `cid`: local CIDs of files and directories;
//! - `tree`: a directory given as `{ path: data }` or (Node) a folder;
//! - `stream`: a JS `ReadableStream` fed by Rust (upload bodies, downloads);
//! - `fetch`: requests through the client's transport layers, bodies streamed both ways;
//! - `failure`: what went wrong with a source, and the `IpfsError` that lists every one;
//! - `upload`: the multipart body Kubo's `add` reads, hashed locally as it is sent;
//! - `kubo`: the Kubo RPC calls;
//! - `sources`: the places blocks come from (the RPC node, gateways) and how each is asked;
//! - `join`: several requests at once (all of them, or the first that succeeds);
//! - `walk`: one file or directory read from the sources, verified, with fallback;
//! - `pinning`: the Pinning Service API;
//! - `client`: the `Ipfs` class; `pins`: its pinning methods (the node and every service).

pub mod cid;
pub mod client;
pub mod config;
pub mod failure;
pub mod fetch;
pub mod hasher;
pub mod input;
pub mod join;
pub mod kubo;
pub mod options;
pub mod pinning;
pub mod pins;
pub mod sources;
pub mod stream;
pub mod tree;
pub mod upload;
pub mod walk;

pub use client::Ipfs;

use crate::core::config::{add_section, Section};

/// What this layer adds to the core when the module is set up (its config section).
pub fn register() {
    add_section(Section {
        key: "ipfs",
        check: config::check,
    });
}
