//! Small helpers: time formatting, random ids, file kinds and MIME types.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC (the broker's timestamp format).
pub fn utc_string(secs: u64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp(secs as i64)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

/// Milliseconds since the epoch.
pub fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// RFC 3339 in UTC with milliseconds, `2026-12-01T03:35:13.428Z` (JavaScript's `toISOString`).
pub fn rfc3339_ms(ms: i64) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_default()
}

/// An RFC 3339 timestamp (any offset, optional fraction) as milliseconds since the epoch.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// `n` random lowercase hex digits (request and job ids).
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n.div_ceil(2)];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    } else {
        b.iter_mut().for_each(|x| *x = fastrand::u8(..));
    }
    let mut s = sandrun_protocol::hash::hex(&b);
    s.truncate(n);
    s
}

fn ext(name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((_, e)) => e.to_ascii_lowercase(),
        None => String::new(),
    }
}

/// The `type` the worker gives an output file.
pub fn file_kind(name: &str) -> &'static str {
    match ext(name).as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "bmp" | "svg" | "webp" | "tif" | "tiff" | "ico" => "image",
        "txt" | "log" | "md" | "rst" | "py" | "js" | "sh" | "html" | "htm" | "css" | "c" | "h"
        | "cpp" | "rs" => "text",
        "json" | "csv" | "tsv" | "xml" | "yaml" | "yml" | "parquet" | "npy" | "npz" | "h5"
        | "hdf5" | "pkl" | "pickle" | "feather" | "arrow" | "sqlite" | "db" => "data",
        "zip" | "gz" | "tgz" | "tar" | "bz2" | "xz" => "archive",
        "pdf" => "document",
        _ => "file",
    }
}

pub fn mime(name: &str) -> &'static str {
    match ext(name).as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "txt" | "log" | "md" | "rst" | "py" | "sh" | "c" | "h" | "cpp" | "rs" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/x-yaml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        _ => "application/octet-stream",
    }
}

/// `46.0 B`, `1.5 KB`, … as the worker prints sizes.
pub fn size_formatted(size: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = size as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc() {
        assert_eq!(utc_string(0), "1970-01-01 00:00:00");
        assert_eq!(utc_string(1_795_799_313), "2026-11-27 17:08:33");
        assert_eq!(utc_string(951_825_600), "2000-02-29 12:00:00");
        assert_eq!(rfc3339_ms(1_795_799_313_428), "2026-11-27T17:08:33.428Z");
        assert_eq!(
            parse_rfc3339_ms("2026-11-27T17:08:33.428Z"),
            Some(1_795_799_313_428)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-27T19:08:33+02:00"),
            Some(1_795_799_313_000)
        );
        assert_eq!(parse_rfc3339_ms("2026-11-27 17:08:33"), None);
        assert_eq!(random_hex(16).len(), 16);
    }

    #[test]
    fn kinds_match_fixture() {
        assert_eq!(
            (file_kind("data.json"), mime("data.json")),
            ("data", "application/json")
        );
        assert_eq!(
            (file_kind("out/result.txt"), mime("out/result.txt")),
            ("text", "text/plain")
        );
        assert_eq!(
            (file_kind("out/plot.png"), mime("out/plot.png")),
            ("image", "image/png")
        );
        assert_eq!(size_formatted(46), "46.0 B");
        assert_eq!(size_formatted(1536), "1.5 KB");
    }
}
