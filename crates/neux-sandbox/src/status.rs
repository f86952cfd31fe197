//! The envelope statuses the sandbox answers with.
//!
//! 200, 2000, 2001 and 2002 are the platform's documented statuses. The platform documents none
//! for the other failures, so the sandbox defines its own, one per cause, in the 4xxx range.
//! Client code should treat any non-200 status it does not know as an opaque failure and carry
//! it through (as neux-oauth does); these numbers are for reading sandbox answers and logs.

use neux_proto::ApiStatus;

/// Success.
pub const OK: ApiStatus = ApiStatus::OK;
/// Signature verification failed (platform status).
pub const SIGNATURE_REJECTED: ApiStatus = ApiStatus::SIGNATURE_REJECTED;
/// Timestamp outside the window (platform status).
pub const TIMESTAMP_OUT_OF_WINDOW: ApiStatus = ApiStatus::TIMESTAMP_OUT_OF_WINDOW;
/// The user has not authorised the mini app (platform status).
pub const NOT_AUTHORIZED: ApiStatus = ApiStatus::NOT_AUTHORIZED;

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

/// Every status the sandbox can answer with, and what it means: for docs and tests.
pub const ALL: &[(ApiStatus, &str)] = &[
    (OK, "success"),
    (SIGNATURE_REJECTED, "signature verification failed"),
    (
        TIMESTAMP_OUT_OF_WINDOW,
        "timestamp outside the allowed window",
    ),
    (NOT_AUTHORIZED, "user has not authorised the mini app"),
    (MALFORMED_BODY, "malformed JSON or form body"),
    (UNSUPPORTED_CONTENT_TYPE, "unsupported content type"),
    (BODY_TOO_LARGE, "body over 64 KiB"),
    (MISSING_PARAMETER, "missing parameter"),
    (UNEXPECTED_PARAMETER, "unexpected parameter"),
    (INVALID_PARAMETER, "invalid parameter value"),
    (SECRET_ON_THE_WIRE, "secret sent on the wire"),
    (UNKNOWN_CLIENT, "unknown client id"),
    (CODE_UNKNOWN, "code unknown"),
    (CODE_EXPIRED, "code expired"),
    (CODE_USED, "code already used"),
    (CODE_WRONG_CLIENT, "code issued to another client"),
    (SCOPE_NOT_GRANTED, "scope not granted for this code"),
    (TOKEN_INVALID, "access token invalid"),
    (TOKEN_EXPIRED, "access token expired"),
    (NOT_FOUND, "no such path"),
    (METHOD_NOT_ALLOWED, "method not allowed"),
    (TOO_MANY_FAULTS, "too many fault rules armed"),
];
