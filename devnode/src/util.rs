//! Small helpers: time formatting, file kinds and MIME types.

use std::time::{SystemTime, UNIX_EPOCH};

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
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
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
