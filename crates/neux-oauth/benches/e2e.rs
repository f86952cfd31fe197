//! End-to-end figures over 127.0.0.1 against the in-process sandbox, each next to a baseline
//! measured in the same run, so machine noise hits both alike:
//!
//! - `login/loopback`: one whole login (token + user info) through the SDK, against the same two
//!   requests written by hand with plain reqwest (and plain surf). The two sides alternate login
//!   by login; each round reports wall time and the client's CPU time (trimmed means).
//! - `call/loopback`: one generic signed call (`Client::call`) against the same call by hand.
//! - `login/concurrent`: 64 logins in flight through one shared client, against the same load
//!   written by hand (reqwest, surf), interleaved batch by batch over the rounds.
//! - `login/scaling`: 64, 256 and 1,024 in flight through one client: throughput, p99, errors.
//! - `sandbox/throughput`: token exchanges per second, against a bare axum handler answering a
//!   fixed envelope.
//!
//! Every ratio comes with its spread over the rounds (min-max) and, where the project has one,
//! its target and whether the whole spread clears it.
//!
//! Layout: the sandbox runs on its own runtime and threads ("sandbox"); the client side of every
//! case runs on the main thread (a current-thread runtime), whose CPU clock is the client's CPU.
//!
//! Writes `target/neux-bench/e2e.json`; `cargo xtask bench` folds it into the summary.
//! `--quick` (or `NEUX_BENCH_QUICK=1`) runs smaller counts. `NEUX_BENCH_PROFILE` runs one side
//! alone for a profiler (see `run`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use neux_oauth::{ApiCall, AuthCode, Client, Dialect, Params, Scope};
use neux_proto::{AppSecret, ClientId, Timestamp, TokenRequest};
use neux_sandbox::Sandbox;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const APP: &str = "bench-app";
const SECRET: &str = "bench-secret";

struct Sizes {
    rounds: usize,
    per_round: usize,
    /// Logins per side per round of the 64-wide comparison.
    batch: usize,
    /// Logins per width of the scaling case.
    scaling_total: usize,
    throughput_total: usize,
}

fn sizes() -> Sizes {
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("NEUX_BENCH_QUICK").is_some();
    if quick {
        Sizes {
            rounds: 5,
            per_round: 40,
            batch: 256,
            scaling_total: 2000,
            throughput_total: 4000,
        }
    } else {
        Sizes {
            rounds: 31,
            per_round: 300,
            // Long enough (a quarter to a whole second) that a slow patch of the machine does
            // not decide a round alone.
            batch: 2048,
            scaling_total: 10_000,
            throughput_total: 20000,
        }
    }
}

fn mint_many(sb: &Sandbox, n: usize) -> Vec<AuthCode> {
    let id = ClientId::new(APP).unwrap();
    (0..n)
        .map(|_| {
            sb.mint_code(&id, Scope::default(), Default::default())
                .unwrap()
                .code
        })
        .collect()
}

/// The token body as a user writes it by hand: sorted map, `format!`, `hex::encode`.
fn handwritten_body(code: &str) -> Value {
    let ts = now_ms();
    let ts_text = ts.to_string();
    let mut map = BTreeMap::new();
    for (k, v) in [
        ("clientId", APP),
        ("code", code),
        ("grantType", "authorization_code"),
        ("scope", "user.info"),
        ("timestamp", ts_text.as_str()),
        ("secret", SECRET),
    ] {
        map.insert(k.to_owned(), v.to_owned());
    }
    let canonical: String = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let sign = hex::encode(Sha256::digest(canonical.as_bytes()));
    json!({"clientId": APP, "code": code, "grantType": "authorization_code", "scope": "user.info", "timestamp": ts, "sign": sign})
}

const CALL_PATH: &str = "/neuopenapi/sandbox/bench/order";

fn call_params() -> Params {
    Params::new()
        .with("outTradeNo", "order-0001")
        .and_then(|p| p.with("amount", 100))
        .and_then(|p| p.with("openId", "o-1"))
        .unwrap()
}

