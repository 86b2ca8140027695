//! Plugins and middleware. A client (`Sandrun.use`) and a job (`JobBuilder.use` / `.with`) each
//! have a `Pipeline`: the plugins in hook order and the middleware, outermost first. The pipeline
//! calls JS plugins' hooks with isolation, and turns itself into transport layers for the client
//! (`layers()`): each built-in adds its own (one file each), the hooks and the middleware theirs.
//! `docs/plugins.md` is the user's guide.
//!
//! Hook order: higher `priority` first (default 0), ties in the order added (client's plugins
//! before the job's); a plugin always comes after the plugins it names in `dependencies`.

pub mod attach;
pub mod auth;
pub mod breaker;
pub mod builtin;
pub mod hooks;
pub mod logging;
pub mod metrics;
pub mod middleware;
pub mod ratelimit;
pub mod retry;
pub mod timeout;

use crate::core::boundary::error::{Code, FieldProblem, Result, SdkError};
use crate::core::boundary::js::{message_of, method, number, string, Obj};
use crate::core::boundary::platform;
use crate::core::boundary::reader::Reader;
use crate::core::client::ClientHooks;
use crate::core::transport::{Fut, Layer};
use builtin::{Builtin, Stage};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub use auth::auth_plugin;
pub use breaker::circuit_breaker_plugin;
pub use builtin::BuiltinPlugin;
pub use logging::logging_plugin;
pub use metrics::metrics_plugin;
pub use ratelimit::rate_limit_plugin;
pub use retry::retry_plugin;
pub use timeout::timeout_plugin;

