//! `GET /pins` filters, read from the query string as the spec defines them: `cid` (up to 10,
//! comma-separated), `name` with `match` (exact, iexact, partial, ipartial), `status`
//! (comma-separated; none given: `pinned` only), `before` / `after` (RFC 3339), `limit` (1 to
//! 1000, default 10) and `meta` (a JSON object every pin's `meta` must contain).

use std::collections::BTreeMap;

use super::store::{PinRecord, PinState};
use crate::http::percent_decode;
use crate::util::parse_rfc3339_ms;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Match {
    Exact,
    IExact,
    Partial,
    IPartial,
}

#[derive(Debug, PartialEq)]
pub struct Filter {
    pub cids: Option<Vec<String>>,
    pub name: Option<String>,
    pub how: Match,
    pub states: Vec<PinState>,
    pub before: Option<i64>,
    pub after: Option<i64>,
    pub limit: usize,
    pub meta: Option<BTreeMap<String, String>>,
}

/// The query string's `key=value` pairs, decoded as a form (`+` is a space).
fn pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_decode(&s.replace('+', " ")).ok_or_else(|| {
                    format!("query parameter {k:?} is not valid percent-encoded UTF-8")
                })
            };
            Ok((dec(k)?, dec(v)?))
        })
        .collect()
}

/// Comma-separated values; a parameter given twice adds to the list.
fn list(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn parse(query: &str) -> Result<Filter, String> {
    let pairs = pairs(query)?;
    let all = |key: &str| -> Vec<&str> {
        pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let one = |key: &str| all(key).last().map(|s| s.to_string());
    let time = |key: &str| -> Result<Option<i64>, String> {
        one(key)
            .map(|v| {
                parse_rfc3339_ms(&v).ok_or(format!("{key}: {v:?} is not an RFC 3339 timestamp"))
            })
            .transpose()
    };
    let cids = match list(&all("cid")) {
        c if c.is_empty() => None,
        c if c.len() > 10 => return Err(format!("cid: at most 10 CIDs, got {}", c.len())),
        c => Some(c),
    };
    let name = one("name");
    if name.as_ref().is_some_and(|n| n.chars().count() > 255) {
        return Err("name: longer than 255 characters".into());
    }
    let how = match one("match").as_deref() {
        None | Some("exact") => Match::Exact,
        Some("iexact") => Match::IExact,
        Some("partial") => Match::Partial,
        Some("ipartial") => Match::IPartial,
        Some(m) => {
            return Err(format!(
                "match: {m:?} is not exact, iexact, partial or ipartial"
            ))
        }
    };
    let states = list(&all("status"))
        .iter()
        .map(|s| {
            PinState::parse(s).ok_or(format!(
                "status: {s:?} is not queued, pinning, pinned or failed"
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let states = if states.is_empty() {
        vec![PinState::Pinned]
    } else {
        states
    };
    let limit = match one("limit") {
        None => 10,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(format!("limit: {l:?} is not a number from 1 to 1000")),
        },
    };
    let meta = one("meta")
        .map(|m| {
            serde_json::from_str::<BTreeMap<String, String>>(&m)
                .map_err(|e| format!("meta: not a JSON object of strings ({e})"))
        })
        .transpose()?;
    Ok(Filter {
        cids,
        name,
        how,
        states,
        before: time("before")?,
        after: time("after")?,
        limit,
        meta,
    })
}

impl Filter {
    pub fn matches(&self, r: &PinRecord) -> bool {
        let name_ok = match (&self.name, &r.pin.name) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(want), Some(have)) => match self.how {
                Match::Exact => have == want,
                Match::IExact => have.to_lowercase() == want.to_lowercase(),
                Match::Partial => have.contains(want.as_str()),
                Match::IPartial => have.to_lowercase().contains(&want.to_lowercase()),
            },
        };
        let meta_ok = self.meta.as_ref().is_none_or(|want| {
            let have = r.pin.meta.as_ref();
            want.iter()
                .all(|(k, v)| have.and_then(|m| m.get(k)) == Some(v))
        });
        name_ok
            && meta_ok
            && self.cids.as_ref().is_none_or(|c| c.contains(&r.pin.cid))
            && self.states.contains(&r.state)
            && self.before.is_none_or(|b| r.created < b)
            && self.after.is_none_or(|a| r.created > a)
    }
}
