//! `Client::call`: any signed call, in both dialects and on both transports, with the login's
//! typed errors, redaction and resend rules, against the sandbox's signed-call path.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::support::*;
use neux_oauth::{
    ApiCall, Client, Dialect, Error, Params, RetryPolicy, SkewedClock, Transport, status,
};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, Sandbox};
use serde::Deserialize;
use serde_json::Value;

const PATH: &str = "/neuopenapi/sandbox/pay/v1/order";

type MakeTransport = Box<dyn Fn() -> Box<dyn Transport>>;

/// Every transport this build has (entries depend on the features, hence the pushes).
#[allow(clippy::vec_init_then_push)]
fn transports() -> Vec<(&'static str, MakeTransport)> {
    let mut t: Vec<(&'static str, MakeTransport)> = Vec::new();
    #[cfg(feature = "reqwest-client")]
    t.push((
        "reqwest",
        Box::new(|| Box::new(neux_oauth::ReqwestTransport::new(Default::default()).unwrap())),
    ));
    #[cfg(feature = "surf")]
    t.push((
        "surf",
        Box::new(|| Box::new(neux_oauth::SurfTransport::new(Default::default()).unwrap())),
    ));
    assert!(!t.is_empty(), "no transport in this build");
    t
}

fn client(sb: &Sandbox, dialect: Dialect, transport: Box<dyn Transport>) -> Client {
    builder(sb, dialect)
        .shared_transport(std::sync::Arc::from(transport))
        .build()
        .unwrap()
}

fn order() -> Params {
    Params::new()
        .with("outTradeNo", "order-0001")
        .and_then(|p| p.with("amount", 100))
        .and_then(|p| p.with("openIds", vec!["o-1", "o-2"]))
        .and_then(|p| p.with("note", "a&b=c d+é 🚀"))
        .unwrap()
}

#[derive(Debug, Deserialize)]
struct Echo {
    path: String,
    params: Value,
}

fn arrivals(sb: &Sandbox) -> usize {
    requests_to(sb, PATH)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_works_in_both_dialects_on_both_transports() {
    let sb = sandbox().await;
    for (name, make) in transports() {
        for dialect in [Dialect::Json, Dialect::Form] {
            let echo: Echo = client(&sb, dialect, make())
                .call(ApiCall::new(PATH, order()))
                .await
                .unwrap_or_else(|e| panic!("{name} {dialect}: {e}"));
            assert_eq!(echo.path, PATH);
            let p = &echo.params;
            assert_eq!(p["note"], "a&b=c d+é 🚀", "{name} {dialect}");
            assert_eq!(p[dialect.client_id_key()], APP);
            // JSON keeps the types; a form body carries the signed text.
            match dialect {
                Dialect::Json => {
                    assert_eq!(p["amount"], 100);
                    assert_eq!(p["openIds"], serde_json::json!(["o-1", "o-2"]));
                }
                _ => {
                    assert_eq!(p["amount"], "100");
                    assert_eq!(p["openIds"], "o-1,o-2");
                }
            }
        }
    }
    assert_eq!(arrivals(&sb), 2 * transports().len());
}

#[tokio::test]
async fn refusals_are_the_logins_typed_errors() {
    let sb = sandbox().await;
    let wrong = Client::builder()
        .client_id(APP)
        .secret("not-the-secret")
        .base_url(sb.base_url())
        .build()
        .unwrap();
    let mut params = order();
    params.mark_sensitive("outTradeNo");
    match wrong.call::<Value>(ApiCall::new(PATH, params)).await {
        Err(e @ Error::SignatureRejected { .. }) => {
            let text = format!("{e} {e:?}");
            let Error::SignatureRejected { canonical, .. } = &e else {
                unreachable!()
            };
            assert!(canonical.contains("secret=[REDACTED]"), "{canonical}");
            assert!(canonical.contains("outTradeNo=[REDACTED]"), "{canonical}");
            assert!(canonical.contains("amount=100"), "{canonical}");
            assert!(!text.contains("order-0001"), "{text}");
            assert!(!text.contains("not-the-secret"), "{text}");
        }
        other => panic!("{other:?}"),
    }

    let skewed = builder(&sb, Dialect::Json)
        .clock(SkewedClock::ahead(Duration::from_secs(900)))
        .build()
        .unwrap();
    match skewed.call::<Value>(ApiCall::new(PATH, order())).await {
        Err(Error::ClockSkew { skew: Some(s), .. }) => {
            assert!(s.local_ahead && s.by >= Duration::from_secs(890), "{s}");
        }
        other => panic!("{other:?}"),
    }

    let stranger = Client::builder()
        .client_id("nobody")
        .secret(SECRET)
        .base_url(sb.base_url())
        .build()
        .unwrap();
    assert!(matches!(
        stranger.call::<Value>(ApiCall::new(PATH, order())).await,
        Err(Error::Api { status, .. }) if status == status::UNKNOWN_CLIENT
    ));
}

#[tokio::test]
async fn keys_the_client_adds_and_bad_paths_are_refused_before_sending() {
    let sb = sandbox().await;
    let c = builder(&sb, Dialect::Form).build().unwrap();
    for key in ["sign", "appid", "clientId", "timestamp"] {
        let params = order().with(key, "x").unwrap();
        let e = c
            .call::<Value>(ApiCall::new(PATH, params))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidCall(_)), "{key}: {e:?}");
        assert!(!e.request_may_have_been_sent() && !e.is_retryable());
        assert_eq!(e.kind(), "invalid_call");
    }
    assert!(Params::new().with("secret", "x").is_err());
    for path in ["no-slash", "/a?b=1", "/a/../oauth"] {
        let e = c
            .call::<Value>(ApiCall::new(path, order()))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidCall(_)), "{path}: {e:?}");
    }
    assert_eq!(sb.requests().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_code_exchange_cannot_go_around_the_ledger_as_a_generic_call() {
    let sb = sandbox().await;
    let c = builder(&sb, Dialect::Json).build().unwrap();
    let code = mint(&sb, "user.info", neux_sandbox::UserSpec::default());
    let exchange = Params::new()
        .with("code", code.expose_secret())
        .and_then(|p| p.with("grantType", "authorization_code"))
        .and_then(|p| p.with("scope", "user.info"))
        .unwrap();
    for path in [TOKEN_PATH, "/neuopenapi/oauth/mini/accessToken/", PATH] {
        let e = c
            .call::<Value>(ApiCall::new(path, exchange.clone()))
            .await
            .unwrap_err();
        match &e {
            Error::InvalidCall(m) => assert!(m.contains("exchange_code"), "{m}"),
            other => panic!("{path}: {other:?}"),
        }
        assert!(!e.request_may_have_been_sent() && !e.needs_new_code());
    }
    assert_eq!(sb.requests().len(), 0, "nothing was sent");
    // The code is still whole: the exchange presents it, once.
    c.exchange_code(&code, &neux_oauth::Scope::default())
        .await
        .unwrap();
    assert_eq!(presentations(&sb, &code), 1);
}

fn fault(sb: &Sandbox, count: u32, fault: FaultSpec, when: FaultTiming) {
    sb.inject_fault(FaultRule {
        path: PATH.into(),
        count,
        fault,
        when,
    })
    .unwrap();
}

#[tokio::test]
async fn a_call_is_sent_again_only_when_nothing_was_sent_unless_idempotent() {
    let sb = sandbox().await;
    let c = builder(&sb, Dialect::Json).build().unwrap();
    let status_503 = FaultSpec::Status { status: 503 };

    // By default an answer (even a 503) or a dropped connection after sending ends the call.
    fault(&sb, 1, status_503.clone(), FaultTiming::Before);
    let e = c
        .call::<Value>(ApiCall::new(PATH, order()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(arrivals(&sb), 1);
    fault(&sb, 1, FaultSpec::Drop, FaultTiming::After);
    let e = c
        .call::<Value>(ApiCall::new(PATH, order()))
        .await
        .unwrap_err();
    assert!(e.request_may_have_been_sent(), "{e:?}");
    assert_eq!(arrivals(&sb), 2, "not resent after the server handled it");

    // Declared idempotent, it is retried like user_info...
    fault(&sb, 1, status_503.clone(), FaultTiming::Before);
    let _: Value = c
        .call(ApiCall::new(PATH, order()).idempotent())
        .await
        .unwrap();
    assert_eq!(arrivals(&sb), 4);
    // ...never more than the policy allows (2 retries)...
    fault(&sb, 10, status_503, FaultTiming::Before);
    let e = c
        .call::<Value>(ApiCall::new(PATH, order()).idempotent())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Http { status: 503, .. }), "{e:?}");
    assert_eq!(arrivals(&sb), 7);
    sb.clear_faults();
    // ...and never on an API status.
    let wrong = builder(&sb, Dialect::Json).secret("wrong").build().unwrap();
    let e = wrong
        .call::<Value>(ApiCall::new(PATH, order()).idempotent())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::SignatureRejected { .. }));
    assert_eq!(arrivals(&sb), 8);

    let none = builder(&sb, Dialect::Json)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    fault(
        &sb,
        1,
        FaultSpec::Status { status: 502 },
        FaultTiming::Before,
    );
    assert!(
        none.call::<Value>(ApiCall::new(PATH, order()).idempotent())
            .await
            .is_err()
    );
    assert_eq!(arrivals(&sb), 9);
}

