//! A one-time code reaches the server at most once per client, whatever happens to the call
//! that sent it; its tokens go only to that call. Every test counts what reached the server
//! from the sandbox's request log, which records a request as it arrives.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use neux_oauth::{Dialect, Error, Scope, SeenBy};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, UserSpec};

/// Holds the token call's answer for a minute after the code was spent.
fn hold_answer(sb: &neux_sandbox::Sandbox) {
    sb.inject_fault(FaultRule {
        path: TOKEN_PATH.into(),
        count: 1,
        fault: FaultSpec::Delay { ms: 60_000 },
        when: FaultTiming::After,
    })
    .unwrap();
}

/// Polls the sandbox's log until `code` has arrived there once (a hang guard, not a timing).
async fn until_presented(sb: &neux_sandbox::Sandbox, code: &neux_oauth::AuthCode) {
    for _ in 0..2_000 {
        if presentations(sb, code) == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the code never reached the sandbox");
}

fn assert_already_presented(result: Result<neux_oauth::TokenSet, Error>) {
    match result {
        Err(e @ Error::CodeAlreadyPresented { by: SeenBy::Ledger }) => {
            assert!(e.needs_new_code());
            assert!(!e.request_may_have_been_sent());
            assert!(!e.is_retryable());
        }
        other => panic!("expected CodeAlreadyPresented, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_while_the_server_holds_the_answer_keeps_its_code_spent() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    hold_answer(&sb);
    {
        // An axum handler dropped because the mini app hung up: the future is polled until
        // the code is at the server, then dropped mid-flight.
        let scope = Scope::default();
        let exchange = client.exchange_code(&code, &scope);
        tokio::pin!(exchange);
        tokio::select! {
            r = &mut exchange => panic!("answered while the server held the answer: {r:?}"),
            () = until_presented(&sb, &code) => {}
        }
    }
    // The mini app retries with the same code.
    assert_already_presented(client.exchange_code(&code, &Scope::default()).await);
    assert_eq!(presentations(&sb, &code), 1, "the server saw the code once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_under_timeout_that_gives_up_keeps_its_code_spent() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Form).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    hold_answer(&sb);
    // The server holds the answer for a minute; the caller gives up after two seconds.
    let given_up = tokio::time::timeout(
        Duration::from_secs(2),
        client.login(&code, &Scope::default()),
    )
    .await;
    assert!(given_up.is_err(), "the caller gave up");
    assert_eq!(
        presentations(&sb, &code),
        1,
        "the request had reached the server"
    );
    let again = client.login(&code, &Scope::default()).await;
    assert!(
        matches!(
            again,
            Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger })
        ),
        "{again:?}"
    );
    assert_eq!(presentations(&sb, &code), 1, "and was not sent again");
}

#[tokio::test]
async fn a_code_is_not_sent_again_after_a_success() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    client.login(&code, &Scope::default()).await.unwrap();
    assert_already_presented(client.exchange_code(&code, &Scope::default()).await);
    // A clone shares the ledger: it is the same client.
    assert_already_presented(client.clone().exchange_code(&code, &Scope::default()).await);
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test]
async fn a_code_is_not_sent_again_after_a_refusal() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    // Granted user.info only: asking for the phone is refused, and the code was presented.
    let code = mint(&sb, "user.info", UserSpec::default());
    let refused = client
        .exchange_code(&code, &Scope::user_info_and_phone())
        .await
        .unwrap_err();
    assert!(refused.needs_new_code(), "{refused}");
    assert_already_presented(client.exchange_code(&code, &Scope::default()).await);
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test]
async fn reordered_or_different_scopes_do_not_make_another_presentation() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info,user.phone", UserSpec::default());
    client
        .exchange_code(&code, &"user.info,user.phone".parse().unwrap())
        .await
        .unwrap();
    for scope in ["user.phone,user.info", "user.info", "user.phone"] {
        assert_already_presented(client.exchange_code(&code, &scope.parse().unwrap()).await);
    }
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test]
async fn a_code_that_never_left_may_be_presented_again() {
    // Nothing listens here: connecting fails, so nothing was sent and the claim is released.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sb = sandbox().await;
    let offline = neux_oauth::Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(neux_oauth::RetryPolicy::none())
        .build()
        .unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let e = offline
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        !e.request_may_have_been_sent() && !e.needs_new_code(),
        "{e}"
    );
    let e = offline
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        !matches!(e, Error::CodeAlreadyPresented { by: SeenBy::Ledger }),
        "a code that never left is not spent: {e}"
    );
}

