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
//! - the shared code ledger (`ledger`): logins with a `RedisLedger` against the in-memory
//!   ledger, sequential and 64 wide, and the claim's own round trip.
//! - with `--features metrics` (`metrics`): logins with a Prometheus recorder against none.
//!
//! Every ratio comes with its spread over the rounds (min-max) and, where the project has one,
//! its target and whether the whole spread clears it (`stats`). The hand-written sides are in
//! `baselines`, the load generator in `load`.
//!
//! Layout: the sandbox runs on its own runtime and threads ("sandbox"); the client side of every
//! case runs on the main thread (a current-thread runtime), whose CPU clock is the client's CPU.
//!
//! Writes `target/neux-bench/e2e.json`; `cargo xtask bench` folds it into the summary.
//! `--quick` (or `NEUX_BENCH_QUICK=1`) runs smaller counts; `NEUX_BENCH_ONLY=WORD` runs only the
//! groups whose name holds WORD, or one of several separated by commas (`login/loopback`,
//! `call`, `surf`, `concurrent`, `scaling`, `ledger`, `metrics`). `NEUX_BENCH_PROFILE` runs one side alone for a profiler (see `profile`).
// Tests and benches time real servers and threads on the wall clock; the core never reads it.
#![allow(clippy::disallowed_methods)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    missing_docs,
    unreachable_pub
)]

mod baselines;
mod ledger;
mod load;
#[cfg(feature = "metrics")]
mod metrics;
mod stats;

use neux_oauth::{ApiCall, AuthCode, Client, ClientBuilder, ClientId, Scope};
use neux_sandbox::Sandbox;
use serde_json::{Value, json};

use crate::load::{Login, load, login_fn, sdk_login, wide};
use crate::stats::{Sizes, case, interleaved, sequential_cases, sizes};

const APP: &str = "bench-app";
const SECRET: &str = "bench-secret";

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

/// An SDK client for the bench's app (the process's in-memory ledger unless given another).
fn client(sb: &Sandbox) -> ClientBuilder {
    Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(sb.base_url())
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
    client_rt.block_on(run(&sb));
}

/// The four sides the comparisons are made of.
struct Sides {
    ours: Login,
    ours_surf: Login,
    hand_reqwest: Login,
    hand_surf: Login,
}

fn sides(sb: &Sandbox, reqwest: &reqwest::Client) -> Sides {
    let base = sb.base_url().to_owned();
    let surf_client = client(sb)
        .transport(neux_oauth::SurfTransport::new(Default::default()).unwrap())
        .build()
        .unwrap();
    let hand_reqwest = {
        let (h, base) = (reqwest.clone(), base.clone());
        login_fn(move |code: AuthCode| {
            let (h, base) = (h.clone(), base.clone());
            async move {
                baselines::login_reqwest(&h, &base, code.expose_secret()).await;
            }
        })
    };
    let hand_surf = {
        let (h, base) = (baselines::surf_client(), base);
        login_fn(move |code: AuthCode| {
            let (h, base) = (h.clone(), base.clone());
            async move {
                baselines::login_surf(&h, &base, code.expose_secret()).await;
            }
        })
    };
    Sides {
        ours: sdk_login(&client(sb).build().unwrap()),
        ours_surf: sdk_login(&surf_client),
        hand_reqwest,
        hand_surf,
    }
}

/// `NEUX_BENCH_PROFILE=SIDE[:WIDTH[:COUNT]]` (SIDE: ours, hand, ours-surf, hand-surf; WIDTH:
/// logins in flight, 64 by default; COUNT: 20,000 by default) runs that side alone, so
/// `perf record` or callgrind sees one side (the client runs on the main thread; the sandbox's
/// threads are named "sandbox").
async fn profile(spec: &str, sb: &Sandbox, sides: &Sides) {
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
        "ours" => &sides.ours,
        "hand" => &sides.hand_reqwest,
        "ours-surf" => &sides.ours_surf,
        "hand-surf" => &sides.hand_surf,
        other => panic!("NEUX_BENCH_PROFILE: unknown side {other}"),
    };
    let run = load(f, mint_many(sb, count), width).await;
    println!(
        "profile {side} ({width} in flight): {:.0} logins/s, client CPU {:.1} µs/login, {} errors",
        run.rate, run.cpu, run.errors
    );
}

