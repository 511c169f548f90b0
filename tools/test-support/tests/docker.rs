//! The docker module keeps its promises on a real engine: a container guard and a compose
//! project guard remove what they guard when dropped, panics included, and a start that fails
//! half-way leaves nothing behind. Nothing is pulled: the one image is built here, `FROM
//! scratch`, around a static binary compiled for the test. Without an engine these tests skip
//! loudly, except in CI and under `just verify`, where they fail.
//!
//! `cargo test -p test-support --test docker`

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use test_support::TempDir;
use test_support::docker::{self, Container, Project};

/// The test image's tag.
const IDLE: &str = "test-support-idle:tests";

/// An image whose one program waits until SIGTERM and then exits 0 (as PID 1 a process that
/// installs no handler ignores SIGTERM, and compose would wait out its whole grace period).
/// Built once per run; its binary is static, so the image needs no base to pull.
fn idle_image() -> &'static str {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docker-idle-image");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            std::fs::write(
                dir.join("idle.rs"),
                r#"
                extern "C" {
                    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
                    fn _exit(status: i32) -> !;
                }
                extern "C" fn leave(_: i32) {
                    unsafe { _exit(0) }
                }
                fn main() {
                    unsafe { signal(15, leave) };
                    loop {
                        std::thread::park();
                    }
                }
                "#,
            )
            .map_err(|e| e.to_string())?;
            let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
            let out = std::process::Command::new(rustc)
                .current_dir(&dir)
                .args(["--edition", "2021", "-C", "target-feature=+crt-static"])
                .args([
                    "-C",
                    "strip=symbols",
                    "-C",
                    "panic=abort",
                    "-o",
                    "idle",
                    "idle.rs",
                ])
                .output()
                .map_err(|e| format!("cannot run rustc: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "rustc could not build the static test binary:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            std::fs::write(
                dir.join("Dockerfile"),
                "FROM scratch\nCOPY idle /idle\nENTRYPOINT [\"/idle\"]\n",
            )
            .map_err(|e| e.to_string())?;
            let dir = dir.to_string_lossy();
            docker::docker(&["build", "--quiet", "--tag", IDLE, &dir]).map(drop)
        })
        .as_ref()
        .unwrap_or_else(|why| panic!("{why}"));
    IDLE
}

/// The engine is here and can run this host's binaries (a Linux engine on Linux); else the
/// test skips loudly, or fails in CI.
fn engine() -> bool {
    if !docker::engine_or_skip() {
        return false;
    }
    if !cfg!(target_os = "linux") {
        assert!(
            !docker::engine_required(),
            "the docker tests run a binary built for this host, so they need Linux"
        );
        test_support::skip("the test image's binary is built for this host, not for Linux");
        return false;
    }
    true
}

/// A name no other test (or run) uses.
fn unique(what: &str) -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "ts-{what}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

fn exists(container: &str) -> bool {
    docker::docker(&["inspect", "--format", "{{.Id}}", container]).is_ok()
}

#[test]
fn a_container_is_removed_when_its_guard_drops() {
    if !engine() {
        return;
    }
    let name = unique("drop");
    let container = Container::run(&name, &[idle_image()]).unwrap();
    assert_eq!(container.inspect("{{.State.Running}}").unwrap(), "true");
    drop(container);
    assert!(
        !exists(&name),
        "{name} still exists after its guard dropped"
    );
}

#[test]
fn a_container_is_removed_when_the_test_panics() {
    if !engine() {
        return;
    }
    let name = unique("panic");
    let inside = name.clone();
    let image = idle_image();
    let panicked = std::thread::spawn(move || {
        let _container = Container::run(&inside, &[image]).unwrap();
        assert!(exists(&inside));
        panic!("the test fails while its container runs");
    })
    .join();
    assert!(panicked.is_err());
    assert!(!exists(&name), "{name} survived the panic of its test");
}

#[test]
fn a_run_that_cannot_start_leaves_no_container() {
    if !engine() {
        return;
    }
    let name = unique("nostart");
    // The container is created, then fails to start: no such program in the image.
    let err = Container::run(&name, &["--entrypoint", "/no-such-program", idle_image()])
        .expect_err("a container whose program does not exist cannot start");
    assert!(err.contains("docker run"), "{err}");
    assert!(!exists(&name), "the run failed, but left {name} behind");
}

#[test]
fn an_image_is_found_only_if_present() {
    if !engine() {
        return;
    }
    assert!(docker::has_image(idle_image()));
    assert!(!docker::has_image("test-support-no-such-image:never"));
}

/// A compose project of `replicas` idle containers, in a folder and under a name of its own; the
/// folder is removed when the returned guard drops, so keep it until the project is down. `None`
/// (the test skips, or fails in CI) without an [`engine`] or compose.
fn idle_project(what: &str) -> Option<(Project, TempDir)> {
    if !engine() {
        return None;
    }
    let compose = match docker::compose() {
        Ok(compose) => compose,
        Err(why) => {
            assert!(!docker::engine_required(), "{why}");
            test_support::skip(&why);
            return None;
        }
    };
    let name = unique(what);
    let dir = TempDir::with_prefix_in(format!("{name}-"), env!("CARGO_TARGET_TMPDIR")).unwrap();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        format!(
            "services:\n  idle:\n    image: {}\n  later:\n    profiles: [\"extra\"]\n    image: \
             ${{IDLE_IMAGE}}\n",
            idle_image()
        ),
    )
    .unwrap();
    let project = Project::new(compose, dir.path())
        .named(name)
        .profile("extra")
        .env("IDLE_IMAGE", IDLE);
    Some((project, dir))
}

/// The containers of compose project `name`, running or not.
fn containers_of(name: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={name}");
    docker::docker(&["ps", "-a", "-q", "--filter", &label])
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_project_is_taken_down_when_its_guard_drops() {
    let Some((project, _dir)) = idle_project("up") else {
        return;
    };
    let name = project.name().unwrap().to_owned();
    let guard = project.up(&["--scale", "idle=2"]).unwrap();
    // Two replicas of `idle`, and `later` from the profile, whose image came from a variable.
    assert_eq!(
        containers_of(&name).len(),
        3,
        "{}",
        project.run(&["ps"]).unwrap()
    );
    drop(guard);
    assert_eq!(containers_of(&name), Vec::<String>::new());
}

#[test]
fn a_project_is_taken_down_when_the_test_panics() {
    let Some((project, _dir)) = idle_project("panic") else {
        return;
    };
    let name = project.name().unwrap().to_owned();
    let inside = project.clone();
    let panicked = std::thread::spawn(move || {
        let _guard = inside.guard();
        inside.run(&["up", "-d"]).unwrap();
        assert!(!containers_of(inside.name().unwrap()).is_empty());
        panic!("the test fails while its stack runs");
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(containers_of(&name), Vec::<String>::new());
}
