//! Nothing left behind on the Docker engine. Everything a run creates there carries its run's
//! and its checkout's labels (test-support's `docker::labels`); this module finds and removes
//! what carries them:
//! - after a run that was killed at its time limit or stopped (Ctrl-C), what carries that run's
//!   label ([`sweep_run`]): its tests' guards had no chance to remove it (images go, their
//!   untagged layers stay as the next build's cache);
//! - `just doctor` lists, and `just clean` removes, what runs of this checkout that are no longer
//!   alive left (a run that died with the machine, a bare `cargo test` killed by hand): their
//!   containers with their compose networks, and their images that lost their tag to a newer
//!   build. The latest image of each build keeps its tag: it is the next build's layer cache.
//!
//! Tested end to end on the fixture workbook: `cargo test -p workbook --test leftovers`.

use std::process::ExitCode;

use anyhow::Result;
use test_support::docker::{docker, labels};

/// A container or an image that carries a run's label.
#[derive(Debug)]
struct Thing {
    id: String,
    /// The container's name, or the image's `repository:tag` (its id when untagged).
    name: String,
    /// The run that created it.
    run: String,
    /// The compose project of a container, if compose started it.
    project: String,
}

/// What carries a label on the engine.
#[derive(Debug, Default)]
pub(crate) struct Found {
    containers: Vec<Thing>,
    images: Vec<Thing>,
}

impl Found {
    pub(crate) fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.images.is_empty()
    }

    /// The compose projects its containers belong to.
    fn projects(&self) -> Vec<&str> {
        let mut projects: Vec<&str> = self
            .containers
            .iter()
            .map(|c| c.project.as_str())
            .filter(|p| !p.is_empty())
            .collect();
        projects.sort_unstable();
        projects.dedup();
        projects
    }

    /// `2 containers (ch03-stop-1-0, …), compose project ch05lab7, 1 image (…)`.
    pub(crate) fn describe(&self) -> String {
        let list = |things: &[Thing], what: &str| {
            let names: Vec<&str> = things.iter().map(|t| t.name.as_str()).collect();
            let s = if names.len() == 1 { "" } else { "s" };
            format!("{} {what}{s} ({})", names.len(), names.join(", "))
        };
        let mut parts = Vec::new();
        if !self.containers.is_empty() {
            parts.push(list(&self.containers, "container"));
        }
        let projects = self.projects();
        if !projects.is_empty() {
            parts.push(format!("compose project {}", projects.join(", ")));
        }
        if !self.images.is_empty() {
            parts.push(list(&self.images, "image"));
        }
        parts.join(", ")
    }

    /// Removes it all: the containers with their anonymous volumes, their compose projects'
    /// networks, then the images; with `prune`, their untagged parents too, else those stay:
    /// they are the classic builder's layer cache, which the next build reuses (after a run
    /// stopped by Ctrl-C, the next chapter 3 build takes seconds, not a cold build's minutes;
    /// `just clean` removes them).
    pub(crate) fn remove(&self, prune: bool) -> Result<()> {
        let mut failed = Vec::new();
        if !self.containers.is_empty() {
            let mut rm = vec!["rm", "-f", "-v"];
            rm.extend(self.containers.iter().map(|c| c.id.as_str()));
            failed.extend(docker(&rm).err());
        }
        for project in self.projects() {
            let filter = format!("label=com.docker.compose.project={project}");
            let networks =
                docker(&["network", "ls", "-q", "--filter", &filter]).unwrap_or_default();
            for network in networks.lines().filter(|l| !l.is_empty()) {
                failed.extend(docker(&["network", "rm", network]).err());
            }
        }
        for image in &self.images {
            // -f: an image with two tags is removed only so; its containers are gone already.
            let mut rmi = vec!["rmi", "-f"];
            if !prune {
                rmi.push("--no-prune");
            }
            rmi.push(&image.id);
            failed.extend(docker(&rmi).err());
        }
        anyhow::ensure!(failed.is_empty(), "{}", failed.join("\n"));
        Ok(())
    }
}

