//! `service` serves HTTP; `service healthcheck` asks a running one whether it is healthy (3.3).
//!
//! Exit codes: 0 after a clean stop, 1 when the shutdown deadline passed, 2 for an unknown
//! command, 78 (`EX_CONFIG`) when the configuration is wrong, so the container stops at once with
//! the reason in `docker logs` instead of serving with a bad setting.

use std::process::ExitCode;

use service::{app, config, healthcheck};

const BAD_CONFIG: u8 = 78;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some("healthcheck") => return healthcheck::run(),
        Some(other) => {
            eprintln!("service: unknown command {other:?}; use `service` or `service healthcheck`");
            return ExitCode::from(2);
        }
    }
    // ANCHOR: start
    let config = match config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("service: cannot start: {err}");
            return ExitCode::from(BAD_CONFIG);
        }
    };
    app::init_logging(config.log_level);
    tracing::info!(?config, "starting");
    // ANCHOR_END: start
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("service: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(app::serve(config))
}
