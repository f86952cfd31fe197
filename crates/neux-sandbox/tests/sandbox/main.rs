//! The sandbox over real HTTP: its rules, bad input, races, abuse, load, and independent clients.
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

mod abuse;
mod bad_input;
mod control;
mod flow;
mod independent_clients;
mod inspector;
mod load;
mod logging;
mod remote;
mod rules;
mod signed_calls;
mod support;
