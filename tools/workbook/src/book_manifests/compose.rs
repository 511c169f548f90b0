//! Compose files: a service of ours publishes the port it binds, on an address others reach,
//! with names it reads, and compose waits longer than its deadline before SIGKILL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;

use super::service::service_for;
use super::{image_name, scalar, seconds, show};

pub(super) fn check(
    root: &Path,
    crates: &BTreeMap<String, PathBuf>,
    file: &Path,
    doc: &Value,
    found: &mut dyn FnMut(String),
) -> Result<()> {
    let services = doc
        .get("services")
        .and_then(Value::as_object)
        .into_iter()
        .flatten();
    for (name, def) in services {
        let image = def.get("image").and_then(Value::as_str);
        if image.is_none() && def.get("build").is_none() {
            found(format!(
                "service {name} has neither `image` nor `build`: compose cannot start it"
            ));
            continue;
        }
        if image.is_some_and(|i| !crates.contains_key(image_name(i))) {
            continue;
        }
        let Some(service) = service_for(root, crates, file, image)? else {
            continue;
        };
        let env: BTreeMap<String, String> = match def.get("environment") {
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| (k.clone(), scalar(v).unwrap_or_default()))
                .collect(),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        service.check_env(&env, true, found);
        let port = service.port(&env);
        for published in def
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let spec = scalar(published).unwrap_or_default();
            let target = spec.rsplit(':').next().unwrap_or(&spec);
            let target = target.split('/').next().unwrap_or(target);
            if target.parse().ok() != port {
                found(format!(
                    "service {name} publishes {spec}, but {} binds port {}",
                    service.name,
                    show(port)
                ));
            }
        }
        let grace = def
            .get("stop_grace_period")
            .and_then(Value::as_str)
            .map_or(Some(10), seconds);
        if let (Some(grace), Some(timeout)) = (grace, service.shutdown_timeout(&env))
            && grace <= timeout
        {
            found(format!(
                "service {name} waits {grace} s before docker's SIGKILL (stop_grace_period), \
                 not more than SHUTDOWN_TIMEOUT ({timeout} s)"
            ));
        }
    }
    Ok(())
}
