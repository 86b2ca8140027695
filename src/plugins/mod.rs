//! Plugins and middleware. A client (`Sandrun.use`) and a builder (`JobBuilder.use` / `.with`)
//! each hold a `Pipeline`: the plugins in hook order and the middleware, outermost first. The
//! transport (`transport/http.rs`) runs the per-request part; this module reads plugins, orders
//! them, calls their hooks with isolation, and holds the built-ins (`retryPlugin`, …), whose
//! logic is Rust (`resilience`, `observe`). `docs/plugins.md` is the user's guide.
//!
//! Hook order: higher `priority` first (default 0), ties in the order added (client's plugins
//! before the job's); a plugin always comes after the plugins it names in `dependencies`.

pub mod observe;
pub mod resilience;

use crate::client::Client;
use crate::convert::{num, Obj, Reader, ToJs};
use crate::error::{js_message, Code, FieldProblem, Result, SdkError};
use crate::platform;
use crate::spec::JobDraft;
use js_sys::{Array, Function, Object, Promise, Reflect};
use observe::{Metrics, REDACTED};
use resilience::{Backoff, BreakerCfg, Bucket, Circuit, RetryPolicy};
use sandrun_protocol::map::SortedMap;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    static REGISTRY: RefCell<Vec<Weak<Builtin>>> = const { RefCell::new(Vec::new()) };
    /// Plugin objects whose `onInit` already ran (once per object, whatever shares it).
    static INITED: RefCell<Vec<JsValue>> = const { RefCell::new(Vec::new()) };
}

pub struct Entry {
    pub name: String,
    pub priority: f64,
    /// Policy `fail`: a throwing hook fails the operation (default `continue`: reported, skipped).
    pub fail: bool,
    pub deps: Vec<String>,
    /// The plugin object (a JS plugin, or the `BuiltinPlugin` handle).
    pub js: JsValue,
    pub builtin: Option<Rc<Builtin>>,
}

