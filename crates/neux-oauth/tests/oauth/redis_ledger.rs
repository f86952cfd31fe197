//! A code reaches the platform at most once per fleet: clients in different OS processes share
//! one Redis ledger. Proved against real `redis-server`s that the tests start, and counted from
//! the sandbox's request log, which records every request as it arrives.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;
use neux_oauth::{AuthCode, Client, Dialect, Error, LedgerError, RedisLedger, Scope, SeenBy};
use neux_sandbox::UserSpec;
use neux_testkit::{RedisCluster, RedisServer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CODES: usize = 1_000;
const PROCESSES: usize = 4;

fn client(sb: &neux_sandbox::Sandbox, ledger: RedisLedger) -> Client {
    builder(sb, Dialect::Json)
        .code_ledger(ledger)
        .build()
        .unwrap()
}

fn ledger(url: &str) -> RedisLedger {
    RedisLedger::builder(url)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// The child half of the fleet tests: one process of the fleet. It builds its own client with
/// its own Redis connection, says it is ready, waits for the word, then presents every code at
/// once and reports what each presentation got.
async fn fleet_member() {
    let var = |name: &str| std::env::var(name).unwrap();
    let sb_url = var("NEUX_FLEET_SANDBOX");
    let codes: Vec<AuthCode> = std::fs::read_to_string(var("NEUX_FLEET_CODES"))
        .unwrap()
        .lines()
        .map(|c| AuthCode::new(c).unwrap())
        .collect();
    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(sb_url)
        .timeout(Duration::from_secs(20))
        .code_ledger(
            RedisLedger::builder(var("NEUX_FLEET_LEDGER"))
                .timeout(Duration::from_secs(10))
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
    let presentations = codes.into_iter().enumerate().map(|(i, code)| {
        let client = client.clone();
        async move {
            let outcome = match client.exchange_code(&code, &Scope::default()).await {
                Ok(tokens) => format!("ok {}", tokens.access_token().fingerprint()),
                Err(e @ Error::CodeAlreadyPresented { by: SeenBy::Ledger }) => {
                    format!("refused {}", e.kind())
                }
                Err(e) => format!("error {}", e.kind()),
            };
            (i, outcome)
        }
    });
    let handles: Vec<_> = presentations.map(tokio::spawn).collect();
    for h in handles {
        let (i, outcome) = h.await.unwrap();
        println!("NEUX {i} {outcome}");
    }
}

/// Starts `PROCESSES` copies of this test binary as fleet members, releases them together, and
/// returns what each reported, per code. Each member's first claims arrive all at once, a
/// thousand before any connection exists: `connections` (what the servers have accepted, read
/// before and after) shows how many connections the fleet made for them.
async fn run_fleet(
    sb: &neux_sandbox::Sandbox,
    ledger_url: &str,
    test: &str,
    connections: &dyn Fn() -> usize,
) -> (Vec<Vec<String>>, usize) {
    let connections_before = connections();
    let codes: Vec<AuthCode> = (0..CODES)
        .map(|i| {
            mint(
                sb,
                "user.info",
                UserSpec {
                    id: Some(format!("fleet-user-{i}")),
                    ..Default::default()
                },
            )
        })
        .collect();
    let file = std::env::temp_dir().join(format!("neux-fleet-codes-{}", std::process::id()));
    let text: Vec<&str> = codes.iter().map(AuthCode::expose_secret).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut members = Vec::new();
    for _ in 0..PROCESSES {
        let mut child = tokio::process::Command::new(&exe)
            .args(["--exact", test, "--nocapture", "--test-threads", "1"])
            .env("NEUX_FLEET_MEMBER", "1")
            .env("NEUX_FLEET_SANDBOX", sb.base_url())
            .env("NEUX_FLEET_LEDGER", ledger_url)
            .env("NEUX_FLEET_CODES", &file)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait for it to be ready (its client built and connected lazily) before the next.
        loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the member is ready");
            // libtest's "test NAME ... " may share the line.
            if line.ends_with("NEUX ready") {
                break;
            }
        }
        members.push((child, lines));
    }
    // Every member waits on its stdin: one word releases them all at the same moment.
    for (child, _) in &mut members {
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"go\n")
            .await
            .unwrap();
    }
    let mut per_code = vec![Vec::new(); CODES];
    for (mut child, mut lines) in members {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split_once("NEUX ").map(|(_, r)| r) {
                let (i, outcome) = rest.split_once(' ').unwrap();
                per_code[i.parse::<usize>().unwrap()].push(outcome.to_owned());
            }
        }
        assert!(child.wait().await.unwrap().success(), "a member failed");
    }
    let _ = std::fs::remove_file(&file);
    let made = connections() - connections_before;
    for (i, code) in codes.iter().enumerate() {
        assert_eq!(
            presentations(sb, code),
            1,
            "code {i} reached the platform {} times",
            presentations(sb, code)
        );
    }
    (per_code, made)
}

