//! The calls the pinning service makes to Kubo's RPC API (`POST /api/v0/…`), with ureq: Kubo is
//! a well-behaved HTTP server, so no hand-written client is needed here. Blocking: callers run
//! them on tokio's blocking threads.

use std::time::Duration;

use serde_json::Value;

pub struct Kubo {
    base: String,
    agent: ureq::Agent,
}

/// How long a quick call (`id`, `pin/rm`, `swarm/connect`) may take.
const QUICK: Duration = Duration::from_secs(10);

impl Kubo {
    pub fn new(base: &str) -> Result<Kubo, String> {
        let base = base.trim_end_matches('/');
        if !base.starts_with("http://") {
            return Err(format!("--kubo {base:?} must be an http:// URL"));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Kubo {
            base: base.to_string(),
            agent,
        })
    }

    /// One RPC call; the error says what Kubo (or the connection) said.
    fn call(&self, cmd: &str, args: &[(&str, &str)], timeout: Duration) -> Result<Value, String> {
        let mut req = self
            .agent
            .post(format!("{}/api/v0/{cmd}", self.base))
            .config()
            .timeout_global(Some(timeout))
            .build();
        for (k, v) in args {
            req = req.query(*k, *v);
        }
        let mut resp = req.send_empty().map_err(|e| format!("Kubo {cmd}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("Kubo {cmd}: {e}"))?;
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if status != 200 {
            // Kubo's errors: {"Message": "...", "Code": 0, "Type": "error"}
            let msg = v["Message"].as_str().unwrap_or(body.trim());
            return Err(format!("Kubo {cmd}: {msg}"));
        }
        Ok(v)
    }

    /// The node's peer id and the multiaddrs it listens on (none when offline without a swarm).
    pub fn id(&self) -> Result<(String, Vec<String>), String> {
        let v = self.call("id", &[], QUICK)?;
        let id = v["ID"].as_str().ok_or("Kubo id: no ID in the answer")?;
        let addrs = v["Addresses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok((id.to_string(), addrs))
    }

    /// Pins `cid` recursively, fetching what is missing; Kubo gives up after `timeout` (its own
    /// `timeout` option, so a missing block cannot hang the call).
    pub fn pin_add(&self, cid: &str, timeout: Duration) -> Result<(), String> {
        let t = format!("{}s", timeout.as_secs().max(1));
        let v = self.call(
            "pin/add",
            &[("arg", cid), ("recursive", "true"), ("timeout", &t)],
            timeout + Duration::from_secs(5),
        )?;
        match v["Pins"].as_array() {
            Some(p) if !p.is_empty() => Ok(()),
            _ => Err(format!("Kubo pin/add: unexpected answer {v}")),
        }
    }

    /// Removes the recursive pin of `cid`; a CID that is not pinned is not an error.
    pub fn pin_rm(&self, cid: &str) -> Result<(), String> {
        match self.call("pin/rm", &[("arg", cid)], QUICK) {
            Err(e) if e.contains("not pinned") => Ok(()),
            other => other.map(drop),
        }
    }

    /// Asks Kubo to connect to a peer that has the data (a pin's `origins`).
    pub fn swarm_connect(&self, multiaddr: &str) -> Result<(), String> {
        self.call("swarm/connect", &[("arg", multiaddr)], QUICK)
            .map(drop)
    }
}
