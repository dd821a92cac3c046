//! The commit-structure assessment and its concerns.
//!
//! Ordinary histories stay quiet: a range of merged pull requests (GitHub's "Merge pull
//! request #N", merge queues, dependency bots) gets one observation for all its merge
//! commits, and subject and body style is judged only on commits a person wrote by hand.

use super::plural;
use crate::change::Commit;
use crate::finding::Observation;
use crate::finding::ObservationKind;
use crate::finding::Scope;

/// A commit touching more lines than this should explain itself in a body.
const NON_TRIVIAL_LINES: usize = 30;
const SUBJECT_MAX: usize = 72;
/// Commits named one by one in the assessment and in the merge observation.
const LISTED: usize = 10;

fn concern(title: String, body: String) -> Observation {
    Observation {
        kind: ObservationKind::Concern,
        title,
        body,
        scope: Some(Scope::InScope),
        locations: Vec::new(),
    }
}

/// Whether a bot wrote the commit (dependabot, renovate, GitHub Actions, …): its message is
/// generated, so its style is nobody's to fix.
fn by_bot(c: &Commit) -> bool {
    let name = c.author_name.to_ascii_lowercase();
    let email = c.author_email.to_ascii_lowercase();
    name.ends_with("[bot]")
        || email.contains("[bot]@")
        || [
            "dependabot",
            "renovate",
            "github-actions",
            "mergify",
            "bors",
        ]
        .iter()
        .any(|b| name.starts_with(b))
}

/// The first `LISTED` items joined with `sep`, then how many more there are.
fn listed(items: &[String], sep: &str) -> String {
    let mut text = items
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > LISTED {
        text.push_str(&format!("{sep}and {} more", items.len() - LISTED));
    }
    text
}

/// Returns the commit-structure assessment and its concerns.
pub(super) fn check_commits(commits: &[Commit]) -> (String, Vec<Observation>) {
    let mut tagged = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for c in commits.iter().filter(|c| c.parents <= 1) {
        style_of(c, &mut notes, &mut tagged);
    }
    let mut concerns = grouped(tagged);
    let merges: Vec<&Commit> = commits.iter().filter(|c| c.parents > 1).collect();
    if let Some(merge) = merge_concern(&merges) {
        notes.push(match merges.len() {
            1 => format!("{} is a merge commit", merges[0].short()),
            n => format!("{n} merge commits"),
        });
        concerns.push(merge);
    }
    let mut text = format!("{} commit{}", commits.len(), plural(commits.len()));
    if commits.is_empty() {
        text.push_str(" (uncommitted changes only).");
    } else {
        let subjects: Vec<String> = commits
            .iter()
            .map(|c| format!("{} {}", c.short(), c.subject))
            .collect();
        text.push_str(&format!(": {}.", listed(&subjects, "; ")));
    }
    if notes.is_empty() {
        if !commits.is_empty() {
            text.push_str(" Subjects are concise, non-trivial commits have bodies, and there are no fixup, WIP or merge commits.");
        }
    } else {
        text.push_str(&format!(" Structure: {}.", notes.join("; ")));
    }
    (text, concerns)
}

/// What is wrong with a commit's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Fixup,
    Wip,
    LongSubject,
    NoBody,
}

/// A concern about one commit: its kind, the commit's short SHA, the concern.
type Tagged = (Style, String, Observation);

/// Commits grouped with this many others of the same kind share one concern.
const GROUP_FROM: usize = 3;

