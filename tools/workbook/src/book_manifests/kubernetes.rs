//! Kubernetes manifests: every container of ours is reachable on the port and paths it is
//! probed on, is configured with names the service reads, and has a grace period longer than
//! its preStop and its own deadline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::service::service_for;
use super::{image_name, scalar, show};

pub(super) fn is_kubernetes(doc: &Value) -> bool {
    doc.get("kind").is_some() || containers_of(doc).is_some()
}

/// A pod template's containers (Deployment, StatefulSet, Job…) or a Pod's.
fn containers_of(doc: &Value) -> Option<&Vec<Value>> {
    let spec = doc.get("spec")?;
    let pod = spec.pointer("/template/spec").unwrap_or(spec);
    pod.get("containers")?.as_array()
}

pub(super) fn check(
    root: &Path,
    crates: &BTreeMap<String, PathBuf>,
    file: &Path,
    docs: &[Value],
    found: &mut dyn FnMut(String),
) -> Result<()> {
    services_reach_a_container(docs, found);
    for doc in docs {
        if doc.get("apiVersion").is_none() || doc.get("kind").is_none() {
            found(
                "a manifest without `apiVersion` and `kind`, which `kubectl apply` refuses: \
                 print a whole object"
                    .into(),
            );
        }
        let Some(containers) = containers_of(doc) else {
            continue;
        };
        let spec = doc.get("spec").expect("containers_of found a spec");
        let pod = spec.pointer("/template/spec").unwrap_or(spec);
        for container in containers {
            let image = container.get("image").and_then(Value::as_str);
            if image.is_none() {
                found(format!(
                    "container {} has no `image`",
                    container.get("name").unwrap_or(&Value::Null)
                ));
            }
            // Images that are not ours (redis:7) are not checked.
            if image.is_some_and(|i| !crates.contains_key(image_name(i))) {
                continue;
            }
            let Some(service) = service_for(root, crates, file, image)? else {
                continue;
            };
            let env: BTreeMap<String, String> = container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    Some((
                        e.get("name")?.as_str()?.to_owned(),
                        scalar(e.get("value")?)?,
                    ))
                })
                .collect();
            service.check_env(&env, true, found);
            let port = service.port(&env);
            let ports: Vec<&Value> = container
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect();
            for declared in &ports {
                let number = declared.get("containerPort").and_then(scalar);
                if number.as_deref().and_then(|n| n.parse().ok()) != port {
                    found(format!(
                        "declares containerPort {}, but {} binds port {}",
                        number.unwrap_or_default(),
                        service.name,
                        show(port)
                    ));
                }
            }
            for kind in ["readinessProbe", "livenessProbe", "startupProbe"] {
                let Some(get) = container.pointer(&format!("/{kind}/httpGet")) else {
                    continue;
                };
                let probed = get.get("port").and_then(scalar);
                let resolved = probed.as_deref().and_then(|p| {
                    p.parse::<u64>().ok().or_else(|| {
                        ports
                            .iter()
                            .find(|d| d.get("name").and_then(Value::as_str) == Some(p))
                            .and_then(|d| d.get("containerPort").and_then(scalar))
                            .and_then(|n| n.parse().ok())
                    })
                });
                if resolved.is_none() || resolved != port {
                    let probed = probed.unwrap_or_default();
                    let asks = match resolved {
                        Some(n) if n.to_string() != probed => format!("{probed} ({n})"),
                        Some(_) => probed,
                        None => format!("{probed}, which names no port of the container"),
                    };
                    found(format!(
                        "its {kind} asks port {asks}, but {} binds port {}",
                        service.name,
                        show(port)
                    ));
                }
                if let Some(path) = get.get("path").and_then(Value::as_str) {
                    service.check_path(path, &format!("its {kind} asks"), found);
                }
            }
            let grace = pod
                .get("terminationGracePeriodSeconds")
                .and_then(scalar)
                .and_then(|g| g.parse::<u64>().ok())
                .unwrap_or(30);
            let pre_stop = container
                .pointer("/lifecycle/preStop/sleep/seconds")
                .and_then(scalar)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            if let Some(timeout) = service.shutdown_timeout(&env)
                && grace <= pre_stop + timeout
            {
                found(format!(
                    "terminationGracePeriodSeconds is {grace}, not more than preStop ({pre_stop} \
                     s) + SHUTDOWN_TIMEOUT ({timeout} s): the kubelet's SIGKILL comes before the \
                     service's own deadline"
                ));
            }
        }
    }
    Ok(())
}

/// Each Service's `targetPort` is a port that a container whose pod labels match its selector
/// declares (by name or number); a Service without `targetPort` targets its `port`.
fn services_reach_a_container(docs: &[Value], found: &mut dyn FnMut(String)) {
    let pods: Vec<(&Value, &Vec<Value>)> = docs
        .iter()
        .filter_map(|d| {
            let labels = d.pointer("/spec/template/metadata/labels")?;
            Some((labels, containers_of(d)?))
        })
        .collect();
    for service in docs
        .iter()
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some("Service"))
    {
        let name = service
            .pointer("/metadata/name")
            .and_then(scalar)
            .unwrap_or_default();
        let Some(selector) = service.pointer("/spec/selector").and_then(Value::as_object) else {
            continue;
        };
        let selected: Vec<&Vec<Value>> = pods
            .iter()
            .filter(|(labels, _)| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
            .map(|(_, containers)| *containers)
            .collect();
        if selected.is_empty() {
            found(format!("Service {name} selects no pod of this file"));
            continue;
        }
        let ports = service.pointer("/spec/ports").and_then(Value::as_array);
        for port in ports.into_iter().flatten() {
            let Some(target) = port
                .get("targetPort")
                .or_else(|| port.get("port"))
                .and_then(scalar)
            else {
                continue;
            };
            let declared = selected.iter().flat_map(|cs| cs.iter()).any(|c| {
                c.get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|p| {
                        p.get("name").and_then(scalar).as_ref() == Some(&target)
                            || p.get("containerPort").and_then(scalar).as_ref() == Some(&target)
                    })
            });
            if !declared {
                found(format!(
                    "Service {name} sends traffic to port {target}, which no container it selects \
                     declares"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Deployment 1.7 printed before it was checked: no kind, no image, and probes on a port
    /// that chapter 1's service binds on 127.0.0.1 only.
    const UNCHECKED: &str = "spec:
  terminationGracePeriodSeconds: 20
  containers:
    - name: app
      env:
        - { name: SHUTDOWN_TIMEOUT, value: \"10\" }
      readinessProbe:
        httpGet: { path: /health/ready, port: 3000 }
";

    fn problems(file: &str, yaml: &str) -> Vec<String> {
        let root = crate::book::normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
        let crates = super::super::service::crates(&root).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap();
        let mut found = Vec::new();
        check(&root, &crates, &root.join(file), &docs, &mut |p| {
            found.push(p)
        })
        .unwrap();
        found
    }

    #[test]
    fn a_deployment_probing_a_service_bound_to_loopback_is_refused_and_the_books_is_not() {
        let file = "book/src/ch01-graceful-shutdown/in-production/deployment.yaml";
        let found = problems(file, UNCHECKED);
        for expected in ["apiVersion", "no `image`", "binds 127.0.0.1", "REDIS_URL"] {
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{expected:?} not among {found:#?}"
            );
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let printed = std::fs::read_to_string(root.join(file)).unwrap();
        assert_eq!(problems(file, &printed), Vec::<String>::new());
    }
}
