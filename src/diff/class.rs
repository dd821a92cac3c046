//! What kind of file a path is, by its name alone: source code, a test, documentation,
//! something generated, or other. The builtin reviewer's tests/docs checks and the brief's
//! diff budget both rank files by it.

/// What a changed file is, for the tests/docs checks and the brief's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileClass {
    Code,
    Test,
    Docs,
    Other,
}

const CODE_EXTS: &[&str] = &[
    "rs", "go", "py", "js", "jsx", "ts", "tsx", "mjs", "cjs", "java", "kt", "kts", "scala", "c",
    "h", "cc", "cpp", "cxx", "hpp", "cs", "rb", "php", "swift", "m", "mm", "ex", "exs", "erl",
    "hs", "ml", "clj", "lua", "pl", "r", "dart", "zig", "nim", "vue", "svelte", "sh", "bash",
];

/// The file's extension, lowercased ("" when it has none).
pub fn extension(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.rsplit_once('.')
        .map(|(stem, e)| if stem.is_empty() { "" } else { e })
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whether the extension is one of a programming language's.
pub fn is_code_extension(ext: &str) -> bool {
    CODE_EXTS.contains(&ext)
}

pub fn classify(path: &str) -> FileClass {
    let lower = path.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let in_dir = |d: &str| lower.starts_with(&format!("{d}/")) || lower.contains(&format!("/{d}/"));
    if ["md", "rst", "adoc", "txt"].contains(&ext) || in_dir("docs") || in_dir("doc") {
        return FileClass::Docs;
    }
    let testy = in_dir("test")
        || in_dir("tests")
        || in_dir("__tests__")
        || in_dir("spec")
        || in_dir("testdata")
        || in_dir("fixtures")
        || file.starts_with("test_")
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.contains("_spec.")
        || file.ends_with("tests.rs")
        || file.ends_with("test.java")
        || file.ends_with("tests.cs");
    if testy {
        return FileClass::Test;
    }
    if CODE_EXTS.contains(&ext) {
        return FileClass::Code;
    }
    FileClass::Other
}

/// Files whose diffs say nothing a reviewer can use: lockfiles, generated, minified or
/// vendored files, snapshots. The brief lists them rather than showing them.
pub fn is_generated(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let in_dir = |d: &str| lower.starts_with(&format!("{d}/")) || lower.contains(&format!("/{d}/"));
    matches!(
        file,
        "cargo.lock"
            | "package-lock.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "go.sum"
            | "poetry.lock"
            | "gemfile.lock"
            | "composer.lock"
            | "pipfile.lock"
            | "uv.lock"
            | "flake.lock"
    ) || file.ends_with(".min.js")
        || file.ends_with(".min.css")
        || file.ends_with(".map")
        || file.ends_with(".snap")
        || file.ends_with(".pb.go")
        || file.ends_with("_pb2.py")
        || file.ends_with(".generated.ts")
        || file.contains(".generated.")
        || file.starts_with("zz_generated")
        || in_dir("vendor")
        || in_dir("node_modules")
        || in_dir("third_party")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(classify("src/lib.rs"), FileClass::Code);
        assert_eq!(classify("tests/cli.rs"), FileClass::Test);
        assert_eq!(classify("pkg/a/a_test.go"), FileClass::Test);
        assert_eq!(classify("web/app.spec.ts"), FileClass::Test);
        assert_eq!(classify("README.md"), FileClass::Docs);
        assert_eq!(classify("docs/guide.html"), FileClass::Docs);
        assert_eq!(classify("Cargo.toml"), FileClass::Other);
        assert_eq!(extension("src/A.RS"), "rs");
        assert_eq!(extension(".gitignore"), "");
        assert!(is_generated("Cargo.lock") && is_generated("web/app.min.js"));
        assert!(is_generated("vendor/github.com/x/y.go") && is_generated("api/v1/a.pb.go"));
        assert!(!is_generated("src/vendors.rs"));
    }
}
