//! Step 4, number: stable IDs for the findings and the order they are shown in. Reported
//! findings are `C1.. I1.. S1..` by severity, then agreement, then place; held-back ones
//! `H..`; dropped ones `D..`.

use crate::review::ConsolidatedFinding;
use crate::review::Status;
use std::collections::HashMap;

/// Assigns every finding its ID and returns the display order (indexes into `findings`).
pub(super) fn number(findings: &mut [ConsolidatedFinding]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        status_rank(fa.status)
            .cmp(&status_rank(fb.status))
            .then(fb.severity.cmp(&fa.severity))
            .then(fb.agreement.cmp(&fa.agreement))
            .then(first_place(fa).cmp(&first_place(fb)))
            .then(fa.title.cmp(&fb.title))
    });
    let mut counters: HashMap<char, u32> = HashMap::new();
    for &i in &order {
        let f = &mut findings[i];
        let letter = match f.status {
            Status::Reported => f.severity.letter(),
            Status::HeldBack => 'H',
            Status::Dropped => 'D',
        };
        let n = counters.entry(letter).or_insert(0);
        *n += 1;
        f.id = format!("{letter}{n}");
    }
    order
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Reported => 0,
        Status::HeldBack => 1,
        Status::Dropped => 2,
    }
}

/// Sort key for IDs: C < I < S < H < D, then number.
pub(super) fn id_key(id: &str) -> (u8, u32) {
    let letter = id.chars().next().unwrap_or('Z');
    let rank = match letter {
        'C' => 0,
        'I' => 1,
        'S' => 2,
        'H' => 3,
        'D' => 4,
        _ => 5,
    };
    let number = id.get(letter.len_utf8()..).and_then(|n| n.parse().ok());
    (rank, number.unwrap_or(0))
}

/// Where a finding is: its first verified citation, else its first, else after everything.
fn first_place(f: &ConsolidatedFinding) -> (String, u32) {
    f.locations
        .iter()
        .find(|l| l.verified)
        .or(f.locations.first())
        .map(|l| (l.path.clone(), l.start_line))
        .unwrap_or_else(|| ("~".to_string(), u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::review::VerifiedLocation;

    fn f(title: &str, severity: Severity, status: Status, agreement: usize) -> ConsolidatedFinding {
        ConsolidatedFinding {
            id: String::new(),
            severity,
            title: title.to_string(),
            body: String::new(),
            fix: None,
            category: None,
            scope: None,
            confidence: None,
            locations: Vec::new(),
            members: Vec::new(),
            agreement,
            status,
            drop_reason: None,
            calibration: String::new(),
            replacement: None,
        }
    }

    #[test]
    fn reported_by_severity_then_agreement_then_place_then_held_back_then_dropped() {
        use Severity::*;
        let mut at_line_5 = f("b", Important, Status::Reported, 1);
        at_line_5.locations = vec![VerifiedLocation {
            path: "src/a.rs".into(),
            start_line: 5,
            end_line: 5,
            verified: true,
            relocated_from: None,
            note: None,
            excerpt: None,
        }];
        let mut findings = vec![
            f("dropped", Critical, Status::Dropped, 3),
            f("unplaced", Important, Status::Reported, 1),
            f("held", Critical, Status::HeldBack, 1),
            at_line_5,
            f("agreed", Important, Status::Reported, 2),
            f("crit", Critical, Status::Reported, 1),
            f("sugg", Suggestion, Status::Reported, 3),
        ];
        let order = number(&mut findings);
        assert_eq!(order, vec![5, 4, 3, 1, 6, 2, 0]);
        let ids: Vec<&str> = order.iter().map(|&i| findings[i].id.as_str()).collect();
        assert_eq!(ids, vec!["C1", "I1", "I2", "I3", "S1", "H1", "D1"]);
    }

    #[test]
    fn nothing_to_number() {
        assert!(number(&mut []).is_empty());
    }

    #[test]
    fn ids_sort_by_letter_then_number() {
        let mut ids = vec!["D1", "S2", "I10", "H1", "I2", "C1", "X9", ""];
        ids.sort_by_key(|id| id_key(id));
        assert_eq!(ids, vec!["C1", "I2", "I10", "S2", "H1", "D1", "", "X9"]);
    }
}
