//! Fault injection for the worker (`--fault`), to test how clients cope with misbehaving nodes.
//!
//! `--fault NAME[:ARG][,scope=S][,first=N]`:
//! - `scope=S`: the fault applies only to requests whose path starts with a segment `/~S` or
//!   `/~S-anything` (the worker strips that first `~` segment before routing, so
//!   `http://host:port/~S-1` is a complete worker whose requests carry the fault);
//! - `first=N`: only the first N matching requests, counted separately for each distinct `~`
//!   segment (so a client that picks a fresh `/~S-<random>` gets a fresh count).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Drop,
    Delay(u64),
    Status(u16),
}

#[derive(Debug)]
pub struct Rule {
    pub kind: Kind,
    /// Fraction of matching requests affected (delays: always 1).
    pub fraction: f64,
    pub scope: Option<String>,
    /// Only requests whose path (after the scope) starts with this.
    pub path: Option<String>,
    pub first: Option<u64>,
    counts: Mutex<HashMap<String, u64>>,
}

#[derive(Debug, Default)]
pub struct Faults {
    /// Corrupt one output file (the first in path order) before hashing and signing, so the signed
    /// result differs from an honest worker's.
    pub alter_output: bool,
    pub rules: Vec<Rule>,
}

/// What to do with one request.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    pub delay_ms: u64,
    pub drop: bool,
    pub status: Option<u16>,
}

pub const HELP: &str = "alter-output | drop-connection[:FRACTION] | delay-ms:N | status-429[:FRACTION] | status-500[:FRACTION] | status-503[:FRACTION], each optionally followed by ,scope=NAME ,path=/PREFIX ,first=N";

/// The first path segment when it is a fault scope (`~name`), without the `~`.
fn scope_segment(target: &str) -> Option<&str> {
    let rest = target.strip_prefix("/~")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The target without its leading `/~scope` segment (what the worker routes).
pub fn strip_scope(target: &str) -> Option<String> {
    let seg = scope_segment(target)?;
    let rest = &target[2 + seg.len()..];
    Some(if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("/{rest}")
    })
}

impl Faults {
    pub fn parse(specs: &[String]) -> Result<Faults, String> {
        let mut f = Faults::default();
        for spec in specs {
            let mut parts = spec.split(',');
            let head = parts.next().unwrap_or_default();
            let (mut scope, mut first, mut path) = (None, None, None);
            for opt in parts {
                match opt.split_once('=') {
                    Some(("scope", s)) if !s.is_empty() && !s.contains('/') => {
                        scope = Some(s.to_string())
                    }
                    Some(("path", p)) if p.starts_with('/') => path = Some(p.to_string()),
                    Some(("first", n)) => {
                        first = Some(n.parse().map_err(|_| {
                            format!("--fault {spec}: first=N needs a whole number")
                        })?)
                    }
                    _ => return Err(format!("--fault {spec}: unknown option {opt:?}; expected scope=NAME, path=/PREFIX or first=N")),
                }
            }
            let (name, arg) = match head.split_once(':') {
                Some((n, a)) => (n, Some(a)),
                None => (head, None),
            };
            let fraction = |a: Option<&str>| -> Result<f64, String> {
                match a {
                    None => Ok(1.0),
                    Some(a) => match a.parse::<f64>() {
                        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
                        _ => Err(format!("--fault {spec}: fraction must be between 0 and 1")),
                    },
                }
            };
            let (kind, fraction) = match name {
                "alter-output" => {
                    f.alter_output = true;
                    continue;
                }
                "drop-connection" => (Kind::Drop, fraction(arg)?),
                "delay-ms" => (
                    Kind::Delay(
                        arg.and_then(|a| a.parse().ok())
                            .ok_or_else(|| format!("--fault {spec}: expected delay-ms:N"))?,
                    ),
                    1.0,
                ),
                "status-429" | "status-500" | "status-503" => (
                    Kind::Status(name[7..].parse().unwrap_or(500)),
                    fraction(arg)?,
                ),
                _ => return Err(format!("unknown --fault {spec:?}; expected one of: {HELP}")),
            };
            f.rules.push(Rule {
                kind,
                fraction,
                scope,
                path,
                first,
                counts: Mutex::new(HashMap::new()),
            });
        }
        Ok(f)
    }

    /// Rolls every rule that matches `target` (the request target as sent).
    pub fn decide(&self, target: &str) -> Decision {
        let seg = scope_segment(target);
        let mut d = Decision::default();
        for rule in &self.rules {
            if let Some(scope) = &rule.scope {
                let hit = seg.is_some_and(|s| {
                    s == scope
                        || s.strip_prefix(scope.as_str())
                            .is_some_and(|r| r.starts_with('-'))
                });
                if !hit {
                    continue;
                }
            }
            if let Some(p) = &rule.path {
                let routed = strip_scope(target);
                if !routed.as_deref().unwrap_or(target).starts_with(p.as_str()) {
                    continue;
                }
            }
            if let Some(n) = rule.first {
                let mut counts = rule.counts.lock().unwrap_or_else(|e| e.into_inner());
                let c = counts.entry(seg.unwrap_or("").to_string()).or_insert(0);
                if *c >= n {
                    continue;
                }
                *c += 1;
            }
            match rule.kind {
                Kind::Delay(ms) => d.delay_ms += ms,
                Kind::Drop => {
                    if !d.drop && fastrand::f64() < rule.fraction {
                        d.drop = true
                    }
                }
                Kind::Status(s) => {
                    if d.status.is_none() && rule.fraction > 0.0 && fastrand::f64() < rule.fraction
                    {
                        d.status = Some(s)
                    }
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Faults {
        Faults::parse(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn scopes_and_first_n() {
        let f = parse(&[
            "status-503,scope=flaky,first=2",
            "drop-connection,scope=gone",
        ]);
        assert_eq!(f.decide("/health").status, None);
        assert_eq!(f.decide("/~flaky-a/health").status, Some(503));
        assert_eq!(f.decide("/~flaky-a/health").status, Some(503));
        assert_eq!(
            f.decide("/~flaky-a/health").status,
            None,
            "only the first 2"
        );
        assert_eq!(
            f.decide("/~flaky-b/x").status,
            Some(503),
            "a fresh count per segment"
        );
        assert_eq!(
            f.decide("/~flakyx/x").status,
            None,
            "scope is a whole name or name-…"
        );
        assert!(f.decide("/~gone/submit").drop);
        assert!(!f.decide("/~flaky/submit").drop);
        assert_eq!(
            strip_scope("/~gone-1/status/abc?x").as_deref(),
            Some("/status/abc?x")
        );
        assert_eq!(strip_scope("/~gone").as_deref(), Some("/"));
        assert_eq!(strip_scope("/status"), None);
        assert!(Faults::parse(&["status-503,bogus=1".into()]).is_err());
        let p = parse(&["drop-connection,scope=nostream,path=/stream/"]);
        assert!(p.decide("/~nostream-1/stream/abc").drop);
        assert!(!p.decide("/~nostream-1/health").drop);
        let g = parse(&["delay-ms:5", "status-429:1"]);
        assert_eq!(
            g.decide("/x"),
            Decision {
                delay_ms: 5,
                drop: false,
                status: Some(429)
            }
        );
    }
}
