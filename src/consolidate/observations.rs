//! What the agents said besides findings: observations (merged when two agents say the same
//! thing), assessments (testing, documentation, commits) and proposed context updates, each
//! attributed to the agents that gave it.

use super::options::Options;
use super::similarity::tfidf;
use super::verify::normalize_ws;
use super::verify::verify;
use crate::record::AgentRun;
use crate::review::AssessmentSet;
use crate::review::Attributed;
use crate::review::AttributedContextUpdate;
use crate::review::ConsolidatedObservation;
use crate::tree_guard::HeadTree;

pub(super) fn consolidate_observations(
    answered: &[&AgentRun],
    tree: Option<&dyn HeadTree>,
    opts: &Options,
) -> Vec<ConsolidatedObservation> {
    let mut raw = Vec::new();
    for r in answered {
        if let Some(a) = &r.answer {
            for o in &a.observations {
                raw.push((r.name.as_str(), o));
            }
        }
    }
    let texts: Vec<String> = raw
        .iter()
        .map(|(_, o)| format!("{}\n{}", o.title, o.body))
        .collect();
    let vecs = tfidf(&texts);
    let mut out: Vec<(ConsolidatedObservation, usize)> = Vec::new();
    for (i, (agent, o)) in raw.iter().enumerate() {
        let hit = out.iter_mut().find(|(c, rep)| {
            // One agent's observations are distinct by construction; only others' can repeat them.
            c.kind == o.kind
                && !c.agents.iter().any(|a| a == agent)
                && vecs[*rep].cosine(&vecs[i]) >= 0.5
        });
        match hit {
            Some((c, _)) => {
                if !c.agents.iter().any(|a| a == agent) {
                    c.agents.push(agent.to_string());
                }
            }
            None => out.push((
                ConsolidatedObservation {
                    kind: o.kind,
                    title: o.title.clone(),
                    body: o.body.clone(),
                    scope: o.scope,
                    locations: o
                        .locations
                        .iter()
                        .map(|l| verify(l, tree, opts.relocate_window))
                        .filter(|l| l.verified || tree.is_none())
                        .collect(),
                    agents: vec![agent.to_string()],
                },
                i,
            )),
        }
    }
    out.into_iter().map(|(c, _)| c).collect()
}

pub(super) fn collect_assessments(answered: &[&AgentRun]) -> AssessmentSet {
    let mut set = AssessmentSet::default();
    for r in answered {
        let Some(a) = &r.answer else { continue };
        let push = |v: &mut Vec<Attributed>, t: &Option<String>| {
            if let Some(t) = t {
                if !t.trim().is_empty() {
                    v.push(Attributed {
                        agent: r.name.clone(),
                        text: t.trim().to_string(),
                    });
                }
            }
        };
        push(&mut set.testing, &a.assessments.testing);
        push(&mut set.documentation, &a.assessments.documentation);
        push(&mut set.commits, &a.assessments.commits);
    }
    set
}

pub(super) fn collect_context_updates(answered: &[&AgentRun]) -> Vec<AttributedContextUpdate> {
    let mut out: Vec<AttributedContextUpdate> = Vec::new();
    for r in answered {
        let Some(a) = &r.answer else { continue };
        for u in &a.context_updates {
            let key = normalize_ws(&u.note).to_lowercase();
            match out
                .iter_mut()
                .find(|x| x.action == u.action && normalize_ws(&x.note).to_lowercase() == key)
            {
                Some(x) => {
                    if !x.agents.contains(&r.name) {
                        x.agents.push(r.name.clone());
                    }
                }
                None => out.push(AttributedContextUpdate {
                    action: u.action,
                    note: u.note.clone(),
                    why: u.why.clone(),
                    agents: vec![r.name.clone()],
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::run;
    use super::*;
    use crate::finding::ContextAction;
    use crate::finding::ContextUpdate;
    use crate::finding::Observation;
    use crate::finding::ObservationKind;

    fn observation(kind: ObservationKind, title: &str) -> Observation {
        Observation {
            kind,
            title: title.to_string(),
            body: String::new(),
            scope: None,
            locations: Vec::new(),
        }
    }

    fn with_observations(name: &str, obs: Vec<Observation>) -> AgentRun {
        let mut r = run(name, Vec::new());
        r.answer.as_mut().unwrap().observations = obs;
        r
    }

    #[test]
    fn the_same_observation_from_two_agents_is_one_and_one_agent_never_repeats_itself() {
        use ObservationKind::*;
        let a = with_observations(
            "claude",
            vec![
                observation(Concern, "retry loop without backoff"),
                observation(Concern, "retry loop without backoff"),
            ],
        );
        let b = with_observations(
            "codex",
            vec![
                observation(Concern, "retry loop without backoff"),
                observation(Strength, "retry loop without backoff"),
            ],
        );
        let got = consolidate_observations(&[&a, &b], None, &Options::default());
        let got: Vec<(ObservationKind, Vec<String>)> =
            got.into_iter().map(|o| (o.kind, o.agents)).collect();
        assert_eq!(
            got,
            vec![
                (Concern, vec!["claude".to_string(), "codex".to_string()]),
                (Concern, vec!["claude".to_string()]),
                (Strength, vec!["codex".to_string()]),
            ]
        );
        assert!(consolidate_observations(&[], None, &Options::default()).is_empty());
    }

    #[test]
    fn assessments_are_trimmed_attributed_and_blank_ones_skipped() {
        let mut a = run("claude", Vec::new());
        let answer = a.answer.as_mut().unwrap();
        answer.assessments.testing = Some("  no test covers the retry \n".into());
        answer.assessments.documentation = Some("   ".into());
        let set = collect_assessments(&[&a]);
        assert_eq!(
            set.testing,
            vec![Attributed {
                agent: "claude".into(),
                text: "no test covers the retry".into()
            }]
        );
        assert!(set.documentation.is_empty() && set.commits.is_empty());
    }

    #[test]
    fn the_same_context_note_from_two_agents_is_one_update() {
        let update = |note: &str| ContextUpdate {
            action: ContextAction::Add,
            note: note.to_string(),
            why: String::new(),
        };
        let mut a = run("claude", Vec::new());
        a.answer.as_mut().unwrap().context_updates = vec![
            update("Use the pool  for DB access"),
            update("Use the pool for DB access"),
        ];
        let mut b = run("codex", Vec::new());
        b.answer.as_mut().unwrap().context_updates = vec![update("use the POOL for db access")];
        let got = collect_context_updates(&[&a, &b]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].note, "Use the pool  for DB access");
        assert_eq!(got[0].agents, vec!["claude", "codex"]);
    }
}
