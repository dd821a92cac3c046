//! The notes file's format: a Markdown list a person can read, edit and commit.
//!
//! ```markdown
//! # Repository memory
//!
//! Any text, headings and code blocks: kept as they are.
//!
//! - Config changes need a migration note in CHANGELOG.md.
//!   (from review 20260426-165750-pr-4889, by judge claude, 2026-04-26)
//! - A note may span lines; continuation lines are indented.
//! - A note without provenance is still a note.
//! ```
//!
//! Every top-level list item (`-`, `*`, `+` or `1.`) outside a fenced code block is one note.
//! Its provenance is its last line when that reads `(from review ID, by WHO, DATE)` or
//! `(by WHO, DATE)` (DATE as YYYY-MM-DD), on a line of its own or at the end of the note's
//! last line; anything else is the note's text. Parsing keeps every byte: [`Notes::render`]
//! of an unchanged file is the file, and a change touches only the notes added or removed.

/// A note's origin: the review that proposed it (absent for a note added by hand), who
/// proposed it (`judge claude`, `agents claude and codex`, a person's name) and the date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub review: Option<String>,
    pub by: String,
    pub date: String,
}

impl Provenance {
    fn parse(s: &str) -> Option<Provenance> {
        let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
        let (rest, date) = inner.rsplit_once(", ")?;
        let date = date.trim();
        let shape = date.len() == 10
            && date.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape {
            return None;
        }
        let (review, by) = match rest.strip_prefix("from review ") {
            Some(r) => {
                let (id, by) = r.split_once(", by ")?;
                (Some(id.trim().to_string()), by)
            }
            None => (None, rest.strip_prefix("by ")?),
        };
        if by.trim().is_empty() || review.as_ref().is_some_and(|r| r.is_empty()) {
            return None;
        }
        Some(Provenance {
            review,
            by: by.trim().to_string(),
            date: date.to_string(),
        })
    }
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.review {
            Some(r) => write!(f, "(from review {r}, by {}, {})", self.by, self.date),
            None => write!(f, "(by {}, {})", self.by, self.date),
        }
    }
}

/// One note: its text (Markdown, without the list marker) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub provenance: Option<Provenance>,
}

impl Note {
    /// The note as a new list item: `- text`, continuation lines and the provenance indented.
    fn to_item(&self) -> String {
        let mut out = String::new();
        for (i, line) in self.text.trim().lines().enumerate() {
            let line = line.trim_end();
            match (i, line.is_empty()) {
                (0, _) => out.push_str(&format!("- {line}\n")),
                (_, true) => out.push('\n'),
                _ => out.push_str(&format!("  {line}\n")),
            }
        }
        if let Some(p) = &self.provenance {
            out.push_str(&format!("  {p}\n"));
        }
        out
    }

    /// The text compared when deciding whether two notes say the same thing: whitespace
    /// collapsed, case and a final full stop ignored.
    pub fn key(text: &str) -> String {
        let words: Vec<&str> = text.split_whitespace().collect();
        words
            .join(" ")
            .trim_end_matches('.')
            .trim_end()
            .to_lowercase()
    }
}

#[derive(Debug, Clone)]
enum Block {
    /// Lines that are not a note, byte for byte.
    Text(String),
    /// A note and the exact lines it was read from (or rendered to).
    Item { raw: String, note: Note },
}

/// The notes file: its notes, in order, and every byte around them.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    blocks: Vec<Block>,
    /// The marker of a code block the file leaves open at its end.
    open_fence: Option<String>,
}

/// The head of a notes file deep-review creates.
pub const HEADER: &str = "# Repository memory

Notes that deep-review gives every reviewer of this repository, as context from its reviewed
history. One note per list item, with where it came from on its last line. Edit, reorder,
group under headings or delete them freely. Reviews read this file as committed on the base
branch: commit it to share it.

";

