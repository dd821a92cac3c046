//! Termination signals: SIGINT (Ctrl-C), SIGTERM (`kill`, CI cancelling a job, a container
//! stopping) and SIGHUP (the terminal closed) all mean "stop and keep what arrived".
//!
//! One process-wide listener records every signal, so none is missed while the review is
//! between phases, and the pipeline reacts to the count: the first stops the agents (a partial
//! review is written), the second kills every agent's process group at once (the partial review
//! is still written, from what had arrived), the third exits on the spot. The exit code is
//! 128 + the first signal's number, as shells report it: 130, 143, 129.

use std::sync::OnceLock;

/// Signals received so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    pub count: u32,
    /// The first signal's number: it decides the exit code.
    pub first: Option<i32>,
}

impl Received {
    /// The signal's name for messages, e.g. `SIGTERM`.
    pub fn name(&self) -> &'static str {
        match self.first {
            Some(libc::SIGTERM) => "SIGTERM",
            Some(libc::SIGHUP) => "SIGHUP",
            _ => "Ctrl-C",
        }
    }
}

fn state() -> &'static tokio::sync::watch::Sender<Received> {
    static STATE: OnceLock<tokio::sync::watch::Sender<Received>> = OnceLock::new();
    STATE.get_or_init(|| tokio::sync::watch::channel(Received::default()).0)
}

/// Starts listening (once per process; later calls do nothing). Must run inside the tokio
/// runtime. From then on these signals no longer end the process by themselves.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        use tokio::signal::unix::SignalKind;
        for (kind, number) in [
            (SignalKind::interrupt(), libc::SIGINT),
            (SignalKind::terminate(), libc::SIGTERM),
            (SignalKind::hangup(), libc::SIGHUP),
        ] {
            let Ok(mut stream) = tokio::signal::unix::signal(kind) else {
                // The default disposition stays: the signal still ends the process.
                continue;
            };
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    record(number);
                }
            });
        }
    });
}

fn record(number: i32) {
    state().send_modify(|r| {
        r.count += 1;
        r.first.get_or_insert(number);
    });
    let now = *state().borrow();
    if now.count >= 3 {
        // Whatever the review was waiting on, the user has asked three times.
        crate::agent::process::kill_all_groups();
        crate::progress::log("interrupted three times; exiting without waiting");
        std::process::exit(exit_code().unwrap_or(130));
    }
}

/// A receiver of the signal state; starts listening if nobody did yet.
pub fn subscribe() -> tokio::sync::watch::Receiver<Received> {
    install();
    state().subscribe()
}

/// What has been received so far.
pub fn received() -> Received {
    *state().borrow()
}

/// 128 + the first signal's number, once one was received.
pub fn exit_code() -> Option<i32> {
    received().first.map(|n| 128 + n)
}
