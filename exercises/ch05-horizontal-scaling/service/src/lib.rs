//! The chapter 5 service: stateless, so any number of copies can run behind a load balancer.
//! Sessions, counters and the rate limit live in Redis; every instance serves every request.
//!
//! You work in `state.rs` (5.1), `health.rs` (5.2) and `ratelimit.rs` (5.4). `app.rs`,
//! `config.rs` and `main.rs` are given: chapters 1 and 3 taught what they do.

pub mod app;
pub mod config;
pub mod health;
pub mod ratelimit;
pub mod state;

/// 16 random bytes from the kernel, as 32 hex digits: unguessable, for session ids.
pub fn random_id() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