/// The generic call as a user writes it by hand with reqwest: sorted map, `format!`, SHA-256,
/// a JSON body, the envelope's status checked.
async fn handwritten_call(http: &reqwest::Client, base: &str) -> Value {
    let ts = now_ms();
    let mut map = BTreeMap::new();
    map.insert("amount", "100".to_owned());
    map.insert("clientId", APP.to_owned());
    map.insert("openId", "o-1".to_owned());
    map.insert("outTradeNo", "order-0001".to_owned());
    map.insert("secret", SECRET.to_owned());
    map.insert("timestamp", ts.to_string());
    let canonical: String = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let sign = hex::encode(Sha256::digest(canonical.as_bytes()));
    let body = json!({"amount": 100, "clientId": APP, "openId": "o-1", "outTradeNo": "order-0001", "timestamp": ts, "sign": sign});
    let answer: Value = http
        .post(format!("{base}{CALL_PATH}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["responseHeader"]["status"], 200, "{answer}");
    answer["response"].clone()
}

/// One login (or its hand-written equivalent); `true` when it succeeded.
type Login = Arc<dyn Fn(AuthCode) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// A whole login through `client`.
fn sdk_login(client: &Client) -> Login {
    let c = client.clone();
    Arc::new(move |code| {
        let c = c.clone();
        Box::pin(async move { c.login(&code, &Scope::default()).await.is_ok() })
    })
}

struct LoadRun {
    rate: f64,
    /// Client CPU per login, microseconds.
    cpu: f64,
    errors: usize,
    p99_ms: f64,
}

/// Runs every code through `login`, `width` at a time: throughput, errors and p99 latency.
async fn load(login: &Login, codes: Vec<AuthCode>, width: usize) -> LoadRun {
    let total = codes.len();
    let queue = Arc::new(std::sync::Mutex::new(codes));
    let (started, cpu) = (Instant::now(), client_cpu());
    let mut tasks = Vec::new();
    for _ in 0..width {
        let (f, q) = (login.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let (mut errors, mut latencies) = (0usize, Vec::new());
            loop {
                let Some(code) = q.lock().unwrap().pop() else {
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
        let (e, l) = t.await.unwrap();
        errors += e;
        latencies.extend(l);
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let cpu = (client_cpu() - cpu).as_secs_f64() * 1e6 / total as f64;
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
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

/// The two calls with plain reqwest.
async fn handwritten_reqwest(http: &reqwest::Client, base: &str, code: &str) -> Value {
    let body = handwritten_body(code);
    let token: Value = http
        .post(format!("{base}/neuopenapi/oauth/mini/accessToken"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["response"]["accessToken"].as_str().expect("token");
    let user: Value = http
        .get(format!(
            "{base}/neuopenapi/oauth/mini/user/info?accessToken={}",
            form_urlencoded_byte(access)
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["responseHeader"]["status"], 200);
    user
}

/// The two calls with plain surf.
async fn handwritten_surf(http: &surf::Client, base: &str, code: &str) -> Value {
    let body = handwritten_body(code);
    let mut res = http
        .post(format!("{base}/neuopenapi/oauth/mini/accessToken"))
        .body_json(&body)
        .unwrap()
        .await
        .unwrap();
    let token: Value = res.body_json().await.unwrap();
    let access = token["response"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut res = http
        .get(format!(
            "{base}/neuopenapi/oauth/mini/user/info?accessToken={}",
            form_urlencoded_byte(&access)
        ))
        .await
        .unwrap();
    let user: Value = res.body_json().await.unwrap();
    assert_eq!(user["responseHeader"]["status"], 200);
    user
}

fn form_urlencoded_byte(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn now_ms() -> u64 {
    Timestamp::from_system_time(std::time::SystemTime::now()).as_millis()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// One side-by-side figure: the medians of each side and every round's ratio.
struct Pair {
    ours: f64,
    baseline: f64,
    /// ours / baseline, one per round.
    ratios: Vec<f64>,
}

impl Pair {
    fn new(o: Vec<f64>, b: Vec<f64>) -> Self {
        let ratios = o.iter().zip(&b).map(|(o, b)| o / b).collect();
        Self {
            ours: median(o),
            baseline: median(b),
            ratios,
        }
    }
}

/// CPU time this thread has used. The client side of every comparison runs on this one thread
/// (a current-thread runtime; the sandbox has its own runtime and threads), so the difference
/// over a round is the client's CPU alone, system calls included: what a login costs the
/// application, free of the scheduling noise that moves wall time on a shared machine.
fn client_cpu() -> Duration {
    // Under valgrind (callgrind profiles of NEUX_BENCH_PROFILE) rustix cannot find the vDSO and
    // faults; instruction counts are the measure there anyway.
    static UNDER_VALGRIND: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("LD_PRELOAD").is_ok_and(|p| p.contains("vgpreload"))
    });
    if *UNDER_VALGRIND {
        return Duration::ZERO;
    }
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Wall time and client CPU, in microseconds.
#[derive(Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

impl Cost {
    /// A round's typical cost: the mean of each measure with its lowest and highest tenth left
    /// out. Login times on a shared machine have a long tail (a 10 ms stall of the host lands
    /// on one login of one side and would move a plain mean by 20 %); trimming both ends
    /// alike keeps the body of the distribution, where a cost of the code shows.
    fn trimmed_mean(costs: Vec<Cost>) -> Cost {
        Cost {
            wall: trimmed(costs.iter().map(|c| c.wall).collect()),
            cpu: trimmed(costs.iter().map(|c| c.cpu).collect()),
        }
    }
}

fn trimmed(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let cut = v.len() / 10;
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// A case of the summary, with the median ratio, its spread over the rounds (min-max), and
/// whether the spread clears `target` (`at_most`: lower is better).
fn case(name: &str, unit: &str, p: &Pair, target: Option<(f64, bool)>) -> Value {
    let ratio = median(p.ratios.clone());
    let (lo, hi) = p
        .ratios
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    let verdict = target.map(|(t, at_most)| {
        let (worst, best) = if at_most { (hi, lo) } else { (lo, hi) };
        let meets = |r: f64| if at_most { r <= t } else { r >= t };
        if meets(worst) {
            "met"
        } else if !meets(best) {
            "missed"
        } else if meets(ratio) {
            "median met, spread crosses target"
        } else {
            "median missed, spread crosses target"
        }
    });
    println!(
        "{name}: ours {:.1}, baseline {:.1} {unit}; ratio {ratio:.3} (rounds {lo:.3}-{hi:.3}){}",
        p.ours,
        p.baseline,
        verdict.map(|v| format!("; target {v}")).unwrap_or_default()
    );
    json!({
        "name": name, "ours": p.ours, "baseline": p.baseline, "unit": unit, "ratio": ratio,
        "spread": [lo, hi], "rounds": p.ratios.len(),
        "target": target.map(|(t, at_most)| format!("{} {t}", if at_most { "<=" } else { ">=" })),
        "verdict": verdict,
    })
}

/// Times `per_round` sequential logins of each side per round, alternating the sides login by
/// login (and which goes first), so a slow patch of the machine, which lasts from milliseconds to
/// seconds, falls on both sides alike; returns the wall-time and client-CPU comparisons
/// (microseconds per login, one ratio per round).
async fn interleaved<FO, FB, O, B>(
    sb: &Sandbox,
    s: &Sizes,
    mut ours: FO,
    mut baseline: FB,
) -> (Pair, Pair)
where
    FO: FnMut(AuthCode) -> O,
    FB: FnMut(AuthCode) -> B,
    O: std::future::Future<Output = ()>,
    B: std::future::Future<Output = ()>,
{
    // Warm both connection pools.
    for code in mint_many(sb, 5) {
        ours(code).await;
    }
    for code in mint_many(sb, 5) {
        baseline(code).await;
    }
    let (mut o, mut b) = (Vec::new(), Vec::new());
    for round in 0..s.rounds {
        let codes = mint_many(sb, s.per_round * 2);
        let (mut co, mut cb) = (Vec::new(), Vec::new());
        for (i, pair) in codes.chunks_exact(2).enumerate() {
            let (a, z) = (pair[0].clone(), pair[1].clone());
            if (round + i) % 2 == 0 {
                co.push(timed(ours(a)).await);
                cb.push(timed(baseline(z)).await);
            } else {
                cb.push(timed(baseline(a)).await);
                co.push(timed(ours(z)).await);
            }
        }
        o.push(Cost::trimmed_mean(co));
        b.push(Cost::trimmed_mean(cb));
    }
    let wall = Pair::new(
        o.iter().map(|c| c.wall).collect(),
        b.iter().map(|c| c.wall).collect(),
    );
    let cpu = Pair::new(
        o.iter().map(|c| c.cpu).collect(),
        b.iter().map(|c| c.cpu).collect(),
    );
    (wall, cpu)
}

/// The wall time and client CPU of one future, in microseconds.
async fn timed(f: impl Future<Output = ()>) -> Cost {
    let (t, cpu) = (Instant::now(), client_cpu());
    f.await;
    Cost {
        cpu: (client_cpu() - cpu).as_secs_f64() * 1e6,
        wall: t.elapsed().as_secs_f64() * 1e6,
    }
}

/// SDK logins through `client` against hand-written logins with the plain surf client `http`.
async fn vs_surf(
    sb: &Sandbox,
    s: &Sizes,
    client: &Client,
    http: &surf::Client,
    base: &str,
) -> (Pair, Pair) {
    interleaved(
        sb,
        s,
        |code| {
            let c = client.clone();
            async move {
                c.login(&code, &Scope::default()).await.unwrap();
            }
        },
        |code| {
            let (h, base) = (http.clone(), base.to_owned());
            async move {
                handwritten_surf(&h, &base, code.expose_secret()).await;
            }
        },
    )
    .await
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn throughput(base: &str, bodies: Vec<Vec<u8>>, concurrency: usize) -> (f64, usize) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let url = format!("{base}/neuopenapi/oauth/mini/accessToken");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, queue, url) = (http.clone(), queue.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut n) = (0usize, 0usize);
            loop {
                let Some(body) = queue.lock().unwrap().pop() else {
                    break;
                };
                n += 1;
                let res = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok_answer = match res {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["responseHeader"]["status"] == 200),
                    Err(_) => false,
                };
                ok += usize::from(ok_answer);
            }
            (ok, n)
        }));
    }
    let (mut ok, mut n) = (0, 0);
    for t in tasks {
        let (a, b) = t.await.unwrap();
        ok += a;
        n += b;
    }
    (n as f64 / started.elapsed().as_secs_f64(), n - ok)
}

fn main() {
    // The sandbox gets its own runtime and threads (two workers: under load it still shares
    // both cores with the client, so client CPU shows in throughput); the client side of every
    // case runs on this thread alone, so `client_cpu` counts the client and nothing else.
    let sandbox_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sandbox")
        .enable_all()
        .build()
        .unwrap();
    let sb = sandbox_rt
        .block_on(Sandbox::builder().app(APP, SECRET).start())
        .unwrap();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(run(&sandbox_rt, &sb));
}

/// The rows of one sequential comparison: wall time, then the client's CPU.
fn sequential_cases(name: &str, unit: &str, (wall, cpu): &(Pair, Pair), target: f64) -> [Value; 2] {
    [
        case(name, unit, wall, Some((target, true))),
        case(
            &format!("{name} (client CPU)"),
            &format!("CPU {unit}"),
            cpu,
            Some((target, true)),
        ),
    ]
}

async fn run(sandbox_rt: &tokio::runtime::Runtime, sb: &Sandbox) {
    let s = sizes();
    let mut cases = Vec::new();
    let base = sb.base_url().to_owned();

    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(&base)
        .build()
        .unwrap();
    // Configured as ReqwestTransport is by default: no proxy for loopback, no redirects, a 10 s
    // exchange timeout and a 5 s connect timeout (a timer per request, which a production
    // client by hand pays too).
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    // Ours over surf: one connection per exchange, see neux-transport's docs.
    let surf_client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(&base)
        .transport(neux_oauth::SurfTransport::new(Default::default()).unwrap())
        .build()
        .unwrap();
    let plain_surf = surf::Client::new();
    // Configured like SurfTransport: no keep-alive (see neux-transport's docs), TCP_NODELAY on
    // (surf's default leaves Nagle's algorithm on: ~40 ms stalls per request on loopback), a
    // 10 s deadline on the exchange.
    let no_pool_surf: surf::Client = surf::Config::new()
        .set_http_keep_alive(false)
        .set_tcp_no_delay(true)
        .set_timeout(Some(Duration::from_secs(10)))
        .try_into()
        .unwrap();
    // One login per side, for the concurrent cases and the profiling aid.
    let ours = sdk_login(&client);
    let ours_surf = sdk_login(&surf_client);
    let by_hand_reqwest: Login = {
        let (h, base) = (http.clone(), base.clone());
        Arc::new(move |code| {
            let (h, base) = (h.clone(), base.clone());
            Box::pin(async move {
                handwritten_reqwest(&h, &base, code.expose_secret()).await;
                true
            })
        })
    };
    let by_hand_surf: Login = {
        let (h, base) = (no_pool_surf.clone(), base.clone());
        Arc::new(move |code| {
            let (h, base) = (h.clone(), base.clone());
            Box::pin(async move {
                handwritten_surf(&h, &base, code.expose_secret()).await;
                true
            })
        })
    };
    // Profiling aid: `NEUX_BENCH_PROFILE=SIDE[:WIDTH[:COUNT]]` (SIDE: ours, hand, ours-surf,
    // hand-surf; WIDTH: logins in flight, 64 by default; COUNT: 20,000 by default) runs that
    // side alone, so `perf record` or callgrind sees one side (the client runs on the main
    // thread; the sandbox's threads are named "sandbox").
    if let Ok(spec) = std::env::var("NEUX_BENCH_PROFILE") {
        let mut parts = spec.split(':');
        let side = parts.next().unwrap_or_default();
        let mut number = |default: usize| {
            parts.next().map_or(default, |n| {
                n.parse()
                    .expect("NEUX_BENCH_PROFILE: WIDTH and COUNT are numbers")
            })
        };
        let (width, count) = (number(64), number(20_000));
        let f = match side {
            "ours" => &ours,
            "hand" => &by_hand_reqwest,
            "ours-surf" => &ours_surf,
            "hand-surf" => &by_hand_surf,
            other => panic!("NEUX_BENCH_PROFILE: unknown side {other}"),
        };
        let run = load(f, mint_many(sb, count), width).await;
        println!(
            "profile {side} ({width} in flight): {:.0} logins/s, client CPU {:.1} µs/login, {} errors",
            run.rate, run.cpu, run.errors
        );
        return;
    }

    // login/loopback, reqwest.
    let pair = interleaved(
        sb,
        &s,
        |code| {
            let c = client.clone();
            async move {
                c.login(&code, &Scope::default()).await.unwrap();
            }
        },
        |code| {
            let (h, base) = (http.clone(), base.clone());
            async move {
                handwritten_reqwest(&h, &base, code.expose_secret()).await;
            }
        },
    )
    .await;
    cases.extend(sequential_cases(
        "login/loopback reqwest vs hand-written",
        "µs/login",
        &pair,
        1.03,
    ));

    // call/loopback: one generic signed call, against the same call written by hand.
    let pair = interleaved(
        sb,
        &s,
        |_| {
            let c = client.clone();
            async move {
                let echo: Value = c
                    .call(ApiCall::new(CALL_PATH, call_params()))
                    .await
                    .unwrap();
                assert_eq!(echo["params"]["amount"], 100);
            }
        },
        |_| {
            let (h, base) = (http.clone(), base.clone());
            async move {
                handwritten_call(&h, &base).await;
            }
        },
    )
    .await;
    cases.extend(sequential_cases(
        "call/loopback reqwest vs hand-written",
        "µs/call",
        &pair,
        1.05,
    ));

    // login/loopback, surf.
    // Each default login stalls ~44 ms on Nagle's algorithm: a few rounds show it.
    let few = Sizes {
        rounds: 5,
        per_round: 20,
        ..sizes()
    };
    let (wall, _) = vs_surf(sb, &few, &surf_client, &plain_surf, &base).await;
    cases.push(case(
        "login/loopback surf vs hand-written-surf-defaults",
        "µs/login",
        &wall,
        None,
    ));
    let pair = vs_surf(sb, &s, &surf_client, &no_pool_surf, &base).await;
    cases.extend(sequential_cases(
        "login/loopback surf vs hand-written",
        "µs/login",
        &pair,
        1.03,
    ));

    // login/concurrent: 64 in flight through one client, against the same load written by hand,
    // interleaved batch by batch. Ratios are throughputs: higher is better.
    for (name, ours, baseline) in [
        (
            "login/concurrent 64-wide reqwest vs hand-written",
            &ours,
            &by_hand_reqwest,
        ),
        (
            "login/concurrent 64-wide surf vs hand-written",
            &ours_surf,
            &by_hand_surf,
        ),
    ] {
        let (mut o, mut b, mut errors) = (Vec::new(), Vec::new(), 0);
        let (mut o_cpu, mut b_cpu) = (Vec::new(), Vec::new());
        for round in 0..s.rounds {
            let (codes_o, codes_b) = (mint_many(sb, s.batch), mint_many(sb, s.batch));
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
        let mut c = case(name, "logins/s", &Pair::new(o, b), Some((0.97, false)));
        c["errors"] = errors.into();
        c["peak_rss_kib"] = peak_rss_kib().unwrap_or(0).into();
        cases.push(c);
        cases.push(case(
            &format!("{name} (client CPU)"),
            "CPU µs/login",
            &Pair::new(o_cpu, b_cpu),
            None,
        ));
    }

    // Scaling: how cost grows with load, one client, 64 / 256 / 1,024 in flight.
    for width in [64, 256, 1024] {
        let run = load(&ours, mint_many(sb, s.scaling_total), width).await;
        println!(
            "login/scaling {width} in flight: {:.0} logins/s, p99 {:.1} ms, {} errors, client CPU {:.1} µs/login",
            run.rate, run.p99_ms, run.errors, run.cpu
        );
        cases.push(json!({
            "name": format!("login/scaling {width} in flight"), "ours": run.rate, "baseline": null,
            "unit": "logins/s", "ratio": null, "errors": run.errors, "p99_ms": run.p99_ms,
            "client_cpu_us": run.cpu,
            "peak_rss_kib": peak_rss_kib().unwrap_or(0),
        }));
    }

    // sandbox/throughput vs a bare axum handler.
    let id = ClientId::new(APP).unwrap();
    let secret = AppSecret::new(SECRET).unwrap();
    let bodies: Vec<Vec<u8>> = mint_many(sb, s.throughput_total)
        .into_iter()
        .map(|code| {
            TokenRequest::new(
                id.clone(),
                code,
                Scope::default(),
                Timestamp::from_millis(now_ms()),
            )
            .encode(Dialect::Json, &secret)
            .into_body()
        })
        .collect();
    let bare = axum::Router::new().route(
        "/neuopenapi/oauth/mini/accessToken",
        axum::routing::post(|| async {
            (
                [("content-type", "application/json")],
                r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":604800,"tokenType":"bearer"}}"#,
            )
        }),
    );
    // On the sandbox's runtime, as the sandbox is.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let bare_base = format!("http://{}", listener.local_addr().unwrap());
    sandbox_rt.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, bare).await.unwrap()
    });
    let bare_bodies = bodies.clone();
    let (bare_rate, _) = throughput(&bare_base, bare_bodies, 64).await;
    let (ours_rate, failed) = throughput(&base, bodies, 64).await;
    assert_eq!(failed, 0, "every exchange must succeed");
    println!("sandbox/throughput: {ours_rate:.0} exchanges/s, bare axum {bare_rate:.0}/s");
    cases.push(json!({"name": "sandbox/throughput vs bare-axum", "ours": ours_rate, "baseline": bare_rate, "unit": "requests/s", "ratio": ours_rate / bare_rate}));

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/neux-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("e2e.json"),
        serde_json::to_string_pretty(&json!({"cases": cases})).unwrap(),
    )
    .unwrap();
}
