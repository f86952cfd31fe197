//! `cargo xtask ci`: the whole check, failing fast, as CI runs it.

use std::path::Path;
use std::time::Instant;

use crate::{cargo, run_step};

/// The offline RustSec database beside the repository (there is no network to fetch one);
/// `NEUX_ADVISORY_DB` points elsewhere.
const ADVISORY_DB: &str = "../shared/advisory-db";

fn advisory_db() -> String {
    std::env::var("NEUX_ADVISORY_DB").unwrap_or_else(|_| ADVISORY_DB.to_owned())
}

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
    (
        "neux-oauth: native TLS instead of rustls",
        &[
            "-p",
            "neux-oauth",
            "--no-default-features",
            "--features",
            "native-tls",
        ],
    ),
    ("all features", &["--workspace", "--all-features"]),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`ci` takes no arguments (got {extra:?})"));
    }
    let started = Instant::now();
    // Everything the checks need, before anything slow: a missing tool is installed now, not
    // discovered after minutes of building.
    crate::tools::ensure()?;

    crate::layout::run(&[])?;

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

    for (i, (label, flags)) in TEST_RUNS.iter().enumerate() {
        let mut test = cargo();
        test.args(["nextest", "run", "--no-fail-fast"]).args(*flags);
        run_step(&format!("tests ({label})"), test)?;
        if i == 0 {
            // The published image starts and serves: built from the binary these tests just
            // built, run, and logged in to (podman, as root).
            crate::container::check_image(crate::container::Binary::AsTested)?;
            // The Python and Node packages, installed as users install them and tested there
            // (debug builds: neux-proto is already built).
            crate::bindings::check(false)?;
        }
    }

    let mut doctest = cargo();
    doctest.args(["test", "--workspace", "--all-features", "--doc"]);
    run_step("doctests", doctest)?;

    // As docs.rs builds them (every feature, `--cfg docsrs` for the feature badges, which need
    // a nightly rustdoc feature: RUSTC_BOOTSTRAP unlocks it on this stable toolchain), and
    // with warnings as errors.
    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--all-features", "--no-deps"])
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
        .env("RUSTC_BOOTSTRAP", "1");
    run_step("docs (as docs.rs builds them)", doc)?;

    audit()?;

    println!(
        "\nci: all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) fn audit() -> Result<(), String> {
    let db = advisory_db();
    // A check that cannot run fails, saying why: a skipped advisory check reads as a clean one.
    if !Path::new(&db).is_dir() {
        return Err(format!(
            "audit: no advisory database at {db}: put the project's shared/ folder beside the repository (as CI has it), or point NEUX_ADVISORY_DB at a copy of the RustSec advisory-db"
        ));
    }
    crate::audit::run(Path::new(&db))?;
    let mut dups = cargo();
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
