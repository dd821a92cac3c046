//! One request and its streamed answer: sent with retries ([`super::retry`]), read as it
//! arrives into a [`Turn`], every line on the transcript, and bounded by the agent's deadline
//! and the review's cancellation.

use super::retry;
use super::sse;
use super::sse::Transcript;
use super::wire::error_message;
use super::wire::Call;
use super::wire::Decoder;
use super::wire::Turn;
use std::future::Future;
use tokio::time::Instant;

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

enum Stop {
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

    /// `f`, unless the deadline passes or the review is interrupted first.
    async fn bounded<F: Future>(&mut self, f: F) -> Result<F::Output, Stop> {
        let mut cancel = self.cancel.clone();
        tokio::select! {
            out = f => Ok(out),
            _ = tokio::time::sleep_until(self.deadline) => Err(Stop::TimedOut),
            _ = cancel.wait_for(|c| *c) => Err(Stop::Cancelled),
        }
    }

    fn stopped(stop: Stop, turn: Turn) -> Failure {
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
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let after = retry::retry_after(resp.headers());
                    let body = self
                        .bounded(resp.text())
                        .await
                        .map_err(|s| Self::stopped(s, Turn::default()))?
                        .unwrap_or_default();
                    self.transcript.note(&format!("HTTP {status}"));
                    for l in body.lines() {
                        self.transcript.line(l);
                    }
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
