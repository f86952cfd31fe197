//! A pluggable async HTTP transport for the neux SDK.
//!
//! `neux-oauth` sends its two requests through the [`Transport`] trait: one method that takes an
//! [`HttpRequest`] and returns an [`HttpResponse`]. Both are the `http` crate's types (the
//! ecosystem's common vocabulary, also used by oauth2-rs and the AWS SDK), so no HTTP client's
//! types appear in any neux public API and a client upgrade never forces ours.
//!
//! Pick a backend with a cargo feature, or bring your own by implementing one method:
//!
//! | feature | type | runtime | notes |
//! | --- | --- | --- | --- |
//! | `reqwest` (default) | `ReqwestTransport` | tokio | rustls TLS |
//! | `surf` | `SurfTransport` | any (async-std's reactor runs on its own thread) | h1 client, native TLS; surf is unmaintained upstream (RUSTSEC-2025-0036): prefer reqwest |
//! | `test-util` | `test_util::MockTransport` | any | records requests, replays scripted answers |
//!
//! Every implementation here enforces the same [`TransportConfig`]: a total timeout and a connect
//! timeout (10 s and 5 s), a response body cap (1 MiB) that stops reading as soon as it is
//! passed, no following of redirects (a redirect must not carry a code or a token to another
//! host), and errors that never contain the request's query string (the user-info URL carries
//! the access token). [`TransportError`] tells failures where nothing was sent (safe to retry)
//! from those after which the request may have reached the server (never retry a one-time code).
//!
//! # Implementing a transport
//!
//! ```
//! use neux_transport::{async_trait, HttpRequest, HttpResponse, Transport, TransportError};
//!
//! /// Answers every request with an empty 204, e.g. for a smoke test.
//! #[derive(Debug)]
//! struct NoContent;
//!
//! #[async_trait]
//! impl Transport for NoContent {
//!     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         Ok(http::Response::builder().status(204).body(Vec::new()).expect("static response"))
//!     }
//! }
//!
//! # futures_lite::future::block_on(async {
//! let response = NoContent.send(http::Request::get("http://127.0.0.1/").body(Vec::new()).unwrap()).await?;
//! assert_eq!(response.status(), 204);
//! # Ok::<(), TransportError>(()) }).unwrap();
//! ```
//!
//! # Duplicate dependencies
//!
//! With only `reqwest` enabled (the default) `cargo tree -d` is empty. The `surf`
//! feature brings surf's older ecosystem (http-types 2, async-std, old `rand`/`cookie`/`aes`
//! versions); `cargo xtask ci` prints `cargo tree -d` so the cost stays visible, and the audit
//! notices those old crates carry are listed with reasons in `.cargo/audit.toml`.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod proxy;
#[cfg(feature = "reqwest-client")]
mod reqwest_transport;
mod sleep;
#[cfg(feature = "surf")]
mod surf_transport;
#[cfg(feature = "test-util")]
pub mod test_util;
mod unwind;

use std::sync::Arc;

pub use async_trait::async_trait;
pub use config::{RootCertificate, TransportConfig};
pub use error::{Cause, TimeoutPhase, TransportError};
pub use proxy::{ProxyConfig, ProxyError, ProxyRules, is_loopback_host};
#[cfg(feature = "reqwest-client")]
pub use reqwest_transport::ReqwestTransport;
#[cfg(feature = "surf")]
pub use sleep::AsyncIoSleep;
#[cfg(feature = "tokio")]
pub use sleep::TokioSleep;
pub use sleep::{AsyncSleep, Sleep};
#[cfg(feature = "surf")]
pub use surf_transport::SurfTransport;

/// A request: method, URI, headers and body bytes.
pub type HttpRequest = http::Request<Vec<u8>>;
/// A response: status, headers (including `Date`, used to detect clock skew) and body bytes.
pub type HttpResponse = http::Response<Vec<u8>>;

/// Sends one HTTP request and returns the response, whatever its status.
///
/// Implementations must not follow redirects (return the 3xx response), must honour the limits
/// of their [`TransportConfig`], and must report failures with a [`TransportError`] variant that
/// truthfully says whether the request may have been sent.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Sends `request` and reads the whole response body.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;

    /// The timer of the runtime this transport runs on, for the backoff between retries
    /// (default: none; a client then needs one given to it, or no retries).
    fn sleeper(&self) -> Option<Arc<dyn AsyncSleep>> {
        None
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    fn sleeper(&self) -> Option<Arc<dyn AsyncSleep>> {
        (**self).sleeper()
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Box<T> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
    fn sleeper(&self) -> Option<Arc<dyn AsyncSleep>> {
        (**self).sleeper()
    }
}

/// The transport of the enabled backend, built with `config`: reqwest when its feature is on,
/// otherwise surf. Fails with [`TransportError::Unavailable`] when neither feature is enabled or
/// the backend's client cannot be created.
///
/// ```
/// # #[cfg(any(feature = "reqwest-client", feature = "surf"))]
/// assert!(neux_transport::default_transport(Default::default()).is_ok());
/// ```
pub fn default_transport(config: TransportConfig) -> Result<Arc<dyn Transport>, TransportError> {
    #[cfg(feature = "reqwest-client")]
    return Ok(Arc::new(ReqwestTransport::new(config)?));
    #[cfg(all(feature = "surf", not(feature = "reqwest-client")))]
    return Ok(Arc::new(SurfTransport::new(config)?));
    #[cfg(not(any(feature = "reqwest-client", feature = "surf")))]
    {
        let _ = config;
        Err(TransportError::Unavailable {
            reason: "no backend feature is enabled: enable `reqwest` or `surf`, or bring your own Transport".into(),
        })
    }
}
