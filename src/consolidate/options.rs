//! The knobs of consolidation: how severities are voted, when two findings are one, how far a
//! quote may move, how much agreement reports a finding.

/// How a cluster's severity is chosen from its members' severities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeverityPolicy {
    /// Each agent votes its severity; the most votes win; ties go to the lower severity.
    #[default]
    Vote,
    /// The highest severity any agent gave.
    Highest,
    /// The lowest severity any agent gave.
    Lowest,
}

impl SeverityPolicy {
    pub fn parse(s: &str) -> Option<SeverityPolicy> {
        match s {
            "vote" => Some(SeverityPolicy::Vote),
            "highest" | "max" => Some(SeverityPolicy::Highest),
            "lowest" | "min" => Some(SeverityPolicy::Lowest),
            _ => None,
        }
    }
}

/// Knobs for consolidation.
#[derive(Debug, Clone)]
pub struct Options {
    pub severity_policy: SeverityPolicy,
    /// Link score at or above which two findings are the same problem.
    pub merge_threshold: f64,
    /// How far (in lines) two citations may be apart and still count as "nearby".
    pub nearby_lines: u32,
    /// How far a quote is searched for around its cited line.
    pub relocate_window: u32,
    /// The share of answering reviewers that must agree for agreement alone to report a
    /// finding (never fewer than two): two of three reviewers is strong evidence, two of
    /// twelve is not.
    pub agreement_fraction: f64,
}

impl Options {
    /// Distinct agents whose agreement alone reports a finding, given how many answered.
    pub fn min_agreement(&self, answered: usize) -> usize {
        ((self.agreement_fraction * answered as f64).ceil() as usize).max(2)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            severity_policy: SeverityPolicy::Vote,
            merge_threshold: 0.25,
            nearby_lines: 3,
            relocate_window: 10,
            agreement_fraction: 1.0 / 3.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_by_name_and_alias() {
        assert_eq!(SeverityPolicy::parse("vote"), Some(SeverityPolicy::Vote));
        assert_eq!(
            SeverityPolicy::parse("highest"),
            Some(SeverityPolicy::Highest)
        );
        assert_eq!(SeverityPolicy::parse("max"), Some(SeverityPolicy::Highest));
        assert_eq!(
            SeverityPolicy::parse("lowest"),
            Some(SeverityPolicy::Lowest)
        );
        assert_eq!(SeverityPolicy::parse("min"), Some(SeverityPolicy::Lowest));
        assert_eq!(SeverityPolicy::parse("Vote"), None);
        assert_eq!(SeverityPolicy::parse(""), None);
    }

    #[test]
    fn agreement_is_a_third_of_those_who_answered_and_never_below_two() {
        let o = Options::default();
        let m: Vec<usize> = [0, 1, 2, 3, 6, 7, 12]
            .iter()
            .map(|&n| o.min_agreement(n))
            .collect();
        assert_eq!(m, vec![2, 2, 2, 2, 2, 3, 4]);
        let all = Options {
            agreement_fraction: 1.0,
            ..Options::default()
        };
        assert_eq!(all.min_agreement(5), 5);
    }
}
