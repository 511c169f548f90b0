//! Support for the container tests: the Docker engine, driven through the `docker` command the
//! way you drive it: build the image from `service/`, run containers from it, inspect them,
//! remove them.
//!
//! Every container a test starts is removed when the test ends, failed or not (`Container`'s
//! `Drop`). Where no engine runs, the container tests print a loud notice and skip, except in CI
//! (`CI` set) and under `just verify`, where a missing engine is a failure.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use test_support::http::{HttpError, Request, Response};

/// The build context: the service's folder, with the learner's `Dockerfile` and `.dockerignore`.
pub(crate) fn context() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("service")
}

/// Runs `docker args…` and returns its output; a missing `docker` command is a clear failure.
pub(crate) fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run `docker {}`: {err}. Install Docker (see the book's Setup page) and \
                 check that `docker info` works.",
                args.join(" ")
            )
        })
}

/// `docker args…`, expecting success; returns stdout, trimmed.
pub(crate) fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "`docker {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `Some(())` if a Docker engine answers; see `test_support::docker::engine_or_skip`.
pub(crate) fn engine() -> Option<()> {
    test_support::docker::engine_or_skip().then_some(())
}

/// The image built from your Dockerfile.
#[derive(Debug)]
pub(crate) struct Image {
    /// `sha256:…`
    pub id: String,
    /// Its size as `docker image inspect` reports it.
    pub size_bytes: u64,
}

/// The longest a build may take before the test gives up on it (a cold build compiles every
/// dependency: a few minutes on a laptop).
pub(crate) const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Builds the image once per test run; every test that needs it shares the result.
pub(crate) fn image() -> &'static Image {
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    match IMAGE.get_or_init(build) {
        Ok(image) => image,
        Err(why) => panic!("{why}"),
    }
}

fn build() -> Result<Image, String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log_path = dir.join("ch03-docker-build.log");
    let iid = dir.join("ch03-image-id");
    std::fs::remove_file(&iid).ok();
    let context = context();
    // One tag per copy of the chapter (yours, and the scratch copy `--solution` builds), not one
    // per engine: two copies never take each other's tag, and each build replaces its own.
    let tag = format!(
        "workbook-ch03:{}",
        test_support::docker::labels::checkout_of(&context)
    );
    let replaced = docker(&["image", "inspect", "--format", "{{.Id}}", &tag]);
    let replaced = replaced
        .status
        .success()
        .then(|| String::from_utf8_lossy(&replaced.stdout).trim().to_owned());
    test_support::docker::progress(
        "docker build",
        &format!(
            "building an image from your Dockerfile ({}): the first build compiles every \
             dependency (a few minutes), later ones reuse Docker's layer cache",
            context.display()
        ),
    );
    let mut command = Command::new("docker");
    command
        .arg("build")
        .args(test_support::docker::labels::args())
        .arg("--iidfile")
        .arg(&iid)
        .args(["--tag", &tag])
        .arg(&context);
    test_support::docker::build(command, "docker build", &log_path, BUILD_LIMIT)
        .map_err(|why| format!("`docker build {}`: {why} See 3.2.", context.display()))?;
    let id = std::fs::read_to_string(&iid)
        .map_err(|err| format!("docker build wrote no image id: {err}"))?
        .trim()
        .to_string();
    // The image this build replaced under the tag: untagged now, and no cache to anyone (its
    // layers that the new one shares stay, they are the new one's parents). A container still
    // using it (a test run killed halfway) keeps it, until `just clean`.
    if let Some(old) = replaced.filter(|old| *old != id) {
        let _ = docker(&["rmi", &old]);
    }
    let size = docker_ok(&["image", "inspect", "--format", "{{.Size}}", &id]);
    Ok(Image {
        id,
        size_bytes: size.parse().unwrap_or(0),
    })
}

/// A container started by a test, removed (`docker rm -f`) when the value is dropped.
#[derive(Debug)]
pub(crate) struct Container {
    /// Its name: `ch03-<what>-<pid>-<n>`.
    pub name: String,
    _removed_on_drop: test_support::docker::Container,
}

