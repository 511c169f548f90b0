//! Chapter 5's tests, one module per section of the book. Run them with `just test chapter5`.
//!
//! Three copies of the service run on this machine, sharing one real Redis, as they would behind
//! a load balancer: a test sends each request to a different copy, and checks that the answers
//! are the same as if there were only one.

mod s5_1_stateless;
mod s5_2_health;
mod s5_3_balancer;
mod s5_4_ratelimit;
mod s5_5_lab;
mod s5_6_kubernetes;
mod support;
