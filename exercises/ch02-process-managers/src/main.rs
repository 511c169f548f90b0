//! minipm, a small process manager: `minipm start minipm.toml`, then `minipm status`,
//! `kill -HUP <pid>` to reload, Ctrl-C or SIGTERM to stop. Run it with `just run chapter2`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ch02_process_managers::config::Config;
use ch02_process_managers::{manager, status};
use tracing::error;

const USAGE: &str = "usage: minipm start <minipm.toml>\n       minipm status [127.0.0.1:9615]";

#[tokio::main]
async fn main() -> ExitCode {
    service_kit::telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["start", path] => {
            let path = PathBuf::from(path);
            match Config::load(&path) {
                Ok(config) => manager::run(&path, config).await,
                Err(err) => Err(err.into()),
            }
        }
        ["status"] => status::print_status(SocketAddr::from(([127, 0, 0, 1], 9615))).await,
        ["status", addr] => match addr.parse() {
            Ok(addr) => status::print_status(addr).await,
            Err(_) => Err(anyhow::anyhow!(
                "{addr:?} is not an address such as 127.0.0.1:9615"
            )),
        },
        _ => Err(anyhow::anyhow!("{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!("{err:#}");
            ExitCode::from(78)
        }
    }
}
