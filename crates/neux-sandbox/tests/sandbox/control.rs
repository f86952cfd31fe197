//! The control API: faults and the request log.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_sandbox::status;
use serde_json::{Value, json};

async fn arm(ctx: &Ctx, rule: Value) {
    let (_, env) = ctx
        .post_raw(
            "/sandbox/v1/faults",
            "application/json",
            rule.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
}

async fn exchange_raw(ctx: &Ctx, code: &str) -> Result<reqwest::Response, reqwest::Error> {
    let body = ctx
        .json_request("app-a", "secret-a", code, "user.info", NOW)
        .to_string();
    ctx.http
        .post(ctx.url(TOKEN_PATH))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
}

#[tokio::test]
async fn status_non_json_and_skew_faults_then_recovery() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    arm(
        &ctx,
        json!({"path": TOKEN_PATH, "count": 2, "fault": {"kind": "status", "status": 502}}),
    )
    .await;
    arm(
        &ctx,
        json!({"path": TOKEN_PATH, "fault": {"kind": "nonJson"}}),
    )
    .await;
    arm(
        &ctx,
        json!({"path": TOKEN_PATH, "fault": {"kind": "clockSkew"}}),
    )
    .await;
    for _ in 0..2 {
        let res = exchange_raw(&ctx, &code).await.unwrap();
        assert_eq!(res.status(), 502);
        assert!(res.text().await.unwrap().starts_with("<html>"));
    }
    let res = exchange_raw(&ctx, &code).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(serde_json::from_str::<Value>(&res.text().await.unwrap()).is_err());
    let env: Value = exchange_raw(&ctx, &code)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&env), status::TIMESTAMP_OUT_OF_WINDOW.get());
    // "Before" faults do not spend the code: it still works.
    let env: Value = exchange_raw(&ctx, &code)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&env), status::OK.get(), "{env}");
}

/// Whether the exchange failed on the client, at the head or in the body (hyper reports a
/// connection cut right after the head either way).
async fn fails(res: Result<reqwest::Response, reqwest::Error>) -> bool {
    match res {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    }
}

#[tokio::test]
async fn drop_and_truncate_break_the_connection() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    arm(&ctx, json!({"path": TOKEN_PATH, "fault": {"kind": "drop"}})).await;
    assert!(
        fails(exchange_raw(&ctx, &code).await).await,
        "a dropped connection must fail on the client"
    );

    arm(
        &ctx,
        json!({"path": TOKEN_PATH, "fault": {"kind": "truncate"}}),
    )
    .await;
    assert!(
        fails(exchange_raw(&ctx, &code).await).await,
        "a truncated body must fail on the client"
    );
    // Truncate is applied after handling: the code is now spent.
    let env: Value = exchange_raw(&ctx, &code)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&env), status::CODE_USED.get(), "{env}");
}

#[tokio::test]
async fn after_faults_spend_the_code_and_delay_delays() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    arm(
        &ctx,
        json!({"path": TOKEN_PATH, "fault": {"kind": "status", "status": 503}, "when": "after"}),
    )
    .await;
    assert_eq!(exchange_raw(&ctx, &code).await.unwrap().status(), 503);
    let env: Value = exchange_raw(&ctx, &code)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status(&env),
        status::CODE_USED.get(),
        "the first exchange went through: {env}"
    );

    arm(
        &ctx,
        json!({"path": USER_PATH, "fault": {"kind": "delay", "ms": 300}}),
    )
    .await;
    let started = std::time::Instant::now();
    let (_, _, env) = ctx.user_info("x.y.z").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(status(&env), status::TOKEN_INVALID.get());
}

#[tokio::test]
async fn bad_fault_rules_are_refused_and_faults_can_be_cleared() {
    let ctx = start().await;
    let (_, env) = ctx
        .post_raw(
            "/sandbox/v1/faults",
            "application/json",
            br#"{"path":"/x","fault":{"kind":"explode"}}"#.to_vec(),
        )
        .await;
    assert_eq!(status(&env), status::MALFORMED_BODY.get());
    arm(
        &ctx,
        json!({"path": USER_PATH, "count": 5, "fault": {"kind": "status", "status": 500}}),
    )
    .await;
    let res = ctx
        .http
        .delete(ctx.url("/sandbox/v1/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (http, _, _) = ctx.user_info("x.y.z").await;
    assert_eq!(http, 200, "faults cleared");
}

#[tokio::test]
async fn request_log_shows_fingerprints_never_values() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let env = ctx
        .exchange_json(&ctx.json_request("app-a", "secret-a", &code, "user.info", NOW))
        .await;
    let token = env["response"]["accessToken"].as_str().unwrap().to_owned();
    ctx.user_info(&token).await;
    let res = ctx
        .http
        .get(ctx.url("/sandbox/v1/requests"))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains(&code), "code leaked into the log");
    assert!(
        !text.contains(&token) && !text.contains(token.split('.').nth(2).unwrap()),
        "token leaked"
    );
    assert!(!text.contains("secret-a"));
    let env: Value = serde_json::from_str(&text).unwrap();
    let log = env["response"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    let fp = neux_proto::AuthCode::new(code.as_str())
        .unwrap()
        .fingerprint();
    assert_eq!(log[0]["codeFingerprint"], fp.as_str());
    assert_eq!(log[0]["dialect"], "json");
    assert_eq!(log[0]["clientId"], "app-a");
    assert_eq!(log[0]["apiStatus"], 200);
    assert_eq!(log[1]["path"], USER_PATH);
    assert_eq!(
        log[1]["tokenFingerprint"],
        neux_proto::AccessToken::new(token.as_str())
            .unwrap()
            .fingerprint()
            .as_str()
    );
    // The in-process view is the same log.
    assert_eq!(ctx.sandbox.requests().len(), 2);
}
