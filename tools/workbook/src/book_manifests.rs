//! `just verify --only book-manifests`: every Kubernetes manifest, compose file and systemd unit
//! the book shows works, as printed, with the service it runs.
//!
//! The files are the ones the pages `{{#include}}` (`book-quotes` makes sure nothing is pasted
//! instead). Each is read as what it is (YAML, or a unit's `Key=Value` lines) and held against
//! the service's own code, not against a copy of its settings: the environment variables its
//! sources read, the defaults its `config.rs` gives `HOST`, `PORT` and `SHUTDOWN_TIMEOUT`, the
//! paths its router serves, and whether it ever tells systemd `READY=1` or `WATCHDOG=1`. The
//! service is the crate (or `[[bin]]`) named by the file's image or `ExecStart=`, else the
//! chapter whose folder holds the file.
//!
//! What "works" means here: a container platform connects to the pod's or container's address,
//! so the service must not bind 127.0.0.1 (Kubernetes' probes go to the pod IP); every probed or
//! published port is the one it binds; every probed path is served; every variable set is one
//! the service reads (a typo is silently ignored otherwise); a default that points at
//! 127.0.0.1 (a Redis) is overridden inside a container, where 127.0.0.1 is the container; the
//! platform waits longer than the service's own deadline before its SIGKILL; and a unit's
//! `Type=notify` or `WatchdogSec=` has a service that sends what they wait for.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

/// What its line in `just verify` says.
pub(crate) const ABOUT: &str = "every Kubernetes manifest, compose file and systemd unit the \
                                book shows works with its service's config code";

/// Every problem found, as sentences naming the file.
pub(crate) fn check(root: &Path) -> Result<Vec<String>> {
    let crates = crates(root)?;
    let mut problems = Vec::new();
    for file in shown_files(root)? {
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let mut found = |what: String| problems.push(format!("{rel}: {what}"));
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext == "service" || text.lines().any(|l| l.trim() == "[Service]") {
            unit(root, &crates, &file, &text, &mut found)?;
        } else if ext == "yaml" || ext == "yml" {
            let docs: Vec<Value> = match serde_saphyr::from_multiple(&text) {
                Ok(docs) => docs,
                Err(err) => {
                    found(format!("is not valid YAML: {err}"));
                    continue;
                }
            };
            if docs
                .iter()
                .any(|d| d.get("services").is_some_and(Value::is_object))
            {
                compose(root, &crates, &file, &docs[0], &mut found)?;
            } else if docs.iter().any(is_kubernetes) {
                kubernetes(root, &crates, &file, &docs, &mut found)?;
            }
        }
    }
    Ok(problems)
}

/// The files the pages include, once each.
fn shown_files(root: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    for page in crate::book::markdown_files(&root.join("book/src"))? {
        let text = std::fs::read_to_string(&page)?;
        let dir = page.parent().expect("a file has a parent");
        for line in text.lines() {
            for include in crate::book::includes(line) {
                let file = include.split(':').next().unwrap_or_default();
                let path = crate::book::normalize(&dir.join(file));
                if path.is_file() {
                    out.insert(path);
                }
            }
        }
    }
    Ok(out)
}

fn files_under(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files_under(&path, ext)?);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

// ---- the services, as their code says ----

/// Every crate under exercises/ (chapter crates and their `service/` projects), by package name
/// and by each `[[bin]]` name, with its folder.
fn crates(root: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut out = BTreeMap::new();
    for chapter in std::fs::read_dir(root.join("exercises"))? {
        let chapter = chapter?.path();
        for dir in [chapter.clone(), chapter.join("service")] {
            let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
                continue;
            };
            let cargo: toml::Table = text.parse()?;
            let package = cargo.get("package").and_then(|p| p.get("name"));
            let bins = cargo.get("bin").and_then(|b| b.as_array());
            let bin_names = bins.into_iter().flatten().filter_map(|b| b.get("name"));
            for name in package.into_iter().chain(bin_names) {
                if let Some(name) = name.as_str() {
                    out.insert(name.to_owned(), dir.clone());
                }
            }
        }
    }
    Ok(out)
}

