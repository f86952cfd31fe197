//! Settings from the command line and the environment, turned into what a client needs.

use std::sync::Arc;

use neux_oauth::{Client, Scope, Transport, TransportConfig};

use crate::args::{ConnectArgs, TransportArg};
use crate::failure::Failure;

/// Reads a secret from `var`, naming the variable (never the value) on failure.
pub(crate) fn secret_from_env(var: &str) -> Result<String, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Failure::new(
            "config",
            format!("environment variable {var} is empty"),
        )),
        Err(_) => Err(Failure::new(
            "config",
            format!(
                "environment variable {var} is not set (the secret is read from the environment, never from an argument)"
            ),
        )),
    }
}

/// The transport named on the command line.
pub(crate) fn make_transport(arg: TransportArg) -> Result<Arc<dyn Transport>, Failure> {
    let failed = |e: neux_oauth::TransportError| Failure::new("transport", e.to_string());
    match arg {
        #[cfg(feature = "reqwest")]
        TransportArg::Reqwest => Ok(Arc::new(
            neux_oauth::ReqwestTransport::new(TransportConfig::default()).map_err(failed)?,
        )),
        #[cfg(not(feature = "reqwest"))]
        TransportArg::Reqwest => Err(Failure::new(
            "usage",
            "this neux was built without the `reqwest` transport feature",
        )),
        #[cfg(feature = "surf")]
        TransportArg::Surf => Ok(Arc::new(
            neux_oauth::SurfTransport::new(TransportConfig::default()).map_err(failed)?,
        )),
        #[cfg(not(feature = "surf"))]
        TransportArg::Surf => Err(Failure::new(
            "usage",
            "this neux was built without the `surf` transport: rebuild with `cargo install neux-cli --features surf` (or `cargo run -p neux-cli --features surf -- ...`)",
        )),
    }
}

pub(crate) fn parse_scope(s: &str) -> Result<Scope, Failure> {
    s.parse()
        .map_err(|e| Failure::new("usage", format!("--scope: {e}")))
}

/// A client for `--base-url`/`--client-id`, the secret from the environment, and the chosen
/// dialect and transport.
pub(crate) fn client(a: &ConnectArgs) -> Result<Client, Failure> {
    let secret = secret_from_env(&a.secret_env)?;
    let mut builder = Client::builder()
        .base_url(a.base_url.as_str())
        .client_id(a.client_id.as_str())
        .secret(secret)
        .dialect(a.dialect.into())
        .shared_transport(make_transport(a.transport)?)
        .allow_insecure_http(a.allow_insecure_http);
    if let Some(url) = &a.ledger {
        if !cfg!(feature = "redis") {
            return Err(Failure::new(
                "usage",
                "--ledger: this neux was built without the `redis` feature: rebuild with `cargo install neux-cli --features redis` (or `cargo run -p neux-cli --features redis -- ...`)",
            ));
        }
        builder = builder
            .code_ledger_url(url)
            .map_err(|e| Failure::new("config", e.to_string()))?;
    }
    builder
        .build()
        .map_err(|e| Failure::new("config", e.to_string()))
}