/// Each code: tokens in exactly one process, the typed refusal in every other.
fn assert_one_winner_per_code(per_code: &[Vec<String>]) {
    let mut tokens = HashMap::new();
    for (i, outcomes) in per_code.iter().enumerate() {
        assert_eq!(outcomes.len(), PROCESSES, "code {i}: {outcomes:?}");
        let won: Vec<&String> = outcomes.iter().filter(|o| o.starts_with("ok ")).collect();
        assert_eq!(won.len(), 1, "code {i}: {outcomes:?}");
        let refused = outcomes
            .iter()
            .filter(|o| *o == "refused code_already_presented")
            .count();
        assert_eq!(refused, PROCESSES - 1, "code {i}: {outcomes:?}");
        // The tokens of one code went to one place, and no two codes share tokens.
        assert!(tokens.insert(won[0].clone(), i).is_none(), "code {i}");
    }
}

/// The name libtest knows this module's test `name` by.
fn test_name(name: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_redis_ledger() {
    if std::env::var_os("NEUX_FLEET_MEMBER").is_some() {
        return fleet_member().await;
    }
    let redis = RedisServer::start();
    let sb = sandbox().await;
    let (per_code, made) = run_fleet(
        &sb,
        &redis.url(),
        &test_name("four_processes_share_one_redis_ledger"),
        &|| redis.connections_received(),
    )
    .await;
    assert_one_winner_per_code(&per_code);
    // One connection per process, whatever the burst (the `INFO` read after is one more);
    // without the single flight each of the 1,000 first claims made its own.
    println!("single node: {made} connections for {PROCESSES} processes x {CODES} first claims");
    assert!(
        made <= PROCESSES + 1,
        "{made} connections for {PROCESSES} processes"
    );
    // One key per code: the ledger holds the codes' hashes, never a code.
    assert_eq!(redis.keys(), CODES);
    let sample = redis.cli(&["RANDOMKEY"]);
    let key = sample.trim();
    assert!(key.starts_with(&format!("neux:code:v1:{APP}:")), "{key}");
    assert_eq!(key.rsplit(':').next().unwrap().len(), 64, "{key}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_redis_cluster_ledger() {
    if std::env::var_os("NEUX_FLEET_MEMBER").is_some() {
        return fleet_member().await;
    }
    let cluster = RedisCluster::start();
    let sb = sandbox().await;
    let (per_code, made) = run_fleet(
        &sb,
        &cluster.url(),
        &test_name("four_processes_share_one_redis_cluster_ledger"),
        &|| cluster.connections_received(),
    )
    .await;
    assert_one_winner_per_code(&per_code);
    // A cluster connection is a few sockets per node (the data connection and the client's
    // topology checks), once per process; before the single flight it was a thousand.
    println!("cluster: {made} connections for {PROCESSES} processes x {CODES} first claims");
    assert!(
        made <= PROCESSES * 3 * 2 + 3,
        "{made} connections for {PROCESSES} processes"
    );
    // The keys carry no hash tag: they spread over the slots, so over every primary.
    let keys = cluster.keys_per_node();
    assert_eq!(keys.iter().sum::<usize>(), CODES, "{keys:?}");
    assert!(keys.iter().all(|k| *k > CODES / 6), "{keys:?}");
}

fn assert_nothing_sent_for(sb: &neux_sandbox::Sandbox, code: &AuthCode, e: &Error) {
    assert!(matches!(e, Error::Ledger(_)), "{e:?}");
    assert!(
        !e.request_may_have_been_sent() && !e.needs_new_code() && e.is_retryable(),
        "{e:?}"
    );
    assert_eq!(
        presentations(sb, code),
        0,
        "a code the ledger could not claim was sent"
    );
}

/// A new code logs in through `client` within `limit`; each failed try before it fails closed,
/// sending nothing. The code reaches the platform once.
async fn logs_in_again_within(sb: &neux_sandbox::Sandbox, client: &Client, limit: Duration) {
    let started = Instant::now();
    let code = mint(sb, "user.info", UserSpec::default());
    loop {
        match client.login(&code, &Scope::default()).await {
            Ok(_) => break,
            Err(e) => {
                assert_nothing_sent_for(sb, &code, &e);
                assert!(
                    started.elapsed() < limit,
                    "no recovery within {limit:?}: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert_eq!(presentations(sb, &code), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_then_restarted() {
    let mut redis = RedisServer::start();
    let sb = sandbox().await;
    let client = client(&sb, ledger(&redis.url()));
    let codes: Vec<AuthCode> = (0..300)
        .map(|_| mint(&sb, "user.info", UserSpec::default()))
        .collect();
    let outcomes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for chunk in codes.chunks(30) {
        let (client, chunk, outcomes) = (client.clone(), chunk.to_vec(), outcomes.clone());
        tasks.push(tokio::spawn(async move {
            for code in chunk {
                let r = client.login(&code, &Scope::default()).await;
                outcomes.lock().unwrap().push((code, r.map(|_| ())));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    // Kill Redis once some logins are through.
    while outcomes.lock().unwrap().len() < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.kill();
    for t in tasks {
        t.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let (mut ok, mut failed) = (0, 0);
    for (code, r) in &outcomes {
        match r {
            Ok(()) => {
                ok += 1;
                assert_eq!(presentations(&sb, code), 1);
            }
            Err(e) => {
                failed += 1;
                assert_nothing_sent_for(&sb, code, e);
                // The message names the ledger, and says nothing was sent.
                let text = e.to_string();
                assert!(
                    text.contains(&redis.url()) && text.contains("nothing was sent"),
                    "{text}"
                );
            }
        }
    }
    assert_eq!(outcomes.len(), codes.len());
    assert!(ok >= 60 && failed >= 1, "{ok} ok, {failed} failed");

    // Redis comes back: the same client logs users in again within seconds.
    redis.restart();
    logs_in_again_within(&sb, &client, Duration::from_secs(20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_fails_each_claim_within_its_timeout() {
    let redis = RedisServer::start();
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json)
        .code_ledger(
            RedisLedger::builder(redis.url())
                .timeout(Duration::from_millis(250))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    // Connect first, so the stall meets an open connection.
    let warm = mint(&sb, "user.info", UserSpec::default());
    client
        .exchange_code(&warm, &Scope::default())
        .await
        .unwrap();

    let stall = redis.stall(4.0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let code = mint(&sb, "user.info", UserSpec::default());
    let started = Instant::now();
    let e = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(e, Error::Ledger(LedgerError::Timeout { .. })),
        "{e:?}"
    );
    // Bounded by the 250 ms timeout, far from the 4 s stall (a loaded machine is slow, not
    // that slow).
    assert!(took < Duration::from_secs(2), "the claim took {took:?}");
    assert_nothing_sent_for(&sb, &code, &e);

    // When Redis wakes, the timed-out SET lands after all; the same code presented again is
    // recognised as this instance's own claim, not someone else's, and goes through.
    stall.join().unwrap();
    client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_without_the_password() {
    let redis = RedisServer::with_password("right-password-4b1d");
    let sb = sandbox().await;
    let logs = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let url = format!("redis://:wrong-password-77e2@127.0.0.1:{}", redis.port());
    let wrong = ledger(&url);
    assert!(!format!("{wrong:?}").contains("wrong-password-77e2"));
    let client = client(&sb, wrong);
    let code = mint(&sb, "user.info", UserSpec::default());
    let e = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert_nothing_sent_for(&sb, &code, &e);
    let text = format!("{e} {e:?} {client:?}");
    assert!(!text.contains("wrong-password-77e2"), "{text}");
    let address = format!("redis://127.0.0.1:{}", redis.port());
    assert!(text.contains(&address), "{text}");
    assert!(
        text.to_lowercase().contains("password")
            || text.contains("WRONGPASS")
            || text.contains("AUTH"),
        "the error should say it is about authentication: {text}"
    );
    assert!(
        !logs.text().contains("wrong-password-77e2"),
        "{}",
        logs.text()
    );
    // The right password works.
    let good = self::client(&sb, ledger(&redis.url()));
    good.exchange_code(&code, &Scope::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_built_per_request_from_the_environment_share_one_connection() {
    let redis = RedisServer::start();
    let sb = sandbox().await;
    let before = redis.connections_received();
    let url = redis.url();
    for _ in 0..50 {
        let env = |name: &str| match name {
            "NEUX_BASE_URL" => Some(sb.base_url().to_owned()),
            "NEUX_CLIENT_ID" => Some(APP.to_owned()),
            "NEUX_SECRET" => Some(SECRET.to_owned()),
            "NEUX_LEDGER_URL" => Some(url.clone()),
            _ => None,
        };
        let client = Client::builder().env_with(env).unwrap().build().unwrap();
        let code = mint(&sb, "user.info", UserSpec::default());
        client.login(&code, &Scope::default()).await.unwrap();
    }
    // One connection for the fifty clients, and the `INFO` read that counts them.
    assert_eq!(redis.connections_received() - before, 2);
    assert_eq!(redis.keys(), 50);
}

/// A shared ledger whose first runtime has ended: its next claim connects again on the runtime
/// it runs on now (measured: no claim failed; one failed closed is allowed).
#[test]
fn a_shared_ledger_outlives_the_runtime_that_connected_it() {
    use neux_oauth::{Claim, ClientId, CodeKey, CodeLedger};
    let redis = RedisServer::start();
    let ledger = RedisLedger::builder(redis.url())
        .prefix("runtimes")
        .timeout(Duration::from_secs(1))
        .build_shared()
        .unwrap();
    let app = ClientId::new(APP).unwrap();
    for round in 0..3 {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let failed = rt.block_on(async {
            let mut failed = 0;
            for attempt in 0..5 {
                let code = AuthCode::new(format!("runtime-{round}-{attempt}")).unwrap();
                match ledger
                    .claim(
                        &app,
                        CodeKey::of(&code),
                        std::time::SystemTime::now(),
                        Duration::from_secs(60),
                    )
                    .await
                {
                    Ok(Claim::Won(_)) => return failed,
                    Ok(Claim::Taken) => panic!("a fresh code was taken"),
                    Err(e) => {
                        assert!(e.to_string().contains("nothing was sent"), "{e}");
                        failed += 1;
                    }
                }
            }
            panic!("no claim went through on runtime {round}");
        });
        println!("runtime {round}: {failed} claims failed closed before one went through");
        assert!(failed <= 1, "{failed}");
    }
}

/// Whatever answers on Redis's port while Redis is down is not trusted: its replies fail each
/// claim closed, and once Redis is back on its port the ledger connects to it again. (A
/// restarted Redis's port was once taken by another test's HTTP server in between: the
/// connection manager stayed connected to it and parsed `HTTP/1.1 400` for 20 s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_on_redis_port_is_left_once_redis_is_back() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut redis = RedisServer::start();
    let sb = sandbox().await;
    let client = client(&sb, ledger(&redis.url()));
    let first = mint(&sb, "user.info", UserSpec::default());
    client.login(&first, &Scope::default()).await.unwrap();

    redis.kill();
    // A stranger takes the port: it answers every read with an HTTP error and keeps the
    // connection open.
    let listener = std::net::TcpListener::bind(("127.0.0.1", redis.port())).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let stranger = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let mut copy = stream.try_clone().unwrap();
                // Held open until the test ends, whatever the reader does.
                held.push(stream);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = copy.read(&mut buf) {
                        if n == 0
                            || copy
                                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                                .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            held
        })
    };
    let mut refused = 0;
    for _ in 0..20 {
        let code = mint(&sb, "user.info", UserSpec::default());
        match client.login(&code, &Scope::default()).await {
            Err(e) => {
                assert_nothing_sent_for(&sb, &code, &e);
                refused += 1;
            }
            Ok(_) => panic!("a claim went through with no Redis on the port"),
        }
        if refused >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The stranger stops accepting (its open connections stay), and Redis comes back.
    done.store(true, Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(("127.0.0.1", redis.port()));
    let _held = stranger.join().unwrap();
    redis.restart();
    logs_in_again_within(&sb, &client, Duration::from_secs(10)).await;
}
