//! The labels that tie what a run creates on the Docker engine to that run and to the checkout
//! it came from, so that nothing is left behind: every container, compose stack and image the
//! tests, the benches and the lab start carries `workbook.run=<id>` and
//! `workbook.checkout=<hash of the workbook's folder>`. After a run that was killed or timed
//! out, the runner removes what carries its run's label (tools/workbook/src/leftovers.rs);
//! `just doctor` lists, and `just clean` removes, what runs of this checkout that died with the
//! machine left.
//!
//! The runner names its run and its checkout in [`RUN_ENV`] and [`CHECKOUT_ENV`] for everything
//! it starts; a test program run by bare `cargo test` names itself.

use std::path::Path;
use std::sync::OnceLock;

/// The label naming the run that created a container, stack or image.
pub const RUN: &str = "workbook.run";
/// The label naming the checkout (the workbook's folder, hashed) a run came from.
pub const CHECKOUT: &str = "workbook.checkout";
/// Where the runner hands its run's id to what it starts.
pub const RUN_ENV: &str = "WORKBOOK_RUN";
/// Where the runner hands its checkout's hash to what it starts.
pub const CHECKOUT_ENV: &str = "WORKBOOK_CHECKOUT";

/// This run's id: [`RUN_ENV`] if the runner set it, else this process's own (`<pid>-<ms since
/// 1970>`: the pid says whether the run still lives, the time tells a reused pid apart).
pub fn run_id() -> &'static str {
    RUN_ID.get_or_init(|| match std::env::var(RUN_ENV) {
        Ok(id) if !id.is_empty() => id,
        _ => new_run_id(),
    })
}

static RUN_ID: OnceLock<String> = OnceLock::new();

/// Starts a run of this process's own, whatever [`RUN_ENV`] says (the runner: a runner started
/// by another's tests must not sweep the other's things). False if [`run_id`] was asked first.
pub fn start_run() -> bool {
    RUN_ID.set(new_run_id()).is_ok()
}

/// A fresh run id for this process.
pub fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{}-{ms}", std::process::id())
}

/// The pid of the process that owns the run `id` (see [`run_id`]).
pub fn run_pid(id: &str) -> Option<u32> {
    id.split_once('-')?.0.parse().ok()
}

static CHECKOUT_HASH: OnceLock<String> = OnceLock::new();

/// This checkout's hash: the one [`set_checkout`] gave, else [`CHECKOUT_ENV`] if the runner set
/// it, else that of the workbook this crate sits in (tools/test-support, two folders down).
pub fn checkout() -> &'static str {
    CHECKOUT_HASH.get_or_init(|| match std::env::var(CHECKOUT_ENV) {
        Ok(hash) if !hash.is_empty() => hash,
        _ => checkout_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")),
    })
}

/// Makes `root` this process's checkout (the runner's: the workbook it was asked to run, which
/// in its own tests is a copy of the fixture), before anything asked for [`checkout`]. False if
/// it was too late.
pub fn set_checkout(root: &Path) -> bool {
    CHECKOUT_HASH.set(checkout_of(root)).is_ok()
}

/// The hash of the workbook in `root` (its canonical path: a scratch copy's `tools/` is a link
/// to the root's, and a path named two ways is one checkout): 16 hex digits of FNV-1a, which,
/// unlike std's hasher, is the same in every build of every Rust.
pub fn checkout_of(root: &Path) -> String {
    let path = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    hash(path.as_os_str().as_encoded_bytes())
}

/// FNV-1a, 64 bits, as 16 hex digits.
pub fn hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// `--label workbook.run=… --label workbook.checkout=…`, for `docker run`, `create` and `build`.
pub fn args() -> Vec<String> {
    vec![
        "--label".to_owned(),
        format!("{RUN}={}", run_id()),
        "--label".to_owned(),
        format!("{CHECKOUT}={}", checkout()),
    ]
}

/// The variables a compose file's labels read (`${WORKBOOK_RUN:-}`, docker-compose.yml).
pub fn env() -> [(&'static str, String); 2] {
    [
        (RUN_ENV, run_id().to_owned()),
        (CHECKOUT_ENV, checkout().to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkout_hash_is_fnv1a_and_the_same_for_one_folder_named_two_ways() {
        // FNV-1a 64 of "a", as published.
        assert_eq!(hash(b"a"), "af63dc4c8601ec8c");
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(checkout_of(here), checkout_of(&here.join("src/..")));
        assert_ne!(checkout_of(here), checkout_of(&here.join("src")));
    }

    #[test]
    fn a_run_id_names_its_process() {
        assert_eq!(run_pid(&new_run_id()), Some(std::process::id()));
        assert_eq!(run_pid("nonsense"), None);
    }
}