/// The concerns in order, with each kind that [`GROUP_FROM`] or more commits share folded
/// into one: a long history gets one line per problem, not one per commit.
fn grouped(tagged: Vec<Tagged>) -> Vec<Observation> {
    let mut out = Vec::new();
    let mut done: Vec<Style> = Vec::new();
    for (style, _, _) in &tagged {
        if done.contains(style) {
            continue;
        }
        done.push(*style);
        let same: Vec<&Tagged> = tagged.iter().filter(|t| t.0 == *style).collect();
        if same.len() < GROUP_FROM {
            out.extend(same.into_iter().map(|t| t.2.clone()));
            continue;
        }
        let names: Vec<String> = same.iter().map(|t| t.1.clone()).collect();
        let (title, advice) = match style {
            Style::Fixup => ("unsquashed fixup commits", "squash them into their targets before merge (`git rebase -i --autosquash`)"),
            Style::Wip => ("work-in-progress commits", "squash or reword them so the history explains the change"),
            Style::LongSubject => ("commits with subjects over 72 characters", "keep subjects short so they read in `git log --oneline` and in GitHub's lists"),
            Style::NoBody => ("non-trivial commits without a message body", "say in each why the change is needed and how it works, for the next person who runs `git blame`"),
        };
        out.push(concern(
            format!("{} {title}", names.len()),
            format!("{}: {advice}.", listed(&names, ", ")),
        ));
    }
    out
}

/// The style of one commit that is not a merge: fixup and WIP commits always; subject length,
/// a trailing period and a missing body only when a person wrote it.
fn style_of(c: &Commit, notes: &mut Vec<String>, concerns: &mut Vec<Tagged>) {
    let s = c.subject.trim();
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("fixup!") || lower.starts_with("squash!") || lower.starts_with("amend!") {
        notes.push(format!(
            "{} is a `{}` commit",
            c.short(),
            s.split_whitespace().next().unwrap_or("")
        ));
        concerns.push((Style::Fixup, c.short().to_string(), concern(
            format!("Unsquashed fixup commit {}", c.short()),
            format!("`{s}` should be squashed into its target before merge (`git rebase -i --autosquash`)."),
        )));
    } else if lower.starts_with("wip")
        || lower.contains("[wip]")
        || lower == "tmp"
        || lower == "temp"
    {
        notes.push(format!("{} is a work-in-progress commit", c.short()));
        concerns.push((Style::Wip, c.short().to_string(), concern(
            format!("Work-in-progress commit {}", c.short()),
            format!("`{s}` reads as unfinished; squash or reword it so the history explains the change."),
        )));
    }
    if by_bot(c) {
        return;
    }
    let chars = s.chars().count();
    if chars > SUBJECT_MAX {
        notes.push(format!(
            "{}'s subject is {chars} characters (more than {SUBJECT_MAX})",
            c.short(),
        ));
        concerns.push((Style::LongSubject, c.short().to_string(), concern(
            format!("Long commit subject in {}", c.short()),
            format!("The subject has {chars} characters; keep it under {SUBJECT_MAX} so it reads in `git log --oneline` and in GitHub's lists."),
        )));
    }
    if s.ends_with('.') {
        notes.push(format!("{}'s subject ends with a period", c.short()));
    }
    if c.body.trim().is_empty() && c.lines_changed > NON_TRIVIAL_LINES {
        notes.push(format!(
            "{} changes {} lines with no message body",
            c.short(),
            c.lines_changed
        ));
        concerns.push((Style::NoBody, c.short().to_string(), concern(
            format!("Commit {} has no body", c.short()),
            format!("`{s}` changes {} lines but its message has no body: say why the change is needed and how it works, for the next person who runs `git blame`.", c.lines_changed),
        )));
    }
}

/// Whether a merge commit's subject is one a forge or a merge queue writes for a merged pull
/// request or branch, rather than someone merging the base into their branch by hand.
fn is_pull_request_merge(subject: &str) -> bool {
    let s = subject.trim();
    [
        "Merge pull request #",
        "Merge PR #",
        "Auto merge of #",
        "Merge #",
    ]
    .iter()
    .any(|p| s.starts_with(p))
        || (s.starts_with("Merge branch '") && s.contains(" into "))
}

