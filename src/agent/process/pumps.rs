//! The pumps: stdout and stderr to masked files as they arrive (stdout's lines also to the
//! adapter), and a conversation's messages to the agent's stdin.

use super::create;
use super::Duplex;
use super::LINE_CAP;
use super::STDERR_TAIL;
use super::STDOUT_MEMORY_CAP;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;

/// The raw output kept on disk per stream; past it, writing stops (with a marker line) while
/// the pipe is still drained, so the agent never blocks.
pub const RAW_DISK_CAP: u64 = 64 * 1024 * 1024;

/// The review's note for an agent whose stdout passed [`RAW_DISK_CAP`] (or the memory cap).
pub const STDOUT_CAP_NOTE: &str =
    "its raw output passed 64 MiB; the rest was drained but not written to disk";

/// The marker written where a raw stream was cut at [`RAW_DISK_CAP`].
pub const DISK_CAP_MARKER: &str =
    "\n[deep-review: output past 64 MiB was not written; the agent was drained]\n";

/// A raw stream's file: masked pieces appended as they come, flushed so an interrupted review
/// keeps them, and cut at [`RAW_DISK_CAP`].
pub(super) struct RawFile {
    file: tokio::fs::File,
    written: u64,
    pub(super) cap: u64,
    pub(super) capped: bool,
}

impl RawFile {
    pub(super) fn new(file: tokio::fs::File) -> RawFile {
        RawFile {
            file,
            written: 0,
            cap: RAW_DISK_CAP,
            capped: false,
        }
    }

    pub(super) async fn append(&mut self, piece: &[u8]) {
        if self.capped {
            return;
        }
        let room = self.cap.saturating_sub(self.written) as usize;
        if piece.len() > room {
            let _ = self.file.write_all(&piece[..room]).await;
            let _ = self.file.write_all(DISK_CAP_MARKER.as_bytes()).await;
            self.capped = true;
        } else {
            let _ = self.file.write_all(piece).await;
        }
        self.written += piece.len().min(room) as u64;
        let _ = self.file.flush().await;
    }
}

/// Masks a chunk on line boundaries ([`crate::secrets::LineMasker`]) and returns the masked
/// pieces ready to write.
fn masked_pieces(masker: &mut crate::secrets::LineMasker, chunk: Option<&[u8]>) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    match chunk {
        Some(c) => masker.push(c, |p| pieces.push(p.to_vec())),
        None => masker.finish(|p| pieces.push(p.to_vec())),
    }
    pieces
}

pub(super) async fn pump_stdout(
    pipe: Option<tokio::process::ChildStdout>,
    file: tokio::fs::File,
    lines: tokio::sync::mpsc::UnboundedSender<String>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> (Vec<u8>, bool) {
    let Some(mut pipe) = pipe else {
        return (Vec::new(), false);
    };
    let mut raw = RawFile::new(file);
    let mut masker = crate::secrets::LineMasker::new();
    let mut kept = Vec::new();
    let mut truncated = false;
    // The current line for the parser: masked, cut at LINE_CAP.
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // A stop (the agent is gone, a detached descendant holds the pipe) ends the input.
        let read = tokio::select! {
            r = pipe.read(&mut buf) => r.ok().filter(|&n| n > 0),
            _ = &mut stop => None,
        };
        let chunk = read.map(|n| &buf[..n]);
        let done = chunk.is_none();
        for piece in masked_pieces(&mut masker, chunk) {
            raw.append(&piece).await;
            if kept.len() + piece.len() <= STDOUT_MEMORY_CAP {
                kept.extend_from_slice(&piece);
            } else {
                truncated = true;
            }
            for &b in &piece {
                if b == b'\n' {
                    let line = String::from_utf8_lossy(&pending).into_owned();
                    let _ = lines.send(line);
                    pending.clear();
                } else if pending.len() < LINE_CAP {
                    pending.push(b);
                }
            }
        }
        if done {
            break;
        }
    }
    if !pending.is_empty() {
        let _ = lines.send(String::from_utf8_lossy(&pending).into_owned());
    }
    let _ = raw.file.sync_all().await;
    (kept, truncated || raw.capped)
}

/// Writes a conversation's messages to the child's stdin, and each one, masked, to its log.
pub(super) async fn pump_stdin(mut duplex: Duplex, stdin: tokio::process::ChildStdin) {
    let mut stdin = Some(stdin);
    let mut log = match create(&duplex.log).await {
        Ok(f) => Some(RawFile::new(f)),
        Err(_) => None,
    };
    let mut masker = crate::secrets::LineMasker::new();
    while let Some(message) = duplex.input.recv().await {
        if let Some(log) = log.as_mut() {
            for piece in masked_pieces(&mut masker, Some(&message)) {
                log.append(&piece).await;
            }
        }
        if let Some(pipe) = stdin.as_mut() {
            if pipe.write_all(&message).await.is_err() || pipe.flush().await.is_err() {
                stdin = None;
            }
        }
    }
    if let Some(log) = log.as_mut() {
        for piece in masked_pieces(&mut masker, None) {
            log.append(&piece).await;
        }
        let _ = log.file.sync_all().await;
    }
    if let Some(mut pipe) = stdin {
        let _ = pipe.shutdown().await;
    }
}

pub(super) async fn pump_stderr(
    pipe: Option<tokio::process::ChildStderr>,
    file: tokio::fs::File,
) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut raw = RawFile::new(file);
    let mut masker = crate::secrets::LineMasker::new();
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let chunk = match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(&buf[..n]),
        };
        let done = chunk.is_none();
        for piece in masked_pieces(&mut masker, chunk) {
            raw.append(&piece).await;
            tail.extend_from_slice(&piece);
            if tail.len() > 2 * STDERR_TAIL {
                let cut = tail.len() - STDERR_TAIL;
                tail.drain(..cut);
            }
        }
        if done {
            break;
        }
    }
    let _ = raw.file.sync_all().await;
    let start = tail.len().saturating_sub(STDERR_TAIL);
    let text = String::from_utf8_lossy(&tail[start..]).into_owned();
    crate::secrets::redact_text(text.trim_end())
}
