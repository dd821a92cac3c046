//! `deep-review context`: list the notes, apply a review's proposals, add or remove a note.
//!
//! Every command edits the working tree's `.deep-review/context.md` (through
//! [`super::store::save`]: masked, written whole) and says to commit it, since reviews read
//! the notes committed on the base branch.

use super::notes::Note;
use super::notes::Notes;
use super::notes::Provenance;
use super::proposals;
use super::store;
use super::store::FILE;
use crate::cli::ContextArgs;
use crate::cli::ContextCommand;
use crate::errors::exit_codes;
use crate::errors::Error;
use crate::errors::Result;
use crate::git::Repo;
use crate::review::Review;
use std::io::IsTerminal;
use std::path::Path;
use std::path::PathBuf;

/// What a `context` command prints on stdout and exits with.
pub struct Output {
    pub report: String,
    pub exit_code: i32,
}

impl Output {
    fn ok(report: String) -> Output {
        Output {
            report,
            exit_code: exit_codes::OK,
        }
    }
}

const COMMIT_HINT: &str =
    "commit .deep-review/context.md: reviews read the notes committed on the base branch";

pub fn run(args: ContextArgs) -> Result<Output> {
    let repo = Repo::discover(&args.repo)?;
    match args.command {
        None => list(&repo),
        Some(ContextCommand::Apply { review, yes }) => apply(&repo, &review, yes),
        Some(ContextCommand::Add { text }) => add(&repo, &text.join(" ")),
        Some(ContextCommand::Remove { number }) => remove(&repo, number),
    }
}

fn list(repo: &Repo) -> Result<Output> {
    let (notes, _) = store::working(repo)?;
    if notes.is_empty() {
        return Ok(Output::ok(format!(
            "No notes in {FILE} yet. Add one with `deep-review context add TEXT`, or keep a review's proposals with `deep-review context apply latest`.\n"
        )));
    }
    if store::has_uncommitted_changes(repo) {
        crate::progress::log(&format!(
            "{FILE} has changes that are not committed; reviews read the committed notes"
        ));
    }
    let n = notes.len();
    let mut out = format!("{FILE}: {n} note{}\n\n", if n == 1 { "" } else { "s" });
    for (i, note) in notes.notes().enumerate() {
        out.push_str(&numbered(i + 1, note));
    }
    Ok(Output::ok(out))
}

/// `N. text`, continuation lines and the provenance indented under it.
pub fn numbered(n: usize, note: &Note) -> String {
    let pad = " ".repeat(format!("{n}. ").len());
    let mut out = String::new();
    for (i, line) in note.text.lines().enumerate() {
        match (i, line.is_empty()) {
            (0, _) => out.push_str(&format!("{n}. {line}\n")),
            (_, true) => out.push('\n'),
            _ => out.push_str(&format!("{pad}{line}\n")),
        }
    }
    if let Some(p) = &note.provenance {
        out.push_str(&format!("{pad}{p}\n"));
    }
    out
}

fn add(repo: &Repo, text: &str) -> Result<Output> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Usage(
            "the note is empty; pass its text: `deep-review context add \"Migrations need a down step.\"`".into(),
        ));
    }
    let (mut notes, _) = store::working(repo)?;
    if let Some(i) = notes.find(text) {
        return Ok(Output::ok(format!(
            "Note {} already says that; nothing changed.\n",
            i + 1
        )));
    }
    let by = repo
        .git(&["config", "user.name"])
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "hand".to_string());
    let note = Note {
        text: text.to_string(),
        provenance: Some(Provenance {
            review: None,
            by,
            date: chrono::Local::now().format("%Y-%m-%d").to_string(),
        }),
    };
    notes.push(note);
    warn_if_masked(&notes);
    store::save(repo, &notes)?;
    let saved = Notes::parse(&store::to_write(&notes));
    let last = saved.notes().last().cloned().unwrap_or(Note {
        text: text.to_string(),
        provenance: None,
    });
    crate::progress::log(COMMIT_HINT);
    Ok(Output::ok(format!(
        "Added to {FILE}:\n\n{}",
        numbered(saved.len(), &last)
    )))
}

fn remove(repo: &Repo, number: usize) -> Result<Output> {
    let (mut notes, _) = store::working(repo)?;
    let count = notes.len();
    if number == 0 || number > count {
        let have = match count {
            0 => "has no notes".to_string(),
            1 => "has 1 note (number 1)".to_string(),
            n => format!("has {n} notes (numbers 1 to {n})"),
        };
        return Err(Error::Usage(format!(
            "there is no note {number}: {FILE} {have}; list them with `deep-review context`"
        )));
    }
    let gone = notes.remove(number - 1).expect("checked above");
    store::save(repo, &notes)?;
    crate::progress::log(COMMIT_HINT);
    Ok(Output::ok(format!(
        "Removed from {FILE}:\n\n{}",
        numbered(number, &gone)
    )))
}

