//! Safe unpacking of uploaded tar.gz archives into a job folder, and packing a job folder.
//!
//! Never writes outside the job folder: entries with absolute paths or `..` are refused, nothing
//! is written through a symbolic link, symbolic links must point inside the folder, hard links are
//! copied from a file already unpacked inside the folder, devices and FIFOs are skipped.

use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// A lexically normalised relative path, or None when it is absolute or climbs out.
pub fn safe_rel(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// True when no existing ancestor of `rel` (inside `root`) is a symbolic link or a non-directory.
fn parents_are_plain_dirs(root: &Path, rel: &Path) -> bool {
    let mut cur = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => return false,
            _ => {}
        }
    }
    true
}

/// Creates the parent folders of `rel` inside `root` (refusing symlinked parents).
pub fn prepare_parent(root: &Path, rel: &Path) -> io::Result<()> {
    if !parents_are_plain_dirs(root, rel) {
        return Err(io::Error::other(format!(
            "{} goes through a link or a file",
            rel.display()
        )));
    }
    if let Some(parent) = rel.parent() {
        if !parent.as_os_str().is_empty() {
            fs::create_dir_all(root.join(parent))?;
        }
    }
    // A symlink could only appear between the check and here if the archive itself made it, and
    // entries are processed one at a time, so check once more after creating.
    if !parents_are_plain_dirs(root, rel) {
        return Err(io::Error::other(format!(
            "{} goes through a link",
            rel.display()
        )));
    }
    Ok(())
}

/// Writes one file at a safe relative path (replacing a previous regular file, never following
/// a link at the final component).
pub fn write_file(root: &Path, rel: &Path, data: &mut dyn Read, limit: u64) -> io::Result<u64> {
    prepare_parent(root, rel)?;
    let dest = root.join(rel);
    if let Ok(m) = fs::symlink_metadata(&dest) {
        if m.is_dir() {
            return Err(io::Error::other(format!("{} is a folder", rel.display())));
        }
        fs::remove_file(&dest)?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&dest)?;
    let n = io::copy(&mut data.take(limit + 1), &mut f)?;
    if n > limit {
        return Err(io::Error::other("archive expands beyond the size limit"));
    }
    Ok(n)
}

pub struct Unpacked {
    pub files: usize,
    /// Entries refused (path, reason); compat mode ignores them, default mode reports the first.
    pub refused: Vec<(String, String)>,
}

/// Unpacks a gzip'd tar into `root`. `limit` caps the total bytes written.
pub fn unpack_tar_gz(bytes: &[u8], root: &Path, limit: u64) -> Result<Unpacked, String> {
    let gz = flate2::read::GzDecoder::new(bytes);
    let mut ar = tar::Archive::new(gz);
    let mut written = 0u64;
    let mut res = Unpacked {
        files: 0,
        refused: vec![],
    };
    let entries = ar
        .entries()
        .map_err(|e| format!("not a tar.gz archive: {e}"))?;
    for (count, entry) in entries.enumerate() {
        if count > 100_000 {
            return Err("archive has too many entries".into());
        }
        let mut entry = entry.map_err(|e| format!("corrupt archive: {e}"))?;
        let raw_path = entry.path_bytes().to_vec();
        let shown = String::from_utf8_lossy(&raw_path).to_string();
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(&raw_path));
        let Some(rel) = safe_rel(&path) else {
            if !(shown == "." || shown == "./") {
                res.refused
                    .push((shown, "absolute path or '..' leaves the job folder".into()));
            }
            continue;
        };
        let kind = entry.header().entry_type();
        let result: Result<(), String> = if kind.is_dir() {
            prepare_parent(root, &rel.join("x"))
                .and_then(|_| fs::create_dir_all(root.join(&rel)))
                .map_err(|e| e.to_string())
        } else if kind.is_file()
            || kind == tar::EntryType::Continuous
            || kind == tar::EntryType::GNUSparse
        {
            match write_file(root, &rel, &mut entry, limit.saturating_sub(written)) {
                Ok(n) => {
                    written += n;
                    res.files += 1;
                    Ok(())
                }
                Err(e) if e.to_string().contains("size limit") => return Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        } else if kind.is_symlink() {
            match entry.link_name_bytes() {
                Some(target) => {
                    let target = PathBuf::from(std::ffi::OsStr::from_bytes(&target));
                    let joined = rel.parent().unwrap_or(Path::new("")).join(&target);
                    if target.is_absolute() || safe_rel(&joined).is_none() {
                        Err(format!(
                            "link to {} leaves the job folder",
                            target.display()
                        ))
                    } else {
                        prepare_parent(root, &rel)
                            .and_then(|_| {
                                let dest = root.join(&rel);
                                let _ = fs::remove_file(&dest);
                                std::os::unix::fs::symlink(&target, dest)
                            })
                            .map_err(|e| e.to_string())
                    }
                }
                None => Err("link without a target".into()),
            }
        } else if kind.is_hard_link() {
            match entry.link_name_bytes() {
                Some(target) => {
                    let target = PathBuf::from(std::ffi::OsStr::from_bytes(&target));
                    match safe_rel(&target) {
                        Some(t) if parents_are_plain_dirs(root, &t) => {
                            let src = root.join(&t);
                            match fs::symlink_metadata(&src) {
                                Ok(m) if m.is_file() => fs::File::open(&src)
                                    .and_then(|mut f| {
                                        write_file(
                                            root,
                                            &rel,
                                            &mut f,
                                            limit.saturating_sub(written),
                                        )
                                    })
                                    .map(|n| {
                                        written += n;
                                        res.files += 1;
                                    })
                                    .map_err(|e| e.to_string()),
                                _ => Err(format!(
                                    "hard link to {} which is not a file of the archive",
                                    t.display()
                                )),
                            }
                        }
                        _ => Err(format!(
                            "hard link to {} leaves the job folder",
                            target.display()
                        )),
                    }
                }
                None => Err("link without a target".into()),
            }
        } else {
            // devices, FIFOs, pax/GNU metadata entries handled by the tar crate: skip quietly
            Ok(())
        };
        if let Err(e) = result {
            res.refused.push((shown, e));
        }
    }
    Ok(res)
}

/// The whole folder as a tar.gz (links stored as links, never followed).
pub fn pack_dir(root: &Path) -> io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    b.follow_symlinks(false);
    b.append_dir_all(".", root)?;
    b.into_inner()?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths() {
        assert_eq!(safe_rel(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(safe_rel(Path::new("../a")), None);
        assert_eq!(safe_rel(Path::new("/etc/passwd")), None);
        assert_eq!(safe_rel(Path::new("a/../../b")), None);
    }
}
