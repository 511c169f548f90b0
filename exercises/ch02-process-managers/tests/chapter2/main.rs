//! Chapter 2's tests, one module per section of the book. Run them with `just test chapter2`.
//!
//! They start the real minipm binary with a real configuration file, and real worker processes
//! under it; they crash them, reload them, and kill minipm itself, over real TCP on 127.0.0.1.

mod support;

mod s2_1_restarts;
mod s2_2_cluster;
mod s2_3_reload;
mod s2_4_logs;
mod s2_5_metrics;
