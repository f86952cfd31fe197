//! A Redis set up to forget keys is refused, not trusted: eviction, a disabled `CONFIG`, a
//! restart without persistence. Against real `redis-server`s, counted from the sandbox's log.

use std::time::Duration;

use crate::support::*;
use neux_oauth::{AuthCode, Client, Dialect, Error, LedgerError, RedisLedger, Scope, SeenBy};
use neux_sandbox::UserSpec;
use neux_testkit::RedisServer;

fn client(sb: &neux_sandbox::Sandbox, ledger: RedisLedger) -> Client {
    builder(sb, Dialect::Json)
        .code_ledger(ledger)
        .build()
        .unwrap()
}

fn ledger(url: &str) -> neux_oauth::RedisLedgerBuilder {
    RedisLedger::builder(url).timeout(Duration::from_secs(2))
}

/// Writes `n` keys of 200 bytes each through `redis-cli --pipe`, as a cache would.
fn fill(redis: &RedisServer, n: usize) -> String {
    let mut script = String::new();
    let value = "v".repeat(200);
    for i in 0..n {
        script.push_str(&format!("SET cache:{i} {value}\n"));
    }
    let path =
        std::env::temp_dir().join(format!("neux-fill-{}-{}", std::process::id(), redis.port()));
    std::fs::write(&path, script).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "redis-cli -h 127.0.0.1 -p {} --pipe < {}",
            redis.port(),
            path.display()
        ))
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unsafe_error(e: &Error) -> &LedgerError {
    match e {
        Error::Ledger(l @ LedgerError::Unsafe { .. }) => l,
        other => panic!("expected an unsafe-ledger error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicting_redis_is_refused_and_its_codes_are_never_sent_twice() {
    // The usual setting of a cache: keys go when memory is short, claims included.
    let redis =
        RedisServer::start_with_args(&["--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru"]);
    let sb = sandbox().await;
    let client = client(&sb, ledger(&redis.url()).build().unwrap());
    let code = mint(&sb, "user.info", UserSpec::default());
    let e = client.login(&code, &Scope::default()).await.unwrap_err();
    let text = unsafe_error(&e).to_string();
    assert!(
        text.contains("maxmemory-policy is allkeys-lru") && text.contains("noeviction"),
        "the error names the setting and the fix: {text}"
    );
    assert!(!e.is_retryable() && !e.needs_new_code() && !e.request_may_have_been_sent());
    assert_eq!(e.kind(), "ledger_unsafe");
    assert_eq!(presentations(&sb, &code), 0, "nothing is sent");

    // Fixed on the server: the same client goes on, without a rebuild.
    redis.cli(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    client.login(&code, &Scope::default()).await.unwrap();

    // A full noeviction Redis refuses writes: the ledger fails closed, and the spent code is
    // still remembered, never sent again.
    let out = fill(&redis, 20_000);
    assert!(
        out.contains("errors: ") && !out.contains("errors: 0"),
        "{out}"
    );
    // Presented again: refused as presented, or (Redis refuses a `SET` with OOM before it
    // looks at NX, while memory is over the limit: 2 runs in 20 beside CPU hogs) failed closed
    // with OOM. Never sent.
    let again = client.login(&code, &Scope::default()).await.unwrap_err();
    assert!(
        matches!(again, Error::CodeAlreadyPresented { by: SeenBy::Ledger })
            || matches!(again, Error::Ledger(LedgerError::Unavailable { ref reason, .. }) if reason.contains("OOM")),
        "{again:?}"
    );
    // A new code: either there was room after all (memory hovers at the limit), or the claim
    // was refused (OOM) and nothing was sent.
    let fresh = mint(&sb, "user.info", UserSpec::default());
    match client.login(&fresh, &Scope::default()).await {
        Ok(_) => assert_eq!(presentations(&sb, &fresh), 1),
        Err(e) => {
            assert!(
                matches!(e, Error::Ledger(LedgerError::Unavailable { ref reason, .. }) if reason.contains("OOM")),
                "{e:?}"
            );
            assert_eq!(presentations(&sb, &fresh), 0);
        }
    }
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_hides_its_config_is_refused_unless_the_policy_is_declared() {
    // A managed Redis: CONFIG is renamed away.
    let redis = RedisServer::start_with_args(&["--rename-command", "CONFIG", ""]);
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    let refused = client(&sb, ledger(&redis.url()).build().unwrap());
    let e = refused.login(&code, &Scope::default()).await.unwrap_err();
    assert!(
        unsafe_error(&e)
            .to_string()
            .contains("declare_noeviction(true)"),
        "{e}"
    );
    assert_eq!(presentations(&sb, &code), 0);

    let declared = client(
        &sb,
        ledger(&redis.url())
            .declare_noeviction(true)
            .build()
            .unwrap(),
    );
    declared.login(&code, &Scope::default()).await.unwrap();
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_policy_never_overrides_what_the_server_shows() {
    let redis = RedisServer::start_with_args(&["--maxmemory-policy", "volatile-lru"]);
    let sb = sandbox().await;
    let client = client(
        &sb,
        ledger(&redis.url())
            .declare_noeviction(true)
            .build()
            .unwrap(),
    );
    let code = mint(&sb, "user.info", UserSpec::default());
    let e = client.login(&code, &Scope::default()).await.unwrap_err();
    assert!(unsafe_error(&e).to_string().contains("volatile-lru"), "{e}");
    assert_eq!(presentations(&sb, &code), 0);
}

/// The documented failure mode: a Redis without persistence forgets every claim when it
/// restarts. A code presented before the restart and presented again after it reaches the
/// platform a second time, and the platform's refusal is the backstop: the caller gets the
/// same typed error as from the ledger, by the platform, and no tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_without_persistence_falls_back_on_the_platforms_refusal() {
    let mut redis = RedisServer::start();
    let sb = sandbox().await;
    let first = client(&sb, ledger(&redis.url()).build().unwrap());
    let code: AuthCode = mint(&sb, "user.info", UserSpec::default());
    first.login(&code, &Scope::default()).await.unwrap();
    let replay = first.login(&code, &Scope::default()).await.unwrap_err();
    assert!(matches!(
        replay,
        Error::CodeAlreadyPresented { by: SeenBy::Ledger }
    ));

    redis.restart();
    assert_eq!(redis.keys(), 0, "the claim is gone with the restart");
    // Another instance of the fleet (a client of its own) is handed the same code.
    let other = client(&sb, ledger(&redis.url()).build().unwrap());
    let e = other.login(&code, &Scope::default()).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::CodeAlreadyPresented {
                by: SeenBy::Platform { .. }
            }
        ),
        "{e:?}"
    );
    assert!(e.tokens().is_none());
    assert_eq!(presentations(&sb, &code), 2);
}
