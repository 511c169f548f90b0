//! The practices a CI/CD workflow is checked against, each with the reason it matters. Given,
//! not an exercise: chapter 4's tests apply them to your `workflow/ci.yml`, and this file's own
//! tests apply the general ones to the repository's `.github/workflows/ci.yml`.

use crate::workflow::{Job, Step, Workflow};

fn runs(job: &Job) -> impl Iterator<Item = &str> {
    job.steps.iter().filter_map(|s| s.run.as_deref())
}

fn all_steps(w: &Workflow) -> impl Iterator<Item = (&String, &Step)> {
    w.jobs
        .iter()
        .flat_map(|(name, job)| job.steps.iter().map(move |s| (name, s)))
}

/// The job that runs the tests: the one whose steps run `cargo test`.
pub fn test_job(w: &Workflow) -> Option<(&String, &Job)> {
    w.jobs
        .iter()
        .find(|(_, j)| runs(j).any(|r| r.contains("cargo test")))
}

/// The job that builds the image: `docker/build-push-action` or `docker build`.
pub fn build_job(w: &Workflow) -> Option<(&String, &Job)> {
    w.jobs.iter().find(|(_, j)| {
        j.steps.iter().any(|s| {
            s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("docker/build-push-action"))
        }) || runs(j).any(|r| r.contains("docker build"))
    })
}

/// True if the job's condition limits it to main.
fn on_main(job: &Job) -> bool {
    let cond = job.condition.as_deref().unwrap_or("");
    cond.contains("refs/heads/main") || cond.contains("ref_name == 'main'")
}

/// Runs on every push and on pull requests, so nothing reaches main untested.
pub fn triggers(w: &Workflow) -> Vec<String> {
    let events = w.on.events();
    ["push", "pull_request"]
        .iter()
        .filter(|e| !events.iter().any(|x| x == *e))
        .map(|e| {
            format!(
                "`on:` does not include `{e}`: the pipeline must run on every push and on every \
                 pull request, so that nothing reaches main without its tests. (4.1)"
            )
        })
        .collect()
}

/// Formatting, lint and tests, all three, and the lint must fail on warnings.
pub fn checks(w: &Workflow) -> Vec<String> {
    let all: Vec<&str> = w.jobs.values().flat_map(runs).collect();
    let mut problems = Vec::new();
    if !all
        .iter()
        .any(|r| r.contains("cargo fmt") && r.contains("--check"))
    {
        problems.push("no step runs `cargo fmt … --check`: formatting is checked, not fixed, in CI (fix it locally with `cargo fmt`). (4.1)".to_owned());
    }
    if !all
        .iter()
        .any(|r| r.contains("cargo clippy") && r.contains("-D warnings"))
    {
        problems.push("no step runs `cargo clippy … -- -D warnings`: without -D warnings, clippy's findings are printed and ignored. (4.1)".to_owned());
    }
    if !all.iter().any(|r| r.contains("cargo test")) {
        problems.push("no step runs `cargo test`. (4.1)".to_owned());
    }
    problems
}

/// The tests get a real Redis, as a service container reachable from the runner.
pub fn redis_service(w: &Workflow) -> Vec<String> {
    let Some((name, job)) = test_job(w) else {
        return vec!["no job runs `cargo test`, so none can have a Redis. (4.1)".into()];
    };
    let redis = job.services.values().find(|s| s.image.starts_with("redis"));
    match redis {
        None => vec![format!(
            "job `{name}` runs the tests but has no Redis service container (`services: redis: image: redis:7`): the app's tests need a real one. (4.1)"
        )],
        Some(s) if !s.ports.iter().any(|p| p.as_text() == "6379:6379") => vec![format!(
            "job `{name}`'s Redis service publishes no `6379:6379`: a job that runs on the runner itself (not in a container) reaches the service only through a published port. (4.1)"
        )],
        Some(_) => Vec::new(),
    }
}

/// The dependency cache comes after the toolchain is installed (its key includes the compiler).
pub fn cache(w: &Workflow) -> Vec<String> {
    let Some((name, job)) = test_job(w) else {
        return vec!["no job runs `cargo test`. (4.1)".into()];
    };
    let position = |f: &dyn Fn(&Step) -> bool| job.steps.iter().position(f);
    let toolchain = position(&|s| {
        s.uses
            .as_deref()
            .is_some_and(|u| u.contains("rust-toolchain"))
            || s.run.as_deref().is_some_and(|r| r.contains("rustup"))
    });
    let cache = position(&|s| {
        s.uses
            .as_deref()
            .is_some_and(|u| u.starts_with("Swatinem/rust-cache"))
    });
    match (toolchain, cache) {
        (_, None) => vec![format!(
            "job `{name}` caches nothing: `Swatinem/rust-cache` keeps the dependencies' build between runs, minutes saved on every push. (4.1)"
        )],
        (None, _) => vec![format!(
            "job `{name}` never installs the toolchain (`dtolnay/rust-toolchain`): the runner's preinstalled Rust changes under you. (4.1)"
        )],
        (Some(t), Some(c)) if c < t => vec![format!(
            "job `{name}` restores the cache before it installs the toolchain: the cache's key includes the compiler version, so install the toolchain first. (4.1)"
        )],
        _ => Vec::new(),
    }
}

