//! Spawning and supervising agent subprocesses. All agent spawning goes through here.
//!
//! Each child gets its own process group, so a timeout or Ctrl-C kills the agent and every
//! grandchild it started; the group is led by a keeper that kills it if deep-review dies,
//! even by SIGKILL (see [`Keeper`]). stdout and stderr are streamed to files as they arrive,
//! masked line by line ([`crate::secrets::LineMasker`]; an interrupted review keeps every
//! line), stderr is drained concurrently into a capped tail so a chatty agent never blocks on
//! a full pipe, and stdout lines are handed to the adapter's parser as they come. This module
//! never prints.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::Path;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Duration;
use std::time::Instant;
use tokio::io::AsyncWriteExt;

mod keeper;
mod pumps;

use keeper::Keeper;
use pumps::pump_stderr;
use pumps::pump_stdin;
use pumps::pump_stdout;
pub use pumps::DISK_CAP_MARKER;
pub use pumps::RAW_DISK_CAP;
pub use pumps::STDOUT_CAP_NOTE;

/// After SIGTERM, how long the group gets before SIGKILL.
const TERM_GRACE: Duration = Duration::from_millis(1500);
/// How long to wait for pipes to close after the child is gone (grandchildren may hold them).
const IO_DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a pump still holding a pipe gets to finish the chunk it is writing before it is
/// stopped.
const PUMP_SETTLE: Duration = Duration::from_millis(200);
/// stdout kept in memory for the adapter (the file on disk has everything).
const STDOUT_MEMORY_CAP: usize = 64 * 1024 * 1024;
/// Longest line handed to a stream parser; longer lines are cut (the file keeps them whole).
const LINE_CAP: usize = 16 * 1024 * 1024;
/// The stderr tail kept for failure reports.
const STDERR_TAIL: usize = 4096;

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
    /// The child's whole environment (nothing is inherited).
    pub env: BTreeMap<String, String>,
    /// Written to stdin, which is then closed; `None` gives the child a null stdin, because an
    /// agent that waits on stdin would otherwise hang forever.
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

/// How the process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    TimedOut,
    Cancelled,
}

#[derive(Debug)]
pub struct ProcessOutput {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    /// True when stdout passed the memory cap or [`RAW_DISK_CAP`] (the file then ends with
    /// [`DISK_CAP_MARKER`]).
    pub stdout_truncated: bool,
    pub stderr_tail: String,
    pub duration: Duration,
}

/// Process groups of live agents, so a second Ctrl-C can kill them all before exiting.
fn live_groups() -> &'static Mutex<HashSet<i32>> {
    static GROUPS: OnceLock<Mutex<HashSet<i32>>> = OnceLock::new();
    GROUPS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// SIGKILLs every live agent process group. Used on the second Ctrl-C.
