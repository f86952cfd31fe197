//! The built `neux` binary, command by command.
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

mod cli;
mod inspector;
mod remote;
mod support;
