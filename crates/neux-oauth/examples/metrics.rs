//! The client's metrics, scraped by Prometheus (feature `metrics`).
//!
//! ```sh
//! cargo run -p neux-oauth --features metrics --example metrics
//! ```
//!
//! Installs metrics-exporter-prometheus's recorder, logs a user in against an in-process
//! sandbox, presents the same code again (refused, nothing sent), and prints the scrape that a
//! `/metrics` route would serve.
#![allow(clippy::print_stdout)]

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use neux_oauth::{Client, Scope};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Once, at start-up, before the first call. Latencies as histogram buckets, in seconds.
    let prometheus = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("neux_call_duration_seconds".into()),
            &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
        )?
        .install_recorder()?;

    let sandbox = neux_sandbox::Sandbox::builder()
        .app("demo-app", "demo-secret")
        .start()
        .await?;
    let client = Client::builder()
        .client_id("demo-app")
        .secret("demo-secret")
        .base_url(sandbox.base_url())
        .build()?;
    let code = sandbox
        .mint_code(client.client_id(), Scope::default(), Default::default())?
        .code;
    client.login(&code, &Scope::default()).await?;
    let again = client.exchange_code(&code, &Scope::default()).await;
    assert!(again.is_err_and(|e| e.kind() == "code_already_presented"));

    // In a backend, serve this at /metrics, e.g. with axum:
    // `.route("/metrics", get(move || std::future::ready(prometheus.render())))`.
    print!("{}", prometheus.render());
    Ok(())
}
