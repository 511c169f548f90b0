//! Chapter 3's tests, one module per section of the book. Run them with `just test chapter3`.
//!
//! 3.1 calls your `config.rs` directly. 3.2 reads your `Dockerfile` and `.dockerignore` with a
//! Dockerfile parser, then builds the image on the Docker engine and runs it. 3.3 and 3.4 run the
//! service on this machine, then in a container.
//!
//! The image is built once per run, by whichever test needs it first (the first build downloads
//! nothing but compiles every dependency: a few minutes; later builds reuse Docker's cache).

mod s3_1_config;
mod s3_2_dockerfile;
mod s3_3_healthcheck;
mod s3_4_pid1;
mod support;
