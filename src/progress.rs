//! The one consumer of [`RunEvent`]s: live progress on stderr, and every log line.
//!
//! On a terminal, one line per agent (state, elapsed time, tool calls and tokens so far)
//! redrawn in place. Elsewhere (CI, pipes, tests), plain log lines, one per lifecycle step.
//! `--quiet` keeps only errors; `--verbose` adds each agent's activity as it streams (its tool
//! calls with their targets, its token counts). Colour and live lines only on a terminal,
//! unless `CLICOLOR_FORCE` is set; `NO_COLOR` turns colour off whatever else is set. Never
//! writes to stdout, which belongs to the report.

use crate::events::RunEvent;
use crate::record::Tokens;
use indicatif::MultiProgress;
use indicatif::ProgressBar;
use indicatif::ProgressDrawTarget;
use indicatif::ProgressStyle;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;
use std::time::Instant;

mod forced;

/// How much deep-review says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    Normal,
    /// Each agent's tool calls (with their targets) and token counts too.
    Verbose,
}

/// How stderr is written: decided once, from the flags, the environment and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    pub verbosity: Verbosity,
    /// ANSI colours and styles.
    pub colour: bool,
    /// Live lines redrawn in place (else plain log lines).
    pub live: bool,
    /// Live lines and colour though stderr is not a terminal (`CLICOLOR_FORCE`).
    pub forced: bool,
}

impl Output {
    /// The decision for `verbosity`, given whether stderr is a terminal and the environment
    /// (`NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `DEEP_REVIEW_PROGRESS`).
    pub fn decide(
        verbosity: Verbosity,
        terminal: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Output {
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        let forced = env("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
        let clicolor_off = env("CLICOLOR").is_some_and(|v| v == "0");
        let plain = env("DEEP_REVIEW_PROGRESS").is_some_and(|v| v == "plain");
        Output {
            verbosity,
            colour: !set("NO_COLOR") && (forced || (terminal && !clicolor_off)),
            live: verbosity > Verbosity::Quiet && (terminal || forced) && !plain,
            forced: forced && !terminal,
        }
    }
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Decides how stderr is written for this process (once; later calls keep the first).
pub fn init(verbosity: Verbosity) -> Output {
    *OUTPUT.get_or_init(|| {
        let o = Output::decide(verbosity, std::io::stderr().is_terminal(), |k| {
            std::env::var(k).ok()
        });
        // indicatif styles through `console`, which otherwise decides colour by itself.
        console::set_colors_enabled(o.colour);
        console::set_colors_enabled_stderr(o.colour);
        o
    })
}

/// The decision made by [`init`]; before it (library use, unit tests), plain and normal.
pub fn output() -> Output {
    OUTPUT.get().copied().unwrap_or(Output {
        verbosity: Verbosity::Normal,
        colour: false,
        live: false,
        forced: false,
    })
}

struct Line {
    bar: Option<ProgressBar>,
    started: Instant,
    tools: u32,
    tokens: Option<Tokens>,
}

pub struct Progress {
    multi: Option<MultiProgress>,
    lines: BTreeMap<String, Line>,
    width: usize,
    out: Output,
}

impl Progress {
    /// Live lines when [`output`] says so (stderr is a terminal, or `CLICOLOR_FORCE`), unless
    /// `--quiet` or `DEEP_REVIEW_PROGRESS=plain`.
    pub fn new(agent_names: &[String]) -> Progress {
        let out = output();
        let multi = out.live.then(|| {
            MultiProgress::with_draw_target(if out.forced {
                ProgressDrawTarget::term_like(Box::new(forced::Stderr))
            } else {
                ProgressDrawTarget::stderr()
            })
        });
        let width = agent_names.iter().map(|n| n.len()).max().unwrap_or(8);
        let mut lines = BTreeMap::new();
        for name in agent_names {
            let bar = multi.as_ref().map(|m| {
                let b = m.add(ProgressBar::new_spinner());
                b.set_style(style(out.colour, "{spinner:.cyan} {prefix:.bold} {msg}"));
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
                    tokens: None,
                },
            );
        }
        Progress {
            multi,
            lines,
            width,
            out,
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
        let verbose = self.out.verbosity >= Verbosity::Verbose;
        let quiet = self.out.verbosity == Verbosity::Quiet;
        let mut say = None;
        match event {
            RunEvent::AgentStarted { agent } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    line.started = Instant::now();
                    match &line.bar {
                        Some(bar) => bar.set_message(running_message(line)),
                        None if !quiet => say = Some(format!("{agent}: started")),
                        None => {}
                    }
                }
            }
            RunEvent::ToolCall {
                agent,
                tool,
                target,
            } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    line.tools += 1;
                    if let Some(bar) = &line.bar {
                        bar.set_message(running_message(line));
                    }
                    if verbose {
                        say = Some(match target {
                            Some(t) => format!("{agent}: {tool} {}", one_line(t, 160)),
                            None => format!("{agent}: {tool}"),
                        });
                    }
                }
            }
            RunEvent::Tokens { agent, tokens } => {
                if let Some(line) = self.lines.get_mut(agent) {
                    line.tokens = Some(tokens.clone());
                    if let Some(bar) = &line.bar {
                        bar.set_message(running_message(line));
                    }
                    if verbose {
                        say = Some(format!("{agent}: {}", tokens_text(tokens)));
                    }
                }
            }
            RunEvent::AgentFinished { agent, ok, summary } => {
                if let Some(line) = self.finished(agent, *ok, summary) {
                    self.println_painted(&line);
                }
            }
        }
        if let Some(msg) = say {
            self.println(&msg);
        }
    }

