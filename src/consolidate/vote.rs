//! Step 3, vote: one consolidated finding per cluster, its severity voted from its members'
//! (see [`SeverityPolicy`]) and its status decided (see [`report_status`]); and, once the
//! findings are numbered, every change of an agent's severity logged as a [`Reconciliation`]
//! entry.

use super::number::id_key;
use super::options::Options;
use super::options::SeverityPolicy;
use super::verify::Item;
use crate::finding::Severity;
use crate::review::ConsolidatedFinding;
use crate::review::Member;
use crate::review::Reconciliation;
use crate::review::Status;
use crate::review::VerifiedLocation;

const ASCENDING: [Severity; 3] = [
    Severity::Suggestion,
    Severity::Important,
    Severity::Critical,
];

/// Chooses the cluster's severity and says why.
pub fn vote(by_agent: &[(&str, Severity)], policy: SeverityPolicy) -> (Severity, String) {
    let max = by_agent
        .iter()
        .map(|(_, s)| *s)
        .max()
        .unwrap_or(Severity::Suggestion);
    let min = by_agent
        .iter()
        .map(|(_, s)| *s)
        .min()
        .unwrap_or(Severity::Suggestion);
    let given = by_agent
        .iter()
        .map(|(a, s)| format!("{a}: {s}"))
        .collect::<Vec<_>>()
        .join(", ");
    if max == min {
        let who = if by_agent.len() == 1 {
            format!("Reported as {max} by {}", by_agent[0].0)
        } else {
            format!("All {} agents gave {max}", by_agent.len())
        };
        return (max, format!("{who}; kept."));
    }
    match policy {
        SeverityPolicy::Highest => (
            max,
            format!("{given}: the highest severity is kept (policy `highest`)."),
        ),
        SeverityPolicy::Lowest => (
            min,
            format!("{given}: the lowest severity is kept (policy `lowest`)."),
        ),
        SeverityPolicy::Vote => majority(by_agent, &given),
    }
}

/// The severity with the most votes; ties go to the lower severity.
fn majority(by_agent: &[(&str, Severity)], given: &str) -> (Severity, String) {
    let votes = |s: Severity| by_agent.iter().filter(|(_, x)| *x == s).count();
    let mut best = Severity::Suggestion;
    let mut best_n = 0;
    for s in ASCENDING {
        let n = votes(s);
        // Strictly more votes to move up: ties go to the lower severity.
        if n > best_n {
            best = s;
            best_n = n;
        }
    }
    let tie = ASCENDING
        .iter()
        .filter(|s| **s != best)
        .any(|s| votes(*s) == best_n);
    let why = if tie {
        format!("{given}: the vote is tied, and ties go to the lower severity, {best}.")
    } else {
        format!(
            "{given}: {best} has the most votes ({best_n} of {}).",
            by_agent.len()
        )
    };
    (best, why)
}

/// The reporting policy. Given a cluster that was not dropped:
/// - at least `min_agreement` agents agree ([`Options::min_agreement`]: two, or a third of
///   the reviewers that answered when more than six did): reported;
/// - critical or important with a verified citation (or, with no repository to verify
///   against, with a citation given): reported, even from one agent;
/// - a suggestion with a verified citation and confidence of at least 0.5: reported;
/// - anything else (too little agreement and no verifiable location, or low confidence):
///   held back.
pub fn report_status(
    severity: Severity,
    agreement: usize,
    min_agreement: usize,
    verified: bool,
    cited: bool,
    confidence: Option<f64>,
) -> Status {
    if agreement >= min_agreement {
        return Status::Reported;
    }
    let confident = confidence.map(|c| c >= 0.5).unwrap_or(true);
    match severity {
        Severity::Critical | Severity::Important if verified || cited => Status::Reported,
        Severity::Suggestion if verified && confident => Status::Reported,
        _ => Status::HeldBack,
    }
}

/// Whether some member's citation was verified, and whether some member cites code that can
/// be relied on: a verified citation, or any citation when there is no tree to check.
pub(super) fn evidence<'a>(members: impl Iterator<Item = &'a Item<'a>>) -> (bool, bool) {
    members.fold((false, false), |(verified, cited), m| {
        (
            verified || m.usable.iter().any(|l| l.verified),
            cited || !m.usable.is_empty(),
        )
    })
}

/// One consolidated finding per cluster, in the clusters' order, not yet numbered. A cluster
/// of unverifiable findings only is dropped.
pub(super) fn build_findings(
    clusters: &[Vec<usize>],
    items: &[Item],
    opts: &Options,
    min_agreement: usize,
) -> Vec<ConsolidatedFinding> {
    clusters
        .iter()
        .map(|members| {
            let member_items: Vec<&Item> = members.iter().map(|&i| &items[i]).collect();
            let dropped = member_items.iter().all(|i| i.unverifiable);
            build_finding(&member_items, opts, dropped, min_agreement)
        })
        .collect()
}

