//! Chapter 1's tests, one module per section of the book. Run them with `just test chapter1`.
//!
//! Almost every test starts the real service binary, sends it real signals and talks to it over
//! real TCP on 127.0.0.1, with a real redis-server behind it: what you make pass here is what
//! Docker, Kubernetes or systemd will see.

mod support;

mod s1_1_signals;
mod s1_2_drain;
mod s1_3_deadline;
mod s1_4_readiness;
mod s1_5_background;
mod s1_6_second_signal;