/// The image is built only on main, after the tests, tagged with the commit.
pub fn build(w: &Workflow) -> Vec<String> {
    let Some((test_name, _)) = test_job(w) else {
        return vec!["no job runs `cargo test`. (4.1)".into()];
    };
    let Some((name, job)) = build_job(w) else {
        return vec!["no job builds the image (`docker/build-push-action`). (4.1)".into()];
    };
    let mut problems = Vec::new();
    if !job.needs.list().contains(test_name) {
        problems.push(format!("job `{name}` builds the image without `needs: {test_name}`: an image must never be built from code whose tests failed. (4.1)"));
    }
    if !on_main(job) {
        problems.push(format!("job `{name}` has no `if: github.ref == 'refs/heads/main'`: pull requests and feature branches are tested, only main is built and deployed. (4.1)"));
    }
    let text: Vec<String> = job
        .steps
        .iter()
        .flat_map(|s| s.with.values().map(|v| v.as_text()).chain(s.run.clone()))
        .collect();
    if !text.iter().any(|t| t.contains("${{ github.sha }}")) {
        problems.push(format!("job `{name}` does not tag the image with `${{{{ github.sha }}}}`: a tag like `latest` says nothing about what is running; the commit's SHA says exactly, and makes a rollback one command. (4.1)"));
    }
    for s in &job.steps {
        if s.uses
            .as_deref()
            .is_some_and(|u| u.starts_with("docker/build-push-action"))
            && !s.with.contains_key("context")
        {
            problems.push(format!("job `{name}`'s build-push-action has no `context:`: without it the action builds from a fresh Git checkout and ignores what earlier steps did; say the folder that holds the Dockerfile (`context: app` here). (4.1)"));
        }
    }
    problems
}

/// Deploying needs the image, an environment (approvals, its own secrets), and main.
pub fn deploy(w: &Workflow) -> Vec<String> {
    let Some((build_name, _)) = build_job(w) else {
        return vec!["no job builds the image, so none can deploy it. (4.1)".into()];
    };
    let Some((name, job)) = w
        .jobs
        .iter()
        .find(|(_, j)| j.needs.list().contains(build_name))
    else {
        return vec![format!(
            "no job deploys: add one with `needs: {build_name}`. (4.1)"
        )];
    };
    let mut problems = Vec::new();
    if !on_main(job) {
        problems.push(format!("job `{name}` has no `if: github.ref == 'refs/heads/main'` of its own: `needs: {build_name}` alone stops it when the build is skipped, but a later `if: always()` or a changed build condition would deploy a feature branch. Say it on the deploy too. (4.1)"));
    }
    if job.environment.is_none() {
        problems.push(format!("job `{name}` has no `environment:`: an environment holds the deploy's own secrets and can require an approval before it runs. (4.1)"));
    }
    if !runs(job).any(|r| !r.trim().is_empty()) {
        problems.push(format!(
            "job `{name}` runs nothing: deploy with the chapter's `./deploy.sh`. (4.1)"
        ));
    }
    problems
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["TOKEN", "PASSWORD", "SECRET", "KEY", "CREDENTIAL"]
        .iter()
        .any(|w| k.contains(w))
}

/// Credentials come from `${{ secrets.* }}`, never from the file.
pub fn secrets(w: &Workflow) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |place: String, key: &str, value: String| {
        // `${{ github.token }}` is the job's own GITHUB_TOKEN under another name (GitHub's docs
        // use it with docker/login-action): from the run, not from the file.
        let value = value.trim();
        let from_the_run = value.starts_with("${{ secrets.") || value == "${{ github.token }}";
        if looks_secret(key) && !from_the_run {
            problems.push(format!(
                "{place} sets `{key}` to a value written in the file: anyone who can read the repository (and its history, forever) has it. Take it from `${{{{ secrets.{key} }}}}`. (4.1)"
            ));
        }
    };
    for (k, v) in &w.env {
        check("the workflow".into(), k, v.as_text());
    }
    for (name, job) in &w.jobs {
        for (k, v) in &job.env {
            check(format!("job `{name}`"), k, v.as_text());
        }
        for s in &job.steps {
            for (k, v) in s.env.iter().chain(&s.with) {
                check(
                    format!("step `{}` of job `{name}`", s.label()),
                    k,
                    v.as_text(),
                );
            }
        }
    }
    problems
}

/// Every action is pinned to a version, so a push to its repository cannot change your pipeline.
pub fn pinned(w: &Workflow) -> Vec<String> {
    all_steps(w)
        .filter_map(|(job, s)| {
            let uses = s.uses.as_deref()?;
            let version = uses.split_once('@').map(|(_, v)| v);
            match version {
                None | Some("main" | "master" | "HEAD" | "latest" | "") => Some(format!(
                    "job `{job}` uses `{uses}`, which follows whatever that repository pushes next: pin it to a release (`actions/checkout@v7`) or, stricter, a commit SHA. (4.1)"
                )),
                // dtolnay/rust-toolchain has no release tags: `@stable` is a branch, and the
                // toolchain it installs changes with every Rust release.
                Some("stable" | "beta" | "nightly") => Some(format!(
                    "job `{job}` uses `{uses}`, which installs whatever Rust is released next: a new compiler or clippy can turn a green commit red. Pin the toolchain (`dtolnay/rust-toolchain@1.95.0`) or a commit SHA. (4.1)"
                )),
                Some(_) => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's own pipeline follows the general rules it teaches.
    #[test]
    fn the_repositorys_own_workflow_follows_the_general_rules() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.github/workflows/ci.yml");
        let w = Workflow::load(&path).unwrap();
        let problems: Vec<String> =
            [triggers(&w), checks(&w), cache(&w), secrets(&w), pinned(&w)].concat();
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
