//! A directory to add: `{ 'a.txt': data, 'sub/b.bin': data, 'empty': null }` (paths relative,
//! `/`-separated; `null` is an empty directory), or in Node a folder's path. Every path is checked
//! before anything is read or sent.

use super::input::Input;
use crate::core::boundary::error::{Result, SdkError};
use crate::core::boundary::js::entries;
use crate::core::boundary::platform;
use sandrun_ipfs::{AddOptions, DirectoryBuilder};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TREE_TS: &'static str = r#"
/** A directory for `addDirectory()`: relative `/`-separated paths to their data; `null` is an empty directory. */
export type DirectoryTree = Record<string, IpfsData | null>;
"#;

pub struct Entry {
    pub path: String,
    /// `None`: an empty directory.
    pub content: Option<Input>,
}

/// Whether `v` is a `{ path: data }` tree: a plain object that is not an async iterable.
pub fn is_tree(v: &JsValue) -> bool {
    let iterable = js_sys::Reflect::has(v, &js_sys::Symbol::async_iterator()).unwrap_or(false);
    if !v.is_object() || iterable {
        return false;
    }
    let proto: JsValue = js_sys::Object::get_prototype_of(v).into();
    let plain: JsValue = js_sys::Object::get_prototype_of(&js_sys::Object::new().into()).into();
    proto.is_null() || proto == plain
}

/// The entries of `tree`, sorted by path.
pub async fn read(tree: &JsValue) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    if let Some(folder) = tree.as_string() {
        if !platform::has("readDirectory") {
            return Err(SdkError::field(
                "tree",
                "a folder path works in Node only; in browsers pass { path: data }",
            ));
        }
        for (path, bytes) in platform::read_directory(&folder).await? {
            let content = Input::from_js(&js_sys::Uint8Array::from(&bytes[..]).into(), "tree")?;
            out.push(Entry {
                path,
                content: Some(content),
            });
        }
    } else if tree.is_object() {
        for (path, data) in entries(tree) {
            let content = if data.is_null() {
                None
            } else {
                Some(Input::from_js(&data, &format!("tree[\"{path}\"]"))?)
            };
            out.push(Entry { path, content });
        }
    } else {
        return Err(SdkError::field(
            "tree",
            "must be { path: data } (or, in Node, a folder's path)",
        ));
    }
    if out.is_empty() {
        return Err(SdkError::field("tree", "has no entries"));
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    check_paths(&out)?;
    Ok(out)
}

/// Kubo's rules for paths, checked by building the directory with stand-in files: a path that is
/// empty, absolute, has `.`/`..`/empty segments, or runs through a file is refused here.
fn check_paths(entries: &[Entry]) -> Result<()> {
    let options = AddOptions::default();
    let stand_in = sandrun_ipfs::file_cid(b"", &options);
    let mut dir = DirectoryBuilder::new(&options);
    let mut problems = Vec::new();
    for e in entries {
        let checked = match e.content {
            Some(_) => dir.add_file(&e.path, &stand_in),
            None => dir.add_directory(&e.path),
        };
        if let Err(why) = checked {
            problems.push(crate::core::boundary::error::FieldProblem::new(
                format!("tree[\"{}\"]", e.path),
                why.to_string(),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SdkError::validation(problems))
    }
}
