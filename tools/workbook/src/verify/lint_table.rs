//! The root Cargo.toml's `[workspace.lints]` table, translated into rustc/clippy flags for the
//! projects that cannot inherit it.

use anyhow::{Result, bail};

/// The root Cargo.toml's `[workspace.lints]` as rustc/clippy flags (`-W unreachable_pub`,
/// `-D clippy::let_underscore_future`), lowest priority first so that a lint overrides the
/// group it belongs to, as cargo orders them. A project outside the workspace cannot inherit
/// the table (`[lints] workspace = true` needs a workspace that has one), so verify passes it.
pub(super) fn lint_flags(manifest: &toml::Table) -> Result<Vec<String>> {
    let Some(lints) = manifest
        .get("workspace")
        .and_then(|w| w.get("lints"))
        .and_then(|l| l.as_table())
    else {
        bail!("the root Cargo.toml has no [workspace.lints] table");
    };
    let mut flags: Vec<(i64, String)> = Vec::new();
    for (tool, table) in lints {
        let Some(table) = table.as_table() else {
            bail!("[workspace.lints.{tool}] is not a table");
        };
        for (lint, spec) in table {
            let (level, priority) = match spec {
                toml::Value::String(level) => (level.as_str(), 0),
                toml::Value::Table(t) => (
                    t.get("level").and_then(|l| l.as_str()).unwrap_or(""),
                    t.get("priority").and_then(|p| p.as_integer()).unwrap_or(0),
                ),
                _ => bail!("[workspace.lints.{tool}] {lint}: not a level"),
            };
            let flag = match level {
                "allow" => "-A",
                "warn" => "-W",
                "deny" => "-D",
                "forbid" => "-F",
                _ => bail!("[workspace.lints.{tool}] {lint}: unknown level {level:?}"),
            };
            let name = if tool == "rust" {
                lint.clone()
            } else {
                format!("{tool}::{lint}")
            };
            flags.push((priority, format!("{flag}{name}")));
        }
    }
    // Stable: same-priority lints keep the table's order.
    flags.sort_by_key(|(priority, _)| *priority);
    Ok(flags.into_iter().map(|(_, flag)| flag).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lint_table_becomes_flags_groups_first() {
        let manifest: toml::Table = toml::from_str(
            r#"
            [workspace.lints.rust]
            unsafe_code = "deny"
            rust_2018_idioms = { level = "warn", priority = -1 }
            [workspace.lints.clippy]
            todo = "allow"
            "#,
        )
        .unwrap();
        assert_eq!(
            lint_flags(&manifest).unwrap(),
            ["-Wrust_2018_idioms", "-Aclippy::todo", "-Dunsafe_code"]
        );
    }

    #[test]
    fn a_level_that_is_not_one_is_an_error() {
        let manifest: toml::Table =
            toml::from_str("[workspace.lints.rust]\nunsafe_code = \"loud\"\n").unwrap();
        assert!(lint_flags(&manifest).is_err());
    }
}