/// What carries `label` (`key=value`): every container, and the images (only the untagged ones
/// when `untagged_only`).
fn find(label: &str, untagged_only: bool) -> Result<Found> {
    let filter = format!("label={label}");
    let format = format!(
        "{{{{.ID}}}}\t{{{{.Names}}}}\t{{{{.Label \"{}\"}}}}\t{{{{.Label \"com.docker.compose.project\"}}}}",
        labels::RUN
    );
    let mut found = Found::default();
    let listed = docker(&["ps", "-a", "--filter", &filter, "--format", &format])
        .map_err(anyhow::Error::msg)?;
    for line in listed.lines().filter(|l| !l.is_empty()) {
        // The output is trimmed: the last line may have lost its empty fields.
        let mut fields = line.split('\t').map(str::to_owned);
        let mut next = || fields.next().unwrap_or_default();
        found.containers.push(Thing {
            id: next(),
            name: next(),
            run: next(),
            project: next(),
        });
    }
    let mut args = vec!["images", "--filter", &filter];
    if untagged_only {
        args.extend(["--filter", "dangling=true"]);
    }
    args.extend(["--format", "{{.ID}}\t{{.Repository}}:{{.Tag}}"]);
    for line in docker(&args).map_err(anyhow::Error::msg)?.lines() {
        let Some((id, name)) = line.split_once('\t') else {
            continue;
        };
        if found.images.iter().any(|i| i.id == id) {
            continue;
        }
        let run_label = format!("{{{{index .Config.Labels \"{}\"}}}}", labels::RUN);
        let run = docker(&["image", "inspect", "--format", &run_label, id]).unwrap_or_default();
        found.images.push(Thing {
            id: id.to_owned(),
            name: if name == "<none>:<none>" { id } else { name }.to_owned(),
            run,
            project: String::new(),
        });
    }
    Ok(found)
}

/// After this run was killed at its time limit or stopped: removes what carries its label, and
/// says so. Says nothing where no engine answers (nothing can be on it) or nothing was left.
pub(crate) fn sweep_run() {
    if test_support::docker::engine().is_err() {
        return;
    }
    let found = match find(&format!("{}={}", labels::RUN, labels::run_id()), false) {
        Ok(found) if found.is_empty() => return,
        Ok(found) => found,
        Err(err) => {
            eprintln!("Could not ask the Docker engine what the stopped run left: {err:#}");
            return;
        }
    };
    match found.remove(false) {
        Ok(()) => eprintln!(
            "Removed what the stopped run had left on the Docker engine: {}.",
            found.describe()
        ),
        Err(err) => eprintln!(
            "The stopped run left {} on the Docker engine, and removing it failed: {err:#}. \
             `just clean` tries again.",
            found.describe()
        ),
    }
}

/// What runs of this checkout that are no longer alive left; `None` where no engine answers.
pub(crate) fn of_dead_runs() -> Option<Result<Found>> {
    test_support::docker::engine().ok()?;
    let label = format!("{}={}", labels::CHECKOUT, labels::checkout());
    Some(find(&label, true).map(|mut found| {
        found.containers.retain(|c| !alive(&c.run));
        found.images.retain(|i| !alive(&i.run));
        found
    }))
}

/// Whether the run `id` (`<pid>-<ms>`) is still alive: its process exists. (A pid reused after
/// a restart keeps that run's leftovers until the process ends.)
fn alive(id: &str) -> bool {
    id == labels::run_id() || labels::run_pid(id).is_some_and(test_support::process::alive)
}

/// `just doctor`'s line: what dead runs of this checkout left, if anything.
pub(crate) fn doctor_line() {
    match of_dead_runs() {
        None => {}
        Some(Ok(found)) if found.is_empty() => {
            println!(
                "✓ {:<15} none on the Docker engine from earlier runs",
                "leftovers"
            );
        }
        Some(Ok(found)) => println!(
            "! {:<15} earlier runs of this checkout left {}: `just clean` removes them",
            "leftovers",
            found.describe()
        ),
        Some(Err(err)) => println!(
            "! {:<15} could not ask the Docker engine: {err:#}",
            "leftovers"
        ),
    }
}

/// `just clean`: removes what runs of this checkout that died left, and says what.
pub(crate) fn clean() -> Result<ExitCode> {
    let Some(found) = of_dead_runs() else {
        eprintln!("clean: no Docker engine answers, so nothing can be left on one");
        return Ok(ExitCode::SUCCESS);
    };
    let found = found?;
    if found.is_empty() {
        eprintln!("clean: nothing on the Docker engine was left by earlier runs of this checkout");
        return Ok(ExitCode::SUCCESS);
    }
    found.remove(true)?;
    eprintln!(
        "clean: removed what earlier runs of this checkout had left on the Docker engine: {}",
        found.describe()
    );
    Ok(ExitCode::SUCCESS)
}
