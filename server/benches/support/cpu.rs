//! CPU time of processes, read from /proc: a process with its children (nginx's workers, PostgreSQL's backends),
//! those already reaped included, so a backend that exits mid-run still counts; and of the threads of this process
//! that share a name (a server's runtime running beside the benchmark's client in one process).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// A running process whose CPU time (user + system, its children included) can be read at any moment.
#[derive(Debug, Clone, Copy)]
pub struct Process {
    pid: u32,
}

impl Process {
    pub fn new(pid: u32) -> Self {
        Self { pid }
    }

    /// The process whose pid is the first line of `file` (a pid file: the stack's `openbao.pid`, PostgreSQL's
    /// `postmaster.pid`).
    pub fn from_pid_file(file: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let pid = text.lines().next().unwrap_or_default().trim();
        let pid = pid.parse().with_context(|| format!("{} does not start with a pid", file.display()))?;
        Ok(Self { pid })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// This benchmark's own process.
    pub fn own() -> Self {
        Self { pid: std::process::id() }
    }

    /// CPU seconds so far: the process's own, its reaped children's, and its live children's.
    pub fn seconds(&self) -> Result<f64> {
        let mut ticks = own_and_reaped_ticks(self.pid)?;
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let Some(other) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            if other != self.pid && parent_of(other) == Some(self.pid) {
                // A child that exits between the listing and this read has moved into the reaped count.
                ticks += own_ticks(other).unwrap_or(0);
            }
        }
        Ok(ticks as f64 / clock_ticks_per_second()?)
    }
}

/// CPU seconds so far of this process's live threads whose name starts with `prefix` (a tokio runtime names its
/// worker and blocking threads with `thread_name`). A thread that has exited no longer counts: such a runtime keeps
/// its blocking threads alive for the run.
pub fn own_threads_seconds(prefix: &str) -> Result<f64> {
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc/self/task")?.flatten() {
        // A thread that exits between the listing and this read is simply not counted.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        if stat.split_once(" (").is_some_and(|(_, rest)| rest.starts_with(prefix)) {
            let fields = fields_after_name(&stat)?;
            ticks += field(&fields, 14) + field(&fields, 15);
        }
    }
    Ok(ticks as f64 / clock_ticks_per_second()?)
}

/// The fields of /proc/PID/stat after the command name: state is field 3, so field N is at index N - 3.
fn stat_fields(pid: u32) -> Result<Vec<u64>> {
    fields_after_name(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// A stat line's fields after the command name (which may hold spaces and parentheses: the last `)` ends it).
fn fields_after_name(stat: &str) -> Result<Vec<u64>> {
    let after_name = stat.rsplit_once(')').context("/proc stat format")?.1;
    Ok(after_name.split_whitespace().map(|field| field.parse::<u64>().unwrap_or(0)).collect())
}

fn field(fields: &[u64], number: usize) -> u64 {
    fields.get(number - 3).copied().unwrap_or(0)
}

/// utime (14) + stime (15).
fn own_ticks(pid: u32) -> Result<u64> {
    let fields = stat_fields(pid)?;
    Ok(field(&fields, 14) + field(&fields, 15))
}

/// utime + stime + cutime (16) + cstime (17): the children it has waited for count in the last two.
fn own_and_reaped_ticks(pid: u32) -> Result<u64> {
    let fields = stat_fields(pid)?;
    Ok((14..=17).map(|number| field(&fields, number)).sum())
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid).ok().map(|fields| field(&fields, 4)).and_then(|parent| u32::try_from(parent).ok())
}

/// Asked of `getconf` once per run: a child spawned on every reading would add its own CPU time to this process's
/// reaped children, and so to the very numbers being read.
fn clock_ticks_per_second() -> Result<f64> {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    if let Some(ticks) = TICKS.get() {
        return Ok(*ticks);
    }
    let output = Command::new("getconf").arg("CLK_TCK").output().context("getconf CLK_TCK")?;
    let ticks = String::from_utf8_lossy(&output.stdout).trim().parse::<f64>().context("CLK_TCK is a number")?;
    Ok(*TICKS.get_or_init(|| ticks))
}
