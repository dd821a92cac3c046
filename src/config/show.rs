//! `deep-review config show`: the merged configuration, each value with where it came from
//! (default, user config file, repository `.deep-review.toml`, environment, flag).

use super::FileConfig;
use super::Overrides;
use super::FILE_NAME;
use crate::agent::AgentKind;
use crate::errors::Result;
use std::path::Path;

/// Where one value came from.
#[derive(Debug, Clone)]
enum Source {
    Default(&'static str),
    User,
    Repo,
    Env(String),
    Flag(&'static str),
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::Default("") => "default".into(),
            Source::Default(why) => format!("default ({why})"),
            Source::User => "user config file".into(),
            Source::Repo => format!("repository {FILE_NAME}"),
            Source::Env(var) => format!("environment ({var})"),
            Source::Flag(flag) => format!("flag {flag}"),
        }
    }
}

/// The two files, each as read (absent when missing).
struct Files {
    user: Option<FileConfig>,
    repo: Option<FileConfig>,
}

impl Files {
    /// The repository's value if it sets one, else the user's.
    fn pick<T>(&self, get: impl Fn(&FileConfig) -> Option<T>) -> Option<(T, Source)> {
        if let Some(v) = self.repo.as_ref().and_then(&get) {
            return Some((v, Source::Repo));
        }
        self.user.as_ref().and_then(&get).map(|v| (v, Source::User))
    }
}

struct Table {
    rows: Vec<[String; 3]>,
}

impl Table {
    fn row(&mut self, key: &str, value: String, source: &Source) {
        self.rows.push([key.to_string(), value, source.label()]);
    }
}

pub fn show(root: &Path, flags: &Overrides) -> Result<String> {
    // Loaded first: an invalid file is reported as `review` would report it.
    let cfg = super::load(root, None, flags)?;
    let user_path = super::user_config_path();
    let repo_path = root.join(FILE_NAME);
    let files = Files {
        user: match &user_path {
            Some(p) => super::read_file(p)?,
            None => None,
        },
        repo: super::read_file(&repo_path)?,
    };
    let mut out = String::from("Files read, in order (the repository's settings win):\n");
    let user_source = if std::env::var_os("DEEP_REVIEW_CONFIG").is_some() {
        "named by DEEP_REVIEW_CONFIG"
    } else {
        "the default place"
    };
    out.push_str(&file_line(
        "user config file",
        user_path.as_deref(),
        files.user.is_some(),
        user_source,
    ));
    out.push_str(&file_line(
        &format!("repository {FILE_NAME}"),
        Some(&repo_path),
        files.repo.is_some(),
        "the repository's top folder",
    ));
    out.push('\n');

    let mut t = Table { rows: Vec::new() };
    review_rows(&mut t, &cfg, &files, flags);
    consolidate_rows(&mut t, &cfg, &files);
    agent_rows(&mut t, &cfg, &files, flags, root);
    out.push_str("| Setting | Value | From |\n|---|---|---|\n");
    for [k, v, s] in &t.rows {
        out.push_str(&format!("| {k} | {} | {s} |\n", v.replace('|', "\\|")));
    }
    Ok(out)
}

fn file_line(what: &str, path: Option<&Path>, read: bool, why: &str) -> String {
    match path {
        Some(p) => format!(
            "- {what}: {} ({why}; {})\n",
            p.display(),
            if read { "read" } else { "not found" }
        ),
        None => format!(
            "- {what}: none (neither DEEP_REVIEW_CONFIG, XDG_CONFIG_HOME nor HOME is set)\n"
        ),
    }
}

fn review_rows(t: &mut Table, cfg: &super::Config, files: &Files, flags: &Overrides) {
    let names = cfg
        .agents
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let source = match &flags.agents {
        Some(_) => Source::Flag("--agents"),
        None => files
            .pick(|f| f.review.agents.clone())
            .map(|(_, s)| s)
            .unwrap_or(Source::Default("every defined reviewer that can run here")),
    };
    t.row("review.agents", names, &source);
    let judge = cfg.judge.as_ref().map(|j| j.name.clone());
    let source = match &flags.judge {
        Some(_) => Source::Flag("--judge"),
        None => files
            .pick(|f| f.review.judge.clone())
            .map(|(_, s)| s)
            .unwrap_or(Source::Default("")),
    };
    t.row(
        "review.judge",
        judge.unwrap_or_else(|| "none".into()),
        &source,
    );
    let (timeout, source) = match (flags.timeout, files.pick(|f| f.review.timeout.clone())) {
        (Some(d), _) => (d, Source::Flag("--timeout")),
        (None, Some((_, s))) => (
            cfg.defined
                .iter()
                .find(|a| a.kind == AgentKind::Builtin)
                .map(|a| a.timeout)
                .unwrap_or(super::DEFAULT_TIMEOUT),
            s,
        ),
        (None, None) => (super::DEFAULT_TIMEOUT, Source::Default("")),
    };
    t.row("review.timeout", duration(timeout), &source);
    let source = match flags.fail_on {
        Some(_) => Source::Flag("--fail-on"),
        None => files
            .pick(|f| f.review.fail_on.clone())
            .map(|(_, s)| s)
            .unwrap_or(Source::Default("")),
    };
    t.row(
        "review.fail_on",
        cfg.fail_on
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "none (exit 0 whatever is found)".into()),
        &source,
    );
    let budget = |get: fn(&FileConfig) -> Option<String>| {
        files
            .pick(get)
            .unwrap_or_else(|| ("none".into(), Source::Default("")))
    };
    let (v, s) = budget(|f| f.review.max_tokens.map(|n| n.to_string()));
    t.row("review.max_tokens", v, &s);
    let (v, s) = budget(|f| f.review.max_cost_usd.map(|n| format!("${n}")));
    t.row("review.max_cost_usd", v, &s);
}

