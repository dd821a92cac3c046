//! One request and its streamed answer: sent with retries ([`super::retry`]), read as it
//! arrives into a [`Turn`], every line on the transcript, and bounded by the agent's deadline
//! and the review's cancellation, and in size: an error body is read to [`MAX_ERROR_BODY`], a
//! turn to [`MAX_TURN_TEXT`] of text and [`MAX_TURN_BYTES`] of stream.
//!
//! Redirects are never followed: reqwest drops `Authorization` on a redirect to another host
//! but not `x-api-key` or `x-goog-api-key`, so following one would hand the key (and the
//! brief) to whatever host the endpoint names. A 3xx is a failure that names the target.

use super::retry;
use super::sse;
use super::sse::Transcript;
use super::wire::error_message;
use super::wire::Call;
use super::wire::Decoder;
use super::wire::Turn;
use std::future::Future;
use tokio::time::Instant;

/// The most of an error reply's body that is read (and written to the transcript).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most text (the answer and the tool calls' arguments) one turn may stream.
pub const MAX_TURN_TEXT: usize = 4 * 1024 * 1024;
/// The most bytes one turn's stream may carry, events and keep-alives included.
pub const MAX_TURN_BYTES: usize = 32 * 1024 * 1024;

/// Why a turn did not complete.
#[derive(Debug)]
pub enum Failure {
    /// Past the agent's timeout, or the review was interrupted; what arrived is kept.
    TimedOut(Turn),
    Cancelled(Turn),
    /// The API answered an error status (after retrying those worth it).
    Status {
        status: u16,
        message: String,
    },
    /// The server could not be reached, or dropped the connection, every attempt.
    Network(String),
    /// The endpoint answered a redirect, which is not followed.
    Redirect {
        status: u16,
        location: String,
    },
    /// The stream ended, or the API reported an error, before the answer was complete.
    Cut {
        turn: Turn,
        why: String,
    },
}

pub struct Exchange {
    client: reqwest::Client,
    deadline: Instant,
    cancel: tokio::sync::watch::Receiver<bool>,
    pub transcript: Transcript,
    /// Retries taken, for the run's notes.
    pub retries: u32,
}

pub(super) enum Stop {
    TimedOut,
    Cancelled,
}

impl Exchange {
    pub fn new(
        deadline: Instant,
        cancel: tokio::sync::watch::Receiver<bool>,
        transcript: Transcript,
    ) -> Exchange {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("deep-review/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Exchange {
            client,
            deadline,
            cancel,
            transcript,
            retries: 0,
        }
    }

    /// When this agent's time runs out.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// `f`, unless the deadline passes or the review is interrupted first.
    pub(super) async fn bounded<F: Future>(&mut self, f: F) -> Result<F::Output, Stop> {
        let mut cancel = self.cancel.clone();
        tokio::select! {
            out = f => Ok(out),
            _ = tokio::time::sleep_until(self.deadline) => Err(Stop::TimedOut),
            _ = cancel.wait_for(|c| *c) => Err(Stop::Cancelled),
        }
    }

    /// Whether the deadline has passed or the review was interrupted, as a failure.
    pub(super) fn stop_now(&self) -> Option<Stop> {
        if *self.cancel.borrow() {
            Some(Stop::Cancelled)
        } else if Instant::now() >= self.deadline {
            Some(Stop::TimedOut)
        } else {
            None
        }
    }

    pub(super) fn stopped(stop: Stop, turn: Turn) -> Failure {
        match stop {
            Stop::TimedOut => Failure::TimedOut(turn),
            Stop::Cancelled => Failure::Cancelled(turn),
        }
    }

