//! The client end to end: against the sandbox, scripted transports, hostile servers, proxies, Redis.
//!
//! One test binary for the crate (each file under `tests/` is a binary of its own, linked
//! against every dependency once per feature set: most of a slow CI), with one module a
//! concern and one helper module.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]
// Tests time real servers, processes and threads on the wall clock; the library code never
// reads it (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod answers;
mod axum_example;
mod backoff;
mod builder;
mod calls;
mod errors;
mod flow;
mod ledger;
mod logging;
#[cfg(feature = "metrics")]
mod metrics;
mod network;
mod redaction;
#[cfg(feature = "redis")]
mod redis_failover;
#[cfg(feature = "redis")]
mod redis_ledger;
#[cfg(feature = "redis")]
mod redis_settings;
mod reliability;
mod retry_policy;
mod support;
mod thin_sdk;
