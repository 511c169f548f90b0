//! Chapter 5's small load balancer (5.3): `balancer.rs` decides where each request goes and
//! whether it may be retried (your part); `proxy.rs` moves the bytes and runs the health checks
//! (given). The lab uses a real one, HAProxy; this one is for seeing how it works.

pub mod balancer;
pub mod proxy;