/// 100 presenters of one code on a multi-thread runtime, released together by a barrier.
async fn race(cancel_some: bool) -> (usize, usize, usize, usize) {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let seed = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0);
    let mut tasks = Vec::new();
    for i in 0..100u64 {
        let (client, code, barrier) = (client.clone(), code.clone(), barrier.clone());
        // Roughly a third give up after 0 to 3 ms: some before, some after sending.
        let give_up = (cancel_some && (seed >> (i % 60)).is_multiple_of(3))
            .then(|| Duration::from_micros((seed.rotate_left(i as u32) % 3_000) + 1));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let scope = Scope::default();
            let exchange = client.exchange_code(&code, &scope);
            match give_up {
                Some(after) => tokio::time::timeout(after, exchange).await.ok(),
                None => Some(exchange.await),
            }
        }));
    }
    let (mut tokens, mut refused, mut cancelled) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Some(Ok(_)) => tokens += 1,
            Some(Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger })) => refused += 1,
            Some(Err(e)) => panic!("unexpected error: {e}"),
            None => cancelled += 1,
        }
    }
    // Whatever happened to the claimant, the code stays spent on this client.
    assert!(matches!(
        client.exchange_code(&code, &Scope::default()).await,
        Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger })
    ));
    (tokens, refused, cancelled, presentations(&sb, &code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_100_concurrent_presenters_exactly_one_gets_tokens() {
    let (tokens, refused, cancelled, seen) = race(false).await;
    assert_eq!((tokens, refused, cancelled), (1, 99, 0));
    assert_eq!(seen, 1, "the server saw the code once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_100_concurrent_presenters_some_cancelling_at_most_one_gets_tokens() {
    for _ in 0..5 {
        let (tokens, refused, cancelled, seen) = race(true).await;
        assert_eq!(tokens + refused + cancelled, 100);
        assert!(tokens <= 1, "{tokens} callers got tokens");
        assert!(seen <= 1, "the server saw the code {seen} times");
        // Only the claimant may have been cancelled without a refusal: if nobody got tokens, a
        // cancelled caller held the claim.
        assert!(tokens == 1 || cancelled >= 1);
        if tokens == 1 {
            assert_eq!(seen, 1);
        }
    }
}

#[tokio::test]
async fn clients_built_separately_in_one_process_send_a_code_once_between_them() {
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    // A handler that builds its client per request, as `Client::from_env()` in a handler does.
    let per_request = || builder(&sb, Dialect::Json).build().unwrap();
    per_request().login(&code, &Scope::default()).await.unwrap();
    assert_already_presented(per_request().exchange_code(&code, &Scope::default()).await);
    // Another dialect or transport is the same platform and app: the same ledger.
    assert_already_presented(
        builder(&sb, Dialect::Form)
            .build()
            .unwrap()
            .exchange_code(&code, &Scope::default())
            .await,
    );
    assert_eq!(presentations(&sb, &code), 1);
}

#[tokio::test]
async fn concurrent_clients_built_separately_send_a_code_once() {
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (client, code, barrier) = (
            builder(&sb, Dialect::Json).build().unwrap(),
            code.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            client.exchange_code(&code, &Scope::default()).await.is_ok()
        }));
    }
    let mut tokens = 0;
    for t in tasks {
        tokens += usize::from(t.await.unwrap());
    }
    assert_eq!((tokens, presentations(&sb, &code)), (1, 1));
}

#[tokio::test]
async fn one_ledger_value_can_be_shared_explicitly() {
    let sb = sandbox().await;
    let shared = Arc::new(neux_oauth::InMemoryLedger::new(100));
    let code = mint(&sb, "user.info", UserSpec::default());
    let a = builder(&sb, Dialect::Json)
        .code_ledger(shared.clone())
        .build()
        .unwrap();
    let b = builder(&sb, Dialect::Json)
        .code_ledger(shared.clone())
        .build()
        .unwrap();
    a.exchange_code(&code, &Scope::default()).await.unwrap();
    assert_already_presented(b.exchange_code(&code, &Scope::default()).await);
    assert_eq!((shared.len(), presentations(&sb, &code)), (1, 1));
}

