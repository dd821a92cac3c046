//! A review's proposed context updates (review.json's `context_updates`) as a plan against
//! the notes: which notes to add, with their provenance, which to remove, and what is skipped.

use super::notes::Note;
use super::notes::Notes;
use super::notes::Provenance;
use crate::finding::ContextAction;
use crate::review::Review;
use crate::review::Role;

/// What applying a review's proposals does to the notes.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub add: Vec<Note>,
    /// Indexes (0-based) of the notes to remove, ascending, with their text.
    pub remove: Vec<(usize, String)>,
    /// Proposals left out, each with why.
    pub skipped: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// Applies the plan to `notes`.
    pub fn apply(&self, notes: &mut Notes) {
        for (i, _) in self.remove.iter().rev() {
            notes.remove(*i);
        }
        for n in &self.add {
            notes.push(n.clone());
        }
    }
}

/// The plan for `review`'s proposals against `notes`. An addition the notes already hold (or
/// that the review proposes twice) is skipped, and so is a removal that matches no note.
pub fn plan(notes: &Notes, review: &Review) -> Plan {
    let mut plan = Plan::default();
    let label = if review.change.round > 1 {
        format!("{} round {}", review.id, review.change.round)
    } else {
        review.id.clone()
    };
    let date = review
        .created_at
        .get(..10)
        .filter(|d| d.as_bytes().iter().filter(|b| **b == b'-').count() == 2)
        .map(str::to_string)
        .unwrap_or_else(|| chrono::Local::now().format("%Y-%m-%d").to_string());
    for u in &review.context_updates {
        let text = u.note.trim();
        if text.is_empty() {
            continue;
        }
        match u.action {
            ContextAction::Add => {
                let key = Note::key(text);
                if notes.find(text).is_some() {
                    plan.skipped
                        .push(format!("already a note: {}", one_line(text)));
                } else if plan.add.iter().any(|n| Note::key(&n.text) == key) {
                    // Proposed twice (by reviewers and the judge): once is enough.
                } else {
                    plan.add.push(Note {
                        text: text.to_string(),
                        provenance: Some(Provenance {
                            review: Some(label.clone()),
                            by: proposer(review, &u.agents),
                            date: date.clone(),
                        }),
                    });
                }
            }
            ContextAction::Remove => match notes.find(text) {
                Some(i) if !plan.remove.iter().any(|(j, _)| *j == i) => {
                    let kept = notes.notes().nth(i).map(|n| n.text.clone());
                    plan.remove.push((i, kept.unwrap_or_default()));
                }
                Some(_) => {}
                None => plan
                    .skipped
                    .push(format!("no such note to remove: {}", one_line(text))),
            },
        }
    }
    plan.remove.sort_by_key(|(i, _)| *i);
    plan
}

/// Who proposed an update: `judge NAME`, `agent NAME`, or `agents A, B and C`.
fn proposer(review: &Review, agents: &[String]) -> String {
    let judge = review
        .agents
        .iter()
        .find(|a| a.role == Role::Judge)
        .map(|a| a.name.as_str());
    match agents {
        [] => "deep-review".to_string(),
        [one] if Some(one.as_str()) == judge => format!("judge {one}"),
        [one] => format!("agent {one}"),
        [rest @ .., last] => format!("agents {} and {last}", rest.join(", ")),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::AttributedContextUpdate;

    fn review(updates: &[(ContextAction, &str, &[&str])]) -> Review {
        let mut r: Review = serde_json::from_value(serde_json::json!({
            "version": 1, "tool": {"name": "deep-review", "version": "0"},
            "id": "20260426-165750-local-3b4f6cef", "created_at": "2026-04-26T16:57:50+02:00",
            "wall_clock_ms": 1, "change": crate::review::ChangeSummary::named("r", "local"),
            "agents": [], "findings": [], "verdict_rationale": "", "summary": ""
        }))
        .unwrap();
        r.change.round = 2;
        r.context_updates = updates
            .iter()
            .map(|(action, note, agents)| AttributedContextUpdate {
                action: *action,
                note: note.to_string(),
                why: String::new(),
                agents: agents.iter().map(|a| a.to_string()).collect(),
            })
            .collect();
        r
    }

    #[test]
    fn adds_with_provenance_removes_by_text_and_skips_the_rest() {
        let notes = Notes::parse("- Old note.\n- Keep me.\n");
        let r = review(&[
            (ContextAction::Add, "New note.", &["a", "b", "c"]),
            (ContextAction::Add, "keep me", &["a"]),
            (ContextAction::Add, "new   note", &["judge"]),
            (ContextAction::Remove, "old note", &["b"]),
            (ContextAction::Remove, "Never there.", &["b"]),
        ]);
        let p = plan(&notes, &r);
        assert_eq!(p.add.len(), 1);
        assert_eq!(
            p.add[0].provenance.as_ref().unwrap().to_string(),
            "(from review 20260426-165750-local-3b4f6cef round 2, by agents a, b and c, 2026-04-26)"
        );
        assert_eq!(p.remove, vec![(0, "Old note.".to_string())]);
        assert_eq!(
            p.skipped,
            vec![
                "already a note: keep me".to_string(),
                "no such note to remove: Never there.".to_string()
            ]
        );
        let mut n = notes;
        p.apply(&mut n);
        let texts: Vec<&str> = n.notes().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, vec!["Keep me.", "New note."]);
    }
}
