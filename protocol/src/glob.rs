//! The worker's `outputs` patterns: `*` everything; no `*` an exact path; `*.ext` a suffix;
//! `prefix*` a prefix (nested paths included); `a*b` a prefix and a suffix. Paths are relative,
//! `/`-separated.

pub fn matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((prefix, suffix)) => {
            path.len() >= prefix.len() + suffix.len()
                && path.starts_with(prefix)
                && path.ends_with(suffix)
        }
    }
}

/// True when any of `patterns` matches `path`; no patterns means every file is an output.
pub fn any_matches(patterns: &[String], path: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| matches(p, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_kinds() {
        assert!(matches("*", "a/b.txt"));
        assert!(matches("out/result.txt", "out/result.txt"));
        assert!(!matches("out/result.txt", "out/result.txt2"));
        assert!(matches("*.png", "out/plot.png"));
        assert!(!matches("*.png", "out/plot.jpg"));
        assert!(matches("out/*", "out/deep/x.bin"));
        assert!(!matches("out/*", "data.json"));
        assert!(matches("out*.txt", "out/result.txt"));
        assert!(!matches("ab*ba", "aba"));
        assert!(any_matches(&[], "x"));
        assert!(!any_matches(&["y".into()], "x"));
    }
}
