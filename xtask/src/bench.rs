//! `cargo xtask bench [--quick]`: runs the benchmarks, then writes the comparison table to
//! `docs/benchmarks.md` (between its markers) and `target/neux-bench/summary.json`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};

use crate::{cargo, run_step};

const BEGIN: &str = "<!-- bench:begin (written by `cargo xtask bench`) -->";
const END: &str = "<!-- bench:end -->";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        other => return Err(format!("`bench` takes only --quick (got {other:?})")),
    };
    let started = Instant::now();

    let mut sign = cargo();
    sign.args(["bench", "-p", "neux-proto", "--bench", "sign", "--"]);
    if quick {
        sign.arg("--quick");
    }
    run_step("signing benchmarks (criterion)", sign)?;

    let mut e2e = cargo();
    e2e.args([
        "bench",
        "-p",
        "neux-oauth",
        "--features",
        "surf,redis",
        "--bench",
        "e2e",
        "--",
    ]);
    if quick {
        e2e.arg("--quick");
    }
    run_step("end-to-end benchmarks", e2e)?;

    // The metrics feature: a login with a Prometheus recorder against none, and the login
    // against hand-written calls again with the feature compiled in but no recorder, to set
    // beside the same ratio without it (above).
    let mut metrics = cargo();
    metrics
        .args([
            "bench",
            "-p",
            "neux-oauth",
            "--features",
            "surf,redis,metrics",
            "--bench",
            "e2e",
            "--",
        ])
        .env("NEUX_BENCH_ONLY", "login/loopback reqwest,metrics")
        .env("NEUX_BENCH_OUT", "e2e-metrics.json");
    if quick {
        metrics.arg("--quick");
    }
    run_step("end-to-end benchmarks, feature metrics", metrics)?;

    let mut sandbox = cargo();
    sandbox.args(["bench", "-p", "neux-sandbox", "--bench", "throughput", "--"]);
    if quick {
        sandbox.arg("--quick");
    }
    run_step("sandbox throughput", sandbox)?;

    let mut cases = Vec::new();
    let est = |group: &str, id: &str| {
        estimate(&format!("target/criterion/{group}/{id}/new/estimates.json"))
    };
    for (case, group, baseline) in [
        (
            "sign/token-request vs raw-sha256",
            "sign-token-request",
            "raw-sha256",
        ),
        ("sign/token-request vs naive", "sign-token-request", "naive"),
        (
            "sign/token-request (Params map) vs raw-sha256",
            "sign-token-request",
            "raw-sha256",
        ),
        ("sign/large vs raw-sha256", "sign-large", "raw-sha256"),
        (
            "sign/many-keys vs raw-sha256",
            "sign-many-keys",
            "raw-sha256",
        ),
        ("sign/many-keys vs naive", "sign-many-keys", "naive"),
    ] {
        let ours_id = if case.contains("Params map") {
            "ours-params"
        } else {
            "ours"
        };
        let (ours, base) = (est(group, ours_id)?, est(group, baseline)?);
        cases.push(json!({"name": case, "ours": ours, "baseline": base, "unit": "ns", "ratio": ours / base}));
    }
    for part in ["e2e", "e2e-metrics", "sandbox"] {
        let cases_of: Value = read_json(&format!("target/neux-bench/{part}.json"))?;
        cases.extend(cases_of["cases"].as_array().cloned().unwrap_or_default());
    }
    cases.extend(build_cost(quick)?);

    let machine = machine();
    let summary = json!({"machine": machine, "quick": quick, "cases": cases});
    fs::create_dir_all("target/neux-bench").map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    fs::write("target/neux-bench/summary.json", text).map_err(|e| e.to_string())?;
    write_markdown(&summary)?;
    println!(
        "\nbench: wrote docs/benchmarks.md and target/neux-bench/summary.json in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_json(path: &str) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// Criterion's mean estimate, in nanoseconds.
fn estimate(path: &str) -> Result<f64, String> {
    read_json(path)?["mean"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{path}: no mean.point_estimate"))
}

/// Crate counts (normal dependencies, the crate included) and clean release build times.
/// `--quick` times neux-proto only: a clean neux-oauth build (TLS included) takes minutes.
fn build_cost(quick: bool) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let crates: &[(&str, &[&str])] = if quick {
        &[("neux-proto", &[])]
    } else {
        &[("neux-proto", &[]), ("neux-oauth", &[])]
    };
    for (krate, extra) in crates {
        let count = crate_count(krate)?;
        let dir = format!("target/neux-bench/build-{krate}");
        let _ = fs::remove_dir_all(&dir);
        let mut build = cargo();
        build
            .args(["build", "--release", "-q", "-p", krate])
            .args(*extra)
            .env("CARGO_TARGET_DIR", &dir);
        let t = Instant::now();
        run_step(&format!("clean build of {krate}"), build)?;
        let secs = t.elapsed().as_secs_f64();
        let _ = fs::remove_dir_all(&dir);
        out.push(json!({"name": format!("build/{krate} (clean, release)"), "ours": secs, "baseline": null, "unit": "s", "ratio": null, "crates": count}));
    }
    if quick {
        out.push(json!({"name": "build/neux-oauth crates", "ours": crate_count("neux-oauth")?, "baseline": null, "unit": "crates", "ratio": null}));
    }
    Ok(out)
}

fn crate_count(krate: &str) -> Result<usize, String> {
    let out = cargo()
        .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none"])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches(" (*)"))
        .filter(|l| !l.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    Ok(names.len())
}

fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {rustc}")
}

fn fmt(v: &Value) -> String {
    match v.as_f64() {
        None => "-".into(),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
    }
}

/// Ratios to three places: a 3 % target needs them.
fn fmt3(v: &Value) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.3}"))
}

