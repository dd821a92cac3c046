//! The commands that run no agent: `consolidate`, `render`, `schema`, `agents`, `completions`.

use crate::agent::AgentKind;
use crate::agent::AgentRun;
use crate::change::HeadFiles;
use crate::change::Repo;
use crate::change::TreeSource;
use crate::cli::AgentsArgs;
use crate::cli::ConsolidateArgs;
use crate::cli::RenderArgs;
use crate::consolidate;
use crate::errors::Error;
use crate::errors::Result;
use crate::finding;
use crate::report;
use crate::review::ChangeSummary;
use crate::review::Review;
use crate::run;
use std::path::Path;
use std::path::PathBuf;

/// Reads one `NAME=FILE` argument: findings JSON (schema 1), or a saved run.json.
pub fn load_agent_file(arg: &str) -> Result<AgentRun> {
    let (name, file) = arg.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--agent `{arg}`: expected NAME=FILE, e.g. --agent codex=codex.json"
        ))
    })?;
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Usage(format!(
            "--agent `{arg}`: the agent name is empty"
        )));
    }
    let path = PathBuf::from(file);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    // A saved run first (it has "outcome"), else an answer.
    if let Ok(mut run) = serde_json::from_str::<AgentRun>(&text) {
        run.name = name.to_string();
        return Ok(run);
    }
    let answer = finding::parse_answer(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; expected findings JSON (see `deep-review schema`) or a saved run.json",
            path.display()
        ))
    })?;
    let mut run = AgentRun::from_answer(name, answer);
    run.stdout_path = Some(path);
    Ok(run)
}

pub fn consolidate(args: ConsolidateArgs) -> Result<run::Outcome> {
    let started = std::time::Instant::now();
    let mut runs: Vec<AgentRun> = Vec::new();
    for a in &args.agents {
        let run = load_agent_file(a)?;
        if runs.iter().any(|r| r.name == run.name) {
            return Err(Error::Usage(format!("agent `{}` is given twice", run.name)));
        }
        runs.push(run);
    }
    let now = chrono::Local::now();
    // Citations are checked against the head's files; nothing else of the repository is needed.
    let (head_files, summary) = match &args.repo {
        Some(dir) => {
            let repo = Repo::discover(dir)?;
            let head = args.head.clone().unwrap_or_else(|| "HEAD".into());
            let head_sha = repo.resolve(&head)?;
            let name = repo
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let summary = ChangeSummary {
                head_ref: head,
                head_sha: head_sha.clone(),
                ..ChangeSummary::named(&name, "saved")
            };
            (
                Some(HeadFiles::new(repo, TreeSource::Commit(head_sha))),
                summary,
            )
        }
        None => (
            None,
            ChangeSummary {
                head_ref: args.head.clone().unwrap_or_default(),
                ..ChangeSummary::named("(saved answers)", "saved")
            },
        ),
    };
    let tree = head_files.as_ref().map(|h| h as &dyn consolidate::HeadTree);
    let review = consolidate::consolidate(
        consolidate::Input {
            judge: None,
            runs: &runs,
            tree,
            change: summary,
            unavailable: Vec::new(),
            id: format!("{}-consolidate", now.format("%Y%m%d-%H%M%S")),
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            wall_clock_ms: started.elapsed().as_millis() as u64,
            partial: false,
        },
        &consolidate::Options::default(),
    );
    Ok(run::Outcome {
        report: report::render(args.format, &review),
        exit_code: run::fail_on_code(&review, args.fail_on),
    })
}

pub use crate::review_folder::find_review_json;

pub fn render(args: RenderArgs) -> Result<String> {
    let file = find_review_json(&args.path)?;
    let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
    let review: Review = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not a deep-review review.json: {e}",
            file.display()
        ))
    })?;
    if review.version > crate::review::REVIEW_VERSION {
        return Err(Error::Usage(format!(
            "{} is review version {}; this deep-review reads up to version {}: upgrade deep-review",
            file.display(),
            review.version,
            crate::review::REVIEW_VERSION
        )));
    }
    Ok(report::render(args.format, &review))
}

pub fn schema() -> String {
    let mut s = serde_json::to_string_pretty(&finding::json_schema()).unwrap_or_default();
    s.push('\n');
    s
}

