//! `just prefetch`: gets a machine ready the day before, for a room with poor network.
//!
//! 1. every crate the workspace and the services' own lock files name (`cargo fetch`);
//! 2. mdbook, pinned, if it is missing (the book);
//! 3. every ready chapter's tests, built for the starter and for the solution;
//! 4. where a Docker engine runs: every image the Dockerfiles and the compose file start from
//!    (pulled if not present), and the lab's images built; `--save FILE` writes them all to one
//!    file an instructor can hand out, which `just prefetch --load FILE` loads on another
//!    machine.
//!
//! It writes `target/workbook/prefetched.toml`, which `just doctor` reads to say whether the
//! machine is ready to work offline. The images are found in each chapter's files (`FROM` lines
//! and `image:` keys), not listed here, so a new chapter's images are prefetched too.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

use crate::cargo_test::{self, Place, Show};
use crate::manifest::{Chapter, Manifest, Status};
use crate::scratch::{Scratch, Version};
use crate::stop;

/// What `prefetch` did, for `doctor`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Prefetched {
    /// When it ran (seconds since the Unix epoch).
    pub at: u64,
    /// The commit it ran on, if git knows.
    pub commit: Option<String>,
    /// Chapters whose tests were built, starter and solution.
    pub chapters_built: Vec<u32>,
    /// Images present after it ran.
    pub images: Vec<String>,
    /// What did not work.
    pub problems: Vec<String>,
}

pub(crate) fn record_path(root: &Path) -> PathBuf {
    root.join("target/workbook/prefetched.toml")
}

pub(crate) async fn prefetch(
    root: &Path,
    manifest: &Manifest,
    save: Option<&Path>,
    load: Option<&Path>,
) -> Result<ExitCode> {
    if let Some(file) = load {
        return load_images(file);
    }
    let mut done = Prefetched {
        at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        commit: git(root, &["rev-parse", "--short", "HEAD"]),
        ..Prefetched::default()
    };

    println!("1/4 fetching every crate (cargo fetch)…");
    let mut manifests = vec![root.join("Cargo.toml")];
    manifests.extend(service_manifests(root));
    for manifest_path in &manifests {
        let ok = stop::status(
            Command::new("cargo")
                .args(["fetch", "--locked", "--manifest-path"])
                .arg(manifest_path),
        )?
        .is_ok_and(|s| s.success());
        if !ok {
            done.problems.push(format!(
                "cargo fetch failed for {}",
                manifest_path.display()
            ));
        }
    }

    println!("2/4 mdbook and mdbook-quiz for the book…");
    for (tool, version) in [
        ("mdbook", crate::pins::MDBOOK),
        ("mdbook-quiz", crate::pins::MDBOOK_QUIZ),
    ] {
        if Command::new(tool).arg("--version").output().is_err() {
            let ok = stop::status(Command::new("cargo").args([
                "install",
                "--locked",
                &format!("{tool}@{version}"),
            ]))?
            .is_ok_and(|s| s.success());
            if !ok {
                done.problems.push(format!("installing {tool} failed"));
            }
        }
    }

    println!("3/4 building every chapter's tests, starter and solution (the first time: minutes)…");
    for chapter in manifest
        .chapters
        .iter()
        .filter(|c| c.status == Status::Ready)
    {
        println!("    chapter {}: your code", chapter.number);
        let starter = cargo_test::build(&Place::learner(root), chapter, Show::Build).await?;
        println!("    chapter {}: the reference solution", chapter.number);
        let scratch = Scratch::prepare(root, chapter, Version::Solution)?;
        let solution = cargo_test::build(&scratch.place(), chapter, Show::Build).await?;
        if starter && solution {
            done.chapters_built.push(chapter.number);
        } else {
            done.problems.push(format!(
                "chapter {}'s tests did not build ({})",
                chapter.number,
                if starter { "solution" } else { "your code" }
            ));
        }
    }

    // The workshop room (`just room`, tools/room): built now so that the instructor's laptop
    // needs no network on the day. The book's panel is part of the runner, built already.
    println!("    the workshop room (tools/room)");
    let room = stop::status(
        Command::new("cargo")
            .current_dir(root)
            .args(["build", "--locked", "-p", "room"]),
    )?
    .is_ok_and(|s| s.success());
    if !room {
        done.problems
            .push("the workshop room (tools/room) did not build".into());
    }

    println!("4/4 container images…");
    if test_support::docker::engine().is_ok() {
        for image in images_named(root, manifest) {
            if !test_support::docker::has_image(&image) {
                println!("    pulling {image}");
                let ok = stop::status(Command::new("docker").args(["pull", &image]))?
                    .is_ok_and(|s| s.success());
                if !ok {
                    done.problems.push(format!("could not pull {image}"));
                    continue;
                }
            }
            done.images.push(image);
        }
        println!("    building the lab's images");
        match lab::Lab::new(root, 8088).and_then(|lab| lab.compose(&["build"])) {
            Ok(_) => {}
            // The lab runs compose in the runner's own process group, where the terminal's
            // Ctrl-C reaches it: a build that ended for that is not a problem to record.
            Err(_) if stop::is_requested() => return Err(stop::Stopped.into()),
            Err(err) => done
                .problems
                .push(format!("building the lab's images: {err:#}")),
        }
        if let Some(file) = save {
            println!(
                "    saving {} image(s) to {}",
                done.images.len(),
                file.display()
            );
            let ok = stop::status(
                Command::new("docker")
                    .args(["save", "-o"])
                    .arg(file)
                    .args(&done.images),
            )?
            .is_ok_and(|s| s.success());
            if !ok {
                done.problems
                    .push(format!("docker save to {} failed", file.display()));
            }
        }
    } else {
        let docker_chapters: Vec<String> = manifest
            .chapters
            .iter()
            .filter(|c| c.docker && c.status != Status::Planned)
            .map(|c| c.number.to_string())
            .collect();
        done.problems.push(format!(
            "no Docker engine: the Docker chapters ({}) will need the network (or `just \
             prefetch --load FILE` from a machine that has the images)",
            docker_chapters.join(", ")
        ));
    }

    let path = record_path(root);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, toml::to_string(&done)?)
        .with_context(|| format!("writing {}", path.display()))?;
    if done.problems.is_empty() {
        println!("\nThis machine is ready to work offline. `just doctor` says so too.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nDone, with problems:");
        for p in &done.problems {
            println!("  - {p}");
        }
        Ok(ExitCode::FAILURE)
    }
}

