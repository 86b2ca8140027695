//! Running a job's process: a child in its own process group, with rlimits (CPU seconds, data
//! memory, file size, no core dumps), killed with its group on wall-time expiry or cancellation,
//! and where the kernel allows it in fresh user + network namespaces (no network at all).
//!
//! This is a development node, not a security sandbox: the job runs as the node's user (mapped
//! to root inside its user namespace), sees the whole file system and can read whatever that
//! user can read.

use std::ffi::CString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// New user + network namespace: no network (not even loopback).
    UserNet,
    /// New network namespace only (needs root).
    Net,
    /// rlimits and process group only.
    None,
}

impl Isolation {
    fn flags(self) -> libc::c_int {
        match self {
            Isolation::UserNet => libc::CLONE_NEWUSER | libc::CLONE_NEWNET,
            Isolation::Net => libc::CLONE_NEWNET,
            Isolation::None => 0,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            Isolation::UserNet => "own user+network namespace (no network), rlimits, process group",
            Isolation::Net => "own network namespace (no network), rlimits, process group",
            Isolation::None => {
                "rlimits and process group only (namespaces unavailable: jobs HAVE network access)"
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub cpu_secs: u64,
    pub memory_bytes: u64,
    pub file_bytes: u64,
}

/// Finds which isolation the kernel grants by starting `/bin/sh -c 'exit 0'` under each.
pub fn probe_isolation(allow_namespaces: bool) -> Isolation {
    if !allow_namespaces {
        return Isolation::None;
    }
    for iso in [Isolation::UserNet, Isolation::Net] {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "exit 0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let flags = iso.flags();
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::unshare(flags) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        if cmd.status().map(|s| s.success()).unwrap_or(false) {
            return iso;
        }
    }
    Isolation::None
}

/// The PATH jobs get: the node's own, without version-manager shim folders (pyenv & co. shims
/// are shell scripts that would run inside the job's CPU accounting and depend on $HOME).
pub fn job_path() -> String {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let dirs: Vec<&str> = path
        .split(':')
        .filter(|d| !d.is_empty() && !d.ends_with("/shims"))
        .collect();
    if dirs.is_empty() {
        "/usr/local/bin:/usr/bin:/bin".into()
    } else {
        dirs.join(":")
    }
}

/// Resolves a bare command name against [`job_path`].
pub fn resolve(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if program.contains('/') {
        return None;
    }
    for dir in job_path().split(':') {
        let p = Path::new(dir).join(program);
        if let Ok(m) = std::fs::metadata(&p) {
            if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                return Some(p);
            }
        }
    }
    None
}

fn open_write(path: &CString, data: &[u8]) {
    // SAFETY: plain syscalls on valid pointers.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd >= 0 {
            libc::write(fd, data.as_ptr() as *const libc::c_void, data.len());
            libc::close(fd);
        }
    }
}

/// Starts the job's process with piped stdout/stderr.
pub fn spawn(
    program: &Path,
    args: &[String],
    dir: &Path,
    env: &[(String, String)],
    limits: Limits,
    iso: Isolation,
) -> io::Result<Child> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let flags = iso.flags();
    // SAFETY: getuid/getgid are always safe.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let setgroups = CString::new("/proc/self/setgroups").unwrap();
    let uid_map = CString::new("/proc/self/uid_map").unwrap();
    let gid_map = CString::new("/proc/self/gid_map").unwrap();
    let uid_line = format!("0 {uid} 1\n").into_bytes();
    let gid_line = format!("0 {gid} 1\n").into_bytes();
    let set = |res: libc::__rlimit_resource_t, soft: u64, hard: u64| {
        let r = libc::rlimit {
            rlim_cur: soft as libc::rlim_t,
            rlim_max: hard as libc::rlim_t,
        };
        // SAFETY: setrlimit on a valid struct.
        unsafe { libc::setrlimit(res, &r) }
    };
    // SAFETY: only async-signal-safe calls between fork and exec; all buffers were allocated
    // before the fork.
    unsafe {
        cmd.pre_exec(move || {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if flags != 0 {
                if libc::unshare(flags) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if flags & libc::CLONE_NEWUSER != 0 {
                    open_write(&setgroups, b"deny");
                    open_write(&uid_map, &uid_line);
                    open_write(&gid_map, &gid_line);
                }
            }
            // CPU: SIGXCPU at the soft limit, SIGKILL one second later.
            set(libc::RLIMIT_CPU, limits.cpu_secs, limits.cpu_secs + 1);
            set(libc::RLIMIT_DATA, limits.memory_bytes, limits.memory_bytes);
            set(libc::RLIMIT_FSIZE, limits.file_bytes, limits.file_bytes);
            set(libc::RLIMIT_CORE, 0, 0);
            Ok(())
        });
    }
    cmd.spawn()
}

/// Blocks until `pid` has exited, without reaping it (so its pid and group stay valid).
pub fn wait_exited(pid: i32) {
    loop {
        // SAFETY: zeroed siginfo is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// Kills the whole process group of a job.
pub fn kill_group(pid: i32) {
    // SAFETY: signalling a process group we created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

pub struct Exit {
    /// Exit status, or -1 when killed by a signal.
    pub exit_code: i64,
    /// user + system CPU seconds (µs resolution).
    pub cpu_seconds: f64,
    /// ru_maxrss / 1024.
    pub memory_mb: u64,
}

/// Reaps `pid` and returns its status and resource usage.
pub fn reap(pid: i32) -> Exit {
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as i64
    } else {
        -1
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
    // Keep microsecond resolution exactly (avoid float noise in the last digit).
    let cpu_seconds = (cpu * 1e6).round() / 1e6;
    Exit {
        exit_code,
        cpu_seconds,
        memory_mb: (ru.ru_maxrss as u64) / 1024,
    }
}