#[derive(Default)]
pub struct Pipeline {
    pub entries: Vec<Rc<Entry>>,
    pub middleware: Vec<JsValue>,
    /// A missing dependency or a cycle: every operation fails with it.
    pub problem: Option<String>,
    /// Values that must never reach a log (secret env values of submitted jobs).
    pub secrets: RefCell<Vec<String>>,
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn read_entry(v: &JsValue) -> Result<Entry> {
    if let Some(id) = get(v, "__sandrunBuiltin").as_f64() {
        let b = REGISTRY.with(|r| r.borrow().get(id as usize).and_then(Weak::upgrade));
        let b = b.ok_or_else(|| SdkError::field("plugin", "this built-in plugin was freed"))?;
        return Ok(Entry {
            name: b.name().into(),
            priority: 0.0,
            fail: false,
            deps: Vec::new(),
            js: v.clone(),
            builtin: Some(b),
        });
    }
    let mut r = Reader::new(v, "plugin.");
    let name = r.string("name");
    let _version = r.string("version");
    let priority = r.number("priority").unwrap_or(0.0);
    let deps = r.strings("dependencies").unwrap_or_default();
    let policy = r.string("policy");
    if name.is_none() && v.is_object() {
        r.problems.push(problem(
            "plugin.name",
            "is required (a string naming the plugin)",
        ));
    }
    let fail = match policy.as_deref() {
        None | Some("continue") => false,
        Some("fail") => true,
        Some(_) => {
            r.problems
                .push(problem("plugin.policy", "must be \"continue\" or \"fail\""));
            false
        }
    };
    r.finish(Entry {
        name: name.unwrap_or_default(),
        priority,
        fail,
        deps,
        js: v.clone(),
        builtin: None,
    })
}

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

impl Pipeline {
    /// `base`'s plugins and middleware followed by `plugins` and `middleware`, ordered.
    pub fn derive(
        base: &Pipeline,
        plugins: &[JsValue],
        middleware: &[JsValue],
    ) -> Result<Pipeline> {
        let mut all: Vec<Rc<Entry>> = base.entries.clone();
        for p in plugins {
            all.push(Rc::new(read_entry(p).map_err(|e| e.op("use"))?));
        }
        for m in middleware {
            if !get(m, "execute").is_function() {
                return Err(SdkError::field(
                    "middleware",
                    "must be an object with an execute(next, context) method",
                )
                .op("with"));
            }
        }
        // Highest priority first among those whose dependencies are placed (ties: first added).
        let mut placed: Vec<Rc<Entry>> = Vec::new();
        let mut problem = None;
        while !all.is_empty() {
            let ready = |e: &Entry| {
                e.deps.iter().all(|d| {
                    placed.iter().any(|p| &p.name == d) || !all.iter().any(|a| &a.name == d)
                })
            };
            let mut best: Option<usize> = None;
            for (i, e) in all.iter().enumerate() {
                if ready(e) && best.is_none_or(|b| e.priority > all[b].priority) {
                    best = Some(i);
                }
            }
            let i = best.unwrap_or_else(|| {
                problem = Some(format!(
                    "plugin {:?}: its dependencies form a cycle",
                    all[0].name
                ));
                0
            });
            placed.push(all.remove(i));
        }
        for e in &placed {
            for d in &e.deps {
                if !placed.iter().any(|p| &p.name == d) {
                    problem = Some(format!(
                        "plugin {:?} depends on {d:?}, which is not in use",
                        e.name
                    ));
                }
            }
        }
        let mut mw = base.middleware.clone();
        mw.extend(middleware.iter().cloned());
        Ok(Pipeline {
            entries: placed,
            middleware: mw,
            problem: problem.or_else(|| base.problem.clone()),
            secrets: RefCell::new(base.secrets.borrow().clone()),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.middleware.is_empty()
    }

    pub fn builtins(&self) -> impl Iterator<Item = &Builtin> {
        self.entries.iter().filter_map(|e| e.builtin.as_deref())
    }

    /// Checks the dependencies and runs `onInit` of plugins that have not had it.
    pub async fn init(&self) -> Result<()> {
        if let Some(p) = &self.problem {
            return Err(SdkError::field("plugins", p.clone()));
        }
        for e in &self.entries {
            let fresh = INITED.with(|s| {
                let mut s = s.borrow_mut();
                let new = !s.iter().any(|v| v == &e.js);
                if new {
                    s.push(e.js.clone());
                }
                new
            });
            if fresh && e.builtin.is_none() {
                self.call(e, "onInit", &[&ctx_obj(&[("plugin", &e.name)])])
                    .await?;
            }
        }
        Ok(())
    }

    /// Calls `hook` on a JS plugin (awaiting a promise). A throw becomes a PLUGIN error naming the
    /// plugin: returned for policy `fail`, otherwise reported and `undefined`.
    pub async fn call(&self, e: &Entry, hook: &str, args: &[&JsValue]) -> Result<JsValue> {
        let f = get(&e.js, hook);
        let Some(f) = f.dyn_ref::<Function>().filter(|_| e.builtin.is_none()) else {
            return Ok(JsValue::UNDEFINED);
        };
        let arr: Array = args.iter().copied().collect();
        let ret = match f.apply(&e.js, &arr) {
            Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
            Err(x) => Err(x),
        };
        match ret {
            Ok(v) => Ok(v),
            Err(thrown) => {
                let mut err = SdkError::new(
                    Code::Plugin,
                    format!(
                        "plugin {:?} failed in {hook}: {}",
                        e.name,
                        js_message(&thrown)
                    ),
                );
                err.context.plugin = Some(e.name.clone());
                err.js = Some(thrown);
                if e.fail {
                    Err(err)
                } else {
                    self.report(&err);
                    Ok(JsValue::UNDEFINED)
                }
            }
        }
    }

    /// Calls `hook` on every plugin in order; the first failure (policy `fail`) stops.
    pub async fn each(&self, hook: &str, args: &[&JsValue]) -> Result<()> {
        for e in &self.entries {
            self.call(e, hook, args).await?;
        }
        Ok(())
    }

    /// Whether some JS plugin has `hook` (to skip building its arguments).
    pub fn has(&self, hook: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.builtin.is_none() && get(&e.js, hook).is_function())
    }

    /// A problem that must not pass silently: to every logging plugin, counted by metrics, and
    /// to the console when no logging plugin is there.
    pub fn report(&self, e: &SdkError) {
        self.metrics(|m| m.error(e.code.as_str()));
        let logged = self.log(2, "plugin-error", &[("message", &e.message)], &[]);
        if !logged {
            web_sys::console::warn_1(&e.message.as_str().into());
        }
    }

    pub fn metrics(&self, f: impl Fn(&mut Metrics)) {
        for b in self.builtins() {
            if let Builtin::Metrics(m) = b {
                f(&mut m.borrow_mut());
            }
        }
    }

    /// Every secret the logs must not show.
    fn all_secrets(&self) -> Vec<String> {
        let mut s = self.secrets.borrow().clone();
        for b in self.builtins() {
            match b {
                Builtin::Auth(a) => s.extend(a.secrets.borrow().iter().cloned()),
                Builtin::Logging(l) => s.extend(l.secrets.iter().cloned()),
                _ => {}
            }
        }
        s
    }

    pub fn has_logging(&self) -> bool {
        self.builtins().any(|b| matches!(b, Builtin::Logging(_)))
    }

    /// Sends one structured event (level 0 debug … 3 error) to every logging plugin whose level
    /// lets it through; every string is scrubbed of secrets. True if some plugin took it.
    pub fn log(&self, level: u8, event: &str, strs: &[(&str, &str)], nums: &[(&str, f64)]) -> bool {
        let mut taken = false;
        let mut secrets: Option<Vec<String>> = None;
        for b in self.builtins() {
            let Builtin::Logging(l) = b else { continue };
            taken = true;
            if level < l.level {
                continue;
            }
            let secrets = secrets.get_or_insert_with(|| self.all_secrets());
            let o = Obj::new();
            o.set(
                "level",
                &["debug", "info", "warn", "error"][level as usize % 4].to_string(),
            )
            .set("event", &event.to_string())
            .set("time", &platform::now_ms());
            for (k, v) in strs {
                o.set(k, &observe::scrub(v, secrets));
            }
            for (k, v) in nums {
                o.set(k, v);
            }
            let o: JsValue = o.into();
            let delivered = match &l.sink {
                Some(f) => f.call1(&JsValue::NULL, &o).is_ok(),
                None => {
                    web_sys::console::log_1(&o);
                    true
                }
            };
            if !delivered {
                web_sys::console::warn_1(&"loggingPlugin: the sink threw".into());
            }
        }
        taken
    }
}

/// A context object for hooks: `{ operation, … }`.
pub fn ctx_obj(pairs: &[(&str, &str)]) -> JsValue {
    let o = Obj::new();
    for (k, v) in pairs {
        o.set(k, &v.to_string());
    }
    o.into()
}

// ---------------------------------------------------------------------------------------------
// Submit and result hooks

/// Before a submit: the job's pipeline (the client's plus the builder's), `onInit`, `onBuild`
/// and `onSubmit` (whose returned spec replaces the job's fields), secret env values noted.
pub async fn prepare_submit(
    client: Rc<Client>,
    mut draft: JobDraft,
) -> Result<(Rc<Client>, JobDraft)> {
    if draft.plugins.is_empty() && draft.middleware.is_empty() && client.http.pipeline.is_empty() {
        return Ok((client, draft));
    }
    let client = if draft.plugins.is_empty() && draft.middleware.is_empty() {
        client
    } else {
        let p = Pipeline::derive(&client.http.pipeline, &draft.plugins, &draft.middleware)?;
        Rc::new(client.with_pipeline(p))
    };
    let p = &client.http.pipeline;
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
    let mut names: Vec<String> = Vec::new();
    for b in p.builtins() {
        if let Builtin::Logging(l) = b {
            names.extend(l.redact_env.iter().cloned());
        }
    }
    for (k, v) in &draft.env {
        if observe::secret_name(k) || names.contains(k) {
            p.secrets.borrow_mut().push(v.clone());
        }
    }
    if p.has_logging() {
        let env: Vec<String> = draft
            .env
            .iter()
            .map(|(k, v)| {
                let secret = observe::secret_name(k) || names.contains(k);
                format!("{k}={}", if secret { REDACTED } else { v })
            })
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
    Ok((client, draft))
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
        for pair in Object::entries(env.unchecked_ref()).iter() {
            let pair = Array::from(&pair);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                m.insert(k, v);
            }
        }
        d.env = m;
    }
    r.finish(()).map_err(|e| e.op("submit"))
}

/// After `wait()` resolved: `onResult`, the completed counter, a log event.
pub async fn on_result(p: &Pipeline, job_id: &str, status: &str, result: &JsValue) -> Result<()> {
    if p.is_empty() {
        return Ok(());
    }
    p.metrics(|m| m.completed(status));
    p.log(1, "result", &[("jobId", job_id), ("status", status)], &[]);
    let ctx = ctx_obj(&[("operation", "wait"), ("jobId", job_id)]);
    p.each("onResult", &[result, &ctx]).await
}

// ---------------------------------------------------------------------------------------------
// Built-ins

pub struct Retry {
    pub policy: RetryPolicy,
    pub retry_if: Option<Function>,
    pub on_retry: Option<Function>,
    pub sleep: Option<Function>,
    pub random: Option<Function>,
}

pub struct Breaker {
    pub cfg: BreakerCfg,
    pub circuits: RefCell<Vec<(String, Circuit)>>,
    pub now: Option<Function>,
}

impl Breaker {
    /// Runs `f` on `endpoint`'s circuit (made closed on first use).
    pub fn with<R>(&self, endpoint: &str, f: impl FnOnce(&mut Circuit) -> R) -> R {
        let mut all = self.circuits.borrow_mut();
        let i = match all.iter().position(|(e, _)| e == endpoint) {
            Some(i) => i,
            None => {
                all.push((endpoint.to_string(), Circuit::new()));
                all.len() - 1
            }
        };
        f(&mut all[i].1)
    }
}

pub struct Timeouts {
    pub request_ms: Option<f64>,
    pub per_op: SortedMap<f64>,
    pub deadline_ms: Option<f64>,
    /// (percentile, multiplier, min ms, max ms, min samples)
    pub adaptive: Option<(f64, f64, f64, f64, usize)>,
    pub samples: RefCell<Vec<f64>>,
}

pub struct Limiter {
    pub bucket: RefCell<Bucket>,
    /// Waiting requests: (priority, ticket).
    pub queue: RefCell<Vec<(f64, u32)>>,
}

pub struct RateLimit {
    pub requests: Option<Limiter>,
    pub jobs: Option<Limiter>,
    pub max_queue: usize,
    pub priorities: SortedMap<f64>,
    pub ticket: Cell<u32>,
}

pub enum AuthKind {
    Bearer(JsValue),
    ApiKey(String, String),
    Custom(Function),
}

pub struct Auth {
    pub kind: AuthKind,
    pub refresh: Option<Function>,
    /// The token from `refresh()`, which replaces the configured one.
    pub refreshed: RefCell<Option<String>>,
    pub secrets: RefCell<Vec<String>>,
    pub warned: Cell<bool>,
}

pub struct Logging {
    pub sink: Option<Function>,
    pub level: u8,
    pub redact_env: Vec<String>,
    pub secrets: Vec<String>,
}

pub enum Builtin {
    Retry(Retry),
    Breaker(Breaker),
    Timeout(Timeouts),
    RateLimit(RateLimit),
    Auth(Auth),
    Logging(Logging),
    Metrics(RefCell<Metrics>),
}

impl Builtin {
    pub fn name(&self) -> &'static str {
        match self {
            Builtin::Retry(_) => "retry",
            Builtin::Breaker(_) => "circuit-breaker",
            Builtin::Timeout(_) => "timeout",
            Builtin::RateLimit(_) => "rate-limit",
            Builtin::Auth(_) => "auth",
            Builtin::Logging(_) => "logging",
            Builtin::Metrics(_) => "metrics",
        }
    }
}

