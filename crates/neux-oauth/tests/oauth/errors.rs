//! Every error provoked for real against the sandbox, and what the caller is told.
#![allow(clippy::unwrap_used)]

use neux_oauth::status;
use std::time::Duration;

use crate::support::*;
use neux_oauth::{Client, Dialect, Error, Scope, SeenBy, SkewedClock};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, UserSpec};

fn fault(path: &str, count: u32, fault: FaultSpec, when: FaultTiming) -> FaultRule {
    serde_json::from_value(
        serde_json::json!({"path": path, "count": count, "fault": fault, "when": when}),
    )
    .unwrap()
}

fn assert_clean(err: &Error, secrets: &[&str]) {
    let text = format!("{err} {err:?}");
    for s in secrets {
        assert!(!text.contains(s), "{s} leaked into {text}");
    }
}

#[tokio::test]
async fn wrong_secret_is_a_signature_error_and_keeps_the_code() {
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    // Each client has a ledger of its own, as a backend restarted with another secret would:
    // clients of one process share one, and it would refuse the code after its first answer.
    let restarted = || neux_oauth::InMemoryLedger::new(16);
    for dialect in [Dialect::Json, Dialect::Form] {
        let client = builder(&sb, dialect)
            .secret("not-the-secret")
            .code_ledger(restarted())
            .build()
            .unwrap();
        let err = client
            .exchange_code(&code, &Scope::default())
            .await
            .unwrap_err();
        let Error::SignatureRejected { canonical, .. } = &err else {
            panic!("{err:?}")
        };
        let key = dialect.client_id_key();
        assert_eq!(
            canonical.split("timestamp=").next().unwrap(),
            format!(
                "{key}={APP}code=[REDACTED]grantType=authorization_codescope=user.infosecret=[REDACTED]"
            )
        );
        // The code reached the server, so this client will not present it again.
        assert!(err.needs_new_code() && !err.is_retryable());
        assert_clean(&err, &[code.expose_secret(), "not-the-secret", SECRET]);
    }
    // The sandbox refused the signature before looking at the code: a client with the right
    // secret (a backend restarted with it) can still use it.
    let client = builder(&sb, Dialect::Json)
        .code_ledger(restarted())
        .build()
        .unwrap();
    client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn skewed_clock_is_reported_with_the_measured_skew() {
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    let client = builder(&sb, Dialect::Json)
        .clock(SkewedClock::ahead(Duration::from_secs(600)))
        .build()
        .unwrap();
    let err = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let Error::ClockSkew {
        skew: Some(skew), ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(skew.local_ahead);
    assert!((598..=602).contains(&skew.by.as_secs()), "{skew:?}");
    assert!(err.to_string().contains("this host's clock is 6"), "{err}");
    // An answer, not an accident: fix the clock, and get a new code (this one was presented).
    assert!(!err.is_retryable() && err.needs_new_code());
}

#[tokio::test]
async fn used_and_unknown_codes_are_code_rejections() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
    // Another client of this process shares the ledger: it refuses without sending.
    let same_process = builder(&sb, Dialect::Json).build().unwrap();
    let err = same_process
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CodeAlreadyPresented { by: SeenBy::Ledger }),
        "{err:?}"
    );
    assert_eq!(presentations(&sb, &code), 1);
    // A second backend instance without a shared ledger meets the platform's refusal, as the
    // same typed error.
    let other = builder(&sb, Dialect::Json)
        .code_ledger(neux_oauth::InMemoryLedger::new(16))
        .build()
        .unwrap();
    let err = other
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let Error::CodeAlreadyPresented {
        by: SeenBy::Platform { status, .. },
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, status::CODE_USED);
    assert!(err.needs_new_code() && !err.is_retryable() && err.request_may_have_been_sent());
    assert_clean(&err, &[code.expose_secret()]);
    assert_eq!(presentations(&sb, &code), 2);

    let unknown = neux_oauth::AuthCode::new("never-issued").unwrap();
    let err = client
        .exchange_code(&unknown, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CodeRejected { status, .. } if status == status::CODE_UNKNOWN),
        "{err:?}"
    );

    // With no statuses configured, the same answer is carried through as Api.
    let strict = builder(&sb, Dialect::Json)
        .code_rejection_statuses([])
        .code_used_statuses([])
        .code_ledger(neux_oauth::InMemoryLedger::new(16))
        .build()
        .unwrap();
    let err = strict
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Api { status, .. } if status == status::CODE_USED),
        "{err:?}"
    );
}