/// What a service reads and serves, from its sources.
struct Service {
    /// `exercises/…`, for the messages.
    name: String,
    /// Its config.rs, where the defaults are.
    config: String,
    /// Every `"NAME"` passed to a function (`var("PORT")`, `parse_or("HOST", …)`) in its sources.
    reads: BTreeSet<String>,
    /// Every path given to `.route(…)`.
    routes: BTreeSet<String>,
    /// Whether it ever sends `READY=1` / `WATCHDOG=1` to systemd.
    notifies: bool,
    watchdog: bool,
}

impl Service {
    fn load(root: &Path, dir: &Path) -> Result<Service> {
        let mut sources = String::new();
        for file in files_under(&dir.join("src"), "rs")? {
            sources.push_str(&std::fs::read_to_string(&file)?);
            sources.push('\n');
        }
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        let mut reads: BTreeSet<String> = literals_after(&sources, "(")
            .into_iter()
            .filter(|l| is_env_name(l))
            .collect();
        // tracing's EnvFilter reads RUST_LOG without the name appearing in the service.
        if cargo.contains("service-kit") || sources.contains("EnvFilter") {
            reads.insert("RUST_LOG".into());
        }
        Ok(Service {
            name: dir.strip_prefix(root).unwrap_or(dir).display().to_string(),
            config: std::fs::read_to_string(dir.join("src/config.rs")).unwrap_or_default(),
            reads,
            routes: literals_after(&sources, ".route(").into_iter().collect(),
            notifies: sources.contains("READY=1") || sources.contains("NotifyState::Ready"),
            watchdog: sources.contains("WATCHDOG=1") || sources.contains("NotifyState::Watchdog"),
        })
    }

    /// The default of a number setting (`"PORT", 3000u16`, `"SHUTDOWN_TIMEOUT", 10`, `…
    /// unwrap_or("8080")`): the first number in its statement after the name.
    fn default_number(&self, name: &str) -> Option<u64> {
        let window = statement_after(&self.config, name)?;
        let digits: String = window
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }

    /// `HOST`'s default: an address written `[127, 0, 0, 1]` or `"0.0.0.0"` after the name, or
    /// held by a `let` the call names.
    fn default_host(&self) -> Option<IpAddr> {
        let window = statement_after(&self.config, "HOST")?;
        address_in(window).or_else(|| {
            identifiers(window).into_iter().find_map(|ident| {
                let bound = format!("let {ident} =");
                let at = self.config.find(&bound)? + bound.len();
                let rhs = self.config[at..].split(';').next()?;
                address_in(rhs)
            })
        })
    }

    /// The variables whose default is an address on this machine (`redis://127.0.0.1:6379`).
    fn loopback_defaults(&self) -> Vec<String> {
        self.reads
            .iter()
            .filter(|name| name.as_str() != "HOST")
            .filter(|name| {
                statement_after(&self.config, name)
                    .and_then(|w| string_literals(w).into_iter().next())
                    .is_some_and(|l| l.contains("127.0.0.1") || l.contains("localhost"))
            })
            .cloned()
            .collect()
    }

    fn port(&self, env: &BTreeMap<String, String>) -> Option<u64> {
        match env.get("PORT") {
            Some(port) => port.parse().ok(),
            None => self.default_number("PORT"),
        }
    }

    fn shutdown_timeout(&self, env: &BTreeMap<String, String>) -> Option<u64> {
        match env.get("SHUTDOWN_TIMEOUT") {
            Some(secs) => secs.parse().ok(),
            None => self.default_number("SHUTDOWN_TIMEOUT"),
        }
    }

