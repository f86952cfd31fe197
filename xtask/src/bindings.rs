//! `cargo xtask bindings`: the Python and Node packages built from `crates/neux-python` and
//! `crates/neux-node`, installed the way a user installs them, and tested there.
//!
//! - Python: a venv of the task's own (`target/neux-bindings/tools`) gets maturin and pytest
//!   from PyPI; maturin builds the wheel; a second, fresh venv installs the wheel (and pytest)
//!   and runs `crates/neux-python/tests` from outside the source tree, so `import neux` is the
//!   installed package.
//! - Node: cargo builds the addon; the package's files and the addon are staged and packed with
//!   `npm pack`; a fresh folder installs the tarball with npm (no network: it has no
//!   dependencies) and `node --test` runs `crates/neux-node/test` against it.
//!
//! Both read the shared vectors from `NEUX_VECTORS` (set here to `../shared/vectors/...`).
//! `--release` builds optimised packages (for `bench`, and for the sizes in the docs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, run_step};

const DIR: &str = "target/neux-bindings";
const VECTORS: &str = "../shared/vectors/sign-vectors.json";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut release = false;
    let mut bench = false;
    for arg in args {
        match arg.as_str() {
            "--release" => release = true,
            "--bench" => {
                release = true;
                bench = true;
            }
            other => {
                return Err(format!(
                    "`bindings` takes --release or --bench, not {other:?}"
                ));
            }
        }
    }
    let built = check(release)?;
    if bench {
        benchmark(&built)?;
    }
    Ok(())
}

/// What the check built and installed, for the benchmark to reuse.
pub(crate) struct Built {
    python: PathBuf,
    node_package: PathBuf,
}

/// Builds, installs and tests both packages.
pub(crate) fn check(release: bool) -> Result<Built, String> {
    let started = Instant::now();
    let vectors = std::fs::canonicalize(VECTORS).map_err(|e| {
        format!(
            "the shared signature vectors are not at {VECTORS} ({e}): the binding tests need them"
        )
    })?;
    let dir = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let python = python(&dir, &vectors, release)?;
    let node_package = node(&dir, &vectors, release)?;
    println!(
        "\nbindings: Python and Node packages built, installed and tested in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Built {
        python,
        node_package,
    })
}

fn python(dir: &Path, vectors: &Path, release: bool) -> Result<PathBuf, String> {
    let system_python = find_python()?;
    let tools = dir.join("tools");
    if !tools.join("bin/maturin").is_file() || !tools.join("bin/pytest").is_file() {
        let mut venv = Command::new(&system_python);
        venv.args(["-m", "venv", "--clear"]).arg(&tools);
        run_step("python: a venv for maturin and pytest", venv)?;
        let mut pip = Command::new(tools.join("bin/pip"));
        pip.args(["install", "--quiet", "--disable-pip-version-check"])
            .args(["maturin>=1.9,<2", "pytest>=7"]);
        run_step("python: install maturin and pytest (PyPI)", pip)?;
    }
    let wheels = dir.join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let mut build = Command::new(tools.join("bin/maturin"));
    build
        .args([
            "build",
            "--quiet",
            "--manifest-path",
            "crates/neux-python/Cargo.toml",
        ])
        .arg("--out")
        .arg(&wheels);
    if release {
        build.arg("--release");
    }
    run_step("python: build the wheel (maturin)", build)?;
    let wheel = only_file(&wheels, ".whl")?;
    println!("    wheel: {} ({} KiB)", wheel.display(), size_kib(&wheel));

    let fresh = dir.join("python-install");
    let mut venv = Command::new(&system_python);
    venv.args(["-m", "venv", "--clear"]).arg(&fresh);
    run_step("python: a fresh venv", venv)?;
    let mut install = Command::new(fresh.join("bin/pip"));
    install
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(&wheel)
        .arg("pytest>=7");
    run_step("python: install the wheel into it", install)?;
    let tests = std::fs::canonicalize("crates/neux-python/tests").map_err(|e| e.to_string())?;
    let mut pytest = Command::new(fresh.join("bin/python"));
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&tests)
        // From outside the source tree: `import neux` finds the installed wheel only.
        .current_dir(&fresh)
        .env("NEUX_VECTORS", vectors)
        .env("NEUX_EXPECT_INSTALLED", "1");
    run_step("python: pytest against the installed wheel", pytest)?;
    Ok(fresh.join("bin/python"))
}

