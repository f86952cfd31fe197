//! Hostile and malformed requests through real HTTP: every one gets an envelope error (never a
//! 500, never a crash), and the sandbox still serves good requests afterwards.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Sends a raw request and returns (HTTP status, parsed envelope if any).
async fn send(
    ctx: &Ctx,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Option<Value>) {
    let mut req = ctx
        .http
        .request(method.parse().unwrap(), ctx.url(path))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).ok())
}

fn assert_refused(what: &str, (http, env): (u16, Option<Value>)) {
    assert_ne!(http, 500, "{what}: HTTP 500");
    let env = env.unwrap_or_else(|| panic!("{what}: no envelope (HTTP {http})"));
    let status = env["responseHeader"]["status"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: {env}"));
    assert_ne!(status, 200, "{what}: accepted");
}

async fn still_serves(ctx: &Ctx) {
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let env = ctx
        .exchange_json(&ctx.json_request("app-a", "secret-a", &code, "user.info", NOW))
        .await;
    assert_eq!(
        status(&env),
        200,
        "a good request after the bad ones: {env}"
    );
}

#[tokio::test]
async fn hand_picked_hostile_requests() {
    let ctx = start().await;
    let code = ctx.mint("app-a", None, json!({})).await.0;
    let good = ctx.json_request("app-a", "secret-a", &code, "user.info", NOW);
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b.to_string().into_bytes()
    };
    let json_cases: Vec<(&str, Vec<u8>)> = vec![
        ("deeply nested arrays", "[".repeat(100_000).into_bytes()),
        (
            "deeply nested objects",
            "{\"a\":".repeat(50_000).into_bytes(),
        ),
        (
            "huge number timestamp",
            good.to_string()
                .replace(&NOW.to_string(), &"9".repeat(400))
                .into_bytes(),
        ),
        ("float timestamp", with("timestamp", json!(1.7e12))),
        ("negative timestamp", with("timestamp", json!(-1))),
        ("far-future timestamp", with("timestamp", json!(u64::MAX))),
        ("zero timestamp", with("timestamp", json!(0))),
        ("null code", with("code", Value::Null)),
        ("object code", with("code", json!({"a": 1}))),
        ("empty code", with("code", json!(""))),
        ("NUL in code", with("code", json!("ab\u{0}c"))),
        ("huge sign", with("sign", json!("a".repeat(60_000)))),
        (
            "invalid UTF-8",
            vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
        ),
        ("empty body", Vec::new()),
        ("a string", b"\"hello\"".to_vec()),
        ("trailing garbage", format!("{good}garbage").into_bytes()),
        (
            "BOM",
            [&[0xEF, 0xBB, 0xBF][..], good.to_string().as_bytes()].concat(),
        ),
        ("10 MB body", vec![b'{'; 10 * 1024 * 1024]),
    ];
    for (what, body) in json_cases {
        assert_refused(
            what,
            send(&ctx, "POST", TOKEN_PATH, Some("application/json"), body).await,
        );
    }
    let form = ctx.form_request("app-a", "secret-a", &code, "user.info", NOW);
    for (what, body) in [
        ("lone percent", format!("{form}&x=%")),
        ("bad hex escape", form.replacen("code=", "code=%zz", 1)),
        (
            "truncated UTF-8 escape",
            form.replacen("code=", "code=%E0%A4", 1),
        ),
        ("NUL escape", form.replacen("code=", "code=%00", 1)),
        ("no equals signs", "appid&code&grantType".to_owned()),
        ("duplicate key", format!("{form}&code=again")),
        ("only separators", "&&&===&&".to_owned()),
        (
            "timestamp with plus",
            form.replacen("timestamp=", "timestamp=%2B", 1),
        ),
    ] {
        assert_refused(
            what,
            send(
                &ctx,
                "POST",
                TOKEN_PATH,
                Some("application/x-www-form-urlencoded"),
                body.into_bytes(),
            )
            .await,
        );
    }
    for ct in [
        None,
        Some(""),
        Some("application/jsonx"),
        Some("multipart/form-data; boundary=x"),
        Some("text/html"),
    ] {
        assert_refused(
            "content type",
            send(&ctx, "POST", TOKEN_PATH, ct, good.to_string().into_bytes()).await,
        );
    }
    for method in ["PUT", "DELETE", "PATCH", "GET"] {
        assert_refused(
            method,
            send(
                &ctx,
                method,
                TOKEN_PATH,
                Some("application/json"),
                good.to_string().into_bytes(),
            )
            .await,
        );
    }
    for query in [
        "?accessToken=%",
        "?accessToken=%ff%fe",
        "?accessToken=a&accessToken=b",
        "?=&=",
        "?accessToken=",
        &format!("?accessToken={}", "x".repeat(7000)),
    ] {
        assert_refused(
            query,
            send(
                &ctx,
                "GET",
                &format!("{USER_PATH}{query}"),
                None,
                Vec::new(),
            )
            .await,
        );
    }
    // Oversized headers are refused by the HTTP layer itself (431), before any handler: not an
    // envelope, but not a 500 either, and the server lives on.
    let res = ctx
        .http
        .post(ctx.url(TOKEN_PATH))
        .header("x-big", "v".repeat(200_000))
        .send()
        .await;
    if let Ok(r) = res {
        assert_ne!(r.status(), 500);
    }
    // The code was never spent by any of the above.
    assert_eq!(status(&ctx.exchange_json(&good).await), 200);
    still_serves(&ctx).await;
}