    /// The problems with an environment as the file gives it, for a process that something
    /// outside it must reach (`in_container`: a pod or a container with published ports).
    fn check_env(
        &self,
        env: &BTreeMap<String, String>,
        in_container: bool,
        found: &mut dyn FnMut(String),
    ) {
        for name in env.keys() {
            if !self.reads.contains(name) {
                found(format!(
                    "sets {name}, which {} never reads (it reads {})",
                    self.name,
                    self.reads.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if !in_container {
            return;
        }
        let host = match env.get("HOST") {
            Some(host) => host.parse::<IpAddr>().ok(),
            None => self.default_host(),
        };
        match host {
            Some(ip) if ip.is_loopback() => found(format!(
                "{} binds {ip} ({}), so nothing outside the container reaches it: probes and \
                 Services connect to the pod's address, a published port to the container's. \
                 Set HOST to 0.0.0.0",
                self.name,
                if env.contains_key("HOST") {
                    "HOST as set here".to_owned()
                } else {
                    format!("HOST's default in {}/src/config.rs", self.name)
                }
            )),
            Some(_) => {}
            None => found(format!(
                "cannot find HOST's default in {}/src/config.rs (tools/workbook/src/\
                 book_manifests.rs reads it)",
                self.name
            )),
        }
        for name in self.loopback_defaults() {
            if !env.contains_key(&name) {
                found(format!(
                    "leaves {name} at its default, an address on 127.0.0.1, which inside a \
                     container is the container itself: set it"
                ));
            }
        }
    }

    fn check_path(&self, path: &str, what: &str, found: &mut dyn FnMut(String)) {
        if !self.routes.contains(path) {
            found(format!(
                "{what} {path}, which {} does not serve (its routes: {})",
                self.name,
                self.routes.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
}

/// The service a file runs: the crate its image or binary is named after, else its chapter's.
fn service_for(
    root: &Path,
    crates: &BTreeMap<String, PathBuf>,
    file: &Path,
    named: Option<&str>,
) -> Result<Option<Service>> {
    let by_name = named.and_then(|n| {
        let last = n.rsplit('/').next().unwrap_or(n);
        crates.get(last.split([':', '@']).next().unwrap_or(last))
    });
    let by_chapter = || {
        let rel = file.strip_prefix(root).ok()?;
        rel.components().find_map(|part| {
            let dir = root.join("exercises").join(part);
            let folder = part.as_os_str().to_str()?;
            (folder.starts_with("ch") && dir.is_dir()).then(|| {
                let service = dir.join("service");
                if service.is_dir() { service } else { dir }
            })
        })
    };
    match by_name.cloned().or_else(by_chapter) {
        Some(dir) => Ok(Some(Service::load(root, &dir)?)),
        None => Ok(None),
    }
}

// ---- Kubernetes ----

fn is_kubernetes(doc: &Value) -> bool {
    doc.get("kind").is_some() || containers_of(doc).is_some()
}

/// A pod template's containers (Deployment, StatefulSet, Job…) or a Pod's.
fn containers_of(doc: &Value) -> Option<&Vec<Value>> {
    let spec = doc.get("spec")?;
    let pod = spec.pointer("/template/spec").unwrap_or(spec);
    pod.get("containers")?.as_array()
}

fn kubernetes(
    root: &Path,
    crates: &BTreeMap<String, PathBuf>,
    file: &Path,
    docs: &[Value],
    found: &mut dyn FnMut(String),
) -> Result<()> {
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

fn image_name(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split([':', '@']).next().unwrap_or(last)
}

// ---- compose ----

fn compose(
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

// ---- systemd ----

fn unit(
    root: &Path,
    crates: &BTreeMap<String, PathBuf>,
    file: &Path,
    text: &str,
    found: &mut dyn FnMut(String),
) -> Result<()> {
    let mut section = String::new();
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            keys.entry(format!("{section}.{}", key.trim()))
                .or_default()
                .push(value.trim().to_owned());
        } else {
            found(format!("`{line}` is neither a [Section] nor Key=Value"));
        }
    }
    let one = |key: &str| keys.get(key).and_then(|v| v.last()).map(String::as_str);
    let Some(exec) = one("Service.ExecStart") else {
        found("has no ExecStart= in [Service]".into());
        return Ok(());
    };
    let binary = exec.split_whitespace().next().unwrap_or_default();
    let Some(service) = service_for(root, crates, file, Some(binary))? else {
        return Ok(());
    };
    let mut env = BTreeMap::new();
    for line in keys.get("Service.Environment").into_iter().flatten() {
        for assignment in line.split_whitespace() {
            let assignment = assignment.trim_matches('"');
            let (k, v) = assignment.split_once('=').unwrap_or((assignment, ""));
            env.insert(k.to_owned(), v.to_owned());
        }
    }
    service.check_env(&env, false, found);
    if one("Service.Type") == Some("notify") && !service.notifies {
        found(format!(
            "says Type=notify, but {} never sends READY=1: systemd waits for it \
             TimeoutStartSec= (90 s by default), then fails the start and stops the service",
            service.name
        ));
    }
    if one("Service.WatchdogSec").is_some() && !service.watchdog {
        found(format!(
            "says WatchdogSec=, but {} never sends WATCHDOG=1: systemd kills it when the \
             interval passes, every time",
            service.name
        ));
    }
    let stop = one("Service.TimeoutStopSec").map_or(Some(90), seconds);
    if let (Some(stop), Some(timeout)) = (stop, service.shutdown_timeout(&env))
        && stop <= timeout
    {
        found(format!(
            "TimeoutStopSec is {stop} s, not more than SHUTDOWN_TIMEOUT ({timeout} s): \
             systemd's SIGKILL comes before the service's own deadline"
        ));
    }
    Ok(())
}

// ---- small readers ----

/// `15s`, `1m30s`, `90`, `100ms` (rounded down) as whole seconds.
fn seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (number, after) = rest.split_at(digits);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = number.parse().ok()?;
        total += n * match unit.trim() {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = next;
    }
    Some(total as u64)
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn show(port: Option<u64>) -> String {
    port.map_or_else(
        || "(PORT's default not found in config.rs)".into(),
        |p| p.to_string(),
    )
}

fn is_env_name(s: &str) -> bool {
    s.len() > 1
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every string literal that follows `opener` (whitespace between them allowed).
fn literals_after(text: &str, opener: &str) -> Vec<String> {
    text.match_indices(opener)
        .filter_map(|(at, _)| {
            let rest = text[at + opener.len()..].trim_start().strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

/// The text after the first `"NAME"` literal, up to the end of its statement (`;`), at most a
/// few lines.
fn statement_after<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let literal = format!("\"{name}\"");
    let at = text.find(&literal)? + literal.len();
    let rest = &text[at..];
    let end = rest
        .char_indices()
        .take(300)
        .find(|&(_, c)| c == ';')
        .map_or_else(
            || rest.char_indices().nth(300).map_or(rest.len(), |(i, _)| i),
            |(i, _)| i,
        );
    Some(&rest[..end])
}

fn string_literals(text: &str) -> Vec<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn identifiers(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .collect()
}

/// The first address written as `[a, b, c, d]` or as a string literal in `text`.
fn address_in(text: &str) -> Option<IpAddr> {
    let literal = string_literals(text)
        .into_iter()
        .find_map(|l| l.parse::<IpAddr>().ok().map(|ip| (text.find(&l), ip)));
    let array = text.match_indices('[').find_map(|(at, _)| {
        let inner = &text[at + 1..at + 1 + text[at + 1..].find(']')?];
        let octets: Vec<u8> = inner
            .split(',')
            .map(|o| o.trim().parse().ok())
            .collect::<Option<_>>()?;
        let octets: [u8; 4] = octets.try_into().ok()?;
        Some((Some(at), IpAddr::from(octets)))
    });
    // Whichever comes first in the text.
    [literal, array]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| at.unwrap_or(usize::MAX))
        .map(|(_, ip)| ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds() {
        assert_eq!(seconds("15s"), Some(15));
        assert_eq!(seconds("1m30s"), Some(90));
        assert_eq!(seconds("90"), Some(90));
        assert_eq!(seconds("forever"), None);
    }

    #[test]
    fn a_host_default_is_found_in_each_way_the_services_write_it() {
        let service = |config: &str| Service {
            name: "x".into(),
            config: config.into(),
            reads: BTreeSet::new(),
            routes: BTreeSet::new(),
            notifies: false,
            watchdog: false,
        };
        let ch01 = "let localhost = IpAddr::from([127, 0, 0, 1]);\n\
                    let host = parse_or(\"HOST\", localhost, \"an IP such as 0.0.0.0\");";
        assert_eq!(
            service(ch01).default_host(),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        let ch05 = "host: var(\"HOST\", IpAddr::from([0, 0, 0, 0]))?,";
        assert_eq!(
            service(ch05).default_host(),
            Some(IpAddr::from([0, 0, 0, 0]))
        );
        let ch03 = "let host = get(\"HOST\").unwrap_or(\"0.0.0.0\");";
        assert_eq!(
            service(ch03).default_host(),
            Some(IpAddr::from([0, 0, 0, 0]))
        );
        assert_eq!(
            service("parse_or(\"PORT\", 3000u16, \"a port\")").default_number("PORT"),
            Some(3000)
        );
    }
}
