//! 5.6: the Kubernetes manifests in k8s/service.yaml, read as YAML and checked against the
//! service's real endpoints and deadlines.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use test_support::Redis;

use crate::support::{instances, request};

fn docs() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("k8s/service.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    text.split("\n---")
        .map(|doc| doc.trim())
        .filter(|doc| {
            doc.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|doc| {
            serde_saphyr::from_str::<Value>(doc)
                .unwrap_or_else(|err| panic!("k8s/service.yaml is not valid YAML: {err}"))
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("k8s/service.yaml has no {kind} named {name:?}. See 5.6."))
}

fn container(docs: &[Value]) -> &Value {
    &find(docs, "Deployment", "service")["spec"]["template"]["spec"]["containers"][0]
}

fn env_of(container: &Value, name: &str) -> Option<String> {
    container["env"].as_array()?.iter().find_map(|e| {
        (e["name"] == name)
            .then(|| e["value"].as_str().map(str::to_string))
            .flatten()
    })
}

fn number(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str()?.parse().ok())
}

/// A probe's or a Service's port, named or numbered, as the container's port number.
fn port_number(container: &Value, port: &Value) -> Option<u64> {
    number(port).or_else(|| {
        container["ports"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == *port)
            .and_then(|p| number(&p["containerPort"]))
    })
}

#[tokio::test]
async fn the_probes_point_at_the_real_endpoints() {
    let docs = docs();
    let c = container(&docs);
    let path_of = |probe: &str| -> String {
        c[probe]["httpGet"]["path"].as_str().map(str::to_string).unwrap_or_else(|| {
            panic!(
                "the service's container has no {probe} with httpGet. Without a readinessProbe a \
                 pod gets traffic as soon as its process starts, and keeps getting it while it \
                 shuts down or cannot reach Redis; without a livenessProbe a hung process is \
                 never restarted. See 5.6."
            )
        })
    };
    let (ready_path, live_path) = (path_of("readinessProbe"), path_of("livenessProbe"));
    for probe in ["readinessProbe", "livenessProbe"] {
        let port = port_number(c, &c[probe]["httpGet"]["port"]);
        assert_eq!(
            port,
            Some(8080),
            "the {probe} checks port {:?}, but the service listens on 8080. See 5.6.",
            c[probe]["httpGet"]["port"]
        );
    }
    // The real service, with a Redis that the test then takes away.
    let mut redis = Redis::start().await;
    let all = instances(&redis, 1, &[]).await;
    let addr = all[0].1;
    for (path, probe) in [
        (&ready_path, "readinessProbe"),
        (&live_path, "livenessProbe"),
    ] {
        let answer = request(addr, "GET", path, &[]).await;
        assert_eq!(
            answer.status,
            200,
            "the {probe} asks GET {path}, and the running service answers {}: the pod would never \
             become {}. The service's endpoints are /readyz and /healthz. See 5.2 and 5.6.",
            answer.status,
            if probe == "readinessProbe" {
                "ready"
            } else {
                "live"
            }
        );
    }
    redis.kill();
    let started = Instant::now();
    let mut ready = 200;
    while started.elapsed() < Duration::from_secs(5) && ready == 200 {
        ready = request(addr, "GET", &ready_path, &[]).await.status;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let live = request(addr, "GET", &live_path, &[]).await.status;
    assert!(
        ready == 503 && live == 200,
        "with Redis gone, the readinessProbe's GET {ready_path} answers {ready} and the \
         livenessProbe's GET {live_path} answers {live}. The readiness probe must be the check \
         that fails (take the pod out of the Service), the liveness probe the one that does not \
         (a restart would not bring Redis back). See 5.2 and 5.6."
    );
}

#[test]
fn the_grace_period_outlasts_prestop_and_the_shutdown_deadline() {
    let docs = docs();
    let pod = &find(&docs, "Deployment", "service")["spec"]["template"]["spec"];
    let c = container(&docs);
    let pre_stop = number(&c["lifecycle"]["preStop"]["sleep"]["seconds"]).or_else(|| {
        let command = c["lifecycle"]["preStop"]["exec"]["command"].as_array()?;
        let words: Vec<&str> = command.iter().filter_map(Value::as_str).collect();
        words
            .iter()
            .position(|w| *w == "sleep")
            .and_then(|i| words.get(i + 1)?.parse().ok())
    });
    let Some(pre_stop) = pre_stop else {
        panic!(
            "the service's container has no preStop hook. When a pod is deleted, Kubernetes sends \
             SIGTERM and removes it from the Service's endpoints at the same time, and the second \
             takes a moment to reach every node: requests still arrive after SIGTERM. A preStop \
             `sleep: {{seconds: 5}}` (distroless has no `sleep` binary; the kubelet's own sleep \
             action needs none) delays SIGTERM until they have stopped. See 5.6."
        )
    };
    let grace = number(&pod["terminationGracePeriodSeconds"]).unwrap_or(30);
    let timeout = env_of(c, "SHUTDOWN_TIMEOUT")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10u64);
    let delay = env_of(c, "SHUTDOWN_DELAY")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0u64);
    assert!(
        grace > pre_stop + delay + timeout,
        "terminationGracePeriodSeconds is {grace}, but shutdown may take preStop {pre_stop} s + \
         SHUTDOWN_DELAY {delay} s + SHUTDOWN_TIMEOUT {timeout} s = {} s, and the grace period \
         counts from the start of preStop. When it runs out the kubelet sends SIGKILL, in the \
         middle of the drain. Make it longer than the sum. See 5.6.",
        pre_stop + delay + timeout
    );
}

