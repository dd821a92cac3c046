//! `deep-review publish`, and the publishing step `deep-review pr --post` shares with it:
//! plan from the saved review, write the plan beside it, and (unless a dry run) post it.
//! `deep-review publish` runs nothing from the PR: it only reads the review folder.

use super::plan::plan;
use super::plan::Options;
use super::post::post;
use super::Client;
use super::PrError;
use super::PrTarget;
use crate::diff::FileDiff;
use crate::errors::exit_codes;
use crate::errors::Error;
use crate::errors::Result;
use crate::progress;
use crate::review::Review;
use crate::run;

/// Where a saved PR review goes: written as `pr.json` beside review.json.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SavedPr {
    pub owner: String,
    pub repo: String,
    pub number: u64,
    pub api: String,
    pub head_sha: String,
    /// The `--fail-on` threshold the review ran with (configuration or flag), for the check
    /// run's conclusion; `publish --fail-on` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<crate::finding::Severity>,
}

/// Plans and (unless `dry_run`) posts; returns the plan's requests as JSON text.
pub(super) async fn publish_review(
    client: &Client,
    saved: &SavedPr,
    review: &Review,
    files: &[FileDiff],
    round_dir: &std::path::Path,
    dry_run: bool,
) -> Result<String> {
    let target = PrTarget {
        owner: saved.owner.clone(),
        repo: saved.repo.clone(),
        number: saved.number,
        api: saved.api.clone(),
    };
    let opts = Options {
        head_sha: saved.head_sha.clone(),
        fail_on: saved.fail_on,
        may_write: !dry_run,
    };
    let plan = plan(client, &target, review, files, &opts).await?;
    let text = serde_json::to_string_pretty(&plan.dry_run(&target, &saved.head_sha))
        .unwrap_or_default()
        + "\n";
    let plan_path = round_dir.join("github-plan.json");
    crate::artifacts::write(&plan_path, &text)?;
    if !dry_run {
        let outcome = post(client, &target, &saved.head_sha, plan).await?;
        progress::log(&outcome);
    }
    Ok(text)
}

/// `deep-review publish DIR`: posts a saved PR review (review.json, pr.json, diff.patch in
/// the round folder). It runs nothing from the PR: it only reads those files.
pub async fn publish(args: crate::cli::PublishArgs) -> Result<run::Outcome> {
    let review_json = crate::commands::find_review_json(&args.path)?;
    let round = review_json
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let read = |name: &str| -> Result<String> {
        let p = round.join(name);
        std::fs::read_to_string(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::Usage(format!(
                "{} has no {name}; publish takes the folder of a `deep-review pr` review",
                round.display()
            )),
            _ => Error::io("read", &p, e),
        })
    };
    let saved_file = |name: &str, source| PrError::SavedFile {
        path: round.join(name),
        source,
    };
    let review: Review =
        serde_json::from_str(&read("review.json")?).map_err(|e| saved_file("review.json", e))?;
    let saved: SavedPr =
        serde_json::from_str(&read("pr.json")?).map_err(|e| saved_file("pr.json", e))?;
    let files = crate::diff::parse(&read("diff.patch")?);
    let token = super::discover_token();
    if token.is_none() && !args.dry_run {
        return Err(Error::Usage(
            "publish needs a token with write access: set GITHUB_TOKEN or GH_TOKEN (or use --dry-run)".into(),
        ));
    }
    // The folder may come from another job: the API it names does not choose where the
    // token goes. Without --api-url, it must be the one deep-review would use itself.
    let api = match &args.api_url {
        Some(a) => a.clone(),
        None => {
            let own = super::target::api_for_host(&std::env::var("GH_HOST").unwrap_or_default());
            if saved.api.trim_end_matches('/') != own {
                return Err(Error::Usage(format!(
                    "{} names the API {}, but deep-review sends your token only to {own} (GH_HOST, else github.com): pass --api-url {} if you trust this review folder",
                    round.join("pr.json").display(),
                    saved.api,
                    saved.api
                )));
            }
            own
        }
    };
    let client = Client::new(&api, token)?;
    let saved = SavedPr {
        api,
        fail_on: args.fail_on.or(saved.fail_on),
        ..saved
    };
    let text = publish_review(&client, &saved, &review, &files, &round, args.dry_run).await?;
    Ok(run::Outcome {
        report: if args.dry_run { text } else { String::new() },
        // Only an explicit --fail-on sets publish's exit code (as `pr` would: 3 when no model
        // reviewer answered); the saved threshold sets the check run's conclusion.
        exit_code: match (args.fail_on, review.verdict) {
            (None, _) => exit_codes::OK,
            (Some(_), None) => exit_codes::NO_MODEL_REVIEWER,
            (Some(_), Some(_)) => run::fail_on_code(&review, args.fail_on),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::plan::Plan;
    use crate::github::threads::HeldBack;
    use crate::github::threads::ThreadAction;

    #[test]
    fn dry_run_lists_the_resolve_mutations_and_what_was_held_back() {
        let plan = Plan {
            existing_summary: Some(5),
            summary: "s".into(),
            still_open: vec!["F2".into()],
            held_back: vec![HeldBack {
                finding: "F3".into(),
                title: "t".into(),
                by: "alice".into(),
                how: "reply",
                url: "https://github.com/o/r/pull/1#discussion_r9".into(),
            }],
            resolve: vec![ThreadAction {
                finding: "F1".into(),
                thread: "PRRT_1".into(),
                why: None,
            }],
            kept_open: vec![ThreadAction {
                finding: "F4".into(),
                thread: "PRRT_4".into(),
                why: Some("someone replied in it"),
            }],
            ..Plan::default()
        };
        let t = PrTarget {
            owner: "o".into(),
            repo: "r".into(),
            number: 1,
            api: "https://api.github.com".into(),
        };
        let v = serde_json::to_value(plan.dry_run(&t, "abc")).unwrap();
        let reqs = v["requests"].as_array().unwrap();
        assert_eq!(reqs.len(), 2, "{v:#}");
        assert_eq!(reqs[0]["method"], "PUT");
        assert_eq!(reqs[1]["path"], "/graphql");
        assert_eq!(reqs[1]["body"]["variables"]["threadId"], "PRRT_1");
        assert!(reqs[1]["body"]["query"]
            .as_str()
            .unwrap()
            .contains("resolveReviewThread"));
        assert_eq!(v["still_open"], serde_json::json!(["F2"]));
        assert_eq!(
            v["held_back"][0]["url"],
            "https://github.com/o/r/pull/1#discussion_r9"
        );
        assert_eq!(v["kept_open"][0]["why"], "someone replied in it");
        assert!(v["resolve"][0].get("why").is_none());
    }

    #[test]
    fn graphql_lives_beside_the_rest_api() {
        let at = |api: &str| Client::new(api, None).unwrap().graphql_url();
        assert_eq!(
            at("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            at("https://ghe.example.com/api/v3/"),
            "https://ghe.example.com/api/graphql"
        );
    }
}