pub fn agents(args: AgentsArgs) -> Result<String> {
    let root = Repo::discover(&args.repo)
        .map(|r| r.root)
        .unwrap_or_else(|_| args.repo.clone());
    let cfg = crate::config::load(&root, None, &crate::config::Overrides::default())?;
    let mut out = String::from(
        "| Agent | Kind | Found | Version | Credentials | Model | Effort | Timeout | Runs by default |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for a in &cfg.defined {
        if a.kind.is_http() {
            out.push_str(&http_row(a, cfg.agents.iter().any(|x| x.name == a.name)));
            continue;
        }
        let adapter = crate::agent::adapter::for_kind(a.kind);
        let program = adapter.program(a);
        let found = program
            .as_deref()
            .map(|p| crate::config::resolve_program(p, &root));
        let (found_cell, version) = match (&program, &found) {
            (None, _) => (
                "built in".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (Some(_), Some(Some(path))) => (
                format!("`{}`", path.display()),
                if adapter.reports_version() {
                    version_of(path, &crate::agent::env::for_agent(a)).unwrap_or_else(|| "?".into())
                } else {
                    "—".into()
                },
            ),
            (Some(p), _) => (format!("no: `{p}` not found"), "—".into()),
        };
        let credentials = match adapter.credentials(a) {
            Some(h) => h,
            None if adapter.needs_credentials() => "none found".into(),
            None => "—".into(),
        };
        let default = cfg.agents.iter().any(|x| x.name == a.name);
        let model = a
            .model
            .clone()
            .unwrap_or_else(|| adapter.default_model().into());
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            a.name,
            a.kind.as_str(),
            found_cell,
            version,
            credentials,
            model,
            a.effort.as_deref().unwrap_or(if adapter.reports_version() {
                "default"
            } else {
                "—"
            }),
            crate::util::human_duration(a.timeout),
            if default { "yes" } else { "no" }
        ));
    }
    for u in cfg.unavailable.iter().filter(|u| u.name == "command") {
        out.push_str(&format!("\n{}: {}.\n", u.reason, u.hint));
    }
    out.push_str(&acp_presets());
    // Names only: the values may be secrets.
    out.push_str("\nEnvironment each agent receives (names only; nothing else is inherited):\n");
    for a in cfg.defined.iter().filter(|a| a.kind != AgentKind::Builtin) {
        if a.kind.is_http() {
            out.push_str(&format!(
                "- {}: none (runs inside deep-review; reads only {})\n",
                a.name,
                crate::agent::http::settings::key_env(a)
            ));
            continue;
        }
        let names: Vec<String> = crate::agent::env::for_agent(a).into_keys().collect();
        out.push_str(&format!("- {}: {}\n", a.name, names.join(", ")));
    }
    Ok(out)
}

/// The ACP presets, with whether each one's program is on PATH.
fn acp_presets() -> String {
    let mut out = String::from(
        "\nACP agents (kind = \"acp\", preset = \"NAME\"; deep-review serves their file reads inside the reviewed tree and refuses writes, terminals and permission requests):\n",
    );
    for p in crate::agent::acp::presets::PRESETS {
        let found = match crate::config::find_on_path(p.command[0]) {
            Some(path) => format!("found at `{}`", path.display()),
            None => format!("not found; {}", p.install),
        };
        out.push_str(&format!(
            "- {}: `{}` ({found}; verified: {})\n",
            p.name,
            p.command.join(" "),
            p.source
        ));
    }
    out
}

/// An HTTP reviewer's row: its endpoint for "found", which key variable (set or not, never
/// the value), its model.
fn http_row(a: &crate::agent::AgentSpec, default: bool) -> String {
    use crate::agent::http::settings;
    let api = match (a.kind, a.http.api) {
        (AgentKind::Openai, crate::agent::http::Api::Responses) => " (Responses API)",
        (AgentKind::Openai, _) => " (Chat Completions)",
        _ => "",
    };
    let tools = if a.http.no_tools { ", no tools" } else { "" };
    format!(
        "| {} | {} | HTTP: `{}`{api}{tools} | — | {} | {} | {} | {} | {} |\n",
        a.name,
        a.kind.as_str(),
        settings::base_url(a),
        settings::credentials(a),
        a.model.as_deref().unwrap_or("—"),
        a.effort.as_deref().unwrap_or("—"),
        crate::util::human_duration(a.timeout),
        if default { "yes" } else { "no" }
    )
}

/// `<program> --version`, first line, within five seconds, with the agent's own environment.
fn version_of(program: &Path, env: &std::collections::BTreeMap<String, String>) -> Option<String> {
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = String::new();
    use std::io::Read;
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

pub fn eval(args: crate::cli::EvalArgs) -> Result<String> {
    let text =
        std::fs::read_to_string(&args.dataset).map_err(|e| Error::io("read", &args.dataset, e))?;
    let data: crate::eval::Dataset = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not an eval dataset: {e}",
            args.dataset.display()
        ))
    })?;
    let mut opts = consolidate::Options::default();
    if let Some(t) = args.merge_threshold {
        opts.merge_threshold = t;
    }
    if let Some(f) = args.agreement_fraction {
        opts.agreement_fraction = f;
    }
    let all = data.tools();
    let mut subsets: Vec<String> = vec!["claude,gemini,coderabbit".into()];
    subsets.extend(args.subsets.iter().cloned());
    let mut plan = crate::eval::Plan {
        subsets: Vec::new(),
        opts,
        explain: args.explain,
        tune: match (args.tune_on, args.cross) {
            (Some(fold), _) => crate::eval::Tune::On(fold),
            (None, true) => crate::eval::Tune::Cross,
            (None, false) => crate::eval::Tune::None,
        },
    };
    for subset in &subsets {
        let tools: Vec<String> = subset
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(unknown) = tools.iter().find(|t| !all.contains(t)) {
            return Err(Error::Usage(format!(
                "--tools: `{unknown}` is not in the dataset; it has {}",
                all.join(", ")
            )));
        }
        plan.subsets.push(tools);
    }
    let started = std::time::Instant::now();
    let flag = if plan.tune == crate::eval::Tune::Cross {
        "--cross"
    } else {
        "--tune-on"
    };
    let rows =
        crate::eval::score(&data, &plan).map_err(|e| Error::Usage(format!("{flag}: {e}")))?;
    crate::progress::log(&format!(
        "scored {} configurations in {:.2}s",
        rows.len(),
        started.elapsed().as_secs_f64()
    ));
    if args.json {
        return Ok(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n");
    }
    Ok(crate::eval::render(&rows))
}

/// The completion script of `shell` for the whole command line.
pub fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::Cli::command(),
        "deep-review",
        &mut out,
    );
    String::from_utf8_lossy(&out).into_owned()
}
