//! The one consumer of [`RunEvent`]s: live progress on stderr.
//!
//! On a terminal, one line per agent (state, elapsed time, tool calls so far) redrawn in
//! place. Elsewhere (CI, pipes, tests), plain log lines, one per lifecycle step. Never writes
//! to stdout, which belongs to the report.

use crate::events::RunEvent;
use indicatif::MultiProgress;
use indicatif::ProgressBar;
use indicatif::ProgressDrawTarget;
use indicatif::ProgressStyle;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;
use std::time::Instant;

struct Line {
    bar: Option<ProgressBar>,
    started: Instant,
    tools: u32,
}

pub struct Progress {
    multi: Option<MultiProgress>,
    lines: BTreeMap<String, Line>,
    width: usize,
}

impl Progress {
    /// Live lines when stderr is a terminal (and `DEEP_REVIEW_PROGRESS` is not `plain`).
    pub fn new(agent_names: &[String]) -> Progress {
        let live = std::io::stderr().is_terminal()
            && std::env::var("DEEP_REVIEW_PROGRESS")
                .map(|v| v != "plain")
                .unwrap_or(true);
        let multi = live.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let width = agent_names.iter().map(|n| n.len()).max().unwrap_or(8);
        let mut lines = BTreeMap::new();
        for name in agent_names {
            let bar = multi.as_ref().map(|m| {
                let b = m.add(ProgressBar::new_spinner());
                b.set_style(
                    ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.set_prefix(format!("{name:<width$}"));
                b.set_message("waiting");
                b.enable_steady_tick(Duration::from_millis(120));
                b
            });
            lines.insert(
                name.clone(),
                Line {
                    bar,
                    started: Instant::now(),
                    tools: 0,
                },
            );
        }
        Progress {
            multi,
            lines,
            width,
        }
    }

    /// Refreshes elapsed times on live lines.
    pub fn tick(&mut self) {
        for line in self.lines.values() {
            if let Some(bar) = &line.bar {
                if !bar.is_finished() {
                    bar.set_message(running_message(line));
                }
            }
        }
    }

    pub fn handle(&mut self, event: &RunEvent) {
        match event {
            RunEvent::AgentStarted { agent } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    line.started = Instant::now();
                    match &line.bar {
                        Some(bar) => bar.set_message(running_message(line)),
                        None => log(&format!("{agent}: started")),
                    }
                }
            }
            RunEvent::ToolCall { agent, tool } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    line.tools += 1;
                    match &line.bar {
                        Some(bar) => bar.set_message(running_message(line)),
                        None => log(&format!("{agent}: tool call {tool}")),
                    }
                }
            }
            RunEvent::AgentFinished { agent, ok, summary } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    let elapsed = crate::util::human_duration(line.started.elapsed());
                    let state = if *ok { "done" } else { "failed" };
                    let text = format!("{state} in {elapsed}: {summary}");
                    match &line.bar {
                        Some(bar) => {
                            bar.set_style(
                                ProgressStyle::with_template(if *ok {
                                    "{prefix:.bold} {msg:.green}"
                                } else {
                                    "{prefix:.bold} {msg:.red}"
                                })
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                            );
                            bar.set_prefix(format!(
                                "{} {agent:<w$}",
                                if *ok { "✓" } else { "✗" },
                                w = self.width
                            ));
                            bar.finish_with_message(crate::secrets::redact_text(&text));
                        }
                        None => log(&format!("{agent}: {text}")),
                    }
                }
            }
        }
    }

    /// Prints a message above the live lines (or as a log line).
    pub fn println(&self, msg: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("deep-review: {}", crate::secrets::mask(msg)));
            }
            None => log(msg),
        }
    }

    pub fn finish(&mut self) {
        for line in self.lines.values() {
            if let Some(bar) = &line.bar {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}

fn running_message(line: &Line) -> String {
    let mut s = format!(
        "running {}",
        crate::util::human_duration(line.started.elapsed())
    );
    if line.tools > 0 {
        s.push_str(&format!(
            " · {} tool call{}",
            line.tools,
            if line.tools == 1 { "" } else { "s" }
        ));
    }
    s
}

/// A plain log line on stderr, masked like everything deep-review writes. A stderr that is
/// gone (the terminal closed: SIGHUP) is not a reason to panic and lose the review; the line
/// is dropped.
pub fn log(msg: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "deep-review: {}",
        crate::secrets::mask(msg)
    );
}
