//! 4.1: the workflow for the sample app, checked rule by rule.

use std::path::Path;

use ch04_ci_cd::rules;
use ch04_ci_cd::workflow::{Triggers, Workflow};

fn workflow() -> Workflow {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow/ci.yml");
    Workflow::load(&path)
        .unwrap_or_else(|err| panic!("{err}. Is workflow/ci.yml valid YAML? See 4.1."))
}

fn assert_follows(rule: fn(&Workflow) -> Vec<String>) {
    let problems = rule(&workflow());
    assert!(
        problems.is_empty(),
        "workflow/ci.yml:\n- {}",
        problems.join("\n- ")
    );
}

#[test]
fn it_runs_on_every_push_and_every_pull_request() {
    assert_follows(rules::triggers);
    // `push: branches: [main]` passes the rule above, yet a push to a feature branch is then
    // never tested: its first test run would be after the merge.
    if let Triggers::Map(events) = &workflow().on
        && let Some(Some(filter)) = events.get("push")
        && !filter.branches.is_empty()
        && !filter.branches.iter().any(|b| b == "**")
    {
        panic!(
            "workflow/ci.yml: `on: push:` runs only on pushes to {:?}: a push to any other branch is \
             never tested, so its problems are found after the merge. Test every push (no \
             `branches:` under `push:`); limit the build and the deploy with their `if:`. See 4.1.",
            filter.branches
        );
    }
}

#[test]
fn it_checks_formatting_lint_and_tests() {
    assert_follows(rules::checks);
}

#[test]
fn its_tests_get_a_real_redis() {
    assert_follows(rules::redis_service);
}

#[test]
fn the_dependency_cache_comes_after_the_toolchain() {
    assert_follows(rules::cache);
}

#[test]
fn the_image_is_built_only_on_main_after_the_tests_and_tagged_with_the_commit() {
    assert_follows(rules::build);
}

#[test]
fn deploying_needs_the_image_and_an_environment() {
    assert_follows(rules::deploy);
}

#[test]
fn credentials_come_only_from_secrets() {
    assert_follows(rules::secrets);
}

#[test]
fn every_action_is_pinned_to_a_version() {
    assert_follows(rules::pinned);
}
