//! Every transport against real HTTP servers on 127.0.0.1: the conformance suite and shared clients.
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

#[macro_use]
mod support;
mod clients;
mod conformance;
