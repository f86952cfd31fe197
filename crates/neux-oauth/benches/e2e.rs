//! End-to-end figures over 127.0.0.1 against the in-process sandbox, each next to a baseline
//! measured in the same run, interleaved round by round so machine noise hits both alike:
//!
//! - `login/loopback`: one whole login (token + user info) through the SDK, against the same two
//!   requests written by hand with plain reqwest (and plain surf).
//! - `login/concurrent`: 1,000 logins, 64 at a time, through one shared client.
//! - `sandbox/throughput`: token exchanges per second, against a bare axum handler answering a
//!   fixed envelope.
//!
//! Writes `target/neux-bench/e2e.json`; `cargo xtask bench` folds it into the summary.
//! `--quick` (or `NEUX_BENCH_QUICK=1`) runs smaller counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use neux_oauth::{AuthCode, Client, Dialect, Scope};
use neux_proto::{AppSecret, ClientId, Timestamp, TokenRequest};
use neux_sandbox::Sandbox;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const APP: &str = "bench-app";
const SECRET: &str = "bench-secret";

struct Sizes {
    rounds: usize,
    per_round: usize,
    concurrent_total: usize,
    throughput_total: usize,
}

fn sizes() -> Sizes {
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("NEUX_BENCH_QUICK").is_some();
    if quick {
        Sizes {
            rounds: 7,
            per_round: 40,
            concurrent_total: 1000,
            throughput_total: 4000,
        }
    } else {
        Sizes {
            rounds: 15,
            per_round: 100,
            concurrent_total: 1000,
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

/// Times `per_round` sequential logins of each side, alternating sides every round; returns the
/// median per-login time in microseconds for (ours, baseline).
async fn interleaved<FO, FB, O, B>(
    sb: &Sandbox,
    s: &Sizes,
    mut ours: FO,
    mut baseline: FB,
) -> (f64, f64)
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
        let codes_o = mint_many(sb, s.per_round);
        let codes_b = mint_many(sb, s.per_round);
        // Alternate which side goes first.
        if round % 2 == 0 {
            o.push(time_side(&mut ours, codes_o).await);
            b.push(time_side(&mut baseline, codes_b).await);
        } else {
            b.push(time_side(&mut baseline, codes_b).await);
            o.push(time_side(&mut ours, codes_o).await);
        }
    }
    (median(o), median(b))
}

/// Mean microseconds per login over `codes`, run one after another.
async fn time_side<F, Fut>(f: &mut F, codes: Vec<AuthCode>) -> f64
where
    F: FnMut(AuthCode) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let n = codes.len() as f64;
    let t = Instant::now();
    for c in codes {
        f(c).await;
    }
    t.elapsed().as_secs_f64() * 1e6 / n
}

/// SDK logins through `client` against hand-written logins with the plain surf client `http`.
async fn vs_surf(
    sb: &Sandbox,
    s: &Sizes,
    client: &Client,
    http: &surf::Client,
    base: &str,
) -> (f64, f64) {
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

#[tokio::main]
async fn main() {
    let s = sizes();
    let mut cases = Vec::new();
    let sb = Sandbox::builder().app(APP, SECRET).start().await.unwrap();
    let base = sb.base_url().to_owned();

    // login/loopback, reqwest.
    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(&base)
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (o, b) = interleaved(
        &sb,
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
    cases.push(json!({"name": "login/loopback reqwest vs hand-written", "ours": o, "baseline": b, "unit": "µs/login", "ratio": o / b}));
    println!("login/loopback reqwest: ours {o:.1} µs, hand-written {b:.1} µs");

    // login/loopback, surf (ours: one connection per exchange, see neux-transport's docs).
    let surf_client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(&base)
        .transport(neux_transport::SurfTransport::new(Default::default()).unwrap())
        .build()
        .unwrap();
    let plain_surf = surf::Client::new();
    // Configured like SurfTransport: no keep-alive (see neux-transport's docs), TCP_NODELAY on
    // (surf's default leaves Nagle's algorithm on: ~40 ms stalls per request on loopback).
    let no_pool_surf: surf::Client = surf::Config::new()
        .set_http_keep_alive(false)
        .set_tcp_no_delay(true)
        .try_into()
        .unwrap();
    let (o, b) = vs_surf(&sb, &s, &surf_client, &plain_surf, &base).await;
    cases.push(json!({"name": "login/loopback surf vs hand-written-surf-defaults", "ours": o, "baseline": b, "unit": "µs/login", "ratio": o / b}));
    println!("login/loopback surf: ours {o:.1} µs, hand-written (surf defaults) {b:.1} µs");
    let (o2, b2) = vs_surf(&sb, &s, &surf_client, &no_pool_surf, &base).await;
    cases.push(json!({"name": "login/loopback surf vs hand-written", "ours": o2, "baseline": b2, "unit": "µs/login", "ratio": o2 / b2}));
    println!("login/loopback surf: ours {o2:.1} µs, hand-written (same config) {b2:.1} µs");

    // login/concurrent: 1,000 logins, 64 at a time, one client.
    let codes = mint_many(&sb, s.concurrent_total);
    let queue = Arc::new(std::sync::Mutex::new(codes));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (c, q) = (client.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut errors = 0usize;
            loop {
                let Some(code) = q.lock().unwrap().pop() else {
                    break;
                };
                if c.login(&code, &Scope::default()).await.is_err() {
                    errors += 1;
                }
            }
            errors
        }));
    }
    let mut errors = 0;
    for t in tasks {
        errors += t.await.unwrap();
    }
    let rate = s.concurrent_total as f64 / started.elapsed().as_secs_f64();
    let rss = peak_rss_kib().unwrap_or(0);
    println!("login/concurrent: {rate:.0} logins/s, {errors} errors, peak RSS {rss} KiB");
    cases.push(json!({"name": "login/concurrent 64-wide", "ours": rate, "baseline": null, "unit": "logins/s", "ratio": null, "errors": errors, "peak_rss_kib": rss}));

    // sandbox/throughput vs a bare axum handler.
    let id = ClientId::new(APP).unwrap();
    let secret = AppSecret::new(SECRET).unwrap();
    let bodies: Vec<Vec<u8>> = mint_many(&sb, s.throughput_total)
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, bare).await.unwrap() });
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
