#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]
pub mod server;
#[macro_use]
pub mod suite;
