//! Test helpers shared by the neux crates' test suites: the real parts users run (a Redis
//! server, a Redis Cluster), started on free loopback ports and stopped when dropped, and a
//! capture of log output.
//!
//! A part that is not installed fails the test with the command that installs it: no test is
//! skipped for lack of one.

#![allow(clippy::print_stderr)]
// Test support waits on real processes by the wall clock; the core never reads it.
#![allow(clippy::disallowed_methods)]

mod capture;
mod process;
mod redis;
mod sentinel;

pub use capture::Capture;
pub use process::{free_port, need, quiet_port};
pub use redis::{RedisCluster, RedisServer};
pub use sentinel::{MASTER_NAME, RedisSentinelSet};