fn load_images(file: &Path) -> Result<ExitCode> {
    test_support::docker::engine().map_err(|why| {
        anyhow::anyhow!("`just prefetch --load` needs a running Docker engine: {why}")
    })?;
    let ok = stop::status(Command::new("docker").args(["load", "-i"]).arg(file))?
        .context("running docker load")?
        .success();
    if ok {
        println!("Loaded the images in {}.", file.display());
        Ok(ExitCode::SUCCESS)
    } else {
        anyhow::bail!("docker load -i {} failed", file.display())
    }
}

/// The manifests of the projects that are not workspace members (the services, which are their
/// own Docker contexts, and chapter 4's sample app).
fn service_manifests(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for chapter in std::fs::read_dir(root.join("exercises"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for sub in std::fs::read_dir(chapter.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let manifest = sub.path().join("Cargo.toml");
            if sub.path().is_dir() && manifest.is_file() && sub.path().join("Cargo.lock").is_file()
            {
                found.push(manifest);
            }
        }
    }
    found.sort();
    found
}

/// Every image a chapter's Dockerfile starts `FROM` (not its own stages) or a compose file it
/// uses names, for every chapter that is written.
pub(crate) fn images_named(root: &Path, manifest: &Manifest) -> Vec<String> {
    let mut images = std::collections::BTreeSet::new();
    for chapter in manifest
        .chapters
        .iter()
        .filter(|c| c.status != Status::Planned)
    {
        images.extend(chapter_images(root, chapter));
    }
    images.into_iter().collect()
}

/// The images one chapter starts from: the `FROM` lines of the Dockerfiles in its exercise and
/// solution folders and in what its scratch copy takes from the root, and the `image:` keys of
/// the compose files among those.
pub(crate) fn chapter_images(root: &Path, chapter: &Chapter) -> Vec<String> {
    let mut images = std::collections::BTreeSet::new();
    let mut dockerfiles = Vec::new();
    let mut composes = Vec::new();
    let places = [chapter.exercise_dir(root), chapter.solution_dir(root)]
        .into_iter()
        .chain(chapter.scratch.iter().map(|entry| root.join(entry)));
    for place in places {
        find_image_files(&place, &mut dockerfiles, &mut composes);
    }
    for file in dockerfiles {
        images.extend(dockerfile_images(
            &std::fs::read_to_string(&file).unwrap_or_default(),
        ));
    }
    for compose in composes {
        images.extend(compose_images(
            &std::fs::read_to_string(&compose).unwrap_or_default(),
        ));
    }
    images.into_iter().collect()
}

/// The images a Dockerfile starts `FROM`, not its own stages (`FROM chef AS planner`). One that
/// does not parse (a learner's, half-written) names none: its chapter's tests say what is wrong.
fn dockerfile_images(text: &str) -> Vec<String> {
    let Ok(dockerfile) = parse_dockerfile::parse(text) else {
        return Vec::new();
    };
    let mut images = Vec::new();
    let mut stages = std::collections::BTreeSet::new();
    for instruction in &dockerfile.instructions {
        if let parse_dockerfile::Instruction::From(from) = instruction {
            let image = from.image.value.as_ref();
            if !image.is_empty() && !stages.contains(image) {
                images.push(image.to_owned());
            }
            if let Some((_, stage)) = &from.as_ {
                stages.insert(stage.value.as_ref());
            }
        }
    }
    images
}

/// The `image:` of each service of a compose file. One that does not parse names none.
fn compose_images(text: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Compose {
        #[serde(default)]
        services: std::collections::BTreeMap<String, Service>,
    }
    #[derive(serde::Deserialize)]
    struct Service {
        image: Option<String>,
    }
    serde_saphyr::from_str::<Compose>(text)
        .map(|c| c.services.into_values().filter_map(|s| s.image).collect())
        .unwrap_or_default()
}

/// `docker-compose.yml`, `compose.yaml` and the other names docker compose looks for.
fn is_compose_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        matches!(
            n,
            "docker-compose.yml" | "docker-compose.yaml" | "compose.yml" | "compose.yaml"
        )
    })
}

