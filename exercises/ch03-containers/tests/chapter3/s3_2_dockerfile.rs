//! 3.2: the Dockerfile. First read (parsed, no engine needed), then built and run for real.

use std::path::PathBuf;
use std::time::Duration;

use parse_dockerfile::{Command, Instruction, Stage};

use crate::support::{self as docker, Container};

pub(crate) fn dockerfile_text() -> String {
    let path = docker::context().join("Dockerfile");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}. See 3.2.", path.display()))
}

/// Parses the Dockerfile and hands its stages to `check`.
pub(crate) fn with_stages<T>(check: impl FnOnce(&[Stage<'_, '_>]) -> T) -> T {
    let text = dockerfile_text();
    let parsed = parse_dockerfile::parse(&text)
        .unwrap_or_else(|err| panic!("service/Dockerfile does not parse: {err}. See 3.2."));
    let stages: Vec<Stage<'_, '_>> = parsed.stages().collect();
    assert!(
        !stages.is_empty(),
        "service/Dockerfile has no FROM. See 3.2."
    );
    check(&stages)
}

/// The shell-form text or exec-form words of a command, for messages.
pub(crate) fn show(command: &Command<'_>) -> String {
    match command {
        Command::Exec(words) => format!(
            "[{}]",
            words
                .value
                .iter()
                .map(|w| format!("{:?}", w.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Command::Shell(text) => text.value.to_string(),
        _ => String::new(),
    }
}

fn words(command: &Command<'_>) -> String {
    match command {
        Command::Exec(words) => words
            .value
            .iter()
            .map(|w| w.value.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        Command::Shell(text) => text.value.to_string(),
        _ => String::new(),
    }
}

#[test]
fn dockerfile_builds_in_stages_and_caches_dependencies() {
    with_stages(|stages| {
        assert!(
            stages.len() >= 2,
            "service/Dockerfile has {} stage: the image it makes still holds the Rust toolchain, \
             cargo's registry and target/, about 2 GB to store, push and pull, for a binary of a \
             few MB. Build in one stage (FROM rust… AS builder) and copy only the binary into a \
             small final stage. See 3.2.",
            stages.len()
        );
        let mut chef_cook = false;
        let mut deps_before_source = false;
        for stage in stages {
            let mut manifests_copied = false;
            let mut deps_built = false;
            for instruction in stage.instructions {
                match instruction {
                    Instruction::Run(run) => {
                        let text = words(&run.arguments);
                        if text.contains("cargo chef cook") {
                            chef_cook = true;
                        }
                        if manifests_copied
                            && (text.contains("cargo build") || text.contains("cargo fetch"))
                        {
                            deps_built = true;
                        }
                    }
                    Instruction::Copy(copy) => {
                        let sources: Vec<&str> = copy
                            .src
                            .iter()
                            .filter_map(|s| match s {
                                parse_dockerfile::Source::Path(p) => Some(p.value.as_ref()),
                                _ => None,
                            })
                            .collect();
                        if sources.iter().all(|s| s.contains("Cargo.")) {
                            manifests_copied = true;
                        } else if sources.iter().any(|s| *s == "." || s.starts_with("src"))
                            && deps_built
                        {
                            deps_before_source = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(
            chef_cook || deps_before_source,
            "no layer builds the dependencies before the source is copied in. Docker reuses a \
             layer only while everything before it is unchanged, so with `COPY . .` followed by \
             `cargo build`, a one-line change in src/ recompiles axum, tokio and every other \
             crate. Build the dependencies from Cargo.toml and Cargo.lock alone first \
             (`cargo chef prepare` / `cargo chef cook`), then copy the source. See 3.2."
        );
    });
}

const SMALL_BASES: [&str; 6] = [
    "distroless",
    "scratch",
    "slim",
    "alpine",
    "chainguard",
    "wolfi",
];

#[test]
fn dockerfile_final_stage_is_small_and_not_root() {
    with_stages(|stages| {
        let last = stages.last().expect("at least one stage");
        let base = last.from.image.value.to_string();
        assert!(
            SMALL_BASES.iter().any(|small| base.contains(small)),
            "the final stage starts FROM {base}: everything in that image ships with the \
             service (for rust images: a compiler, a package manager, a shell: ~1.5 GB and \
             hundreds of packages to patch). Run the binary on a minimal base such as \
             gcr.io/distroless/cc-debian13:nonroot (glibc, CA certificates, no shell). See 3.2."
        );
        let user = last.instructions.iter().rev().find_map(|i| match i {
            Instruction::User(user) => Some(user.arguments.value.to_string()),
            _ => None,
        });
        match user.as_deref() {
            None => panic!(
                "the final stage has no USER instruction, so the service runs as root (uid 0). \
                 A bug in the service, or in a crate it uses, is then a bug running as root, one \
                 kernel flaw away from the host. Add `USER 65532:65532` (distroless's nonroot). \
                 See 3.2."
            ),
            Some(name) => {
                let who = name.split(':').next().unwrap_or_default();
                assert!(
                    who != "root" && who != "0",
                    "the final stage says USER {name}: that is root. Use a numeric non-root user \
                     such as 65532 (Kubernetes' runAsNonRoot can only check a number). See 3.2."
                );
            }
        }
    });
}

#[test]
fn dockerfile_starts_the_binary_in_exec_form() {
    with_stages(|stages| {
        let last = stages.last().expect("at least one stage");
        let start = last.instructions.iter().rev().find_map(|i| match i {
            Instruction::Entrypoint(e) => Some(("ENTRYPOINT", &e.arguments)),
            Instruction::Cmd(c) => Some(("CMD", &c.arguments)),
            _ => None,
        });
        let Some((keyword, command)) = start else {
            panic!(
                "the final stage has no ENTRYPOINT or CMD: the image does not say what to run. \
                 Add `ENTRYPOINT [\"/usr/local/bin/service\"]`. See 3.2."
            )
        };
        assert!(
            matches!(command, Command::Exec(_)),
            "the final stage says `{keyword} {}`: that is shell form, which Docker runs as \
             `/bin/sh -c \"…\"`. The shell becomes PID 1 and receives `docker stop`'s SIGTERM; \
             it does not pass it on, so the service never hears it and is killed 10 s later \
             (and a distroless image has no /bin/sh at all). Use exec form, a JSON array: \
             `{keyword} [\"/usr/local/bin/service\"]`. See 3.2 and 3.4.",
            show(command)
        );
    });
}

const SECRET_WORDS: [&str; 5] = ["KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD"];

/// Names in an `ARG`/`ENV` argument string: `A=1 B=2`, `A 1`, `A`.
fn declared_names(arguments: &str) -> Vec<String> {
    let first = arguments.split_whitespace().next().unwrap_or_default();
    if !first.contains('=') {
        return vec![first.to_string()];
    }
    arguments
        .split_whitespace()
        .filter_map(|pair| pair.split_once('=').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn dockerfile_puts_no_secret_in_arg_or_env() {
    with_stages(|stages| {
        for stage in stages {
            for instruction in stage.instructions {
                let (keyword, arguments) = match instruction {
                    Instruction::Env(env) => ("ENV", env.arguments.value.to_string()),
                    Instruction::Arg(arg) => ("ARG", arg.arguments.value.to_string()),
                    _ => continue,
                };
                for name in declared_names(&arguments) {
                    let upper = name.to_ascii_uppercase();
                    assert!(
                        !SECRET_WORDS.iter().any(|w| upper.contains(w)),
                        "service/Dockerfile says `{keyword} {arguments}`. {keyword} values are \
                         stored in the image: `docker history --no-trunc` and `docker image \
                         inspect` show them to anyone who can pull it, for ever, even if a later \
                         layer unsets them. Pass secrets when the container starts (`docker run \
                         -e API_KEY`, your platform's secret store) and, if the build itself needs \
                         one, `RUN --mount=type=secret`. See 3.2."
                    );
                }
            }
        }
    });
}

#[test]
fn dockerignore_keeps_out_target_env_and_git() {
    let path = docker::context().join(".dockerignore");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let patterns: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.trim_start_matches('/')
                .trim_start_matches("**/")
                .trim_end_matches('/')
                .to_string()
        })
        .collect();
    let missing: Vec<&str> = [
        ("target", &["target"][..]),
        (".env", &[".env", ".env*", "*.env"][..]),
        (".git", &[".git"][..]),
    ]
    .iter()
    .filter(|(_, accepted)| !accepted.iter().any(|a| patterns.iter().any(|p| p == a)))
    .map(|(name, _)| *name)
    .collect();
    assert!(
        missing.is_empty(),
        "{} does not keep out {}. Everything in the folder is sent to the engine as the build \
         context and `COPY . .` copies it: target/ is gigabytes of your local build (slow to \
         send, and it breaks the layer cache), .env holds your local secrets, .git your whole \
         history. One pattern per line. See 3.2.",
        PathBuf::from("service/.dockerignore").display(),
        missing.join(", ")
    );
}

/// An API key for one test: random enough that finding it anywhere means it leaked.
pub(crate) fn fresh_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("key-{:x}-{:x}", std::process::id(), nanos)
}

const SIZE_LIMIT_MB: u64 = 100;

#[test]
fn the_image_is_small() {
    if docker::engine().is_none() {
        return;
    }
    let image = docker::image();
    let mb = image.size_bytes / 1_000_000;
    assert!(
        mb <= SIZE_LIMIT_MB,
        "the image is {mb} MB (limit for this test: {SIZE_LIMIT_MB} MB; a distroless image with \
         this service is about 30). Each deploy pulls it onto every machine that runs it, and \
         every package in it is one to patch. Copy only the binary into a small final stage. \
         See 3.2."
    );
}

#[test]
fn the_container_runs_as_a_non_root_user() {
    if docker::engine().is_none() {
        return;
    }
    let key = fresh_key();
    let container = Container::run("user", &["-e", &format!("API_KEY={key}")], &[]);
    container.wait_listening(Duration::from_secs(20));
    // `docker top` runs ps on the engine's machine: the container's processes as the kernel sees them.
    let top = docker::docker(&["top", &container.name, "-o", "pid,uid,args"]);
    let text = String::from_utf8_lossy(&top.stdout).to_string();
    assert!(
        top.status.success(),
        "`docker top` failed ({}). Its logs:\n{}",
        String::from_utf8_lossy(&top.stderr).trim(),
        container.logs()
    );
    let uids: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert!(
        !uids.is_empty() && uids.iter().all(|u| *u != "0" && *u != "root"),
        "the container's processes run as {uids:?} (`docker top`):\n{text}\nRoot in a container \
         is root on the host's kernel: one escape away from the machine. Add `USER 65532:65532` \
         to the final stage. See 3.2."
    );
}

#[test]
fn no_secret_in_the_image_history_or_config() {
    if docker::engine().is_none() {
        return;
    }
    let image = docker::image();
    let history = docker::docker_ok(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.CreatedBy}}",
        &image.id,
    ]);
    let env = docker::docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        &image.id,
    ]);
    for (place, text) in [
        ("docker history --no-trunc", &history),
        ("the image's Config.Env", &env),
    ] {
        let leaked: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '"' || c == ',' || c == '[' || c == ']')
            .filter(|word| {
                word.split_once('=').is_some_and(|(name, value)| {
                    let name = name.to_ascii_uppercase();
                    !value.is_empty() && SECRET_WORDS.iter().any(|w| name.contains(w))
                })
            })
            .collect();
        assert!(
            leaked.is_empty(),
            "{place} shows {leaked:?}. Anyone who can pull the image can read it, in every copy \
             and every registry it was pushed to, and deleting it in a later layer does not help: \
             the old layer is still there. Remove it from the Dockerfile, pass it at run time \
             (`docker run -e API_KEY`), and rotate it. See 3.2."
        );
    }
}

#[test]
fn the_environment_configures_the_container() {
    if docker::engine().is_none() {
        return;
    }
    let key = fresh_key();
    let container = Container::run(
        "env",
        &[
            "-e",
            &format!("API_KEY={key}"),
            "-e",
            "LOG_LEVEL=debug",
            "-p",
            "127.0.0.1::8080",
        ],
        &[],
    );
    let addr = container.wait_serving(Duration::from_secs(20));
    let answer = docker::http_get(
        addr,
        "/admin/config",
        &[("Authorization", &format!("Bearer {key}"))],
    )
    .unwrap_or_else(|err| panic!("GET /admin/config failed: {err}"));
    let (status, body) = (answer.status, answer.body);
    assert_eq!(
        status, 200,
        "GET /admin/config with the API_KEY given by `docker run -e` answered {status}: {body}"
    );
    assert!(
        body.contains("log_level: Debug"),
        "`docker run -e LOG_LEVEL=debug` should set the log level, but the service reports:\n\
         {body}\nSee 3.1."
    );
    let logs = container.logs();
    assert!(
        !body.contains(&key) && !logs.contains(&key),
        "the API key appears in the {} of the container. See 3.1 (redaction).",
        if body.contains(&key) {
            "/admin/config answer"
        } else {
            "logs"
        }
    );
}

#[test]
fn a_missing_secret_stops_the_container_with_the_reason() {
    if docker::engine().is_none() {
        return;
    }
    let container = Container::run("nokey", &[], &[]);
    match container.wait_exit(Duration::from_secs(15)) {
        None => panic!(
            "without API_KEY the container is still running after 15 s. So the key comes from \
             somewhere else: a default in config.rs, or a value baked into the image. Either way \
             every deployment shares one key that is not secret. With no API_KEY the service \
             should refuse to start. Its logs:\n{}\nSee 3.1 and 3.2.",
            container.logs()
        ),
        Some(0) => panic!(
            "without API_KEY the container exited 0, which tells a platform that all is well. \
             Exit non-zero (the service uses 78, EX_CONFIG). See 3.1."
        ),
        Some(_) => {
            let logs = container.logs();
            assert!(
                logs.contains("API_KEY"),
                "the container stopped, but its logs do not say why (they should name API_KEY):\n\
                 {logs}\nSee 3.1."
            );
        }
    }
}
