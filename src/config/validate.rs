//! `deep-review config validate`: each file parsed and checked alone, then both together (the
//! agents, the judge, durations and policies), as a review would load them. Every problem
//! names its file and line and says what to do; the exit code is 0 or 2.

use super::FileConfig;
use super::Overrides;
use super::FILE_NAME;
use crate::errors::exit_codes;
use crate::errors::Error;
use std::path::Path;
use std::path::PathBuf;

/// The report (each file and its state) and the exit code; the problems go to stderr.
pub fn validate(root: &Path) -> (String, i32) {
    let mut report = String::new();
    let mut problems = 0;
    let mut texts: Vec<(PathBuf, String)> = Vec::new();
    let files = [
        ("user config file", super::user_config_path()),
        ("repository file", Some(root.join(FILE_NAME))),
    ];
    for (what, path) in files {
        let Some(path) = path else { continue };
        match parse_alone(&path) {
            Alone::Missing => report.push_str(&format!(
                "{what} {}: not found (optional)\n",
                path.display()
            )),
            Alone::Parsed(text) => {
                report.push_str(&format!("{what} {}: parsed\n", path.display()));
                texts.push((path, text));
            }
            Alone::Invalid => problems += 1,
        }
    }
    if problems == 0 {
        // Both together, as `review` loads them: every check that needs the merged result.
        match super::load(root, None, &Overrides::default()) {
            Ok(cfg) => report.push_str(&format!(
                "valid: {} reviewer{} defined ({}); by default {} run{}\n",
                cfg.defined.len(),
                if cfg.defined.len() == 1 { "" } else { "s" },
                cfg.defined
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                cfg.agents
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if cfg.agents.len() == 1 { "s" } else { "" },
            )),
            Err(e) => {
                let (path, message) = match e {
                    Error::Config { path, message } => (Some(path), message),
                    // Unknown agents or judge: [review] of whichever file names them.
                    other => (review_file(&texts), other.to_string()),
                };
                let line = path.as_ref().and_then(|p| {
                    let text = &texts.iter().find(|(q, _)| q == p)?.1;
                    locate(text, &key_of(&message)?)
                });
                match &path {
                    Some(p) => problem(p, line, &message),
                    None => crate::progress::error(&message),
                }
                problems += 1;
            }
        }
    }
    if problems > 0 {
        report.push_str("invalid: see the errors above\n");
        return (report, exit_codes::ERROR);
    }
    (report, exit_codes::OK)
}

enum Alone {
    Missing,
    Parsed(String),
    /// Said on stderr.
    Invalid,
}

/// One file read and parsed on its own: its syntax and its keys.
fn parse_alone(path: &Path) -> Alone {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Alone::Missing,
        Err(e) => {
            problem(path, None, &format!("cannot be read ({e})"));
            return Alone::Invalid;
        }
    };
    match toml::from_str::<FileConfig>(&text) {
        Ok(_) => Alone::Parsed(text),
        Err(e) => {
            let line = e.span().map(|s| super::line_of(&text, s.start));
            problem(path, line, e.message().trim());
            Alone::Invalid
        }
    }
}

fn problem(path: &Path, line: Option<usize>, message: &str) {
    let at = line.map(|l| format!(", line {l}")).unwrap_or_default();
    crate::progress::error(&format!(
        "{}{at}: {}; fix it there, then run `deep-review config validate` again",
        path.display(),
        message.replace('\n', "; ").trim_end_matches('.')
    ));
}

/// The file whose `[review]` names the agents and the judge: the repository's when it sets
/// either, else the user's.
fn review_file(texts: &[(PathBuf, String)]) -> Option<PathBuf> {
    let sets = |t: &str| locate(t, "review.agents").or_else(|| locate(t, "review.judge"));
    texts
        .iter()
        .rev()
        .find(|(_, t)| sets(t).is_some())
        .map(|(p, _)| p.clone())
}

/// The dotted key a message starts with (`agents.x.kind: …`), or `review.agents` /
/// `review.judge` for the selection's errors.
fn key_of(message: &str) -> Option<String> {
    if message.starts_with("unknown agent") || message.contains("--agents") {
        return Some("review.agents".into());
    }
    if message.contains("judge") && !message.contains('.') {
        return Some("review.judge".into());
    }
    let key: String = message
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    (key.contains('.') || message[key.len()..].starts_with(':')).then_some(key)
}

/// The line of a dotted key (`review.timeout`, `agents.x.kind`) in a TOML text; for a key
/// that is not written out, its nearest table (`agents.x`).
fn locate(text: &str, key: &str) -> Option<usize> {
    let want: Vec<&str> = key.split('.').collect();
    for n in (1..=want.len()).rev() {
        if let Some(line) = locate_exact(text, &want[..n]) {
            return Some(line);
        }
    }
    None
}

fn locate_exact(text: &str, want: &[&str]) -> Option<usize> {
    let mut table: Vec<String> = Vec::new();
    let split = |s: &str| -> Vec<String> {
        s.split('.')
            .map(|p| p.trim().trim_matches('"').to_string())
            .collect()
    };
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('#') || l.is_empty() {
            continue;
        }
        if l.starts_with('[') {
            let inner = l.trim_start_matches('[');
            let inner = inner.split(']').next().unwrap_or("");
            table = split(inner);
            if table == want {
                return Some(i + 1);
            }
            continue;
        }
        if let Some((k, _)) = l.split_once('=') {
            let mut full = table.clone();
            full.extend(split(k));
            if full == want {
                return Some(i + 1);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_on_their_lines() {
        let text = "[review]\ntimeout = \"soon\"\n\n[agents.x]\n# a note\nkind = \"robot\"\n";
        assert_eq!(locate(text, "review.timeout"), Some(2));
        assert_eq!(locate(text, "agents.x.kind"), Some(6));
        assert_eq!(locate(text, "agents.x.command"), Some(4));
        assert_eq!(locate(text, "consolidate.merge_threshold"), None);
        assert_eq!(
            key_of("agents.x.kind: unknown kind `robot`").as_deref(),
            Some("agents.x.kind")
        );
        assert_eq!(
            key_of("unknown agent `y`; known agents: builtin").as_deref(),
            Some("review.agents")
        );
        assert_eq!(key_of("something else entirely"), None);
    }
}
