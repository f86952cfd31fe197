//! The axum example backend, driven end to end against the sandbox.
#![allow(clippy::unwrap_used)]

#[path = "../../examples/axum_backend.rs"]
#[allow(unreachable_pub, missing_docs)]
mod example;

use crate::support::*;
use neux_oauth::Dialect;
use neux_sandbox::UserSpec;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_endpoint_works_end_to_end() {
    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Json).build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, example::app(client)).await.unwrap() });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://{addr}/login");

    let code = mint(
        &sb,
        "user.info",
        UserSpec {
            nick_name: Some("Backend User".into()),
            ..Default::default()
        },
    );
    let res = http
        .post(&url)
        .json(&serde_json::json!({"code": code.expose_secret()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let user: serde_json::Value = res.json().await.unwrap();
    assert_eq!(user["nickName"], "Backend User");
    assert_eq!(user["openId"].as_str().unwrap().len(), 32);

    // Replaying the code: 401, and the mini app is told to get a new one.
    let res = http
        .post(&url)
        .json(&serde_json::json!({"code": code.expose_secret()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "code_already_presented");
    assert_eq!(body["new_code_needed"], true);
    assert!(!body.to_string().contains(code.expose_secret()));

    let res = http
        .post(&url)
        .json(&serde_json::json!({"nope": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}
