//! sandrun-devnode: a Sandrun-compatible development node (worker, trusted-pool coordinator,
//! broker), an IPFS pinning service on a local Kubo and a hostile IPFS gateway, for the SDK's
//! tests and demos.

mod archive;
mod broker;
mod cli;
mod faults;
mod gateway;
mod http;
mod json;
mod manifest;
mod multipart;
mod pinning;
mod pool;
#[cfg(test)]
mod property_tests;
mod sandbox;
mod sqlite;
mod util;
mod worker;
mod ws;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use cli::{BrokerOpts, Cli, Cmd, WorkerOpts};
use sandrun_protocol::signing::WorkerKey;
use tokio::net::TcpListener;
use tokio::sync::watch;

fn fail(msg: String) -> ! {
    eprintln!("sandrun-devnode: {msg}");
    std::process::exit(2)
}

fn generate_key(path: &Path) -> Result<String, String> {
    if path.exists() {
        return Err(format!(
            "{} already exists; not overwriting a key",
            path.display()
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let key = WorkerKey::generate();
    write_private(path, &key.to_pkcs8_pem())?;
    Ok(key.worker_id())
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn load_key(path: &Path) -> Result<WorkerKey, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    WorkerKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

fn worker_cfg(o: &WorkerOpts, port: u16) -> Result<(worker::WorkerCfg, faults::Faults), String> {
    let faults = faults::Faults::parse(&o.fault)?;
    let parallel = o.parallel.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let work_dir = o.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("sandrun-devnode-{}-{}", std::process::id(), port))
    });
    let cfg = worker::WorkerCfg {
        compat: o.compat,
        max_concurrent: o.max_concurrent,
        jobs_per_hour: o.jobs_per_hour,
        cpu_per_minute: o.cpu_per_minute,
        max_request: o.max_request_bytes,
        retention: Duration::from_secs(o.retention_secs.unwrap_or(if o.compat {
            360
        } else {
            3600
        })),
        parallel,
        job_timeout: Duration::from_secs(o.job_timeout_secs.max(1)),
        job_cpu_secs: o.job_cpu_secs.max(1),
        job_memory_mb: o.job_memory_mb.max(16),
        job_file_mb: o.job_file_mb.max(1),
        max_log_bytes: o.max_log_mb.max(1) * 1024 * 1024,
        work_dir,
        alter_output: faults.alter_output,
        isolation: sandbox::probe_isolation(!o.no_namespaces),
    };
    Ok((cfg, faults))
}

async fn bind(host: &str, port: u16) -> Result<(TcpListener, String), String> {
    let l = TcpListener::bind((host, port))
        .await
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    let addr = l.local_addr().map_err(|e| e.to_string())?;
    Ok((l, format!("http://{}:{}", addr.ip(), addr.port())))
}

async fn start_worker(
    o: &WorkerOpts,
    port: u16,
    key: Option<WorkerKey>,
    shutdown: &watch::Receiver<bool>,
) -> Result<(Arc<worker::Worker>, String), String> {
    let (listener, url) = bind(&o.host, port).await?;
    let (cfg, faults) = worker_cfg(o, listener.local_addr().map(|a| a.port()).unwrap_or(port))?;
    let compat = cfg.compat;
    let max_request = cfg.max_request;
    let iso = cfg.isolation;
    let w = worker::start(cfg, key).map_err(|e| format!("cannot create the work folder: {e}"))?;
    eprintln!(
        "[worker] {url} mode={} worker_id={} isolation: {}",
        if compat { "compat" } else { "default" },
        w.worker_id.as_deref().unwrap_or("null (anonymous)"),
        iso.describe()
    );
    let server_cfg = http::ServerCfg {
        compat,
        max_request,
        faults: Arc::new(faults),
        name: "worker",
    };
    tokio::spawn(http::serve(
        listener,
        server_cfg,
        worker::handler(w.clone()),
        shutdown.clone(),
    ));
    Ok((w, url))
}

/// Serves `handler` on host:port as a well-behaved HTTP server (no compat quirks, no faults).
async fn serve_plain(
    name: &'static str,
    host: &str,
    port: u16,
    handler: http::Handler,
    shutdown: &watch::Receiver<bool>,
) -> Result<String, String> {
    let (listener, url) = bind(host, port).await?;
    let cfg = http::ServerCfg {
        compat: false,
        max_request: 200 * 1024 * 1024,
        faults: Arc::new(faults::Faults::default()),
        name,
    };
    tokio::spawn(http::serve(listener, cfg, handler, shutdown.clone()));
    Ok(url)
}

async fn start_pool(
    host: &str,
    port: u16,
    workers: Vec<pool::PoolWorker>,
    interval: Duration,
    shutdown: &watch::Receiver<bool>,
) -> Result<String, String> {
    let p = pool::Pool::new(workers, interval);
    serve_plain("pool", host, port, pool::handler(p), shutdown).await
}

async fn start_broker(
    o: &BrokerOpts,
    port: u16,
    shutdown: &watch::Receiver<bool>,
) -> Result<String, String> {
    let b = broker::Broker::open(
        &o.db,
        Duration::from_secs_f64(o.heartbeat_timeout_secs.max(0.1)),
    )?;
    serve_plain("broker", &o.host, port, broker::handler(b), shutdown).await
}

fn env_broker_port() -> Option<u16> {
    std::env::var("BROKER_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
}

fn say(line: String) {
    use std::io::Write;
    println!("{line}");
    let _ = std::io::stdout().flush();
}

async fn run(cmd: Cmd) -> Result<(), String> {
    let (tx, rx) = watch::channel(false);
    let mut workers = Vec::new();
    match cmd {
        Cmd::Worker {
            port,
            worker_key,
            opts,
        } => {
            let key = worker_key.as_deref().map(load_key).transpose()?;
            let (w, url) = start_worker(&opts, port, key, &rx).await?;
            workers.push(w);
            say(format!("worker: {url}"));
        }
        Cmd::Pool {
            host,
            port,
            workers: file,
            health_interval_secs,
        } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let list = pool::load_workers(&text)?;
            let url = start_pool(
                &host,
                port,
                list,
                Duration::from_secs_f64(health_interval_secs.max(0.1)),
                &rx,
            )
            .await?;
            say(format!("pool: {url}"));
        }
        Cmd::Broker { opts, port } => {
            let port = port.or_else(env_broker_port).unwrap_or(8000);
            let url = start_broker(&opts, port, &rx).await?;
            say(format!("broker: {url}"));
        }
        Cmd::Pinning {
            host,
            port,
            kubo,
            tokens,
            db,
            pin_timeout_secs,
        } => {
            let cfg = pinning::PinningCfg {
                kubo,
                tokens,
                db,
                pin_timeout: Duration::from_secs(pin_timeout_secs.max(1)),
            };
            let handler = pinning::start(cfg).await?;
            let url = serve_plain("pinning", &host, port, handler, &rx).await?;
            say(format!("pinning: {url}"));
        }
        Cmd::Gateway {
            host,
            port,
            upstream,
            fault,
            upstream_timeout_secs,
        } => {
            let timeout = Duration::from_secs(upstream_timeout_secs.max(1));
            let handler = gateway::start(&upstream, &fault, timeout)?;
            let url = serve_plain("gateway", &host, port, handler, &rx).await?;
            eprintln!("[gateway] {url} upstream={upstream} faults={fault:?}");
            say(format!("gateway: {url}"));
        }
        Cmd::All {
            worker_port,
            pool_port,
            broker_port,
            data_dir,
            worker_key,
            heartbeat_timeout_secs,
            opts,
        } => {
            let key_path = worker_key.unwrap_or_else(|| data_dir.join("worker.pem"));
            if !key_path.exists() {
                generate_key(&key_path)?;
            }
            let key = load_key(&key_path)?;
            let worker_id = key.worker_id();
            let (w, wurl) = start_worker(&opts, worker_port, Some(key), &rx).await?;
            workers.push(w);
            let pool_workers = vec![pool::PoolWorker {
                endpoint: wurl.clone(),
                worker_id,
                max_concurrent: opts.max_concurrent,
                healthy: false,
                active: 0,
                last_check: None,
                last_error: None,
            }];
            let purl = start_pool(
                &opts.host,
                pool_port,
                pool_workers,
                Duration::from_secs(30),
                &rx,
            )
            .await?;
            let bopts = BrokerOpts {
                host: opts.host.clone(),
                db: data_dir.join("broker.sqlite3"),
                heartbeat_timeout_secs,
            };
            let bport = broker_port.or_else(env_broker_port).unwrap_or(8001);
            let burl = start_broker(&bopts, bport, &rx).await?;
            say(format!("worker: {wurl}"));
            say(format!("pool:   {purl}"));
            say(format!("broker: {burl}"));
            say("Ctrl-C to stop.".into());
        }
    }
    wait_for_signal().await;
    eprintln!("sandrun-devnode: shutting down");
    let _ = tx.send(true);
    for w in workers {
        w.shutdown();
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    if let Some(path) = &cli.generate_key {
        match generate_key(path) {
            Ok(id) => {
                println!("{id}");
                return;
            }
            Err(e) => fail(e),
        }
    }
    let Some(cmd) = cli.cmd else {
        fail("missing command: worker, pool, broker, all, pinning or gateway (see --help)".into());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(format!("cannot start the runtime: {e}")));
    if let Err(e) = rt.block_on(run(cmd)) {
        fail(e);
    }
    rt.shutdown_timeout(Duration::from_millis(500));
}
