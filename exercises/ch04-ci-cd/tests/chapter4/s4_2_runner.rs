//! 4.2: the runner: jobs in the order of their needs, real processes, fail-fast, skips.

use std::path::Path;
use std::time::Duration;

use ch04_ci_cd::plan::{PlanError, plan};
use ch04_ci_cd::workflow::Workflow;
use test_support::{Server, TempDir};

fn parse(yaml: &str) -> Workflow {
    Workflow::parse(yaml).unwrap()
}

#[test]
fn jobs_run_after_the_jobs_they_need() {
    // A diamond written upside down, and one job that needs nothing.
    let w = parse(
        "on: push\njobs:\n  deploy: {needs: [lint, test], steps: []}\n  test: {needs: build, steps: []}\n  lint: {needs: build, steps: []}\n  docs: {steps: []}\n  build: {steps: []}\n",
    );
    let order = plan(&w).expect("this workflow can be ordered");
    let at = |job: &str| {
        order
            .iter()
            .position(|j| j == job)
            .unwrap_or_else(|| panic!("{job} is missing from {order:?}"))
    };
    assert_eq!(order.len(), 5, "every job once: {order:?}");
    assert!(
        at("build") < at("test")
            && at("build") < at("lint")
            && at("test") < at("deploy")
            && at("lint") < at("deploy"),
        "the plan {order:?} runs a job before a job it needs. See 4.2."
    );
}

#[test]
fn among_the_jobs_that_are_ready_the_one_written_first_runs_first() {
    // The same upside-down diamond: `docs` and `build` are ready at the start, `docs` is written
    // first; once `build` is done, `test` and `lint` are ready, in that order in the file.
    let w = parse(
        "on: push\njobs:\n  deploy: {needs: [lint, test], steps: []}\n  test: {needs: build, steps: []}\n  lint: {needs: build, steps: []}\n  docs: {steps: []}\n  build: {steps: []}\n",
    );
    let order = plan(&w).expect("this workflow can be ordered");
    assert_eq!(
        order,
        ["docs", "build", "test", "lint", "deploy"],
        "the plan {order:?} is a valid order, but not the predictable one: each time, take the \
         first job in the file whose needs have all run (a depth-first sort gives another order). \
         See 4.2."
    );
}

#[test]
fn jobs_that_need_each_other_in_a_circle_are_an_error_naming_them() {
    let w = parse(
        "on: push\njobs:\n  a: {needs: c, steps: []}\n  b: {needs: a, steps: []}\n  c: {needs: b, steps: []}\n  d: {steps: []}\n",
    );
    match plan(&w) {
        Err(PlanError::Cycle { jobs }) => assert_eq!(
            jobs,
            ["a", "b", "c"],
            "name the jobs of the circle, in file order"
        ),
        other => panic!(
            "a, b and c need each other in a circle, so no plan exists; got {other:?}. See 4.2."
        ),
    }
}

#[test]
fn a_need_that_names_no_job_is_an_error_naming_it() {
    let w = parse("on: push\njobs:\n  test: {steps: []}\n  deploy: {needs: biuld, steps: []}\n");
    assert_eq!(
        plan(&w),
        Err(PlanError::UnknownNeed {
            job: "deploy".into(),
            need: "biuld".into()
        }),
        "`needs: biuld` names no job: say so before running anything. See 4.2."
    );
}

/// A folder for one test's workflow and the files its steps write, removed when dropped.
struct Scratch(TempDir);

