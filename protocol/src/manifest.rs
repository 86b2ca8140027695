//! The job manifest the worker reads, and the rules that keep it readable.
//!
//! The real worker finds fields by substring search instead of parsing JSON: escapes are not
//! decoded, an escaped quote cuts a string short and non-string array items are dropped. So every
//! string the SDK sends must be printable ASCII without `"` or `\`, numbers go as strings, and
//! then plain JSON text (no escapes needed) reads the same to a parser and to the substring reader.

use std::fmt;

/// The interpreter a worker uses when the manifest names none.
pub const DEFAULT_INTERPRETER: &str = "python3";

/// A runtime the worker knows by name: the interpreter, other names for it, the entrypoint
/// extensions that imply it and the file it runs when no entrypoint is named.
pub struct Runtime {
    pub interpreter: &'static str,
    pub aliases: &'static [&'static str],
    pub extensions: &'static [&'static str],
    pub default_file: &'static str,
}

/// The one table of the worker's defaults; everything below is read from it.
pub const RUNTIMES: [Runtime; 3] = [
    Runtime {
        interpreter: DEFAULT_INTERPRETER,
        aliases: &[],
        extensions: &[".py"],
        default_file: "main.py",
    },
    Runtime {
        interpreter: "node",
        aliases: &["nodejs"],
        extensions: &[".js", ".mjs"],
        default_file: "index.js",
    },
    Runtime {
        interpreter: "bash",
        aliases: &["sh"],
        extensions: &[".sh"],
        default_file: "run.sh",
    },
];

/// The files the worker runs when no entrypoint is named (after `job.json`), in the order it
/// looks for them; each implies its interpreter ([`implied_interpreter`]).
pub const DEFAULT_ENTRYPOINTS: [&str; 3] = [
    RUNTIMES[0].default_file,
    RUNTIMES[1].default_file,
    RUNTIMES[2].default_file,
];

/// The interpreter an entrypoint's extension implies (`.py` python3, `.js`/`.mjs` node, `.sh`
/// bash), if any.
pub fn implied_interpreter(entrypoint: &str) -> Option<&'static str> {
    RUNTIMES
        .iter()
        .find(|r| r.extensions.iter().any(|e| entrypoint.ends_with(e)))
        .map(|r| r.interpreter)
}

/// The file name code for `interpreter` is stored under when it has none (`index.js` for node,
/// `run.sh` for bash, else `main.py`).
pub fn default_entrypoint(interpreter: &str) -> &'static str {
    RUNTIMES
        .iter()
        .find(|r| r.interpreter == interpreter || r.aliases.contains(&interpreter))
        .unwrap_or(&RUNTIMES[0])
        .default_file
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub entrypoint: String,
    pub interpreter: Option<String>,
    pub environment: Option<String>,
    pub args: Vec<String>,
    pub outputs: Vec<String>,
}

/// What is wrong with a value, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// e.g. `args[2]`, `entrypoint`, `files["a b.py"]`
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// A string the worker's manifest reader keeps intact: printable ASCII, no `"` or `\`.
pub fn check_text(field: &str, value: &str) -> Result<(), FieldError> {
    let bad = |problem: String| {
        Err(FieldError {
            field: field.to_string(),
            problem,
        })
    };
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '\\' => {
                return bad(format!(
                    "contains '{c}' at position {i}; the Sandrun worker reads the manifest without \
                     decoding escapes, so quotes and backslashes cannot be sent"
                ))
            }
            ' '..='~' => {}
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                return bad(format!(
                    "contains control character U+{:04X} at position {i}",
                    c as u32
                ))
            }
            // Named by code point: `{c:?}` would pull the core's Unicode printability tables into
            // the SDK's wasm (about 1 KB of its gzip'd size) for this one message.
            c => {
                return bad(format!(
                "contains non-ASCII character U+{:04X} at position {i}; the Sandrun worker only \
                     reads ASCII manifest values",
                c as u32
            ))
            }
        }
    }
    Ok(())
}

/// A relative file path inside the job folder: non-empty `/`-separated segments, none empty,
/// `.` or `..`, no leading `/`, and the manifest text rules (the path may appear in `outputs`).
pub fn check_path(field: &str, path: &str) -> Result<(), FieldError> {
    check_text(field, path)?;
    let bad = |problem: &str| {
        Err(FieldError {
            field: field.to_string(),
            problem: problem.to_string(),
        })
    };
    if path.is_empty() {
        return bad("is empty");
    }
    if path.starts_with('/') {
        return bad("must be relative to the job folder (it starts with '/')");
    }
    if path
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("must not contain empty, '.' or '..' segments");
    }
    if path.len() > 255 {
        return bad("is longer than 255 characters");
    }
    Ok(())
}

/// An item of an array (`args`, `outputs`): text as `check_text`, and no `]`: the worker's
/// substring reader takes an array to its first `]`, so `x[0]` would arrive as `x[0` and the
/// rest of the array would be lost (the dev node's `--compat` reader does the same).
fn check_item(field: &str, value: &str) -> Result<(), FieldError> {
    check_text(field, value)?;
    match value.find(']') {
        Some(i) => Err(FieldError {
            field: field.to_string(),
            problem: format!(
                "contains ']' at position {i}; the Sandrun worker reads each array of the manifest \
                 only up to its first ']'"
            ),
        }),
        None => Ok(()),
    }
}

