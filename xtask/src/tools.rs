//! What `cargo xtask ci` needs besides Rust, checked before anything slow runs.
//!
//! The one behaviour: a missing tool is installed, then the check goes on. Cargo tools go
//! through `cargo install --locked` (into `CARGO_INSTALL_ROOT` or `~/.cargo`); OpenSSL's headers,
//! which only the surf transport's test runs need, come from the system's package manager
//! (`apt-get`, as root). Where an install is impossible (no root, no apt-get), the check stops at
//! once and prints the exact command to run.

use std::process::{Command, Stdio};

use crate::{cargo, run_step};

/// A cargo subcommand the checks run, and the crate that provides it.
struct CargoTool {
    subcommand: &'static str,
    krate: &'static str,
    needed_for: &'static str,
}

const CARGO_TOOLS: &[CargoTool] = &[
    CargoTool {
        subcommand: "nextest",
        krate: "cargo-nextest",
        needed_for: "the test runs",
    },
    CargoTool {
        subcommand: "audit",
        krate: "cargo-audit",
        needed_for: "the advisory check",
    },
];

/// Makes sure every tool is there, installing what is missing.
pub(crate) fn ensure(audit_wanted: bool) -> Result<(), String> {
    println!("\n==> tools");
    for tool in CARGO_TOOLS {
        if tool.subcommand == "audit" && !audit_wanted {
            continue;
        }
        if has_cargo_subcommand(tool.subcommand) {
            println!("    cargo {}: found", tool.subcommand);
            continue;
        }
        println!(
            "    cargo {} ({}) is missing, needed for {}: installing it",
            tool.subcommand, tool.krate, tool.needed_for
        );
        let mut install = cargo();
        install.args(["install", "--locked", tool.krate]);
        run_step(&format!("install {}", tool.krate), install).map_err(|e| {
            format!(
                "{e}; install it yourself with `cargo install --locked {}`",
                tool.krate
            )
        })?;
    }
    ensure_openssl_headers()
}

fn has_cargo_subcommand(name: &str) -> bool {
    cargo()
        .args([name, "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn openssl_found() -> bool {
    Command::new("pkg-config")
        .args(["--exists", "openssl"])
        .status()
        .is_ok_and(|s| s.success())
}

/// The surf transport builds native TLS against OpenSSL: its headers and pkg-config are needed
/// for the test runs with the `surf` feature (the default build needs neither).
fn ensure_openssl_headers() -> Result<(), String> {
    if openssl_found() {
        println!("    OpenSSL headers (for the surf runs): found");
        return Ok(());
    }
    const PACKAGES: &str = "libssl-dev pkg-config";
    let apt = Command::new("apt-get")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if apt && is_root() {
        println!("    OpenSSL headers (for the surf runs) are missing: installing {PACKAGES}");
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run_step("apt-get update", update)?;
        let mut install = Command::new("apt-get");
        install.args(["install", "-y", "-qq", "libssl-dev", "pkg-config"]);
        run_step("install OpenSSL headers", install)?;
        if openssl_found() {
            return Ok(());
        }
    }
    Err(format!(
        "the surf transport's tests need OpenSSL's headers and pkg-config, which are missing; \
         install them and run again: `sudo apt-get install {PACKAGES}` (Debian, Ubuntu), \
         `sudo dnf install openssl-devel pkgconf` (Fedora), `brew install openssl pkg-config` (macOS)"
    ))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0")
}
