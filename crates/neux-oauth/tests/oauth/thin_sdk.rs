//! The thin-SDK example (examples/thin_sdk.rs) compiles and works against the sandbox.
#![allow(clippy::unwrap_used, dead_code)]

#[path = "../../examples/thin_sdk.rs"]
mod example;

#[tokio::test]
async fn the_typed_wrapper_sends_a_verified_call() {
    let sent = example::run().await.unwrap();
    assert_eq!(sent.path, "/neuopenapi/sandbox/activity/v1/send");
    assert_eq!(sent.params["openId"], "o-1");
    assert_eq!(sent.params["templateId"], "welcome");
    assert_eq!(sent.params["fields"], serde_json::json!(["Ada", "42"]));
    assert_eq!(sent.params["clientId"], "demo-app");
}