#[tokio::test]
async fn a_flood_of_junk_codes_cannot_make_a_full_ledger_forget_a_spent_one() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json)
        .code_ledger(neux_oauth::InMemoryLedger::new(3))
        .build()
        .unwrap();
    let spent = mint(&sb, "user.info", UserSpec::default());
    client.login(&spent, &Scope::default()).await.unwrap();
    let mut refused = 0;
    for n in 0..3 {
        let junk = neux_oauth::AuthCode::new(format!("junk-{n}")).unwrap();
        match client.exchange_code(&junk, &Scope::default()).await {
            Err(Error::CodeRejected { .. }) => {}
            Err(e @ Error::Ledger(_)) => {
                assert_eq!(e.kind(), "ledger_full");
                assert!(!e.request_may_have_been_sent() && !e.needs_new_code() && e.is_retryable());
                assert_eq!(presentations(&sb, &junk), 0, "a refused code is not sent");
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(refused, 1, "two junk codes fit beside the spent one");
    // A leaked copy of the spent code, replayed after the flood.
    assert_already_presented(client.exchange_code(&spent, &Scope::default()).await);
    assert_eq!(presentations(&sb, &spent), 1);
}

#[tokio::test]
async fn a_login_whose_profile_fails_keeps_the_tokens_of_its_spent_code() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    // More 502s than the client retries.
    sb.inject_fault(FaultRule {
        path: USER_PATH.into(),
        count: 3,
        fault: FaultSpec::Status { status: 502 },
        when: FaultTiming::Before,
    })
    .unwrap();
    let err = client.login(&code, &Scope::default()).await.unwrap_err();
    let Error::LoginIncomplete { tokens, error } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(**error, Error::Http { status: 502, .. }),
        "{error:?}"
    );
    // The truth: the code is spent (a new login needs a new code)...
    assert!(err.needs_new_code() && !err.is_retryable() && err.request_may_have_been_sent());
    assert_eq!(err.kind(), "login_incomplete");
    // ...but the tokens are here, redacted in every text, and the profile reads with them.
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(tokens.access_token().expose_secret()),
        "{text}"
    );
    assert!(!text.contains(code.expose_secret()), "{text}");
    let user = client.user_info(tokens.access_token()).await.unwrap();
    assert_eq!(user.nick_name.as_deref(), Some("Sandbox User"));
    assert_eq!(
        err.tokens().map(|t| t.scope().to_string()),
        Some("user.info".into())
    );
    assert_eq!(presentations(&sb, &code), 1);
}

/// A step of the wall clock (NTP, a resumed VM) longer than a code's lifetime forgets nothing:
/// the in-memory ledger times lifetimes on the monotonic clock.
#[tokio::test]
async fn a_wall_clock_step_of_an_hour_forgets_no_live_code() {
    use neux_oauth::{Clock, CodeLedger};
    let sb = sandbox().await;
    let clock = neux_oauth::ManualClock::new(std::time::SystemTime::now());
    let ledger = std::sync::Arc::new(neux_oauth::InMemoryLedger::with_clock(100, clock.clone()));
    let client = builder(&sb, neux_oauth::Dialect::Json)
        .clock(clock.clone())
        .code_ledger(ledger.clone())
        .build()
        .unwrap();
    let code = mint(&sb, "user.info", neux_sandbox::UserSpec::default());
    client
        .exchange_code(&code, &neux_oauth::Scope::default())
        .await
        .unwrap();
    clock.set(clock.now() + std::time::Duration::from_secs(3_600));
    let again = client
        .exchange_code(&code, &neux_oauth::Scope::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            neux_oauth::Error::CodeAlreadyPresented {
                by: neux_oauth::SeenBy::Ledger
            }
        ),
        "{again:?}"
    );
    assert_eq!(presentations(&sb, &code), 1);
    // Its lifetime does pass on the monotonic clock.
    clock.advance(neux_oauth::CODE_LIFETIME);
    assert_eq!(ledger.len(), 1);
    let lapsed = neux_oauth::CodeKey::of(&code);
    let claim = ledger
        .claim(
            &neux_oauth::ClientId::new(APP).unwrap(),
            lapsed,
            clock.now(),
            neux_oauth::CODE_LIFETIME,
        )
        .await
        .unwrap();
    assert!(matches!(claim, neux_oauth::Claim::Won(_)), "{claim:?}");
}
