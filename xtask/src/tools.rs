//! What `cargo xtask ci` needs besides Rust, checked before anything slow runs.
//!
//! The one behaviour: a missing tool is installed, then the check goes on. Cargo tools go
//! through `cargo install --locked` (into `CARGO_INSTALL_ROOT` or `~/.cargo`); system parts
//! (OpenSSL's headers for the surf runs, `redis-server` and `redis-sentinel` for the shared
//! ledger's tests, Chromium for the inspector's, Python and Node for the bindings') come from
//! the system's package manager (`apt-get`, as root). Where an install is impossible (no root, no
//! apt-get), the check stops at once and prints the exact command to run.

use std::process::{Command, Stdio};

use crate::{cargo, run_step};

/// A cargo subcommand the checks run, and the crate that provides it.
struct CargoTool {
    subcommand: &'static str,
    krate: &'static str,
    needed_for: &'static str,
}

const CARGO_TOOLS: &[CargoTool] = &[CargoTool {
    subcommand: "nextest",
    krate: "cargo-nextest",
    needed_for: "the test runs",
}];

/// Makes sure every tool is there, installing what is missing. The system packages (a
/// download, mostly) install on a thread of their own while cargo compiles its tools.
pub(crate) fn ensure() -> Result<(), String> {
    println!("\n==> tools");
    let system = std::thread::spawn(ensure_system_parts);
    let cargo_tools = CARGO_TOOLS.iter().try_for_each(ensure_cargo_tool);
    let system = system
        .join()
        .unwrap_or_else(|_| Err("the system packages' install panicked".to_owned()));
    cargo_tools.and(system)
}

/// Installs one cargo tool when missing: a debug build without debug info. A release build of
/// cargo-nextest took 316 s on a new 2-core machine, this one 136 s; the tool spends its time
/// waiting on the test processes, not in its own code.
fn ensure_cargo_tool(tool: &CargoTool) -> Result<(), String> {
    if has_cargo_subcommand(tool.subcommand) {
        println!("    cargo {}: found", tool.subcommand);
        return Ok(());
    }
    println!(
        "    cargo {} ({}) is missing, needed for {}: installing it",
        tool.subcommand, tool.krate, tool.needed_for
    );
    let mut install = cargo();
    install
        .args(["install", "--locked", "--debug", tool.krate])
        .env("CARGO_PROFILE_DEV_DEBUG", "false");
    run_step(&format!("install {}", tool.krate), install).map_err(|e| {
        format!(
            "{e}; install it yourself with `cargo install --locked {}`",
            tool.krate
        )
    })
}

fn has_cargo_subcommand(name: &str) -> bool {
    cargo()
        .args([name, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A part the checks need from the system's package manager.
struct SystemPart {
    /// What it is, for messages.
    name: &'static str,
    /// Debian's packages that provide it.
    packages: &'static [&'static str],
    /// The same for other systems, for the message when it cannot be installed here.
    elsewhere: &'static str,
    needed_for: &'static str,
    present: fn() -> bool,
}

const SYSTEM_PARTS: &[SystemPart] = &[
    SystemPart {
        name: "OpenSSL headers",
        packages: &["libssl-dev", "pkg-config"],
        elsewhere: "`sudo dnf install openssl-devel pkgconf` (Fedora), `brew install openssl pkg-config` (macOS)",
        needed_for: "the surf and native-TLS test runs",
        present: || {
            Command::new("pkg-config")
                .args(["--exists", "openssl"])
                .status()
                .is_ok_and(|s| s.success())
        },
    },
    SystemPart {
        name: "Redis 7 (redis-server, redis-cli, redis-sentinel)",
        packages: &["redis-server", "redis-sentinel"],
        elsewhere: "`sudo dnf install redis` (Fedora), `brew install redis` (macOS)",
        needed_for: "the shared code ledger's tests (single node, Cluster and Sentinel failovers), which start their own servers",
        present: || on_path("redis-server") && on_path("redis-cli") && on_path("redis-sentinel"),
    },
    SystemPart {
        name: "Chromium and ChromeDriver",
        packages: &["chromium", "chromium-driver"],
        elsewhere: "`sudo dnf install chromium chromedriver` (Fedora), `brew install --cask chromium chromedriver` (macOS)",
        needed_for: "the sandbox inspector's browser test",
        present: || on_path("chromium") && on_path("chromedriver"),
    },
    SystemPart {
        name: "Python 3.9+ with venv",
        packages: &["python3", "python3-venv"],
        elsewhere: "`sudo dnf install python3` (Fedora), `brew install python` (macOS)",
        needed_for: "the Python binding's build (maturin) and tests (pytest), in venvs of their own",
        present: || crate::bindings::find_python().is_ok(),
    },
    SystemPart {
        name: "Node.js 18+ with npm",
        packages: &["nodejs", "npm"],
        elsewhere: "`sudo dnf install nodejs npm` (Fedora), `brew install node` (macOS)",
        needed_for: "the Node binding's packing (npm pack) and tests (node --test)",
        present: || crate::bindings::check_node().is_ok(),
    },
];

pub(crate) fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Installs, with `apt-get` as root, every system part that is missing; otherwise stops with
/// the command to run.
fn ensure_system_parts() -> Result<(), String> {
    let missing: Vec<&SystemPart> = SYSTEM_PARTS.iter().filter(|p| !(p.present)()).collect();
    for part in SYSTEM_PARTS.iter().filter(|p| (p.present)()) {
        println!("    {} (for {}): found", part.name, part.needed_for);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing
        .iter()
        .flat_map(|p| p.packages.iter().copied())
        .collect();
    let apt = Command::new("apt-get")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if apt && is_root() {
        for part in &missing {
            println!(
                "    {} (for {}) is missing: installing {}",
                part.name,
                part.needed_for,
                part.packages.join(" ")
            );
        }
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run_step("apt-get update", update)?;
        let mut install = Command::new("apt-get");
        install
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&packages)
            // A package's own service must not start in CI: the tests start what they need.
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_step("install system packages", install)?;
        if missing.iter().all(|p| (p.present)()) {
            return Ok(());
        }
    }
    let others: Vec<String> = missing
        .iter()
        .map(|p| format!("{} for {}: {}", p.name, p.needed_for, p.elsewhere))
        .collect();
    Err(format!(
        "missing: {}; install and run again: `sudo apt-get install {}` (Debian, Ubuntu); {}",
        missing
            .iter()
            .map(|p| p.name)
            .collect::<Vec<_>>()
            .join(", "),
        packages.join(" "),
        others.join("; ")
    ))
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0")
}
