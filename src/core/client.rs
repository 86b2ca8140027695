//! `Client`: what every operation of one `Sandrun` instance shares — the validated config, the
//! transport (with the layers extensions added), and the hooks extensions run when a job ends or
//! the client is destroyed.

use super::boundary::error::Result;
use super::config::ResolvedConfig;
use super::transport::{Fut, Http, Layer};
use std::rc::Rc;
use wasm_bindgen::JsValue;

/// What an extension (plugins) runs at the client's moments, besides transport layers.
pub trait ClientHooks {
    /// After `wait()` resolved with `result` (its JS form).
    fn on_result<'a>(
        &'a self,
        job_id: &'a str,
        status: &'a str,
        result: &'a JsValue,
    ) -> Fut<'a, Result<()>>;
    /// `sandrun.destroy()`.
    fn destroy(&self) -> Fut<'_, Result<()>>;
    /// For the extension that installed the hooks to find them again.
    fn into_any(self: Rc<Self>) -> Rc<dyn std::any::Any>;
}

pub struct Client {
    pub config: ResolvedConfig,
    pub http: Http,
    pub hooks: Option<Rc<dyn ClientHooks>>,
}

impl Client {
    pub fn new(config: ResolvedConfig) -> Client {
        let http = Http::new(&config.endpoint, config.request_timeout_ms);
        Client {
            config,
            http,
            hooks: None,
        }
    }

    /// The same settings and layers, talking to another server (a pool's worker, a coordinator,
    /// a broker).
    pub fn for_endpoint(&self, endpoint: &str) -> Rc<Client> {
        let mut config = self.config.clone();
        config.endpoint = endpoint.to_string();
        Rc::new(Client {
            http: self.http.to(endpoint),
            config,
            hooks: self.hooks.clone(),
        })
    }

    /// The same client with other layers and hooks (a job's own plugins).
    pub fn with_extension(
        &self,
        layers: Vec<Rc<dyn Layer>>,
        hooks: Option<Rc<dyn ClientHooks>>,
    ) -> Client {
        let mut http = self.http.clone();
        http.layers = Rc::from(layers);
        Client {
            config: self.config.clone(),
            http,
            hooks,
        }
    }

    pub async fn on_result(&self, job_id: &str, status: &str, result: &JsValue) -> Result<()> {
        match &self.hooks {
            Some(h) => h.on_result(job_id, status, result).await,
            None => Ok(()),
        }
    }
}
