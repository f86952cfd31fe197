//! Log Neuxnet mini app users in from a Rust backend.
//!
//! The mini app calls `wx.login()` and sends its backend a one-time `code`. The backend
//! exchanges it, signed with the app secret, for an access token, then reads the user's profile
//! with the token. [`Client`] does both, safely:
//!
//! - a code reaches the server at most once per process (every client built for the same
//!   platform and app shares one [`InMemoryLedger`]), or per fleet with a shared
//!   `RedisLedger` (feature `redis`): the exchange is retried only when connecting failed
//!   before any byte went out, and the [`CodeLedger`] refuses a code already sent
//!   (concurrently, earlier, or from a cancelled call) with [`Error::CodeAlreadyPresented`]; the
//!   tokens go only to the call that sent the code, and `login` never loses them;
//! - errors say what happened and what to do ([`Error::CodeRejected`]: get a new code;
//!   [`Error::SignatureRejected`]: check the secret and dialect, with the masked canonical
//!   string; [`Error::ClockSkew`]: with the skew measured from the server's `Date` header);
//! - the secret, codes and tokens never appear in `Debug`, errors or `tracing` output (codes and
//!   tokens appear as 8-hex-digit fingerprints);
//! - `user_info` (idempotent) is retried with bounded, jittered backoff on transport failures
//!   and HTTP 5xx, never on API statuses.
//!
//! ```no_run
//! use neux_oauth::{AuthCode, Client, Scope};
//!
//! # async fn handler(code_from_mini_app: String) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?; // NEUX_BASE_URL, NEUX_CLIENT_ID, NEUX_SECRET
//! let code = AuthCode::new(code_from_mini_app)?;
//! let (tokens, user) = client.login(&code, &Scope::default()).await?;
//! // Store user.open_id: it is the user's id within this mini app.
//! # let _ = (tokens, user); Ok(()) }
//! ```
//!
//! # Trying it against the sandbox
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neux_oauth::{Client, Scope};
//!
//! let sandbox = neux_sandbox::Sandbox::builder().app("demo-app", "demo-secret").start().await?;
//! let client = Client::builder()
//!     .client_id("demo-app")
//!     .secret("demo-secret")
//!     .base_url(sandbox.base_url())
//!     .build()?;
//! let code = sandbox.mint_code(client.client_id(), Scope::default(), Default::default())?.code;
//! let (tokens, user) = client.login(&code, &Scope::default()).await?;
//! assert_eq!(user.nick_name.as_deref(), Some("Sandbox User"));
//! assert!(!tokens.is_expired());
//! # Ok(()) }
//! ```
//!
//! # Your own HTTP stack, and tests without a network
//!
//! Everything a custom [`Transport`] needs is here too, the `http` crate included, so a backend
//! names no other neux crate to plug in its HTTP client or script the platform's answers:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neux_oauth::{
//!     AuthCode, Client, Error, HttpRequest, HttpResponse, RetryPolicy, Scope, Transport,
//!     TransportError, async_trait, http, status,
//! };
//!
//! /// Answers every call as the platform does for a user who never opened the mini app.
//! #[derive(Debug)]
//! struct NotOpened;
//!
//! #[async_trait]
//! impl Transport for NotOpened {
//!     async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
//!         let body = r#"{"responseHeader":{"status":2002,"msg":"not authorised"},"response":null}"#;
//!         Ok(http::Response::new(body.as_bytes().to_vec()))
//!     }
//! }
//!
//! let client = Client::builder()
//!     .client_id("demo-app")
//!     .secret("demo-secret")
//!     .base_url("https://openapi.example.com")
//!     .transport(NotOpened)
//!     .retry(RetryPolicy::none()) // this transport has no timer to wait between retries
//!     .build()?;
//! let err = client.exchange_code(&AuthCode::new("c0de")?, &Scope::default()).await.unwrap_err();
//! assert!(matches!(err, Error::NotAuthorized { .. }));
//! assert_eq!(status::NOT_AUTHORIZED.get(), 2002);
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | what |
//! | --- | --- |
//! | `reqwest` (default) | the reqwest transport (needs a tokio runtime) |
//! | `surf` | the surf transport (any executor) |
//! | `test-util` | `neux_transport::test_util::MockTransport`, re-exported as [`test_util`] |
//! | `redis` | `RedisLedger`: one code ledger for a fleet, in Redis 7 (single node, Sentinel or Cluster, `rediss://` over rustls; an evicting Redis is refused); `NEUX_LEDGER_URL` for [`Client::from_env`] (docs/deploying.md) |
//! | `metrics` | counts and latencies of every call and ledger claim through the [`metrics`](https://docs.rs/metrics/0.24) facade, for whichever recorder the process installs (docs/client.md#metrics) |
//!
//! Everything a login's public API uses is re-exported here ([`ReqwestTransport`] and
//! [`SurfTransport`] behind their features, the transport and error types, [`async_trait`] for
//! implementing [`Transport`]), so `neux-oauth` is the one dependency a backend needs to log
//! users in, test against a scripted transport, and customise timeouts, proxies and trusted
//! roots ([`TransportConfig`]).
//!
//! Nothing in this crate needs tokio; only the reqwest transport and the Redis ledger do (the
//! ledger runs on smol too, with `surf`). Bring any other HTTP stack by implementing
//! [`Transport`] and passing it to [`ClientBuilder::transport`].

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
mod builder;
mod call;
mod client;
mod error;
mod ledger;
mod mask;
mod memory_ledger;
mod meter;
mod pipeline;
#[cfg(feature = "redis")]
mod redis_ledger;
#[cfg(feature = "redis")]
mod redis_url;
mod retry;
mod token;