fn node(dir: &Path, vectors: &Path, release: bool) -> Result<PathBuf, String> {
    check_node()?;
    let mut build = cargo();
    build.args(["build", "-p", "neux-node"]);
    if release {
        build.arg("--release");
    }
    run_step("node: build the addon", build)?;
    let profile = if release { "release" } else { "debug" };
    let addon = PathBuf::from(format!("target/{profile}/libneux_node.so"));
    let stage = dir.join("node-package");
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).map_err(|e| e.to_string())?;
    for file in ["package.json", "index.js", "index.d.ts"] {
        copy(&Path::new("crates/neux-node").join(file), &stage.join(file))?;
    }
    copy(&addon, &stage.join("neux.node"))?;
    let packs = dir.join("node-packs");
    let _ = std::fs::remove_dir_all(&packs);
    std::fs::create_dir_all(&packs).map_err(|e| e.to_string())?;
    let mut pack = Command::new("npm");
    pack.args(["pack", "--silent", "--pack-destination"])
        .arg(&packs)
        .current_dir(&stage);
    run_step("node: npm pack", pack)?;
    let tarball = only_file(&packs, ".tgz")?;
    println!(
        "    package: {} ({} KiB)",
        tarball.display(),
        size_kib(&tarball)
    );

    let fresh = dir.join("node-install");
    let _ = std::fs::remove_dir_all(&fresh);
    std::fs::create_dir_all(&fresh).map_err(|e| e.to_string())?;
    std::fs::write(
        fresh.join("package.json"),
        "{\"name\": \"neux-install-check\", \"private\": true}\n",
    )
    .map_err(|e| e.to_string())?;
    let mut install = Command::new("npm");
    install
        .args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--offline",
        ])
        .arg(&tarball)
        .current_dir(&fresh);
    run_step("node: install the tarball into a fresh folder", install)?;
    let package = fresh.join("node_modules/neux");
    let mut test = Command::new("node");
    test.arg("--test")
        .arg(
            std::fs::canonicalize("crates/neux-node/test/neux.test.mjs")
                .map_err(|e| e.to_string())?,
        )
        .current_dir(&fresh)
        .env("NEUX_PACKAGE", &package)
        .env("NEUX_VECTORS", vectors)
        .env("NEUX_EXPECT_INSTALLED", "1");
    run_step("node: node --test against the installed package", test)?;
    Ok(package)
}

/// The benchmarks of both packages (release builds), side by side with naive signers.
fn benchmark(built: &Built) -> Result<(), String> {
    let mut python = Command::new(&built.python);
    python.arg(
        std::fs::canonicalize("crates/neux-python/bench/bench_sign.py")
            .map_err(|e| e.to_string())?,
    );
    run_step("python: binding vs naive signer", python)?;
    let mut node = Command::new("node");
    node.arg(std::fs::canonicalize("crates/neux-node/bench/bench.mjs").map_err(|e| e.to_string())?)
        .env("NEUX_PACKAGE", &built.node_package);
    run_step("node: binding vs naive signer", node)
}

/// Python 3.9 or newer, with venv.
pub(crate) fn find_python() -> Result<PathBuf, String> {
    for candidate in ["python3", "python"] {
        let ok = Command::new(candidate)
            .args([
                "-c",
                "import sys, venv; sys.exit(0 if sys.version_info >= (3, 9) else 1)",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err("no Python 3.9 or newer with venv on PATH: install it (`sudo apt-get install python3 python3-venv` on Debian) for the Python binding's tests".to_owned())
}

/// Node.js 18 or newer, with npm.
pub(crate) fn check_node() -> Result<(), String> {
    let major = Command::new("node")
        .args(["-p", "process.versions.node.split('.')[0]"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u32>()
                .ok()
        });
    let npm = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match major {
        Some(m) if m >= 18 && npm => Ok(()),
        _ => Err("no Node.js 18 or newer with npm on PATH: install it (`sudo apt-get install nodejs npm` on Debian, or from nodejs.org) for the Node binding's tests".to_owned()),
    }
}

fn only_file(dir: &Path, suffix: &str) -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!(
            "{}: {n} files ending in {suffix}, not 1",
            dir.display()
        )),
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))
}

fn size_kib(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len() / 1024)
}
