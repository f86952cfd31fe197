//! Failovers on real servers while a fleet logs users in: a Sentinel-watched primary killed, a
//! Cluster primary killed, and a Cluster's manual failover. Four OS processes present every
//! code, paced, before, during and after; the sandbox's log counts what reached the platform.
//!
//! What holds, whatever the failover loses: a code's tokens reach one caller; a code reaches
//! the platform at most twice, and a second presentation is the platform's refusal, mapped to
//! `CodeAlreadyPresented { by: Platform }`; every other login fails closed with a typed error;
//! the ledger recovers by itself. The figures (codes presented twice, seconds of failed logins)
//! are printed and written in docs/deploying.md.
#![allow(clippy::print_stdout)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::support::*;
use neux_oauth::{AuthCode, Client, Error, RedisLedger, Scope, SeenBy};
use neux_sandbox::UserSpec;
use neux_testkit::{RedisCluster, RedisSentinelSet};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const PROCESSES: usize = 4;
const CODES: usize = 1_200;
/// One code every 8 ms per process: about 10 s of logins.
const PACE: Duration = Duration::from_millis(8);
/// When the failure is made, after the fleet starts.
const FAILURE_AT: Duration = Duration::from_millis(1_500);

/// One member of the fleet: presents every code in order, one every `PACE`, each in a task of
/// its own, and reports when it started and what it got.
async fn failover_member() {
    let var = |name: &str| std::env::var(name).unwrap();
    let codes: Vec<AuthCode> = std::fs::read_to_string(var("NEUX_FAILOVER_CODES"))
        .unwrap()
        .lines()
        .map(|c| AuthCode::new(c).unwrap())
        .collect();
    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(var("NEUX_FAILOVER_SANDBOX"))
        .timeout(Duration::from_secs(20))
        .code_ledger(
            RedisLedger::builder(var("NEUX_FAILOVER_LEDGER"))
                .timeout(Duration::from_secs(1))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    println!("NEUX ready");
    let mut go = String::new();
    BufReader::new(tokio::io::stdin())
        .read_line(&mut go)
        .await
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, code) in codes.into_iter().enumerate() {
        let client = client.clone();
        let at = start.elapsed().as_millis();
        tasks.push(tokio::spawn(async move {
            let outcome = match client.exchange_code(&code, &Scope::default()).await {
                Ok(tokens) => format!("ok:{}", tokens.access_token().fingerprint()),
                Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger }) => "ledger".to_owned(),
                Err(Error::CodeAlreadyPresented {
                    by: SeenBy::Platform { .. },
                }) => "platform".to_owned(),
                // Which failure, for the report: a timeout, or the start of the reason.
                Err(Error::Ledger(neux_oauth::LedgerError::Timeout { .. })) => {
                    "unavailable:timeout".to_owned()
                }
                Err(Error::Ledger(e)) => {
                    let text = e.to_string().replace(' ', "_");
                    let reason = text
                        .split_once("failed:_")
                        .map_or(text.as_str(), |(_, r)| r);
                    format!(
                        "unavailable:{}",
                        reason.chars().take(48).collect::<String>()
                    )
                }
                Err(e) => format!("error:{}", e.kind()),
            };
            (i, at, outcome)
        }));
        tokio::time::sleep(PACE).await;
    }
    for t in tasks {
        let (i, at, outcome) = t.await.unwrap();
        println!("NEUX {i} {at} {outcome}");
    }
}

/// What the fleet saw of one code.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// (ms after the start, outcome) for each process.
    outcomes: Vec<(u64, String)>,
}

/// Runs the fleet against `ledger_url`; `fail` makes the failure at `FAILURE_AT` and returns
/// how long the servers took to finish failing over.
async fn run(
    test: &str,
    ledger_url: &str,
    fail: impl FnOnce() -> Duration + Send + 'static,
) -> Vec<Seen> {
    let sb = sandbox().await;
    let codes: Vec<AuthCode> = (0..CODES)
        .map(|i| {
            mint(
                &sb,
                "user.info",
                UserSpec {
                    id: Some(format!("failover-user-{i}")),
                    ..Default::default()
                },
            )
        })
        .collect();
    let file = std::env::temp_dir().join(format!("neux-failover-codes-{}", std::process::id()));
    let text: Vec<&str> = codes.iter().map(AuthCode::expose_secret).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut members = Vec::new();
    for _ in 0..PROCESSES {
        let mut child = tokio::process::Command::new(&exe)
            .args(["--exact", test, "--nocapture", "--test-threads", "1"])
            .env("NEUX_FAILOVER_MEMBER", "1")
            .env("NEUX_FAILOVER_SANDBOX", sb.base_url())
            .env("NEUX_FAILOVER_LEDGER", ledger_url)
            .env("NEUX_FAILOVER_CODES", &file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.ends_with("NEUX ready") {
                break;
            }
        }
        members.push((child, lines));
    }
    for (child, _) in &mut members {
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"go\n")
            .await
            .unwrap();
    }
    let failure = tokio::task::spawn_blocking(move || {
        std::thread::sleep(FAILURE_AT);
        fail()
    });
    let mut seen = vec![Seen::default(); CODES];
    for (mut child, mut lines) in members {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Some(rest) = line.split_once("NEUX ").map(|(_, r)| r) else {
                continue;
            };
            let mut parts = rest.splitn(3, ' ');
            let i: usize = parts.next().unwrap().parse().unwrap();
            let at: u64 = parts.next().unwrap().parse().unwrap();
            seen[i]
                .outcomes
                .push((at, parts.next().unwrap().to_owned()));
        }
        assert!(child.wait().await.unwrap().success(), "a member failed");
    }
    let failover_took = failure.await.unwrap();
    let _ = std::fs::remove_file(&file);
    judge(&sb, &codes, &seen, failover_took);
    seen
}