/// One observation for all the merge commits of the range, or None when there are none.
fn merge_concern(merges: &[&Commit]) -> Option<Observation> {
    let first = merges.first()?;
    if let [only] = merges {
        let s = only.subject.trim();
        return Some(if is_pull_request_merge(s) {
            concern(
                format!("Merge commit {} inside the change", only.short()),
                format!("`{s}` merges a pull request or branch into the range; the range is a slice of merged history, so review each merged change on its own where you can."),
            )
        } else {
            concern(
                format!("Merge commit {} inside the change", only.short()),
                format!("`{s}` merges another branch into the change; rebase instead so each commit applies on its own."),
            )
        });
    }
    let names: Vec<String> = merges.iter().map(|c| c.short().to_string()).collect();
    let prs = merges
        .iter()
        .filter(|c| is_pull_request_merge(&c.subject))
        .count();
    let body = if prs == merges.len() {
        format!(
            "The range is a history of merged changes: {} merge commits of pull requests or branches ({}). Each was presumably reviewed when it merged; a review of the whole range sees them together, so check how they interact rather than each one's commit style.",
            merges.len(),
            listed(&names, ", ")
        )
    } else {
        format!(
            "{} merge commits sit inside the change ({}), {} of them not the merge of a pull request (first: `{}`). If this is a feature branch, rebase it on its base instead of merging the base in, so each commit applies on its own.",
            merges.len(),
            listed(&names, ", "),
            merges.len() - prs,
            merges
                .iter()
                .find(|c| !is_pull_request_merge(&c.subject))
                .map_or(first.subject.as_str(), |c| c.subject.as_str())
                .trim()
        )
    };
    Some(concern(
        format!("{} merge commits inside the change", merges.len()),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str, subject: &str, parents: usize, author: &str) -> Commit {
        Commit {
            sha: sha.repeat(40 / sha.len()),
            subject: subject.into(),
            body: String::new(),
            author_name: author.into(),
            author_email: format!("{author}@example.com"),
            date: "2026-01-01T00:00:00Z".into(),
            parents,
            lines_changed: 10,
        }
    }

    #[test]
    fn merged_pull_requests_make_one_quiet_observation() {
        let long = "Merge pull request #12 from some-user/a-rather-long-branch-name-that-goes-past-the-limit";
        let mut commits = Vec::new();
        for i in 0..20 {
            commits.push(commit(
                &format!("{i:02}"),
                &format!("Fix thing {i}"),
                1,
                "Ann",
            ));
            commits.push(commit(&format!("m{i:02}"), long, 2, "Ann"));
        }
        commits.push(commit(
            "bb",
            "Bump serde from 1.0.1 to 1.0.2 in the cargo group across one directory with a long subject",
            1,
            "dependabot[bot]",
        ));
        let (text, concerns) = check_commits(&commits);
        assert_eq!(concerns.len(), 1, "{concerns:#?}");
        assert_eq!(concerns[0].title, "20 merge commits inside the change");
        assert!(
            concerns[0].body.contains("history of merged changes"),
            "{}",
            concerns[0].body
        );
        assert!(
            concerns[0].body.contains(", and 10 more"),
            "{}",
            concerns[0].body
        );
        assert!(text.contains("; and 31 more."), "{text}");
        assert!(text.contains("Structure: 20 merge commits."), "{text}");
        assert!(!text.contains("characters"), "{text}");

        // Many commits of one kind share one concern.
        for c in commits.iter_mut().filter(|c| c.parents == 1) {
            c.lines_changed = 120;
        }
        let (_, concerns) = check_commits(&commits);
        let titles: Vec<&str> = concerns.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "20 non-trivial commits without a message body",
                "20 merge commits inside the change"
            ]
        );
    }

    #[test]
    fn a_hand_merge_of_the_base_still_says_rebase() {
        let commits = vec![
            Commit {
                lines_changed: 120,
                ..commit("aa", "Add the parser.", 1, "Ann")
            },
            commit(
                "bb",
                "Merge remote-tracking branch 'origin/main' into feature",
                2,
                "Ann",
            ),
        ];
        let (text, concerns) = check_commits(&commits);
        let titles: Vec<&str> = concerns.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "Commit aaaaaaaa has no body",
                "Merge commit bbbbbbbb inside the change"
            ]
        );
        assert!(concerns[1].body.contains("rebase instead"));
        assert!(
            text.contains("aaaaaaaa's subject ends with a period"),
            "{text}"
        );
    }
}
