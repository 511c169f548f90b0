//! systemd units: `Key=Value` lines read as systemd reads them; the service named by
//! `ExecStart=` reads what `Environment=` sets, sends what `Type=notify` and `WatchdogSec=` wait
//! for, and gets its deadline before `TimeoutStopSec=`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::seconds;
use super::service::service_for;

pub(super) fn check(
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