#[test]
fn resources_an_autoscaler_and_services_that_match() {
    let docs = docs();
    let c = container(&docs);
    let resources = &c["resources"];
    for (path, why) in [
        (
            "requests/cpu",
            "the scheduler places pods by their requests, and the autoscaler's CPU percentage is a percentage of it",
        ),
        (
            "requests/memory",
            "the scheduler places pods by their requests",
        ),
        (
            "limits/memory",
            "a leaking pod is killed alone instead of starving its neighbours",
        ),
    ] {
        assert!(
            !resources
                .pointer(&format!("/{path}"))
                .is_none_or(Value::is_null),
            "the service's container has no resources.{}: {why}. See 5.6.",
            path.replace('/', ".")
        );
    }
    let hpa = docs
        .iter()
        .find(|d| d["kind"] == "HorizontalPodAutoscaler")
        .unwrap_or_else(|| {
            panic!(
                "k8s/service.yaml has no HorizontalPodAutoscaler: the number of pods stays fixed \
                 whatever the load. Add one (autoscaling/v2) on CPU. See 5.6."
            )
        });
    assert_eq!(
        hpa["apiVersion"], "autoscaling/v2",
        "use autoscaling/v2. See 5.6."
    );
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"], "service",
        "the autoscaler should scale the Deployment named service. See 5.6."
    );
    let min = number(&hpa["spec"]["minReplicas"]).unwrap_or(1);
    let max = number(&hpa["spec"]["maxReplicas"]).unwrap_or(0);
    assert!(
        min >= 2 && max > min,
        "the autoscaler runs {min} to {max} pods. At least 2 at all times (one can be replaced \
         or lost without an outage), and room above. See 5.6."
    );
    let service = find(&docs, "Service", "service");
    let labels = &find(&docs, "Deployment", "service")["spec"]["template"]["metadata"]["labels"];
    let selector = service["spec"]["selector"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !selector.is_empty() && selector.iter().all(|(k, v)| labels[k] == *v),
        "the Service's selector {selector:?} does not match the pods' labels {labels}: it would \
         have no endpoints. See 5.6."
    );
    assert_eq!(
        port_number(c, &service["spec"]["ports"][0]["targetPort"]),
        Some(8080),
        "the Service's targetPort should reach the container's port 8080. See 5.6."
    );
    find(&docs, "Service", "redis");
    assert_eq!(
        env_of(c, "REDIS_URL").as_deref(),
        Some("redis://redis:6379"),
        "REDIS_URL should name the redis Service (cluster DNS). See 5.6."
    );
}
