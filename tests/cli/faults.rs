//! Faults cost only what failed: signals, a killed deep-review, concurrent reviews, agents
//! that answer and then hang or leave a descendant holding their stdout, absurd durations.

use crate::support::*;

#[test]
fn an_absurd_timeout_is_a_clear_error_not_a_panic() {
    let repo = Repo::with_base(&[("a.txt", "a\n")]);
    for (flag, says) in [
        ("99999999999999999999h", "not a duration"),
        ("18446744073709551615", "longer than the limit"),
        ("25h", "longer than the limit"),
        ("0s", "zero"),
    ] {
        let out = repo.run(&["review", "--timeout", flag]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{flag}: {err}");
        assert!(!err.contains("panicked"), "{flag}: {err}");
    }
    // The config's timeout goes through the same parser.
    repo.write(
        ".deep-review.toml",
        "[review]\ntimeout = \"99999999999999999999h\"\n",
    );
    let out = repo.run(&["review"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("review.timeout"), "{}", stderr(&out));
}