/// The Dockerfiles and compose files at `path` (a file, or a folder searched below it).
/// True if the chapter's tests start a compose stack: a compose file in its folders or in what
/// its scratch copy takes from the root (chapter 5's lab).
pub(crate) fn uses_compose(root: &Path, chapter: &Chapter) -> bool {
    let (mut dockerfiles, mut composes) = (Vec::new(), Vec::new());
    let places = [chapter.exercise_dir(root), chapter.solution_dir(root)]
        .into_iter()
        .chain(chapter.scratch.iter().map(|entry| root.join(entry)));
    for place in places {
        find_image_files(&place, &mut dockerfiles, &mut composes);
    }
    !composes.is_empty()
}

fn find_image_files(path: &Path, dockerfiles: &mut Vec<PathBuf>, composes: &mut Vec<PathBuf>) {
    if path.is_file() {
        if path.file_name().is_some_and(|n| n == "Dockerfile") {
            dockerfiles.push(path.to_path_buf());
        } else if is_compose_file(path) {
            composes.push(path.to_path_buf());
        }
        return;
    }
    for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
        if entry.file_name() != "target" {
            find_image_files(&entry.path(), dockerfiles, composes);
        }
    }
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dockerfile_names_the_images_it_starts_from_not_its_stages() {
        let text = "# syntax=docker/dockerfile:1\nARG V=1\nFROM --platform=$BUILDPLATFORM rust:1.95 \\\n  AS chef\n\
                    FROM chef AS planner\nRUN true\nfrom gcr.io/distroless/cc:nonroot\n";
        assert_eq!(
            dockerfile_images(text),
            ["rust:1.95", "gcr.io/distroless/cc:nonroot"]
        );
        assert!(dockerfile_images("FROM\n").is_empty());
    }

    #[test]
    fn a_compose_file_names_its_services_images() {
        let text = "x-common: &common\n  restart: always\nservices:\n  redis:\n    <<: *common\n    \
                    image: \"redis:7\"\n  app:\n    build: .\n    environment:\n      image: not-one\n";
        assert_eq!(compose_images(text), ["redis:7"]);
        assert!(compose_images("services: [").is_empty());
    }

    #[test]
    fn the_images_are_read_from_the_dockerfiles_and_the_compose_file() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = Manifest::load(&root).unwrap();
        let images = images_named(&root, &manifest);
        // Stage names (`chef`, `planner`) are not images.
        assert!(
            !images.iter().any(|i| i == "chef" || i == "planner"),
            "{images:?}"
        );
        assert!(images.iter().any(|i| i.starts_with("rust:")), "{images:?}");
        assert!(images.iter().any(|i| i.starts_with("redis:")), "{images:?}");
        assert!(
            images.iter().any(|i| i.starts_with("haproxy:")),
            "{images:?}"
        );
    }
}