impl Manifest {
    /// Checks every field against the reader's rules (the entrypoint's presence in the upload is
    /// the packager's business: it knows the files).
    pub fn validate(&self) -> Result<(), FieldError> {
        check_path("entrypoint", &self.entrypoint)?;
        if let Some(i) = &self.interpreter {
            check_name("interpreter", i)?;
        }
        if let Some(e) = &self.environment {
            check_name("environment", e)?;
        }
        for (i, a) in self.args.iter().enumerate() {
            check_item(&format!("args[{i}]"), a)?;
        }
        for (i, o) in self.outputs.iter().enumerate() {
            let field = format!("outputs[{i}]");
            check_item(&field, o)?;
            if o.is_empty() {
                return Err(FieldError {
                    field,
                    problem: "is empty".into(),
                });
            }
            if o.matches('*').count() > 1 {
                return Err(FieldError {
                    field,
                    problem: "has more than one '*'; the worker supports '*', 'prefix*', '*suffix' and 'prefix*suffix'".into(),
                });
            }
        }
        Ok(())
    }

    /// The interpreter and environment as the worker will read them (defaults applied).
    pub fn effective_interpreter(&self) -> &str {
        self.interpreter.as_deref().unwrap_or(DEFAULT_INTERPRETER)
    }

    pub fn effective_environment(&self) -> &str {
        self.environment.as_deref().unwrap_or("")
    }

    /// JSON text of a validated manifest. Values are printed raw: validation guarantees none
    /// needs escaping, which is what keeps the worker's substring reader correct.
    pub fn to_json(&self) -> String {
        // Written out, not `join`ed: the SDK's wasm then carries one `join` (over `&str`) only.
        let mut out = format!("{{\"entrypoint\":\"{}\"", self.entrypoint);
        for (name, v) in [
            ("interpreter", &self.interpreter),
            ("environment", &self.environment),
        ] {
            if let Some(v) = v {
                out.push_str(&format!(",\"{name}\":\"{v}\""));
            }
        }
        for (name, items) in [("args", &self.args), ("outputs", &self.outputs)] {
            for (i, v) in items.iter().enumerate() {
                let open = if i == 0 {
                    format!(",\"{name}\":[")
                } else {
                    ",".into()
                };
                out.push_str(&format!("{open}\"{v}\""));
            }
            if !items.is_empty() {
                out.push(']');
            }
        }
        out.push('}');
        out
    }
}

/// An interpreter or environment name: a non-empty word of letters, digits, `.`, `_`, `-`, `+`, `/`.
fn check_name(field: &str, v: &str) -> Result<(), FieldError> {
    check_text(field, v)?;
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/'))
    {
        return Err(FieldError {
            field: field.to_string(),
            problem: format!(
                "\"{v}\" is not a valid name (letters, digits, '.', '_', '-', '+', '/')"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Manifest {
        Manifest {
            entrypoint: "main.py".into(),
            args: vec!["--n".into(), "3".into()],
            outputs: vec!["out/*".into()],
            ..Default::default()
        }
    }

    #[test]
    fn valid_manifest_is_plain_json() {
        let man = m();
        man.validate().unwrap();
        let json = man.to_json();
        assert_eq!(
            json,
            r#"{"entrypoint":"main.py","args":["--n","3"],"outputs":["out/*"]}"#
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["args"][1], "3");
        assert_eq!(man.effective_interpreter(), "python3");
    }

    #[test]
    fn defaults_table_is_consistent() {
        assert_eq!(DEFAULT_ENTRYPOINTS, ["main.py", "index.js", "run.sh"]);
        for file in DEFAULT_ENTRYPOINTS {
            assert_eq!(default_entrypoint(implied_interpreter(file).unwrap()), file);
        }
        assert_eq!(implied_interpreter("app/x.mjs"), Some("node"));
        assert_eq!(implied_interpreter("README"), None);
        assert_eq!(
            (default_entrypoint("nodejs"), default_entrypoint("sh")),
            ("index.js", "run.sh")
        );
        assert_eq!(default_entrypoint("ruby"), "main.py");
    }

    #[test]
    fn refuses_what_the_worker_would_misread() {
        for (arg, needle) in [
            ("a\"b", "'\"'"),
            ("a\\b", "'\\'"),
            ("tab\t", "U+0009"),
            ("é", "non-ASCII character U+00E9"),
            ("x[0]", "first ']'"),
        ] {
            let mut man = m();
            man.args.push(arg.into());
            let e = man.validate().unwrap_err();
            assert_eq!(e.field, "args[2]");
            assert!(e.problem.contains(needle), "{e}");
        }
        for bad in ["", "/abs.py", "../up.py", "a//b.py", "./a.py"] {
            assert!(check_path("entrypoint", bad).is_err(), "{bad}");
        }
        assert!(check_path("entrypoint", "pkg/mod.py").is_ok());
        let mut man = m();
        man.interpreter = Some("python3 -c".into());
        assert_eq!(man.validate().unwrap_err().field, "interpreter");
        let mut man = m();
        man.outputs = vec!["a*b*c".into()];
        assert_eq!(man.validate().unwrap_err().field, "outputs[0]");
    }
}
