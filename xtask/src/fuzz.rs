//! `cargo xtask fuzz --secs N [TARGET ...]`: runs the cargo-fuzz targets in `fuzz/` (not in CI).
//!
//! cargo-fuzz needs nightly-only compiler flags (sanitizers). Where only a stable toolchain can
//! be had, `RUSTC_BOOTSTRAP=1` unlocks them; it is set for this command only.

use crate::run_step;

const TARGETS: &[&str] = &["params", "envelope", "sandbox_request"];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut secs: u64 = 60;
    let mut targets: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--secs takes a number of seconds")?;
            }
            t if TARGETS.contains(&t) => targets.push(t.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz argument {other:?}; targets: {TARGETS:?}"
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    if crate::cargo()
        .args(["fuzz", "--version"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Err("cargo-fuzz is not installed: cargo install --locked cargo-fuzz".into());
    }
    for target in &targets {
        let mut cmd = crate::cargo();
        cmd.current_dir("fuzz")
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "-O", target, "--"])
            .arg(format!("-max_total_time={secs}"))
            .arg("-print_final_stats=1");
        run_step(&format!("fuzz {target} for {secs} s"), cmd)?;
    }
    Ok(())
}