/// Checks the promises and prints the figures.
fn judge(sb: &neux_sandbox::Sandbox, codes: &[AuthCode], seen: &[Seen], failover_took: Duration) {
    let mut tokens = HashSet::new();
    let (mut twice, mut failed_at) = (0, Vec::new());
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for (i, (code, s)) in codes.iter().zip(seen).enumerate() {
        assert_eq!(s.outcomes.len(), PROCESSES, "code {i}: {s:?}");
        let count = |o: &str| s.outcomes.iter().filter(|(_, x)| x == o).count();
        let ok: Vec<&String> = s
            .outcomes
            .iter()
            .map(|(_, o)| o)
            .filter(|o| o.starts_with("ok:"))
            .collect();
        let sent = presentations(sb, code);
        assert!(
            sent <= 2,
            "code {i} reached the platform {sent} times: {s:?}"
        );
        // The first presentation's caller has the tokens, and no one else.
        assert_eq!(
            ok.len(),
            usize::from(sent > 0),
            "code {i}: {sent} sent, {s:?}"
        );
        for t in ok {
            assert!(tokens.insert(t.clone()), "code {i}: tokens seen twice");
        }
        // A second presentation is always the platform's refusal, typed.
        assert_eq!(count("platform"), sent.saturating_sub(1), "code {i}: {s:?}");
        for (at, o) in &s.outcomes {
            assert!(
                o.starts_with("ok:")
                    || o.starts_with("unavailable:")
                    || ["ledger", "platform"].contains(&o.as_str()),
                "code {i}: an untyped failure {o} at {at} ms"
            );
            if let Some(reason) = o.strip_prefix("unavailable:") {
                failed_at.push(*at);
                *reasons.entry(reason.to_owned()).or_insert(0) += 1;
            }
        }
        twice += usize::from(sent == 2);
    }
    failed_at.sort_unstable();
    let window = match (failed_at.first(), failed_at.last()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
        _ => 0.0,
    };
    let last_failure = failed_at.last().copied().unwrap_or(0);
    // The ledger recovers by itself: every code started well after the last failure went
    // through once.
    let after: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.outcomes.iter().all(|(at, _)| *at > last_failure + 500))
        .collect();
    // When failures were, by second, and why: what a failed run needs to be understood.
    let mut by_second = std::collections::BTreeMap::<u64, usize>::new();
    for at in &failed_at {
        *by_second.entry(at / 1000).or_insert(0) += 1;
    }
    let report = format!(
        "servers took {failover_took:?}; failed logins by second {by_second:?}; reasons {reasons:?}"
    );
    assert!(
        after.len() >= 100,
        "only {} codes after the last failed login at {last_failure} ms: no sign of recovery ({report})",
        after.len()
    );
    println!("FAILOVER detail: {report}");
    println!(
        "FAILOVER: servers took {:.1} s; {} claims failed closed over {window:.1} s ({} to {} ms); \
         {twice} of {CODES} codes reached the platform twice (refused there); {} codes after recovery all fine",
        failover_took.as_secs_f64(),
        failed_at.len(),
        failed_at.first().copied().unwrap_or(0),
        last_failure,
        after.len(),
    );
}

fn test_name(name: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_under_a_fleets_logins() {
    if std::env::var_os("NEUX_FAILOVER_MEMBER").is_some() {
        return failover_member().await;
    }
    let set = std::sync::Arc::new(std::sync::Mutex::new(RedisSentinelSet::start()));
    let url = set.lock().unwrap().url();
    let s = set.clone();
    run(
        &test_name("a_sentinel_failover_under_a_fleets_logins"),
        &url,
        move || {
            let mut set = s.lock().unwrap();
            set.kill_primary();
            set.wait_for_failover(Duration::from_secs(30))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_primary_killed_under_a_fleets_logins() {
    if std::env::var_os("NEUX_FAILOVER_MEMBER").is_some() {
        return failover_member().await;
    }
    let cluster = std::sync::Arc::new(std::sync::Mutex::new(RedisCluster::start_with_replicas(
        1, 1_000,
    )));
    let url = cluster.lock().unwrap().url();
    let c = cluster.clone();
    run(
        &test_name("a_cluster_primary_killed_under_a_fleets_logins"),
        &url,
        move || {
            let mut cluster = c.lock().unwrap();
            let replica = cluster.replica_of(0).expect("primary 0 has a replica");
            cluster.kill(0);
            cluster.wait_until_primary(replica, Duration::from_secs(30))
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_cluster_failover_under_a_fleets_logins() {
    if std::env::var_os("NEUX_FAILOVER_MEMBER").is_some() {
        return failover_member().await;
    }
    let cluster = std::sync::Arc::new(std::sync::Mutex::new(RedisCluster::start_with_replicas(
        1, 1_000,
    )));
    let url = cluster.lock().unwrap().url();
    let c = cluster.clone();
    run(
        &test_name("a_manual_cluster_failover_under_a_fleets_logins"),
        &url,
        move || {
            let cluster = c.lock().unwrap();
            let replica = cluster.replica_of(0).expect("primary 0 has a replica");
            let started = Instant::now();
            let out = cluster.nodes()[replica].cli(&["CLUSTER", "FAILOVER"]);
            assert!(out.contains("OK"), "CLUSTER FAILOVER: {out}");
            cluster.wait_until_primary(replica, Duration::from_secs(30));
            started.elapsed()
        },
    )
    .await;
}
