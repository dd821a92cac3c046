//! Credentials: finding them in added lines (for the builtin reviewer) and masking them in
//! anything deep-review writes (reports, stderr tails, quoted code), so a secret never travels
//! further than the file it was committed in.

use regex::Regex;
use std::sync::OnceLock;

/// One kind of credential and how to recognise it.
struct Pattern {
    name: &'static str,
    regex: Regex,
    /// Capture group holding the secret value (0 = whole match).
    group: usize,
    /// Minimum Shannon entropy (bits per char) of the value, for generic assignments.
    min_entropy: f64,
}

fn patterns() -> &'static [Pattern] {
    static PATTERNS: OnceLock<Vec<Pattern>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let p = |name, re: &str, group, min_entropy| Pattern {
            name,
            regex: Regex::new(re).expect("secret pattern compiles"),
            group,
            min_entropy,
        };
        vec![
            p(
                "private key",
                r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
                0,
                0.0,
            ),
            p("AWS access key ID", r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16})\b", 1, 0.0),
            p(
                "AWS secret access key",
                r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})\b"#,
                1,
                3.0,
            ),
            p("GitHub token", r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b", 1, 0.0),
            p("GitHub token", r"\b(github_pat_[A-Za-z0-9_]{60,255})\b", 1, 0.0),
            p("Slack token", r"\b(xox[abposr]-[A-Za-z0-9-]{10,250})\b", 1, 0.0),
            p(
                "Slack webhook",
                r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,})",
                1,
                0.0,
            ),
            p("Google API key", r"\b(AIza[0-9A-Za-z_-]{35})\b", 1, 0.0),
            p("OpenAI API key", r"\b(sk-(?:proj-)?[A-Za-z0-9_-]{32,})\b", 1, 3.0),
            p("Anthropic API key", r"\b(sk-ant-[A-Za-z0-9_-]{32,})\b", 1, 0.0),
            p(
                "credential assignment",
                r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|secret|token|api_?key|access_?key|auth_?key|private_?key|client_?secret)[a-z0-9_.-]*["']?\s*(?::=|=|:)\s*["']([^"'\s]{16,})["']"#,
                1,
                3.5,
            ),
        ]
    })
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
    let mut hits: Vec<SecretHit> = Vec::new();
    for p in patterns() {
        for caps in p.regex.captures_iter(line) {
            let Some(m) = caps.get(p.group) else { continue };
            if p.min_entropy > 0.0 && entropy(m.as_str()) < p.min_entropy {
                continue;
            }
            if looks_like_placeholder(m.as_str()) {
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

/// Masks every credential in `line`, keeping its first four characters so a reader can still
/// tell which one it was.
pub fn redact_line(line: &str) -> String {
    let hits = scan_line(line);
    if hits.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for h in hits {
        out.push_str(&line[at..h.start]);
        let value = &line[h.start..h.end];
        let keep: String = value.chars().take(4).collect();
        if value.starts_with("-----BEGIN") {
            out.push_str(value);
        } else {
            out.push_str(&keep);
            out.push_str("…[redacted]");
        }
        at = h.end;
    }
    out.push_str(&line[at..]);
    out
}

/// [`redact_line`] over every line of a text.
pub fn redact_text(text: &str) -> String {
    if !text.lines().any(|l| !scan_line(l).is_empty()) {
        return text.to_string();
    }
    text.split('\n')
        .map(redact_line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_common_credentials() {
        let cases = [
            (
                "aws_access_key_id = AKIAIOSFODNN7EXAMPLQ",
                "AWS access key ID",
            ),
            ("-----BEGIN RSA PRIVATE KEY-----", "private key"),
            (
                "token: ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
                "GitHub token",
            ),
            ("SLACK=xoxb-1234567890-abcdefghijkl", "Slack token"),
            (
                "key = \"AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q\"",
                "Google API key",
            ),
            (
                "db_password = \"q8Zr!vT2#mLp9Wx4&nB7\"",
                "credential assignment",
            ),
        ];
        for (line, kind) in cases {
            let hits = scan_line(line);
            assert_eq!(hits.len(), 1, "{line}: {hits:?}");
            assert_eq!(hits[0].kind, kind, "{line}");
        }
    }

    #[test]
    fn ignores_placeholders_and_low_entropy() {
        for line in [
            "password = \"changeme-changeme-changeme\"",
            "token = \"aaaaaaaaaaaaaaaaaaaaaaaa\"",
            "api_key = \"${API_KEY_FROM_ENVIRONMENT}\"",
            "let token = tokens.next();",
        ] {
            assert!(scan_line(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn redacts_values() {
        let r = redact_line("id = AKIAIOSFODNN7EXAMPLQ # prod");
        assert_eq!(r, "id = AKIA…[redacted] # prod");
        assert!(
            !redact_text("a\nghp_0123456789abcdefghijABCDEFGHIJ0123456789\n")
                .contains("0123456789abcdef")
        );
    }
}
