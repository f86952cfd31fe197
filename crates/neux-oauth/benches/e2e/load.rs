//! Logins under load: many in flight through one client, counted for throughput, latency,
//! errors, client CPU and memory.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use neux_oauth::{AuthCode, Client, Scope};
use serde_json::Value;

use crate::stats::{Pair, Sizes, case, client_cpu};

/// One login (or its hand-written equivalent); `true` when it succeeded.
pub type Login = Arc<dyn Fn(AuthCode) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// A whole login through `client`.
pub fn sdk_login(client: &Client) -> Login {
    let c = client.clone();
    Arc::new(move |code| {
        let c = c.clone();
        Box::pin(async move { c.login(&code, &Scope::default()).await.is_ok() })
    })
}

/// Any login function that always succeeds (the hand-written ones assert as they go).
pub fn login_fn<F, Fut>(f: F) -> Login
where
    F: Fn(AuthCode) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |code| {
        let f = f.clone();
        Box::pin(async move {
            f(code).await;
            true
        })
    })
}

pub struct LoadRun {
    pub rate: f64,
    /// Client CPU per login, microseconds.
    pub cpu: f64,
    pub errors: usize,
    pub p99_ms: f64,
}

/// Runs every code through `login`, `width` at a time: throughput, errors and p99 latency.
pub async fn load(login: &Login, codes: Vec<AuthCode>, width: usize) -> LoadRun {
    let total = codes.len();
    let queue = Arc::new(Mutex::new(codes));
    let (started, cpu) = (Instant::now(), client_cpu());
    let mut tasks = Vec::new();
    for _ in 0..width {
        let (f, q) = (login.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let (mut errors, mut latencies) = (0usize, Vec::new());
            loop {
                let Some(code) = q.lock().expect("the queue").pop() else {
                    break;
                };
                let t = Instant::now();
                if !f(code).await {
                    errors += 1;
                }
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
            }
            (errors, latencies)
        }));
    }
    let (mut errors, mut latencies) = (0, Vec::with_capacity(total));
    for t in tasks {
        let (e, l) = t.await.expect("a load task");
        errors += e;
        latencies.extend(l);
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let cpu = (client_cpu() - cpu).as_secs_f64() * 1e6 / total as f64;
    latencies.sort_by(|a, b| a.total_cmp(b));
    let p99_ms = latencies
        .get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0);
    LoadRun {
        rate,
        cpu,
        errors,
        p99_ms,
    }
}

/// 64 logins in flight through `ours` against `baseline`, interleaved batch by batch over the
/// rounds: the throughput comparison (higher is better, with `target`) and the client CPU rows.
pub async fn wide(
    name: &str,
    s: &Sizes,
    codes: impl Fn(usize) -> Vec<AuthCode>,
    ours: &Login,
    baseline: &Login,
    target: f64,
) -> [Value; 2] {
    let (mut o, mut b, mut errors) = (Vec::new(), Vec::new(), 0);
    let (mut o_cpu, mut b_cpu) = (Vec::new(), Vec::new());
    for round in 0..s.rounds {
        let (codes_o, codes_b) = (codes(s.batch), codes(s.batch));
        let order: [(&Login, Vec<AuthCode>, bool); 2] = if round % 2 == 0 {
            [(ours, codes_o, true), (baseline, codes_b, false)]
        } else {
            [(baseline, codes_b, false), (ours, codes_o, true)]
        };
        for (f, codes, is_ours) in order {
            let run = load(f, codes, 64).await;
            if is_ours {
                errors += run.errors;
                o.push(run.rate);
                o_cpu.push(run.cpu);
            } else {
                b.push(run.rate);
                b_cpu.push(run.cpu);
            }
        }
    }
    let mut c = case(name, "logins/s", &Pair::new(o, b), Some((target, false)));
    c["errors"] = errors.into();
    c["peak_rss_kib"] = peak_rss_kib().unwrap_or(0).into();
    [
        c,
        case(
            &format!("{name} (client CPU)"),
            "CPU µs/login",
            &Pair::new(o_cpu, b_cpu),
            None,
        ),
    ]
}

pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