fn write_markdown(summary: &Value) -> Result<(), String> {
    let rounds = summary["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["rounds"].as_u64())
        .max()
        .unwrap_or(0);
    let full = format!("full ({rounds} interleaved rounds)");
    let mut table = format!(
        "{BEGIN}\n\nMachine: {}. Mode: {}.\n\n| case | ours | baseline | unit | ratio (median) | spread over rounds | target |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        summary["machine"].as_str().unwrap_or(""),
        if summary["quick"] == true {
            "`--quick`: coarse (5 rounds, small batches): it cannot tell 10 % from noise; run the full mode before quoting a ratio"
        } else {
            full.as_str()
        }
    );
    for c in summary["cases"].as_array().into_iter().flatten() {
        let mut unit = c["unit"].as_str().unwrap_or("").to_owned();
        if let Some(n) = c.get("crates").and_then(Value::as_u64) {
            unit.push_str(&format!(" ({n} crates)"));
        }
        if let Some(e) = c.get("errors").and_then(Value::as_u64) {
            unit.push_str(&format!(", {e} errors"));
            if let Some(p99) = c.get("p99_ms").and_then(Value::as_f64) {
                unit.push_str(&format!(", p99 {p99:.1} ms"));
            }
            if let Some(cpu) = c.get("client_cpu_us").and_then(Value::as_f64) {
                unit.push_str(&format!(", client CPU {cpu:.0} µs/login"));
            }
            unit.push_str(&format!(
                ", peak RSS {} KiB",
                c["peak_rss_kib"].as_u64().unwrap_or(0)
            ));
        }
        let spread = match c.get("spread").and_then(Value::as_array).map(Vec::as_slice) {
            Some([lo, hi]) => format!("{}-{}", fmt3(lo), fmt3(hi)),
            _ => "-".into(),
        };
        let target = match (c["target"].as_str(), c["verdict"].as_str()) {
            (Some(t), Some(v)) => format!("{t}: {v}"),
            _ => "-".into(),
        };
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {spread} | {target} |\n",
            c["name"].as_str().unwrap_or(""),
            fmt(&c["ours"]),
            fmt(&c["baseline"]),
            unit,
            fmt3(&c["ratio"])
        ));
    }
    table.push_str(&format!("\n{END}"));
    let path = Path::new("docs/benchmarks.md");
    let old =
        fs::read_to_string(path).unwrap_or_else(|_| format!("# Benchmarks\n\n{BEGIN}\n{END}\n"));
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{table}{}", &old[..a], &old[b + END.len()..]),
        _ => format!("{old}\n{table}\n"),
    };
    fs::write(path, new).map_err(|e| e.to_string())
}