/// A request body that is wrong in some way: random bytes, random JSON, or a valid request
/// with one mutation.
fn bad_body() -> impl Strategy<Value = (Option<String>, Vec<u8>)> {
    let content_type = prop_oneof![
        Just(Some("application/json".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(None),
        "[a-z/+.-]{0,30}".prop_map(Some),
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| {
            // One byte of a valid-looking request flipped.
            let mut b = br#"{"clientId":"app-a","code":"c","grantType":"authorization_code","scope":"user.info","timestamp":1700000000000,"sign":"0000000000000000000000000000000000000000000000000000000000000000"}"#.to_vec();
            let i = at % b.len();
            b[i] ^= byte | 1;
            b
        }),
        (0usize..6).prop_map(|drop| {
            let mut v = json!({"clientId": "app-a", "code": "c", "grantType": "authorization_code", "scope": "user.info", "timestamp": 1_700_000_000_000u64, "sign": "0".repeat(64)});
            let key = ["clientId", "code", "grantType", "scope", "timestamp", "sign"][drop];
            v.as_object_mut().unwrap().remove(key);
            v.to_string().into_bytes()
        }),
    ];
    (content_type, body)
}

#[test]
fn ten_thousand_generated_bad_requests() {
    // The sandbox runs on its own runtime; each generated case is sent from a small client one.
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = server_rt.block_on(start());
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = ctx.url(TOKEN_PATH);
    let config = ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((ct, body) in bad_body())| {
        let (http_status, envelope) = client_rt.block_on(async {
            let mut req = http.post(&url).body(body.clone());
            if let Some(ct) = &ct {
                req = req.header("content-type", ct.as_str());
            }
            let res = req.send().await.unwrap();
            let s = res.status().as_u16();
            (s, serde_json::from_slice::<Value>(&res.bytes().await.unwrap()).ok())
        });
        prop_assert_ne!(http_status, 500);
        let env = envelope.expect("an envelope");
        let st = env["responseHeader"]["status"].as_i64().unwrap();
        prop_assert!(st != 200 && st != 0, "accepted or no status: {}", env);
    });
    let served = ctx.sandbox.requests().len();
    assert!(served >= 10_000, "every case reached the server ({served})");
    server_rt.block_on(still_serves(&ctx));
}