pub use builder::{ClientBuilder, MAX_CODE_LIFETIME, MIN_CODE_LIFETIME};
pub use call::ApiCall;
pub use client::Client;
pub use error::{BuildError, Error, SeenBy, Skew};
pub use ledger::{Claim, ClaimTicket, CodeKey, CodeLedger, LedgerError};
pub use memory_ledger::{DEFAULT_LEDGER_CAPACITY, InMemoryLedger};
#[cfg(feature = "redis")]
pub use redis_ledger::{
    DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, RedisLedger, RedisLedgerBuilder,
};
pub use retry::RetryPolicy;
pub use token::{MAX_TOKEN_LIFETIME, TokenSet};

/// The `http` crate, whose request and response types a [`Transport`] speaks.
pub use http;
pub use neux_proto::{
    AccessToken, ApiStatus, AppSecret, AuthCode, CODE_LIFETIME, ClaimsError, ClientId, Clock,
    DecodeError, Dialect, InvalidInput, ManualClock, OpenId, ParamError, ParamValue, Params,
    SENSITIVE_KEYS, Scope, ScopeName, Signature, SignedCall, SkewedClock, Stopwatch, SystemClock,
    TOKEN_PATH, Timestamp, TokenClaims, USER_INFO_PATH, UnionId, UserInfo, status,
};
#[cfg(feature = "test-util")]
pub use neux_transport::test_util;
#[cfg(feature = "surf")]
pub use neux_transport::{AsyncIoSleep, SurfTransport};
pub use neux_transport::{
    AsyncSleep, Cause, HttpRequest, HttpResponse, ProxyConfig, ProxyError, ProxyRules,
    RootCertificate, Sleep, TimeoutPhase, Transport, TransportConfig, TransportError, async_trait,
};
#[cfg(feature = "reqwest-client")]
pub use neux_transport::{ReqwestTransport, TokioSleep};

// Every Rust block of the README and of docs/ is compiled and run as a doctest, so the
// documentation cannot rot.
#[cfg(doctest)]
mod documentation {
    #[doc = include_str!("../../../README.md")]
    struct Readme;
    #[doc = include_str!("../../../docs/getting-started.md")]
    struct GettingStarted;
    // Its scripted-transport example needs `test_util`.
    #[cfg(feature = "test-util")]
    #[doc = include_str!("../../../docs/testing.md")]
    struct Testing;
    #[doc = include_str!("../../../docs/errors.md")]
    struct Errors;
    #[doc = include_str!("../../../docs/security.md")]
    struct Security;
    #[doc = include_str!("../../../docs/deploying.md")]
    struct Deploying;
    #[doc = include_str!("../../../docs/architecture.md")]
    struct Architecture;
    #[doc = include_str!("../../../docs/client.md")]
    struct ClientGuide;
    #[doc = include_str!("../../../docs/sandbox.md")]
    struct SandboxGuide;
    #[doc = include_str!("../../../docs/transport.md")]
    struct TransportGuide;
    #[doc = include_str!("../../../docs/signing.md")]
    struct Signing;
    #[doc = include_str!("../../../docs/cli.md")]
    struct Cli;
    #[doc = include_str!("../../../docs/benchmarks.md")]
    struct Benchmarks;
}
