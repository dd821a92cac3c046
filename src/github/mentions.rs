//! Mentions in the agents' text. Finding titles, bodies and fixes, the summary and the verdict
//! are written by models that read the PR, and deep-review posts them as Markdown in the
//! bot's name: a prompt-injected agent could make the bot notify `@org/team` or `@user`.
//! [`quiet`] puts a zero-width joiner after each `@` that would mention someone (it renders
//! as written and notifies no one), outside fenced code blocks and code spans, which GitHub
//! never scans for mentions and which are kept byte for byte.
//!
//! When in doubt it treats text as prose: a fence it cannot be sure of (indented four or more,
//! inside a quote, after an HTML line, less indented content), a code span on a line with a
//! `<` (an HTML tag's backticks delimit nothing). At worst an `@` inside code gains the
//! invisible joiner; a mention never slips through.

use regex::Regex;
use std::sync::OnceLock;

const JOINER: char = '\u{200D}';

/// `text` with every mention that GitHub would notify made inert.
pub fn quiet(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // An open fence: its character, its length and its indent.
    let mut fence: Option<(u8, usize, usize)> = None;
    let mut html = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start_matches(' ');
        let indent = body.len() - trimmed.len();
        if let Some((ch, n, at)) = fence {
            let run = trimmed.bytes().take_while(|&b| b == ch).count();
            if indent <= 3 && run >= n && trimmed[run..].trim().is_empty() {
                fence = None;
                out.push_str(line);
                continue;
            }
            // Content less indented than its fence ends the list item holding it, and the
            // code block with it: from here it is prose.
            if trimmed.is_empty() || indent >= at {
                out.push_str(line);
                continue;
            }
            fence = None;
        }
        if trimmed.is_empty() {
            html = false;
        } else if indent <= 3 && trimmed.starts_with('<') {
            // An HTML block runs to a blank line; no fence opens inside it.
            html = true;
        }
        if let (false, true, Some((ch, n))) = (html, indent <= 3, opening_fence(trimmed)) {
            fence = Some((ch, n, indent));
            out.push_str(line);
            continue;
        }
        quiet_line(line, &mut out);
    }
    out
}

/// The fence a line opens: three or more backticks (with none after them) or tildes.
fn opening_fence(t: &str) -> Option<(u8, usize)> {
    [b'`', b'~'].into_iter().find_map(|ch| {
        let run = t.bytes().take_while(|&b| b == ch).count();
        (run >= 3 && (ch == b'~' || !t[run..].contains('`'))).then_some((ch, run))
    })
}

/// One line of prose: its code spans kept, mentions elsewhere made inert.
fn quiet_line(line: &str, out: &mut String) {
    if line.contains('<') {
        return quiet_prose(line, out);
    }
    let b = line.as_bytes();
    let (mut from, mut i) = (0, 0);
    while i < b.len() {
        if b[i] != b'`' {
            i += 1;
            continue;
        }
        let escaped = b[..i].iter().rev().take_while(|&&c| c == b'\\').count() % 2 == 1;
        if escaped {
            i += 1;
            continue;
        }
        let n = b[i..].iter().take_while(|&&c| c == b'`').count();
        match closing_run(b, i + n, n) {
            Some(end) => {
                quiet_prose(&line[from..i], out);
                out.push_str(&line[i..end]);
                from = end;
                i = end;
            }
            None => i += n,
        }
    }
    quiet_prose(&line[from..], out);
}

/// The end of the first run of exactly `n` backticks at or after `from`.
fn closing_run(b: &[u8], mut from: usize, n: usize) -> Option<usize> {
    while from < b.len() {
        if b[from] != b'`' {
            from += 1;
            continue;
        }
        let run = b[from..].iter().take_while(|&&c| c == b'`').count();
        if run == n {
            return Some(from + run);
        }
        from += run;
    }
    None
}

/// Prose: an `@` (or the HTML entities GitHub renders as one) not preceded by a word
/// character and followed by a name's first character gets the joiner after it.
fn quiet_prose(text: &str, out: &mut String) {
    static AT: OnceLock<Regex> = OnceLock::new();
    let at = AT.get_or_init(|| {
        Regex::new(r"(?i)(?:@|&#0*64;|&#x0*40;|&commat;)[a-z0-9]").expect("mention regex")
    });
    let mut from = 0;
    for m in at.find_iter(text) {
        let word_before = text[..m.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if word_before {
            continue;
        }
        let sign_end = m.end() - 1;
        out.push_str(&text[from..m.start()]);
        out.push('@');
        out.push(JOINER);
        from = sign_end;
    }
    out.push_str(&text[from..]);
}

#[cfg(test)]
mod tests {
    use super::quiet;

    fn inert(s: &str) -> String {
        s.replace('@', "@\u{200D}")
    }

    #[test]
    fn mentions_in_prose_are_made_inert() {
        assert_eq!(
            quiet("ask @alice and @acme/security-team."),
            inert("ask @alice and @acme/security-team.")
        );
        assert_eq!(quiet("(@bob) **@carol**"), inert("(@bob) **@carol**"));
        assert_eq!(quiet("x &#64;eve &commat;eve"), inert("x @eve @eve"));
        assert_eq!(quiet("\\`@alice\\`"), format!("\\`{}\\`", inert("@alice")));
    }

    #[test]
    fn code_emails_and_lone_signs_are_kept() {
        for kept in [
            "mail a@b.example",
            "`@inline` and ``a ` @b``",
            "```py\n@decorator\ndef f(): ...\n```\n",
            "~~~~\n@x\n~~~~\n",
            "an @ alone, @@, @-",
        ] {
            assert_eq!(quiet(kept), kept);
        }
    }

    #[test]
    fn when_in_doubt_it_is_prose() {
        // A code span's backticks inside an HTML tag delimit nothing.
        assert_eq!(
            quiet("<a title=\"`\">@alice</a>`"),
            format!("<a title=\"`\">{}</a>`", inert("@alice"))
        );
        // A fence inside an HTML block is no fence.
        assert_eq!(
            quiet("<div>\n```\n@alice\n```\n"),
            format!("<div>\n```\n{}\n```\n", inert("@alice"))
        );
        // A list item's fence ends with the item.
        assert_eq!(
            quiet("- a\n  ```\n  @x\n- b @alice\n  ```\n"),
            format!("- a\n  ```\n  @x\n- b {}\n  ```\n", inert("@alice"))
        );
        // A span does not reach across lines.
        assert_eq!(
            quiet("`a\n\n@alice `"),
            format!("`a\n\n{} `", inert("@alice"))
        );
    }
}
