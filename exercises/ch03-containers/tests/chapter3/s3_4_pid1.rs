//! 3.4: PID 1. On the host a process with no SIGTERM handler dies of the signal; as PID 1 in a
//! container the same process ignores it, and `docker stop` waits 10 s, then kills it.

use std::time::{Duration, Instant};

use test_support::{Server, Sig, process::describe};

use crate::s3_2_dockerfile::fresh_key;
use crate::support::{self as docker, Container};

#[tokio::test]
async fn sigterm_stops_the_service_cleanly() {
    let (mut server, _) = Server::builder(env!("CARGO_BIN_EXE_service"))
        .name("the service")
        .env("API_KEY", "test-key-0123456789")
        .env("HOST", "127.0.0.1")
        .spawn_service()
        .await;
    server.signal(Sig::Term);
    let (status, _) = server
        .wait_exit(
            Duration::from_secs(5),
            "After SIGTERM the idle service should stop at once. See 3.4.",
        )
        .await;
    assert_eq!(
        status.code(),
        Some(0),
        "after SIGTERM the service {}.\nOn this machine a process with no SIGTERM handler is \
         killed by the signal's default action: abrupt, but at least quick. In a container it \
         is PID 1, and the kernel applies no default action to PID 1: the signal is dropped, the \
         service keeps running, and `docker stop` waits its 10 s and sends SIGKILL. Wait for \
         SIGTERM in `shutdown::listen`. See 3.4.\nIts output:\n{}",
        describe(status),
        server.tail(10)
    );
}

#[test]
fn docker_stop_ends_it_cleanly_without_sigkill() {
    if docker::engine().is_none() {
        return;
    }
    let key = fresh_key();
    let container = Container::run("stop", &["-e", &format!("API_KEY={key}")], &[]);
    container.wait_listening(Duration::from_secs(20));
    let top = docker::docker(&["top", &container.name, "-o", "pid,args"]);
    let processes = String::from_utf8_lossy(&top.stdout).to_string();
    // `--time 5`: if SIGTERM does not end it, Docker sends SIGKILL after 5 s (137). How fast a
    // clean stop is gets measured by `just bench chapter3`, not asserted here.
    let stopping = Instant::now();
    docker::docker_ok(&["stop", "--time", "5", &container.name]);
    let took = stopping.elapsed();
    let code = container.inspect("{{.State.ExitCode}}");
    assert!(
        code == "0",
        "`docker stop` took {:.1} s and the container exited {code}{}. SIGTERM should reach \
         the service, which drains and exits 0 at once.\n\
         The processes in the container were (`docker top`; the first is PID 1):\n{processes}\n\
         If PID 1 is `/bin/sh -c …`, the Dockerfile uses shell form and the shell swallows \
         SIGTERM (3.2). If it is the service, the service does not handle SIGTERM, which PID 1 \
         must do itself (3.4).",
        took.as_secs_f64(),
        if code == "137" {
            " (128 + 9: Docker gave up waiting and sent SIGKILL)"
        } else {
            ""
        }
    );
}
