//! `just verify --only book-manifests`: every Kubernetes manifest, compose file and systemd unit
//! the book shows works, as printed, with the service it runs.
//!
//! The files are the ones the pages `{{#include}}` (`book-quotes` makes sure nothing is pasted
//! instead). Each is read as what it is (YAML, or a unit's `Key=Value` lines) and held against
//! the service's own code, not against a copy of its settings: the environment variables its
//! sources read, the defaults its `config.rs` gives `HOST`, `PORT` and `SHUTDOWN_TIMEOUT`, the
//! paths its router serves, and whether it ever tells systemd `READY=1` or `WATCHDOG=1`. The
//! service is the crate (or `[[bin]]`) named by the file's image or `ExecStart=`, else the
//! chapter whose folder holds the file.
//!
//! What "works" means here: a container platform connects to the pod's or container's address,
//! so the service must not bind 127.0.0.1 (Kubernetes' probes go to the pod IP); every probed or
//! published port is the one it binds; every probed path is served; every variable set is one
//! the service reads (a typo is silently ignored otherwise); a default that points at
//! 127.0.0.1 (a Redis) is overridden inside a container, where 127.0.0.1 is the container; the
//! platform waits longer than the service's own deadline before its SIGKILL; and a unit's
//! `Type=notify` or `WatchdogSec=` has a service that sends what they wait for.

mod compose;
mod kubernetes;
mod service;
mod unit;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

/// What its line in `just verify` says.
pub(crate) const ABOUT: &str = "every Kubernetes manifest, compose file and systemd unit the \
                                book shows works with its service's config code";

/// Every problem found, as sentences naming the file.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let crates = service::crates(root)?;
    let mut problems = Vec::new();
    for file in shown_files(root)? {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let mut found = |what: String| problems.push(format!("{rel}: {what}"));
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "service" || text.lines().any(|l| l.trim() == "[Service]") {
            unit::check(root, &crates, &file, &text, &mut found)?;
        } else if ext == "yaml" || ext == "yml" {
            let docs: Vec<Value> = match serde_saphyr::from_multiple(&text) {
                Ok(docs) => docs,
                Err(err) => {
                    found(format!("is not valid YAML: {err}"));
                    continue;
                }
            };
            if docs
                .iter()
                .any(|d| d.get("services").is_some_and(Value::is_object))
            {
                compose::check(root, &crates, &file, &docs[0], &mut found)?;
            } else if docs.iter().any(kubernetes::is_kubernetes) {
                kubernetes::check(root, &crates, &file, &docs, &mut found)?;
            }
        }
    }
    Ok(problems)
}

/// The files the pages include, once each.
fn shown_files(root: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    for page in crate::book::markdown_files(&root.join("book/src"))? {
        let text = std::fs::read_to_string(&page)?;
        let dir = page.parent().expect("a file has a parent");
        for line in text.lines() {
            for include in crate::book::includes(line) {
                let file = include.split(':').next().unwrap_or_default();
                let path = crate::book::normalize(&dir.join(file));
                if path.is_file() {
                    out.insert(path);
                }
            }
        }
    }
    Ok(out)
}

fn files_under(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path, ext)?);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
// ---- values as the files write them ----

/// `15s`, `1m30s`, `90`, `100ms` (rounded down) as whole seconds.
fn seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = number.parse().ok()?;
        total += n * match unit.trim() {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = next;
    }
    Some(total as u64)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn show(port: Option<u64>) -> String {
    port.map_or_else(
        || "(PORT's default not found in config.rs)".into(),
        |p| p.to_string(),
    )
}

fn image_name(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split([':', '@']).next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds() {
        assert_eq!(seconds("15s"), Some(15));
        assert_eq!(seconds("1m30s"), Some(90));
        assert_eq!(seconds("90"), Some(90));
        assert_eq!(seconds("forever"), None);
    }
}
