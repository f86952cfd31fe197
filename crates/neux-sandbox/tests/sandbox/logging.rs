//! Everything the sandbox logs, at every level, is free of secrets, codes and tokens.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_fingerprints_only() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let env = ctx
        .exchange_json(&ctx.json_request("app-a", "secret-a", &code, "user.info", NOW))
        .await;
    let token = env["response"]["accessToken"].as_str().unwrap().to_owned();
    ctx.user_info(&token).await;
    // A refused one too (wrong secret, then the secret on the wire).
    let (code2, _) = ctx.mint("app-a", None, json!({})).await;
    ctx.exchange_json(&ctx.json_request("app-a", "wrong-secret", &code2, "user.info", NOW))
        .await;
    let mut leak = ctx.json_request("app-a", "secret-a", &code2, "user.info", NOW);
    leak["secret"] = "secret-a".into();
    ctx.exchange_json(&leak).await;

    let logs = capture.text();
    assert!(
        logs.contains("request"),
        "the sandbox logged nothing: {logs}"
    );
    let fp = neux_proto::AuthCode::new(code.as_str())
        .unwrap()
        .fingerprint();
    assert!(
        logs.contains(&fp),
        "requests are logged with the code's fingerprint"
    );
    for secret in [
        code.as_str(),
        code2.as_str(),
        token.as_str(),
        token.split('.').nth(2).unwrap(),
        "secret-a",
        "wrong-secret",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret} appears in the logs:\n{logs}"
        );
    }
}
