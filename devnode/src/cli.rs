//! The command line: `worker`, `pool`, `broker`, `all`, `pinning`, `gateway` and `--generate-key`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const ISOLATION_NOTE: &str = "\
ISOLATION: this is a development node, not a security sandbox. A job runs as a child process of
the node, as the node's user, in a private temporary folder, with rlimits (CPU seconds, data
memory, file size, no core dumps), a wall-time kill of its whole process group, and - where the
kernel allows unprivileged namespaces - its own user and network namespaces, so it has no network
at all. It can still read every file the node's user can read and use the machine's other
resources. Run only code you would run yourself.";

#[derive(Parser)]
#[command(name = "sandrun-devnode", version, about = "Sandrun-compatible development node: worker, pool coordinator and broker; an IPFS pinning service and a hostile gateway", after_help = ISOLATION_NOTE)]
pub struct Cli {
    /// Write a new Ed25519 worker key (PKCS#8 PEM) to FILE, print its worker id, and exit.
    #[arg(long, value_name = "FILE", global = true)]
    pub generate_key: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// A worker server (the real Sandrun server's API).
    #[command(after_help = ISOLATION_NOTE)]
    Worker {
        /// Port to listen on (0: any free port; the URL is printed on stdout).
        #[arg(long, default_value_t = 8443)]
        port: u16,
        /// PKCS#8 PEM Ed25519 key: results are signed and /health shows the worker id.
        /// Without it the worker is anonymous (worker_id and signature null).
        #[arg(long, value_name = "FILE")]
        worker_key: Option<PathBuf>,
        #[command(flatten)]
        opts: WorkerOpts,
    },
    /// The trusted-pool coordinator in front of allow-listed workers.
    Pool {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// JSON list of workers: [{"endpoint":"http://127.0.0.1:8443","worker_id":"<base64 key>"}]
        #[arg(long, value_name = "FILE")]
        workers: PathBuf,
        /// Seconds between health checks of the workers.
        #[arg(long, default_value_t = 30.0)]
        health_interval_secs: f64,
    },
    /// The broker (node marketplace), kept in SQLite.
    Broker {
        #[command(flatten)]
        opts: BrokerOpts,
        /// Port (default: $BROKER_PORT, else 8000).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Worker + pool + broker on fixed ports (worker 8443, pool 8000, broker 8001 or $BROKER_PORT).
    #[command(after_help = ISOLATION_NOTE)]
    All {
        #[arg(long, default_value_t = 8443)]
        worker_port: u16,
        #[arg(long, default_value_t = 8000)]
        pool_port: u16,
        /// Default: $BROKER_PORT, else 8001.
        #[arg(long)]
        broker_port: Option<u16>,
        /// Folder for the worker key and the broker database.
        #[arg(long, default_value = ".devnode")]
        data_dir: PathBuf,
        /// Worker key (default: DATA_DIR/worker.pem, created if missing).
        #[arg(long, value_name = "FILE")]
        worker_key: Option<PathBuf>,
        #[arg(long, default_value_t = 60.0)]
        heartbeat_timeout_secs: f64,
        #[command(flatten)]
        opts: WorkerOpts,
    },
    /// An IPFS Pinning Service API (the spec's /pins routes, bearer tokens, CORS) that really pins
    /// on a local Kubo through its RPC API; state in SQLite.
    Pinning {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8002)]
        port: u16,
        /// Kubo's RPC API, e.g. http://127.0.0.1:5001
        #[arg(long, value_name = "URL")]
        kubo: String,
        /// An access token clients send as `Authorization: Bearer TOKEN` (repeatable; each token
        /// sees its own pins).
        #[arg(long = "token", value_name = "TOKEN", required = true)]
        tokens: Vec<String>,
        /// SQLite database file.
        #[arg(long, default_value = ".devnode/pinning.sqlite3")]
        db: PathBuf,
        /// Seconds Kubo may take to fetch a pin's blocks before the pin fails.
        #[arg(long, default_value_t = 60)]
        pin_timeout_secs: u64,
    },
    /// A trustless IPFS gateway (`/ipfs/{cid}` as raw blocks or CAR) proxying an upstream Kubo
    /// gateway, with faults for testing verified retrieval.
    Gateway {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8090)]
        port: u16,
        /// The upstream gateway, e.g. http://127.0.0.1:8080
        #[arg(long, value_name = "URL")]
        upstream: String,
        /// Fault, repeatable: tamper-block | car-missing-block | car-wrong-block | wrong-root |
        /// slow:MS | status-5xx[:CODE] | drop. None: an honest proxy.
        #[arg(long, value_name = "FAULT")]
        fault: Vec<String>,
        /// Seconds to wait for the upstream gateway.
        #[arg(long, default_value_t = 30)]
        upstream_timeout_secs: u64,
    },
}

#[derive(Args, Clone)]
pub struct WorkerOpts {
    /// Address to bind (127.0.0.1 keeps the node local).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Reproduce the real server's client-visible quirks (see README).
    #[arg(long)]
    pub compat: bool,
    /// Per-client-IP concurrent jobs.
    #[arg(long, default_value_t = 2)]
    pub max_concurrent: usize,
    /// Per-client-IP jobs per rolling hour.
    #[arg(long, default_value_t = 20)]
    pub jobs_per_hour: usize,
    /// Per-client-IP CPU seconds per rolling minute.
    #[arg(long, default_value_t = 10.0)]
    pub cpu_per_minute: f64,
    /// Largest request accepted (headers + body), bytes.
    #[arg(long, default_value_t = 100 * 1024 * 1024)]
    pub max_request_bytes: usize,
    /// Seconds a job is kept after submission (default: 360 in --compat, 3600 otherwise).
    #[arg(long)]
    pub retention_secs: Option<u64>,
    /// Jobs run at once in default mode (compat runs one at a time). Default: CPU count.
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Wall-time limit of a job, seconds.
    #[arg(long, default_value_t = 300)]
    pub job_timeout_secs: u64,
    /// CPU-time limit of a job (RLIMIT_CPU), seconds.
    #[arg(long, default_value_t = 60)]
    pub job_cpu_secs: u64,
    /// Memory limit of a job (RLIMIT_DATA), MB.
    #[arg(long, default_value_t = 2048)]
    pub job_memory_mb: u64,
    /// Largest file a job may write (RLIMIT_FSIZE), MB.
    #[arg(long, default_value_t = 1024)]
    pub job_file_mb: u64,
    /// stdout and stderr kept per job, MB each.
    #[arg(long, default_value_t = 16)]
    pub max_log_mb: usize,
    /// Where job folders are created (default: a new folder under the system temp dir).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Do not put jobs in user/network namespaces (they then have network access).
    #[arg(long)]
    pub no_namespaces: bool,
    /// Fault injection, repeatable: alter-output | drop-connection[:FRACTION] | delay-ms:N |
    /// status-429[:FRACTION] | status-500[:FRACTION] | status-503[:FRACTION]
    #[arg(long, value_name = "FAULT")]
    pub fault: Vec<String>,
}

#[derive(Args, Clone)]
pub struct BrokerOpts {
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// SQLite database file.
    #[arg(long, default_value = ".devnode/broker.sqlite3")]
    pub db: PathBuf,
    /// Seconds without heartbeat before a node is inactive and its jobs are re-queued.
    #[arg(long, default_value_t = 60.0)]
    pub heartbeat_timeout_secs: f64,
}
