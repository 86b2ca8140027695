//! Reading the job manifest: the real worker's substring reader (compat) and a strict JSON reader
//! with explanations (default mode).

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub entrypoint: Option<String>,
    pub interpreter: Option<String>,
    pub environment: Option<String>,
    pub args: Vec<String>,
    pub outputs: Vec<String>,
    /// Default mode only (ignored by the real worker): wall-time seconds, memory MB, CPU seconds,
    /// extra environment variables. Capped by the node's own limits.
    pub timeout: Option<f64>,
    pub memory_mb: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub env: Vec<(String, String)>,
}

/// The quoted string that follows `"key"` and a colon, read without decoding escapes.
fn compat_string(text: &str, key: &str) -> Option<String> {
    let k = text.find(&format!("\"{key}\""))?;
    let colon = k + key.len() + 2 + text[k + key.len() + 2..].find(':')?;
    let open = colon + text[colon..].find('"')?;
    let close = open + 1 + text[open + 1..].find('"')?;
    Some(text[open + 1..close].to_string())
}

fn compat_array(text: &str, key: &str) -> Vec<String> {
    let Some(k) = text.find(&format!("\"{key}\"")) else {
        return vec![];
    };
    let after = k + key.len() + 2;
    let Some(open) = text[after..].find('[').map(|i| i + after) else {
        return vec![];
    };
    let Some(close) = text[open..].find(']').map(|i| i + open) else {
        return vec![];
    };
    let inner = &text[open + 1..close];
    let mut out = Vec::new();
    let mut rest = inner;
    while let Some(a) = rest.find('"') {
        let Some(b) = rest[a + 1..].find('"') else {
            break;
        };
        out.push(rest[a + 1..a + 1 + b].to_string());
        rest = &rest[a + 1 + b + 1..];
    }
    out
}

/// The real worker's reading: substring searches, escapes not decoded, non-strings dropped.
pub fn parse_compat(text: &str) -> Manifest {
    Manifest {
        entrypoint: compat_string(text, "entrypoint"),
        interpreter: compat_string(text, "interpreter"),
        environment: compat_string(text, "environment"),
        args: compat_array(text, "args"),
        outputs: compat_array(text, "outputs"),
        ..Default::default()
    }
}

fn valid_rel_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\0')
        && !p.contains('\\')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

pub fn valid_command_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
}

/// Strict JSON reading for the default mode; the error says what is wrong.
pub fn parse_strict(text: &str) -> Result<Manifest, String> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| format!("Invalid manifest: not valid JSON ({e})"))?;
    let Value::Object(o) = v else {
        return Err("Invalid manifest: must be a JSON object".into());
    };
    let mut m = Manifest::default();
    let string = |k: &str| -> Result<Option<String>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("Invalid manifest: '{k}' must be a string")),
        }
    };
    let list = |k: &str| -> Result<Vec<String>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(vec![]),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, it)| match it {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(format!("Invalid manifest: '{k}[{i}]' must be a string")),
                })
                .collect(),
            Some(_) => Err(format!(
                "Invalid manifest: '{k}' must be an array of strings"
            )),
        }
    };
    let number = |k: &str| -> Result<Option<f64>, String> {
        match o.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_f64().is_some_and(|x| x > 0.0) => Ok(n.as_f64()),
            Some(Value::String(s)) if s.parse::<f64>().is_ok_and(|x| x > 0.0) => Ok(s.parse().ok()),
            Some(_) => Err(format!("Invalid manifest: '{k}' must be a positive number")),
        }
    };
    m.entrypoint = string("entrypoint")?;
    if let Some(e) = &m.entrypoint {
        if !valid_rel_path(e) {
            return Err(format!(
                "Invalid manifest: 'entrypoint' {e:?} must be a relative path inside the job folder (no '..', no leading '/')"
            ));
        }
    }
    m.interpreter = string("interpreter")?;
    if let Some(i) = &m.interpreter {
        if !valid_command_name(i) {
            return Err(format!(
                "Invalid manifest: 'interpreter' {i:?} must be a bare command name such as python3, node or bash"
            ));
        }
    }
    m.environment = string("environment")?;
    if m.environment.as_ref().is_some_and(|e| e.len() > 128) {
        return Err("Invalid manifest: 'environment' is longer than 128 characters".into());
    }
    m.args = list("args")?;
    if m.args.iter().any(|a| a.contains('\0')) {
        return Err("Invalid manifest: 'args' must not contain NUL characters".into());
    }
    m.outputs = list("outputs")?;
    if let Some(i) = m.outputs.iter().position(|p| p.is_empty()) {
        return Err(format!("Invalid manifest: 'outputs[{i}]' is empty"));
    }
    m.timeout = number("timeout")?;
    m.memory_mb = number("memory_mb")?;
    m.cpu_seconds = number("cpu_seconds")?;
    match o.get("env") {
        None | Some(Value::Null) => {}
        Some(Value::Object(env)) => {
            for (k, v) in env {
                let ok_name = !k.is_empty()
                    && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !k.as_bytes()[0].is_ascii_digit();
                let Value::String(v) = v else {
                    return Err(format!("Invalid manifest: 'env.{k}' must be a string"));
                };
                if !ok_name || v.contains('\0') {
                    return Err(format!(
                        "Invalid manifest: 'env' entry {k:?} is not a valid variable"
                    ));
                }
                m.env.push((k.clone(), v.clone()));
            }
        }
        Some(_) => return Err("Invalid manifest: 'env' must be an object of strings".into()),
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_reader_quirks() {
        let m = parse_compat(
            r#"{"entrypoint": "main.py", "args": ["--n", 3, "a\"b", "c"], "outputs": ["out/*"]}"#,
        );
        assert_eq!(m.entrypoint.as_deref(), Some("main.py"));
        // 3 dropped; the escaped quote cuts "a\" short and shifts the rest.
        assert_eq!(
            m.args,
            vec!["--n".to_string(), "a\\".to_string(), ", ".to_string()]
        );
        assert_eq!(m.outputs, vec!["out/*".to_string()]);
        assert_eq!(m.interpreter, None);
    }

    #[test]
    fn strict_reader_explains() {
        assert!(parse_strict("nope").unwrap_err().contains("not valid JSON"));
        assert!(parse_strict(r#"{"args":[1]}"#)
            .unwrap_err()
            .contains("args[0]"));
        assert!(parse_strict(r#"{"entrypoint":"../x.py"}"#)
            .unwrap_err()
            .contains("relative path"));
        let m = parse_strict(r#"{"entrypoint":"a/b.py","args":["x\"y"],"timeout":5}"#).unwrap();
        assert_eq!(m.args, vec!["x\"y".to_string()]);
        assert_eq!(m.timeout, Some(5.0));
    }
}
