//! `cargo xtask <task>`: the project's chores, in Rust so they run the same everywhere.
//!
//! - `ci`: everything CI checks, in order, stopping at the first failure.
//! - `layout`: no import circles inside a crate, no source file too long (first step of `ci`).
//! - `audit`: the advisory check on the offline RustSec database (last step of `ci`).
//! - `bindings [--release|--bench]`: the Python and Node packages built, installed, tested.
//! - `container`: the sandbox's image built with podman from a Debian base, run, logged in to.
//! - `bench [--quick]`: the benchmarks and their summary.
//! - `fuzz [--secs N] [TARGET ...]`: the fuzz targets in `fuzz/`.

#![allow(clippy::print_stdout, clippy::print_stderr)]
// A tool that times its steps; the core never reads the clock.
#![allow(clippy::disallowed_methods)]

mod audit;
mod bench;
mod bindings;
mod ci;
mod container;
mod fuzz;
mod layout;
mod tools;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("xtask: cannot enter {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("container") => container::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("layout") => layout::run(&args[1..]),
        Some("audit") => ci::audit(),
        Some("bindings") => bindings::run(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            println!(
                "usage: cargo xtask <task>\n\ntasks:\n  ci              layout, fmt, clippy, tests (each feature set), the container, doctests, docs, audit\n  layout          no import circles inside a crate, no file over 450 lines before its tests\n  audit           advisories (offline RustSec database) and duplicate dependencies\n  bindings [--release|--bench] the Python and Node packages: build, install, test (and benchmark)\n  container       build the sandbox image with podman and log in against it (as root)\n  bench [--quick] benchmarks; writes docs/benchmarks.md and target/neux-bench/summary.json\n  fuzz [--secs N] [TARGET..] the cargo-fuzz targets (not in CI)"
            );
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `cargo` as the one running us (respects toolchain overrides), else from PATH.
pub(crate) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command, echoing it first; an error names the step that failed.
pub(crate) fn run_step(step: &str, mut cmd: Command) -> Result<(), String> {
    println!("\n==> {step}\n    $ {}", render(&cmd));
    let started = std::time::Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: could not start {:?}: {e}", cmd.get_program()))?;
    println!("    ({step}: {:.0} s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

fn render(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