impl Notes {
    pub fn parse(text: &str) -> Notes {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut blocks = Vec::new();
        let mut text_run = String::new();
        let mut fence: Option<String> = None;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let bare = strip_eol(line);
            if let Some(open) = &fence {
                if is_fence_close(bare, open) {
                    fence = None;
                }
                text_run.push_str(line);
                i += 1;
                continue;
            }
            if let Some(open) = fence_open(bare) {
                fence = Some(open);
                text_run.push_str(line);
                i += 1;
                continue;
            }
            let Some(width) = item_marker(bare) else {
                text_run.push_str(line);
                i += 1;
                continue;
            };
            let end = item_end(&lines, i);
            if !text_run.is_empty() {
                blocks.push(Block::Text(std::mem::take(&mut text_run)));
            }
            let raw: String = lines[i..end].concat();
            let note = read_item(&lines[i..end], width);
            blocks.push(Block::Item { raw, note });
            i = end;
        }
        if !text_run.is_empty() {
            blocks.push(Block::Text(text_run));
        }
        Notes {
            blocks,
            open_fence: fence,
        }
    }

    /// The file's text: exactly what was parsed, with the changes made since.
    pub fn render(&self) -> String {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Text(t) => t.as_str(),
                Block::Item { raw, .. } => raw.as_str(),
            })
            .collect()
    }

    pub fn notes(&self) -> impl Iterator<Item = &Note> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Item { note, .. } => Some(note),
            Block::Text(_) => None,
        })
    }

    pub fn len(&self) -> usize {
        self.notes().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of the note that says `text` (compared by [`Note::key`]).
    pub fn find(&self, text: &str) -> Option<usize> {
        let key = Note::key(text);
        self.notes().position(|n| Note::key(&n.text) == key)
    }

    /// Adds `note` after the last note (or, in a file without notes, at its end, after a
    /// blank line; a new file starts with [`HEADER`]).
    pub fn push(&mut self, note: Note) {
        let item = Block::Item {
            raw: note.to_item(),
            note,
        };
        if self.blocks.is_empty() {
            self.blocks.push(Block::Text(HEADER.to_string()));
        }
        let last_item = self
            .blocks
            .iter()
            .rposition(|b| matches!(b, Block::Item { .. }));
        let at = match last_item {
            Some(at) => {
                if let Block::Item { raw, .. } = &mut self.blocks[at] {
                    end_line(raw);
                }
                at + 1
            }
            None => {
                if let Some(Block::Text(t)) = self.blocks.last_mut() {
                    end_line(t);
                    // A note appended inside an open code block would not be a note.
                    if let Some(open) = self.open_fence.take() {
                        t.push_str(&open);
                        t.push('\n');
                    }
                    if !t.trim().is_empty() && !t.ends_with("\n\n") && !t.ends_with("\n\r\n") {
                        t.push('\n');
                    }
                }
                self.blocks.len()
            }
        };
        self.blocks.insert(at, item);
    }

    /// Removes the note at `index` (0-based) with its lines, and returns it.
    pub fn remove(&mut self, index: usize) -> Option<Note> {
        let at = self
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, Block::Item { .. }))
            .nth(index)?
            .0;
        match self.blocks.remove(at) {
            Block::Item { note, .. } => Some(note),
            Block::Text(_) => None,
        }
    }
}

fn end_line(s: &mut String) {
    if !s.is_empty() && !s.ends_with('\n') {
        s.push('\n');
    }
}

fn strip_eol(line: &str) -> &str {
    let l = line.strip_suffix('\n').unwrap_or(line);
    l.strip_suffix('\r').unwrap_or(l)
}

fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// The opening of a fenced code block (``` or ~~~, indented less than four), as its marker.
fn fence_open(line: &str) -> Option<String> {
    if indent_of(line) >= 4 {
        return None;
    }
    let t = line.trim_start();
    for c in ['`', '~'] {
        let n = t.chars().take_while(|x| *x == c).count();
        if n >= 3 {
            return Some(c.to_string().repeat(n));
        }
    }
    None
}

fn is_fence_close(line: &str, open: &str) -> bool {
    let t = line.trim();
    let c = open.chars().next().unwrap_or('`');
    indent_of(line) < 4 && t.len() >= open.len() && t.chars().all(|x| x == c)
}

/// A thematic break (`---`, `* * *`, `___`), which looks like a list item but is not one.
fn is_break(line: &str) -> bool {
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    t.len() >= 3 && ['-', '*', '_'].iter().any(|m| t.chars().all(|c| c == *m))
}

