//! The advisory check: cargo-audit's engine (the `rustsec` crate) run in-process on the offline
//! RustSec database, with cargo-audit's policy file (`.cargo/audit.toml`) and its `--deny
//! warnings` rule: a vulnerability, or an unmaintained, unsound or notice advisory, fails it,
//! unless the policy file ignores it by id. Building cargo-audit from source on a new machine
//! took 418 s of a CI run; the engine builds with xtask in about 15 s. `cargo audit --db DB
//! --no-fetch --deny warnings` reads the same files and agrees.

use std::path::Path;
use std::time::Instant;

use rustsec::advisory::{Id, Informational};
use rustsec::report::{Report, Settings};
use rustsec::{Database, Lockfile};
use serde::Deserialize;

/// `.cargo/audit.toml`, the part this check reads.
#[derive(Debug, Default, Deserialize)]
struct Policy {
    #[serde(default)]
    advisories: Advisories,
}

#[derive(Debug, Default, Deserialize)]
struct Advisories {
    #[serde(default)]
    ignore: Vec<Id>,
}

/// What the check found: one line per finding (empty when clean), and the ignores that
/// matched nothing (an ignore whose reason is gone should go too).
#[derive(Debug)]
pub(crate) struct Findings {
    pub problems: Vec<String>,
    pub stale_ignores: Vec<String>,
    pub advisories: usize,
    pub packages: usize,
}

/// Checks `lockfile` against the database at `db` with the policy at `policy` (which may be
/// absent).
pub(crate) fn check(db: &Path, lockfile: &Path, policy: &Path) -> Result<Findings, String> {
    let database = Database::open(db).map_err(|e| {
        format!(
            "audit: cannot read the advisory database {}: {e}",
            db.display()
        )
    })?;
    let lock = Lockfile::load(lockfile)
        .map_err(|e| format!("audit: cannot read {}: {e}", lockfile.display()))?;
    let policy: Policy = match std::fs::read_to_string(policy) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            format!(
                "audit: {} is not a cargo-audit policy: {e}",
                policy.display()
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Policy::default(),
        Err(e) => return Err(format!("audit: {}: {e}", policy.display())),
    };
    let everything = Settings {
        informational_warnings: vec![
            Informational::Unmaintained,
            Informational::Unsound,
            Informational::Notice,
        ],
        ..Settings::default()
    };
    let unfiltered = Report::generate(&database, &lock, &everything);
    let settings = Settings {
        ignore: policy.advisories.ignore.clone(),
        ..everything
    };
    let report = Report::generate(&database, &lock, &settings);
    let mut problems: Vec<String> = report
        .vulnerabilities
        .list
        .iter()
        .map(|v| {
            format!(
                "{} {} {}: vulnerability: {}",
                v.advisory.id, v.package.name, v.package.version, v.advisory.title
            )
        })
        .collect();
    for (kind, warnings) in &report.warnings {
        for w in warnings {
            let (id, title) = w
                .advisory
                .as_ref()
                .map_or(("-".to_owned(), String::new()), |a| {
                    (a.id.to_string(), a.title.clone())
                });
            problems.push(format!(
                "{id} {} {}: {kind:?}: {title}",
                w.package.name, w.package.version
            ));
        }
    }
    let matched: Vec<&Id> = unfiltered
        .vulnerabilities
        .list
        .iter()
        .map(|v| &v.advisory.id)
        .chain(
            unfiltered
                .warnings
                .values()
                .flatten()
                .filter_map(|w| w.advisory.as_ref().map(|a| &a.id)),
        )
        .collect();
    let stale_ignores = policy
        .advisories
        .ignore
        .iter()
        .filter(|id| !matched.contains(id))
        .map(ToString::to_string)
        .collect();
    Ok(Findings {
        problems,
        stale_ignores,
        advisories: database.iter().count(),
        packages: lock.packages.len(),
    })
}

/// The CI step: fails on any finding, names the stale ignores without failing.
pub(crate) fn run(db: &Path) -> Result<(), String> {
    println!(
        "\n==> audit (RustSec database {}, Cargo.lock, .cargo/audit.toml)",
        db.display()
    );
    let started = Instant::now();
    let found = check(db, Path::new("Cargo.lock"), Path::new(".cargo/audit.toml"))?;
    for p in &found.problems {
        println!("    {p}");
    }
    for id in &found.stale_ignores {
        println!("    note: .cargo/audit.toml ignores {id}, which no longer matches a package");
    }
    println!(
        "    {} advisories, {} packages: {} finding(s) ({:.1} s)",
        found.advisories,
        found.packages,
        found.problems.len(),
        started.elapsed().as_secs_f64()
    );
    if found.problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "audit: {} advisory finding(s); update the crate, or ignore the advisory in .cargo/audit.toml with the reason beside it",
            found.problems.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"version = 4

[[package]]
name = "demo"
version = "0.1.0"
dependencies = ["leaky", "old"]

[[package]]
name = "leaky"
version = "1.2.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000000"

[[package]]
name = "old"
version = "0.3.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    fn advisory(id: &str, package: &str, extra: &str, patched: &str) -> String {
        format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2026-01-01\"\n{extra}\n[versions]\npatched = [{patched}]\n```\n\n# {package} has a problem\n\nA test advisory.\n"
        )
    }

    /// A database with a vulnerability in `leaky` < 1.2.1 and `old` unmaintained; a lockfile
    /// with both.
    fn fixture(policy: &str) -> (std::path::PathBuf, Findings) {
        let dir = std::env::temp_dir().join(format!(
            "xtask-audit-{}-{}",
            std::process::id(),
            policy.len()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let db = dir.join("db");
        for (package, text) in [
            (
                "leaky",
                advisory("RUSTSEC-2026-9001", "leaky", "", "\">= 1.2.1\""),
            ),
            (
                "old",
                advisory(
                    "RUSTSEC-2026-9002",
                    "old",
                    "informational = \"unmaintained\"",
                    "",
                ),
            ),
            ("unused", advisory("RUSTSEC-2026-9003", "unused", "", "")),
        ] {
            let crate_dir = db.join("crates").join(package);
            std::fs::create_dir_all(&crate_dir).unwrap();
            let id = text.split('"').nth(1).unwrap().to_owned();
            std::fs::write(crate_dir.join(format!("{id}.md")), text).unwrap();
        }
        std::fs::write(dir.join("Cargo.lock"), LOCK).unwrap();
        std::fs::write(dir.join("audit.toml"), policy).unwrap();
        let found = check(&db, &dir.join("Cargo.lock"), &dir.join("audit.toml")).unwrap();
        (dir, found)
    }

    #[test]
    fn a_vulnerability_and_an_unmaintained_crate_are_findings() {
        let (dir, found) = fixture("");
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
        assert!(found.problems[0].starts_with("RUSTSEC-2026-9001 leaky 1.2.0: vulnerability"));
        assert!(found.problems[1].starts_with("RUSTSEC-2026-9002 old 0.3.0: Unmaintained"));
        assert_eq!((found.advisories, found.packages), (3, 3));
    }

    #[test]
    fn the_policy_ignores_by_id_and_names_stale_ignores() {
        let (dir, found) = fixture(
            "[advisories]\nignore = [\"RUSTSEC-2026-9002\", \"RUSTSEC-2026-9003\"] # reasons\n",
        );
        let _ = std::fs::remove_dir_all(dir);
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(found.problems[0].contains("leaky"));
        assert_eq!(found.stale_ignores, ["RUSTSEC-2026-9003"]);
    }
}
