//! Job ids: the worker's `job_<unixsecs>_<n>`, the pool's `pool-<16 hex>`, the broker's hex. A
//! client puts an id into a URL path, so anything outside this alphabet is refused before sending.

/// True for a non-empty id of ASCII letters, digits, `_`, `.` and `-` (`[A-Za-z0-9_.-]+`).
pub fn is_job_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::is_job_id;

    #[test]
    fn the_ids_servers_hand_out() {
        for ok in [
            "job_1795799313_1",
            "pool-0123456789abcdef",
            "a1b2",
            "x.y-z_1",
        ] {
            assert!(is_job_id(ok), "{ok}");
        }
        for bad in ["", "a/b", "a b", "job?x", "%2e", "é", "a\n"] {
            assert!(!is_job_id(bad), "{bad:?}");
        }
    }
}
