//! Hands the runner the tool pins of tools/pins.env (`WORKBOOK_JUST=…` lines) as compile-time
//! environment variables (src/pins.rs reads them with `env!`), so a pin missing from the file
//! stops the build. (The chapters' benchmarks are crates of their own, not compiled in here.)
#![allow(clippy::print_stdout)] // cargo reads a build script's instructions from its stdout.

use std::path::PathBuf;

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let file = here.join("../pins.env");
    println!("cargo::rerun-if-changed={}", file.display());
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|err| panic!("reading {}: {err}", file.display()));
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((key, value)) => println!("cargo::rustc-env={key}={value}"),
            None => println!("cargo::error={}: `{line}` is not KEY=value", file.display()),
        }
    }
}
