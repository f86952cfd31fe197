//! Every envelope status neux knows, in one table.
//!
//! 200, 2000, 2001 and 2002 are the platform's documented statuses. The platform documents none
//! for its other failures, so neux-sandbox defines its own, one per cause, in the 4xxx range:
//! they are marked [`Origin::Sandbox`] in [`ALL`]. A client should treat any non-200 status it
//! does not know as an opaque failure and carry it through (as neux-oauth does); the sandbox's
//! numbers are for reading sandbox answers and logs, and for neux-oauth's default list of
//! code-refusal statuses.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `responseHeader.status` value. `200` is success; [`ALL`] says what every known one means.
///
/// ```
/// use neux_proto::{ApiStatus, status};
/// assert!(status::OK.is_success());
/// assert_eq!(ApiStatus::new(2001), status::TIMESTAMP_OUT_OF_WINDOW);
/// assert_eq!(status::info(ApiStatus::new(2001)).map(|s| s.meaning), Some("timestamp outside the allowed window"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiStatus(i64);

impl ApiStatus {
    /// Wraps a raw status.
    pub const fn new(status: i64) -> Self {
        Self(status)
    }

    /// The raw number.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Whether this is 200.
    pub fn is_success(self) -> bool {
        self == OK
    }
}

impl fmt::Display for ApiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Success.
pub const OK: ApiStatus = ApiStatus::new(200);
/// Signature verification failed (platform status).
pub const SIGNATURE_REJECTED: ApiStatus = ApiStatus::new(2000);
/// Timestamp outside the window (platform status).
pub const TIMESTAMP_OUT_OF_WINDOW: ApiStatus = ApiStatus::new(2001);
/// The user has not authorised the mini app (platform status).
pub const NOT_AUTHORIZED: ApiStatus = ApiStatus::new(2002);

/// The body is not valid JSON / form data, or not an object, or has a duplicate key.
pub const MALFORMED_BODY: ApiStatus = ApiStatus::new(4001);
/// The `Content-Type` is neither JSON nor form-urlencoded.
pub const UNSUPPORTED_CONTENT_TYPE: ApiStatus = ApiStatus::new(4002);
/// The body is larger than 64 KiB.
pub const BODY_TOO_LARGE: ApiStatus = ApiStatus::new(4003);
/// A required parameter is missing.
pub const MISSING_PARAMETER: ApiStatus = ApiStatus::new(4004);
/// A parameter the call does not take was sent.
pub const UNEXPECTED_PARAMETER: ApiStatus = ApiStatus::new(4005);
/// A parameter has the wrong type or value (`grantType`, `timestamp`, `scope`, `sign`).
pub const INVALID_PARAMETER: ApiStatus = ApiStatus::new(4006);
/// A `secret` parameter was sent: the secret must only be hashed, never sent.
pub const SECRET_ON_THE_WIRE: ApiStatus = ApiStatus::new(4007);
/// No app with this client id.
pub const UNKNOWN_CLIENT: ApiStatus = ApiStatus::new(4010);
/// The code was never issued.
pub const CODE_UNKNOWN: ApiStatus = ApiStatus::new(4020);
/// The code is older than its lifetime (default 5 minutes).
pub const CODE_EXPIRED: ApiStatus = ApiStatus::new(4021);
/// The code was already exchanged.
pub const CODE_USED: ApiStatus = ApiStatus::new(4022);
/// The code was issued to another client.
pub const CODE_WRONG_CLIENT: ApiStatus = ApiStatus::new(4023);
/// The requested scope was not granted with this code.
pub const SCOPE_NOT_GRANTED: ApiStatus = ApiStatus::new(4024);
/// The access token is malformed, forged or from another sandbox.
pub const TOKEN_INVALID: ApiStatus = ApiStatus::new(4030);
/// The access token has expired.
pub const TOKEN_EXPIRED: ApiStatus = ApiStatus::new(4031);
/// No such path (answered with HTTP 404).
pub const NOT_FOUND: ApiStatus = ApiStatus::new(4040);
/// Wrong method for the path (answered with HTTP 405).
pub const METHOD_NOT_ALLOWED: ApiStatus = ApiStatus::new(4050);
/// Control API: too many fault rules are armed (1,000 at most).
pub const TOO_MANY_FAULTS: ApiStatus = ApiStatus::new(4060);
/// Control API or inspector: a request a web page could have sent, refused (a `Host` that is
/// not loopback, another origin), answered with HTTP 403.
pub const CONTROL_FORBIDDEN: ApiStatus = ApiStatus::new(4070);
/// Control API: the sandbox has a control token (always, in remote mode) and the request did
/// not carry it as `Authorization: Bearer TOKEN`; answered with HTTP 401.
pub const CONTROL_TOKEN_REQUIRED: ApiStatus = ApiStatus::new(4071);

/// Who defines a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The platform documents it.
    Platform,
    /// neux-sandbox defines it for a failure the platform leaves undocumented.
    Sandbox,
}

