//! A safe subset of Markdown for the HTML report: paragraphs, bullet and numbered lists,
//! fenced code (diff fences coloured), inline code, bold and emphasis, and references to the
//! review's own finding IDs as in-page links.
//!
//! Everything an agent wrote is escaped first; markup is added only as fixed tags around
//! escaped text. Agent links (`[text](url)`) become plain text with the address beside it:
//! the report never carries an `href` an agent chose.

use regex::Regex;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `text` (Markdown from an agent or the change) as safe HTML; `ids` are the finding
/// IDs that exist in the review, the only words turned into links (`#I1`).
pub fn render(text: &str, ids: &BTreeSet<String>) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Option<(&'static str, Vec<String>)> = None;
    let mut lines = text.trim().lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            flush(&mut out, &mut para, &mut list, ids);
            let indent = line.len() - t.len();
            let mut body = Vec::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                body.push(
                    l.get(indent..)
                        .filter(|_| l[..indent].trim().is_empty())
                        .unwrap_or(l),
                );
            }
            out.push_str(&fence(lang.trim(), &body));
        } else if t.is_empty() {
            flush(&mut out, &mut para, &mut list, ids);
        } else if let Some((kind, item)) = list_item(t) {
            if !para.is_empty() || list.as_ref().is_some_and(|(k, _)| *k != kind) {
                flush(&mut out, &mut para, &mut list, ids);
            }
            list.get_or_insert((kind, Vec::new()))
                .1
                .push(item.to_string());
        } else if let (Some((_, items)), true) = (&mut list, line.starts_with("  ")) {
            // A continuation line of the last item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(t);
            }
        } else {
            if list.is_some() {
                flush(&mut out, &mut para, &mut list, ids);
            }
            para.push(block_text(t));
        }
    }
    flush(&mut out, &mut para, &mut list, ids);
    out
}

/// A paragraph line without its heading or quote marker (`## Title`, `> quoted`).
fn block_text(t: &str) -> &str {
    let hashes = t.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
        return t[hashes..].trim();
    }
    t.strip_prefix("> ").unwrap_or(t).trim()
}

fn list_item(t: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some(("ul", rest));
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        if let Some(rest) = t[digits..].strip_prefix(". ") {
            return Some(("ol", rest));
        }
    }
    None
}

fn flush(
    out: &mut String,
    para: &mut Vec<&str>,
    list: &mut Option<(&'static str, Vec<String>)>,
    ids: &BTreeSet<String>,
) {
    if !para.is_empty() {
        out.push_str("<p>");
        out.push_str(&inline(&para.join("\n"), ids));
        out.push_str("</p>\n");
        para.clear();
    }
    if let Some((kind, items)) = list.take() {
        out.push_str(&format!("<{kind}>"));
        for i in items {
            out.push_str("<li>");
            out.push_str(&inline(&i, ids));
            out.push_str("</li>");
        }
        out.push_str(&format!("</{kind}>\n"));
    }
}

fn fence(lang: &str, body: &[&str]) -> String {
    let diff = lang == "diff"
        || body
            .iter()
            .any(|l| l.starts_with("+ ") || l.starts_with("- "))
            && body
                .iter()
                .all(|l| l.starts_with(['+', '-', ' ']) || l.is_empty());
    let mut out = String::from("<pre class=\"block\"><code>");
    for l in body {
        let class = match l.chars().next() {
            Some('+') if diff => " add",
            Some('-') if diff => " del",
            _ => "",
        };
        out.push_str(&format!(
            "<span class=\"line{class}\">{}\n</span>",
            escape(l)
        ));
    }
    out.push_str("</code></pre>\n");
    out
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("a valid pattern"))
}

/// Inline markup of one paragraph: code spans stay literal; the rest gets bold, emphasis,
/// de-linked links and finding references.
pub fn inline(text: &str, ids: &BTreeSet<String>) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let last_unmatched = i == parts.len() - 1 && i % 2 == 1;
        if i % 2 == 1 && !last_unmatched {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
            continue;
        }
        if last_unmatched {
            out.push('`');
        }
        out.push_str(&prose(part, ids));
    }
    out
}

fn prose(text: &str, ids: &BTreeSet<String>) -> String {
    static LINK: OnceLock<Regex> = OnceLock::new();
    static BOLD: OnceLock<Regex> = OnceLock::new();
    static EM: OnceLock<Regex> = OnceLock::new();
    static ID: OnceLock<Regex> = OnceLock::new();
    let s = escape(text);
    let s = re(&LINK, r"\[([^\]\n]+)\]\(([^)\s]+)\)").replace_all(&s, "$1 ($2)");
    let s = re(&BOLD, r"\*\*([^*\n]+)\*\*").replace_all(&s, "<strong>$1</strong>");
    let s = re(&EM, r"\*([^*\s][^*\n]*)\*").replace_all(&s, "<em>$1</em>");
    let s = re(&ID, r"\b([CISHD][0-9]{1,4})\b").replace_all(&s, |c: &regex::Captures| {
        let id = &c[1];
        if ids.contains(id) {
            format!("<a href=\"#{id}\">{id}</a>")
        } else {
            id.to_string()
        }
    });
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> BTreeSet<String> {
        ["I1".to_string(), "S2".to_string()].into_iter().collect()
    }

    #[test]
    fn markup_wraps_escaped_text_only() {
        let html = render(
            "Calls `a < b` and **<b>bold</b>** *em* then I1, I9 and [x](javascript:alert(1)).",
            &ids(),
        );
        assert_eq!(
            html,
            "<p>Calls <code>a &lt; b</code> and <strong>&lt;b&gt;bold&lt;/b&gt;</strong> <em>em</em> then <a href=\"#I1\">I1</a>, I9 and x (javascript:alert(1)).</p>\n"
        );
    }

    #[test]
    fn lists_fences_and_paragraphs() {
        let html = render(
            "Intro line\nsecond\n\n- one `</code>`\n- two\n\n```diff\n- old\n+ <new>\n```\n\n1. first",
            &ids(),
        );
        assert!(html.starts_with("<p>Intro line second</p>\n<ul><li>one <code>&lt;/code&gt;</code></li><li>two</li></ul>\n"), "{html}");
        assert!(
            html.contains(
                "<span class=\"line del\">- old\n</span><span class=\"line add\">+ &lt;new&gt;\n</span>"
            ),
            "{html}"
        );
        assert!(html.ends_with("<ol><li>first</li></ol>\n"), "{html}");
        let html = render("## Heading\n> quoted\n#include <x>", &ids());
        assert_eq!(html, "<p>Heading quoted #include &lt;x&gt;</p>\n");
    }

    #[test]
    fn an_unclosed_backtick_and_fence_stay_text() {
        assert_eq!(inline("a ` b <i>", &ids()), "a ` b &lt;i&gt;");
        let html = render("```\n<script>x</script>", &ids());
        assert_eq!(
            html,
            "<pre class=\"block\"><code><span class=\"line\">&lt;script&gt;x&lt;/script&gt;\n</span></code></pre>\n"
        );
    }
}
