//! 5.5: the compose lab, on the Docker engine: HAProxy in front of replicas of your service,
//! sharing one Redis, taking a replica out of the rotation when its readiness fails. Skipped with a loud notice where no engine runs, except in CI and under
//! `just verify`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use lab::Lab;
use loadgen::{Options, Report};

/// Load through the balancer until `stop` resolves, or for 300 s at most (a rolling deploy on a
/// busy machine takes a minute or two).
async fn load_while<F: std::future::Future<Output = ()>>(port: u16, stop: F) -> Report {
    let mut options = Options::for_url(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    options.duration = Duration::from_secs(300);
    options.concurrency = 8;
    loadgen::run(&options, stop).await.unwrap()
}

fn instances(report: &Report) -> BTreeSet<String> {
    report.by_instance().keys().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lab_spreads_load_survives_a_crash_and_deploys_without_errors() {
    if !test_support::docker::engine_or_skip() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let port = test_support::free_port();
    let mut lab = Lab::new(&root, port).unwrap_or_else(|err| panic!("{err:#}"));
    // A project of the test's own, named after this copy of the workbook (yours, or the
    // scratch copy of `--solution`), so that its image (`<project>_app`) is one per copy, each
    // build replacing the last, never one per run.
    let copy = test_support::docker::labels::checkout_of(&root);
    lab.project = Some(format!("ch05lab{}", &copy[..12]));
    lab.quiet = true;
    // The lab in a compose project of its own, taken down when the test ends, failed or not.
    let stack = lab.guard();
    lab.up(3)
        .unwrap_or_else(|err| panic!("`just up` failed: {err:#}"));

    // Load reaches every replica.
    let report = load_while(port, tokio::time::sleep(Duration::from_secs(3))).await;
    assert_eq!(
        report.failed(),
        0,
        "requests failed through HAProxy: {:?}",
        report.by_outcome()
    );
    assert_eq!(
        instances(&report).len(),
        3,
        "3 replicas are up, but {:?} answered. HAProxy finds the replicas through Docker's DNS \
         and sends only to those whose /readyz answers 200 (lab/haproxy.cfg). See 5.2 and 5.5.",
        report.by_instance()
    );

    // A session made through the balancer survives the replica that made it.
    let login = crate::support::request(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        "POST",
        "/login?user=ada",
        &[],
    )
    .await;
    let cookie = login
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_string))
        .unwrap_or_else(|| panic!("POST /login through the lab set no cookie: {login:?}"));
    let maker = login.header("x-instance").unwrap_or_default();
    lab::docker(&["kill", "--signal", "KILL", maker]).unwrap();
    // Until HAProxy has taken the dead replica out, a request sent to it fails (the crash
    // below measures that): ask for her session once the others answer.
    lab.wait_steady(20, Duration::from_secs(10))
        .unwrap_or_else(|err| panic!("{err:#}"));
    for _ in 0..6 {
        let me = crate::support::request(
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            "GET",
            "/me",
            &[("Cookie", &cookie)],
        )
        .await;
        assert_eq!(
            (me.status, me.body.trim()),
            (200, "ada"),
            "ada logged in on replica {maker}, which then crashed (SIGKILL). Her next request, \
             served by {:?}, says {} {:?}: her session died with the replica. In Redis it would \
             not have. See 5.1.",
            me.header("x-instance"),
            me.status,
            me.body.trim()
        );
    }
    lab.scale(3).unwrap_or_else(|err| panic!("{err:#}"));

    // Forged headers through HAProxy do not reset the rate limit: it replaces X-Real-IP with
    // the address it saw, so 20 requests that each make up a new id, X-Forwarded-For and
    // X-Real-IP count against one client, and its remaining allowance goes down by one each
    // time (once at most it may start over, if a new minute's window begins).
    let mut remaining = Vec::new();
    for i in 0..20 {
        let fake_id = format!("nobody-{i}");
        let (fake_xff, fake_ip) = (format!("203.0.113.{i}"), format!("192.0.2.{i}"));
        let headers = [
            ("x-client-id", fake_id.as_str()),
            ("x-forwarded-for", fake_xff.as_str()),
            ("x-real-ip", fake_ip.as_str()),
        ];
        let answer = crate::support::request(
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            "GET",
            "/",
            &headers,
        )
        .await;
        let left = answer.header("x-ratelimit-remaining");
        remaining.push(left.and_then(|r| r.parse::<u64>().ok()).unwrap_or_else(|| {
            panic!("GET / through HAProxy said no x-ratelimit-remaining: {answer:?}")
        }));
    }
    let fresh = remaining.windows(2).filter(|w| w[1] + 1 != w[0]).count();
    let why = if remaining.windows(2).all(|w| w[0] == w[1]) {
        "Every request counted as a new client: the service believed the made-up headers. \
         HAProxy must set X-Real-IP to the address it saw (lab/haproxy.cfg), and the service believe it \
         only from TRUSTED_PROXIES (docker-compose.yml)."
    } else {
        "The count jumps around: each replica counts on its own. Count in Redis, shared by \
         every replica (service/src/ratelimit.rs)."
    };
    assert!(
        fresh <= 1,
        "20 requests through HAProxy, each with an id, X-Forwarded-For and X-Real-IP of its own \
         making, should count against one client (the address HAProxy saw), one less remaining \
         each time: x-ratelimit-remaining went {remaining:?}. {why} See 5.4."
    );

    // A crash under load fails the requests in flight on that replica and those sent to it
    // before HAProxy takes it out: it retries nothing (lab/haproxy.cfg), and drops the replica
    // when Docker's DNS no longer lists it (asked every second) or two checks fail (500 ms
    // apart, 1 s each at most). So every failure falls within about 3 s, and then none.
    // Measured here: 10 and 22 requests, 8 at once, within about a second.
    let chaos = lab.clone();
    let report = load_while(port, async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::spawn_blocking(move || chaos.chaos())
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let failed: Vec<Duration> = report
        .samples
        .iter()
        .filter(|s| !s.outcome.ok())
        .map(|s| s.at)
        .collect();
    let window = failed
        .iter()
        .max()
        .zip(failed.iter().min())
        .map_or(Duration::ZERO, |(last, first)| *last - *first);
    assert!(
        window <= Duration::from_secs(3),
        "one replica was killed under load; {} requests failed, over {:.1} s: {:?}. HAProxy \
         should take a dead replica out within about 3 s (Docker's DNS asked every second, \
         checks every 500 ms, lab/haproxy.cfg), and then nothing fails. See 5.5.",
        failed.len(),
        window.as_secs_f64(),
        report.by_outcome()
    );
    lab.scale(3).unwrap_or_else(|err| panic!("{err:#}"));

    // A rolling deploy under load fails nothing.
    let before: BTreeSet<String> = lab.replicas().unwrap().into_iter().collect();
    let deploy = lab.clone();
    let deployed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = deployed.clone();
    let report = load_while(port, async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        tokio::task::spawn_blocking(move || deploy.rolling_deploy(1))
            .await
            .unwrap()
            .unwrap_or_else(|err| panic!("the rolling deploy failed: {err:#}"));
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
    })
    .await;
    assert!(
        deployed.load(std::sync::atomic::Ordering::SeqCst),
        "the rolling deploy did not finish within the load's 300 s (the machine is very busy, \
         or a new replica never became healthy: `just up`, then `just rolling-deploy`, says)"
    );
    let after: BTreeSet<String> = lab.replicas().unwrap().into_iter().collect();
    assert!(
        before.is_disjoint(&after),
        "every replica should have been replaced: {before:?} → {after:?}"
    );
    assert_eq!(
        report.failed(),
        0,
        "{} of {} requests failed during the rolling deploy: {:?}. Each old replica gets \
         SIGTERM and keeps serving for SHUTDOWN_DELAY (2 s) before it stops accepting; HAProxy \
         takes it out of the rotation only when its /readyz fails (twice, 500 ms apart), and \
         does not pass a refused request to another replica. So /readyz must answer 503 as soon \
         as shutdown begins (shutting_down in health.rs). See 5.2 and 5.5.",
        report.failed(),
        report.samples.len(),
        report.by_outcome()
    );
    // `just down`: the containers, and the image the lab built.
    lab.down().unwrap_or_else(|err| panic!("{err:#}"));
    drop(stack);
}
