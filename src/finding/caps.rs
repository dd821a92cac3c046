//! Caps on one agent's answer, applied while it is parsed, so memory stays bounded and the
//! report readable whatever an agent prints: lists keep their first items (the rest are
//! skipped unread and counted), free text is cut with a marker, and a location that cannot
//! be used is dropped on its own instead of rejecting the whole answer. Each cap that applies
//! leaves a note, which the review shows.

use super::location_problem;
use super::Answer;
use super::Assessments;
use super::ContextUpdate;
use super::Finding;
use super::Location;
use super::Observation;
use super::ObservationKind;
use super::Scope;
use super::Severity;
use super::Verdict;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::marker::PhantomData;

/// Findings kept per answer.
pub const MAX_FINDINGS: usize = 200;
/// Observations and context updates kept per answer.
pub const MAX_ITEMS: usize = 200;
/// Locations kept per finding or observation.
pub const MAX_LOCATIONS: usize = 20;
/// Longest kept titles, in bytes.
pub const TITLE_CAP: usize = 300;
/// Longest kept bodies, fixes, summaries and assessments, in bytes.
pub const TEXT_CAP: usize = 16 * 1024;
/// Longest kept context notes (and their reasons), in bytes.
pub const NOTE_CAP: usize = 2 * 1024;
/// Longest kept quote or path, in bytes; a longer path drops its location.
pub const LINE_CAP: usize = 1024;
/// Longest kept replacement, in bytes: a longer one is dropped (a cut one would be wrong),
/// its location kept.
pub const REPLACEMENT_CAP: usize = 4 * 1024;
/// Longest kept category, in bytes.
pub const CATEGORY_CAP: usize = 64;
/// Notes kept per answer; further ones are counted.
const MAX_NOTES: usize = 20;

/// A list kept to its first `N` items; later items are skipped without being built.
pub(super) struct Capped<T, const N: usize> {
    kept: Vec<T>,
    skipped: usize,
}

