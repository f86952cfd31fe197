//! Load: 10,000 token exchanges over 30 seconds of sandbox time (loopback only, bounded), with
//! no error and stable memory; and the code table does not grow forever.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use crate::support::*;
use neux_proto::{AppSecret, ClientId, Dialect, Scope, Timestamp, TokenRequest};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_exchanges_over_thirty_seconds_of_sandbox_time() {
    // Both growing tables reach their bounds within the run: the log holds 2,000 requests and
    // codes are swept 10 s after minting (5 s lifetime + 5 s grace), so memory must plateau.
    // Sandbox time is a manual clock moved 150 ms a batch, so 200 batches are 30 s of its time
    // however fast they run: a slow machine cannot let a code expire between its minting and
    // its exchange, and the code table's bound is exact. (Pacing them over 30 s of wall time
    // as well only made the test last 30 s.)
    let clock = neux_sandbox::ManualClock::from_millis(NOW);
    let sb = neux_sandbox::Sandbox::builder()
        .app("app-a", "secret-a")
        .request_log_capacity(2_000)
        .code_ttl(Duration::from_secs(5))
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let id = ClientId::new("app-a").unwrap();
    let secret = AppSecret::new("secret-a").unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}{TOKEN_PATH}", sb.base_url());
    const TOTAL: usize = 10_000;
    const BATCH: usize = 50;
    let started = Instant::now();
    let mut rss = Vec::new();
    let mut failures = 0;
    let mut most_codes = 0;
    for batch in 0..TOTAL / BATCH {
        clock.advance(Duration::from_millis(150));
        let now = Timestamp::from_millis(NOW + 150 * (batch as u64 + 1));
        let mut tasks = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            let code = code_for(&sb, "app-a");
            let body = TokenRequest::new(id.clone(), code, Scope::default(), now)
                .encode(Dialect::Json, &secret)
                .into_body();
            let (http, url) = (http.clone(), url.clone());
            tasks.push(tokio::spawn(async move {
                let res = http
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let v: serde_json::Value = res.json().await?;
                Ok::<bool, reqwest::Error>(v["responseHeader"]["status"] == 200)
            }));
        }
        for t in tasks {
            if !matches!(t.await.unwrap(), Ok(true)) {
                failures += 1;
            }
        }
        if batch % 20 == 19 {
            rss.push(rss_kib());
        }
        most_codes = most_codes.max(sb.stats().codes);
    }
    let elapsed = started.elapsed();
    assert_eq!(failures, 0, "every exchange succeeds");
    // Codes minted in the last 10 s of sandbox time (3,333), plus the batch being minted: the
    // table is bounded by time, and it did fill.
    assert!(
        (3_000..=3_333 + 50).contains(&most_codes),
        "code table peaked at {most_codes}"
    );
    // Stable memory: over the second half of the run (both tables full) RSS stays within 4 MiB.
    assert_eq!(rss.len(), 10);
    let (half, last) = (rss[4], *rss.last().unwrap());
    assert!(
        last <= half + 4 * 1024,
        "RSS kept growing after the tables filled: {rss:?} KiB"
    );
    assert_eq!(sb.requests().len(), 2_000, "the request log is capped");
    eprintln!(
        "10,000 exchanges in {:.1} s, RSS {rss:?} KiB, code table at most {most_codes}",
        elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn spent_and_expired_codes_are_forgotten_eventually() {
    let clock = neux_sandbox::ManualClock::from_millis(NOW);
    let sb = neux_sandbox::Sandbox::builder()
        .app("app-a", "secret-a")
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let exchange = |code: String, at: u64| {
        let (http, url) = (http.clone(), format!("{}{TOKEN_PATH}", sb.base_url()));
        async move {
            let ts = at.to_string();
            let sign = naive_sign(
                &[
                    ("clientId", "app-a"),
                    ("code", &code),
                    ("grantType", "authorization_code"),
                    ("scope", "user.info"),
                    ("timestamp", &ts),
                ],
                "secret-a",
            );
            let body = serde_json::json!({"clientId": "app-a", "code": code, "grantType": "authorization_code", "scope": "user.info", "timestamp": at, "sign": sign});
            let env: serde_json::Value = http
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status(&env)
        }
    };
    let mint = || code_for(&sb, "app-a").expose_secret().to_owned();
    let (spent, expired) = (mint(), mint());
    assert_eq!(exchange(spent.clone(), NOW).await, 200);
    assert_eq!(
        exchange(spent.clone(), NOW).await,
        neux_sandbox::status::CODE_USED.get(),
        "remembered while young"
    );
    let before = sb.stats().codes;
    // Two lifetimes later, minting enough to trigger a sweep drops both old codes.
    clock.advance(Duration::from_secs(601));
    for _ in 0..300 {
        mint();
    }
    assert!(sb.stats().codes < before + 300, "the sweep ran");
    let later = NOW + 601_000;
    for (what, code) in [("spent", spent), ("expired", expired)] {
        assert_eq!(
            exchange(code, later).await,
            neux_sandbox::status::CODE_UNKNOWN.get(),
            "the {what} code is forgotten"
        );
    }
}