async fn run(sb: &Sandbox) {
    let s = sizes();
    let base = sb.base_url().to_owned();
    let http = baselines::reqwest_client();
    let sides = sides(sb, &http);
    if let Ok(spec) = std::env::var("NEUX_BENCH_PROFILE") {
        return profile(&spec, sb, &sides).await;
    }
    let codes = |n| mint_many(sb, n);
    let mut cases = Vec::new();
    let sdk = client(sb).build().unwrap();
    let only = std::env::var("NEUX_BENCH_ONLY").unwrap_or_default();
    let wanted = |group: &str| only.split(',').any(|word| group.contains(word));

    // login/loopback, reqwest.
    if wanted("login/loopback reqwest") {
        let pair = interleaved(
            &s,
            codes,
            |code| {
                let c = sdk.clone();
                async move {
                    c.login(&code, &Scope::default()).await.unwrap();
                }
            },
            |code| {
                let (h, base) = (http.clone(), base.clone());
                async move {
                    baselines::login_reqwest(&h, &base, code.expose_secret()).await;
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
    }

    // call/loopback: one generic signed call, against the same call written by hand.
    if wanted("call/loopback") {
        let pair = interleaved(
            &s,
            codes,
            |_| {
                let c = sdk.clone();
                async move {
                    let echo: Value = c
                        .call(ApiCall::new(baselines::CALL_PATH, baselines::call_params()))
                        .await
                        .unwrap();
                    assert_eq!(echo["params"]["amount"], 100);
                }
            },
            |_| {
                let (h, base) = (http.clone(), base.clone());
                async move {
                    baselines::call_reqwest(&h, &base).await;
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
    }

    // login/loopback, surf. Each default surf login stalls ~44 ms on Nagle's algorithm: a few
    // rounds show it.
    if wanted("login/loopback surf") {
        let surf_client = client(sb)
            .transport(neux_oauth::SurfTransport::new(Default::default()).unwrap())
            .build()
            .unwrap();
        let surf_login = |code: AuthCode| {
            let c = surf_client.clone();
            async move {
                c.login(&code, &Scope::default()).await.unwrap();
            }
        };
        let by_hand = |h: surf::Client| {
            let base = base.clone();
            move |code: AuthCode| {
                let (h, base) = (h.clone(), base.clone());
                async move {
                    baselines::login_surf(&h, &base, code.expose_secret()).await;
                }
            }
        };
        let few = Sizes {
            rounds: 5,
            per_round: 20,
            ..sizes()
        };
        let (wall, _) = interleaved(&few, codes, surf_login, by_hand(surf::Client::new())).await;
        cases.push(case(
            "login/loopback surf vs hand-written-surf-defaults",
            "µs/login",
            &wall,
            None,
        ));
        let pair = interleaved(&s, codes, surf_login, by_hand(baselines::surf_client())).await;
        cases.extend(sequential_cases(
            "login/loopback surf vs hand-written",
            "µs/login",
            &pair,
            1.03,
        ));
    }

    // login/concurrent: 64 in flight through one client, against the same load by hand.
    if wanted("login/concurrent") {
        cases.extend(
            wide(
                "login/concurrent 64-wide reqwest vs hand-written",
                &s,
                codes,
                &sides.ours,
                &sides.hand_reqwest,
                0.97,
            )
            .await,
        );
        cases.extend(
            wide(
                "login/concurrent 64-wide surf vs hand-written",
                &s,
                codes,
                &sides.ours_surf,
                &sides.hand_surf,
                0.97,
            )
            .await,
        );
    }

    // Scaling: how cost grows with load, one client, 64 / 256 / 1,024 in flight.
    for width in [64, 256, 1024]
        .into_iter()
        .filter(|_| wanted("login/scaling"))
    {
        let run = load(&sides.ours, mint_many(sb, s.scaling_total), width).await;
        println!(
            "login/scaling {width} in flight: {:.0} logins/s, p99 {:.1} ms, {} errors, client CPU {:.1} µs/login",
            run.rate, run.p99_ms, run.errors, run.cpu
        );
        cases.push(json!({
            "name": format!("login/scaling {width} in flight"), "ours": run.rate, "baseline": null,
            "unit": "logins/s", "ratio": null, "errors": run.errors, "p99_ms": run.p99_ms,
            "client_cpu_us": run.cpu,
            "peak_rss_kib": load::peak_rss_kib().unwrap_or(0),
        }));
    }

    // The shared code ledger.
    if wanted("ledger") {
        cases.extend(ledger::cases(&s, sb).await);
    }

    // The metrics feature, when built with it.
    #[cfg(feature = "metrics")]
    if wanted("metrics") {
        cases.extend(metrics::cases(&s, sb).await);
    }

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/neux-bench");
    std::fs::create_dir_all(&dir).unwrap();
    // `NEUX_BENCH_OUT` names another file, for a second run built with other features.
    let out = std::env::var("NEUX_BENCH_OUT").unwrap_or_else(|_| "e2e.json".to_owned());
    std::fs::write(
        dir.join(out),
        serde_json::to_string_pretty(&json!({"cases": cases})).unwrap(),
    )
    .unwrap();
}
