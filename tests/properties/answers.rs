//! The findings JSON: a valid answer always parses; anything else is an answer or an error.

use crate::apply;
use crate::config;
use crate::edits;
use crate::prefix;
use deep_review::finding::parse_answer;
use deep_review::finding::Answer;
use deep_review::finding::Assessments;
use deep_review::finding::ContextAction;
use deep_review::finding::ContextUpdate;
use deep_review::finding::Finding;
use deep_review::finding::Location;
use deep_review::finding::Observation;
use deep_review::finding::ObservationKind;
use deep_review::finding::Scope;
use deep_review::finding::Severity;
use deep_review::finding::Verdict;
use proptest::prelude::*;

/// Text for answer fields: short (under any field cap), any characters but backticks, so a
/// fenced answer stays one fence.
fn field() -> impl Strategy<Value = String> {
    "[^`]{0,24}"
}

fn non_blank() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][^`]{0,24}"
}

fn location() -> impl Strategy<Value = Location> {
    (
        non_blank(),
        1u32..100_000,
        prop::option::of(0u32..50),
        prop::option::of(field()),
    )
        .prop_map(|(path, start_line, span, quote)| Location {
            path,
            start_line,
            end_line: span.map(|s| start_line + s),
            quote,
            replacement: None,
        })
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(vec![
        Scope::Regression,
        Scope::InScope,
        Scope::PreExisting,
        Scope::Future,
    ])
}

fn finding() -> impl Strategy<Value = Finding> {
    (
        prop::sample::select(vec![
            Severity::Critical,
            Severity::Important,
            Severity::Suggestion,
        ]),
        non_blank(),
        field(),
        prop::collection::vec(location(), 0..3),
        prop::option::of(field()),
        prop::option::of(scope()),
        prop::option::of(field()),
        prop::option::of(0u32..=100),
    )
        .prop_map(
            |(severity, title, body, locations, fix, scope, category, confidence)| Finding {
                severity,
                title,
                body,
                locations,
                fix,
                scope,
                category,
                confidence: confidence.map(|c| f64::from(c) / 100.0),
            },
        )
}

fn observation() -> impl Strategy<Value = Observation> {
    (
        prop::sample::select(vec![ObservationKind::Concern, ObservationKind::Strength]),
        field(),
        field(),
        prop::option::of(scope()),
        prop::collection::vec(location(), 0..2),
    )
        .prop_map(|(kind, title, body, scope, locations)| Observation {
            kind,
            title,
            body,
            scope,
            locations,
        })
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        field(),
        prop::option::of(prop::sample::select(vec![
            Verdict::Merge,
            Verdict::MergeWithFixes,
            Verdict::DoNotMerge,
        ])),
        prop::collection::vec(finding(), 0..4),
        prop::collection::vec(observation(), 0..3),
        (
            prop::option::of(field()),
            prop::option::of(field()),
            prop::option::of(field()),
        ),
        prop::collection::vec(
            (any::<bool>(), field(), field()).prop_map(|(add, note, why)| ContextUpdate {
                action: if add {
                    ContextAction::Add
                } else {
                    ContextAction::Remove
                },
                note,
                why,
            }),
            0..2,
        ),
    )
        .prop_map(
            |(
                summary,
                verdict,
                findings,
                observations,
                (testing, documentation, commits),
                context_updates,
            )| {
                Answer {
                    schema: 1,
                    summary,
                    verdict,
                    findings,
                    observations,
                    assessments: Assessments {
                        testing,
                        documentation,
                        commits,
                    },
                    context_updates,
                    notes: Vec::new(),
                }
            },
        )
}

/// How an agent may present its answer around the JSON.
fn wrapped(json: &str, how: u8) -> String {
    match how % 4 {
        0 => json.to_string(),
        1 => format!("Here is my review.\n\n```json\n{json}\n```\n"),
        2 => format!(
            "An example first:\n```json\n{{\"schema\": 1, \"findings\": [{{\"title\": \"\"}}]}}\n```\nThe answer:\n```\n{json}\n```"
        ),
        _ => format!("My answer: {json} (end)"),
    }
}

proptest! {
    #![proptest_config(config(1))]

    #[test]
    fn a_valid_answer_always_parses(a in answer(), pretty in any::<bool>(), how in any::<u8>()) {
        let json = if pretty {
            serde_json::to_string_pretty(&a).unwrap()
        } else {
            serde_json::to_string(&a).unwrap()
        };
        let parsed = parse_answer(&wrapped(&json, how));
        prop_assert_eq!(parsed, Ok(a));
    }

    #[test]
    fn any_prefix_or_mutation_of_an_answer_is_an_answer_or_an_error(
        a in answer(),
        cut in any::<usize>(),
        edits in edits(),
        how in any::<u8>(),
    ) {
        let text = wrapped(&serde_json::to_string(&a).unwrap(), how);
        for t in [prefix(&text, cut % (text.len() + 1)).to_string(), apply(&text, &edits)] {
            match parse_answer(&t) {
                Ok(_) => {}
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn arbitrary_text_is_an_answer_or_an_error(text in any::<String>(), bytes in prop::collection::vec(any::<u8>(), 0..500)) {
        let _ = parse_answer(&text);
        let _ = parse_answer(&String::from_utf8_lossy(&bytes));
        let _ = parse_answer(&format!("```json\n{text}\n```"));
        let _ = parse_answer(&format!("{{{text}}}"));
    }
}