#[tokio::test]
async fn what_the_server_echoes_of_a_sensitive_value_is_masked() {
    let mock = neux_transport::test_util::MockTransport::new();
    mock.push_json(
        200,
        r#"{"responseHeader":{"status":4999,"msg":"card 4111111111111111 declined"},"response":null}"#,
    );
    let c = Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url("https://openapi.example.com")
        .transport(mock.clone())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let mut params = Params::new().with("cardNo", "4111111111111111").unwrap();
    params.mark_sensitive("cardNo");
    let call = ApiCall::new("/neuopenapi/pay/v1/charge", params);
    assert!(!format!("{call:?}").contains("4111"));
    let e = c.call::<Value>(call).await.unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(!text.contains("4111111111111111"), "{text}");
    assert!(text.contains("card [REDACTED] declined"), "{text}");
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].uri(),
        "https://openapi.example.com/neuopenapi/pay/v1/charge"
    );
}

/// A wrong secret: the sandbox's 2000 message echoes the canonical string it expected, sensitive
/// integer included (it cannot know the caller marked it).
#[tokio::test]
async fn a_sensitive_integer_echoed_in_a_2000_is_masked() {
    let sb = sandbox().await;
    for dialect in [Dialect::Json, Dialect::Form] {
        let c = builder(&sb, dialect)
            .secret("not-the-secret")
            .build()
            .unwrap();
        let mut params = Params::new()
            .with("cardNo", 4_111_111_111_111_111u64)
            .and_then(|p| p.with("pins", vec![1234u64, 5678]))
            .and_then(|p| p.with("amount", 100))
            .unwrap();
        params.mark_sensitive("cardNo");
        params.mark_sensitive("pins");
        let e = c
            .call::<Value>(ApiCall::new(PATH, params))
            .await
            .unwrap_err();
        let Error::SignatureRejected { message, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(message.contains("cardNo=[REDACTED]"), "{message}");
        let text = format!("{e} {e:?}");
        for hidden in ["4111111111111111", "1234", "5678", "not-the-secret"] {
            assert!(!text.contains(hidden), "{hidden} in {text}");
        }
        assert!(text.contains("amount=100"), "{text}");
    }
}

/// A 200 whose payload has the wrong shape, echoing a short password: the decode error's reason
/// and excerpt mask it, raw, JSON-escaped and form-encoded, even where the excerpt is cut.
#[tokio::test]
async fn a_password_echoed_into_a_decode_error_is_masked() {
    let pw = "p\"w1é";
    // The value starts at byte 115: a cut at 120 would keep its first five bytes.
    let padding = "x".repeat(66);
    for body in [
        // The reason (serde quotes the value it could not take) and the excerpt.
        format!(
            r#"{{"responseHeader":{{"status":200}},"response":{{"n":"{}"}}}}"#,
            "p\\\"w1é"
        ),
        // Form-encoded, straddling the 120-byte cut.
        format!(
            r#"{{"responseHeader":{{"status":200}},"response":{{"{padding}":"p%22w1%C3%A9"}}}}"#
        ),
        // JSON-escaped with non-ASCII as \u, straddling the cut.
        format!(
            r#"{{"responseHeader":{{"status":200}},"response":{{"{padding}":"p\"w1\u00e9"}}}}"#
        ),
    ] {
        let mock = neux_transport::test_util::MockTransport::new();
        mock.push_json(200, &body);
        let c = Client::builder()
            .client_id(APP)
            .secret(SECRET)
            .base_url("https://openapi.example.com")
            .transport(mock)
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let params = Params::new().with("password", pw).unwrap();
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Answer {
            n: u64,
        }
        let e = c
            .call::<Answer>(ApiCall::new("/neuopenapi/user/v1/verify", params))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Decode(_)), "{e:?}");
        let text = format!("{e} {e:?}");
        for form in ["p\"w", "p\\\"w", "p%22w", "w1é", "w1\\u00e9", "w1%C3"] {
            assert!(!text.contains(form), "{form} in {text}");
        }
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}