/// Each agent once, with the highest severity it gave among the members, in member order.
fn severities_by_agent<'a>(members: &[&Item<'a>]) -> Vec<(&'a str, Severity)> {
    let mut by_agent: Vec<(&str, Severity)> = Vec::new();
    for m in members {
        match by_agent.iter_mut().find(|(a, _)| *a == m.agent) {
            Some((_, s)) => *s = (*s).max(m.finding.severity),
            None => by_agent.push((m.agent, m.finding.severity)),
        }
    }
    by_agent
}

/// The representative: a member at the chosen severity, most confident, most explained.
fn representative<'m, 'a>(members: &[&'m Item<'a>], severity: Severity) -> &'m Item<'a> {
    members
        .iter()
        .max_by(|a, b| {
            (a.finding.severity == severity)
                .cmp(&(b.finding.severity == severity))
                .then(
                    a.finding
                        .confidence
                        .unwrap_or(0.5)
                        .total_cmp(&b.finding.confidence.unwrap_or(0.5)),
                )
                .then(a.finding.body.len().cmp(&b.finding.body.len()))
                .then(b.agent.cmp(a.agent))
        })
        .expect("a cluster has members")
}

/// Verified citations first (the representative's, then the others'), then, marked as such,
/// the citations that could not be verified: a partly valid finding says which part. A
/// dropped finding keeps all its citations, each with the note saying what was wrong.
fn merged_locations(rep: &Item, members: &[&Item], dropped: bool) -> Vec<VerifiedLocation> {
    let mut locations: Vec<VerifiedLocation> = Vec::new();
    let mut add = |l: &VerifiedLocation| {
        let dup = locations
            .iter()
            .any(|x| x.path == l.path && x.start_line <= l.end_line && l.start_line <= x.end_line);
        if !dup {
            locations.push(l.clone());
        }
    };
    for m in std::iter::once(rep).chain(members.iter().copied()) {
        let cited = if dropped { &m.locations } else { &m.usable };
        cited.iter().for_each(&mut add);
    }
    if !dropped {
        for m in members {
            m.locations
                .iter()
                .filter(|l| !m.usable.contains(l))
                .for_each(&mut add);
        }
    }
    locations
}

fn build_finding(
    members: &[&Item],
    opts: &Options,
    dropped: bool,
    min_agreement: usize,
) -> ConsolidatedFinding {
    let by_agent = severities_by_agent(members);
    let (severity, calibration) = vote(&by_agent, opts.severity_policy);
    let rep = representative(members, severity);
    let locations = merged_locations(rep, members, dropped);
    let (verified, cited) = evidence(members.iter().copied());
    let agreement = by_agent.len();
    let confidence = members
        .iter()
        .filter_map(|m| m.finding.confidence)
        .fold(None, |acc: Option<f64>, c| {
            Some(acc.map_or(c, |a| a.max(c)))
        });
    let (status, drop_reason) = if dropped {
        let why: Vec<String> = members
            .iter()
            .flat_map(|m| m.locations.iter().filter_map(|l| l.note.clone()))
            .collect();
        (
            Status::Dropped,
            Some(format!("unverifiable: {}", why.join("; "))),
        )
    } else {
        let status = report_status(
            severity,
            agreement,
            min_agreement,
            verified,
            cited,
            confidence,
        );
        (status, None)
    };
    let fix = rep
        .finding
        .fix
        .clone()
        .or_else(|| members.iter().find_map(|m| m.finding.fix.clone()));
    let mut ms: Vec<Member> = members
        .iter()
        .map(|m| Member {
            agent: m.agent.to_string(),
            index: m.index,
            severity: m.finding.severity,
            title: crate::secrets::redact_text(&m.finding.title),
        })
        .collect();
    ms.sort_by(|a, b| a.agent.cmp(&b.agent).then(a.index.cmp(&b.index)));
    ConsolidatedFinding {
        id: String::new(),
        severity,
        // An agent may quote a credential it saw; it goes no further than its own transcript.
        title: crate::secrets::redact_text(&rep.finding.title),
        body: crate::secrets::redact_text(&rep.finding.body),
        fix: fix.map(|f| crate::secrets::redact_text(&f)),
        category: rep.finding.category.clone(),
        scope: rep.finding.scope,
        confidence,
        locations,
        members: ms,
        agreement,
        status,
        drop_reason,
        calibration,
        replacement: None,
    }
}

