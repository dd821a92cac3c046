//! Credentials: finding them in added lines (for the builtin reviewer) and masking them in
//! anything deep-review writes (reports, transcripts, logs, stdout), so a secret never travels
//! further than the file it was committed in or the environment it was set in.
//!
//! One masking step, [`redact_text`] (and [`redact_line`], [`LineMasker`] for streams), masks
//! three things: the known token formats below, the exact values of the environment's
//! secret variables (see [`env_secrets`]), and the body of a PEM private key block, across
//! lines (its BEGIN and END lines are kept, so a reader still sees what it was).

mod pem;
mod scan;
mod url;

use pem::mask_key_blocks;
pub use pem::KeyBlock;
use pem::MAX_KEY_LINES;
pub use scan::entropy;
pub use scan::scan_line;
pub use scan::SecretHit;
use std::borrow::Cow;
use std::sync::OnceLock;
pub use url::mask_url_userinfo;

/// Environment variables whose names contain one of these (case-insensitively) hold secrets.
const SECRET_NAME_PARTS: [&str; 5] = ["KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL"];
/// Values shorter than this are not masked: a short value ("1", "true", "us-east") is not a
/// credential, and masking it everywhere it occurs would garble the reports.
pub const MIN_SECRET_VALUE: usize = 8;

/// An environment secret: the variable's name and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSecret {
    pub name: String,
    pub value: String,
}

/// The secrets among `vars`, longest value first (so a value that contains another is masked
/// whole). Names match [`SECRET_NAME_PARTS`]; values under [`MIN_SECRET_VALUE`] characters, or
/// made of one repeated character, are left alone.
pub fn secrets_among(vars: impl IntoIterator<Item = (String, String)>) -> Vec<EnvSecret> {
    let mut out: Vec<EnvSecret> = vars
        .into_iter()
        .filter(|(name, _)| {
            let upper = name.to_ascii_uppercase();
            SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
        })
        .map(|(name, value)| EnvSecret {
            name,
            value: value.trim().to_string(),
        })
        .filter(|s| {
            let mut chars = s.value.chars();
            let first = chars.clone().next();
            s.value.chars().count() >= MIN_SECRET_VALUE && !chars.all(|c| Some(c) == first)
        })
        .collect();
    out.sort_by(|a, b| b.value.len().cmp(&a.value.len()).then(a.name.cmp(&b.name)));
    out.dedup_by(|a, b| a.value == b.value);
    out
}

/// The secrets of this process's environment, read once.
pub fn env_secrets() -> &'static [EnvSecret] {
    static SECRETS: OnceLock<Vec<EnvSecret>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        secrets_among(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    })
}

/// Secrets added while running (an HTTP reviewer's key read from a variable whose name does
/// not say it is one), masked like the environment's.
static ADDED: std::sync::RwLock<Vec<EnvSecret>> = std::sync::RwLock::new(Vec::new());

/// Masks `value` from now on wherever deep-review writes, as `$name…[redacted]`. Values under
/// [`MIN_SECRET_VALUE`] characters are left alone, as for the environment's.
pub fn add_secret(name: &str, value: &str) {
    let found = secrets_among([(format!("{name}_KEY"), value.to_string())]);
    let Some(mut s) = found.into_iter().next() else {
        return;
    };
    s.name = name.to_string();
    if let Ok(mut added) = ADDED.write() {
        if !added.iter().any(|a| a.value == s.value) {
            added.push(s);
            added.sort_by_key(|a| std::cmp::Reverse(a.value.len()));
        }
    }
}

/// The environment's secrets and the added ones, longest value first.
fn all_secrets() -> Cow<'static, [EnvSecret]> {
    let added = match ADDED.read() {
        Ok(a) if !a.is_empty() => a.clone(),
        _ => return Cow::Borrowed(env_secrets()),
    };
    let mut all: Vec<EnvSecret> = env_secrets().iter().cloned().chain(added).collect();
    all.sort_by_key(|a| std::cmp::Reverse(a.value.len()));
    Cow::Owned(all)
}

/// Replaces every environment secret's value in `text` with `$NAME…[redacted]`.
fn mask_env<'a>(text: &'a str, secrets: &[EnvSecret]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for s in secrets {
        if out.contains(s.value.as_str()) {
            out = Cow::Owned(out.replace(s.value.as_str(), &format!("${}…[redacted]", s.name)));
        }
    }
    out
}

/// Masks every credential in `line`: environment secrets by name, token formats keeping their
/// first four characters so a reader can still tell which one it was.
pub fn redact_line(line: &str) -> String {
    mask_line(line, &all_secrets()).into_owned()
}

fn mask_line<'a>(line: &'a str, secrets: &[EnvSecret]) -> Cow<'a, str> {
    mask_line_in(line, secrets, &mut KeyBlock::default())
}

