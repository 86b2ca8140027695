//! The consensus decision, pure: what each worker returned and what was checked of it, grouped by
//! what the worker signed about the job's outcome (job hash, exit code, output hashes — not CPU
//! or memory, which differ between honest runs); accepted when k verified results agree.

use super::quorum::Quorum;
use sandrun_protocol::map::SortedMap;

/// What one worker returned, and what the SDK checked of it.
#[derive(Debug, Clone, Default, sandrun_derive::ToJs)]
pub struct WorkerEvidence {
    /// The worker's public key (base64) as it signed; its endpoint for an anonymous worker.
    pub worker_id: String,
    pub endpoint: String,
    /// The job's id on that worker.
    pub job_id: String,
    pub status: Option<String>,
    pub exit_code: Option<f64>,
    pub job_hash: Option<String>,
    /// sha256 of `jobHash|exitCode|path:sha256|…` (what the grouping compares).
    pub result_hash: Option<String>,
    /// Output path → sha256, as signed.
    pub outputs: SortedMap<String>,
    /// The worker's Ed25519 signature (base64), the evidence.
    pub signature: Option<String>,
    /// The exact message the signature verified against.
    pub signed_message: Option<String>,
    /// The signature verified and the job hash is the one computed before submission.
    pub verified: bool,
    /// Why this result was not counted (failed verification, no answer, …).
    pub problems: Vec<String>,
}

/// `result.consensus` and `ConsensusError.report`.
#[derive(Debug, Clone, Default, sandrun_derive::ToJs)]
pub struct ConsensusReport {
    pub reached: bool,
    pub k: u32,
    pub n: u32,
    /// Worker ids whose verified results agree (the winning group).
    pub agreeing: Vec<String>,
    /// Every other worker: a different result, an invalid signature, or no result.
    pub dissenting: Vec<String>,
    /// The winning group's result hash (`null` when no k agreed).
    pub result_hash: Option<String>,
    pub job_hash: Option<String>,
    pub exit_code: Option<f64>,
    /// The agreed outputs: path → sha256. Downloads are checked against these.
    pub outputs: SortedMap<String>,
    /// One entry per worker, with its signature.
    pub evidence: Vec<WorkerEvidence>,
}

/// The text the grouping compares: what the signature covers about the outcome, without CPU and
/// memory.
pub fn result_key(job_hash: &str, exit_code: i64, outputs: &SortedMap<String>) -> String {
    let mut s = format!("{job_hash}|{exit_code}|");
    for (path, sha) in outputs {
        s.push_str(path);
        s.push(':');
        s.push_str(sha);
        s.push('|');
    }
    s
}

/// Groups verified results and decides. Unverified results never count.
pub fn decide(q: Quorum, evidence: Vec<WorkerEvidence>) -> ConsensusReport {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        if let (true, Some(h)) = (e.verified, &e.result_hash) {
            match groups.iter_mut().find(|(k, _)| k == h) {
                Some((_, members)) => members.push(i),
                None => groups.push((h.clone(), vec![i])),
            }
        }
    }
    let best = groups.iter().max_by_key(|(_, m)| m.len());
    let winner = best.filter(|(_, m)| m.len() as u32 >= q.k);
    let win: &[usize] = winner.map(|(_, m)| m.as_slice()).unwrap_or(&[]);
    let first = win.first().and_then(|&i| evidence.get(i));
    ConsensusReport {
        reached: winner.is_some(),
        k: q.k,
        n: q.n,
        agreeing: win
            .iter()
            .filter_map(|&i| evidence.get(i))
            .map(|e| e.worker_id.clone())
            .collect(),
        dissenting: evidence
            .iter()
            .enumerate()
            .filter(|(i, _)| !win.contains(i))
            .map(|(_, e)| e.worker_id.clone())
            .collect(),
        result_hash: winner.map(|(h, _)| h.clone()),
        job_hash: first.and_then(|e| e.job_hash.clone()),
        exit_code: first.and_then(|e| e.exit_code),
        outputs: first.map(|e| e.outputs.clone()).unwrap_or_default(),
        evidence,
    }
}

/// The most verified results that agree (for the error message when no k did).
pub fn agreeing_max(r: &ConsensusReport) -> usize {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for e in r.evidence.iter().filter(|e| e.verified) {
        if let Some(h) = &e.result_hash {
            match counts.iter_mut().find(|(k, _)| *k == h) {
                Some((_, c)) => *c += 1,
                None => counts.push((h, 1)),
            }
        }
    }
    counts.iter().map(|(_, c)| *c).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, hash: &str, verified: bool) -> WorkerEvidence {
        WorkerEvidence {
            worker_id: id.into(),
            result_hash: Some(hash.into()),
            verified,
            ..Default::default()
        }
    }

    #[test]
    fn two_of_three_names_the_dissenter() {
        let r = decide(
            Quorum { k: 2, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("bad", "h2", true),
                ev("c", "h1", true),
            ],
        );
        assert!(r.reached);
        assert_eq!(r.agreeing, ["a", "c"]);
        assert_eq!(r.dissenting, ["bad"]);
        assert_eq!(r.result_hash.as_deref(), Some("h1"));
    }

    #[test]
    fn unverified_results_do_not_count() {
        let r = decide(
            Quorum { k: 2, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("forged", "h1", false),
                ev("c", "h2", true),
            ],
        );
        assert!(!r.reached);
        assert!(r.agreeing.is_empty());
        assert_eq!(r.dissenting, ["a", "forged", "c"]);
        let all = decide(
            Quorum { k: 3, n: 3 },
            vec![
                ev("a", "h1", true),
                ev("b", "h1", true),
                ev("c", "h2", true),
            ],
        );
        assert!(!all.reached);
    }

    #[test]
    fn key_covers_outcome_not_resources() {
        let mut outs = SortedMap::new();
        outs.insert("out/b".to_string(), "22".to_string());
        outs.insert("out/a".to_string(), "11".to_string());
        assert_eq!(result_key("jh", 0, &outs), "jh|0|out/a:11|out/b:22|");
    }
}
