//! What `deep-review eval` scores and prints: the whole dataset, each fold, and the tuned
//! rows; as Markdown tables or as one JSON array of rows.

use super::dataset::Dataset;
use super::dataset::Fold;
use super::dataset::Pr;
use super::score::evaluate;
use super::score::single_tool;
use super::score::Scores;
use super::score::Tuning;
use super::tune;
use crate::consolidate;

/// Which folds to tune on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tune {
    None,
    /// Tune on this fold, report on the others.
    On(String),
    /// Each fold in turn.
    Cross,
}

/// What to score.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Tool subsets scored besides all tools (each already checked against the dataset).
    pub subsets: Vec<Vec<String>>,
    pub opts: consolidate::Options,
    pub explain: bool,
    pub tune: Tune,
}

/// Every row, in print order: the whole dataset (all tools, the subsets, each tool alone),
/// then each fold (all tools and the subsets), then the tuned rows. Fails with a message
/// for the user when the fold to tune on is unknown or there is no other fold.
pub fn score(data: &Dataset, plan: &Plan) -> Result<Vec<Scores>, String> {
    let tools = data.tools();
    let folds = data.folds();
    let tune_on: Vec<&Fold> = match &plan.tune {
        Tune::None => Vec::new(),
        _ if folds.len() < 2 => {
            return Err(format!(
                "tuning needs at least two repositories in the dataset; it has {}",
                names(&folds)
            ));
        }
        Tune::Cross => folds.iter().collect(),
        Tune::On(name) => vec![folds.iter().find(|f| &f.name == name).ok_or_else(|| {
            format!(
                "`{name}` is not a repository in the dataset; it has {}",
                names(&folds)
            )
        })?],
    };
    let configs = configurations(&tools, &plan.subsets);
    let all = data.all();
    let mut rows: Vec<Scores> = configs
        .iter()
        .enumerate()
        .map(|(i, (label, t))| {
            evaluate(
                &all,
                t.as_deref(),
                &plan.opts,
                label,
                plan.explain && i == 0,
            )
        })
        .collect();
    rows.extend(tools.iter().map(|t| single_tool(&all, t)));
    if folds.len() > 1 {
        for fold in &folds {
            for (label, t) in &configs {
                let mut s = evaluate(&fold.prs, t.as_deref(), &plan.opts, label, false);
                s.fold = Some(fold.name.clone());
                rows.push(s);
            }
        }
    }
    for on in tune_on {
        let rest: Vec<&Pr> = folds
            .iter()
            .filter(|f| f.name != on.name)
            .flat_map(|f| f.prs.iter().copied())
            .collect();
        let rest_name = folds
            .iter()
            .filter(|f| f.name != on.name)
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join("+");
        for (label, t) in &configs {
            let choice = tune::choose(&on.prs, t.as_deref(), &plan.opts);
            let untuned = evaluate(&rest, t.as_deref(), &plan.opts, label, false);
            let mut s = evaluate(
                &rest,
                t.as_deref(),
                &choice.knobs.apply(&plan.opts),
                label,
                false,
            );
            s.fold = Some(rest_name.clone());
            s.tuned = Some(Tuning {
                fold: on.name.clone(),
                f1: choice.f1,
                untuned_f1: untuned.reported_set.f1,
                points: choice.points,
            });
            rows.push(s);
        }
    }
    Ok(rows)
}

/// All tools, then each subset: (label, tools or `None` for all).
fn configurations(tools: &[String], subsets: &[Vec<String>]) -> Vec<(String, Option<Vec<String>>)> {
    let mut c = vec![(format!("all {} tools", tools.len()), None)];
    c.extend(subsets.iter().map(|s| (s.join("+"), Some(s.clone()))));
    c
}

fn names(folds: &[Fold]) -> String {
    let n: Vec<String> = folds
        .iter()
        .map(|f| format!("{} ({} PRs)", f.name, f.prs.len()))
        .collect();
    n.join(", ")
}

/// The rows as Markdown: the whole dataset's table, then the folds', then the tuned rows'.
pub fn render(rows: &[Scores]) -> String {
    let whole: Vec<&Scores> = rows.iter().filter(|s| s.fold.is_none()).collect();
    let folds: Vec<&Scores> = rows
        .iter()
        .filter(|s| s.fold.is_some() && s.tuned.is_none())
        .collect();
    let tuned: Vec<&Scores> = rows.iter().filter(|s| s.tuned.is_some()).collect();
    let mut out = table(&whole, false);
    if !folds.is_empty() {
        out.push_str("\nEach repository on its own (a fold):\n\n");
        out.push_str(&table(&folds, true));
    }
    if !tuned.is_empty() {
        out.push_str(&format!(
            "\nTuned on one fold, reported on the other: agreement_fraction in {{{}}} × \
             merge_threshold in {{{}}}, the point with the best reported F1 on the tuning fold \
             (ties keep the untuned values):\n\n",
            grid_text(&tune::AGREEMENT_GRID),
            grid_text(&tune::MERGE_GRID)
        ));
        out.push_str(&tuned_table(&tuned));
    }
    out
}

fn grid_text(g: &[f64]) -> String {
    g.iter()
        .map(|x| format!("{x:.3}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(rows: &[&Scores], with_fold: bool) -> String {
    let mut out = String::new();
    if with_fold {
        out.push_str("| repository | PRs ");
    }
    out.push_str(
        "| configuration | findings | clusters | reported | cluster P | cluster R | cluster F1 | reported P | reported R | reported F1 | findings per PR |\n",
    );
    if with_fold {
        out.push_str("|---|---");
    }
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in rows {
        let c = |x: f64| {
            if s.pairs == (0, 0, 0) {
                "—".to_string()
            } else {
                format!("{x:.3}")
            }
        };
        if with_fold {
            out.push_str(&format!(
                "| {} | {} ",
                s.fold.as_deref().unwrap_or(""),
                s.prs
            ));
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.2} |\n",
            s.label,
            s.findings,
            s.clusters,
            s.reported,
            c(s.clustering.precision),
            c(s.clustering.recall),
            c(s.clustering.f1),
            s.reported_set.precision,
            s.reported_set.recall,
            s.reported_set.f1,
            s.findings_per_pr
        ));
    }
    out
}

fn tuned_table(rows: &[&Scores]) -> String {
    let mut out = String::from(
        "| tuned on | reported on | configuration | agreement fraction | merge threshold | F1 on tuning fold | reported P | reported R | reported F1 | findings per PR | untuned F1 |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in rows {
        let (Some(t), Some(k)) = (&s.tuned, &s.knobs) else {
            continue;
        };
        out.push_str(&format!(
            "| {} | {} | {} | {:.3} | {:.2} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} | {:.3} |\n",
            t.fold,
            s.fold.as_deref().unwrap_or(""),
            s.label,
            k.agreement_fraction,
            k.merge_threshold,
            t.f1,
            s.reported_set.precision,
            s.reported_set.recall,
            s.reported_set.f1,
            s.findings_per_pr,
            t.untuned_f1
        ));
    }
    out
}
