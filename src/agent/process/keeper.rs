//! The keeper that leads each agent's process group and kills it if deep-review dies.

use super::signal_group;
use super::PUMP_SETTLE;
use std::process::Stdio;

/// The keeper of an agent's process group: a `sh` that leads the group and blocks reading a
/// pipe only deep-review holds the write end of. When deep-review dies in any way, SIGKILL
/// included, the kernel closes that end, the read returns and the keeper SIGKILLs its own
/// group: the agent and every descendant that stayed in it. A parent-death signal would reach
/// only the direct child; this reaches the whole group. When the agent ends normally, the
/// group kill that follows takes the keeper with it.
pub(super) struct Keeper {
    child: tokio::process::Child,
    /// Held, never written: closing it (by drop or by our death) is the signal.
    _pipe: tokio::process::ChildStdin,
    pub(super) pgid: i32,
}

impl Keeper {
    /// None when no keeper can be started (no `/bin/sh`); the agent then leads its own group and
    /// is still killed on timeout, cancel and normal exit, only not after a SIGKILL.
    pub(super) fn spawn() -> Option<Keeper> {
        let mut cmd = tokio::process::Command::new("/bin/sh");
        // It ignores the SIGTERM that `terminate` sends the group, so it still guards the
        // agent during the grace period; only the final SIGKILL ends it.
        cmd.args(["-c", "trap '' HUP INT TERM; read -r _; kill -9 0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env_clear()
            .process_group(0);
        let mut child = cmd.spawn().ok()?;
        let pgid = child.id()? as i32;
        let pipe = child.stdin.take()?;
        Some(Keeper {
            child,
            _pipe: pipe,
            pgid,
        })
    }

    /// Ends the keeper (and anything left in its group) and reaps it.
    pub(super) async fn release(mut self) {
        signal_group(self.pgid, libc::SIGKILL);
        let _ = tokio::time::timeout(PUMP_SETTLE, self.child.wait()).await;
    }
}
