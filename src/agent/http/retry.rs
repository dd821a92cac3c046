//! When to try a request again and how long to wait: exponential backoff with jitter on 429,
//! 5xx and dropped connections, `Retry-After` honoured up to a bound; and what an error
//! status means for the run.

use crate::agent::FailureKind;
use std::time::Duration;

/// Attempts per request, the first included.
pub const MAX_ATTEMPTS: u32 = 5;
const BASE_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(30);
/// The longest `Retry-After` obeyed; a server asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Statuses worth another attempt: rate limits, timeouts and the server's own errors.
pub fn retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || (500..=599).contains(&status) && status != 501
}

/// How long to wait before attempt `attempt + 1` (from 0): the server's `Retry-After` when it
/// gave one (bounded), else 0.5 s doubling per attempt up to 30 s, with up to a quarter of
/// random jitter so parallel reviewers do not retry in step.
pub fn delay(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(d) = retry_after {
        return d.min(MAX_RETRY_AFTER);
    }
    let exp = BASE_DELAY
        .saturating_mul(1 << attempt.min(10))
        .min(MAX_DELAY);
    let jitter = exp.mul_f64(0.25 * random_unit());
    exp + jitter
}

/// A number in [0, 1) that differs between calls and processes; good enough for jitter.
fn random_unit() -> f64 {
    use std::hash::BuildHasher;
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::Utc::now();
    Some(
        (when.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

/// What an error answer is about, for the loop's recovery and the run's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The brief (or the conversation) is longer than the model's context.
    ContextLength,
    /// The model or server does not take tools.
    ToolsUnsupported,
    /// The server does not take the answer's JSON Schema.
    SchemaUnsupported,
    /// Anything else: the run fails as [`classify`] says.
    Other,
}

/// Reads a 400-class answer for what the loop can recover from.
pub fn refusal(status: u16, message: &str) -> Refusal {
    let m = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if !(400..500).contains(&status) || matches!(status, 401 | 403 | 404 | 429) {
        return Refusal::Other;
    }
    if has(&[
        "context_length",
        "context length",
        "context window",
        "maximum context",
        "prompt is too long",
        "too many tokens",
        "input is too long",
        "exceeds the maximum number of tokens",
        "token count",
    ]) {
        Refusal::ContextLength
    } else if has(&[
        "response_format",
        "json_schema",
        "responsemimetype",
        "response_schema",
        "responsejsonschema",
        "text.format",
        "structured output",
    ]) {
        Refusal::SchemaUnsupported
    } else if has(&["tool", "function call", "function_call", "functioncalling"]) {
        Refusal::ToolsUnsupported
    } else {
        Refusal::Other
    }
}

/// The failure an error status stands for, with the hint.
pub fn classify(
    status: u16,
    message: &str,
    agent: &str,
    key_var: &str,
    had_key: bool,
    model: &str,
) -> (FailureKind, String, String) {
    let m = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if matches!(status, 401 | 403) {
        let (what, hint) = if had_key {
            (
                format!("bad key: the API refused the key in {key_var} ({status}: {message})"),
                format!("check the key in {key_var}, or name another variable with [agents.{agent}].api_key_env"),
            )
        } else {
            (
                format!("the API wants a key and {key_var} is not set ({status}: {message})"),
                format!("set {key_var}, or name the variable holding the key with [agents.{agent}].api_key_env"),
            )
        };
        return (FailureKind::NotLoggedIn, what, hint);
    }
    if has(&[
        "insufficient_quota",
        "quota",
        "billing",
        "credit balance",
        "resource_exhausted",
    ]) {
        return (
            FailureKind::QuotaExhausted,
            format!("quota exhausted ({status}: {message})"),
            "the account's quota is used up; wait for it to reset, raise the limit, or use another key".into(),
        );
    }
    if status == 429 {
        return (
            FailureKind::RateLimited,
            format!("rate limited after {MAX_ATTEMPTS} attempts ({message})"),
            "wait a minute and rerun, or run fewer reviews at once".into(),
        );
    }
    if status == 404
        || has(&[
            "model_not_found",
            "model not found",
            "no such model",
            "unknown model",
            "does not exist",
        ])
    {
        return (
            FailureKind::ModelUnknown,
            format!("model unknown: `{model}` ({status}: {message})"),
            format!("check `model` and `base_url` in [agents.{agent}] (the endpoint lists its models at GET <base_url>/models)"),
        );
    }
    (
        FailureKind::Crashed,
        format!("the API answered {status}: {message}"),
        if status >= 500 {
            format!("the server failed {MAX_ATTEMPTS} times; try again later")
        } else {
            format!("check [agents.{agent}] (model, base_url, api) against the API's documentation")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_retry_after_is_bounded() {
        assert!(delay(0, None) >= Duration::from_millis(500));
        assert!(delay(0, None) <= Duration::from_millis(625));
        assert!(delay(3, None) >= Duration::from_secs(4));
        assert!(delay(20, None) <= MAX_DELAY + MAX_DELAY / 4);
        assert_eq!(
            delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(delay(0, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
        assert!(retryable(429) && retryable(503) && !retryable(400) && !retryable(401));
    }

    #[test]
    fn refusals_are_read_from_the_message() {
        assert_eq!(
            refusal(400, "This model's maximum context length is 8192 tokens"),
            Refusal::ContextLength
        );
        assert_eq!(
            refusal(
                400,
                "registry.ollama.ai/library/gemma:2b does not support tools"
            ),
            Refusal::ToolsUnsupported
        );
        assert_eq!(
            refusal(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported"
            ),
            Refusal::SchemaUnsupported
        );
        let (k, msg, _) = classify(
            401,
            "invalid x-api-key",
            "a",
            "ANTHROPIC_API_KEY",
            true,
            "m",
        );
        assert_eq!(k, FailureKind::NotLoggedIn);
        assert!(
            msg.contains("bad key") && msg.contains("ANTHROPIC_API_KEY"),
            "{msg}"
        );
        let (k, _, _) = classify(
            404,
            "The model `gpt-9` does not exist",
            "a",
            "K",
            true,
            "gpt-9",
        );
        assert_eq!(k, FailureKind::ModelUnknown);
    }
}