/// `now()` from an option, else the clock.
pub fn now_with(f: &Option<Function>) -> f64 {
    f.as_ref()
        .and_then(|f| f.call0(&JsValue::NULL).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(platform::now_ms)
}

/// `sleep(ms)` from an option (awaited), else the platform's.
pub async fn sleep_with(f: &Option<Function>, ms: f64, signal: Option<&JsValue>) -> Result<()> {
    match f {
        Some(f) => {
            let p = f
                .call1(&JsValue::NULL, &ms.into())
                .map_err(|e| SdkError::new(Code::Plugin, js_message(&e)))?;
            JsFuture::from(Promise::resolve(&p))
                .await
                .map(|_| ())
                .map_err(|e| SdkError::new(Code::Cancelled, js_message(&e)))
        }
        None => platform::sleep(ms, signal).await,
    }
}

impl Limiter {
    fn new(capacity: f64, per_ms: f64) -> Limiter {
        Limiter {
            bucket: RefCell::new(Bucket::new(capacity, per_ms, platform::now_ms())),
            queue: RefCell::new(Vec::new()),
        }
    }

    /// Waits for a token; the highest-priority, oldest waiter goes first.
    async fn acquire(
        &self,
        prio: f64,
        ticket: u32,
        max_queue: usize,
        signal: Option<&JsValue>,
    ) -> Result<()> {
        if self.queue.borrow().len() >= max_queue {
            return Err(SdkError::new(
                Code::RateLimited,
                format!(
                    "rateLimitPlugin: {max_queue} requests already wait for the client-side limit"
                ),
            ));
        }
        self.queue.borrow_mut().push((prio, ticket));
        let result = loop {
            let head = self
                .queue
                .borrow()
                .iter()
                .fold(None::<(f64, u32)>, |best, &(p, t)| match best {
                    Some((bp, bt)) if bp > p || (bp == p && bt < t) => Some((bp, bt)),
                    _ => Some((p, t)),
                })
                .map(|(_, t)| t);
            let wait = if head == Some(ticket) {
                match self.bucket.borrow_mut().take(platform::now_ms()) {
                    Ok(()) => break Ok(()),
                    Err(ms) => ms,
                }
            } else {
                (1.0 / self.bucket.borrow().per_ms).min(1000.0)
            };
            if let Err(e) = platform::sleep(wait, signal).await {
                break Err(e);
            }
        };
        self.queue.borrow_mut().retain(|&(_, t)| t != ticket);
        result
    }
}

impl RateLimit {
    pub async fn acquire(&self, op: &str, signal: Option<&JsValue>) -> Result<()> {
        let prio = self
            .priorities
            .get(op)
            .copied()
            .unwrap_or(if op == "submit" { 0.0 } else { 1.0 });
        let t = self.ticket.get().wrapping_add(1);
        self.ticket.set(t);
        if op == "submit" {
            if let Some(l) = &self.jobs {
                l.acquire(prio, t, self.max_queue, signal).await?;
            }
        }
        if let Some(l) = &self.requests {
            l.acquire(prio, t, self.max_queue, signal).await?;
        }
        Ok(())
    }
}

impl Timeouts {
    /// The timeout of one request of `op`; `explicit` is the caller's own (status polls).
    pub fn request_timeout(&self, op: &str, explicit: Option<f64>, default: f64) -> f64 {
        if let Some(t) = self.per_op.get(op) {
            return *t;
        }
        if let Some(t) = explicit {
            return t;
        }
        self.learned().or(self.request_ms).unwrap_or(default)
    }

    pub fn learned(&self) -> Option<f64> {
        let (p, mult, min, max, min_samples) = self.adaptive?;
        let s = self.samples.borrow();
        if s.len() < min_samples {
            return None;
        }
        Some((resilience::percentile(&s, p)? * mult).clamp(min, max))
    }

    pub fn sample(&self, ms: f64) {
        if self.adaptive.is_some() {
            let mut s = self.samples.borrow_mut();
            s.push(ms);
            if s.len() > 100 {
                s.remove(0);
            }
        }
    }
}

impl Auth {
    /// The headers this request gets.
    pub async fn headers(&self, req: &JsValue) -> Result<Vec<(String, String)>> {
        let fail = |e: JsValue| {
            let mut err = SdkError::new(Code::Plugin, format!("authPlugin: {}", js_message(&e)));
            err.context.plugin = Some("auth".into());
            err.js = Some(e);
            err
        };
        let resolve = |v: JsValue| async move {
            let v = match v.dyn_ref::<Function>() {
                Some(f) => f.call0(&JsValue::NULL)?,
                None => v,
            };
            JsFuture::from(Promise::resolve(&v)).await
        };
        let out = match &self.kind {
            AuthKind::Bearer(t) => {
                let cached = self.refreshed.borrow().clone();
                let token = match cached {
                    Some(t) => t,
                    None => resolve(t.clone())
                        .await
                        .map_err(fail)?
                        .as_string()
                        .unwrap_or_default(),
                };
                self.note(&token);
                vec![("Authorization".into(), format!("Bearer {token}"))]
            }
            AuthKind::ApiKey(h, k) => vec![(h.clone(), k.clone())],
            AuthKind::Custom(sign) => {
                let v = sign.call1(&JsValue::NULL, req).map_err(fail)?;
                let v = JsFuture::from(Promise::resolve(&v)).await.map_err(fail)?;
                let mut h = Vec::new();
                if v.is_object() {
                    for pair in Object::entries(v.unchecked_ref()).iter() {
                        let pair = Array::from(&pair);
                        if let (Some(k), Some(val)) =
                            (pair.get(0).as_string(), pair.get(1).as_string())
                        {
                            self.note(&val);
                            h.push((k, val));
                        }
                    }
                }
                h
            }
        };
        Ok(out)
    }

    fn note(&self, secret: &str) {
        let mut s = self.secrets.borrow_mut();
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
        }
    }

    /// After a 401: asks `refresh()` for a new token. True if there is one to try.
    pub async fn refresh(&self) -> Result<bool> {
        let Some(f) = &self.refresh else {
            return Ok(false);
        };
        let v = f
            .call0(&JsValue::NULL)
            .map_err(|e| SdkError::new(Code::Plugin, js_message(&e)))?;
        let token = JsFuture::from(Promise::resolve(&v))
            .await
            .map_err(|e| {
                SdkError::new(
                    Code::Plugin,
                    format!("authPlugin refresh: {}", js_message(&e)),
                )
            })?
            .as_string();
        if let Some(t) = &token {
            self.note(t);
        }
        let ok = token.is_some();
        *self.refreshed.borrow_mut() = token;
        Ok(ok)
    }
}

