//! What a shared code ledger costs: the same SDK login with a `RedisLedger` (a real
//! `redis-server` on loopback) against the default in-memory ledger, sequential and 64 wide,
//! and the claim's own round trip.

use std::time::{Duration, Instant, SystemTime};

use neux_oauth::{AuthCode, ClientId, CodeKey, CodeLedger, InMemoryLedger, RedisLedger, Scope};
use neux_oauth::{TOKEN_PATH, USER_INFO_PATH};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, Sandbox};
use neux_testkit::RedisServer;
use serde_json::{Value, json};

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::baselines::{login_reqwest, reqwest_client};
use crate::load::{login_fn, sdk_login, wide};
use crate::stats::{Pair, Sizes, case, interleaved, median, sequential_cases, sizes, spread};
use crate::{APP, client, mint_many};

/// A login by hand that guards its code as a careful user would: one `SET key 1 NX PX` on the
/// same Redis (the code's SHA-256 as the key), then the two reqwest calls. The right peer for
/// the SDK with a `RedisLedger`.
async fn guarded_login(
    http: reqwest::Client,
    base: String,
    mut conn: ConnectionManager,
    code: AuthCode,
) {
    let key = format!("hand:{}", hex::encode(Sha256::digest(code.expose_secret())));
    let set: Option<String> = redis::cmd("SET")
        .arg(&key)
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(300_000)
        .query_async(&mut conn)
        .await
        .expect("the guard");
    assert!(set.is_some(), "a fresh code is claimed");
    login_reqwest(&http, &base, code.expose_secret()).await;
}

pub async fn cases(s: &Sizes, sb: &Sandbox) -> Vec<Value> {
    let redis = RedisServer::start();
    let in_memory = client(sb).build().expect("a client");
    let with_redis = client(sb)
        .code_ledger(RedisLedger::new(redis.url()).expect("a ledger"))
        .build()
        .expect("a client");
    let guard = ConnectionManager::new(redis::Client::open(redis.url()).expect("a redis client"))
        .await
        .expect("a redis connection");
    let (http, base) = (reqwest_client(), sb.base_url().to_owned());
    let by_hand = {
        let (http, base, guard) = (http.clone(), base.clone(), guard.clone());
        move |code| guarded_login(http.clone(), base.clone(), guard.clone(), code)
    };
    let mut out = Vec::new();

    // Against the right peer: the same Redis round trip, written by hand.
    let ours = {
        let c = with_redis.clone();
        move |code: AuthCode| {
            let c = c.clone();
            async move {
                c.login(&code, &Scope::default()).await.expect("a login");
            }
        }
    };
    let pair = interleaved(s, |n| mint_many(sb, n), ours, by_hand.clone()).await;
    out.extend(sequential_cases(
        "login/loopback redis ledger vs hand-written reqwest + SET NX",
        "µs/login",
        &pair,
        1.03,
    ));
    out.extend(
        wide(
            "login/concurrent 64-wide redis ledger vs hand-written reqwest + SET NX",
            s,
            |n| mint_many(sb, n),
            &sdk_login(&with_redis),
            &login_fn(by_hand),
            0.97,
        )
        .await,
    );

    let login = |c: &neux_oauth::Client| {
        let c = c.clone();
        move |code: AuthCode| {
            let c = c.clone();
            async move {
                c.login(&code, &Scope::default()).await.expect("a login");
            }
        }
    };
    let pair = interleaved(
        s,
        |n| mint_many(sb, n),
        login(&with_redis),
        login(&in_memory),
    )
    .await;
    out.extend(sequential_cases(
        "login/loopback redis ledger vs in-memory ledger",
        "µs/login",
        &pair,
        1.10,
    ));
    // The same, with the platform 2 ms away (each request delayed 2 ms by the sandbox; a real
    // platform is farther): what the claim's round trip weighs against a login that crosses
    // a network. Fewer logins per round: each takes milliseconds.
    let far = Sizes {
        per_round: (s.per_round / 6).max(10),
        ..sizes()
    };
    let delay = |path: &str| FaultRule {
        path: path.into(),
        count: u32::MAX,
        fault: FaultSpec::Delay { ms: 2 },
        when: FaultTiming::Before,
    };
    sb.inject_fault(delay(TOKEN_PATH)).expect("a fault");
    sb.inject_fault(delay(USER_INFO_PATH)).expect("a fault");
    let pair = interleaved(
        &far,
        |n| mint_many(sb, n),
        login(&with_redis),
        login(&in_memory),
    )
    .await;
    sb.clear_faults();
    out.push(case(
        "login/platform 2 ms away redis ledger vs in-memory ledger",
        "µs/login",
        &pair.0,
        Some((1.10, true)),
    ));
    out.extend(
        wide(
            "login/concurrent 64-wide redis ledger vs in-memory ledger",
            s,
            |n| mint_many(sb, n),
            &sdk_login(&with_redis),
            &sdk_login(&in_memory),
            0.90,
        )
        .await,
    );
    out.push(claim_round_trip(s, &redis).await);
    out
}

/// Microseconds per claim, sequential, a fresh code each: Redis against memory, round by round.
async fn claim_round_trip(s: &Sizes, redis: &RedisServer) -> Value {
    let app = ClientId::new(APP).expect("a client id");
    let ledger = RedisLedger::new(redis.url()).expect("a ledger");
    let memory = InMemoryLedger::new(s.rounds * s.per_round * 2 + 10);
    let lifetime = Duration::from_secs(300);
    let (mut r, mut m) = (Vec::new(), Vec::new());
    for round in 0..s.rounds {
        let keys: Vec<CodeKey> = (0..s.per_round * 2)
            .map(|i| CodeKey::of(&AuthCode::new(format!("claim-{round}-{i}")).expect("a code")))
            .collect();
        let (a, b) = keys.split_at(s.per_round);
        let sides: [(&dyn CodeLedger, &[CodeKey], &mut Vec<f64>); 2] = if round % 2 == 0 {
            [(&ledger, a, &mut r), (&memory, b, &mut m)]
        } else {
            [(&memory, b, &mut m), (&ledger, a, &mut r)]
        };
        for (l, keys, into) in sides {
            let t = Instant::now();
            for key in keys {
                l.claim(&app, *key, SystemTime::now(), lifetime)
                    .await
                    .expect("a claim");
            }
            into.push(t.elapsed().as_secs_f64() * 1e6 / keys.len() as f64);
        }
    }
    let (lo, hi) = spread(&r);
    let mut c = case(
        "ledger/claim round trip redis vs in-memory",
        "µs/claim",
        &Pair::new(r.clone(), m),
        None,
    );
    c["ours_spread"] = json!([lo, hi]);
    println!(
        "ledger/claim round trip: redis {:.1} µs (rounds {lo:.1}-{hi:.1})",
        median(r)
    );
    c
}
