//! How plugins reach a client and a job: `Sandrun.use()` gives a new client whose transport has
//! the pipeline's layers; `JobBuilder.use()` and middleware given to `.with()` go into the job's
//! `JobPlugins` extension, which, when the job is submitted, derives the job's pipeline from the
//! client's and runs `onInit`, `onBuild` and `onSubmit` (whose returned spec changes the job).

use super::logging::{secret_name, Logging, REDACTED};
use super::{ctx_obj, Pipeline};
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::{entries, ToJs};
use crate::core::boundary::reader::Reader;
use crate::core::builder::JobBuilder;
use crate::core::client::Client;
use crate::core::extension::{attach, find, JobExtension};
use crate::core::sandrun::Sandrun;
use crate::core::spec::JobDraft;
use crate::core::transport::Fut;
use sandrun_protocol::map::SortedMap;
use std::any::Any;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A job's own plugins and middleware (on top of its client's).
#[derive(Clone, Default)]
pub struct JobPlugins {
    pub plugins: Vec<JsValue>,
    pub middleware: Vec<JsValue>,
}

/// The client's pipeline, if it has one.
fn pipeline_of(client: &Client) -> Option<Rc<Pipeline>> {
    client.hooks.clone()?.into_any().downcast::<Pipeline>().ok()
}

/// `client` with `pipeline` as its layers and hooks.
pub fn with_pipeline(client: &Client, pipeline: Rc<Pipeline>) -> Client {
    client.with_extension(pipeline.layers(), Some(pipeline))
}

impl JobExtension for JobPlugins {
    fn kind(&self) -> &'static str {
        "plugins"
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn prepare<'a>(
        &'a self,
        client: Rc<Client>,
        draft: JobDraft,
    ) -> Fut<'a, Result<(Rc<Client>, JobDraft)>> {
        Box::pin(async move {
            let base = pipeline_of(&client);
            let (client, p) = if self.plugins.is_empty() && self.middleware.is_empty() {
                match base {
                    Some(p) => (client, p),
                    None => return Ok((client, draft)),
                }
            } else {
                let p = Rc::new(Pipeline::derive(
                    base.as_deref(),
                    &self.plugins,
                    &self.middleware,
                )?);
                (Rc::new(with_pipeline(&client, p.clone())), p)
            };
            let draft = run_hooks(&p, &client, draft).await?;
            Ok((client, draft))
        })
    }
}

/// Before a submit: `onInit`, `onBuild` and `onSubmit` (whose returned spec replaces the job's
/// fields); secret env values are noted so no log shows them.
async fn run_hooks(p: &Pipeline, client: &Client, mut draft: JobDraft) -> Result<JobDraft> {
    p.init().await.map_err(|e| e.op("submit"))?;
    let ctx = ctx_obj(&[
        ("operation", "submit"),
        ("endpoint", &client.config.endpoint),
    ]);
    if p.has("onBuild") {
        p.each("onBuild", &[&draft.to_spec().to_js(), &ctx]).await?;
    }
    if p.has("onSubmit") {
        let mut spec = draft.to_spec().to_js();
        let mut changed = false;
        for e in &p.entries {
            let v = p.call(e, "onSubmit", &[&spec, &ctx]).await?;
            if v.is_object() {
                spec = v;
                changed = true;
            }
        }
        if changed {
            apply_spec(&mut draft, &spec)?;
        }
    }
    let names: Vec<String> = p
        .builtin::<Logging>()
        .map(|l| l.redact_env.clone())
        .unwrap_or_default();
    let secret = |k: &str| secret_name(k) || names.iter().any(|n| n == k);
    for (k, v) in &draft.env {
        if secret(k) {
            p.secrets.borrow_mut().push(v.clone());
        }
    }
    if p.has_logging() {
        let env: Vec<String> = draft
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", if secret(k) { REDACTED } else { v }))
            .collect();
        p.log(
            1,
            "submit",
            &[
                ("operation", "submit"),
                ("entrypoint", draft.entrypoint.as_deref().unwrap_or("")),
                ("args", &draft.args.join(" ")),
                ("env", &env.join(" ")),
            ],
            &[],
        );
    }
    Ok(draft)
}

/// The fields of a spec returned by `onSubmit` that replace the job's.
fn apply_spec(d: &mut JobDraft, spec: &JsValue) -> Result<()> {
    let mut r = Reader::new(spec, "onSubmit spec.");
    if let Some(v) = r.string("entrypoint") {
        d.entrypoint = Some(v);
    }
    if let Some(v) = r.string("interpreter") {
        d.interpreter = Some(v);
    }
    if let Some(v) = r.string("environment") {
        d.environment = Some(v);
    }
    if let Some(v) = r.strings("args") {
        d.args = v;
    }
    if let Some(v) = r.strings("outputs") {
        d.outputs = v;
    }
    if let Some(env) = r.value("env").filter(|e| e.is_object()) {
        let mut m = SortedMap::new();
        for (k, v) in entries(&env) {
            if let Some(v) = v.as_string() {
                m.insert(k, v);
            }
        }
        d.env = m;
    }
    r.finish(()).map_err(|e| e.op("submit"))
}

/// The job's plugins so far (a copy to extend).
fn job_plugins(b: &JobBuilder) -> JobPlugins {
    find::<JobPlugins>(b.extensions())
        .cloned()
        .unwrap_or_default()
}

/// A copy of `b` with `middleware` around every operation of the job.
pub fn with_middleware(b: &JobBuilder, middleware: JsValue) -> JobBuilder {
    let mut p = job_plugins(b);
    p.middleware.push(middleware);
    b.with_extension(Rc::new(p))
}

#[wasm_bindgen]
impl Sandrun {
    /// A new client with `plugin` added (this one is unchanged): its hooks run for every job and
    /// request of the new client. Built-ins come from `retryPlugin()`, `metricsPlugin()`, …
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Plugin | BuiltinPlugin")] plugin: JsValue,
    ) -> std::result::Result<Sandrun, JsValue> {
        let base = pipeline_of(self.client());
        let p = Pipeline::derive(base.as_deref(), &[plugin], &[]).map_err(SdkError::into_js)?;
        let client = Rc::new(with_pipeline(self.client(), Rc::new(p)));
        let defaults = match find::<JobPlugins>(self.defaults()) {
            Some(_) => self.defaults().clone(),
            None => attach(self.defaults(), Rc::new(JobPlugins::default())),
        };
        Ok(Sandrun::new(client, defaults))
    }
}

#[wasm_bindgen]
impl JobBuilder {
    /// Adds a plugin — an object with optional hooks (`onSubmit`, `onRequest`, `onResult`, …) —
    /// to this job only (see `Sandrun.use` for every job of a client).
    #[wasm_bindgen(js_name = "use")]
    pub fn use_plugin(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Plugin | BuiltinPlugin")] plugin: JsValue,
    ) -> JobBuilder {
        let mut p = job_plugins(self);
        p.plugins.push(plugin);
        self.with_extension(Rc::new(p))
    }
}