/// The width of a top-level list item's marker and the spaces after it (`- ` is 2, `10. `
/// is 4), or None when `line` does not start an item.
fn item_marker(line: &str) -> Option<usize> {
    if indent_of(line) > 0 || is_break(line) {
        return None;
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    let marker = if digits > 0 {
        if digits > 9 || !matches!(line[digits..].chars().next(), Some('.' | ')')) {
            return None;
        }
        digits + 1
    } else if matches!(line.chars().next(), Some('-' | '*' | '+')) {
        1
    } else {
        return None;
    };
    let rest = &line[marker..];
    if rest.is_empty() {
        return Some(marker);
    }
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let spaces = rest.chars().take_while(|c| *c == ' ').count().clamp(1, 4);
    Some(marker + spaces)
}

/// Where the item starting at `start` ends: after its indented continuation lines, blank
/// lines followed by more of them, and lazy continuation lines (unindented text straight
/// after it that starts nothing else).
fn item_end(lines: &[&str], start: usize) -> usize {
    let mut end = start + 1;
    while end < lines.len() {
        let bare = strip_eol(lines[end]);
        if bare.trim().is_empty() {
            let next = (end..lines.len()).find(|&j| !strip_eol(lines[j]).trim().is_empty());
            match next {
                Some(j) if indent_of(strip_eol(lines[j])) >= 2 => end = j + 1,
                _ => break,
            }
            continue;
        }
        if indent_of(bare) >= 1 || starts_nothing(bare) {
            end += 1;
            continue;
        }
        break;
    }
    end
}

/// Unindented text that continues a paragraph: not a new item, heading, fence, quote, HTML
/// block or thematic break.
fn starts_nothing(line: &str) -> bool {
    item_marker(line).is_none()
        && fence_open(line).is_none()
        && !is_break(line)
        && !line.starts_with(['#', '>', '<', '|'])
}

/// The note held by an item's lines.
fn read_item(lines: &[&str], width: usize) -> Note {
    let mut text: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let bare = strip_eol(line);
        if i == 0 {
            text.push(bare.get(width..).unwrap_or("").trim_end().to_string());
            continue;
        }
        let drop = bare
            .char_indices()
            .take_while(|(at, c)| (*c == ' ' || *c == '\t') && *at < width)
            .count();
        text.push(bare[drop..].trim_end().to_string());
    }
    while text.last().is_some_and(|l| l.is_empty()) {
        text.pop();
    }
    let mut provenance = None;
    if let Some(last) = text.last_mut() {
        if let Some(open) = last.rfind('(') {
            if let Some(p) = Provenance::parse(&last[open..]) {
                provenance = Some(p);
                last.truncate(open);
                let kept = last.trim_end().len();
                last.truncate(kept);
                if last.is_empty() {
                    text.pop();
                }
            }
        }
    }
    Note {
        text: text.join("\n").trim().to_string(),
        provenance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(n: &Notes) -> Vec<String> {
        n.notes().map(|n| n.text.clone()).collect()
    }

    const SAMPLE: &str = "# Repository memory

Intro paragraph
wrapped.

## Testing

- Integration tests need `CI=true` to fail on missing tools.
  (from review 20260426-165750-pr-4889, by judge claude, 2026-04-26)
* Hand-written note without provenance,
wrapped lazily.
- Multi-line note

  with a second paragraph. (by Ada Lovelace, 2026-04-27)

```text
- not a note: inside a code block
```

---

1. Ordered items are notes too.
10) So is this one.

-not a list item
";

    #[test]
    fn parses_notes_text_and_provenance() {
        let n = Notes::parse(SAMPLE);
        assert_eq!(
            texts(&n),
            vec![
                "Integration tests need `CI=true` to fail on missing tools.",
                "Hand-written note without provenance,\nwrapped lazily.",
                "Multi-line note\n\nwith a second paragraph.",
                "Ordered items are notes too.",
                "So is this one.",
            ]
        );
        let p: Vec<Option<Provenance>> = n.notes().map(|n| n.provenance.clone()).collect();
        assert_eq!(
            p[0],
            Some(Provenance {
                review: Some("20260426-165750-pr-4889".into()),
                by: "judge claude".into(),
                date: "2026-04-26".into(),
            })
        );
        assert_eq!(p[1], None);
        assert_eq!(
            p[2],
            Some(Provenance {
                review: None,
                by: "Ada Lovelace".into(),
                date: "2026-04-27".into(),
            })
        );
    }

    #[test]
    fn round_trips_byte_for_byte() {
        for text in [
            SAMPLE,
            "",
            "\n",
            "- no newline at the end",
            "- crlf\r\n  (by x, 2026-01-01)\r\n\r\ntext\r\n",
            "```\n- unterminated fence",
            "  - indented: not top level\n",
            "-\n- empty item above\n",
            "- a\n\n\n- b\n\n",
        ] {
            assert_eq!(Notes::parse(text).render(), text, "{text:?}");
        }
    }

    #[test]
    fn a_provenance_that_does_not_parse_is_text() {
        for (line, kept) in [
            ("- a (by x, yesterday)", "a (by x, yesterday)"),
            (
                "- a (from review , by x, 2026-01-01)",
                "a (from review , by x, 2026-01-01)",
            ),
            ("- a (by , 2026-01-01)", "a (by , 2026-01-01)"),
            ("- a (see #12)", "a (see #12)"),
        ] {
            let n = Notes::parse(line);
            let note = n.notes().next().unwrap();
            assert_eq!(note.text, kept, "{line}");
            assert_eq!(note.provenance, None, "{line}");
        }
    }

    #[test]
    fn push_and_remove_touch_only_their_lines() {
        let mut n = Notes::parse(SAMPLE);
        let before = n.render();
        let note = Note {
            text: "Prefer `thiserror` enums\nper module.".into(),
            provenance: Some(Provenance {
                review: Some("20260427-101010-local-abc".into()),
                by: "agents claude and codex".into(),
                date: "2026-04-27".into(),
            }),
        };
        n.push(note.clone());
        let after = n.render();
        assert_eq!(
            after,
            before.replace(
                "10) So is this one.\n",
                "10) So is this one.\n- Prefer `thiserror` enums\n  per module.\n  (from review 20260427-101010-local-abc, by agents claude and codex, 2026-04-27)\n"
            )
        );
        // What was written reads back as the same note.
        let again = Notes::parse(&after);
        assert_eq!(again.notes().last(), Some(&note));
        assert_eq!(again.render(), after);

        let mut n = again;
        let gone = n.remove(1).unwrap();
        assert_eq!(
            gone.text,
            "Hand-written note without provenance,\nwrapped lazily."
        );
        assert!(!n.render().contains("wrapped lazily"));
        assert!(n.render().contains("Intro paragraph\nwrapped.\n"));
        assert_eq!(n.len(), 5);
        assert!(n.remove(5).is_none());
    }

    #[test]
    fn a_new_file_gets_the_header_and_text_gets_a_blank_line() {
        let mut n = Notes::parse("");
        n.push(Note {
            text: "One.".into(),
            provenance: None,
        });
        assert_eq!(n.render(), format!("{HEADER}- One.\n"));
        let mut n = Notes::parse("# Notes\nno trailing newline");
        n.push(Note {
            text: "Two.".into(),
            provenance: None,
        });
        assert_eq!(n.render(), "# Notes\nno trailing newline\n\n- Two.\n");
        let mut n = Notes::parse("- last item without newline");
        n.push(Note {
            text: "Three.".into(),
            provenance: None,
        });
        assert_eq!(n.render(), "- last item without newline\n- Three.\n");
    }

    #[test]
    fn find_ignores_case_spacing_and_a_full_stop() {
        let n = Notes::parse(SAMPLE);
        assert_eq!(n.find("so is   THIS one"), Some(4));
        assert_eq!(n.find("something else"), None);
    }

    proptest::proptest! {
        #[test]
        fn anything_round_trips(text in "[-*+1.)( \\n\\r\\t`~#abyx,0-9]{0,200}") {
            let parsed = Notes::parse(&text);
            proptest::prop_assert_eq!(parsed.render(), text.clone());
            // Adding a note keeps every earlier note and reads back.
            let mut more = parsed.clone();
            more.push(Note { text: "added".into(), provenance: None });
            let reread = Notes::parse(&more.render());
            proptest::prop_assert_eq!(reread.len(), parsed.len() + 1);
        }
    }
}