/// The handle a built-in factory returns; pass it to `.use()`.
#[wasm_bindgen]
pub struct BuiltinPlugin {
    inner: Rc<Builtin>,
    id: u32,
}

fn register(b: Builtin) -> BuiltinPlugin {
    let inner = Rc::new(b);
    let id = REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        r.push(Rc::downgrade(&inner));
        r.len() as u32 - 1
    });
    BuiltinPlugin { inner, id }
}

#[wasm_bindgen]
impl BuiltinPlugin {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().into()
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    #[wasm_bindgen(getter)]
    pub fn priority(&self) -> f64 {
        0.0
    }

    #[wasm_bindgen(getter, js_name = "__sandrunBuiltin")]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Metrics: counters and histograms as JSON. Circuit breaker: each endpoint's circuit.
    /// Timeout: the learned adaptive timeout. Others: `{}`.
    #[wasm_bindgen(unchecked_return_type = "Record<string, any>")]
    pub fn snapshot(&self) -> JsValue {
        let o = Obj::new();
        match &*self.inner {
            Builtin::Metrics(m) => {
                let m = m.borrow();
                o.set("submitted", &m.submitted)
                    .set("completed", &m.completed)
                    .set("errors", &m.errors)
                    .set("requests", &m.requests)
                    .set("retries", &m.retries);
                let lat = Obj::new();
                for (op, h) in &m.latency {
                    let buckets = Obj::new();
                    for (i, b) in observe::BOUNDS.iter().enumerate() {
                        buckets.set(&num(*b), &h.le[i]);
                    }
                    buckets.set("+Inf", &h.count);
                    let one = Obj::new();
                    one.set("count", &h.count).set("sumMs", &h.sum);
                    one.set_js("buckets", &buckets.into());
                    lat.set_js(op, &one.into());
                }
                o.set_js("latencyMs", &lat.into());
            }
            Builtin::Breaker(b) => {
                let now = now_with(&b.now);
                for (ep, c) in b.circuits.borrow().iter() {
                    let ep: &str = ep;
                    let one = Obj::new();
                    one.set("state", &c.state.as_str().to_string())
                        .set("failures", &(c.failures() as f64))
                        .set("calls", &(c.outcomes.len() as f64))
                        .set("retryInMs", &(c.open_until - now).max(0.0));
                    o.set_js(ep, &one.into());
                }
            }
            Builtin::Timeout(t) => {
                o.set("learnedMs", &t.learned())
                    .set("samples", &(t.samples.borrow().len() as f64));
            }
            _ => {}
        }
        o.into()
    }

