//! How the sandbox answers: the platform's envelope, refusals, and the answers for no route.

use std::fmt;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neux_proto::{ApiStatus, Envelope};
use serde::Serialize;

use crate::limits::{SHOWN_MESSAGE_MAX, cut};
use crate::status::*;

/// What the sandbox signed when it refused a signature (2000): the canonical string with the
/// secret and sensitive values masked, and the first 8 hex digits of the expected and received
/// signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignatureCheck {
    pub canonical: String,
    /// Whether `canonical` was cut at [`SHOWN_CANONICAL_MAX`](crate::limits::SHOWN_CANONICAL_MAX) bytes.
    pub canonical_cut: bool,
    pub expected: String,
    pub received: String,
}

/// The envelope message an answer carried (its first [`SHOWN_MESSAGE_MAX`] bytes), for the
/// request's detail.
#[derive(Debug, Clone)]
pub(crate) struct ReplyMessage(pub String);

/// A refusal: an envelope with a non-200 status and a message that says what to fix.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub status: ApiStatus,
    pub msg: String,
    pub http: StatusCode,
    /// For a refused signature: what the sandbox signed, for the inspector.
    pub signature: Option<Box<SignatureCheck>>,
}

pub(crate) fn reject(status: ApiStatus, msg: impl fmt::Display) -> Reject {
    Reject {
        status,
        msg: msg.to_string(),
        http: StatusCode::OK,
        signature: None,
    }
}

/// How a refused signature's message begins; the masked canonical string follows.
pub(crate) const SIGNATURE_MISMATCH: &str = "signature mismatch: expected the SHA-256 of ";

impl Reject {
    /// Adds what the sandbox signed, for a refused signature.
    pub(crate) fn with_signature(mut self, check: SignatureCheck) -> Self {
        self.signature = Some(Box::new(check));
        self
    }
}

/// The platform's envelope around `response` (`null` on failure), with its status recorded in
/// the response's extensions for the request log.
pub(crate) fn envelope<T: Serialize>(http: StatusCode, envelope: &Envelope<T>) -> Response {
    let body = serde_json::to_vec(envelope).unwrap_or_default();
    let mut res = (http, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    res.extensions_mut().insert(envelope.header.status);
    res
}

/// A success envelope around `response`, HTTP 200.
pub(crate) fn ok<T: Serialize>(response: T) -> Response {
    envelope(StatusCode::OK, &Envelope::ok(response))
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        // The inspector shows a refused signature's message with its own masking (the answer
        // echoes what the caller sent, as the platform may).
        let shown = match &self.signature {
            Some(check) => format!("{SIGNATURE_MISMATCH}{}", check.canonical),
            None => self.msg.clone(),
        };
        let message = ReplyMessage(cut(&shown, SHOWN_MESSAGE_MAX));
        let mut res = envelope::<()>(self.http, &Envelope::error(self.status, self.msg));
        res.extensions_mut().insert(message);
        if let Some(check) = self.signature {
            res.extensions_mut().insert(*check);
        }
        res
    }
}

pub(crate) async fn not_found() -> Response {
    let mut r = reject(
        NOT_FOUND,
        "no such path: the sandbox serves POST /neuopenapi/oauth/mini/accessToken, GET /neuopenapi/oauth/mini/user/info, and any signed call POSTed under /neuopenapi/sandbox/",
    );
    r.http = StatusCode::NOT_FOUND;
    r.into_response()
}

pub(crate) async fn method_not_allowed(method: Method) -> Response {
    let mut r = reject(
        METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed here (the token call is POST, user info is GET)"),
    );
    r.http = StatusCode::METHOD_NOT_ALLOWED;
    r.into_response()
}