/// One line of a text masked, inside or outside a private key's block.
fn mask_line_in<'a>(line: &'a str, secrets: &[EnvSecret], key: &mut KeyBlock) -> Cow<'a, str> {
    let keyed = mask_key_blocks(line, key);
    let line = match keyed {
        Cow::Borrowed(l) => mask_env(l, secrets),
        Cow::Owned(l) => Cow::Owned(mask_env(&l, secrets).into_owned()),
    };
    let hits = scan_line(&line);
    if hits.is_empty() {
        return line;
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
    Cow::Owned(out)
}

/// [`redact_line`] over every line of a text: the one masking step in front of every string
/// deep-review writes.
pub fn redact_text(text: &str) -> String {
    mask(text).into_owned()
}

/// [`redact_text`], borrowing when nothing needed masking.
pub fn mask(text: &str) -> Cow<'_, str> {
    mask_with(text, &all_secrets())
}

fn mask_with<'a>(text: &'a str, secrets: &[EnvSecret]) -> Cow<'a, str> {
    mask_in(text, secrets, &mut KeyBlock::default())
}

/// [`mask`] of one piece of a longer text (a line of a stream), with what the pieces before
/// it left in `key`.
pub fn mask_continued<'a>(text: &'a str, key: &mut KeyBlock) -> Cow<'a, str> {
    mask_in(text, &all_secrets(), key)
}

fn mask_in<'a>(text: &'a str, secrets: &[EnvSecret], key: &mut KeyBlock) -> Cow<'a, str> {
    let needs = key.active()
        || secrets.iter().any(|s| text.contains(s.value.as_str()))
        || text.split('\n').any(|l| !scan_line(l).is_empty());
    if !needs {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(|l| mask_line_in(l, secrets, key))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Lines `from..=to` (1-based) of a file's `lines`, masked as the file reads: a line inside
/// a private key's block is masked even when its BEGIN line is above `from`.
pub fn redact_lines(lines: &[String], from: usize, to: usize) -> Vec<String> {
    let secrets = all_secrets();
    let mut key = KeyBlock::default();
    let start = from.saturating_sub(MAX_KEY_LINES + 1).max(1);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate().take(to).skip(start - 1) {
        let masked = mask_line_in(l, &secrets, &mut key);
        if i + 1 >= from {
            out.push(masked.into_owned());
        }
    }
    out
}

/// Masks bytes that may not be UTF-8: valid runs are masked, other bytes kept as they are, so
/// a raw transcript stays byte-faithful apart from its secrets.
pub fn mask_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    mask_bytes_in(bytes, &mut KeyBlock::default())
}

fn mask_bytes_in<'a>(bytes: &'a [u8], key: &mut KeyBlock) -> Cow<'a, [u8]> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return match mask_continued(text, key) {
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
    }
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend_from_slice(mask_continued(chunk.valid(), key).as_bytes());
        out.extend_from_slice(chunk.invalid());
    }
    Cow::Owned(out)
}

/// Every string inside a serializable value masked, e.g. a whole review before it is written or
/// rendered. Values that do not round-trip through JSON are returned unchanged.
pub fn mask_value<T>(value: T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                if let Cow::Owned(m) = mask(s) {
                    *s = m;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut json) = serde_json::to_value(&value) else {
        return value;
    };
    walk(&mut json);
    serde_json::from_value(json).unwrap_or(value)
}

/// Longest run of bytes a [`LineMasker`] holds back waiting for a line's end.
pub const PENDING_CAP: usize = 1024 * 1024;

/// Masks a byte stream that arrives in arbitrary chunks. Masking happens on line boundaries,
/// so a secret split across two reads is still whole when it is masked; a line longer than
/// [`PENDING_CAP`] is released early, cut after its last delimiter (whitespace, quote, comma,
/// brace), where no token continues.
#[derive(Debug, Default)]
pub struct LineMasker {
    pending: Vec<u8>,
    key: KeyBlock,
}

impl LineMasker {
    pub fn new() -> LineMasker {
        LineMasker::default()
    }