/// Every agent finding whose severity the consolidated finding changed, or that was dropped,
/// sorted by the finding's ID, then agent, then index. `findings[k]` is built from
/// `clusters[k]`; the findings are numbered.
pub(super) fn reconciliation(
    findings: &[ConsolidatedFinding],
    clusters: &[Vec<usize>],
    items: &[Item],
) -> Vec<Reconciliation> {
    let mut log = Vec::new();
    for (f, members) in findings.iter().zip(clusters) {
        for item in members.iter().map(|&i| &items[i]) {
            let sev = item.finding.severity;
            let (to, reason) = match f.status {
                Status::Dropped => (None, f.drop_reason.clone().unwrap_or_default()),
                _ if sev != f.severity => (Some(f.severity), f.calibration.clone()),
                _ => continue,
            };
            log.push(Reconciliation {
                agent: item.agent.to_string(),
                index: item.index,
                title: crate::secrets::redact_text(&item.finding.title),
                finding: f.id.clone(),
                from: sev,
                to,
                reason,
            });
        }
    }
    log.sort_by(|a, b| {
        id_key(&a.finding)
            .cmp(&id_key(&b.finding))
            .then(a.agent.cmp(&b.agent))
            .then(a.index.cmp(&b.index))
    });
    log
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::finding;
    use super::super::fixtures::items;
    use super::*;
    use crate::finding::Finding;
    use Severity::Critical;
    use Severity::Important;
    use Severity::Suggestion;

    fn verified(path: &str, line: u32) -> VerifiedLocation {
        VerifiedLocation {
            path: path.to_string(),
            start_line: line,
            end_line: line,
            verified: true,
            relocated_from: None,
            note: None,
            excerpt: None,
        }
    }

    #[test]
    fn one_agent_or_unanimity_keeps_the_severity() {
        assert_eq!(
            vote(&[("codex", Important)], SeverityPolicy::Vote),
            (
                Important,
                "Reported as important by codex; kept.".to_string()
            )
        );
        assert_eq!(
            vote(&[("a", Critical), ("b", Critical)], SeverityPolicy::Lowest),
            (Critical, "All 2 agents gave critical; kept.".to_string())
        );
    }

    #[test]
    fn a_tied_vote_goes_to_the_lower_severity() {
        assert_eq!(
            vote(&[("codex", Important), ("gemini", Critical)], SeverityPolicy::Vote),
            (
                Important,
                "codex: important, gemini: critical: the vote is tied, and ties go to the lower severity, important."
                    .to_string()
            )
        );
        // A three-way tie goes all the way down.
        let (s, why) = vote(
            &[("a", Critical), ("b", Suggestion), ("c", Important)],
            SeverityPolicy::Vote,
        );
        assert_eq!(s, Suggestion);
        assert!(why.ends_with("the vote is tied, and ties go to the lower severity, suggestion."));
    }

    #[test]
    fn the_majority_wins_and_the_policies_override_it() {
        let given = [("a", Critical), ("b", Critical), ("c", Suggestion)];
        assert_eq!(
            vote(&given, SeverityPolicy::Vote),
            (
                Critical,
                "a: critical, b: critical, c: suggestion: critical has the most votes (2 of 3)."
                    .to_string()
            )
        );
        let (s, why) = vote(&given, SeverityPolicy::Lowest);
        assert_eq!(s, Suggestion);
        assert!(why.ends_with("the lowest severity is kept (policy `lowest`)."));
        let (s, why) = vote(
            &[("a", Critical), ("b", Suggestion)],
            SeverityPolicy::Highest,
        );
        assert_eq!(s, Critical);
        assert!(why.ends_with("the highest severity is kept (policy `highest`)."));
    }

    #[test]
    fn no_votes_is_a_suggestion() {
        assert_eq!(
            vote(&[], SeverityPolicy::Vote),
            (
                Suggestion,
                "All 0 agents gave suggestion; kept.".to_string()
            )
        );
    }

    #[test]
    fn reporting_policy() {
        let st = report_status;
        assert_eq!(st(Important, 1, 2, true, true, None), Status::Reported);
        assert_eq!(st(Critical, 1, 2, false, true, None), Status::Reported);
        assert_eq!(st(Important, 1, 2, false, false, None), Status::HeldBack);
        assert_eq!(st(Suggestion, 2, 2, false, false, None), Status::Reported);
        assert_eq!(st(Suggestion, 2, 3, false, false, None), Status::HeldBack);
        assert_eq!(
            st(Suggestion, 1, 2, true, true, Some(0.2)),
            Status::HeldBack
        );
        assert_eq!(
            st(Suggestion, 1, 2, true, true, Some(0.5)),
            Status::Reported
        );
        assert_eq!(st(Suggestion, 1, 2, false, true, None), Status::HeldBack);
    }

    fn pair() -> [(&'static str, Finding); 3] {
        let mut a = finding(Important, "race on client", "short");
        a.fix = Some("lock it".into());
        let mut b = finding(Critical, "client race", "a much longer explanation");
        b.confidence = Some(0.9);
        let c = finding(Suggestion, "client race again", "");
        [("codex", a), ("claude", b), ("claude", c)]
    }

    #[test]
    fn a_cluster_becomes_one_finding_with_every_agent_once() {
        let given = pair();
        let mut it = items(&given);
        it[0].usable = vec![verified("src/a.rs", 3)];
        it[0].locations = it[0].usable.clone();
        let got = build_findings(&[vec![0, 1, 2]], &it, &Options::default(), 2);
        assert_eq!(got.len(), 1);
        let f = &got[0];
        // claude counts once, at its highest (critical): one critical and one important tie.
        assert_eq!(f.agreement, 2);
        assert_eq!(f.severity, Important);
        assert_eq!(f.status, Status::Reported);
        // The representative is the member at the voted severity.
        assert_eq!(f.title, "race on client");
        assert_eq!(f.fix.as_deref(), Some("lock it"));
        assert_eq!(f.confidence, Some(0.9));
        assert_eq!(f.locations, vec![verified("src/a.rs", 3)]);
        let members: Vec<(&str, usize)> = f
            .members
            .iter()
            .map(|m| (m.agent.as_str(), m.index))
            .collect();
        assert_eq!(members, vec![("claude", 0), ("claude", 1), ("codex", 0)]);
        assert_eq!(f.id, "");
        assert_eq!(f.drop_reason, None);
    }

    #[test]
    fn a_cluster_of_unverifiable_findings_is_dropped_with_the_notes() {
        let given = [("codex", finding(Critical, "invented", ""))];
        let mut it = items(&given);
        let mut bad = verified("src/a.rs", 99);
        bad.verified = false;
        bad.note = Some("line 99 does not exist: `src/a.rs` has 5 lines".into());
        it[0].locations = vec![bad.clone()];
        it[0].unverifiable = true;
        let got = build_findings(&[vec![0]], &it, &Options::default(), 2);
        assert_eq!(got[0].status, Status::Dropped);
        assert_eq!(
            got[0].drop_reason.as_deref(),
            Some("unverifiable: line 99 does not exist: `src/a.rs` has 5 lines")
        );
        assert_eq!(got[0].locations, vec![bad]);
    }

    #[test]
    fn a_lone_uncited_finding_is_held_back() {
        let given = [("codex", finding(Important, "vague worry", ""))];
        let got = build_findings(&[vec![0]], &items(&given), &Options::default(), 2);
        assert_eq!(got[0].status, Status::HeldBack);
        assert!(build_findings(&[], &[], &Options::default(), 2).is_empty());
    }

    #[test]
    fn overlapping_citations_are_listed_once_verified_first() {
        let given = pair();
        let mut it = items(&given);
        let mut unverified = verified("src/b.rs", 7);
        unverified.verified = false;
        it[0].usable = vec![verified("src/a.rs", 3)];
        it[0].locations = vec![verified("src/a.rs", 3), unverified.clone()];
        it[1].usable = vec![verified("src/a.rs", 3)];
        it[1].locations = it[1].usable.clone();
        let members: Vec<&Item> = it.iter().collect();
        let got = merged_locations(members[1], &members, false);
        assert_eq!(got, vec![verified("src/a.rs", 3), unverified]);
    }

    #[test]
    fn the_log_holds_changed_and_dropped_findings_by_id() {
        let given = pair();
        let it = items(&given);
        let mut kept = build_findings(&[vec![0, 1, 2]], &it, &Options::default(), 2).remove(0);
        kept.id = "I1".into();
        let mut dropped = kept.clone();
        dropped.id = "D1".into();
        dropped.status = Status::Dropped;
        dropped.drop_reason = Some("refuted".into());
        let log = reconciliation(&[dropped, kept], &[vec![0], vec![0, 1, 2]], &it);
        let got: Vec<(&str, &str, usize, Severity, Option<Severity>)> = log
            .iter()
            .map(|r| (r.finding.as_str(), r.agent.as_str(), r.index, r.from, r.to))
            .collect();
        assert_eq!(
            got,
            vec![
                ("I1", "claude", 0, Critical, Some(Important)),
                ("I1", "claude", 1, Suggestion, Some(Important)),
                ("D1", "codex", 0, Important, None),
            ]
        );
        assert_eq!(log[2].reason, "refuted");
        assert!(reconciliation(&[], &[], &it).is_empty());
    }
}