    /// Ends an agent's live line; returns the log line to print when there is none (masked,
    /// inert, painted).
    fn finished(&mut self, agent: &str, ok: bool, summary: &str) -> Option<String> {
        let line = self.lines.get_mut(agent)?;
        let elapsed = crate::util::human_duration(line.started.elapsed());
        let state = if ok { "done" } else { "failed" };
        let summary = crate::secrets::mask(summary);
        let text = format!("{state} in {elapsed}: {}", inert(&summary));
        let Some(bar) = &line.bar else {
            if self.out.verbosity == Verbosity::Quiet {
                return None;
            }
            let paint = if ok { green } else { red };
            return Some(format!(
                "{agent}: {}{}",
                paint(state, self.out.colour),
                &text[state.len()..]
            ));
        };
        bar.set_style(style(
            self.out.colour,
            if ok {
                "{prefix:.bold} {msg:.green}"
            } else {
                "{prefix:.bold} {msg:.red}"
            },
        ));
        bar.set_prefix(format!(
            "{} {agent:<w$}",
            if ok { "✓" } else { "✗" },
            w = self.width
        ));
        bar.finish_with_message(text);
        None
    }

    /// Prints a message above the live lines (or as a log line); nothing with `--quiet`.
    pub fn println(&self, msg: &str) {
        self.println_painted(&inert(&crate::secrets::mask(msg)));
    }

