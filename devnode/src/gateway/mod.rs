//! `sandrun-devnode gateway`: a trustless IPFS gateway that proxies an upstream one (Kubo's) and
//! can misbehave on purpose (`faults`), so that clients' verified retrieval can be tested
//! against every way a gateway can lie or fail. `car` takes CAR answers apart for the faults.

pub mod car;
mod faults;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use crate::http;

/// The gateway's HTTP handler, or why the options are wrong.
pub fn start(
    upstream: &str,
    faults: &[String],
    timeout: Duration,
) -> Result<http::Handler, String> {
    let faults = faults
        .iter()
        .map(|f| faults::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let g = proxy::Gateway::new(upstream, faults, timeout)?;
    Ok(proxy::handler(Arc::new(g)))
}
