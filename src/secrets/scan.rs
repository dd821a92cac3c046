//! Finding credentials in a line: the known token formats, each a pattern with the literal
//! parts every match holds, so one Aho-Corasick pass picks the few patterns worth running.

use regex::Regex;
use std::sync::OnceLock;

/// One kind of credential and how to recognise it.
struct Pattern {
    name: &'static str,
    source: &'static str,
    /// Compiled on the first line that holds one of `needles`: most text holds none, and
    /// compiling every pattern up front costs more than scanning a 500-line diff.
    regex: OnceLock<Regex>,
    /// Every match contains one of these (compared ignoring ASCII case), so an ASCII line
    /// with none of them cannot match and is not searched.
    needles: &'static [&'static str],
    /// Capture group holding the secret value (0 = whole match).
    group: usize,
    /// Minimum Shannon entropy (bits per char) of the value, for generic assignments.
    min_entropy: f64,
}

fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |name, source, needles, group, min_entropy| Pattern {
            name,
            source,
            regex: OnceLock::new(),
            needles,
            group,
            min_entropy,
        };
        vec![
            p(
                "private key",
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
                &["-----BEGIN "],
                0,
                0.0,
            ),
            p(
                "AWS access key ID",
                r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16})\b",
                &["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA"],
                1,
                0.0,
            ),
            p(
                "AWS secret access key",
                r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b"#,
                &["secret"],
                1,
                3.0,
            ),
            p(
                "GitHub token",
                r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b",
                &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
                1,
                0.0,
            ),
            p(
                "GitHub token",
                r"\b(github_pat_[A-Za-z0-9_]{60,255})\b",
                &["github_pat_"],
                1,
                0.0,
            ),
            p(
                "Slack token",
                r"\b(xox[abposr]-[A-Za-z0-9-]{10,250})\b",
                &["xox"],
                1,
                0.0,
            ),
            p("npm token", r"\b(npm_[A-Za-z0-9]{36})\b", &["npm_"], 1, 0.0),
            // .npmrc: `//registry.npmjs.org/:_authToken=…`, `_auth=…`, `_password=…`, unquoted.
            p(
                "npm credential",
                r#"(?i)(?:^|[\s:])_(?:authToken|auth|password)\s*=\s*["']?([^\s"']{8,})"#,
                &["_auth", "_password"],
                1,
                0.0,
            ),
            // .netrc: `machine h login u password p`, or `password p` on a line of its own.
            p(
                "netrc password",
                r#"(?i)(?:^[+ ]?\s*|\\n\s*|\blogin\s+[^\s\\]+\s+)password\s+([^\s"'\\]{3,})"#,
                &["password"],
                1,
                0.0,
            ),
            // Docker's config.json: `"auth": "<base64 user:password>"`, also JSON-escaped.
            p(
                "Docker registry credential",
                r#"\\?"(?:auth|identitytoken|registrytoken)\\?"\s*:\s*\\?"([A-Za-z0-9+/=._-]{8,})\\?""#,
                &["auth", "token"],
                1,
                0.0,
            ),
            p(
                "Slack webhook",
                r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,})",
                &["hooks.slack.com"],
                1,
                0.0,
            ),
            p(
                "Google API key",
                r"\b(AIza[0-9A-Za-z_-]{35})\b",
                &["AIza"],
                1,
                0.0,
            ),
            // Before OpenAI's: `sk-ant-…` also matches the looser `sk-…` form, and the first
            // pattern to claim a span names it.
            p(
                "Anthropic API key",
                r"\b(sk-ant-[A-Za-z0-9_-]{32,})\b",
                &["sk-ant-"],
                1,
                0.0,
            ),
            p(
                "OpenAI API key",
                r"\b(sk-(?:proj-)?[A-Za-z0-9_-]{32,})\b",
                &["sk-"],
                1,
                3.0,
            ),
            p(
                "credential assignment",
                r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|secret|token|api_?key|access_?key|auth_?key|private_?key|client_?secret)[a-z0-9_.-]*["']?\s*(?::=|=|:)\s*["']([^"'\s]{16,})["']"#,
                &[
                    "password", "passwd", "secret", "token", "apikey", "api_key", "accesskey",
                    "access_key", "authkey", "auth_key", "privatekey", "private_key",
                ],
                1,
                3.5,
            ),
        ]
    })
}

impl Pattern {
    fn regex(&self) -> &Regex {
        self.regex
            .get_or_init(|| Regex::new(self.source).expect("secret pattern compiles"))
    }
}