impl<T, const N: usize> Default for Capped<T, N> {
    fn default() -> Self {
        Capped {
            kept: Vec::new(),
            skipped: 0,
        }
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Capped<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> serde::de::Visitor<'de> for Visitor<T, N> {
            type Value = Capped<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Capped::default();
                while out.kept.len() < N {
                    match seq.next_element::<T>()? {
                        Some(item) => out.kept.push(item),
                        None => return Ok(out),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    out.skipped += 1;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Visitor::<T, N>(PhantomData))
    }
}

/// A location as the agent wrote it: usable, or why not (the rest of the answer stands).
pub(super) struct LooseLocation(Result<Location, String>);

impl<'de> Deserialize<'de> for LooseLocation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(LooseLocation(
            serde_json::from_value::<Location>(value).map_err(|e| e.to_string()),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnswer {
    #[allow(dead_code)]
    schema: u32,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    verdict: Option<Verdict>,
    #[serde(default)]
    findings: Capped<RawFinding, MAX_FINDINGS>,
    #[serde(default)]
    observations: Capped<RawObservation, MAX_ITEMS>,
    #[serde(default)]
    assessments: Assessments,
    #[serde(default)]
    context_updates: Capped<ContextUpdate, MAX_ITEMS>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    severity: Severity,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    locations: Capped<LooseLocation, MAX_LOCATIONS>,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObservation {
    kind: ObservationKind,
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    locations: Capped<LooseLocation, MAX_LOCATIONS>,
}

/// The notes of one answer, themselves capped.
#[derive(Default)]
struct Notes {
    kept: Vec<String>,
    more: usize,
}

impl Notes {
    fn push(&mut self, note: String) {
        if self.kept.len() < MAX_NOTES {
            self.kept.push(note);
        } else {
            self.more += 1;
        }
    }

    fn held_back(&mut self, what: &str, skipped: usize, cap: usize) {
        if skipped > 0 {
            self.push(format!(
                "{skipped} more {what} held back (an answer keeps its first {cap})"
            ));
        }
    }

    fn into_vec(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept.push(format!("and {} more such notes", self.more));
        }
        self.kept
    }
}

/// Cuts `s` to at most `cap` bytes (on a character boundary), marking the cut when `mark`.
fn cut(s: &mut String, cap: usize, mark: bool, at: &str, notes: &mut Notes) {
    if s.len() <= cap {
        return;
    }
    let was = s.len();
    let mut end = cap;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    if mark {
        s.push_str(&format!("… [cut: {} more bytes]", was - end));
    }
    s.shrink_to_fit();
    notes.push(format!("`{at}` cut to {cap} bytes (it had {was})"));
}

fn cut_opt(s: &mut Option<String>, cap: usize, at: &str, notes: &mut Notes) {
    if let Some(s) = s {
        cut(s, cap, true, at, notes);
    }
}

/// Whether a list of locations may carry a replacement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Replacements {
    /// A finding's: the first replacement is kept, later ones are dropped.
    First,
    /// An observation's: none.
    None,
}

/// The replacement as consolidation reads it, or None with a note when it cannot be kept
/// (`taken`: an earlier location of the same finding already carries one). A blank one is
/// no replacement: strict structured outputs often fill an optional string with "".
fn replacement(
    text: Option<String>,
    allowed: Replacements,
    taken: bool,
    at: &str,
    notes: &mut Notes,
) -> Option<String> {
    let text = text.filter(|t| !t.trim().is_empty())?;
    let why = if allowed == Replacements::None {
        "only a finding's location can carry one".to_string()
    } else if taken {
        "a finding carries at most one replacement (the first is kept)".to_string()
    } else if text.len() > REPLACEMENT_CAP {
        format!(
            "it has {} bytes, more than the {REPLACEMENT_CAP} a small fix needs",
            text.len()
        )
    } else {
        let text = text.replace("\r\n", "\n");
        return Some(text.strip_suffix('\n').unwrap_or(&text).to_string());
    };
    notes.push(format!("`{at}.replacement` dropped: {why}"));
    None
}

/// The usable locations, each cut to size; the others dropped with a note.
fn locations(
    raw: Capped<LooseLocation, MAX_LOCATIONS>,
    at: &str,
    allowed: Replacements,
    notes: &mut Notes,
) -> Vec<Location> {
    let mut out: Vec<Location> = Vec::new();
    for (j, LooseLocation(l)) in raw.kept.into_iter().enumerate() {
        let here = format!("{at}.locations[{j}]");
        let usable = l.and_then(|l| match location_problem(&l) {
            _ if l.path.len() > LINE_CAP => Err(format!("`path` is longer than {LINE_CAP} bytes")),
            Some(p) => Err(p),
            None => Ok(l),
        });
        match usable {
            Ok(mut l) => {
                if let Some(q) = &mut l.quote {
                    cut(q, LINE_CAP, false, &format!("{here}.quote"), notes);
                }
                let taken = out.iter().any(|o| o.replacement.is_some());
                l.replacement = replacement(l.replacement.take(), allowed, taken, &here, notes);
                out.push(l);
            }
            Err(p) => notes.push(format!("`{here}` dropped: {p}")),
        }
    }
    notes.held_back(&format!("locations of `{at}`"), raw.skipped, MAX_LOCATIONS);
    out
}

impl RawAnswer {
    pub(super) fn into_answer(self) -> Answer {
        let mut notes = Notes::default();
        let n = &mut notes;
        n.held_back("findings", self.findings.skipped, MAX_FINDINGS);
        n.held_back("observations", self.observations.skipped, MAX_ITEMS);
        n.held_back("context updates", self.context_updates.skipped, MAX_ITEMS);
        let mut summary = self.summary;
        cut(&mut summary, TEXT_CAP, true, "summary", n);
        let findings = self
            .findings
            .kept
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let at = format!("findings[{i}]");
                let mut f2 = Finding {
                    severity: f.severity,
                    title: f.title,
                    body: f.body,
                    locations: locations(f.locations, &at, Replacements::First, n),
                    fix: f.fix,
                    scope: f.scope,
                    category: f.category,
                    confidence: f.confidence,
                };
                cut(&mut f2.title, TITLE_CAP, true, &format!("{at}.title"), n);
                cut(&mut f2.body, TEXT_CAP, true, &format!("{at}.body"), n);
                cut_opt(&mut f2.fix, TEXT_CAP, &format!("{at}.fix"), n);
                cut_opt(&mut f2.category, CATEGORY_CAP, &format!("{at}.category"), n);
                f2
            })
            .collect();
        let observations = self
            .observations
            .kept
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let at = format!("observations[{i}]");
                let mut o2 = Observation {
                    kind: o.kind,
                    title: o.title,
                    body: o.body,
                    scope: o.scope,
                    locations: locations(o.locations, &at, Replacements::None, n),
                };
                cut(&mut o2.title, TITLE_CAP, true, &format!("{at}.title"), n);
                cut(&mut o2.body, TEXT_CAP, true, &format!("{at}.body"), n);
                o2
            })
            .collect();
        let mut assessments = self.assessments;
        cut_opt(&mut assessments.testing, TEXT_CAP, "assessments.testing", n);
        cut_opt(
            &mut assessments.documentation,
            TEXT_CAP,
            "assessments.documentation",
            n,
        );
        cut_opt(&mut assessments.commits, TEXT_CAP, "assessments.commits", n);
        let context_updates = self
            .context_updates
            .kept
            .into_iter()
            .enumerate()
            .map(|(i, mut u)| {
                cut(
                    &mut u.note,
                    NOTE_CAP,
                    true,
                    &format!("context_updates[{i}].note"),
                    n,
                );
                cut(
                    &mut u.why,
                    NOTE_CAP,
                    true,
                    &format!("context_updates[{i}].why"),
                    n,
                );
                u
            })
            .collect();
        Answer {
            schema: super::SCHEMA_VERSION,
            summary,
            verdict: self.verdict,
            findings,
            observations,
            assessments,
            context_updates,
            notes: notes.into_vec(),
        }
    }
}
