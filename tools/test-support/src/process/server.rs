//! The [`Server`] guard: a child started in its own process group, waited on with deadlines,
//! and killed with its whole group when the guard is dropped, on a panic too.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::output::Output;
use super::signal::{Sig, describe, send_signal};
use crate::{human, test_log_enabled};

/// Builds a [`Server`]: the program, its arguments and environment.
#[derive(Debug)]
pub struct ServerBuilder {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    name: String,
}

impl ServerBuilder {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable for the child (on top of the test's own environment).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Gives the program a Redis the way every chapter service takes one: `REDIS_URL`, and
    /// `REDIS_KEY_PREFIX` so that its keys are this test's own.
    pub fn redis(self, redis: &crate::Redis) -> Self {
        self.env("REDIS_URL", redis.url())
            .env("REDIS_KEY_PREFIX", redis.prefix())
    }

    /// Starts a chapter service on a free port (`PORT=0`) and waits for the line in which it
    /// reports its address.
    pub async fn spawn_service(self) -> (Server, SocketAddr) {
        let mut server = self.env("PORT", "0").spawn();
        let addr = server.wait_for_address(Duration::from_secs(10)).await;
        (server, addr)
    }

    /// The name used in failure messages (`the server`, `minipm`, …).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Starts the process in a new process group, with stdout and stderr captured.
    pub fn spawn(self) -> Server {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, so that the guard can kill it and everything it started in one
            // `kill(-pgid)`, and so that a Ctrl-C meant for the test runner is not delivered to it.
            .process_group(0)
            .kill_on_drop(true);
        // Even a test process killed with SIGKILL (which runs no destructor) leaves no server
        // behind: PR_SET_PDEATHSIG on Linux, a watchdog on a pipe on macOS. On Linux the signal
        // comes when the *thread* that spawns it ends (proc-guard's docs): here the test's own
        // thread, which ends with the test, as the server should.
        proc_guard::die_with_parent(command.as_std_mut());
        let mut child = command.spawn().unwrap_or_else(|err| {
            panic!(
                "could not start {} ({}): {err}. Was it built? `just test` builds it for you.",
                self.name,
                self.program.display()
            )
        });
        let pid = child.id().expect("a child that was just spawned has a pid");
        let (lines_changed, _) = watch::channel(0usize);
        let output = Output {
            lines: Arc::new(Mutex::new(Vec::new())),
            changed: Arc::new(lines_changed),
        };
        let echo = test_log_enabled().then(|| self.name.clone());
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(output.clone().collect(stdout, echo.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(output.clone().collect(stderr, echo));
        }
        Server {
            name: self.name,
            pid,
            child,
            status: None,
            output,
        }
    }
}

/// A running child process. Dropping it kills its whole process group.
#[derive(Debug)]
pub struct Server {
    name: String,
    pid: u32,
    child: Child,
    status: Option<ExitStatus>,
    output: Output,
}

impl Server {
    /// Prepares to start `program` (usually `env!("CARGO_BIN_EXE_<crate>")`).
    pub fn builder(program: impl Into<PathBuf>) -> ServerBuilder {
        ServerBuilder {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            name: "the server".to_owned(),
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Everything the child printed so far, stdout and stderr interleaved as they arrived.
    pub fn output(&self) -> String {
        self.output.snapshot().join("\n")
    }

    /// Sends `GET path` to `addr` in the background, and returns once the server has printed
    /// one more line containing `started` than before: the request is then in flight.
    pub async fn request_in_flight(
        &mut self,
        addr: SocketAddr,
        path: &str,
        started: &str,
    ) -> tokio::task::JoinHandle<Result<crate::http::Response, crate::http::HttpError>> {
        let before = self.count_lines(started);
        let owned = path.to_owned();
        let request = tokio::spawn(async move { crate::http::get(addr, &owned).await });
        self.wait_for_nth_line(
            started,
            before + 1,
            Duration::from_secs(5),
            &format!(
                "{} did not start handling GET {path} within 5 s of the request.",
                self.name
            ),
        )
        .await;
        request
    }

    /// How many lines containing `needle` it has printed so far.
    pub fn count_lines(&self, needle: &str) -> usize {
        let lines = self
            .output
            .lines
            .lock()
            .expect("no thread panics while holding it");
        lines.iter().filter(|l| l.contains(needle)).count()
    }

    /// The last `n` lines, indented, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let lines = self.output.snapshot();
        if lines.is_empty() {
            return "    (it printed nothing)".to_owned();
        }
        let start = lines.len().saturating_sub(n);
        lines[start..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until a line containing `needle` is printed, and returns it.
    ///
    /// Fails with `explain` and the child's last output if the deadline passes first, or at once
    /// if the child exits without printing it.
    pub async fn wait_for_line(&mut self, needle: &str, limit: Duration, explain: &str) -> String {
        self.wait_for_nth_line(needle, 1, limit, explain).await
    }

    /// Like [`wait_for_line`](Self::wait_for_line), for the `n`th line containing `needle`.
    pub async fn wait_for_nth_line(
        &mut self,
        needle: &str,
        n: usize,
        limit: Duration,
        explain: &str,
    ) -> String {
        self.wait_nth(needle, n, limit, None, explain).await
    }

    /// Like [`wait_for_nth_line`](Self::wait_for_nth_line), for a child that prints a lot
    /// first: it fails once the child has printed nothing for `quiet`, however long it has been
    /// printing, and after `limit` in any case. How fast the lines come depends on the machine
    /// (on two busy cores, a thousand small writes take seconds); a child that stops printing
    /// does not.
    pub async fn wait_for_nth_line_while_printing(
        &mut self,
        needle: &str,
        n: usize,
        quiet: Duration,
        limit: Duration,
        explain: &str,
    ) -> String {
        self.wait_nth(needle, n, limit, Some(quiet), explain).await
    }

    async fn wait_nth(
        &mut self,
        needle: &str,
        n: usize,
        limit: Duration,
        quiet: Option<Duration>,
        explain: &str,
    ) -> String {
        let end = tokio::time::Instant::now() + limit;
        let mut changed = self.output.changed.subscribe();
        // The end, or sooner: `quiet` from now, for a wait that lasts while the child prints.
        let next_deadline = || quiet.map_or(end, |q| end.min(tokio::time::Instant::now() + q));
        let mut deadline = next_deadline();
        loop {
            if let Some(line) = self.output.nth_line_containing(needle, n) {
                return line;
            }
            if let Some(status) = self.exited() {
                // Give the readers a moment to deliver the last lines, then look once more.
                let _ = tokio::time::timeout(Duration::from_millis(200), changed.changed()).await;
                if let Some(line) = self.output.nth_line_containing(needle, n) {
                    return line;
                }
                panic!(
                    "{explain}\n{} {} before printing {needle:?}. Its last output:\n{}",
                    self.name,
                    describe(status),
                    self.tail(15)
                );
            }
            let poll_exit = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                _ = changed.changed() => deadline = next_deadline(),
                // The child may exit without printing anything more; notice that promptly.
                _ = poll_exit => {}
                _ = tokio::time::sleep_until(deadline) => {
                    let within = match quiet {
                        Some(quiet) if deadline < end => {
                            format!("and printed nothing for {}", human(quiet))
                        }
                        _ => format!("within {}", human(limit)),
                    };
                    panic!(
                        "{explain}\n{} did not print {needle:?} {within}. Its last output:\n{}",
                        self.name, self.tail(15)
                    );
                }
            }
        }
    }

    /// Waits for the line in which the chapter services report their address
    /// (`… listening addr=127.0.0.1:PORT`) and returns the address.
    pub async fn wait_for_address(&mut self, limit: Duration) -> SocketAddr {
        let line = self
            .wait_for_line(
                "addr=",
                limit,
                "The server should log one line with `addr=` when it is ready to accept \
                 connections.",
            )
            .await;
        crate::http::addr_in(&line).unwrap_or_else(|err| {
            panic!(
                "{} reported an address that does not parse: {err}",
                self.name
            )
        })
    }

    /// The address it reported (its first line with `addr=`), where [`get`](Self::get) and
    /// [`post`](Self::post) send their requests. Panics if it has reported none yet: call
    /// [`wait_for_address`](Self::wait_for_address) (or start it with
    /// [`ServerBuilder::spawn_service`]) first.
    pub fn addr(&self) -> SocketAddr {
        let line = self
            .output
            .nth_line_containing("addr=", 1)
            .unwrap_or_else(|| {
                panic!(
                    "{} has not reported its address (a line with `addr=`) yet; wait for it first",
                    self.name
                )
            });
        crate::http::addr_in(&line).unwrap_or_else(|err| {
            panic!(
                "{} reported an address that does not parse: {err}",
                self.name
            )
        })
    }

    /// `GET path` to the address it reported, on a new connection; add headers or a time limit,
    /// then `.await` it (or `.blocking()`).
    pub fn get(&self, path: &str) -> crate::http::Call {
        self.send(crate::http::Request::get(path))
    }

    /// `POST path` with `body` (`""` for none) to the address it reported.
    pub fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> crate::http::Call {
        self.send(crate::http::Request::post(path, body))
    }

    /// Any request to the address it reported.
    pub fn send(&self, request: crate::http::Request) -> crate::http::Call {
        request.to(self.addr())
    }

    /// Sends a real signal to the child (not its group: that is what Docker and Kubernetes do).
    pub fn signal(&self, sig: Sig) {
        self.kill_raw(self.pid as libc::pid_t, sig.raw());
    }

    fn kill_raw(&self, pid: libc::pid_t, signal: libc::c_int) {
        if let Err(err) = send_signal(pid, signal) {
            // ESRCH: it is already gone, which the exit checks will report.
            if err.raw_os_error() != Some(libc::ESRCH) && self.status.is_none() {
                panic!("could not signal {}: {err}", self.name);
            }
        }
    }

    /// The exit status, if the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the child to exit and returns its status and how long it took from this call.
    ///
    /// Fails with `explain` and the child's last output if it is still running at the deadline
    /// (and then kills it, so nothing is left behind).
    pub async fn wait_exit(&mut self, limit: Duration, explain: &str) -> (ExitStatus, Duration) {
        match self.try_wait_exit(limit).await {
            Some(exit) => exit,
            None => self.fail_still_running(limit, explain),
        }
    }

    /// Waits up to `limit` for the child to exit: its status and how long it took, or `None`
    /// if it is still running (and left running, so that the caller can look at it before it
    /// calls [`Server::fail_still_running`]).
    pub async fn try_wait_exit(&mut self, limit: Duration) -> Option<(ExitStatus, Duration)> {
        let start = Instant::now();
        if let Some(status) = self.status {
            return Some((status, Duration::ZERO));
        }
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => {
                let took = start.elapsed();
                self.status = Some(status);
                // Let the readers drain what it printed last (not counted in `took`).
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((status, took))
            }
            Ok(Err(err)) => panic!("could not wait for {}: {err}", self.name),
            Err(_) => None,
        }
    }

    /// Kills a child that outlived its deadline and fails the test with `explain` and the
    /// child's last output.
    pub fn fail_still_running(&mut self, limit: Duration, explain: &str) -> ! {
        let tail = self.tail(15);
        self.kill();
        panic!(
            "{explain}\n{} was still running {} later, so the test killed it. Its last \
             output:\n{tail}",
            self.name,
            human(limit)
        );
    }

    /// True if any line the child printed so far contains `needle`.
    pub fn printed(&self, needle: &str) -> bool {
        self.output.nth_line_containing(needle, 1).is_some()
    }

    /// Sends `sig` and waits for the exit, failing with `explain` if it is still running after
    /// `limit`.
    pub async fn stop_with(
        &mut self,
        sig: Sig,
        limit: Duration,
        explain: &str,
    ) -> (ExitStatus, Duration) {
        self.signal(sig);
        self.wait_exit(limit, explain).await
    }

    /// Kills the child's whole group and waits until it is gone (reaped), for callers that can
    /// await, unlike `Drop`, and are about to exit themselves.
    pub async fn stop(mut self) {
        self.kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    /// Kills the child's whole process group with SIGKILL.
    pub fn kill(&mut self) {
        if self.exited().is_none() {
            // The group id is the child's pid, because it was started with `process_group(0)`.
            self.kill_raw(-(self.pid as libc::pid_t), libc::SIGKILL);
            let _ = self.child.start_kill();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Even when the leader has exited, what it started may still run in its group. Errors are
        // ignored: the group is usually gone already, and a destructor must not panic.
        let _ = send_signal(-(self.pid as libc::pid_t), libc::SIGKILL);
        let _ = self.child.start_kill();
        // Reap it now if it is gone; otherwise tokio's reaper collects it in the background.
        let _ = self.child.try_wait();
    }
}