/// One row of [`ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusInfo {
    /// The status.
    pub status: ApiStatus,
    /// Who defines it.
    pub origin: Origin,
    /// What it means, in a few words.
    pub meaning: &'static str,
    /// What to check, for the platform's documented failures.
    pub hint: Option<&'static str>,
}

const fn row(status: ApiStatus, origin: Origin, meaning: &'static str) -> StatusInfo {
    StatusInfo {
        status,
        origin,
        meaning,
        hint: None,
    }
}

const fn documented(status: ApiStatus, meaning: &'static str, hint: &'static str) -> StatusInfo {
    StatusInfo {
        status,
        origin: Origin::Platform,
        meaning,
        hint: Some(hint),
    }
}

/// The row of `status`, if neux knows it.
///
/// ```
/// use neux_proto::status;
/// let row = status::info(status::SIGNATURE_REJECTED).unwrap();
/// assert!(row.hint.unwrap().contains("app secret"));
/// assert!(status::info(neux_proto::ApiStatus::new(4107)).is_none());
/// ```
pub fn info(status: ApiStatus) -> Option<&'static StatusInfo> {
    ALL.iter().find(|row| row.status == status)
}

/// Every status, who defines it, and what it means: for docs, tests and tools.
///
/// ```
/// use neux_proto::status::{self, Origin};
/// let used = status::ALL.iter().find(|s| s.status == status::CODE_USED).unwrap();
/// assert_eq!((used.origin, used.meaning), (Origin::Sandbox, "code already used"));
/// ```
pub const ALL: &[StatusInfo] = &[
    row(OK, Origin::Platform, "success"),
    documented(
        SIGNATURE_REJECTED,
        "signature verification failed",
        "check the app secret, the client id and the dialect (clientId or appid)",
    ),
    documented(
        TIMESTAMP_OUT_OF_WINDOW,
        "timestamp outside the allowed window",
        "probable clock skew: sync this host's clock (NTP)",
    ),
    documented(
        NOT_AUTHORIZED,
        "user has not authorised the mini app",
        "the user must open the interface to this mini app",
    ),
    row(
        MALFORMED_BODY,
        Origin::Sandbox,
        "malformed JSON or form body",
    ),
    row(
        UNSUPPORTED_CONTENT_TYPE,
        Origin::Sandbox,
        "unsupported content type",
    ),
    row(BODY_TOO_LARGE, Origin::Sandbox, "body over 64 KiB"),
    row(MISSING_PARAMETER, Origin::Sandbox, "missing parameter"),
    row(
        UNEXPECTED_PARAMETER,
        Origin::Sandbox,
        "unexpected parameter",
    ),
    row(
        INVALID_PARAMETER,
        Origin::Sandbox,
        "invalid parameter value",
    ),
    row(
        SECRET_ON_THE_WIRE,
        Origin::Sandbox,
        "secret sent on the wire",
    ),
    row(UNKNOWN_CLIENT, Origin::Sandbox, "unknown client id"),
    row(CODE_UNKNOWN, Origin::Sandbox, "code unknown"),
    row(CODE_EXPIRED, Origin::Sandbox, "code expired"),
    row(CODE_USED, Origin::Sandbox, "code already used"),
    row(
        CODE_WRONG_CLIENT,
        Origin::Sandbox,
        "code issued to another client",
    ),
    row(
        SCOPE_NOT_GRANTED,
        Origin::Sandbox,
        "scope not granted for this code",
    ),
    row(TOKEN_INVALID, Origin::Sandbox, "access token invalid"),
    row(TOKEN_EXPIRED, Origin::Sandbox, "access token expired"),
    row(NOT_FOUND, Origin::Sandbox, "no such path"),
    row(METHOD_NOT_ALLOWED, Origin::Sandbox, "method not allowed"),
    row(
        TOO_MANY_FAULTS,
        Origin::Sandbox,
        "too many fault rules armed",
    ),
    row(
        CONTROL_FORBIDDEN,
        Origin::Sandbox,
        "control request from another host or origin",
    ),
    row(
        CONTROL_TOKEN_REQUIRED,
        Origin::Sandbox,
        "control request without the control token",
    ),
];

/// The sandbox's statuses for a refused code (unknown, expired, used, issued to another client).
pub const CODE_REFUSALS: [ApiStatus; 4] =
    [CODE_UNKNOWN, CODE_EXPIRED, CODE_USED, CODE_WRONG_CLIENT];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_is_listed_once_and_the_documented_ones_are_the_platforms() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(
                ALL[i + 1..].iter().all(|b| b.status != a.status),
                "{} twice",
                a.status
            );
            let documented = matches!(a.status.get(), 200 | 2000 | 2001 | 2002);
            assert_eq!(documented, a.origin == Origin::Platform, "{}", a.status);
        }
        for s in CODE_REFUSALS {
            assert!(
                ALL.iter()
                    .any(|r| r.status == s && r.origin == Origin::Sandbox)
            );
        }
    }
}
