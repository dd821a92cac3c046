//! Property tests for the parsers that read untrusted text: the diff parser, each agent CLI's
//! stream parser, and the findings JSON. Whatever an agent prints or a PR's diff holds, they
//! must not panic, must stay linear on long lines, and must read well-formed input exactly.
//!
//! `PROPTEST_CASES` sets the case count (default 256; the git-backed diff property runs a
//! sixteenth of it). For a longer hunt: `PROPTEST_CASES=20000 cargo test --test properties`.

mod answers;
mod diffs;
mod long_lines;
mod streams;

use proptest::prelude::*;

/// The configured case count (PROPTEST_CASES, default 256), divided for costly properties.
pub fn config(divisor: u32) -> ProptestConfig {
    let base = ProptestConfig::default();
    ProptestConfig {
        cases: (base.cases / divisor).max(1),
        ..base
    }
}

/// Cuts `s` to at most `n` bytes on a character boundary.
pub fn prefix(s: &str, n: usize) -> &str {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

#[derive(Debug, Clone)]
pub enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, String),
}

pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let piece = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("```".to_string()),
        Just("null".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("0".to_string()),
        "\\PC{0,4}",
    ];
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 0usize..8).prop_map(|(at, n)| Edit::Delete(at, n)),
            (any::<usize>(), piece.clone()).prop_map(|(at, s)| Edit::Insert(at, s)),
            (any::<usize>(), piece).prop_map(|(at, s)| Edit::Replace(at, s)),
        ],
        1..6,
    )
}

pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_string();
    for e in edits {
        let at = |i: usize, s: &str| prefix(s, i % (s.len() + 1)).len();
        match e {
            Edit::Delete(i, n) => {
                let a = at(*i, &s);
                let b = prefix(&s, a + n).len().max(a);
                s.replace_range(a..b, "");
            }
            Edit::Insert(i, t) => {
                let a = at(*i, &s);
                s.insert_str(a, t);
            }
            Edit::Replace(i, t) => {
                let a = at(*i, &s);
                let b = s[a..].chars().next().map_or(a, |c| a + c.len_utf8());
                s.replace_range(a..b, t);
            }
        }
    }
    s
}
