//! How the sandbox answers: the platform's envelope, refusals, and the answers for no route.

use std::fmt;

use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use neux_proto::{ApiStatus, Envelope};
use serde::Serialize;

use crate::status::*;

/// A refusal: an envelope with a non-200 status and a message that says what to fix.
#[derive(Debug)]
pub(crate) struct Reject {
    pub status: ApiStatus,
    pub msg: String,
    pub http: StatusCode,
}

pub(crate) fn reject(status: ApiStatus, msg: impl fmt::Display) -> Reject {
    Reject {
        status,
        msg: msg.to_string(),
        http: StatusCode::OK,
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
        envelope::<()>(self.http, &Envelope::error(self.status, self.msg))
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