#[tokio::test]
async fn unauthorised_user() {
    let sb = sandbox().await;
    let code = mint(
        &sb,
        "user.info",
        UserSpec {
            authorized: Some(false),
            ..Default::default()
        },
    );
    let err = builder(&sb, Dialect::Form)
        .build()
        .unwrap()
        .login(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotAuthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn expired_token_and_client_side_expiry() {
    let clock = neux_sandbox::ManualClock::new(std::time::SystemTime::now());
    let sb = neux_sandbox::Sandbox::builder()
        .app(APP, SECRET)
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let client_clock = neux_oauth::ManualClock::new(std::time::SystemTime::now());
    let client = builder(&sb, Dialect::Json)
        .clock(client_clock.clone())
        .build()
        .unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let tokens = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
    client_clock.advance(Duration::from_secs(604_799));
    assert!(!tokens.is_expired());
    client_clock.advance(Duration::from_secs(1));
    assert!(tokens.is_expired(), "expiry follows the client's clock");
    assert_eq!(tokens.expires_in(), Duration::ZERO);

    clock.advance(Duration::from_secs(604_800));
    let err = client.user_info(tokens.access_token()).await.unwrap_err();
    assert!(
        matches!(err, Error::Api { status, .. } if status == status::TOKEN_EXPIRED),
        "{err:?}"
    );
    assert_eq!(
        requests_to(&sb, USER_PATH),
        1,
        "API statuses are not retried"
    );
    assert_clean(&err, &[tokens.access_token().expose_secret()]);
}

#[tokio::test]
async fn a_code_that_may_have_reached_the_server_is_never_resent() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    for f in [
        FaultSpec::Drop,
        FaultSpec::Truncate,
        FaultSpec::Status { status: 502 },
        FaultSpec::NonJson,
    ] {
        let code = mint(&sb, "user.info", UserSpec::default());
        sb.inject_fault(fault(TOKEN_PATH, 1, f.clone(), FaultTiming::After))
            .unwrap();
        let err = client
            .exchange_code(&code, &Scope::default())
            .await
            .unwrap_err();
        assert!(err.needs_new_code(), "{f:?}: {err:?}");
        assert_eq!(
            presentations(&sb, &code),
            1,
            "{f:?}: the code was presented more than once"
        );
        assert_clean(&err, &[code.expose_secret()]);
        let kind_ok = match f {
            FaultSpec::Drop | FaultSpec::Truncate => {
                matches!(&err, Error::Transport(t) if t.may_have_been_sent())
            }
            FaultSpec::Status { .. } => matches!(err, Error::Http { status: 502, .. }),
            _ => matches!(err, Error::Decode(_)),
        };
        assert!(kind_ok, "{f:?}: {err:?}");
    }
}

#[tokio::test]
async fn user_info_retries_5xx_and_transport_failures_then_gives_up() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let tokens = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();

    sb.inject_fault(fault(
        USER_PATH,
        1,
        FaultSpec::Status { status: 503 },
        FaultTiming::Before,
    ))
    .unwrap();
    sb.inject_fault(fault(USER_PATH, 1, FaultSpec::Drop, FaultTiming::Before))
        .unwrap();
    let before = requests_to(&sb, USER_PATH);
    client.user_info(tokens.access_token()).await.unwrap();
    assert_eq!(
        requests_to(&sb, USER_PATH) - before,
        3,
        "two failures, then success"
    );

    sb.inject_fault(fault(
        USER_PATH,
        5,
        FaultSpec::Status { status: 502 },
        FaultTiming::Before,
    ))
    .unwrap();
    let before = requests_to(&sb, USER_PATH);
    let err = client.user_info(tokens.access_token()).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 502, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(
        requests_to(&sb, USER_PATH) - before,
        3,
        "1 try + 2 retries (the default)"
    );
}

#[tokio::test]
async fn connection_refused_is_a_connect_error_that_leaves_the_code_unspent() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(format!("http://{free}"))
        .build()
        .unwrap();
    let code = neux_oauth::AuthCode::new("c0de").unwrap();
    let err = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert!(
        t.is_connect() && !err.needs_new_code() && err.is_retryable(),
        "{err:?}"
    );
}

#[tokio::test]
async fn error_messages_snapshot() {
    let sb = sandbox().await;
    let code = mint(&sb, "user.info", UserSpec::default());
    // Clients with ledgers of their own, as in other processes: the process's shared ledger
    // would refuse the code before the platform could.
    let own = || neux_oauth::InMemoryLedger::new(16);
    let wrong = builder(&sb, Dialect::Form)
        .secret("wrong")
        .code_ledger(own())
        .build()
        .unwrap();
    let sig = wrong
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let sig = format!("{sig}\n  signed: {}", sig.signed_string().unwrap());
    let good = builder(&sb, Dialect::Form).build().unwrap();
    good.exchange_code(&code, &Scope::default()).await.unwrap();
    let again = good
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err()
        .to_string();
    let used = builder(&sb, Dialect::Form)
        .code_ledger(own())
        .build()
        .unwrap()
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err()
        .to_string();
    let skewed = builder(&sb, Dialect::Json)
        .clock(SkewedClock::behind(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let code2 = mint(&sb, "user.info", UserSpec::default());
    let skew = skewed
        .exchange_code(&code2, &Scope::default())
        .await
        .unwrap_err()
        .to_string();
    let all = format!("{sig}\n{used}\n{again}\n{skew}");
    insta::with_settings!({filters => vec![
        (r"timestamp=\d+", "timestamp=[TS]"),
        (r"timestamp \d+ is \d+ ms", "timestamp [TS] is [N] ms"),
        (r"server clock \d+", "server clock [TS]"),
        (r"clock is \d+ s", "clock is [N] s"),
    ]}, {
        insta::assert_snapshot!(all);
    });
}
