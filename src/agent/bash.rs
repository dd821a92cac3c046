//! Read-only shell access for `claude`: the command forms `allow_bash` may admit, and the
//! Claude Code permission rules that hold each of them to reading.
//!
//! How Claude Code 2.1.332 matches `Bash(...)` rules decides the mechanism (verified on the
//! pinned binary with a scripted model, see tests/cli/privilege.rs): a rule's `*` matches any
//! text at any position; deny rules win over allow rules; the command is split at `;`, `&&`,
//! `|` and newlines and every part must be allowed; quotes and backslashes are removed before
//! matching (`--out''put` is `--output`); redirection and `$(…)` are never allowed in
//! `dontAsk` mode. What it does not see is the shell's own expansion: `git log *` with a file
//! named `--output=x` in the tree wrote `x`. So the rules are: one allow rule per admitted
//! form, a deny rule per refused option of that form, and deny rules for every character the
//! shell expands or redirects with, so the argv the program gets is the text that was matched.
//! Once Bash is offered, Claude Code's own read-only check also runs commands it classifies as
//! read-only without any rule (`git status`, `pwd`); the deny rules hold for those too.

/// A command `allow_bash` may name, with the options of it that write or run programs.
pub struct Form {
    pub command: &'static str,
    /// Refused wherever they appear in the command; each also refuses what it prefixes
    /// (`-exec` refuses `-execdir`).
    pub refused: &'static [&'static str],
}

/// git's diff options write a file (`--output`) or run configured programs (`--ext-diff`,
/// `--textconv`); `--help` may start a pager or a browser.
const GIT: &[&str] = &["--output", "--ext-diff", "--textconv", "--help"];

/// The admitted forms. Left out on purpose: bare `git` (any subcommand, `-c` config),
/// `git grep` (`-O<cmd>` runs a program and bundles with other short options), `tree`
/// (`-o FILE` writes and bundles: `-ao FILE`; `-R` writes `00Tree.html` files).
pub const FORMS: &[Form] = &[
    Form {
        command: "git log",
        refused: GIT,
    },
    Form {
        command: "git show",
        refused: GIT,
    },
    Form {
        command: "git diff",
        refused: GIT,
    },
    Form {
        command: "git blame",
        refused: GIT,
    },
    Form {
        command: "rg",
        // `--pre` runs a program on each file (and refuses `--pre-glob`).
        refused: &["--pre"],
    },
    Form {
        command: "grep",
        refused: &[],
    },
    Form {
        command: "find",
        refused: &["-delete", "-exec", "-ok", "-fprint", "-fls"],
    },
    Form {
        command: "ls",
        refused: &[],
    },
    Form {
        command: "cat",
        refused: &[],
    },
    Form {
        command: "head",
        refused: &[],
    },
    Form {
        command: "tail",
        refused: &[],
    },
    Form {
        command: "wc",
        refused: &[],
    },
];

/// Shell syntax refused in every command: redirection (`>`, `<`), pipes and lists (`|`, `;`,
/// `&`), substitution and expansion (`$`, `` ` ``, `*`, `?`, `[`, `{`), which could turn
/// matched text into another argv (a glob can expand to a file named `--output=x`).
pub const REFUSED_SYNTAX: &[char] = &['>', '<', '|', ';', '&', '$', '`', '*', '?', '[', '{'];

/// The admitted form an `allow_bash` entry names, or `None` when it names none.
pub fn form(entry: &str) -> Option<&'static Form> {
    let words: Vec<&str> = entry.split_whitespace().collect();
    let entry = words.join(" ");
    FORMS.iter().find(|f| f.command == entry)
}

/// The admitted forms, for error messages and the README: "git log, git show, …".
pub fn admitted() -> String {
    FORMS
        .iter()
        .map(|f| f.command)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The options refused, for error messages: "--output, --ext-diff, … (git); --pre (rg); …".
pub fn refused() -> String {
    let mut seen: Vec<(String, Vec<&str>)> = Vec::new();
    for f in FORMS.iter().filter(|f| !f.refused.is_empty()) {
        let program = f.command.split(' ').next().unwrap_or(f.command).to_string();
        if !seen.iter().any(|(p, _)| *p == program) {
            seen.push((program, f.refused.to_vec()));
        }
    }
    let syntax: String = REFUSED_SYNTAX.iter().map(|c| format!("{c} ")).collect();
    seen.iter()
        .map(|(p, r)| format!("{} ({p})", r.join(", ")))
        .chain(std::iter::once(format!(
            "and the shell syntax {}",
            syntax.trim_end()
        )))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The Claude Code permission rules for the admitted `entries`: (allow, deny). Entries are
/// validated by the config; any that names no form is skipped here, never allowed.
pub fn rules(entries: &[String]) -> (Vec<String>, Vec<String>) {
    let mut allow = Vec::new();
    let mut deny = Vec::new();
    for f in entries.iter().filter_map(|e| form(e)) {
        let rule = format!("Bash({} *)", f.command);
        if allow.contains(&rule) {
            continue;
        }
        allow.push(rule);
        for opt in f.refused {
            deny.push(format!("Bash({} *{opt}*)", f.command));
        }
    }
    if !allow.is_empty() {
        for c in REFUSED_SYNTAX {
            // In a rule `*` is the wildcard; `\*` is the character itself.
            let c = if *c == '*' {
                "\\*".to_string()
            } else {
                c.to_string()
            };
            deny.push(format!("Bash(*{c}*)"));
        }
    }
    (allow, deny)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_only_vetted_forms() {
        assert_eq!(form("  git   log ").map(|f| f.command), Some("git log"));
        for bad in [
            "git",
            "git grep",
            "tree",
            "find -delete",
            "git log --output=x",
            "sh",
        ] {
            assert!(form(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn rules_deny_refused_options_and_shell_syntax() {
        let (allow, deny) = rules(&["git log".into(), "find".into(), "git log".into()]);
        assert_eq!(allow, vec!["Bash(git log *)", "Bash(find *)"]);
        assert!(deny.contains(&"Bash(git log *--output*)".to_string()));
        assert!(deny.contains(&"Bash(find *-exec*)".to_string()));
        assert!(deny.contains(&"Bash(*\\**)".to_string()));
        assert!(deny.contains(&"Bash(*>*)".to_string()));
        assert_eq!(rules(&["nope".into()]), (vec![], vec![]));
    }
}