    /// Sends `call` and reads the streamed turn with `decoder`.
    pub async fn turn(
        &mut self,
        call: &Call,
        mut decoder: Box<dyn Decoder>,
    ) -> Result<Turn, Failure> {
        let mut resp = self.send(call).await?;
        let mut turn = Turn::default();
        let mut parser = sse::Parser::default();
        let mut api_error: Option<String> = None;
        loop {
            let chunk = match self.bounded(resp.chunk()).await {
                Ok(c) => c,
                Err(stop) => {
                    decoder.finish(&mut turn);
                    return Err(Self::stopped(stop, turn));
                }
            };
            let bytes = match chunk {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    decoder.finish(&mut turn);
                    let why = format!(
                        "the connection broke after {} bytes of the answer: {}",
                        parser.received,
                        error_chain(&e)
                    );
                    self.transcript.note(&why);
                    return Err(Failure::Cut { turn, why });
                }
            };
            let transcript = &mut self.transcript;
            let mut on_event = |ev: sse::Event| {
                if api_error.is_none() {
                    if let Err(e) = decoder.event(&ev.name, &ev.data, &mut turn) {
                        api_error = Some(e);
                    }
                }
            };
            if let Err(why) = parser.push(&bytes, |l| transcript.line(l), &mut on_event) {
                api_error = Some(why);
            }
            if api_error.is_some() {
                break;
            }
            if let Some(why) = too_long(&turn, parser.received) {
                decoder.finish(&mut turn);
                self.transcript.note(&why);
                return Err(Failure::Cut { turn, why });
            }
        }
        let transcript = &mut self.transcript;
        parser.finish(
            |l| transcript.line(l),
            |ev| {
                if api_error.is_none() {
                    if let Err(e) = decoder.event(&ev.name, &ev.data, &mut turn) {
                        api_error = Some(e);
                    }
                }
            },
        );
        decoder.finish(&mut turn);
        if let Some(e) = api_error {
            let why = format!("the API reported an error mid-answer: {e}");
            self.transcript.note(&why);
            return Err(Failure::Cut { turn, why });
        }
        if !turn.done {
            let why = format!(
                "the stream ended before the answer was complete (the connection closed after {} bytes)",
                parser.received
            );
            self.transcript.note(&why);
            return Err(Failure::Cut { turn, why });
        }
        Ok(turn)
    }

    /// Posts `call`, retrying 429, 5xx and dropped connections with backoff, until a success
    /// status or a final error.
    async fn send(&mut self, call: &Call) -> Result<reqwest::Response, Failure> {
        let mut attempt = 0;
        loop {
            self.transcript.note(&format!("POST {}", call.url));
            let mut req = self.client.post(&call.url).json(&call.body);
            for (k, v) in &call.headers {
                req = req.header(k, v);
            }
            let sent = self
                .bounded(req.send())
                .await
                .map_err(|s| Self::stopped(s, Turn::default()))?;
            let (why, wait) = match sent {
                Ok(resp) if resp.status().is_success() => {
                    self.transcript
                        .note(&format!("HTTP {}", resp.status().as_u16()));
                    return Ok(resp);
                }
                Ok(resp) if resp.status().is_redirection() => {
                    let status = resp.status().as_u16();
                    let location = resp
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(|l| resp.url().join(l).map(String::from).unwrap_or(l.into()))
                        .unwrap_or_else(|| "(no Location given)".into());
                    self.transcript
                        .note(&format!("HTTP {status} to {location}: not followed"));
                    return Err(Failure::Redirect { status, location });
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let after = retry::retry_after(resp.headers());
                    let body = self.error_body(resp).await?;
                    self.transcript.note(&format!("HTTP {status}"));
                    for l in body.text.lines() {
                        self.transcript.line(l);
                    }
                    if body.cut {
                        self.transcript.note(&format!(
                            "the error body was cut at {} KiB",
                            MAX_ERROR_BODY / 1024
                        ));
                    }
                    let body = body.text;
                    let message = error_message(&body);
                    let quota = message.to_ascii_lowercase().contains("quota");
                    if !retry::retryable(status) || quota || attempt + 1 >= retry::MAX_ATTEMPTS {
                        return Err(Failure::Status { status, message });
                    }
                    (format!("{status}: {message}"), after)
                }
                Err(e) => {
                    let why = error_chain(&e);
                    if attempt + 1 >= retry::MAX_ATTEMPTS {
                        return Err(Failure::Network(why));
                    }
                    (why, None)
                }
            };
            let wait = retry::delay(attempt, wait);
            self.transcript.note(&format!(
                "attempt {} failed ({why}); retrying in {:.1}s",
                attempt + 1,
                wait.as_secs_f64()
            ));
            self.retries += 1;
            attempt += 1;
            if Instant::now() + wait >= self.deadline {
                // The wait alone would pass the deadline: the timeout is what ends this run.
                self.bounded(tokio::time::sleep_until(self.deadline))
                    .await
                    .map_err(|s| Self::stopped(s, Turn::default()))?;
                return Err(Failure::TimedOut(Turn::default()));
            }
            self.bounded(tokio::time::sleep(wait))
                .await
                .map_err(|s| Self::stopped(s, Turn::default()))?;
        }
    }
}

/// An error reply's body, read to [`MAX_ERROR_BODY`].
struct ErrorBody {
    text: String,
    /// More followed, unread.
    cut: bool,
}

impl Exchange {
    async fn error_body(&mut self, mut resp: reqwest::Response) -> Result<ErrorBody, Failure> {
        let mut body: Vec<u8> = Vec::new();
        let mut cut = false;
        loop {
            let chunk = self
                .bounded(resp.chunk())
                .await
                .map_err(|s| Self::stopped(s, Turn::default()))?;
            let Ok(Some(bytes)) = chunk else { break };
            body.extend_from_slice(&bytes);
            if body.len() > MAX_ERROR_BODY {
                body.truncate(MAX_ERROR_BODY);
                cut = true;
                break;
            }
        }
        Ok(ErrorBody {
            text: String::from_utf8_lossy(&body).into_owned(),
            cut,
        })
    }
}

/// Why a turn is cut for its size, once it passes [`MAX_TURN_TEXT`] or [`MAX_TURN_BYTES`].
fn too_long(turn: &Turn, received: usize) -> Option<String> {
    let text = turn.text.len() + turn.calls.iter().map(|c| c.args.len()).sum::<usize>();
    if text > MAX_TURN_TEXT {
        return Some(format!(
            "the model sent more than {} MiB of text in one turn, the most deep-review reads; it was cut there (what arrived is kept)",
            MAX_TURN_TEXT >> 20
        ));
    }
    (received > MAX_TURN_BYTES).then(|| {
        format!(
            "the server sent more than {} MiB in one turn, the most deep-review reads; it was cut there (what arrived is kept)",
            MAX_TURN_BYTES >> 20
        )
    })
}

/// An error with its causes, each once ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}