thread_local! {
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
    pub builtin: Option<Rc<dyn Builtin>>,
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

fn read_entry(v: &JsValue) -> Result<Entry> {
    if let Some(id) = number(v, "__sandrunBuiltin") {
        let b = builtin::lookup(id)
            .ok_or_else(|| SdkError::field("plugin", "this built-in plugin was freed"))?;
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
        r.bad("name", "is required (a string naming the plugin)");
    }
    let fail = match policy.as_deref() {
        None | Some("continue") => false,
        Some("fail") => true,
        Some(_) => {
            r.bad("policy", "must be \"continue\" or \"fail\"");
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

/// A context object for hooks: `{ operation, … }`.
pub fn ctx_obj(pairs: &[(&str, &str)]) -> JsValue {
    let o = Obj::new();
    for (k, v) in pairs {
        o.set(k, v);
    }
    o.into()
}

impl Pipeline {
    /// `base`'s plugins and middleware followed by `plugins` and `middleware`, ordered.
    pub fn derive(
        base: Option<&Pipeline>,
        plugins: &[JsValue],
        middleware: &[JsValue],
    ) -> Result<Pipeline> {
        let mut all: Vec<Rc<Entry>> = base.map(|b| b.entries.clone()).unwrap_or_default();
        for p in plugins {
            all.push(Rc::new(read_entry(p).map_err(|e| e.op("use"))?));
        }
        for m in middleware {
            if method(m, "execute").is_none() {
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
        let mut mw = base.map(|b| b.middleware.clone()).unwrap_or_default();
        mw.extend(middleware.iter().cloned());
        Ok(Pipeline {
            entries: placed,
            middleware: mw,
            problem: problem.or_else(|| base.and_then(|b| b.problem.clone())),
            secrets: RefCell::new(base.map(|b| b.secrets.borrow().clone()).unwrap_or_default()),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.middleware.is_empty()
    }

    pub fn builtins(&self) -> impl Iterator<Item = &Rc<dyn Builtin>> {
        self.entries.iter().filter_map(|e| e.builtin.as_ref())
    }

    /// The built-in of type `T`, if one is in use.
    pub fn builtin<T: 'static>(&self) -> Option<&T> {
        self.builtins().find_map(|b| b.as_any().downcast_ref::<T>())
    }

    /// The transport layers this pipeline gives a client, outermost first: onInit and the
    /// dependency check, the middleware chain, the operation's bookkeeping (metrics, `onError`),
    /// the built-ins by stage (the last added of each kind counts, so a job's own overrides the
    /// client's), and the request hooks around the platform request.
    pub fn layers(self: &Rc<Self>) -> Vec<Rc<dyn Layer>> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut staged: Vec<(Stage, Rc<dyn Layer>)> = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        for b in self.builtins().collect::<Vec<_>>().into_iter().rev() {
            if !seen.contains(&b.name()) {
                seen.push(b.name());
                staged.extend(b.clone().layers(self));
            }
        }
        staged.sort_by_key(|(s, _)| *s);
        let mut inner: Vec<Rc<dyn Layer>> = Vec::new();
        if !self.entries.is_empty() {
            inner.push(Rc::new(hooks::Operation(self.clone())));
        }
        inner.extend(staged.into_iter().map(|(_, l)| l));
        if !self.entries.is_empty() {
            inner.push(Rc::new(hooks::Request(self.clone())));
        }
        let mut out: Vec<Rc<dyn Layer>> = vec![Rc::new(hooks::Init(self.clone()))];
        if !self.middleware.is_empty() {
            out.push(Rc::new(middleware::Chain(self.clone())));
        }
        out.extend(inner);
        out
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
        let Some(f) = method(&e.js, hook).filter(|_| e.builtin.is_none()) else {
            return Ok(JsValue::UNDEFINED);
        };
        match platform::call_async(&f, &e.js, args).await {
            Ok(v) => Ok(v),
            Err(thrown) => {
                let mut err = SdkError::new(
                    Code::Plugin,
                    format!(
                        "plugin {:?} failed in {hook}: {}",
                        e.name,
                        message_of(&thrown)
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
            .any(|e| e.builtin.is_none() && method(&e.js, hook).is_some())
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

    pub fn metrics(&self, f: impl Fn(&mut metrics::Counters)) {
        for b in self.builtins() {
            if let Some(m) = b.as_any().downcast_ref::<metrics::Metrics>() {
                f(&mut m.0.borrow_mut());
            }
        }
    }

    /// Every secret the logs must not show.
    fn all_secrets(&self) -> Vec<String> {
        let mut s = self.secrets.borrow().clone();
        for b in self.builtins() {
            s.extend(b.secrets());
        }
        s
    }

    pub fn has_logging(&self) -> bool {
        self.builtin::<logging::Logging>().is_some()
    }

    /// Sends one structured event (level 0 debug … 3 error) to every logging plugin whose level
    /// lets it through; every string is scrubbed of secrets. True if some plugin took it.
    pub fn log(&self, level: u8, event: &str, strs: &[(&str, &str)], nums: &[(&str, f64)]) -> bool {
        let mut taken = false;
        let mut secrets: Option<Vec<String>> = None;
        for b in self.builtins() {
            let Some(l) = b.as_any().downcast_ref::<logging::Logging>() else {
                continue;
            };
            taken = true;
            if level >= l.level {
                let secrets = secrets.get_or_insert_with(|| self.all_secrets());
                l.emit(level, event, strs, nums, secrets);
            }
        }
        taken
    }
}

impl ClientHooks for Pipeline {
    fn on_result<'a>(
        &'a self,
        job_id: &'a str,
        status: &'a str,
        result: &'a JsValue,
    ) -> Fut<'a, Result<()>> {
        Box::pin(async move {
            if self.is_empty() {
                return Ok(());
            }
            self.metrics(|m| m.completed(status));
            self.log(1, "result", &[("jobId", job_id), ("status", status)], &[]);
            let ctx = ctx_obj(&[("operation", "wait"), ("jobId", job_id)]);
            self.each("onResult", &[result, &ctx]).await
        })
    }

    fn destroy(&self) -> Fut<'_, Result<()>> {
        Box::pin(self.each("onDestroy", &[]))
    }

    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any> {
        self
    }
}

/// `[[name, value], …]` for a log line, secret headers replaced.
pub fn show_headers(h: &[(String, String)]) -> String {
    h.iter()
        .map(|(k, v)| {
            let v = if logging::secret_header(k) {
                logging::REDACTED
            } else {
                v
            };
            format!("{k}: {v}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What user code threw: a `SandrunError` passes unchanged, anything else is a PLUGIN error.
pub fn thrown_error(op: &str, thrown: JsValue, who: &str) -> SdkError {
    let mut e = SdkError::new(
        if string(&thrown, "code").is_some() {
            Code::Internal
        } else {
            Code::Plugin
        },
        format!("{op}: {who} threw: {}", message_of(&thrown)),
    );
    e.context.plugin = Some(who.to_string());
    e.js = Some(thrown);
    e
}

/// A problem for a factory's option.
pub fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem::new(field, message)
}

/// The plugins' TypeScript: hooks, middleware and the context they get.
#[wasm_bindgen(typescript_custom_section)]
const PLUGIN_TS: &'static str = r#"
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
/** Wraps every operation (submit, status, logs, download, the log stream, …); call `next()` to go on. */
export interface Middleware {
  name?: string;
  execute(next: () => Promise<HttpResponse>, context: PluginContext): Promise<HttpResponse>;
}
/** The SDK's errors as plugins see them (instances of SandrunError). */
export type SandrunErrorLike = Error & { code: string; retryable: boolean; operation?: string; endpoint?: string; jobId?: string; status?: number; retryAfterMs?: number; attempt?: number; plugin?: string };
"#;
