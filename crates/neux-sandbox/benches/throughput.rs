//! The sandbox's throughput: token exchanges a second, 64 in flight, against a bare axum
//! handler that answers a fixed envelope on the same runtime. Both sides are driven by the same
//! reqwest client from a runtime of their own.
//!
//! Writes `target/neux-bench/sandbox.json`; `cargo xtask bench` folds it into the summary.
//! `--quick` (or `NEUX_BENCH_QUICK=1`) runs smaller counts.
// Tests and benches time real servers and threads on the wall clock; the core never reads it.
#![allow(clippy::disallowed_methods)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs
)]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use neux_proto::{AppSecret, ClientId, Dialect, Scope, TOKEN_PATH, Timestamp, TokenRequest};
use neux_sandbox::Sandbox;
use serde_json::{Value, json};

const APP: &str = "bench-app";
const SECRET: &str = "bench-secret";
const IN_FLIGHT: usize = 64;

/// Posts every body to `base`'s token path, `IN_FLIGHT` at a time: requests a second, and how
/// many were not a success envelope.
async fn throughput(http: &reqwest::Client, base: &str, bodies: Vec<Vec<u8>>) -> (f64, usize) {
    let queue = Arc::new(Mutex::new(bodies));
    let url = format!("{base}{TOKEN_PATH}");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (http, queue, url) = (http.clone(), queue.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut failed, mut n) = (0usize, 0usize);
            loop {
                let Some(body) = queue.lock().unwrap().pop() else {
                    break;
                };
                n += 1;
                let answer = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                let ok = match answer {
                    Ok(r) => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["responseHeader"]["status"] == 200),
                    Err(_) => false,
                };
                failed += usize::from(!ok);
            }
            (failed, n)
        }));
    }
    let (mut failed, mut n) = (0, 0);
    for t in tasks {
        let (f, m) = t.await.unwrap();
        failed += f;
        n += m;
    }
    (n as f64 / started.elapsed().as_secs_f64(), failed)
}

fn main() {
    let quick =
        std::env::args().any(|a| a == "--quick") || std::env::var_os("NEUX_BENCH_QUICK").is_some();
    let total = if quick { 4_000 } else { 20_000 };
    // The servers on their own runtime (two workers), the load on another.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sandbox")
        .enable_all()
        .build()
        .unwrap();
    let sb = servers
        .block_on(Sandbox::builder().app(APP, SECRET).start())
        .unwrap();
    let bare = axum::Router::new().route(
        TOKEN_PATH,
        axum::routing::post(|| async {
            (
                [("content-type", "application/json")],
                r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":604800,"tokenType":"bearer"}}"#,
            )
        }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let bare_base = format!("http://{}", listener.local_addr().unwrap());
    servers.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, bare).await.unwrap()
    });

    let id = ClientId::new(APP).unwrap();
    let secret = AppSecret::new(SECRET).unwrap();
    let now = Timestamp::from_system_time(std::time::SystemTime::now());
    let bodies: Vec<Vec<u8>> = (0..total)
        .map(|_| {
            let code = sb
                .mint_code(&id, Scope::default(), Default::default())
                .unwrap()
                .code;
            TokenRequest::new(id.clone(), code, Scope::default(), now)
                .encode(Dialect::Json, &secret)
                .into_body()
        })
        .collect();
    let load = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    let (bare_rate, _) = load.block_on(throughput(&http, &bare_base, bodies.clone()));
    let (ours_rate, failed) = load.block_on(throughput(&http, sb.base_url(), bodies));
    assert_eq!(failed, 0, "every exchange must succeed");
    println!("sandbox/throughput: {ours_rate:.0} exchanges/s, bare axum {bare_rate:.0}/s");
    let case = json!({"name": "sandbox/throughput vs bare-axum", "ours": ours_rate, "baseline": bare_rate, "unit": "requests/s", "ratio": ours_rate / bare_rate});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/neux-bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("sandbox.json"),
        serde_json::to_string_pretty(&json!({"cases": [case]})).unwrap(),
    )
    .unwrap();
}