impl Container {
    /// `docker run -d` with `args` before the image, and `command` after it.
    pub(crate) fn run(what: &str, args: &[&str], command: &[&str]) -> Container {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let image = image();
        let name = format!(
            "ch03-{what}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut all = vec!["--label", "workbook=ch03"];
        all.extend_from_slice(args);
        all.push(&image.id);
        all.extend_from_slice(command);
        let guard =
            test_support::docker::Container::run(&name, &all).unwrap_or_else(|err| panic!("{err}"));
        Container {
            name,
            _removed_on_drop: guard,
        }
    }

    /// `docker inspect --format <format>` of this container.
    pub(crate) fn inspect(&self, format: &str) -> String {
        docker_ok(&["inspect", "--format", format, &self.name])
    }

    /// Everything the container wrote to stdout and stderr so far.
    pub(crate) fn logs(&self) -> String {
        let out = docker(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The host address published for the container's port 8080 (`-p 127.0.0.1::8080`).
    pub(crate) fn published(&self) -> SocketAddr {
        let text = docker_ok(&["port", &self.name, "8080/tcp"]);
        let first = text.lines().next().unwrap_or_default();
        first.trim().parse().unwrap_or_else(|err| {
            panic!("`docker port {} 8080/tcp` said {text:?}: {err}", self.name)
        })
    }

    /// Polls until the container has stopped; returns its exit code, or `None` after `limit`.
    pub(crate) fn wait_exit(&self, limit: Duration) -> Option<i64> {
        let started = Instant::now();
        while started.elapsed() < limit {
            let state = self.inspect("{{.State.Running}} {{.State.ExitCode}}");
            if let Some(code) = state.strip_prefix("false ") {
                return code.parse().ok();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Polls the logs until the service says `listening`. Fails with the logs if the container
    /// stops first or does not get there within `limit`.
    pub(crate) fn wait_listening(&self, limit: Duration) {
        let started = Instant::now();
        loop {
            let logs = self.logs();
            if logs.contains("listening") {
                return;
            }
            assert!(
                self.inspect("{{.State.Running}}") == "true",
                "the container stopped (exit code {}) before the service said `listening`. Its \
                 logs:\n{logs}",
                self.inspect("{{.State.ExitCode}}")
            );
            assert!(
                started.elapsed() < limit,
                "the service in the container did not log `listening` within {} s. Its logs:\n\
                 {logs}",
                limit.as_secs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls `GET /` on the published port until it answers 200. Fails with the container's
    /// logs if it exits first or does not answer within `limit`.
    pub(crate) fn wait_serving(&self, limit: Duration) -> SocketAddr {
        let started = Instant::now();
        let addr = self.published();
        let mut last = String::new();
        while started.elapsed() < limit {
            if self.inspect("{{.State.Running}}") != "true" {
                panic!(
                    "the container stopped (exit code {}) instead of serving. Its logs:\n{}",
                    self.inspect("{{.State.ExitCode}}"),
                    self.logs()
                );
            }
            match http_get(addr, "/", &[]) {
                Ok(answer) if answer.status == 200 => return addr,
                Ok(answer) => last = format!("GET / answered {}", answer.status),
                Err(err) => last = err.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the container did not answer GET / on {addr} (its port 8080, published) within {}s: \
             {last}.\nIf the connection was reset or refused, the service inside listens on \
             127.0.0.1, which a published port cannot reach: it must listen on 0.0.0.0 (3.1).\n\
             Its logs:\n{}",
            limit.as_secs(),
            self.logs()
        );
    }
}

/// The longest one request to a container may take: connect, send, and read the whole answer.
pub(crate) const HTTP_LIMIT: Duration = Duration::from_secs(4);

/// A blocking `GET path` with `headers`, through test-support's HTTP client, within
/// [`HTTP_LIMIT`]; an error says what happened (refused, cut off, timed out).
pub(crate) fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Response, HttpError> {
    let mut request = Request::get(path).timeout(HTTP_LIMIT);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send_blocking(addr)
}