impl Scratch {
    fn new(name: &str) -> Scratch {
        Scratch(TempDir::with_prefix(format!("pipeline-test-{name}-")).unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn has(&self, file: &str) -> bool {
        self.path().join(file).exists()
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap_or_default()
    }
}

/// Runs `pipeline` on `yaml` in `dir`, and returns its exit code and output.
async fn pipeline(dir: &Path, yaml: &str, args: &[&str]) -> (i32, String) {
    let file = dir.join("workflow.yml");
    std::fs::write(&file, yaml).unwrap();
    let mut server = Server::builder(env!("CARGO_BIN_EXE_pipeline"))
        .name("pipeline")
        .args(args.iter().copied())
        .args(["--sha", "abc1234", "--workdir"])
        .arg(dir.as_os_str())
        .arg(file.as_os_str())
        .spawn();
    let (status, _) = server
        .wait_exit(
            Duration::from_secs(20),
            "the pipeline did not finish within 20 s",
        )
        .await;
    (status.code().unwrap_or(-1), server.output())
}

#[tokio::test]
async fn a_failing_step_stops_its_job_and_the_jobs_that_need_it_are_skipped() {
    let dir = Scratch::new("fail");
    let (code, output) = pipeline(
        dir.path(),
        "on: push\njobs:\n  build:\n    steps:\n      - run: touch built\n      - run: exit 3\n      - run: touch after-failure\n  test:\n    needs: build\n    steps:\n      - run: touch tested\n  docs:\n    steps:\n      - run: touch documented\n",
        &["--branch", "main"],
    )
    .await;
    assert!(
        dir.has("built"),
        "the first step of `build` should have run. Output:\n{output}"
    );
    assert!(
        !dir.has("after-failure"),
        "`build`'s second step failed (exit 3), yet its third step ran: a job stops at its first failing step. See 4.2. Output:\n{output}"
    );
    assert!(
        !dir.has("tested"),
        "`test` needs `build`, which failed, yet it ran: the jobs that need a failed job are skipped. See 4.2. Output:\n{output}"
    );
    assert!(
        dir.has("documented"),
        "`docs` needs nothing and should have run. Output:\n{output}"
    );
    assert_eq!(
        code, 1,
        "a pipeline with a failed job exits 1. Output:\n{output}"
    );
    for (job, word) in [
        ("build", "failed"),
        ("test", "skipped"),
        ("docs", "succeeded"),
    ] {
        assert!(
            output.lines().any(|l| l.contains(job) && l.contains(word)),
            "the summary should say `{job}` {word}. Output:\n{output}\nSee 4.2."
        );
    }
}

#[tokio::test]
async fn a_job_that_needs_a_skipped_job_is_skipped_too() {
    // Two chains: `test` is skipped because `build` failed; `image` is skipped by its condition.
    // Skipped is not succeeded, so what needs them is skipped in turn.
    let dir = Scratch::new("transitive");
    let (code, output) = pipeline(
        dir.path(),
        "on: push\njobs:\n  build:\n    steps:\n      - run: exit 3\n  test:\n    needs: build\n    steps:\n      - run: touch tested\n  deploy:\n    needs: test\n    steps:\n      - run: touch deployed\n  image:\n    if: github.ref == 'refs/heads/main'\n    steps:\n      - run: touch imaged\n  release:\n    needs: image\n    steps:\n      - run: touch released\n",
        &["--branch", "feature/login"],
    )
    .await;
    assert!(
        !dir.has("tested") && !dir.has("imaged"),
        "`test` needs the failed `build`, and `image` runs only on main, yet one of them ran. See 4.2. Output:\n{output}"
    );
    assert!(
        !dir.has("deployed"),
        "`deploy` needs `test`, which was skipped (its own need failed), yet `deploy` ran: a job runs only if every job it needs succeeded, and skipped is not succeeded. See 4.2. Output:\n{output}"
    );
    assert!(
        !dir.has("released"),
        "`release` needs `image`, which its condition skipped on feature/login, yet `release` ran: skipped is not succeeded, so a deploy with `needs:` but no condition of its own must not run on a branch. See 4.2. Output:\n{output}"
    );
    for job in ["test", "deploy", "image", "release"] {
        assert!(
            output
                .lines()
                .any(|l| l.contains(job) && l.contains("skipped")),
            "the summary should say `{job}` was skipped. See 4.2. Output:\n{output}"
        );
    }
    assert_eq!(
        code, 1,
        "`build` failed, so the pipeline exits 1. Output:\n{output}"
    );
}

#[tokio::test]
async fn after_a_failing_step_only_steps_that_ask_for_always_or_failure_run() {
    let dir = Scratch::new("step-status");
    let (code, output) = pipeline(
        dir.path(),
        "on: push\njobs:\n  build:\n    steps:\n      - run: exit 3\n      - run: touch after\n      - if: failure()\n        run: touch on-failure\n      - if: always()\n        run: touch always\n      - if: success()\n        run: touch on-success\n",
        &["--branch", "main"],
    )
    .await;
    assert!(
        !dir.has("after") && !dir.has("on-success"),
        "after the failing step, a step with no condition (or `if: success()`) ran: a job stops at its first failing step. See 4.2. Output:\n{output}"
    );
    assert!(
        dir.has("on-failure") && dir.has("always"),
        "after the failing step, the steps with `if: failure()` and `if: always()` should still run (that is how a job uploads its logs or cleans up), but {} did not: keep going through the steps, and let `condition::evaluate` decide each one, with the job's status so far. See 4.2. Output:\n{output}",
        [("on-failure", "`failure()`"), ("always", "`always()`")]
            .iter()
            .filter(|(file, _)| !dir.has(file))
            .map(|(_, step)| *step)
            .collect::<Vec<_>>()
            .join(" and ")
    );
    assert_eq!(
        code, 1,
        "the job failed, so the pipeline exits 1. Output:\n{output}"
    );
}

#[tokio::test]
async fn a_job_that_asks_for_always_or_failure_runs_after_the_job_it_needs_failed() {
    let dir = Scratch::new("job-status");
    let (code, output) = pipeline(
        dir.path(),
        "on: push\njobs:\n  build:\n    steps:\n      - run: exit 3\n  test:\n    needs: build\n    steps:\n      - run: touch tested\n  report:\n    needs: build\n    if: always()\n    steps:\n      - run: touch reported\n  alert:\n    needs: build\n    if: failure()\n    steps:\n      - run: touch alerted\n",
        &["--branch", "main"],
    )
    .await;
    assert!(
        !dir.has("tested"),
        "`test` needs the failed `build` and has no condition, yet it ran. See 4.2. Output:\n{output}"
    );
    assert!(
        dir.has("reported") && dir.has("alerted"),
        "`build` failed; `report` (`if: always()`) and `alert` (`if: failure()`) need it and should run anyway, but {} did not: a failed need does not skip a job by itself, it makes `success()` false. Pass `Upstream::Failed` to `condition::evaluate` and let it decide. See 4.2. Output:\n{output}",
        [("reported", "`report`"), ("alerted", "`alert`")]
            .iter()
            .filter(|(file, _)| !dir.has(file))
            .map(|(_, job)| *job)
            .collect::<Vec<_>>()
            .join(" and ")
    );
    assert_eq!(
        code, 1,
        "`build` failed, so the pipeline exits 1. Output:\n{output}"
    );
}

#[tokio::test]
async fn conditions_on_the_branch_decide_whether_a_job_runs() {
    let yaml = "on: push\njobs:\n  test:\n    steps:\n      - run: touch tested\n  deploy:\n    needs: test\n    if: github.ref == 'refs/heads/main'\n    steps:\n      - run: touch deployed\n";
    let feature = Scratch::new("feature");
    let (code, output) = pipeline(feature.path(), yaml, &["--branch", "feature/login"]).await;
    assert!(
        feature.has("tested"),
        "`test` has no condition and should run on any branch. Output:\n{output}"
    );
    assert!(
        !feature.has("deployed"),
        "on branch feature/login, `if: github.ref == 'refs/heads/main'` is false, yet `deploy` ran. See 4.2. Output:\n{output}"
    );
    assert_eq!(
        code, 0,
        "a job skipped by its condition is not a failure. Output:\n{output}"
    );
    let main = Scratch::new("main");
    let (_, output) = pipeline(main.path(), yaml, &["--branch", "main"]).await;
    assert!(
        main.has("deployed"),
        "on main, `deploy` should run. Output:\n{output}"
    );
}

#[tokio::test]
async fn steps_see_the_workflow_job_and_step_env_with_secrets_substituted() {
    let dir = Scratch::new("env");
    let (_, output) = pipeline(
        dir.path(),
        "on: push\nenv:\n  A: workflow\n  B: workflow\njobs:\n  one:\n    env:\n      B: job\n      C: job\n    steps:\n      - run: echo \"$A $B $C $D $TOKEN\" > env.txt\n        env:\n          C: step\n          D: ${{ github.sha }}\n          TOKEN: ${{ secrets.TOKEN }}\n",
        &["--branch", "main", "--secret", "TOKEN=s3cret"],
    )
    .await;
    assert_eq!(
        dir.read("env.txt").trim(),
        "workflow job step abc1234 s3cret",
        "a step sees the workflow's env, then the job's, then its own (later ones win), with \
         `${{{{ … }}}}` substituted. See 4.2. Output:\n{output}"
    );
}

#[tokio::test]
async fn a_step_runs_in_its_working_directory() {
    let dir = Scratch::new("workdir");
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    let (_, output) = pipeline(
        dir.path(),
        "on: push\njobs:\n  one:\n    steps:\n      - run: touch here\n        working-directory: app\n",
        &["--branch", "main"],
    )
    .await;
    assert!(
        dir.has("app/here"),
        "a step with `working-directory: app` runs in app/. See 4.2. Output:\n{output}"
    );
}
