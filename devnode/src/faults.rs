//! Fault injection for the worker (`--fault`), to test how clients cope with misbehaving nodes.

#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Corrupt one output file (the first in path order) before hashing and signing, so the signed
    /// result differs from an honest worker's.
    pub alter_output: bool,
    /// Fraction of requests whose connection is dropped without an answer.
    pub drop_connection: f64,
    /// Delay before every answer.
    pub delay_ms: u64,
    /// (status, fraction) answered instead of the real response.
    pub status: Vec<(u16, f64)>,
}

pub const HELP: &str = "alter-output | drop-connection[:FRACTION] | delay-ms:N | status-429[:FRACTION] | status-500[:FRACTION] | status-503[:FRACTION]";

impl Faults {
    pub fn parse(specs: &[String]) -> Result<Faults, String> {
        let mut f = Faults::default();
        for spec in specs {
            let (name, arg) = match spec.split_once(':') {
                Some((n, a)) => (n, Some(a)),
                None => (spec.as_str(), None),
            };
            let fraction = |a: Option<&str>| -> Result<f64, String> {
                match a {
                    None => Ok(1.0),
                    Some(a) => match a.parse::<f64>() {
                        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
                        _ => Err(format!("--fault {spec}: fraction must be between 0 and 1")),
                    },
                }
            };
            match name {
                "alter-output" => f.alter_output = true,
                "drop-connection" => f.drop_connection = fraction(arg)?,
                "delay-ms" => {
                    f.delay_ms = arg
                        .and_then(|a| a.parse().ok())
                        .ok_or_else(|| format!("--fault {spec}: expected delay-ms:N"))?
                }
                "status-429" | "status-500" | "status-503" => {
                    let code: u16 = name[7..].parse().unwrap();
                    f.status.push((code, fraction(arg)?));
                }
                _ => return Err(format!("unknown --fault {spec:?}; expected one of: {HELP}")),
            }
        }
        Ok(f)
    }

    pub fn roll_drop(&self) -> bool {
        self.drop_connection > 0.0 && fastrand::f64() < self.drop_connection
    }

    pub fn roll_status(&self) -> Option<u16> {
        self.status
            .iter()
            .find(|(_, p)| *p > 0.0 && fastrand::f64() < *p)
            .map(|(c, _)| *c)
    }
}
