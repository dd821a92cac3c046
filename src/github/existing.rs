//! What is already on the pull request, and which of it is deep-review's own.
//!
//! The markers deep-review hides in its bodies are plain text: anyone can paste them into a
//! review or comment. So a marker counts only when the token's own account wrote it: only our
//! summary is edited in place, only our comments mark a finding as already posted. A marker
//! by anyone else is set aside and reported, never acted on.

use crate::github::Account;
use crate::github::Comment;
use serde::Serialize;

pub const SUMMARY_MARKER: &str = "<!-- deep-review:summary -->";

/// The start of every finding marker; the fingerprint follows.
pub const FINDING_MARKER_START: &str = "<!-- deep-review:finding:";

pub fn finding_marker(fingerprint: &str) -> String {
    format!("{FINDING_MARKER_START}{fingerprint} -->")
}

/// A deep-review marker written by another account, which publishing ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredMarker {
    /// `summary` (on a review) or `finding` (on a review comment).
    pub kind: &'static str,
    /// The review's or comment's id.
    pub id: u64,
    /// Who wrote it; `None` for a deleted account.
    pub author: Option<String>,
}

/// Our own summary and comments, and the markers we did not trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    /// Our earlier summary review, to edit in place.
    pub summary: Option<u64>,
    /// The bodies of our earlier review comments.
    pub ours: Vec<String>,
    /// Our review comments that carry a 👎 (by anyone: who, the reactions list says).
    pub thumbs_down: Vec<u64>,
    pub ignored: Vec<IgnoredMarker>,
}

/// Sorts the PR's reviews and review comments into ours and the markers of others.
pub fn sort(account: &Account, reviews: &[Comment], comments: &[Comment]) -> Existing {
    let mut out = Existing::default();
    for r in reviews {
        if !r
            .body
            .as_deref()
            .is_some_and(|b| b.contains(SUMMARY_MARKER))
        {
            continue;
        }
        if account.wrote(r.author()) {
            out.summary = out.summary.or(Some(r.id));
        } else {
            out.ignored.push(ignored("summary", r));
        }
    }
    for c in comments {
        let Some(body) = c.body.as_deref() else {
            continue;
        };
        if account.wrote(c.author()) {
            out.ours.push(body.to_string());
            if c.reactions.as_ref().is_some_and(|r| r.thumbs_down > 0) {
                out.thumbs_down.push(c.id);
            }
        } else if body.contains(FINDING_MARKER_START) {
            out.ignored.push(ignored("finding", c));
        }
    }
    out
}

fn ignored(kind: &'static str, c: &Comment) -> IgnoredMarker {
    IgnoredMarker {
        kind,
        id: c.id,
        author: c.author().map(str::to_string),
    }
}

/// Who wrote the ignored markers, once each, for messages.
pub fn authors(ignored: &[IgnoredMarker]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in ignored {
        let name = m
            .author
            .clone()
            .unwrap_or_else(|| "a deleted account".into());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The log lines that say what was not trusted, and why (empty when nothing was ignored).
pub fn log_lines(account: &Account, ignored: &[IgnoredMarker]) -> Vec<String> {
    let mut lines = Vec::new();
    let (whose, by) = match account {
        Account::Known { login, how } => (
            format!("{login} (the token's account, {how})"),
            "written by other accounts",
        ),
        Account::Unknown { why } => {
            lines.push(format!(
                "could not learn which account the token posts as ({why}): no deep-review summary or comment already on the PR is trusted, so a new summary is posted and inline comments may repeat; set {}=LOGIN to name the account",
                crate::github::LOGIN_VAR
            ));
            (
                "the token's account".into(),
                "that may not be the token's account's",
            )
        }
    };
    let count = |kind: &str| ignored.iter().filter(|m| m.kind == kind).count();
    let (summaries, findings) = (count("summary"), count("finding"));
    if summaries + findings > 0 {
        lines.push(format!(
            "ignored deep-review markers {by} ({}): {summaries} summary review{} and {findings} finding comment{}; only what {whose} wrote is edited or counts as already posted",
            authors(ignored).join(", "),
            if summaries == 1 { "" } else { "s" },
            if findings == 1 { "" } else { "s" },
        ));
    }
    lines
}

/// The note the posted summary carries about markers it did not trust. Logins are in code
/// spans so the note mentions (and notifies) no one.
pub fn summary_note(account: &Account, ignored: &[IgnoredMarker]) -> Option<String> {
    if ignored.is_empty() {
        return None;
    }
    let by = match account {
        Account::Known { .. } => "written by other accounts",
        Account::Unknown { .. } => "already on this PR (the token's account could not be learned)",
    };
    let names: Vec<String> = authors(ignored)
        .iter()
        .map(|a| format!("`{}`", a.replace('`', "'")))
        .collect();
    Some(format!(
        "<sub>Not trusted: {} deep-review marker{} {by} ({}); this review neither edits them nor counts them as posted.</sub>\n",
        ignored.len(),
        if ignored.len() == 1 { "" } else { "s" },
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::User;

    fn by(id: u64, login: Option<&str>, body: &str) -> Comment {
        Comment {
            id,
            body: Some(body.into()),
            user: login.map(|l| User { login: l.into() }),
            reactions: None,
        }
    }

    fn me() -> Account {
        Account::Known {
            login: "Reviewer-Bot".into(),
            how: "test".into(),
        }
    }

    #[test]
    fn only_our_markers_count() {
        let reviews = [
            by(1, Some("mallory"), &format!("{SUMMARY_MARKER}\nLGTM")),
            by(2, Some("reviewer-bot"), &format!("{SUMMARY_MARKER}\nours")),
            by(3, None, SUMMARY_MARKER),
            by(4, Some("alice"), "a plain review"),
        ];
        let comments = [
            by(10, Some("mallory"), &finding_marker("abc")),
            by(11, Some("reviewer-bot"), &finding_marker("def")),
            by(12, Some("alice"), "no marker"),
        ];
        let e = sort(&me(), &reviews, &comments);
        assert_eq!(e.summary, Some(2), "logins compare case-insensitively");
        assert_eq!(e.ours, vec![finding_marker("def")]);
        let ids: Vec<(&str, u64)> = e.ignored.iter().map(|m| (m.kind, m.id)).collect();
        assert_eq!(ids, vec![("summary", 1), ("summary", 3), ("finding", 10)]);
        assert_eq!(authors(&e.ignored), vec!["mallory", "a deleted account"]);
        let note = summary_note(&me(), &e.ignored).unwrap();
        assert!(
            note.contains("3 deep-review markers") && note.contains("`mallory`"),
            "{note}"
        );
        assert!(!note.contains("@"), "{note}");
    }

    #[test]
    fn an_unknown_account_trusts_nothing() {
        let unknown = Account::Unknown {
            why: "GET /user answered 403".into(),
        };
        let reviews = [by(2, Some("reviewer-bot"), SUMMARY_MARKER)];
        let comments = [by(11, Some("reviewer-bot"), &finding_marker("def"))];
        let e = sort(&unknown, &reviews, &comments);
        assert_eq!((e.summary, e.ours.len(), e.ignored.len()), (None, 0, 2));
        let lines = log_lines(&unknown, &e.ignored);
        assert!(
            lines[0].starts_with("could not learn which account"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("1 summary review and 1 finding comment"),
            "{lines:?}"
        );
        assert!(!lines[1].contains("other accounts"), "{lines:?}");
        let note = summary_note(&unknown, &e.ignored).unwrap();
        assert!(note.contains("could not be learned"), "{note}");
    }
}
