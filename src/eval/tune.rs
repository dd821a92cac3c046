//! "Tune on one fold, report the other": the small grid of consolidation knobs that
//! `--tune-on` and `--cross` search, and the choice of the best point on one fold.
//!
//! The choice is deterministic: the highest reported-set F1 wins; among equal F1s, the point
//! that changes fewer knobs from the starting values wins (so a fold that cannot tell the
//! points apart keeps the defaults), then the earlier point in grid order.

use super::dataset::Pr;
use super::score::evaluate;
use super::score::Knobs;
use crate::consolidate;

/// Shares of the answering reviewers whose agreement alone reports a finding.
pub const AGREEMENT_GRID: [f64; 6] = [1.0 / 6.0, 0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 1.0];
/// Link scores at which two findings merge.
pub const MERGE_GRID: [f64; 5] = [0.15, 0.2, 0.25, 0.3, 0.35];

/// The grid points in order: the starting knobs first, then agreement-major, merge-minor
/// (the starting point is not repeated).
pub fn grid(start: Knobs) -> Vec<Knobs> {
    let mut points = vec![start];
    for &agreement_fraction in &AGREEMENT_GRID {
        for &merge_threshold in &MERGE_GRID {
            let k = Knobs {
                agreement_fraction,
                merge_threshold,
            };
            if k != start {
                points.push(k);
            }
        }
    }
    points
}

/// The chosen knobs, the reported-set F1 they reach on the tuning PRs, and how many points
/// were scored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Choice {
    pub knobs: Knobs,
    pub f1: f64,
    pub points: usize,
}

/// Scores every grid point for `tools` on `prs` and picks the best (see the module doc).
pub fn choose(prs: &[&Pr], tools: Option<&[String]>, base: &consolidate::Options) -> Choice {
    let start = Knobs::of(base);
    let points = grid(start);
    let changed = |k: &Knobs| {
        usize::from(k.agreement_fraction != start.agreement_fraction)
            + usize::from(k.merge_threshold != start.merge_threshold)
    };
    let mut best: Option<(f64, usize, Knobs)> = None;
    for k in &points {
        let f1 = evaluate(prs, tools, &k.apply(base), "tune", false)
            .reported_set
            .f1;
        let better = match best {
            None => true,
            Some((bf, bc, _)) => f1 > bf + 1e-12 || ((f1 - bf).abs() <= 1e-12 && changed(k) < bc),
        };
        if better {
            best = Some((f1, changed(k), *k));
        }
    }
    let (f1, _, knobs) = best.unwrap_or((0.0, 0, start));
    Choice {
        knobs,
        f1,
        points: points.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_starts_at_the_starting_knobs_and_holds_them_once() {
        let start = Knobs::of(&consolidate::Options::default());
        let g = grid(start);
        assert_eq!(g[0], start);
        assert_eq!(g.len(), AGREEMENT_GRID.len() * MERGE_GRID.len());
        assert_eq!(g.iter().filter(|k| **k == start).count(), 1);
        let off = Knobs {
            agreement_fraction: 0.4,
            merge_threshold: 0.25,
        };
        assert_eq!(grid(off).len(), AGREEMENT_GRID.len() * MERGE_GRID.len() + 1);
    }
}
