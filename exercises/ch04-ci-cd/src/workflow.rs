//! A GitHub Actions workflow file, as typed Rust. Given, not an exercise.
//!
//! Parsed with serde-saphyr (serde_yaml is deprecated, and serde_yml has a security advisory).
//! Typed structs sidestep YAML's classic trap: in YAML 1.1 the key `on:` is the boolean `true`;
//! here it is a field named `on`, and only that.

use std::collections::BTreeMap;
use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;

/// A whole workflow file.
#[derive(Debug, Clone, Deserialize)]
pub struct Workflow {
    pub name: Option<String>,
    #[serde(rename = "on")]
    pub on: Triggers,
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    /// In the order of the file.
    pub jobs: IndexMap<String, Job>,
}

/// `on:` as a word, a list of words, or a map of events to their filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Triggers {
    One(String),
    Many(Vec<String>),
    Map(IndexMap<String, Option<EventFilter>>),
}

/// The filters of one event (`branches: [main]`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EventFilter {
    #[serde(default)]
    pub branches: Vec<String>,
}

impl Triggers {
    /// The events the workflow runs on (`push`, `pull_request`, …).
    pub fn events(&self) -> Vec<String> {
        match self {
            Triggers::One(e) => vec![e.clone()],
            Triggers::Many(es) => es.clone(),
            Triggers::Map(m) => m.keys().cloned().collect(),
        }
    }
}

// ANCHOR: job
/// One job.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub name: Option<String>,
    #[serde(rename = "runs-on")]
    pub runs_on: Option<String>,
    #[serde(default)]
    pub needs: Needs,
    #[serde(rename = "if")]
    pub condition: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    pub environment: Option<Environment>,
    #[serde(default)]
    pub services: IndexMap<String, Service>,
    #[serde(default)]
    pub steps: Vec<Step>,
}
// ANCHOR_END: job

/// `needs:` as one job or a list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Needs {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

// ANCHOR: needs-list
impl Needs {
    pub fn list(&self) -> Vec<String> {
        match self {
            Needs::None => Vec::new(),
            Needs::One(j) => vec![j.clone()],
            Needs::Many(js) => js.clone(),
        }
    }
}
// ANCHOR_END: needs-list

/// `environment:` as a name, or a map with one.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Environment {
    Name(String),
    Full { name: String, url: Option<String> },
}

/// A service container (`services: redis: image: redis:7`).
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub image: String,
    #[serde(default)]
    pub ports: Vec<Scalar>,
    #[serde(default)]
    pub options: Option<String>,
}

// ANCHOR: step
/// One step: an action (`uses:`) or a command (`run:`).
#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    pub name: Option<String>,
    pub id: Option<String>,
    pub uses: Option<String>,
    #[serde(default)]
    pub with: BTreeMap<String, Scalar>,
    pub run: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, Scalar>,
    #[serde(rename = "if")]
    pub condition: Option<String>,
    #[serde(rename = "working-directory")]
    pub working_directory: Option<String>,
}
// ANCHOR_END: step

impl Step {
    /// What to call it in a summary: its name, else its action or command.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.uses.clone())
            .or_else(|| {
                self.run
                    .as_ref()
                    .map(|r| r.lines().next().unwrap_or("").to_owned())
            })
            .unwrap_or_else(|| "(empty step)".to_owned())
    }
}

/// A YAML scalar: strings, numbers and booleans all read as text, as Actions treats them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Bool(bool),
    Int(i64),
}

impl Scalar {
    pub fn as_text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
        }
    }
}

/// The file could not be read or is not a workflow.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a workflow: {message}")]
    Invalid { path: String, message: String },
}

impl Workflow {
    pub fn load(path: &Path) -> Result<Workflow, WorkflowError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorkflowError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Workflow::parse(&text).map_err(|message| WorkflowError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Workflow, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }
}

// ANCHOR: context
/// What an expression can refer to: `github.ref`, `github.sha`, `github.event_name`,
/// `secrets.NAME`, `env.NAME`.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub github: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
}
// ANCHOR_END: context

impl Context {
    /// A push to `branch` at commit `sha`.
    pub fn push(branch: &str, sha: &str) -> Context {
        let mut github = BTreeMap::new();
        github.insert("ref".into(), format!("refs/heads/{branch}"));
        github.insert("ref_name".into(), branch.into());
        github.insert("sha".into(), sha.into());
        github.insert("event_name".into(), "push".into());
        // What GitHub would fill in; locally, placeholders that read as such.
        github.insert("repository".into(), "local/sample-app".into());
        github.insert("actor".into(), "you".into());
        Context {
            github,
            ..Context::default()
        }
    }

    /// The value of a dotted name, or "" when it is unknown (as in Actions).
    pub fn lookup(&self, path: &str) -> String {
        let (scope, key) = path.split_once('.').unwrap_or((path, ""));
        let map = match scope {
            "github" => &self.github,
            "secrets" => &self.secrets,
            "env" => &self.env,
            _ => return String::new(),
        };
        map.get(key).cloned().unwrap_or_default()
    }

    /// Replaces every `${{ name }}` in `text` with its value.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return out;
            };
            out.push_str(&self.lookup(after[..end].trim()));
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_is_a_key_not_a_boolean_and_jobs_keep_their_order() {
        let w = Workflow::parse(
            "on: [push, pull_request]\njobs:\n  zeta:\n    steps: [{run: 'true'}]\n  alpha:\n    needs: zeta\n    steps: []\n",
        )
        .unwrap();
        assert_eq!(w.on.events(), ["push", "pull_request"]);
        assert_eq!(w.jobs.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
        assert_eq!(w.jobs["alpha"].needs.list(), ["zeta"]);
    }

    #[test]
    fn expressions_are_substituted_from_the_context() {
        let mut ctx = Context::push("main", "abc123");
        ctx.secrets.insert("TOKEN".into(), "s3cret".into());
        assert_eq!(
            ctx.substitute("app:${{ github.sha }} ${{secrets.TOKEN}} [${{ secrets.NONE }}]"),
            "app:abc123 s3cret []"
        );
    }
}
