//! How extensions (plugins, pools, consensus, the market) attach to a job without the core
//! knowing them: a `JobBuilder` carries a list of `JobExtension`s, and submitting asks each in
//! turn — for problems visible before packaging, to prepare the job (plugins' hooks), and whether
//! it takes the packaged job somewhere else than the client's worker (a pool, the market).

use super::boundary::error::{FieldProblem, Result, SdkError};
use super::boundary::reader::FromJs;
use super::boundary::registry;
use super::client::Client;
use super::execution::Execution;
use super::spec::JobDraft;
use super::transport::{Body, Fut};
use js_sys::Function;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

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

/// Options for `submit()`.
#[derive(Default, sandrun_derive::FromJs)]
#[js(context = "submit options.")]
pub struct SubmitOptions {
    /// Upload progress, `{ loaded, total }` in bytes.
    #[js(ts = "(progress: { loaded: number; total: number }) => void")]
    pub on_progress: Option<Function>,
    /// The options a layer above the core registered (`add_submit_option`), for the extension
    /// that takes the job (the market's `onStage`).
    #[js(rest)]
    pub layers: Vec<(String, JsValue)>,
}

/// A `submit()` option that a layer above the core reads: registered when the module is set up,
/// so that the core accepts it (after `check`) without knowing the layer, as config sections are.
#[derive(Clone, Copy)]
pub struct SubmitOption {
    pub key: &'static str,
    pub check: fn(&JsValue) -> Option<FieldProblem>,
}

thread_local! {
    static SUBMIT_OPTIONS: RefCell<Vec<SubmitOption>> = const { RefCell::new(Vec::new()) };
}

pub fn add_submit_option(o: SubmitOption) {
    registry::add_once(&SUBMIT_OPTIONS, o, |o| o.key);
}

impl SubmitOptions {
    /// Reads `submit()`'s options: an unknown key or a registered one that fails its check is a
    /// `ValidationError`, before anything is read or sent.
    pub fn read(v: &JsValue) -> Result<SubmitOptions> {
        let o = SubmitOptions::from_js(v)?;
        let known = registry::entries(&SUBMIT_OPTIONS);
        let problems: Vec<FieldProblem> = o
            .layers
            .iter()
            .filter_map(|(k, v)| match known.iter().find(|o| o.key == k) {
                Some(o) => (o.check)(v),
                None => Some(FieldProblem::new(
                    format!("submit options.{k}"),
                    "is not an option of submit()",
                )),
            })
            .collect();
        match problems.is_empty() {
            true => Ok(o),
            false => Err(SdkError::validation(problems)),
        }
    }

    /// A registered option's value, if given.
    pub fn layer(&self, key: &str) -> Option<&JsValue> {
        self.layers.iter().find(|(k, _)| k == key).map(|(_, v)| v)
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
    /// What the caller of `submit()` gave beside the job (`onProgress`, the layers' options).
    pub options: &'a SubmitOptions,
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