    /// [`Self::println`] of a message already masked and made inert, with our colours.
    fn println_painted(&self, msg: &str) {
        if self.out.verbosity == Verbosity::Quiet {
            return;
        }
        match &self.multi {
            Some(m) => {
                let _ = m.println(format!("deep-review: {msg}"));
            }
            None => write_line(msg),
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
        // indicatif leaves the cursor at the end of the last line it drew: what is written
        // next starts on a line of its own.
        if self.multi.take().is_some() && self.lines.values().any(|l| l.bar.is_some()) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

/// A template with its style specs (`{msg:.green}`) only when colour is on.
fn style(colour: bool, template: &str) -> ProgressStyle {
    let template = if colour {
        template.to_string()
    } else {
        unstyled(template)
    };
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// `{name:.style}` → `{name}`.
fn unstyled(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let field = &rest[open + 1..open + close];
        out.push('{');
        out.push_str(field.split(':').next().unwrap_or(field));
        out.push('}');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
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
    if let Some(t) = &line.tokens {
        s.push_str(&format!(" · {} tokens", count(t.input + t.output)));
    }
    s
}

/// "12.3k tokens in (8.0k cached), 1.2k out".
fn tokens_text(t: &Tokens) -> String {
    let cached = if t.cached > 0 {
        format!(" ({} cached)", count(t.cached))
    } else {
        String::new()
    };
    format!(
        "{} tokens in{cached}, {} out",
        count(t.input),
        count(t.output)
    )
}

/// 950, 12.3k, 4.1M.
fn count(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// `text` on one line, at most `max` characters (an agent's command can be long). Its
/// control characters are made inert where it is printed ([`inert`]).
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

fn green(s: &str, colour: bool) -> String {
    paint(s, "32", colour)
}

fn red(s: &str, colour: bool) -> String {
    paint(s, "31", colour)
}

fn paint(s: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The one line that names the reviewers that could not run here (instead of one line each):
/// `deep-review agents` says why and how to enable each. None when every reviewer can run.
pub fn unavailable_line<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let names: Vec<&str> = names.into_iter().collect();
    (!names.is_empty()).then(|| {
        format!(
            "not available here: {}; run `deep-review agents` to see why and how to enable each",
            names.join(", ")
        )
    })
}

/// A plain log line on stderr, masked like everything deep-review writes; nothing with
/// `--quiet`. A stderr that is gone (the terminal closed: SIGHUP) is not a reason to panic
/// and lose the review; the line is dropped.
pub fn log(msg: &str) {
    if output().verbosity == Verbosity::Quiet {
        return;
    }
    write_line(&inert(&crate::secrets::mask(msg)));
}

/// `text` with its control characters other than newline and tab (ESC, BEL, CR, the C1
/// CSI) written as escapes: file names, commands and messages from the change or an agent
/// cannot drive the terminal. deep-review's own colours are added after.
pub fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    let live = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(live) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match live(c) {
            true => out.extend(c.escape_default()),
            false => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// An error on stderr, masked; printed whatever the verbosity.
pub fn error(msg: &str) {
    let colour = output().colour;
    write_line(&format!(
        "{} {}",
        paint("error:", "1;31", colour),
        inert(&crate::secrets::mask(msg))
    ));
}

fn write_line(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "deep-review: {msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(v: Verbosity, terminal: bool, vars: &[(&str, &str)]) -> Output {
        Output::decide(v, terminal, |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn colour_and_live_lines_only_on_a_terminal_unless_forced_and_no_color_wins() {
        let n = Verbosity::Normal;
        let tty = decide(n, true, &[]);
        assert!(tty.colour && tty.live && !tty.forced);
        let pipe = decide(n, false, &[]);
        assert!(!pipe.colour && !pipe.live);
        let forced = decide(n, false, &[("CLICOLOR_FORCE", "1")]);
        assert!(forced.colour && forced.live && forced.forced);
        assert!(!decide(n, false, &[("CLICOLOR_FORCE", "0")]).colour);
        let both = decide(n, false, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
        assert!(!both.colour && both.live);
        assert!(!decide(n, true, &[("NO_COLOR", "1")]).colour);
        // An empty NO_COLOR is not set (no-color.org).
        assert!(decide(n, true, &[("NO_COLOR", "")]).colour);
        assert!(!decide(n, true, &[("CLICOLOR", "0")]).colour);
        assert!(!decide(n, true, &[("DEEP_REVIEW_PROGRESS", "plain")]).live);
        assert!(!decide(Verbosity::Quiet, true, &[]).live);
    }

    #[test]
    fn control_characters_from_outside_are_printed_as_escapes() {
        assert_eq!(
            inert("a\u{1b}]0;t\u{7}b\u{9b}2J\r\n\tc"),
            "a\\u{1b}]0;t\\u{7}b\\u{9b}2J\\r\n\tc"
        );
        assert!(matches!(inert("plain\n"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn templates_lose_their_styles_without_colour() {
        assert_eq!(
            unstyled("{spinner:.cyan} {prefix:.bold} {msg}"),
            "{spinner} {prefix} {msg}"
        );
        assert_eq!(count(950), "950");
        assert_eq!(count(12_345), "12.3k");
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(unavailable_line([]), None);
        assert_eq!(
            unavailable_line(["claude", "codex"]).unwrap(),
            "not available here: claude, codex; run `deep-review agents` to see why and how to enable each"
        );
    }
}
