//! `neux`: the neux SDK's command-line tool.
//!
//! - `neux demo`: a whole login against an embedded sandbox, step by step.
//! - `neux sandbox`: the platform emulator as a server.
//! - `neux login`: a whole login against any host.
//! - `neux sign`: sign a JSON object of parameters by hand.
//!
//! Cargo features: `reqwest` (on by default) and `surf` (opt-in: it builds against OpenSSL)
//! select which transports `--transport` offers.
//!
//! Output is for people by default and for scripts with `--json`. Exit status 0 on success, 1
//! with an error on stderr on failure (one line `error (KIND): ...`, and for a refused signature
//! an indented line with the string that was signed), 2 for a usage error. Text that comes from
//! a server reaches the terminal with its control characters escaped. Secrets are read from the
//! environment only (arguments show up in `ps`) and never printed.

mod args;
mod call;
mod config;
mod demo;
mod failure;
mod login;
mod recording;
mod sandbox;
mod sign;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(a) => sign::run(&a),
        command => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(async move {
                match command {
                    Command::Demo(a) => demo::run(&a).await,
                    Command::Sandbox(a) => sandbox::run(&a).await,
                    Command::Login(a) => login::run(&a).await,
                    Command::Call(a) => call::run(&a).await,
                    Command::Sign(_) => Ok(()),
                }
            }),
            Err(e) => Err(failure::Failure::new(
                "runtime",
                format!("could not start the async runtime: {e}"),
            )),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            for line in f.lines() {
                terminal::eprintln(&line);
            }
            // The same status clap gives its own usage errors.
            if f.kind == "usage" {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
