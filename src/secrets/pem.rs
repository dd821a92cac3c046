//! A PEM private key's block, masked whole: its body lines (up to [`MAX_KEY_LINES`]) between
//! the `-----BEGIN … PRIVATE KEY-----` and `-----END …-----` lines, which are kept so a reader
//! still sees what it was. The block spans lines, so masking carries a [`KeyBlock`] from one
//! line to the next; inside one line (a JSON string with escaped newlines) it ends at END.

use regex::Regex;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Lines after a private key's BEGIN line still masked as its body when no END line comes.
pub(super) const MAX_KEY_LINES: usize = 200;

/// What masking carries from one line to the next: whether it is inside a private key's
/// block (the lines left to mask as its body when no END line comes).
#[derive(Debug, Default, Clone)]
pub struct KeyBlock {
    lines_left: usize,
}

impl KeyBlock {
    /// Inside a block: the next line is masked as its body.
    pub(super) fn active(&self) -> bool {
        self.lines_left > 0
    }
}

fn key_begin() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----").expect("compiles")
    })
}

fn key_end() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----").expect("compiles")
    })
}

/// `s` with every run of 8 or more base64 characters replaced: a key's body. A run right
/// after a backslash keeps its first character (`\nMIIE…` is an escaped newline, then the
/// body), so JSON stays JSON.
fn mask_key_body(s: &str) -> String {
    let b = s.as_bytes();
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=';
    let mut out = String::with_capacity(s.len());
    let (mut i, mut last) = (0, 0);
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = if i > 0 && b[i - 1] == b'\\' { i + 1 } else { i };
        let mut j = i;
        while j < b.len() && is_b64(b[j]) {
            j += 1;
        }
        if j >= start + 8 {
            out.push_str(&s[last..start]);
            out.push_str("…[redacted]");
            last = j;
        }
        i = j;
    }
    out.push_str(&s[last..]);
    out
}

/// The private key blocks of one line masked: a body inside the line (as in JSON, with
/// escaped newlines) up to its END, a body that goes on to the next lines, and the lines of
/// a body that started on an earlier line (`key`).
pub(super) fn mask_key_blocks<'a>(line: &'a str, key: &mut KeyBlock) -> Cow<'a, str> {
    let mut out = String::new();
    let mut rest = line;
    if key.lines_left > 0 {
        match key_end().find(rest) {
            Some(end) => {
                out.push_str(&mask_key_body(&rest[..end.start()]));
                key.lines_left = 0;
                rest = &rest[end.start()..];
            }
            None => {
                key.lines_left -= 1;
                // A diff's `+` stays, so the diff still reads.
                let (prefix, body) = rest.split_at(usize::from(rest.starts_with('+')));
                return Cow::Owned(format!("{prefix}{}", mask_key_body(body)));
            }
        }
    } else if !key_begin().is_match(rest) {
        return Cow::Borrowed(line);
    }
    while let Some(begin) = key_begin().find(rest) {
        out.push_str(&rest[..begin.end()]);
        rest = &rest[begin.end()..];
        match key_end().find(rest) {
            Some(end) => {
                out.push_str(&mask_key_body(&rest[..end.start()]));
                out.push_str(end.as_str());
                rest = &rest[end.end()..];
            }
            None => {
                let after = rest.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == ',');
                if after.is_empty() || after == "\\n" {
                    key.lines_left = MAX_KEY_LINES;
                }
                out.push_str(&mask_key_body(rest));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::*;

    const BODY: [&str; 2] = [
        "MIIEowIBAAKCAQEAq7BFUAkGfZq8rT2mLp9Wx4nB7vK3cD6fH1jS5gA0eYuIoPl7",
        "Hq2Zr9LmV4xKp8WnB3cYd6Fs1Tg5Uj0Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz2Xc==",
    ];

    fn assert_no_body(masked: &str) {
        for b in BODY {
            assert!(
                !masked.contains(&b[6..30]),
                "the key's body is there: {masked}"
            );
        }
    }

    #[test]
    fn a_private_keys_whole_block_is_masked_and_its_lines_kept() {
        let pem = format!(
            "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n-----END OPENSSH PRIVATE KEY-----\nafter AKIAIOSFODNN7EXAMPLQ",
            BODY[0], BODY[1]
        );
        let masked = redact_text(&pem);
        assert_no_body(&masked);
        assert!(
            masked.contains("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
            "{masked}"
        );
        assert!(
            masked.contains("\n-----END OPENSSH PRIVATE KEY-----\n"),
            "{masked}"
        );
        assert!(masked.ends_with("after AKIA…[redacted]"), "{masked}");
        assert_eq!(masked.lines().count(), pem.lines().count(), "{masked}");
        // In a diff, with its `+` prefixes.
        let diff = format!(
            "+-----BEGIN RSA PRIVATE KEY-----\n+{}\n+{}\n+-----END RSA PRIVATE KEY-----\n context",
            BODY[0], BODY[1]
        );
        let masked = redact_text(&diff);
        assert_no_body(&masked);
        assert!(
            masked.ends_with("+-----END RSA PRIVATE KEY-----\n context"),
            "{masked}"
        );
    }

    #[test]
    fn a_private_key_inside_one_json_line_is_masked_and_the_json_still_parses() {
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----\n",
            BODY[0], BODY[1]
        );
        let line = serde_json::json!({"text": pem, "n": 1}).to_string();
        let masked = redact_line(&line);
        assert_no_body(&masked);
        let v: serde_json::Value = serde_json::from_str(&masked).expect("still JSON");
        assert!(v["text"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(v["text"]
            .as_str()
            .unwrap()
            .ends_with("-----END PRIVATE KEY-----\n"));
    }

    #[test]
    fn a_private_key_streamed_line_by_line_is_masked() {
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n{}\n-----END EC PRIVATE KEY-----\ntail\n",
            BODY[0], BODY[1]
        );
        let mut out = Vec::new();
        let mut m = LineMasker::new();
        for chunk in pem.as_bytes().chunks(9) {
            m.push(chunk, |b| out.extend_from_slice(b));
        }
        m.finish(|b| out.extend_from_slice(b));
        let out = String::from_utf8(out).unwrap();
        assert_no_body(&out);
        assert!(
            out.ends_with("-----END EC PRIVATE KEY-----\ntail\n"),
            "{out}"
        );
    }
}