pub fn kill_all_groups() {
    if let Ok(groups) = live_groups().lock() {
        for &pgid in groups.iter() {
            signal_group(pgid, libc::SIGKILL);
        }
    }
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: killpg has no memory-safety preconditions; a stale pgid yields ESRCH.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

/// A conversation on the child's stdin (an ACP agent's JSON-RPC): each message sent on
/// `input` is written to the child and, masked, appended to the file at `log`; stdin closes
/// when every sender is dropped.
pub struct Duplex {
    pub input: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    pub log: PathBuf,
}

/// Runs `spec`, calling `on_line` for each stdout line as it arrives.
///
/// Returns an error only when the process cannot be started; everything after that is an
/// [`Exit`].
pub async fn supervise(
    spec: &ProcessSpec,
    on_line: impl FnMut(&str),
    cancel: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<ProcessOutput> {
    supervise_duplex(spec, None, on_line, cancel).await
}

/// [`supervise`], with stdin fed by `duplex` (instead of `spec.stdin`) when given.
pub async fn supervise_duplex(
    spec: &ProcessSpec,
    duplex: Option<Duplex>,
    mut on_line: impl FnMut(&str),
    mut cancel: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<ProcessOutput> {
    let started = Instant::now();
    let stdout_file = create(&spec.stdout_path).await?;
    let stderr_file = create(&spec.stderr_path).await?;

    let piped = spec.stdin.is_some() || duplex.is_some();
    let (mut child, keeper, pgid) = spawn_in_group(spec, piped)?;

    let stdin = child.stdin.take();
    let (stdin, duplex) = match (duplex, stdin) {
        (Some(d), Some(pipe)) => (None, Some((d, pipe))),
        (_, pipe) => (pipe, None),
    };
    if let (Some(input), Some(mut stdin)) = (spec.stdin.clone(), stdin) {
        tokio::spawn(async move {
            // A child that exits without reading its stdin gives EPIPE here; that is its
            // business, and its exit status tells the story.
            let _ = stdin.write_all(&input).await;
            let _ = stdin.shutdown().await;
        });
    }

    let duplex_task = duplex.map(|(d, pipe)| tokio::spawn(pump_stdin(d, pipe)));

    let (line_tx, mut line_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = child.stdout.take();
    let (stop_stdout, stdout_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stdout_task = tokio::spawn(pump_stdout(stdout, stdout_file, line_tx, stdout_stop_rx));
    let stderr = child.stderr.take();
    let stderr_task = tokio::spawn(pump_stderr(stderr, stderr_file));

    let deadline = tokio::time::Instant::now() + spec.timeout;
    let (exit, stdout_open) = watch(
        &mut child,
        pgid,
        &mut line_rx,
        &mut on_line,
        deadline,
        &mut cancel,
    )
    .await;
    if let Ok(mut g) = live_groups().lock() {
        g.remove(&pgid);
    }
    let (stdout, stdout_truncated) =
        finish_stdout(stdout_task, stop_stdout, stdout_open, &spec.stdout_path).await;
    // Lines still queued (the pump's last ones among them) count.
    while let Ok(line) = line_rx.try_recv() {
        on_line(&line);
    }
    if let Some(k) = keeper {
        k.release().await;
    }
    // A conversation's pump ends by itself when its senders are dropped (its messages to a
    // child that is gone are still logged).
    drop(duplex_task);
    // The same descendant usually holds stderr too; its drain time is already spent.
    let stderr_wait = if stdout_open {
        PUMP_SETTLE
    } else {
        IO_DRAIN_TIMEOUT
    };
    let stderr_tail = match tokio::time::timeout(stderr_wait, stderr_task).await {
        Ok(Ok(tail)) => tail,
        _ => String::new(),
    };
    Ok(ProcessOutput {
        exit: exit.unwrap_or(Exit::Cancelled),
        stdout,
        stdout_truncated,
        stderr_tail,
        duration: started.elapsed(),
    })
}

/// Starts `spec`'s program in a process group led by its keeper; the group is registered for
/// [`kill_all_groups`].
fn spawn_in_group(
    spec: &ProcessSpec,
    piped_stdin: bool,
) -> std::io::Result<(tokio::process::Child, Option<Keeper>, i32)> {
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(&spec.args)
        .current_dir(&spec.cwd)
        // Only what `spec.env` holds: the agent's environment is computed in `agent::env`.
        .env_clear()
        .envs(&spec.env)
        .stdin(if piped_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Kills only the direct child on drop; the group kill below covers grandchildren.
        .kill_on_drop(true);
    // The agent joins its keeper's process group, so the group exists (and is watched) before
    // the agent's first instruction runs.
    let keeper = Keeper::spawn();
    cmd.process_group(keeper.as_ref().map_or(0, |k| k.pgid));
    let child = cmd.spawn()?;
    let pgid = match &keeper {
        Some(k) => k.pgid,
        None => child.id().map(|id| id as i32).unwrap_or(0),
    };
    if let Ok(mut g) = live_groups().lock() {
        g.insert(pgid);
    }

    Ok((child, keeper, pgid))
}

/// Until the child has exited (or been stopped) and stdout has closed, or the drain time after
/// the exit has passed: hands stdout lines over, enforces the deadline and the cancel. Returns
/// how it ended and whether stdout was still open.
async fn watch(
    child: &mut tokio::process::Child,
    pgid: i32,
    line_rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    on_line: &mut impl FnMut(&str),
    deadline: tokio::time::Instant,
    cancel: &mut tokio::sync::watch::Receiver<bool>,
) -> (Option<Exit>, bool) {
    let mut exit: Option<Exit> = None;
    let mut stdout_open = true;
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    loop {
        if exit.is_some() && !stdout_open {
            break;
        }
        tokio::select! {
            line = line_rx.recv(), if stdout_open => match line {
                Some(line) => on_line(&line),
                None => stdout_open = false,
            },
            status = child.wait(), if exit.is_none() => {
                exit = Some(match status {
                    Ok(s) => exit_of(s),
                    Err(_) => Exit::Signal(libc::SIGKILL),
                });
                // The agent is done; anything left in its group is an orphan.
                signal_group(pgid, libc::SIGKILL);
                drain_deadline = Some(tokio::time::Instant::now() + IO_DRAIN_TIMEOUT);
            }
            _ = tokio::time::sleep_until(deadline), if exit.is_none() => {
                terminate(child, pgid).await;
                exit = Some(Exit::TimedOut);
                drain_deadline = Some(tokio::time::Instant::now() + IO_DRAIN_TIMEOUT);
            }
            changed = cancel.changed(), if exit.is_none() => {
                if changed.is_err() || *cancel.borrow() {
                    terminate(child, pgid).await;
                    exit = Some(Exit::Cancelled);
                    drain_deadline = Some(tokio::time::Instant::now() + IO_DRAIN_TIMEOUT);
                }
            }
            _ = sleep_until_opt(drain_deadline), if drain_deadline.is_some() => {
                break;
            }
        }
    }
    (exit, stdout_open)
}

/// What stdout held: the pump's copy, or the file when the pump does not finish in time.
async fn finish_stdout(
    mut stdout_task: tokio::task::JoinHandle<(Vec<u8>, bool)>,
    stop_stdout: tokio::sync::oneshot::Sender<()>,
    stdout_open: bool,
    path: &Path,
) -> (Vec<u8>, bool) {
    if stdout_open {
        // A descendant that left the group (setsid, daemonized) still holds the pipe after the
        // agent ended. What the agent printed is its answer: the pump treats the stop as the
        // end of its input, so the last line (masked, without a newline) is written and handed
        // over like any other.
        let _ = tokio::time::timeout(PUMP_SETTLE, &mut stdout_task).await;
        let _ = stop_stdout.send(());
    }
    match tokio::time::timeout(IO_DRAIN_TIMEOUT, stdout_task).await {
        Ok(Ok(v)) => v,
        _ => read_capped(path).await,
    }
}

/// What the stdout file holds, up to the memory cap (and whether it was cut).
async fn read_capped(path: &Path) -> (Vec<u8>, bool) {
    let mut kept = tokio::fs::read(path).await.unwrap_or_default();
    let truncated = kept.len() > STDOUT_MEMORY_CAP;
    kept.truncate(STDOUT_MEMORY_CAP);
    (kept, truncated)
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn create(path: &Path) -> std::io::Result<tokio::fs::File> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    tokio::fs::File::create(path).await
}

/// SIGTERM to the group, a grace period, then SIGKILL.
async fn terminate(child: &mut tokio::process::Child, pgid: i32) {
    signal_group(pgid, libc::SIGTERM);
    if tokio::time::timeout(TERM_GRACE, child.wait())
        .await
        .is_err()
    {
        signal_group(pgid, libc::SIGKILL);
        let _ = child.kill().await;
    }
    // Whatever survived the leader's exit goes too.
    signal_group(pgid, libc::SIGKILL);
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Exit::Signal(sig);
        }
    }
    Exit::Code(-1)
}

/// Describes an exit for a failure message.
pub fn describe_exit(exit: Exit, timeout: Duration) -> String {
    match exit {
        Exit::Code(c) => format!("exited with status {c}"),
        Exit::Signal(s) => format!("killed by signal {s}"),
        Exit::TimedOut => format!(
            "no answer after {}; its process group was killed",
            crate::util::human_duration(timeout)
        ),
        Exit::Cancelled => "interrupted; its process group was killed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::pumps::RawFile;
    use super::*;

    fn spec(dir: &Path, script: &str, timeout_ms: u64) -> ProcessSpec {
        ProcessSpec {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            cwd: dir.to_path_buf(),
            env: BTreeMap::new(),
            stdin: Some(b"brief\n".to_vec()),
            timeout: Duration::from_millis(timeout_ms),
            stdout_path: dir.join("out/stdout"),
            stderr_path: dir.join("out/stderr"),
        }
    }

    fn no_cancel() -> tokio::sync::watch::Receiver<bool> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        std::mem::forget(tx);
        rx
    }

    #[tokio::test]
    async fn streams_lines_and_reads_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let mut seen = Vec::new();
        let out = supervise(
            &spec(
                dir.path(),
                "read x; echo got-$x; echo two; echo err >&2",
                10_000,
            ),
            |l| seen.push(l.to_string()),
            no_cancel(),
        )
        .await
        .unwrap();
        assert_eq!(out.exit, Exit::Code(0));
        assert_eq!(seen, vec!["got-brief", "two"]);
        assert_eq!(out.stderr_tail, "err");
        let on_disk = std::fs::read_to_string(dir.path().join("out/stdout")).unwrap();
        assert_eq!(on_disk, "got-brief\ntwo\n");
    }

    #[tokio::test]
    async fn timeout_kills_the_group_including_grandchildren() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!(
            "sleep 300 & echo $! > {}; echo started; wait",
            pidfile.display()
        );
        let out = supervise(&spec(dir.path(), &script, 500), |_| {}, no_cancel())
            .await
            .unwrap();
        assert_eq!(out.exit, Exit::TimedOut);
        assert!(out.duration < Duration::from_secs(8), "{:?}", out.duration);
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Give the kernel a moment to reap, then the grandchild must be gone.
        tokio::time::sleep(Duration::from_millis(200)).await;
        // SAFETY: signal 0 only checks for existence.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        assert!(!alive || zombie, "grandchild {pid} survived the timeout");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/stdout")).unwrap(),
            "started\n"
        );
    }

    #[tokio::test]
    async fn stderr_flood_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        // 4 MiB of stderr, far beyond a pipe buffer, then a normal answer.
        let script = "head -c 4194304 /dev/zero | tr '\\0' x >&2; echo done";
        let mut seen = Vec::new();
        let out = supervise(
            &spec(dir.path(), script, 20_000),
            |l| seen.push(l.to_string()),
            no_cancel(),
        )
        .await
        .unwrap();
        assert_eq!(out.exit, Exit::Code(0));
        assert_eq!(seen, vec!["done"]);
        assert!(out.stderr_tail.len() <= STDERR_TAIL);
        let len = std::fs::metadata(dir.path().join("out/stderr"))
            .unwrap()
            .len();
        assert_eq!(len, 4_194_304);
    }

    #[tokio::test]
    async fn cancel_stops_the_child() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = tx.send(true);
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let out = supervise(
            &spec(dir.path(), "echo partial; sleep 60", 60_000),
            |_| {},
            rx,
        )
        .await
        .unwrap();
        assert_eq!(out.exit, Exit::Cancelled);
        assert_eq!(out.stdout, b"partial\n");
    }

    #[tokio::test]
    async fn a_detached_descendant_holding_stdout_does_not_hide_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("detached.pid");
        // The descendant leaves the group (setsid) and keeps stdout open long after the agent.
        let script = format!(
            "setsid sh -c 'echo $$ > {p}; exec sleep 60' & while [ ! -s {p} ]; do sleep 0.05; done; printf 'line one\\n{{\"last\": true}}'",
            p = pidfile.display()
        );
        let mut seen = Vec::new();
        let out = supervise(
            &spec(dir.path(), &script, 30_000),
            |l| seen.push(l.to_string()),
            no_cancel(),
        )
        .await
        .unwrap();
        if let Ok(pid) = std::fs::read_to_string(&pidfile) {
            // SAFETY: killing the test's own stray process.
            unsafe {
                libc::kill(pid.trim().parse().unwrap(), libc::SIGKILL);
            }
        }
        assert_eq!(out.exit, Exit::Code(0));
        assert_eq!(out.stdout, b"line one\n{\"last\": true}");
        assert_eq!(seen, vec!["line one", "{\"last\": true}"]);
        assert!(out.duration < Duration::from_secs(8), "{:?}", out.duration);
    }

    #[tokio::test]
    async fn raw_output_stops_at_the_cap_with_a_marker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stdout");
        let mut raw = RawFile::new(create(&path).await.unwrap());
        raw.cap = 10;
        raw.append(b"012345").await;
        raw.append(b"6789ab").await;
        raw.append(b"cdef").await;
        assert!(raw.capped);
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(on_disk, format!("0123456789{DISK_CAP_MARKER}"));
    }

    #[tokio::test]
    async fn a_secret_is_masked_in_the_transcript_even_when_split_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let script = "printf 'a ghp_0123456789abcd'; sleep 0.2; printf 'efghijABCDEFGHIJ0123456789 b\\n'; \
                      printf 'e ghp_0123456789abcd' >&2; sleep 0.2; printf 'efghijABCDEFGHIJ0123456789 f' >&2";
        let mut seen = Vec::new();
        let out = supervise(
            &spec(dir.path(), script, 10_000),
            |l| seen.push(l.to_string()),
            no_cancel(),
        )
        .await
        .unwrap();
        assert_eq!(seen, vec!["a ghp_…[redacted] b"]);
        assert_eq!(out.stdout, "a ghp_…[redacted] b\n".as_bytes());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/stdout")).unwrap(),
            "a ghp_…[redacted] b\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/stderr")).unwrap(),
            "e ghp_…[redacted] f"
        );
    }

    #[tokio::test]
    async fn missing_program_is_a_spawn_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = spec(dir.path(), "", 1000);
        s.program = "/nonexistent/agent".into();
        assert!(supervise(&s, |_| {}, no_cancel()).await.is_err());
    }
}
