//! The client under faults: a storm of injected failures, and a deliberately hostile server.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use neux_oauth::{AuthCode, Client, Dialect, Error, RetryPolicy, Scope, SeenBy};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, UserSpec};

fn rule(path: &str, count: u32, fault: FaultSpec, when: FaultTiming) -> FaultRule {
    serde_json::from_value(
        serde_json::json!({"path": path, "count": count, "fault": fault, "when": when}),
    )
    .unwrap()
}

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_logins_with_ten_percent_faults() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json)
        .timeout(Duration::from_secs(1))
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(50)),
        )
        .build()
        .unwrap();
    // ~2,000 requests; 200 of them fail one way or another.
    for (path, count, fault, when) in [
        (
            TOKEN_PATH,
            40,
            FaultSpec::Status { status: 503 },
            FaultTiming::Before,
        ),
        (TOKEN_PATH, 20, FaultSpec::Drop, FaultTiming::After),
        (TOKEN_PATH, 20, FaultSpec::Truncate, FaultTiming::After),
        (
            TOKEN_PATH,
            20,
            FaultSpec::Delay { ms: 2_500 },
            FaultTiming::Before,
        ),
        (
            USER_PATH,
            40,
            FaultSpec::Status { status: 502 },
            FaultTiming::Before,
        ),
        (USER_PATH, 30, FaultSpec::Drop, FaultTiming::Before),
        (USER_PATH, 30, FaultSpec::NonJson, FaultTiming::Before),
    ] {
        sb.inject_fault(rule(path, count, fault, when)).unwrap();
    }
    let codes: Vec<AuthCode> = (0..1000)
        .map(|i| {
            mint(
                &sb,
                "user.info",
                UserSpec {
                    id: Some(format!("u{i}")),
                    ..Default::default()
                },
            )
        })
        .collect();
    let threads_before = threads();
    let queue = Arc::new(Mutex::new(codes.clone()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, queue) = (client.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            loop {
                let Some(code) = queue.lock().unwrap().pop() else {
                    break;
                };
                let t = Instant::now();
                let r = client.login(&code, &Scope::default()).await;
                // A profile that failed after the exchange keeps the tokens in the error.
                let kept = r.as_ref().err().and_then(Error::tokens).cloned();
                let r = r.map(|_| ()).map_err(|e| match e {
                    Error::LoginIncomplete { error, .. } => error.kind(),
                    e => e.kind(),
                });
                outcomes.push((t.elapsed(), r, kept));
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for t in tokio::time::timeout(Duration::from_secs(120), futures_util_join(tasks))
        .await
        .expect("every login ends")
    {
        outcomes.extend(t);
    }
    assert_eq!(outcomes.len(), 1000);
    let worst = outcomes.iter().map(|(d, ..)| *d).max().unwrap();
    // One exchange and up to three profile attempts, each at most the 1 s timeout, plus backoff
    // (at most 2 x 50 ms) and a margin.
    assert!(worst < Duration::from_secs(4 + 5), "a login took {worst:?}");
    let failed: Vec<&'static str> = outcomes.iter().filter_map(|(_, r, _)| r.err()).collect();
    assert!(
        failed
            .iter()
            .all(|k| ["transport", "http", "decode"].contains(k)),
        "{failed:?}"
    );
    assert!(
        (60..=200).contains(&failed.len()),
        "{} failures",
        failed.len()
    );
    // The one-time-code rule under faults: every login's exchange presented its code exactly
    // once. The sandbox logs a request when it arrives, so requests that a fault replaced or
    // that the client gave up on are counted too, as the fault entries show.
    for code in &codes {
        assert_eq!(
            presentations(&sb, code),
            1,
            "a code was presented 0 or 2+ times"
        );
    }
    let faulted_token_requests = sb
        .requests()
        .iter()
        .filter(|r| r.path == TOKEN_PATH && r.fault.is_some() && r.code_fingerprint.is_some())
        .count();
    assert_eq!(
        faulted_token_requests, 100,
        "every token fault saw its code"
    );
    // No login lost the tokens of a code it spent: those whose profile failed kept them, and
    // they read the profile now that the faults are spent.
    let kept: Vec<_> = outcomes.into_iter().filter_map(|(.., t)| t).collect();
    assert!(!kept.is_empty(), "no profile failed after an exchange");
    for tokens in &kept {
        client.user_info(tokens.access_token()).await.unwrap();
    }
    // Backoff sleeps end; nothing is left running.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        threads() <= threads_before + 2,
        "threads: {threads_before} -> {}",
        threads()
    );
    // The pool recovers: fresh logins all succeed.
    for i in 0..50 {
        let code = mint(
            &sb,
            "user.info",
            UserSpec {
                id: Some(format!("after{i}")),
                ..Default::default()
            },
        );
        client.login(&code, &Scope::default()).await.unwrap();
    }
    eprintln!(
        "1000 logins with faults: {} ok, {} failed, worst {worst:?}, {:.1} s",
        1000 - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
}

async fn futures_util_join<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// What the hostile server does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Html200,
    InvalidUtf8,
    WrongTypes,
    MissingOpenId,
    Html502,
    ErrorEnvelope,
    Redirect,
    Huge,
    Slow,
    /// `expire` at u64::MAX: overflows the clock if added unchecked.
    HugeExpire,
    /// A 2001 with a `Date` header in the year 300000000000: overflows a date parser.
    AbsurdDate,
}

async fn hostile(mode: Mode, elsewhere: String) -> String {
    use axum::response::IntoResponse;
    let handler = move || {
        let elsewhere = elsewhere.clone();
        async move {
            let json =
                |s: &'static str| ([("content-type", "application/json")], s).into_response();
            match mode {
                Mode::Html200 => (
                    [("content-type", "text/html")],
                    "<html><body>maintenance</body></html>",
                )
                    .into_response(),
                Mode::InvalidUtf8 => {
                    (axum::http::StatusCode::OK, vec![0xffu8, 0xfe, b'{', 0xc3]).into_response()
                }
                Mode::WrongTypes => json(
                    r#"{"responseHeader":{"status":"200"},"response":{"accessToken":123,"expire":"soon"}}"#,
                ),
                Mode::MissingOpenId => json(
                    r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":60,"nickName":"x"}}"#,
                ),
                Mode::Html502 => (
                    axum::http::StatusCode::BAD_GATEWAY,
                    "<html>502 Bad Gateway</html>",
                )
                    .into_response(),
                Mode::ErrorEnvelope => {
                    json(r#"{"responseHeader":{"status":5123,"msg":"internal"},"response":null}"#)
                }
                Mode::Redirect => (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [("location", format!("{elsewhere}/steal"))],
                )
                    .into_response(),
                Mode::Huge => vec![b'{'; 2 * 1024 * 1024].into_response(),
                Mode::Slow => {
                    tokio::time::sleep(STALL).await;
                    json("{}")
                }
                Mode::HugeExpire => json(
                    r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":18446744073709551615,"tokenType":"bearer"}}"#,
                ),
                Mode::AbsurdDate => (
                    [
                        ("content-type", "application/json"),
                        ("date", "Tue, 14 Nov 300000000000 22:13:20 GMT"),
                    ],
                    r#"{"responseHeader":{"status":2001,"msg":"timeout"},"response":null}"#,
                )
                    .into_response(),
            }
        }
    };
    let app = axum::Router::new()
        .route(TOKEN_PATH, axum::routing::post(handler.clone()))
        .route(USER_PATH, axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// The hostile transports' total timeout, and how long the slow mode stalls: far longer, so a
/// call that ends in time was cut short by the timeout.
const TIMEOUT: Duration = Duration::from_millis(800);
const STALL: Duration = Duration::from_secs(60);

fn transports() -> Vec<(&'static str, Arc<dyn neux_oauth::Transport>)> {
    let config = neux_oauth::TransportConfig::default().timeout(TIMEOUT);
    #[allow(unused_mut)]
    let mut out: Vec<(&'static str, Arc<dyn neux_oauth::Transport>)> = vec![(
        "default",
        neux_transport::default_transport(config.clone()).unwrap(),
    )];
    #[cfg(feature = "surf")]
    out.push((
        "surf",
        Arc::new(neux_oauth::SurfTransport::new(config).unwrap()),
    ));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_gets_typed_errors_and_no_secrets() {
    // A second server that must never be contacted (redirect target).
    let hits = Arc::new(Mutex::new(0usize));
    let h = hits.clone();
    let elsewhere_app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            *h.lock().unwrap() += 1;
            "stolen"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, elsewhere_app).await.unwrap() });

    let secret = "hostile-secret-value";
    let code = AuthCode::new("hostile-code-value").unwrap();
    let token = neux_oauth::AccessToken::new("hostile.token.value").unwrap();
    let cases = [
        (Mode::Html200, "decode", "decode"),
        (Mode::InvalidUtf8, "decode", "decode"),
        (Mode::WrongTypes, "decode", "decode"),
        (Mode::MissingOpenId, "decode", "decode"), // a token answer has no openId; a profile needs one
        (Mode::Html502, "http", "http"),
        (Mode::ErrorEnvelope, "api", "api"),
        (Mode::Redirect, "http", "http"),
        (Mode::Huge, "transport", "transport"),
        (Mode::Slow, "transport", "transport"),
        (Mode::HugeExpire, "decode", "decode"),
        (Mode::AbsurdDate, "clock_skew", "clock_skew"),
    ];
    for (name, transport) in transports() {
        for (mode, exchange_kind, user_kind) in cases {
            let base = hostile(mode, elsewhere.clone()).await;
            let client = Client::builder()
                .client_id(APP)
                .secret(secret)
                .base_url(&base)
                .shared_transport(transport.clone())
                .retry(
                    RetryPolicy::default()
                        .base_delay(Duration::from_millis(1))
                        .max_delay(Duration::from_millis(2)),
                )
                .build()
                .unwrap();
            let started = Instant::now();
            let e1 = client.exchange_code(&code, &Scope::default()).await;
            let e2 = client.user_info(&token).await;
            // One exchange and three profile attempts, each at most TIMEOUT, plus a margin.
            assert!(
                started.elapsed() < TIMEOUT * 4 + Duration::from_secs(5),
                "{name}/{mode:?}: no hang beyond the timeout"
            );
            let (e1, e2) = match (mode, e1, e2) {
                // A token answer without openId is fine (it is optional there).
                (Mode::MissingOpenId, Ok(_), Err(e2)) => (None, e2),
                // An absurd lifetime is clamped, not added to the clock unchecked.
                (Mode::HugeExpire, Ok(tokens), Err(e2)) => {
                    let left = tokens.expires_in();
                    assert!(
                        left <= neux_oauth::MAX_TOKEN_LIFETIME
                            && left + Duration::from_secs(60) > neux_oauth::MAX_TOKEN_LIFETIME,
                        "{name}: {left:?}"
                    );
                    (None, e2)
                }
                (_, Err(e1), Err(e2)) => (Some(e1), e2),
                (_, a, b) => panic!(
                    "{name}/{mode:?}: expected errors, got {:?} / {:?}",
                    a.map(|_| ()),
                    b.map(|_| ())
                ),
            };
            if mode == Mode::AbsurdDate {
                for e in e1.iter().chain([&e2]) {
                    assert!(
                        matches!(e, neux_oauth::Error::ClockSkew { skew: None, .. }),
                        "{name}: an unreadable Date means skew unknown: {e:?}"
                    );
                }
            }
            if let Some(e1) = &e1 {
                assert_eq!(e1.kind(), exchange_kind, "{name}/{mode:?}: {e1:?}");
                assert!(
                    e1.needs_new_code(),
                    "{name}/{mode:?}: the code may be spent"
                );
            }
            assert_eq!(e2.kind(), user_kind, "{name}/{mode:?}: {e2:?}");
            for e in e1.iter().chain([&e2]) {
                let text = format!("{e} {e:?} {:?}", client);
                for s in [
                    secret,
                    code.expose_secret(),
                    token.expose_secret(),
                    "hostile",
                ] {
                    assert!(!text.contains(s), "{name}/{mode:?}: {s} leaked: {text}");
                }
            }
        }
    }
    assert_eq!(
        *hits.lock().unwrap(),
        0,
        "a redirect was followed to another host"
    );
}

#[tokio::test]
async fn debug_and_display_of_a_whole_login_show_no_secrets() {
    let sb = sandbox().await;
    let builder = builder(&sb, Dialect::Form);
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let code = mint(&sb, "user.info,user.phone", UserSpec::default());
    let (tokens, user) = client
        .login(&code, &Scope::user_info_and_phone())
        .await
        .unwrap();
    let failure = client
        .login(&code, &Scope::user_info_and_phone())
        .await
        .unwrap_err();
    let text = format!(
        "{builder_debug} {client:?} {tokens:?} {user:?} {failure} {failure:?} {:?} {:?} {:?} {}",
        tokens.access_token(),
        code,
        tokens.access_token().claims_unverified().unwrap(),
        tokens.scope(),
    );
    let token = tokens.access_token().expose_secret();
    for s in [
        SECRET,
        code.expose_secret(),
        token,
        token.split('.').nth(2).unwrap(),
    ] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
    assert!(matches!(
        failure,
        Error::CodeAlreadyPresented { by: SeenBy::Ledger }
    ));
}
