//! Pure types and request signing for the Neuxnet Mini App OpenAPI.
//!
//! `neux-proto` is the protocol core of the neux SDK: it builds, signs and decodes, and does
//! nothing else. It has no I/O, no async, no HTTP client and never reads the clock: timestamps,
//! clocks and secrets are arguments. It is also time's one home for the workspace: the
//! [`Clock`] trait beside [`Timestamp`], the test clock ([`ManualClock`]), and the clocks that
//! read the operating system ([`SystemClock`], [`SkewedClock`], [`Stopwatch`]), which nothing in
//! neux-proto calls. Use it directly to sign any `/neuopenapi/*` call (payments, notifications,
//! push); to log a user in, use the `neux-oauth` crate, which drives these types over HTTP.
//!
//! Start from:
//! - [`Params`] and [`sign`]: the signing rule over any parameter map;
//! - [`TokenRequest`] and [`Dialect`]: the code-for-token request, body bytes and all;
//! - [`Envelope`], [`TokenResponse`] and [`UserInfo`]: decoding the platform's answers.
//!
//! # The signing rule
//!
//! `sign` is the lowercase hex SHA-256 of `key=value` pairs concatenated with no separator, in
//! the order of Java's `String.compareTo` (UTF-16 code units), over every parameter that is sent
//! plus `secret` = the app secret in its sorted place; `sign` and `fileData` are left out.
//! Strings are taken as they are, integers in exact decimal, booleans as `true`/`false`, null as
//! empty, and lists of strings or integers joined with `,`. Floats, objects and nested lists are
//! refused: the platform's reference implementations disagree on them.
//!
//! # Signing a payment call in three lines
//!
//! ```
//! use neux_proto::{AppSecret, Params};
//! # let secret = AppSecret::new("demo-secret")?;
//! let mut params = Params::from_json_str(r#"{"appid": "demo-appid", "timestamp": 1700000000000,
//!     "amount": 100, "notifyType": 1, "status": 0, "neg": -42}"#)?;
//! let signature = params.sign(&secret);
//! params.insert("sign", signature.to_hex())?; // then send `serde_json::to_vec(&params)`
//! assert_eq!(signature.to_hex(), "cc99e309df6b2d7c5ca23617126ddddb23d72eecf2680137979a5ced30a7fa49");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! None: the crate is always the same small, pure core (serde, sha2, hex, base64,
//! form_urlencoded, zeroize, thiserror).
//!
//! # Secrets
//!
//! [`AppSecret`], [`AuthCode`] and [`AccessToken`] print as `[REDACTED]` in `Debug`, have no
//! `Display` or `Serialize`, compare in constant time and are wiped on drop. Error messages name
//! keys and positions, never values.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod call;
mod canonical;
mod jwt;
mod params;
mod request;
mod response;
mod scope;
mod secret;
mod sensitive;
mod sign;
mod signature;
pub mod status;
mod system_clock;
mod text;
mod time;
mod value;

pub use call::{ADDED_BY_SIGNER, SignedCall};
pub use canonical::UNSIGNED_KEYS;
pub use jwt::{ClaimsError, TokenClaims};
pub use params::{ListItem, ParamError, ParamValue, Params, UnsupportedKind, cmp_keys};
pub use request::{
    Dialect, DialectParseError, GRANT_TYPE, TOKEN_PATH, TokenRequest, TokenRequestBody,
    USER_INFO_PATH, user_info_path_and_query,
};
pub use response::{
    ApiError, DecodeError, Envelope, ResponseError, ResponseHeader, TokenResponse, UserInfo, redact,
};
pub use scope::{Scope, ScopeError, ScopeName};
pub use secret::{AccessToken, AppSecret, AuthCode, ClientId, InvalidInput, OpenId, UnionId};
pub use sensitive::{SENSITIVE_KEYS, is_sensitive_name};
pub use sign::{SECRET_MASK, first_difference, sign};
pub use signature::{Signature, SignatureParseError};
pub use status::ApiStatus;
pub use system_clock::{SkewedClock, Stopwatch, SystemClock};
pub use text::{TextParams, TextValue};
pub use time::{CODE_LIFETIME, Clock, ManualClock, Timestamp, format_http_date, parse_http_date};
