//! The retry rules, checked request by request on the scripted transport.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use neux_oauth::{AccessToken, AuthCode, Client, Error, RetryPolicy, Scope};
use neux_oauth::{TimeoutPhase, TransportError};
use neux_transport::test_util::MockTransport;

const TOKEN_OK: &str = r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"a.b.c","expire":60,"tokenType":"bearer"}}"#;
const USER_OK: &str = r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"openId":"o1"}}"#;

fn client(mock: &MockTransport) -> Client {
    crate::support::scripted_client(mock, "app")
}

/// A "nothing was sent" connect failure, as the mock reports an empty script.
fn connect_error() -> TransportError {
    futures_lite::future::block_on(async {
        use neux_oauth::Transport;
        MockTransport::new()
            .send(http::Request::get("http://x/").body(Vec::new()).unwrap())
            .await
            .unwrap_err()
    })
}

/// A fresh code: every client of this process for one platform and app shares a ledger, and a
/// code is presented once.
fn code() -> AuthCode {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    AuthCode::new(format!("one-time-code-{n}")).unwrap()
}

#[tokio::test]
async fn exchange_retries_only_what_was_never_sent() {
    let mock = MockTransport::new();
    mock.push_error(connect_error());
    mock.push_json(200, TOKEN_OK);
    client(&mock)
        .exchange_code(&code(), &Scope::default())
        .await
        .unwrap();
    assert_eq!(mock.requests().len(), 2, "a refused connection is retried");

    let sent_errors = [
        TransportError::Timeout {
            origin: "https://api.example.test".into(),
            phase: TimeoutPhase::Exchange,
            after: Duration::from_secs(1),
        },
        TransportError::BodyTooLarge {
            origin: "https://api.example.test".into(),
            limit: 1,
        },
    ];
    for e in sent_errors {
        let mock = MockTransport::new();
        mock.push_error(e.clone());
        mock.push_json(200, TOKEN_OK);
        let err = client(&mock)
            .exchange_code(&code(), &Scope::default())
            .await
            .unwrap_err();
        assert!(err.needs_new_code(), "{err:?}");
        assert_eq!(mock.requests().len(), 1, "{e:?} must not be retried");
    }
}

#[tokio::test]
async fn exchange_request_is_exact() {
    let mock = MockTransport::new();
    mock.push_json(200, TOKEN_OK);
    let code = code();
    let tokens = client(&mock)
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
    let c = code.expose_secret();
    let left = tokens.expires_in();
    assert!(
        left > Duration::from_secs(59) && left <= Duration::from_secs(60),
        "{left:?}"
    );
    let req = &mock.requests()[0];
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(
        req.uri(),
        "https://api.example.test/neuopenapi/oauth/mini/accessToken"
    );
    assert_eq!(req.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
    let ts = body["timestamp"].as_u64().expect("a JSON integer");
    // The signature, recomputed from the spec's rule over what was sent (no neux code), and the
    // body compared byte for byte.
    let canonical = format!(
        "clientId=appcode={c}grantType=authorization_codescope=user.infosecret=secrettimestamp={ts}"
    );
    use sha2::Digest;
    let sign = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
    assert_eq!(
        std::str::from_utf8(req.body()).unwrap(),
        format!(
            r#"{{"clientId":"app","code":"{c}","grantType":"authorization_code","scope":"user.info","timestamp":{ts},"sign":"{sign}"}}"#
        )
    );
}

#[tokio::test]
async fn user_info_retries_transport_and_5xx_but_not_api_statuses() {
    let token = AccessToken::new("a+b.c/d").unwrap();
    let mock = MockTransport::new();
    mock.push_error(TransportError::Timeout {
        origin: "o".into(),
        phase: TimeoutPhase::Exchange,
        after: Duration::from_secs(1),
    });
    mock.push_json(502, "<html>bad gateway</html>");
    mock.push_json(200, USER_OK);
    let user = client(&mock).user_info(&token).await.unwrap();
    assert_eq!(user.open_id.as_str(), "o1");
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].uri(),
        "https://api.example.test/neuopenapi/oauth/mini/user/info?accessToken=a%2Bb.c%2Fd"
    );

    let mock = MockTransport::new();
    mock.push_json(
        200,
        r#"{"responseHeader":{"status":4030,"msg":"token invalid"}}"#,
    );
    let err = client(&mock).user_info(&token).await.unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_eq!(mock.requests().len(), 1);

    let mock = MockTransport::new();
    mock.push_json(404, "not found");
    let err = client(&mock).user_info(&token).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err:?}");
    assert_eq!(mock.requests().len(), 1, "4xx is not retried");
}

