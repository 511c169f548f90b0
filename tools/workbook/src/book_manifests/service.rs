//! A service as its code says: what it reads from the environment, the defaults its config.rs
//! gives, the paths it serves, what it tells systemd. Read from the source text, so that a
//! change in the code is a change in what the book's files are held to.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::files_under;

/// Every crate under exercises/ (chapter crates and their `service/` projects), by package name
/// and by each `[[bin]]` name, with its folder.
pub(super) fn crates(root: &Path) -> Result<BTreeMap<String, PathBuf>> {
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
pub(super) struct Service {
    /// `exercises/…`, for the messages.
    pub(super) name: String,
    /// Its config.rs, where the defaults are.
    config: String,
    /// Every `"NAME"` passed to a function (`var("PORT")`, `parse_or("HOST", …)`) in its sources.
    reads: BTreeSet<String>,
    /// Every path given to `.route(…)`.
    routes: BTreeSet<String>,
    /// Whether it ever sends `READY=1` / `WATCHDOG=1` to systemd.
    pub(super) notifies: bool,
    pub(super) watchdog: bool,
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

    pub(super) fn port(&self, env: &BTreeMap<String, String>) -> Option<u64> {
        match env.get("PORT") {
            Some(port) => port.parse().ok(),
            None => self.default_number("PORT"),
        }
    }

    pub(super) fn shutdown_timeout(&self, env: &BTreeMap<String, String>) -> Option<u64> {
        match env.get("SHUTDOWN_TIMEOUT") {
            Some(secs) => secs.parse().ok(),
            None => self.default_number("SHUTDOWN_TIMEOUT"),
        }
    }

    /// The problems with an environment as the file gives it, for a process that something
    /// outside it must reach (`in_container`: a pod or a container with published ports).
    pub(super) fn check_env(
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

    pub(super) fn check_path(&self, path: &str, what: &str, found: &mut dyn FnMut(String)) {
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
pub(super) fn service_for(
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
