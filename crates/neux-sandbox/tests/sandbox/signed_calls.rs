//! `/neuopenapi/sandbox/...`: any signed call, verified as strictly as the token call and
//! echoed, signed here with the independent signer (`naive_sign`), not neux-proto's.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_sandbox::status;
use serde_json::{Value, json};

const PATH: &str = "/neuopenapi/sandbox/push/v1/send";

/// A signed JSON call: string values (the independent signer's kind) plus the signer's keys.
fn json_call(secret: &str, at: u64, extra: &[(&str, &str)]) -> Value {
    let at_text = at.to_string();
    let mut pairs = vec![("clientId", "app-a"), ("timestamp", at_text.as_str())];
    pairs.extend_from_slice(extra);
    let sign = naive_sign(&pairs, secret);
    let mut body = json!({"clientId": "app-a", "timestamp": at, "sign": sign});
    for (k, v) in extra {
        body[*k] = (*v).into();
    }
    body
}

async fn post_json(ctx: &Ctx, body: &Value) -> (reqwest::StatusCode, Value) {
    ctx.post_raw(PATH, "application/json", body.to_string().into_bytes())
        .await
}

#[tokio::test]
async fn a_well_signed_call_is_echoed_in_both_dialects() {
    let ctx = start().await;
    let extra = [("openId", "o-1"), ("note", "a&b=c d+é")];
    let (_, env) = post_json(&ctx, &json_call("secret-a", NOW, &extra)).await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
    assert_eq!(env["response"]["path"], PATH);
    assert_eq!(env["response"]["params"]["note"], "a&b=c d+é");
    assert_eq!(env["response"]["params"]["clientId"], "app-a");
    assert_eq!(
        env["response"]["params"]["sign"],
        Value::Null,
        "sign is not echoed"
    );

    let at = NOW.to_string();
    let pairs = [
        ("appid", "app-a"),
        ("timestamp", at.as_str()),
        ("note", "a&b=c d+é"),
    ];
    let sign = naive_sign(&pairs, "secret-a");
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .append_pair("sign", &sign)
        .finish();
    let (_, env) = ctx
        .post_raw(PATH, "application/x-www-form-urlencoded", body.into_bytes())
        .await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
    assert_eq!(env["response"]["params"]["appid"], "app-a");
    assert_eq!(env["response"]["params"]["note"], "a&b=c d+é");
}

#[tokio::test]
async fn every_rule_of_the_token_call_applies() {
    let ctx = start().await;
    let ok = json_call("secret-a", NOW, &[("openId", "o-1")]);
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = ok.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (
            json_call("wrong-secret", NOW, &[]),
            status::SIGNATURE_REJECTED,
        ),
        (with("openId", "o-2".into()), status::SIGNATURE_REJECTED),
        (
            json_call("secret-a", NOW + 301_000, &[]),
            status::TIMESTAMP_OUT_OF_WINDOW,
        ),
        (with("clientId", "nobody".into()), status::UNKNOWN_CLIENT),
        (
            with("secret", "secret-a".into()),
            status::SECRET_ON_THE_WIRE,
        ),
        (without("sign"), status::MISSING_PARAMETER),
        (without("clientId"), status::MISSING_PARAMETER),
        (
            with("timestamp", "1700000000000".into()),
            status::INVALID_PARAMETER,
        ),
        (with("sign", "zz".into()), status::INVALID_PARAMETER),
        (with("amount", json!(1.5)), status::INVALID_PARAMETER),
    ];
    for (body, expected) in cases {
        let (_, env) = post_json(&ctx, &body).await;
        assert_eq!(status(&env), expected.get(), "{body}: {env}");
    }
    // The refusal of a bad signature shows the canonical string, secret masked.
    let (_, env) = post_json(&ctx, &json_call("wrong-secret", NOW, &[])).await;
    assert!(msg(&env).contains("secret=[REDACTED]"), "{env}");
    assert!(!msg(&env).contains("secret-a"), "{env}");

    let (_, env) = ctx.post_raw(PATH, "text/plain", b"x".to_vec()).await;
    assert_eq!(status(&env), status::UNSUPPORTED_CONTENT_TYPE.get());
    let res = ctx.http.get(ctx.url(PATH)).send().await.unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn faults_strike_it_and_the_log_shows_it() {
    let ctx = start().await;
    ctx.sandbox
        .inject_fault(neux_sandbox::FaultRule {
            path: PATH.into(),
            count: 1,
            fault: neux_sandbox::FaultSpec::Status { status: 503 },
            when: Default::default(),
        })
        .unwrap();
    let body = json_call("secret-a", NOW, &[]);
    let (http, _) = {
        let res = ctx
            .http
            .post(ctx.url(PATH))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert_eq!(http, 503);
    let (_, env) = post_json(&ctx, &body).await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
    let log: Vec<_> = ctx
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path == PATH)
        .collect();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].http_status, Some(503));
    assert!(log[0].fault.is_some());
    assert_eq!(log[1].api_status, Some(200));
    assert_eq!(log[1].client_id.as_deref(), Some("app-a"));
}

#[tokio::test]
async fn the_log_keeps_at_most_64_bytes_of_a_signed_calls_client_id() {
    let ctx = start().await;
    let mut body = json_call("secret-a", NOW, &[]);
    body["clientId"] = "é".repeat(100).into();
    let (_, env) = post_json(&ctx, &body).await;
    assert_eq!(status(&env), status::UNKNOWN_CLIENT.get(), "{env}");
    let logged = ctx.sandbox.requests().pop().unwrap().client_id.unwrap();
    assert_eq!(
        logged,
        "é".repeat(32),
        "cut at 64 bytes, on a character boundary"
    );
}
