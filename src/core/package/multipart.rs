//! `multipart/form-data` bodies written the way the real worker reads them: each part header is
//! exactly `Content-Disposition: form-data; name="…"` with `name=` before `filename=`.

pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

pub struct Multipart {
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Multipart {
    /// `seed` names the boundary (the job hash), so the same job gives the same bytes; a
    /// boundary that occurs inside a part gets a counter until it does not.
    pub fn new(seed: &str, parts: &[Part]) -> Multipart {
        let base = format!("sandrun-{}", seed.get(..32).unwrap_or(seed));
        let mut boundary = base.clone();
        let mut n = 0u32;
        while parts.iter().any(|p| contains(p.body, boundary.as_bytes())) {
            n += 1;
            boundary = format!("{base}-{n}");
        }
        let mut body = Vec::new();
        for p in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
            if let Some(f) = p.filename {
                disposition.push_str(&format!("; filename=\"{f}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(ct) = p.content_type {
                body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(p.body);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Multipart {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            body,
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_as_the_worker_reads_them() {
        let m = Multipart::new(
            "seed",
            &[
                Part {
                    name: "files",
                    filename: Some("job.tar.gz"),
                    content_type: Some("application/gzip"),
                    body: b"TAR",
                },
                Part {
                    name: "manifest",
                    filename: None,
                    content_type: None,
                    body: b"{}",
                },
            ],
        );
        let b = m
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8(m.body.clone()).unwrap();
        assert!(text.starts_with(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"job.tar.gz\"\r\n"
        )));
        assert!(text.contains("name=\"manifest\"\r\n\r\n{}\r\n"));
        assert!(text.ends_with(&format!("--{b}--\r\n")));
    }
}