/// Every pattern's needles in one automaton (ASCII case ignored), with the pattern each
/// needle belongs to, the needle, and whether that pattern minds case.
type Needles = (aho_corasick::AhoCorasick, Vec<(usize, &'static str, bool)>);

fn needles() -> &'static Needles {
    static NEEDLES: OnceLock<Needles> = OnceLock::new();
    NEEDLES.get_or_init(|| {
        let mut owner = Vec::new();
        let mut words = Vec::new();
        for (i, p) in patterns().iter().enumerate() {
            for n in p.needles {
                owner.push((i, *n, !p.source.starts_with("(?i)")));
                words.push(*n);
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&words)
            .expect("secret needles build");
        (ac, owner)
    })
}

/// Which patterns may match in `line`: those with a needle in it (one pass over the line);
/// None when no pattern can, the usual answer, which costs no allocation.
fn candidates(line: &str) -> Option<Vec<bool>> {
    let n = patterns().len();
    // Unicode simple case folding (which `(?i)` uses) maps two non-ASCII letters to ASCII
    // ones: the Kelvin sign to `k` and the long s to `s`. An ASCII needle would miss them, so
    // a line holding either is searched by every pattern.
    if line.contains(['\u{212A}', '\u{17F}']) {
        return Some(vec![true; n]);
    }
    let (ac, owner) = needles();
    if !ac.is_match(line) {
        return None;
    }
    let mut may = vec![false; n];
    for m in ac.find_overlapping_iter(line) {
        let (pattern, needle, exact) = owner[m.pattern().as_usize()];
        if !exact || &line[m.start()..m.end()] == needle {
            may[pattern] = true;
        }
    }
    may.contains(&true).then_some(may)
}

/// A credential found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    pub kind: &'static str,
    /// Byte range of the secret value in the line.
    pub start: usize,
    pub end: usize,
}

/// Credentials in one line of text.
pub fn scan_line(line: &str) -> Vec<SecretHit> {
    match candidates(line) {
        Some(may) => scan_with(line, &may),
        None => Vec::new(),
    }
}

/// The credentials that the patterns marked in `may` find in `line`.
fn scan_with(line: &str, may: &[bool]) -> Vec<SecretHit> {
    let mut hits: Vec<SecretHit> = Vec::new();
    for (p, _) in patterns().iter().zip(may).filter(|(_, m)| **m) {
        for caps in p.regex().captures_iter(line) {
            let Some(m) = caps.get(p.group) else { continue };
            if p.min_entropy > 0.0 && entropy(m.as_str()) < p.min_entropy {
                continue;
            }
            if looks_like_placeholder(m.as_str()) {
                continue;
            }
            if p.min_entropy > 0.0 && looks_like_variable_name(m.as_str()) {
                continue;
            }
            if hits.iter().any(|h| h.start < m.end() && m.start() < h.end) {
                continue;
            }
            hits.push(SecretHit {
                kind: p.name,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    hits.sort_by_key(|h| h.start);
    hits
}

/// `ANTHROPIC_API_KEY` as a value names where a key comes from (claude's
/// `"apiKeySource":"ANTHROPIC_API_KEY"`), it is not one.
fn looks_like_variable_name(value: &str) -> bool {
    value.contains('_')
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn looks_like_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    [
        "example",
        "placeholder",
        "changeme",
        "your_",
        "xxxxxxxx",
        "${",
        "{{",
        "<",
    ]
    .iter()
    .any(|p| lower.contains(p))
        || lower.starts_with("env.")
        || lower.starts_with("process.env")
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scan_line` without the needle prefilter: every pattern searched on every line.
    fn scan_unfiltered(line: &str) -> Vec<(usize, usize)> {
        scan_with(line, &vec![true; patterns().len()])
            .iter()
            .map(|h| (h.start, h.end))
            .collect()
    }

    #[test]
    fn the_needle_prefilter_never_changes_what_is_found() {
        let lines = [
            "-----BEGIN RSA PRIVATE KEY-----",
            "key = AKIAIOSFODNN7EXAMPLF",
            r#"AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEZ""#,
            "Aws_Secret_Key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEZ'",
            "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "github_pat_11ABCDEFG0aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789aBcDeFgHiJkLmNoPq",
            "SLACK=xoxb-1234567890-abcdefghij",
            "//registry.npmjs.org/:_authToken=npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "_PASSWORD = hunter2hunter2",
            "machine example.com login bob PassWord s3cr3tpass",
            r#"{"auths": {"r.io": {"Auth": "dXNlcjpwYXNzd29yZA==", "auth": "dXNlcjpwYXNzd29yZA=="}}}"#,
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
            "ANTHROPIC=sk-ant-api03-aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678",
            "OPENAI=sk-proj-Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ",
            r#"client_Secret: "Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ""#,
            r#"DB_PASSWD := 'Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ'"#,
            // Non-ASCII: the Kelvin sign folds to `k` under `(?i)`.
            "api_\u{212A}ey = \"Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ\"",
            "PA\u{17F}\u{17F}WORD = \"Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ\"",
            "— café token: \"Zq8xW2vN5mK7pL3jR9tY6uH1gF4dS0aQ\" ⋮ sk-ant-aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678",
            "let v = step(3, 4); // nothing here",
            "Authorization is described in docs/auth.md",
        ];
        let mut found = 0;
        for l in lines {
            let filtered: Vec<_> = scan_line(l).iter().map(|h| (h.start, h.end)).collect();
            assert_eq!(filtered, scan_unfiltered(l), "{l}");
            found += usize::from(!filtered.is_empty());
        }
        assert!(found >= 15, "the corpus holds real secrets: {found}");
    }
}
