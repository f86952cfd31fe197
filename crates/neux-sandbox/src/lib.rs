//! A strict local emulator of the Neuxnet Mini App OAuth API, for tests, demos and CI.
//!
//! A real login needs a code from a real device, so it cannot run in CI. `neux-sandbox` serves
//! the platform's two paths on 127.0.0.1, in both dialects, and checks every request more
//! strictly than the platform: parameters, timestamp window, signature (in constant time, with
//! the expected canonical string in the error), single-use codes (even under concurrent
//! exchanges), scopes, and HS512 tokens with expiry. What passes here passes there.
//!
//! Start one in-process with [`Sandbox::builder`], or as a process with `neux sandbox`. Drive it
//! through [`Sandbox::mint_code`] or the control API over HTTP:
//!
//! | path | what |
//! | --- | --- |
//! | `POST /neuopenapi/oauth/mini/accessToken` | the platform's token call (JSON or form) |
//! | `GET /neuopenapi/oauth/mini/user/info?accessToken=` | the platform's profile call |
//! | `POST /sandbox/v1/codes` | mint a code: `{"clientId", "scope"?, "user"?}` |
//! | `POST /sandbox/v1/faults` | arm a [`FaultRule`] |
//! | `GET /sandbox/v1/faults` | the armed rules, each with the strikes it has left |
//! | `DELETE /sandbox/v1/faults` | disarm all faults |
//! | `GET /sandbox/v1/requests?after=&limit=` | the [`LoggedRequest`] log (codes and tokens as fingerprints) |
//! | `GET /sandbox/v1/requests/{seq}` | one request's detail: parameters (masked), message, for a 2000 what the sandbox signed, earlier presentations of its code |
//! | `DELETE /sandbox/v1/requests` | empty the log |
//! | `GET /sandbox/v1/stats` | the tables' sizes (as [`Sandbox::stats`]) and the apps' ids |
//! | `GET /sandbox/v1/statuses` | every status with its meaning and hint ([`status::ALL`]) |
//! | `GET /` | the inspector: the log live, each request's detail, minting codes, arming faults |
//!
//! The control API and the inspector answer only requests addressed to a loopback name and
//! sent by the sandbox's own page or by a program (never by another site's page in a browser).
//! In remote mode ([`SandboxBuilder::allow_remote`]) they also answer the names the operator
//! lists ([`SandboxBuilder::public_host`]), and the control API wants the [`ControlToken`] as
//! `Authorization: Bearer TOKEN`.
//!
//! Statuses for failures the platform does not document are defined in [`status`].
//!
//! The crate has no cargo features; it needs a tokio runtime (it is an axum server).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use neux_sandbox::{Sandbox, UserSpec};
//! use neux_proto::{ClientId, Scope};
//!
//! let sandbox = Sandbox::builder().app("demo-app", "demo-secret").start().await?;
//! let minted = sandbox.mint_code(&ClientId::new("demo-app")?, Scope::default(), UserSpec::default())?;
//! assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(minted.open_id.len(), 32);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod control;
mod decode;
mod error;
mod faults;
mod inspect;
mod jwt;
mod limits;
mod log;
mod mask;
mod observe;
mod platform;
mod remote;
mod reply;
mod server;
mod state;
pub mod status;

/// Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`; not a stable API).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::decode::fuzz_token_request as token_request;
}

pub use builder::{DEFAULT_PROFILE_BYTES, SandboxBuilder};
pub use error::SandboxError;
pub use faults::{FaultRule, FaultSpec, FaultTiming};
pub use limits::MAX_PROFILE_FIELD_BYTES;
pub use log::LoggedRequest;
pub use neux_proto::{Clock, ManualClock, SystemClock};
pub use remote::{ControlToken, MIN_CONTROL_TOKEN_LEN};
pub use server::{MintedCode, Sandbox, SandboxStats};
pub use state::UserSpec;