    /// Metrics in the Prometheus text format (empty for other plugins).
    pub fn prometheus(&self) -> String {
        match &*self.inner {
            Builtin::Metrics(m) => m.borrow().prometheus(),
            _ => String::new(),
        }
    }
}

fn func(r: &mut Reader, key: &str, field: &'static str) -> Option<Function> {
    let v = r.value(key)?;
    match v.dyn_into::<Function>() {
        Ok(f) => Some(f),
        Err(_) => {
            r.problems.push(FieldProblem {
                field: format!("{field}{key}"),
                message: "must be a function".into(),
            });
            None
        }
    }
}

fn numbers(r: &mut Reader, key: &str) -> SortedMap<f64> {
    let mut m = SortedMap::new();
    if let Some(v) = r.value(key).filter(|v| v.is_object()) {
        for pair in Object::entries(v.unchecked_ref()).iter() {
            let pair = Array::from(&pair);
            if let (Some(k), Some(n)) = (pair.get(0).as_string(), pair.get(1).as_f64()) {
                m.insert(k, n);
            }
        }
    }
    m
}

fn made(r: Reader, b: Builtin) -> std::result::Result<BuiltinPlugin, JsValue> {
    r.finish(()).map_err(SdkError::into_js)?;
    Ok(register(b))
}

