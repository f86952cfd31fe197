//! The sandbox under abuse: every body, table and log entry it keeps is bounded, and its `Debug`
//! output holds no secret, key or live code.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use neux_proto::{ClientId, Scope};
use neux_sandbox::status;
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming, Sandbox, UserSpec};
use serde_json::json;

#[tokio::test]
async fn the_control_api_refuses_a_body_over_its_cap() {
    let ctx = start().await;
    // 64 KiB: four times the control cap, yet small enough for the socket buffers to take it
    // whole, so the answer is read rather than cut off.
    let huge = format!(
        r#"{{"clientId":"app-a","user":{{"nickName":"{}"}}}}"#,
        "x".repeat(64 * 1024)
    );
    for path in ["/sandbox/v1/codes", "/sandbox/v1/faults"] {
        let res = ctx
            .http
            .post(ctx.url(path))
            .header("content-type", "application/json")
            .body(huge.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{path}");
    }
    assert_eq!(ctx.sandbox.stats().codes, 0, "nothing was minted");
    // A small body still works.
    ctx.mint("app-a", None, json!({})).await;
}

#[tokio::test]
async fn armed_faults_are_capped() {
    let ctx = start().await;
    let rule = || FaultRule {
        path: USER_PATH.into(),
        count: 1,
        fault: FaultSpec::Drop,
        when: FaultTiming::Before,
    };
    for _ in 0..1_000 {
        ctx.sandbox.inject_fault(rule()).unwrap();
    }
    let refused = ctx.sandbox.inject_fault(rule()).unwrap_err();
    assert!(
        refused.to_string().contains("1000 fault rules"),
        "{refused}"
    );
    let (_, env) = ctx
        .post_raw(
            "/sandbox/v1/faults",
            "application/json",
            json!({"path": USER_PATH, "fault": {"kind": "drop"}})
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(
        status(&env),
        neux_sandbox::status::TOO_MANY_FAULTS.get(),
        "{env}"
    );
    assert_eq!(ctx.sandbox.stats().armed_faults, 1_000);
}

#[tokio::test]
async fn profiles_are_capped_oldest_first() {
    let sb = Sandbox::builder()
        .app("app", "secret")
        .profile_capacity(10)
        .start()
        .await
        .unwrap();
    let id = ClientId::new("app").unwrap();
    for n in 0..25 {
        let user = UserSpec {
            id: Some(format!("user-{n}")),
            ..Default::default()
        };
        sb.mint_code(&id, Scope::default(), user).unwrap();
    }
    assert_eq!(sb.stats().profiles, 10);
}

#[tokio::test]
async fn the_log_keeps_a_bounded_prefix_of_an_unchecked_client_id() {
    let ctx = start().await;
    let long = "é".repeat(30_000);
    let body = ctx.json_request(&long, "secret-a", "some-code", "user.info", NOW);
    let env = ctx.exchange_json(&body).await;
    assert_eq!(status(&env), status::UNKNOWN_CLIENT.get(), "{env}");
    let log = ctx.sandbox.requests();
    let logged = log[0].client_id.as_deref().unwrap();
    assert!(logged.len() <= 64 && logged.len() >= 62, "{}", logged.len());
    assert!(long.starts_with(logged), "a prefix on a character boundary");
}

#[tokio::test]
async fn debug_output_holds_no_secret_key_or_live_code() {
    let builder = Sandbox::builder().app("app", "app-secret-value");
    assert!(!format!("{builder:?}").contains("app-secret-value"));
    let sb = builder.start().await.unwrap();
    let minted = sb
        .mint_code(
            &ClientId::new("app").unwrap(),
            Scope::default(),
            UserSpec::default(),
        )
        .unwrap();
    let text = format!("{sb:?}");
    assert!(!text.contains("app-secret-value"), "{text}");
    assert!(!text.contains(minted.code.expose_secret()), "{text}");
    assert!(
        !text.contains("jwt_key") && !text.contains("seed"),
        "{text}"
    );
    assert!(text.contains("\"app\""), "the app ids still show: {text}");
}