fn consolidate_rows(t: &mut Table, cfg: &super::Config, files: &Files) {
    let c = &cfg.consolidate;
    let source = |set: fn(&FileConfig) -> bool| {
        files
            .pick(|f| set(f).then_some(()))
            .map(|(_, s)| s)
            .unwrap_or(Source::Default(""))
    };
    t.row(
        "consolidate.severity_policy",
        format!("{:?}", c.severity_policy).to_lowercase(),
        &source(|f| f.consolidate.severity_policy.is_some()),
    );
    t.row(
        "consolidate.agreement_fraction",
        c.agreement_fraction.to_string(),
        &source(|f| f.consolidate.agreement_fraction.is_some()),
    );
    t.row(
        "consolidate.merge_threshold",
        c.merge_threshold.to_string(),
        &source(|f| f.consolidate.merge_threshold.is_some()),
    );
}

fn agent_rows(t: &mut Table, cfg: &super::Config, files: &Files, flags: &Overrides, root: &Path) {
    let review_timeout = files.pick(|f| f.review.timeout.clone()).map(|(_, s)| s);
    for a in &cfg.defined {
        let key = |field: &str| format!("agents.{}.{field}", a.name);
        let table = files.pick(|f| f.agents.get(&a.name).map(|_| ()));
        let defined_by = match &table {
            Some((_, s)) => s.clone(),
            None if a.kind == AgentKind::Builtin => Source::Default("always defined"),
            None => Source::Default("an agent CLI, defined under its own name"),
        };
        t.row(&key("kind"), a.kind.as_str().into(), &defined_by);
        if !a.command.is_empty() {
            t.row(&key("command"), a.command.join(" "), &defined_by);
        }
        if a.kind.is_http() {
            use crate::agent::http::settings;
            let url = settings::base_url(a);
            let shown = crate::secrets::mask(&crate::secrets::mask_url_userinfo(&url)).into_owned();
            t.row(&key("base_url"), shown, &defined_by);
            let var = settings::key_env(a);
            let set = std::env::var(&var).is_ok_and(|v| !v.trim().is_empty());
            t.row(
                &key("api key"),
                if set { "set" } else { "not set" }.into(),
                &Source::Env(var),
            );
        } else if a.kind != AgentKind::Builtin {
            let adapter = crate::agent::adapter::for_kind(a.kind);
            if let Some(p) = adapter.program(a) {
                let found = match super::resolve_program(&p, root) {
                    Some(path) => format!("found: {}", path.display()),
                    None => format!("`{p}` not found"),
                };
                let src = if p.contains('/') {
                    defined_by.clone()
                } else {
                    Source::Env("PATH".into())
                };
                t.row(&key("program"), found, &src);
            }
        }
        if let Some(m) = &a.model {
            t.row(&key("model"), m.clone(), &defined_by);
        }
        if let Some(e) = &a.effort {
            t.row(&key("effort"), e.clone(), &defined_by);
        }
        let own_timeout = files
            .pick(|f| {
                f.agents
                    .get(&a.name)
                    .filter(|x| x.has_timeout())
                    .map(|_| ())
            })
            .map(|(_, s)| s);
        let source = match (flags.timeout, own_timeout, &review_timeout) {
            (Some(_), _, _) => Source::Flag("--timeout"),
            (None, Some(s), _) => s,
            (None, None, Some(s)) => s.clone(),
            (None, None, None) => Source::Default(""),
        };
        t.row(&key("timeout"), duration(a.timeout), &source);
        let runs = cfg.agents.iter().any(|x| x.name == a.name);
        let source = match &flags.agents {
            Some(_) => Source::Flag("--agents"),
            None => files
                .pick(|f| f.review.agents.clone())
                .map(|(_, s)| s)
                .unwrap_or(Source::Default("when it can run here")),
        };
        t.row(
            &key("runs by default"),
            if runs { "yes" } else { "no" }.into(),
            &source,
        );
    }
}

/// As the files write it: 90s → "1m 30s", 20 minutes → "20m".
fn duration(d: std::time::Duration) -> String {
    humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string()
}