/// Retries failed requests: fixed, linear or exponential backoff with full jitter, honouring the
/// server's wait (`Retry-After`, or "wait N seconds" in a 429's text). A submit is retried only
/// when the server provably did not take it (connection refused, 429, 503).
#[wasm_bindgen(js_name = retryPlugin)]
pub fn retry_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "RetryOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    const F: &str = "retryPlugin options.";
    let mut r = Reader::new(&options.unwrap_or(JsValue::UNDEFINED), F);
    r.only(&[
        "maxAttempts",
        "backoff",
        "baseDelayMs",
        "maxDelayMs",
        "jitter",
        "maxRetryAfterMs",
        "retryIf",
        "onRetry",
        "sleep",
        "random",
    ]);
    let d = RetryPolicy::default();
    let backoff = match r.string("backoff").as_deref() {
        None | Some("exponential") => Backoff::Exponential,
        Some("linear") => Backoff::Linear,
        Some("fixed") => Backoff::Fixed,
        Some(_) => {
            r.problems.push(problem(
                "retryPlugin options.backoff",
                "must be \"fixed\", \"linear\" or \"exponential\"",
            ));
            Backoff::Exponential
        }
    };
    let policy = RetryPolicy {
        max_attempts: r
            .number("maxAttempts")
            .map(|n| n.max(1.0) as u32)
            .unwrap_or(d.max_attempts),
        backoff,
        base_ms: r.number("baseDelayMs").unwrap_or(d.base_ms),
        max_delay_ms: r.number("maxDelayMs").unwrap_or(d.max_delay_ms),
        jitter: r.boolean("jitter").unwrap_or(true),
        max_retry_after_ms: r.number("maxRetryAfterMs").unwrap_or(d.max_retry_after_ms),
    };
    let b = Retry {
        policy,
        retry_if: func(&mut r, "retryIf", F),
        on_retry: func(&mut r, "onRetry", F),
        sleep: func(&mut r, "sleep", F),
        random: func(&mut r, "random", F),
    };
    made(r, Builtin::Retry(b))
}

/// A circuit per endpoint: after too many failures in the window it opens (calls fail at once
/// with a `CircuitOpenError` saying when it tries again), then lets one probe through.
#[wasm_bindgen(js_name = circuitBreakerPlugin)]
pub fn circuit_breaker_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "CircuitBreakerOptions")] options: Option<
        JsValue,
    >,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    const F: &str = "circuitBreakerPlugin options.";
    let mut r = Reader::new(&options.unwrap_or(JsValue::UNDEFINED), F);
    r.only(&[
        "failureRate",
        "windowSize",
        "minimumCalls",
        "cooldownMs",
        "now",
    ]);
    let d = BreakerCfg::default();
    let cfg = BreakerCfg {
        failure_rate: r.number("failureRate").unwrap_or(d.failure_rate),
        window: r
            .number("windowSize")
            .map(|n| n.max(1.0) as usize)
            .unwrap_or(d.window),
        minimum_calls: r
            .number("minimumCalls")
            .map(|n| n.max(1.0) as usize)
            .unwrap_or(d.minimum_calls),
        cooldown_ms: r.number("cooldownMs").unwrap_or(d.cooldown_ms),
    };
    let now = func(&mut r, "now", F);
    made(
        r,
        Builtin::Breaker(Breaker {
            cfg,
            circuits: RefCell::new(Vec::new()),
            now,
        }),
    )
}

/// Timeouts per request and per operation, an overall deadline per operation (retries
/// included), and an adaptive request timeout learned from observed latencies.
#[wasm_bindgen(js_name = timeoutPlugin)]
pub fn timeout_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "TimeoutOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let mut r = Reader::new(
        &options.unwrap_or(JsValue::UNDEFINED),
        "timeoutPlugin options.",
    );
    r.only(&["requestMs", "operations", "deadlineMs", "adaptive"]);
    let adaptive = match r.value("adaptive") {
        None => None,
        Some(v) if v.as_bool() == Some(false) => None,
        Some(v) => {
            let mut a = Reader::new(
                &if v.is_object() { v } else { JsValue::UNDEFINED },
                "timeoutPlugin options.adaptive.",
            );
            a.only(&["percentile", "multiplier", "minMs", "maxMs", "minSamples"]);
            let t = (
                a.number("percentile").unwrap_or(0.95),
                a.number("multiplier").unwrap_or(3.0),
                a.number("minMs").unwrap_or(100.0),
                a.number("maxMs").unwrap_or(60_000.0),
                a.number("minSamples").unwrap_or(5.0) as usize,
            );
            r.problems.extend(a.problems);
            Some(t)
        }
    };
    let t = Timeouts {
        request_ms: r.number("requestMs"),
        per_op: numbers(&mut r, "operations"),
        deadline_ms: r.number("deadlineMs"),
        adaptive,
        samples: RefCell::new(Vec::new()),
    };
    made(r, Builtin::Timeout(t))
}

