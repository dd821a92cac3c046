//! The Markdown report's round parts: the opening line ("Since round 2: 2 fixed, 1 new,
//! 1 still open"), each finding's lifecycle tag, and the findings gone since the previous
//! round. Empty for a first round.

use crate::review::LifecycleStatus;
use crate::review::Review;
use crate::review::RoundMode;
use crate::review::Rounds;
use std::fmt::Write as _;

/// Counts of a later round against the previous one: fixed, new, still open (reported
/// findings only), withdrawn.
pub fn counts(r: &Review, rounds: &Rounds) -> (usize, usize, usize, usize) {
    let of = |s: LifecycleStatus| {
        r.reported()
            .filter(|f| r.lifecycle_of(&f.id).is_some_and(|l| l.status == s))
            .count()
    };
    let gone = |s: LifecycleStatus| rounds.gone.iter().filter(|g| g.status == s).count();
    (
        gone(LifecycleStatus::Fixed),
        of(LifecycleStatus::New),
        of(LifecycleStatus::StillOpen),
        gone(LifecycleStatus::Withdrawn),
    )
}

/// The lines right under the report's title: what changed since the previous round, and
/// whether this round reviewed the delta or (and why) the whole change.
pub fn opening(r: &Review) -> String {
    let Some(rounds) = &r.rounds else {
        return String::new();
    };
    let (fixed, new, open, withdrawn) = counts(r, rounds);
    let mut out = format!(
        "Since round {}: {fixed} fixed, {new} new, {open} still open",
        rounds.previous_round
    );
    if withdrawn > 0 {
        let _ = write!(out, ", {withdrawn} withdrawn");
    }
    if r.partial {
        out.push_str(" (an interrupted round: what was fixed is not known)");
    }
    out.push_str("\n\n");
    let prev = &rounds.previous_head[..rounds.previous_head.len().min(7)];
    match (rounds.mode, &rounds.full_reason) {
        (RoundMode::Incremental, _) => {
            let _ = writeln!(
                out,
                "Incremental review: what changed since {prev}, the head round {} reviewed.\n",
                rounds.previous_round
            );
        }
        (RoundMode::Full, reason) => {
            let why = reason.as_deref().unwrap_or("asked for");
            let mut why = why.to_string();
            if let Some(first) = why.get(..1) {
                why.replace_range(..1, &first.to_lowercase());
            }
            let _ = writeln!(out, "Full review: {why}.\n");
        }
    }
    out
}

/// "new in round 3" or "still open since round 1", for a finding of a later round.
pub fn tag(r: &Review, id: &str) -> Option<String> {
    let l = r.lifecycle_of(id)?;
    Some(match l.status {
        LifecycleStatus::New => format!("new in round {}", r.change.round),
        _ => format!("still open since round {}", l.first_round),
    })
}

/// The previous round's findings that are gone: fixed, then withdrawn, one line each.
pub fn gone(r: &Review) -> String {
    let Some(rounds) = &r.rounds else {
        return String::new();
    };
    if rounds.gone.is_empty() {
        return String::new();
    }
    let mut out = format!("## Gone Since Round {}\n\n", rounds.previous_round);
    out.push_str("Fixed: no reviewer reports it and its cited code changed. Withdrawn: no reviewer reports it any more, though its code is unchanged.\n\n");
    for status in [LifecycleStatus::Fixed, LifecycleStatus::Withdrawn] {
        for g in rounds.gone.iter().filter(|g| g.status == status) {
            let place = g
                .location
                .as_ref()
                .map(|l| format!(" — `{l}`"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- **{}** {} ({}, since round {}): {}{place}",
                g.id,
                g.title.trim(),
                g.severity,
                g.first_round,
                status.as_str()
            );
        }
    }
    out.push('\n');
    out
}
