//! The one way deep-review writes a file into a review folder.
//!
//! Every artifact (brief.md, review.json, report.md, run.json, answer.txt, …) goes through
//! [`write`], which masks secrets ([`crate::secrets::mask`]) and writes whole or not at all:
//! the text goes to a hidden temporary file beside the target, is synced, then renamed over
//! it. A full disk therefore leaves no 0-byte or cut artifact, and the error names the file.

use crate::errors::Error;
use crate::errors::Result;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Writes `contents`, masked, to `path`, creating its folder. On failure nothing is left at
/// `path` (an earlier version stays as it was) and the error names `path`.
pub fn write(path: &Path, contents: &str) -> Result<()> {
    let masked = crate::secrets::mask(contents);
    write_whole(path, masked.as_bytes()).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// [`write`], for artifacts a review can do without (a failure is logged, naming the file,
/// and the review goes on). Returns whether the file was written.
pub fn write_or_log(path: &Path, contents: &str) -> bool {
    match write(path, contents) {
        Ok(()) => true,
        Err(e) => {
            let why = std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default();
            crate::progress::log(&format!(
                "warning: could not write {}: {why}; the review goes on without it",
                path.display()
            ));
            false
        }
    }
}

fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.partial`: hidden, and in the same folder so the rename cannot cross devices.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_masked_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/report.md");
        write(
            &path,
            "token ghp_0123456789abcdefghijABCDEFGHIJ0123456789 here\n",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "token ghp_…[redacted] here\n"
        );
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec!["report.md"]);
    }

    #[test]
    fn a_failure_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file's parent should be: the write cannot happen.
        std::fs::write(dir.path().join("blocker"), "").unwrap();
        let path = dir.path().join("blocker/review.json");
        let err = write(&path, "{}").unwrap_err().to_string();
        assert!(err.contains("blocker/review.json"), "{err}");
    }
}