/// A client-side token bucket with a priority queue. By default it matches the worker's
/// published limit of 20 jobs an hour (submits), and does not limit other requests.
#[wasm_bindgen(js_name = rateLimitPlugin)]
pub fn rate_limit_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "RateLimitOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    let mut r = Reader::new(
        &options.unwrap_or(JsValue::UNDEFINED),
        "rateLimitPlugin options.",
    );
    r.only(&[
        "requestsPerSecond",
        "burst",
        "jobsPerHour",
        "maxQueue",
        "priorities",
    ]);
    let rps = r.number("requestsPerSecond").filter(|n| *n > 0.0);
    let burst = r.number("burst").unwrap_or(1.0).max(1.0);
    let jobs = r.number("jobsPerHour").unwrap_or(20.0);
    let b = RateLimit {
        requests: rps.map(|n| Limiter::new(burst, n / 1000.0)),
        jobs: (jobs > 0.0).then(|| Limiter::new(jobs, jobs / 3_600_000.0)),
        max_queue: r.number("maxQueue").unwrap_or(100.0) as usize,
        priorities: numbers(&mut r, "priorities"),
        ticket: Cell::new(0),
    };
    made(r, Builtin::RateLimit(b))
}

/// Credentials on every request: a bearer token (a string, or a function returning one, called
/// per request), an API key header, or a custom signer; `refresh()` is asked for a new token
/// after a 401. In a browser it warns that such headers need a CORS preflight, which the real
/// Sandrun worker does not answer.
#[wasm_bindgen(js_name = authPlugin)]
pub fn auth_plugin(
    #[wasm_bindgen(unchecked_param_type = "AuthOptions")] options: JsValue,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    const F: &str = "authPlugin options.";
    let mut r = Reader::new(&options, F);
    r.only(&["type", "token", "key", "header", "sign", "refresh"]);
    let kind = match r.string("type").as_deref() {
        Some("bearer") => r.value("token").map(AuthKind::Bearer),
        Some("apiKey") => r
            .string("key")
            .map(|k| AuthKind::ApiKey(r.string("header").unwrap_or_else(|| "X-API-Key".into()), k)),
        Some("custom") => func(&mut r, "sign", F).map(AuthKind::Custom),
        _ => None,
    };
    let refresh = func(&mut r, "refresh", F);
    let Some(kind) = kind else {
        r.problems.push(problem(
            "authPlugin options",
            "needs { type: 'bearer', token } or { type: 'apiKey', key } or { type: 'custom', sign }",
        ));
        return Err(SdkError::validation(r.problems).into_js());
    };
    let mut secrets = Vec::new();
    match &kind {
        AuthKind::Bearer(t) => secrets.extend(t.as_string()),
        AuthKind::ApiKey(_, k) => secrets.push(k.clone()),
        AuthKind::Custom(_) => {}
    }
    let a = Auth {
        kind,
        refresh,
        refreshed: RefCell::new(None),
        secrets: RefCell::new(secrets),
        warned: Cell::new(false),
    };
    made(r, Builtin::Auth(a))
}

/// Structured events (`{ level, event, time, operation, … }`) to `sink` (default: the console),
/// from `level` up; tokens, keys, secret headers and secret `env` values are redacted.
#[wasm_bindgen(js_name = loggingPlugin)]
pub fn logging_plugin(
    #[wasm_bindgen(unchecked_optional_param_type = "LoggingOptions")] options: Option<JsValue>,
) -> std::result::Result<BuiltinPlugin, JsValue> {
    const F: &str = "loggingPlugin options.";
    let mut r = Reader::new(&options.unwrap_or(JsValue::UNDEFINED), F);
    r.only(&["sink", "level", "redactEnv", "secrets"]);
    let level = match r.string("level").as_deref() {
        Some("debug") => 0,
        None | Some("info") => 1,
        Some("warn") => 2,
        Some("error") => 3,
        Some(_) => {
            r.problems.push(problem(
                "loggingPlugin options.level",
                "must be debug, info, warn or error",
            ));
            1
        }
    };
    let l = Logging {
        sink: func(&mut r, "sink", F),
        level,
        redact_env: r.strings("redactEnv").unwrap_or_default(),
        secrets: r.strings("secrets").unwrap_or_default(),
    };
    made(r, Builtin::Logging(l))
}

/// Counters (jobs submitted, completed by status, errors by code, requests and retries by
/// operation) and latency histograms per operation: `snapshot()` (JSON) and `prometheus()`.
#[wasm_bindgen(js_name = metricsPlugin)]
pub fn metrics_plugin() -> BuiltinPlugin {
    register(Builtin::Metrics(RefCell::new(Metrics::default())))
}

