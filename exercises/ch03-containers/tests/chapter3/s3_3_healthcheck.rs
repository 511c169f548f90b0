//! 3.3: a health check that needs no curl: `service healthcheck`, and the HEALTHCHECK that runs it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use parse_dockerfile::{Command, HealthcheckArguments, Instruction};
use test_support::Server;

use crate::s3_2_dockerfile::{fresh_key, show, with_stages};
use crate::support::{self as docker, Container};

const SERVICE: &str = env!("CARGO_BIN_EXE_service");

/// Runs `service healthcheck` against `port`; returns its exit code and how long it took.
fn healthcheck(port: u16) -> (Option<i32>, Duration, String) {
    let started = Instant::now();
    let out = Process::new(SERVICE)
        .arg("healthcheck")
        .env("PORT", port.to_string())
        .output()
        .expect("running service healthcheck");
    (
        out.status.code(),
        started.elapsed(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A listener that answers every connection with `answer` (or, if `None`, reads and says nothing).
fn fake_server(answer: Option<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                match answer {
                    Some(text) => {
                        let _ = stream.write_all(text.as_bytes());
                    }
                    None => std::thread::sleep(Duration::from_secs(8)),
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn healthcheck_command_tells_healthy_from_unhealthy() {
    let (server, addr) = Server::builder(SERVICE)
        .name("the service")
        .env("API_KEY", "test-key-0123456789")
        .env("HOST", "127.0.0.1")
        .spawn_service()
        .await;
    let (code, _, stderr) = healthcheck(addr.port());
    assert_eq!(
        code,
        Some(0),
        "`service healthcheck` against a running service should exit 0 (healthy); it exited \
         {code:?}: {stderr}. See 3.3."
    );
    server.stop().await;

    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unavailable = fake_server(Some(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ));
    let silent = fake_server(None);
    for (port, what) in [
        (closed, "nothing listening on the port"),
        (unavailable.port(), "/healthz answering 503"),
        (
            silent.port(),
            "a service that accepts the connection and never answers",
        ),
    ] {
        let (code, took, _) = healthcheck(port);
        assert_eq!(
            code,
            Some(1),
            "with {what}, `service healthcheck` should exit 1 (unhealthy); it exited {code:?}. A \
             check that always says healthy keeps a broken container in the load balancer. \
             See 3.3."
        );
        assert!(
            took < Duration::from_secs(5),
            "with {what}, `service healthcheck` took {took:?}: a check must give up on its own \
             (connect and read timeouts), or Docker's timeout kills it and the reason is lost. \
             See 3.3."
        );
    }
}

#[test]
fn dockerfile_healthcheck_runs_the_binary_not_curl() {
    with_stages(|stages| {
        let last = stages.last().expect("at least one stage");
        let check = last.instructions.iter().rev().find_map(|i| match i {
            Instruction::Healthcheck(h) => Some(h),
            _ => None,
        });
        let Some(check) = check else {
            panic!(
                "the final stage has no HEALTHCHECK, so Docker (and compose's `depends_on: \
                 condition: service_healthy`) cannot tell a running container from a working \
                 one. Add `HEALTHCHECK CMD [\"/usr/local/bin/service\", \"healthcheck\"]`. \
                 See 3.3."
            )
        };
        let HealthcheckArguments::Cmd { arguments, .. } = &check.arguments else {
            panic!("HEALTHCHECK NONE switches the health check off. See 3.3.")
        };
        let text = show(arguments);
        assert!(
            !text.contains("curl") && !text.contains("wget"),
            "the HEALTHCHECK runs {text}: curl and wget are not in a distroless image, and \
             installing them adds a tool an attacker would love. The binary checks itself: \
             `service healthcheck`. See 3.3."
        );
        assert!(
            matches!(arguments, Command::Exec(_)) && text.contains("healthcheck"),
            "the HEALTHCHECK runs {text}: use exec form (a distroless image has no shell) and \
             the binary's own subcommand, `[\"/usr/local/bin/service\", \"healthcheck\"]`. \
             See 3.3."
        );
    });
}

#[test]
fn the_container_turns_healthy() {
    if docker::engine().is_none() {
        return;
    }
    let key = fresh_key();
    // The Dockerfile's own command, checked every second instead of every 10 s.
    let container = Container::run(
        "health",
        &[
            "-e",
            &format!("API_KEY={key}"),
            "--health-interval",
            "1s",
            "--health-retries",
            "3",
        ],
        &[],
    );
    let format = "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}";
    let started = Instant::now();
    let mut status = String::new();
    while started.elapsed() < Duration::from_secs(30) {
        status = container.inspect(format);
        if status == "healthy" || status == "none" || status == "unhealthy" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_ne!(
        status, "none",
        "the image has no health check (`docker inspect` shows no .State.Health). Add a \
         HEALTHCHECK to the final stage. See 3.3."
    );
    assert_eq!(
        status,
        "healthy",
        "the container's health is {status:?} after {:?}. The last checks said:\n{}\nIts \
         logs:\n{}\nSee 3.3.",
        started.elapsed(),
        container.inspect("{{range .State.Health.Log}}exit {{.ExitCode}}: {{.Output}}\n{{end}}"),
        container.logs()
    );
}