fn apply(repo: &Repo, which: &str, yes: bool) -> Result<Output> {
    let file = resolve_review(repo, which)?;
    let review = read_review(&file)?;
    let (notes, before) = store::working(repo)?;
    let plan = proposals::plan(&notes, &review);
    let mut report = String::new();
    for s in &plan.skipped {
        report.push_str(&format!("skipped: {s}\n"));
    }
    if plan.is_empty() {
        report.push_str(&format!(
            "Review {} proposes no change to {FILE}.\n",
            review.id
        ));
        return Ok(Output::ok(report));
    }
    let mut after = notes.clone();
    plan.apply(&mut after);
    let diff = diff(&before, &store::to_write(&after));
    report.push_str(&diff);
    let summary = format!(
        "{} addition{} and {} removal{} proposed by review {}",
        plan.add.len(),
        if plan.add.len() == 1 { "" } else { "s" },
        plan.remove.len(),
        if plan.remove.len() == 1 { "" } else { "s" },
        review.id
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            crate::progress::log(&format!(
                "not applied: {summary}; there is no terminal to ask on, so rerun with --yes to apply them"
            ));
            return Ok(Output {
                report,
                exit_code: exit_codes::ERROR,
            });
        }
        if !confirm(&report, &summary)? {
            crate::progress::log(&format!("not applied; {FILE} is unchanged"));
            return Ok(Output::ok(String::new()));
        }
        // The diff was just shown with the question; the report need not repeat it.
        report.truncate(report.len() - diff.len());
    }
    warn_if_masked(&after);
    let path = store::save(repo, &after)?;
    crate::progress::log(&format!("applied to {}; {COMMIT_HINT}", path.display()));
    if !report.is_empty() {
        report.push('\n');
    }
    report.push_str(&format!("Applied: {summary}.\n"));
    Ok(Output::ok(report))
}

/// Shows the diff on the terminal and asks; true on `y` or `yes`.
fn confirm(diff: &str, summary: &str) -> Result<bool> {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "{}\n{summary}. Apply to {FILE}? [y/N] ",
        crate::progress::inert(&crate::secrets::mask(diff))
    );
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::io("read the answer from", "stdin", e))?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn warn_if_masked(notes: &Notes) {
    if store::to_write(notes) != notes.render() {
        crate::progress::log(
            "a note held what looks like a secret; it is written masked, as every file deep-review writes",
        );
    }
}

/// A unified diff of the notes file, `a/` before and `b/` after.
fn diff(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{FILE}"), &format!("b/{FILE}"))
        .to_string()
}

/// The review.json that `which` names: a path (review folder, round folder or file), `latest`
/// (the newest review.json under the repository's .deep-review/reviews), or a review's ID
/// there (optionally `ID/round-N`).
fn resolve_review(repo: &Repo, which: &str) -> Result<PathBuf> {
    let reviews = repo.root.join(".deep-review").join("reviews");
    if which == "latest" {
        return latest(&reviews).ok_or_else(|| {
            Error::Usage(format!(
                "no review yet in {}; run `deep-review review` first, or pass a review folder",
                reviews.display()
            ))
        });
    }
    let given = Path::new(which);
    if given.exists() {
        return crate::review_folder::find_review_json(given);
    }
    let by_id = reviews.join(which);
    if !which.contains("..") && !given.is_absolute() && by_id.exists() {
        return crate::review_folder::find_review_json(&by_id);
    }
    Err(Error::Usage(format!(
        "`{which}` is neither a review folder, a review.json, a review ID in {} nor `latest`",
        reviews.display()
    )))
}

/// The most recently written `<reviews>/*/round-*/review.json`.
fn latest(reviews: &Path) -> Option<PathBuf> {
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for review in std::fs::read_dir(reviews).ok()?.flatten() {
        for round in std::fs::read_dir(review.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let file = round.path().join("review.json");
            if let Ok(at) = std::fs::metadata(&file).and_then(|m| m.modified()) {
                found.push((at, file));
            }
        }
    }
    found.into_iter().max().map(|(_, p)| p)
}

fn read_review(file: &Path) -> Result<Review> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
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
    Ok(review)
}