#[tokio::test]
async fn no_retry_policy_means_one_attempt() {
    let mock = MockTransport::new();
    mock.push_json(503, "busy");
    let c = Client::builder()
        .client_id("app")
        .secret("secret")
        .base_url("https://api.example.test")
        .transport(mock.clone())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(c.user_info(&AccessToken::new("t").unwrap()).await.is_err());
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn a_server_echoing_the_code_or_token_is_scrubbed() {
    let mock = MockTransport::new();
    let code = code();
    mock.push_json(
        200,
        &format!(
            r#"{{"responseHeader":{{"status":4999,"msg":"bad code {}"}}}}"#,
            code.expose_secret()
        ),
    );
    let err = client(&mock)
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(code.expose_secret()), "{err}");
    let mock = MockTransport::new();
    mock.push_json(
        200,
        r#"{"responseHeader":{"status":4999,"msg":"bad token tok-123"}}"#,
    );
    let err = client(&mock)
        .user_info(&AccessToken::new("tok-123").unwrap())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("tok-123"), "{err}");
}

/// One failure as the scripted transport replays it.
enum Failure {
    Transport(fn() -> TransportError),
    Answer(u16, &'static str),
}

fn timeout(phase: TimeoutPhase) -> TransportError {
    TransportError::Timeout {
        origin: "o".into(),
        phase,
        after: Duration::from_secs(1),
    }
}

/// Each failure, with whether `user_info` retries it and whether the exchange may present its
/// code again after it (nothing was sent).
fn failures() -> Vec<(&'static str, Failure, bool, bool)> {
    let table = vec![
        ("connect", Failure::Transport(connect_error)),
        (
            "connect timeout",
            Failure::Transport(|| timeout(TimeoutPhase::Connect)),
        ),
        (
            "exchange timeout",
            Failure::Transport(|| timeout(TimeoutPhase::Exchange)),
        ),
        (
            "body too large",
            Failure::Transport(|| TransportError::BodyTooLarge {
                origin: "o".into(),
                limit: 1,
            }),
        ),
        (
            "unavailable",
            Failure::Transport(|| TransportError::Unavailable { reason: "r".into() }),
        ),
        (
            "invalid request",
            Failure::Transport(|| TransportError::InvalidRequest { reason: "r".into() }),
        ),
        ("503 page", Failure::Answer(503, "<html>busy</html>")),
        ("404 page", Failure::Answer(404, "<html>gone</html>")),
        (
            "api status",
            Failure::Answer(200, r#"{"responseHeader":{"status":4107,"msg":"x"}}"#),
        ),
        (
            "2001",
            Failure::Answer(200, r#"{"responseHeader":{"status":2001,"msg":"x"}}"#),
        ),
        ("garbled", Failure::Answer(200, "{not json")),
    ];
    let expected = [
        ("connect", true, true),
        ("connect timeout", true, true),
        ("exchange timeout", true, false),
        ("body too large", false, false),
        ("unavailable", false, true),
        ("invalid request", false, true),
        ("503 page", true, false),
        ("404 page", false, false),
        ("api status", false, false),
        ("2001", false, false),
        ("garbled", false, false),
    ];
    assert_eq!(table.len(), expected.len());
    table
        .into_iter()
        .zip(expected)
        .map(|((name, f), (n, retried, again))| {
            assert_eq!(name, n);
            (name, f, retried, again)
        })
        .collect()
}

fn script(mock: &MockTransport, f: &Failure) {
    match f {
        Failure::Transport(e) => mock.push_error(e()),
        Failure::Answer(status, body) => mock.push_json(*status, body),
    }
}

#[tokio::test]
async fn is_retryable_says_exactly_what_user_info_retries() {
    let token = AccessToken::new("t").unwrap();
    for (name, failure, expected, _) in failures() {
        let mock = MockTransport::new();
        script(&mock, &failure);
        mock.push_json(200, USER_OK);
        let outcome = client(&mock).user_info(&token).await;
        let retried = mock.requests().len() == 2;
        assert_eq!(retried, expected, "{name}: retried");
        assert_eq!(retried, outcome.is_ok(), "{name}");
        // The error the failure makes on its own:
        let alone = MockTransport::new();
        script(&alone, &failure);
        let err = client(&alone).user_info(&token).await.unwrap_err();
        assert_eq!(err.is_retryable(), retried, "{name}: {err:?}");
    }
}

#[tokio::test]
async fn request_may_have_been_sent_and_needs_new_code_follow_what_the_exchange_does() {
    for (name, failure, _, expected) in failures() {
        let mock = MockTransport::new();
        script(&mock, &failure);
        let c = Client::builder()
            .client_id("app")
            .secret("secret")
            .base_url("https://api.example.test")
            .transport(mock.clone())
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let code = code();
        let err = c.exchange_code(&code, &Scope::default()).await.unwrap_err();
        // The client presents the code again exactly when the helpers say it may.
        mock.push_json(200, TOKEN_OK);
        let again = c.exchange_code(&code, &Scope::default()).await;
        let presented_again = mock.requests().len() == 2;
        assert_eq!(presented_again, expected, "{name}: presented again");
        assert_eq!(presented_again, !err.needs_new_code(), "{name}: {err:?}");
        assert_eq!(
            err.request_may_have_been_sent(),
            err.needs_new_code(),
            "{name}: {err:?}"
        );
        assert_eq!(again.is_ok(), presented_again, "{name}");
    }
}
