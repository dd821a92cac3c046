//! The labelled dataset (the format of `shared/eval/martian-dev.json`; see its README) and
//! its folds: every repository in it is one fold, taken from the data, never from a list of
//! names.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
pub struct Dataset {
    pub prs: Vec<Pr>,
}

#[derive(Debug, Deserialize)]
pub struct Pr {
    /// The repository the PR belongs to (its fold). Optional: without it the fold is the
    /// owner/name of the PR's GitHub URL.
    #[serde(default)]
    pub repo: String,
    pub pr: String,
    #[serde(default)]
    pub title: String,
    pub golden: Vec<Golden>,
    pub agents: BTreeMap<String, Vec<TextFinding>>,
    pub labels: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct Golden {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct TextFinding {
    pub id: String,
    pub text: String,
}

/// One repository's PRs.
#[derive(Debug)]
pub struct Fold<'a> {
    pub name: String,
    pub prs: Vec<&'a Pr>,
}

impl Pr {
    /// The fold this PR belongs to: its `repo`, else `owner/name` from a
    /// `https://github.com/owner/name/pull/N` URL, else the whole URL.
    pub fn fold(&self) -> String {
        if !self.repo.trim().is_empty() {
            return self.repo.trim().to_string();
        }
        let path = self
            .pr
            .split_once("://")
            .map_or(self.pr.as_str(), |(_, rest)| rest);
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            [_host, owner, name, ..] if !owner.is_empty() && !name.is_empty() => {
                format!("{owner}/{name}")
            }
            _ => self.pr.clone(),
        }
    }
}

impl Dataset {
    /// Every PR, in the dataset's order.
    pub fn all(&self) -> Vec<&Pr> {
        self.prs.iter().collect()
    }

    /// Every repository in the dataset with its PRs (in the dataset's order), by name.
    pub fn folds(&self) -> Vec<Fold<'_>> {
        let mut by: BTreeMap<String, Vec<&Pr>> = BTreeMap::new();
        for pr in &self.prs {
            by.entry(pr.fold()).or_default().push(pr);
        }
        by.into_iter()
            .map(|(name, prs)| Fold { name, prs })
            .collect()
    }

    /// Every tool name in the dataset.
    pub fn tools(&self) -> Vec<String> {
        let mut t: BTreeSet<String> = BTreeSet::new();
        for pr in &self.prs {
            t.extend(pr.agents.keys().cloned());
        }
        t.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(repo: &str, url: &str) -> Pr {
        Pr {
            repo: repo.into(),
            pr: url.into(),
            title: String::new(),
            golden: Vec::new(),
            agents: BTreeMap::new(),
            labels: HashMap::new(),
        }
    }

    #[test]
    fn folds_come_from_the_repo_field_else_the_url() {
        let data = Dataset {
            prs: vec![
                pr("discourse", "https://github.com/discourse/discourse/pull/1"),
                pr("", "https://github.com/calcom/cal.com/pull/2"),
                pr("discourse", "https://github.com/discourse/discourse/pull/3"),
                pr("", "local-7"),
            ],
        };
        let folds: Vec<(String, usize)> = data
            .folds()
            .into_iter()
            .map(|f| (f.name, f.prs.len()))
            .collect();
        assert_eq!(
            folds,
            vec![
                ("calcom/cal.com".to_string(), 1),
                ("discourse".to_string(), 2),
                ("local-7".to_string(), 1),
            ]
        );
    }
}