#[wasm_bindgen(typescript_custom_section)]
const PLUGIN_TS: &str = r#"
/** What hooks receive as their last argument. */
export interface PluginContext {
  operation: string;
  method?: string;
  url?: string;
  endpoint?: string;
  jobId?: string;
  plugin?: string;
}
/** A plugin: a name and optional hooks; each hook may return a promise, which is awaited. */
export interface Plugin {
  name: string;
  version?: string;
  /** Higher runs first (default 0); ties run in the order added. */
  priority?: number;
  /** Plugins that must be in use and run before this one. */
  dependencies?: string[];
  /** When a hook throws: `continue` (default: reported, then skipped) or `fail` (the operation rejects with a PluginError). */
  policy?: 'continue' | 'fail';
  onInit?(context: PluginContext): void | Promise<void>;
  onBuild?(spec: JobSpec, context: PluginContext): void | Promise<void>;
  /** Return a spec to change the job (entrypoint, interpreter, environment, args, outputs, env). */
  onSubmit?(spec: JobSpec, context: PluginContext): void | Partial<JobSpec> | Promise<void | Partial<JobSpec>>;
  /** Return `{ headers }` (and/or `{ url }`) to change the request. */
  onRequest?(request: { method: string; url: string; headers: [string, string][] }, context: PluginContext): void | { headers?: [string, string][]; url?: string } | Promise<void | { headers?: [string, string][]; url?: string }>;
  onResponse?(response: { status: number; durationMs: number; headers?: [string, string][] }, context: PluginContext): void | Promise<void>;
  onResult?(result: JobResult, context: PluginContext): void | Promise<void>;
  /** Return a response to recover, throw to replace the error, return nothing to let it go on. */
  onError?(error: SandrunErrorLike, context: PluginContext): void | HttpResponse | Promise<void | HttpResponse>;
  onDestroy?(): void | Promise<void>;
}
/** An HTTP answer as middleware and `onError` see it. */
export interface HttpResponse {
  status: number;
  headers?: [string, string][];
  body?: Uint8Array;
}
/** Wraps every operation (submit, status, logs, download, …); call `next()` to go on. */
export interface Middleware {
  name?: string;
  execute(next: () => Promise<HttpResponse>, context: PluginContext): Promise<HttpResponse>;
}
/** The SDK's errors as plugins see them (instances of SandrunError). */
export type SandrunErrorLike = Error & { code: string; retryable: boolean; operation?: string; endpoint?: string; jobId?: string; status?: number; retryAfterMs?: number; attempt?: number; plugin?: string };
export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  backoff?: 'fixed' | 'linear' | 'exponential';
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Full jitter (default true): a uniform wait between 0 and the backoff. */
  jitter?: boolean;
  /** A server asking for a longer wait than this (default 120000) is not retried. */
  maxRetryAfterMs?: number;
  retryIf?: (error: SandrunErrorLike, attempt: number) => boolean;
  onRetry?: (error: SandrunErrorLike, attempt: number, delayMs: number) => void;
  /** Replaces the timer (tests, custom schedulers). */
  sleep?: (ms: number) => Promise<void>;
  /** Replaces Math.random for the jitter. */
  random?: () => number;
}
export interface CircuitBreakerOptions {
  /** Failure rate in the window that opens the circuit (default 0.5). */
  failureRate?: number;
  /** Outcomes kept (default 10). */
  windowSize?: number;
  /** Fewest calls before the rate counts (default 5). */
  minimumCalls?: number;
  /** How long the circuit stays open before one probe (default 30000). */
  cooldownMs?: number;
  now?: () => number;
}
export interface TimeoutOptions {
  requestMs?: number;
  /** Per operation (`submit`, `status`, `download`, `health`, …): wins over everything else. */
  operations?: Record<string, number>;
  /** Whole operation, retries and waits included. */
  deadlineMs?: number;
  adaptive?: boolean | { percentile?: number; multiplier?: number; minMs?: number; maxMs?: number; minSamples?: number };
}
export interface RateLimitOptions {
  /** Requests a second (default: unlimited). */
  requestsPerSecond?: number;
  burst?: number;
  /** Submits an hour (default 20, the Sandrun worker's limit; 0: unlimited). */
  jobsPerHour?: number;
  /** Requests that may wait (default 100); more are refused with a RateLimitError. */
  maxQueue?: number;
  /** Queue priority per operation (default: submit 0, others 1; higher first). */
  priorities?: Record<string, number>;
}
export type AuthOptions =
  | { type: 'bearer'; token: string | (() => string | Promise<string>); refresh?: () => Promise<string> }
  | { type: 'apiKey'; key: string; header?: string }
  | { type: 'custom'; sign: (request: { method: string; url: string }) => Record<string, string> | Promise<Record<string, string>> };
export interface LogEvent {
  level: 'debug' | 'info' | 'warn' | 'error';
  event: string;
  time: number;
  [field: string]: unknown;
}
export interface LoggingOptions {
  sink?: (event: LogEvent) => void;
  level?: 'debug' | 'info' | 'warn' | 'error';
  /** Env names whose values are secret (besides names with SECRET, TOKEN, KEY, PASSWORD, AUTH…). */
  redactEnv?: string[];
  /** More literal values to redact. */
  secrets?: string[];
}
"#;
