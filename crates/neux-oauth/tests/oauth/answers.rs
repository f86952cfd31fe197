//! Nothing a server sends may panic the client: the whole answer-handling path (HTTP status,
//! headers, body) driven with arbitrary input over a scripted transport. Every answer becomes a
//! value or a typed error.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, UNIX_EPOCH};

use neux_oauth::{AccessToken, AuthCode, Client, ManualClock, RetryPolicy, Scope};
use neux_transport::test_util::MockTransport;
use proptest::prelude::*;

/// Numbers as a server might write them: ordinary, at and past the integer limits, negative,
/// fractional, exponent, or not a number at all.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("18446744073709551615".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("-1".to_owned()),
        Just("1e400".to_owned()),
        Just("604800.5".to_owned()),
        Just("99999999999999999999999999999999".to_owned()),
        Just("\"604800\"".to_owned()),
        Just("null".to_owned()),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    // Half the envelopes succeed, so the token path (lifetime, expiry) is driven as hard as the
    // error path.
    let status = prop_oneof![Just("200".to_owned()), Just("2001".to_owned()), number()];
    let envelope = (status, number(), "[ -~]{0,12}").prop_map(|(status, expire, token)| {
        format!(
            r#"{{"responseHeader":{{"status":{status},"msg":"m"}},"response":{{"accessToken":"{token}","expire":{expire},"tokenType":"bearer","openId":"o1","nickName":"n"}}}}"#
        )
        .into_bytes()
    });
    prop_oneof![
        envelope,
        proptest::collection::vec(any::<u8>(), 0..256),
        "\\PC{0,128}".prop_map(String::into_bytes),
    ]
}

fn date() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        (
            any::<u64>(),
            any::<i64>(),
            any::<u64>(),
            0u64..100,
            0u64..100
        )
            .prop_map(|(d, y, h, m, s)| Some(format!("Tue, {d} Nov {y} {h}:{m}:{s} GMT"))),
        (1u64..32, 0i64..10_000, 0u64..24)
            .prop_map(|(d, y, h)| Some(format!("Tue, {d:02} Dec {y:04} {h:02}:00:00 GMT"))),
        "[ -~]{0,40}".prop_map(Some),
    ]
}

fn answer(status: u16, date: &Option<String>, body: &[u8]) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    if let Some(d) = date {
        builder = builder.header(http::header::DATE, d.as_str());
    }
    builder
        .body(body.to_vec())
        .unwrap_or_else(|_| http::Response::new(body.to_vec()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn any_answer_gives_a_value_or_a_typed_error(
        status in 100u16..1000,
        date in date(),
        body in body(),
        far_clock in any::<bool>(),
    ) {
        let mock = MockTransport::new();
        let response = answer(status, &date, &body);
        mock.push_response(response.clone());
        mock.push_response(response);
        // A clock near the end of what SystemTime holds, as well as an ordinary one.
        let now = if far_clock {
            UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2)
        } else {
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        };
        let client = Client::builder()
            .client_id("app")
            .secret("secret")
            .base_url("http://127.0.0.1:9")
            .transport(mock)
            .clock(ManualClock::new(now))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        // A fresh code per case: one code is presented once per process and platform.
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let code = AuthCode::new(format!("a-code-{n}")).unwrap();
        let token = AccessToken::new("a.b.c").unwrap();
        futures_lite::future::block_on(async {
            if let Ok(tokens) = client.exchange_code(&code, &Scope::default()).await {
                // What was kept must be usable without a panic too.
                let _ = (tokens.is_expired(), tokens.expires_in(), tokens.expires_at());
            }
            let _ = client.user_info(&token).await;
        });
    }
}

/// What the client makes of numbers past the integer limits, or negative, in an answer.
#[test]
fn out_of_range_and_negative_numbers_in_answers() {
    // Each answer is for a fresh code: one code is presented once per process.
    let codes = std::sync::atomic::AtomicU32::new(0);
    let outcome = |body: String| {
        let n = codes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mock = MockTransport::new();
        mock.push_json(200, &body);
        let client = Client::builder()
            .client_id("app")
            .secret("secret")
            .base_url("http://127.0.0.1:9")
            .transport(mock)
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let code = AuthCode::new(format!("a-code-{n}")).unwrap();
        futures_lite::future::block_on(client.exchange_code(&code, &Scope::default()))
    };
    let envelope = |status: &str, expire: &str| {
        format!(
            r#"{{"responseHeader":{{"status":{status},"msg":"m"}},"response":{{"accessToken":"a.b.c","expire":{expire},"tokenType":"bearer"}}}}"#
        )
    };
    // A negative status is carried through unchanged, like any status the platform sends.
    match outcome(envelope("-1", "60")) {
        Err(neux_oauth::Error::Api { status, .. }) => assert_eq!(status.get(), -1),
        other => panic!("{other:?}"),
    }
    // Statuses past i64 and lifetimes past u64, negative or fractional: not the platform's
    // answer, so a decode error (and the code counts as spent).
    for (status, expire) in [
        ("18446744073709551616", "60"),
        ("200.0", "60"),
        ("200", "-1"),
        ("200", "18446744073709551616"),
        ("200", "60.5"),
        ("200", "1e3"),
    ] {
        match outcome(envelope(status, expire)) {
            Err(e @ neux_oauth::Error::Decode(_)) => assert!(e.needs_new_code()),
            other => panic!("status {status}, expire {expire}: {other:?}"),
        }
    }
    // The largest lifetime is clamped, not refused.
    let tokens = outcome(envelope("200", "18446744073709551615")).unwrap();
    assert!(tokens.expires_in() <= neux_oauth::MAX_TOKEN_LIFETIME);
}
