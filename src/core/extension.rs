//! How extensions (plugins, pools, consensus, the market) attach to a job without the core
//! knowing them: a `JobBuilder` carries a list of `JobExtension`s, and submitting asks each in
//! turn — for problems visible before packaging, to prepare the job (plugins' hooks), and whether
//! it takes the packaged job somewhere else than the client's worker (a pool, the market).

use super::boundary::error::{FieldProblem, Result};
use super::client::Client;
use super::execution::Execution;
use super::spec::JobDraft;
use super::transport::{Body, Fut};
use std::any::Any;
use std::rc::Rc;

pub type Extensions = Rc<[Rc<dyn JobExtension>]>;

pub trait JobExtension: Any {
    /// A job holds one extension of each kind (`plugins`, `pool`, `consensus`, …); attaching
    /// another of the same kind replaces it.
    fn kind(&self) -> &'static str;

    fn as_any(&self) -> &dyn Any;

    /// Problems visible before anything is read or packaged (`.consensus()` without a pool).
    fn problems(&self, _draft: &JobDraft, _all: &[Rc<dyn JobExtension>]) -> Vec<FieldProblem> {
        Vec::new()
    }

    /// Runs before validation: may change the client (its layers) and the job (plugins'
    /// `onSubmit`).
    fn prepare<'a>(
        &'a self,
        client: Rc<Client>,
        draft: JobDraft,
    ) -> Fut<'a, Result<(Rc<Client>, JobDraft)>> {
        Box::pin(async move { Ok((client, draft)) })
    }

    /// Whether this extension places the job on several workers itself (a pool, the market's
    /// nodes): what k-of-n consensus needs beside it.
    fn places_on_workers(&self) -> bool {
        false
    }

    /// Takes the packaged job somewhere else than the client's worker (a pool, the market).
    fn dispatch<'a>(&'a self, _job: Packaged<'a>) -> Option<Fut<'a, Result<Rc<dyn Execution>>>> {
        None
    }
}

/// A job ready to send: checked and packaged.
pub struct Packaged<'a> {
    pub client: Rc<Client>,
    pub draft: &'a JobDraft,
    /// The job hash the worker must report and sign.
    pub job_hash: String,
    /// The multipart upload (`files` + `manifest`).
    pub body: Body,
    /// Its two parts on their own (the market puts them on IPFS): the gzip'd tar and the
    /// manifest's JSON.
    pub archive: Rc<[u8]>,
    pub manifest: Rc<str>,
    /// The job's other extensions (a pool reads the consensus attached beside it).
    pub extensions: &'a [Rc<dyn JobExtension>],
}

/// The extension of type `T` among `all`, if attached.
pub fn find<T: 'static>(all: &[Rc<dyn JobExtension>]) -> Option<&T> {
    all.iter().find_map(|e| e.as_any().downcast_ref::<T>())
}

/// `all` with `ext` attached (replacing one of the same kind).
pub fn attach(all: &[Rc<dyn JobExtension>], ext: Rc<dyn JobExtension>) -> Extensions {
    let mut v: Vec<Rc<dyn JobExtension>> = all
        .iter()
        .filter(|e| e.kind() != ext.kind())
        .cloned()
        .collect();
    v.push(ext);
    Rc::from(v)
}
