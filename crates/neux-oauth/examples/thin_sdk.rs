//! An illustration, not a real platform endpoint: how thin an SDK for another signed call is
//! when it is built on `neux_oauth::Client::call`. "Activity messages" and their path are made
//! up; the sandbox verifies and echoes any signed call under `/neuopenapi/sandbox/`, so the
//! wrapper runs end to end here. Only neux-oauth's public API is used.
//!
//! Run it: `cargo run -p neux-oauth --example thin_sdk`.

#![allow(clippy::print_stdout)]

use neux_oauth::{ApiCall, Client, Error, Params};
use serde::Deserialize;

/// A hypothetical call: send a templated activity message to one user.
pub(crate) struct ActivityMessages {
    client: Client,
    path: String,
}

/// What the hypothetical call answers (here: the sandbox's echo of what it verified).
#[derive(Debug, Deserialize)]
pub(crate) struct Sent {
    pub(crate) path: String,
    pub(crate) params: serde_json::Value,
}

impl ActivityMessages {
    /// The wrapper over a client; `path` is where the platform serves the call.
    pub(crate) fn new(client: Client, path: impl Into<String>) -> Self {
        Self {
            client,
            path: path.into(),
        }
    }

    /// Sends `template` with `fields` to `open_id`. Not idempotent: a failure after sending
    /// is not resent (the user would get the message twice).
    pub(crate) async fn send(
        &self,
        open_id: &str,
        template: &str,
        fields: &[&str],
    ) -> Result<Sent, Error> {
        let params = Params::new()
            .with("openId", open_id)
            .and_then(|p| p.with("templateId", template))
            .and_then(|p| p.with("fields", fields.to_vec()))
            .map_err(|e| Error::InvalidCall(e.to_string()))?;
        self.client
            .call(ApiCall::new(self.path.as_str(), params))
            .await
    }
}

/// Runs the wrapper against an in-process sandbox and checks what it sent.
pub(crate) async fn run() -> Result<Sent, Box<dyn std::error::Error>> {
    let sandbox = neux_sandbox::Sandbox::builder()
        .app("demo-app", "demo-secret")
        .start()
        .await?;
    let client = Client::builder()
        .client_id("demo-app")
        .secret("demo-secret")
        .base_url(sandbox.base_url())
        .build()?;
    let messages = ActivityMessages::new(client, "/neuopenapi/sandbox/activity/v1/send");
    let sent = messages.send("o-1", "welcome", &["Ada", "42"]).await?;
    sandbox.shutdown().await;
    Ok(sent)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sent = run().await?;
    println!("{} verified: {}", sent.path, sent.params);
    Ok(())
}
