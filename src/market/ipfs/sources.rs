//! Where blocks come from: the RPC node (`dag/export` for a CAR, `block/get` for one block) and
//! trustless gateways (`GET /ipfs/{cid}?format=car&dag-scope=entity` and `?format=raw`). The
//! format goes in the query rather than an `Accept` header: a GET with no custom header needs no
//! CORS preflight, which not every public gateway answers. Nothing a source sends is trusted:
//! `walk.rs` verifies every block against its CID.

use super::fetch::{read_to_end, Endpoint};
use super::kubo::{q, Kubo};
use crate::core::boundary::error::Result;
use crate::core::boundary::platform::Streamed;
use crate::core::transport::CallOpts;

pub enum Source {
    Node(Kubo),
    Gateway(Endpoint),
}

impl Source {
    pub fn url(&self) -> &str {
        match self {
            Source::Node(k) => k.url(),
            Source::Gateway(g) => g.url(),
        }
    }

    /// A CAR of `cid` holding the file bytes from `offset` on (gateways: `entity-bytes`), or
    /// the directory's own blocks. `None` when this source cannot start there: the node's
    /// `dag/export` always starts at the root, so past it the node is asked block by block.
    pub async fn car(&self, cid: &str, offset: u64, opts: &CallOpts) -> Result<Option<Streamed>> {
        match self {
            Source::Node(_) if offset > 0 => Ok(None),
            Source::Node(k) => k
                .endpoint
                .open("ipfs.get", "POST", &Kubo::dag_export_path(cid), None, opts)
                .await
                .map(Some),
            Source::Gateway(g) => {
                let range = if offset > 0 {
                    format!("&entity-bytes={offset}:*")
                } else {
                    String::new()
                };
                let path = format!("/ipfs/{}?format=car&dag-scope=entity{range}", q(cid));
                g.open("ipfs.get", "GET", &path, None, opts).await.map(Some)
            }
        }
    }

    /// One block's bytes (not yet verified).
    pub async fn block(&self, cid: &str, opts: &CallOpts) -> Result<Vec<u8>> {
        match self {
            Source::Node(k) => k.block_get(cid, opts).await,
            Source::Gateway(g) => {
                let path = format!("/ipfs/{}?format=raw", q(cid));
                let mut res = g.open("ipfs.block", "GET", &path, None, opts).await?;
                read_to_end(&mut res, sandrun_ipfs::DEFAULT_MAX_BLOCK_SIZE)
                    .await
                    .map_err(|e| e.op("ipfs.block").endpoint(g.url()))
            }
        }
    }
}
