//! Server-sent events as they arrive, and the transcript they are written to.
//!
//! Every line the API sends is written to the agent's transcript as soon as it is complete,
//! masked through [`crate::secrets`]; so is a line of our own for each request, status and
//! tool call (starting with `#`), so the file reads as the conversation happened.

use std::io::Write;
use std::path::Path;

/// The agent's transcript file, appended line by line, masked.
pub struct Transcript {
    file: Option<std::fs::File>,
    /// Masking state across lines (a private key's block).
    key: crate::secrets::KeyBlock,
}

impl Transcript {
    pub fn create(path: &Path) -> Transcript {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        Transcript {
            file: std::fs::File::create(path).ok(),
            key: crate::secrets::KeyBlock::default(),
        }
    }

    /// Writes one line (a newline is added), masked.
    pub fn line(&mut self, text: &str) {
        if let Some(f) = &mut self.file {
            let masked = crate::secrets::mask_continued(text, &mut self.key);
            let _ = f.write_all(masked.as_bytes());
            let _ = f.write_all(b"\n");
        }
    }

    /// One of our own notes.
    pub fn note(&mut self, text: &str) {
        self.line(&format!("# {text}"));
    }
}

/// One event: its `event:` name (empty when the server gave none) and its data lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: String,
    pub data: String,
}

/// Splits a byte stream into lines and lines into events (the WHATWG rules, minus `id` and
/// `retry`, which no model API uses).
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
    name: String,
    data: Vec<String>,
    /// Bytes received, for the failure message when the stream is cut.
    pub received: usize,
}

/// Longest line kept waiting for its end; a longer one is an error of the server's.
const MAX_LINE: usize = 8 * 1024 * 1024;

impl Parser {
    /// Feeds a chunk; each complete line goes to `line` (for the transcript), each complete
    /// event to `event`.
    pub fn push(
        &mut self,
        chunk: &[u8],
        mut line: impl FnMut(&str),
        mut event: impl FnMut(Event),
    ) -> Result<(), String> {
        self.received += chunk.len();
        self.pending.extend_from_slice(chunk);
        while let Some(nl) = self.pending.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\n', '\r']);
            line(text);
            if let Some(ev) = self.line(text) {
                event(ev);
            }
        }
        if self.pending.len() > MAX_LINE {
            return Err(format!(
                "the server sent a line longer than {} MiB",
                MAX_LINE >> 20
            ));
        }
        Ok(())
    }

    /// The end of the stream: a last line without its newline, and a last event without its
    /// blank line, still count.
    pub fn finish(&mut self, mut line: impl FnMut(&str), mut event: impl FnMut(Event)) {
        if !self.pending.is_empty() {
            let raw = std::mem::take(&mut self.pending);
            let text = String::from_utf8_lossy(&raw)
                .trim_end_matches('\r')
                .to_string();
            line(&text);
            if let Some(ev) = self.line(&text) {
                event(ev);
            }
        }
        if let Some(ev) = self.line("") {
            event(ev);
        }
    }

    fn line(&mut self, text: &str) -> Option<Event> {
        if text.is_empty() {
            if self.data.is_empty() {
                self.name.clear();
                return None;
            }
            return Some(Event {
                name: std::mem::take(&mut self.name),
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        if text.starts_with(':') {
            return None; // a comment (keep-alive)
        }
        let (field, value) = text.split_once(':').unwrap_or((text, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = value.to_string(),
            "data" => self.data.push(value.to_string()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_arrive_whole() {
        let mut p = Parser::default();
        let mut lines = Vec::new();
        let mut events = Vec::new();
        let stream = "event: message_start\ndata: {\"a\":\n\n: ping\r\ndata: [DONE]\n\ndata: last";
        for chunk in stream.as_bytes().chunks(5) {
            p.push(chunk, |l| lines.push(l.to_string()), |e| events.push(e))
                .unwrap();
        }
        p.finish(|l| lines.push(l.to_string()), |e| events.push(e));
        assert_eq!(
            events,
            vec![
                Event {
                    name: "message_start".into(),
                    data: "{\"a\":".into()
                },
                Event {
                    name: String::new(),
                    data: "[DONE]".into()
                },
                Event {
                    name: String::new(),
                    data: "last".into()
                },
            ]
        );
        assert_eq!(lines.len(), 7, "{lines:?}");
    }
}
