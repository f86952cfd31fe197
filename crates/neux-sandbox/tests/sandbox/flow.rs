//! Whole logins through real HTTP, in both dialects.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_sandbox::status;
use serde_json::json;

#[test]
fn the_independent_signer_matches_the_shared_vector() {
    let sign = naive_sign(
        &[
            ("appid", "demo-appid"),
            ("code", "abc123"),
            ("grantType", "authorization_code"),
            ("scope", "user.info"),
            ("timestamp", "1700000000000"),
        ],
        "demo-secret",
    );
    assert_eq!(
        sign,
        "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242"
    );
}

#[tokio::test]
async fn json_dialect_login() {
    let ctx = start().await;
    let (code, open_id) = ctx
        .mint(
            "app-a",
            None,
            json!({"id": "u1", "nickName": "مستخدم تطبيق صغير 🚀"}),
        )
        .await;
    let env = ctx
        .exchange_json(&ctx.json_request("app-a", "secret-a", &code, "user.info", NOW))
        .await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
    let r = &env["response"];
    assert_eq!(r["expire"], 604_800);
    assert_eq!(r["tokenType"], "bearer");
    let token = r["accessToken"].as_str().unwrap();
    let claims = neux_proto::AccessToken::new(token)
        .unwrap()
        .claims_unverified()
        .unwrap();
    assert_eq!(claims.client_id.as_deref(), Some("app-a"));
    assert_eq!(claims.open_id.unwrap().as_str(), open_id);
    assert_eq!(claims.exp, Some(NOW / 1000 + 604_800));

    let (http, headers, env) = ctx.user_info(token).await;
    assert_eq!(http, 200);
    assert_eq!(
        headers["date"], "Tue, 14 Nov 2023 22:13:20 GMT",
        "Date follows the sandbox clock"
    );
    assert_eq!(status(&env), status::OK.get());
    let user = &env["response"];
    assert_eq!(user["openId"], open_id.as_str());
    assert_eq!(user["nickName"], "مستخدم تطبيق صغير 🚀");
    assert!(user["email"].is_null());
    assert!(
        user.get("phone").is_none() && user.get("country").is_none(),
        "no phone without user.phone: {user}"
    );
    // It decodes with neux-proto's types.
    let decoded: neux_proto::UserInfo =
        neux_proto::Envelope::decode(env.to_string().as_bytes()).unwrap();
    assert_eq!(decoded.open_id.as_str(), open_id);
}

#[tokio::test]
async fn form_dialect_login_with_phone() {
    let ctx = start().await;
    let (code, _) = ctx
        .mint(
            "app-b",
            Some("user.info,user.phone"),
            json!({"id": "u2", "nickName": "小程序用户", "email": "u2@example.test"}),
        )
        .await;
    let body = ctx.form_request(
        "app-b",
        "secret-b",
        &code,
        "user.info,user.phone",
        NOW - 299_000,
    );
    assert!(body.contains("scope=user.info%2Cuser.phone"), "{body}");
    let env = ctx.exchange_form(&body).await;
    assert_eq!(status(&env), status::OK.get(), "{env}");
    let token = env["response"]["accessToken"].as_str().unwrap();
    let (_, _, env) = ctx.user_info(token).await;
    let user = &env["response"];
    assert_eq!(user["nickName"], "小程序用户");
    assert_eq!(user["email"], "u2@example.test");
    assert_eq!(user["country"], "+971");
    assert_eq!(user["phone"], "500000000");
}

#[tokio::test]
async fn ids_are_stable_per_user_and_app() {
    let ctx = start().await;
    let (_, a1) = ctx.mint("app-a", None, json!({"id": "same"})).await;
    let (_, a2) = ctx.mint("app-a", None, json!({"id": "same"})).await;
    let (_, b1) = ctx.mint("app-b", None, json!({"id": "same"})).await;
    let (_, other) = ctx.mint("app-a", None, json!({"id": "other"})).await;
    assert_eq!(a1, a2, "same user, same app: same openId");
    assert_ne!(a1, b1, "openId is per app");
    assert_ne!(a1, other);
    let id = neux_proto::ClientId::new("app-a").unwrap();
    assert_eq!(ctx.sandbox.open_id_for(&id, "same").unwrap().as_str(), a1);

    let union = |code_client: (&'static str, &'static str)| {
        let ctx = &ctx;
        async move {
            let (code, _) = ctx.mint(code_client.0, None, json!({"id": "same"})).await;
            let env = ctx
                .exchange_json(&ctx.json_request(
                    code_client.0,
                    code_client.1,
                    &code,
                    "user.info",
                    NOW,
                ))
                .await;
            let (_, _, env) = ctx
                .user_info(env["response"]["accessToken"].as_str().unwrap())
                .await;
            env["response"]["unionId"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        union(("app-a", "secret-a")).await,
        union(("app-b", "secret-b")).await,
        "unionId spans apps"
    );
}

#[tokio::test]
async fn in_process_minting_and_shutdown() {
    let ctx = start().await;
    let code = code_for(&ctx.sandbox, "app-a");
    let env = ctx
        .exchange_json(&ctx.json_request(
            "app-a",
            "secret-a",
            code.expose_secret(),
            "user.info",
            NOW,
        ))
        .await;
    assert_eq!(status(&env), status::OK.get());
    let unknown = neux_proto::ClientId::new("nope").unwrap();
    assert!(
        ctx.sandbox
            .mint_code(&unknown, Default::default(), Default::default())
            .is_err()
    );
    let url = ctx.sandbox.base_url().to_owned();
    ctx.sandbox.shutdown().await;
    assert!(
        ctx.http.get(format!("{url}/x")).send().await.is_err(),
        "stopped listening"
    );
}

#[tokio::test]
async fn builder_refuses_bad_config() {
    assert!(matches!(
        neux_sandbox::Sandbox::builder().start().await,
        Err(neux_sandbox::SandboxError::NoApps)
    ));
    assert!(matches!(
        neux_sandbox::Sandbox::builder()
            .app("a b", "s")
            .start()
            .await,
        Err(neux_sandbox::SandboxError::InvalidApp(_))
    ));
}