    /// Feeds a chunk; calls `emit` with each masked piece ready to be written. A piece that
    /// ends a line ends with `\n`.
    pub fn push(&mut self, chunk: &[u8], mut emit: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            self.pending.extend_from_slice(&rest[..=nl]);
            let line = std::mem::take(&mut self.pending);
            emit(&mask_bytes_in(&line, &mut self.key));
            rest = &rest[nl + 1..];
        }
        self.pending.extend_from_slice(rest);
        while self.pending.len() > PENDING_CAP {
            let window = &self.pending[..PENDING_CAP];
            let cut = window
                .iter()
                .rposition(|b| b" \t\r\",{}[]".contains(b))
                .map(|i| i + 1)
                .unwrap_or(PENDING_CAP);
            let head: Vec<u8> = self.pending.drain(..cut).collect();
            emit(&mask_bytes_in(&head, &mut self.key));
        }
    }

    /// Releases what is left (the last line, without a newline).
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            emit(&mask_bytes_in(&line, &mut self.key));
        }
    }
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
            r#"{"apiKeySource":"ANTHROPIC_API_KEY","type":"system"}"#,
        ] {
            assert!(scan_line(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn anthropic_keys_are_named_for_anthropic() {
        let hits = scan_line("ANTHROPIC=sk-ant-api03-Zq8rT2mLp9Wx4nB7vK3cD6fH1jS5gA0eYuIoPl");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].kind, "Anthropic API key");
    }

    #[test]
    fn env_secrets_are_masked_by_name_and_trivial_values_are_not() {
        let vars = [
            ("MY_API_KEY", "s3cr3t-value-1234"),
            ("GITHUB_TOKEN", "tok_abcdefgh"),
            ("SHORT_TOKEN", "1234"),
            ("FLAG_SECRET", "aaaaaaaaaaaa"),
            ("PATH", "/usr/bin:/bin:/usr/local/bin"),
        ];
        let secrets = secrets_among(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let names: Vec<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["MY_API_KEY", "GITHUB_TOKEN"]);
        let masked = mask_with("a s3cr3t-value-1234 b tok_abcdefgh 1234", &secrets);
        assert_eq!(
            masked,
            "a $MY_API_KEY…[redacted] b $GITHUB_TOKEN…[redacted] 1234"
        );
    }

    #[test]
    fn a_token_split_across_chunks_is_still_masked() {
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ0123456789";
        let mut bytes = format!("{{\"line\": \"x {token} y\"}}\n").into_bytes();
        bytes.extend_from_slice(b"\xff\xfe tail");
        let mut out = Vec::new();
        let mut m = LineMasker::new();
        for chunk in bytes.chunks(7) {
            // 7 bytes: the token arrives in pieces.
            m.push(chunk, |b| out.extend_from_slice(b));
        }
        m.finish(|b| out.extend_from_slice(b));
        assert!(
            out.ends_with(b"\xff\xfe tail"),
            "invalid bytes kept as they were"
        );
        let out = String::from_utf8_lossy(&out);
        assert!(!out.contains(token), "{out}");
        assert!(out.contains("ghp_…[redacted]"), "{out}");
        assert!(out.ends_with(" tail"), "{out}");
    }

    #[test]
    fn an_overlong_line_is_released_at_a_delimiter() {
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ0123456789";
        let mut line = "x".repeat(PENDING_CAP - 10);
        line.push(' ');
        line.push_str(token);
        line.push_str(" end");
        let mut out = Vec::new();
        let mut m = LineMasker::new();
        for chunk in line.as_bytes().chunks(64 * 1024) {
            m.push(chunk, |b| out.extend_from_slice(b));
        }
        m.finish(|b| out.extend_from_slice(b));
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains(token));
        assert!(out.ends_with("ghp_…[redacted] end"));
    }

    #[test]
    fn mask_value_reaches_nested_strings() {
        let v =
            serde_json::json!({"a": ["x ghp_0123456789abcdefghijABCDEFGHIJ0123456789"], "n": 3});
        let m = mask_value(v);
        assert_eq!(m["a"][0], "x ghp_…[redacted]");
        assert_eq!(m["n"], 3);
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

    #[test]
    fn npmrc_netrc_and_docker_credentials_are_masked() {
        let cases = [
            (
                "//registry.npmjs.org/:_authToken=Zq8rT2mLp9Wx4nB7vK3cD6fH",
                "Zq8rT2mLp9Wx4nB7vK3cD6fH",
            ),
            (
                "_auth = Ym9iOnMzY3IzdFBhNTVXb3Jk",
                "Ym9iOnMzY3IzdFBhNTVXb3Jk",
            ),
            (
                "machine api.example.com login bob password s3cr3tPa55w0rd",
                "s3cr3tPa55w0rd",
            ),
            ("  password hunter2hunter", "hunter2hunter"),
            (
                r#"{"auths": {"https://index.docker.io/v1/": {"auth": "Ym9iOnMzY3IzdFBhNTU="}}}"#,
                "Ym9iOnMzY3IzdFBhNTU=",
            ),
        ];
        for (line, secret) in cases {
            let masked = redact_line(line);
            assert!(!masked.contains(&secret[4..]), "{line} -> {masked}");
            assert!(masked.contains("…[redacted]"), "{line} -> {masked}");
        }
        // Prose about passwords is not a credential.
        assert_eq!(
            redact_line("the password is checked"),
            "the password is checked"
        );
        assert_eq!(
            redact_line("_authToken=${NPM_TOKEN}"),
            "_authToken=${NPM_TOKEN}"
        );
    }
}
