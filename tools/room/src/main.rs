//! The workshop room: `just room` on the instructor's laptop.
//!
//! A small server of the workbook's own, on the local network while it runs: learners who ran
//! `just room join URL CODE` send it their name and, after each test run, each section's tests
//! passed out of total and the first failure's sentence (never code, never a file's contents).
//! The instructor's page (`/`) shows learners × sections, live, marks who is stuck, and exports
//! CSV. Everything is kept in SQLite (`.workbook/room.sqlite`), so a restart loses nothing.
//!
//! Run with `just room` (the runner builds and starts it); `cargo run -p room -- --help` lists
//! the options.

mod app;
mod limits;
mod manifest;
mod network;
mod store;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;

/// The workshop room: a server on the local network that shows the instructor every learner's
/// verdicts.
#[derive(Debug, Parser)]
#[command(name = "room")]
struct Cli {
    /// The workbook's chapters.toml (the sections, in the book's order).
    #[arg(long, default_value = "chapters.toml")]
    manifest: PathBuf,
    /// The SQLite file that keeps the room (created if missing).
    #[arg(long, default_value = ".workbook/room.sqlite")]
    db: PathBuf,
    /// The address to listen on: every network of this machine by default.
    #[arg(long, default_value = "0.0.0.0")]
    addr: IpAddr,
    /// The port (chapters.toml's [[port]] table has it; 0: any free one).
    #[arg(long, default_value_t = 4002)]
    port: u16,
    /// A learner whose first failure has not changed for this many minutes is marked stuck.
    #[arg(long, default_value_t = 10.0)]
    stuck_after: f64,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "room=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let sections = manifest::sections(&cli.manifest)?;
    if let Some(parent) = cli.db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let store = store::Store::open(&cli.db, &sections)?;
    let code = store.code()?;
    let stuck_after = Duration::from_secs_f64((cli.stuck_after * 60.0).max(0.0));
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(cli.addr, cli.port))
        .await
        .with_context(|| {
            format!(
                "listening on {}:{} (`just doctor` names what holds the port)",
                cli.addr, cli.port
            )
        })?;
    let bound = listener.local_addr()?;
    let shown = network::reachable_url(bound);
    // The room's whole interface is its output: the instructor reads it aloud.
    #[allow(clippy::print_stdout)]
    {
        println!("The room is open. Learners join it, once, with:\n");
        println!("    just room join {shown} {code}\n");
        println!("The instructor's page: {shown}/");
        println!(
            "listening addr={bound} ({}), until Ctrl-C. Kept in {}.",
            network::describe(bound.ip()),
            cli.db.display()
        );
    }
    let state = app::State::new(store, code, sections, stuck_after);
    axum::serve(
        listener,
        app::app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop())
    .await
    .context("serving the room")?;
    #[allow(clippy::print_stdout)]
    {
        println!("The room is closed: nothing listens on {bound} any more.");
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stop() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on unix");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
