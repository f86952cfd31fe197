//! `cargo xtask ci`: the whole check, failing fast, as CI runs it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::{cargo, run_step};

/// The offline RustSec database beside the repository (there is no network to fetch one).
const ADVISORY_DB: &str = "../shared/advisory-db";

/// Feature sets the test suite runs under: the default build, every optional backend alone
/// (so a feature that only compiles alongside another is caught), and everything together.
const TEST_RUNS: &[(&str, &[&str])] = &[
    ("default features", &["--workspace"]),
    (
        "neux-transport: reqwest alone",
        &[
            "-p",
            "neux-transport",
            "--no-default-features",
            "--features",
            "reqwest",
        ],
    ),
    (
        "neux-transport: surf alone",
        &[
            "-p",
            "neux-transport",
            "--no-default-features",
            "--features",
            "surf",
        ],
    ),
    (
        "neux-oauth: surf alone",
        &[
            "-p",
            "neux-oauth",
            "--no-default-features",
            "--features",
            "surf",
        ],
    ),
    ("all features", &["--workspace", "--all-features"]),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`ci` takes no arguments (got {extra:?})"));
    }
    let started = Instant::now();

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run_step("format", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run_step("clippy", clippy)?;

    // The libraries with no backend at all: what a user bringing their own Transport builds.
    let mut bare = cargo();
    bare.args([
        "clippy",
        "-p",
        "neux-transport",
        "-p",
        "neux-oauth",
        "--no-default-features",
        "--lib",
        "--",
        "-D",
        "warnings",
    ]);
    run_step("clippy (no transport backend)", bare)?;

    for (label, flags) in TEST_RUNS {
        let mut test = cargo();
        test.args(["nextest", "run", "--no-fail-fast"]).args(*flags);
        run_step(&format!("tests ({label})"), test)?;
    }

    let mut doctest = cargo();
    doctest.args(["test", "--workspace", "--all-features", "--doc"]);
    run_step("doctests", doctest)?;

    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--all-features", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run_step("docs", doc)?;

    audit()?;

    println!(
        "\nci: all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn audit() -> Result<(), String> {
    if !Path::new(ADVISORY_DB).is_dir() {
        println!(
            "\n==> audit\n    SKIPPED: {ADVISORY_DB} is absent, so there is no advisory database to check against"
        );
        return Ok(());
    }
    let mut audit = cargo();
    audit.args([
        "audit",
        "--db",
        ADVISORY_DB,
        "--no-fetch",
        "--deny",
        "warnings",
    ]);
    run_step("audit", audit)?;
    let mut dups = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    dups.args([
        "tree",
        "--workspace",
        "--all-features",
        "-d",
        "--edges",
        "normal",
    ]);
    // Informational: duplicates are kept down by review, listed here so drift is visible.
    run_step("duplicate dependencies (informational)", dups)
}
