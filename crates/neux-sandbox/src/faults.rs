//! Faults: what can be armed, the table of armed rules, and the broken answers they make.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use serde::{Deserialize, Serialize};

use crate::reply::{ok, reject};
use crate::status::*;

/// A fault to inject into the answers on one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub enum FaultSpec {
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Answer with this HTTP status and an HTML error page (like a proxy in front of the API).
    Status {
        /// The HTTP status (e.g. 500, 502, 503).
        status: u16,
    },
    /// Send the response head, then close the connection without a body.
    Drop,
    /// Send half of the real answer's body, then close the connection.
    Truncate,
    /// Answer HTTP 200 with a body that is not JSON.
    NonJson,
    /// Answer with the platform's 2001 (timestamp outside the window).
    ClockSkew,
}

/// When a fault strikes relative to the real handling of the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FaultTiming {
    /// Instead of handling the request (a code is not spent).
    #[default]
    Before,
    /// After handling it (a code is spent, but the caller does not get the answer): what a
    /// network failure on the way back looks like.
    After,
}

/// `POST /sandbox/v1/faults` body: strike the next `count` requests on `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// The request path, e.g. `/neuopenapi/oauth/mini/accessToken`.
    pub path: String,
    /// How many requests to strike (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// What to do.
    pub fault: FaultSpec,
    /// Before or after the real handling (default before).
    #[serde(default)]
    pub when: FaultTiming,
}

fn one() -> u32 {
    1
}

#[derive(Debug)]
pub(crate) struct ArmedFault {
    pub path: String,
    pub remaining: u32,
    pub spec: FaultSpec,
    pub timing: FaultTiming,
}

/// How many fault rules may be armed at once.
pub(crate) const MAX_ARMED_FAULTS: usize = 1_000;

/// The armed rules, in the order they were armed; the first that matches a path strikes.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Vec<ArmedFault>,
}

impl FaultTable {
    /// Arms `rule`, unless [`MAX_ARMED_FAULTS`] are armed already.
    pub(crate) fn arm(&mut self, rule: FaultRule) -> Result<(), String> {
        if rule.count == 0 {
            return Ok(());
        }
        if self.rules.len() >= MAX_ARMED_FAULTS {
            return Err(format!(
                "{MAX_ARMED_FAULTS} fault rules are armed already: DELETE /sandbox/v1/faults, or arm one rule with a larger count"
            ));
        }
        self.rules.push(ArmedFault {
            path: rule.path,
            remaining: rule.count,
            spec: rule.fault,
            timing: rule.when,
        });
        Ok(())
    }

    /// The armed rules, in the order they strike, each with the strikes it has left.
    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules
            .iter()
            .map(|f| FaultRule {
                path: f.path.clone(),
                count: f.remaining,
                fault: f.spec.clone(),
                when: f.timing,
            })
            .collect()
    }

    /// The fault that strikes the next request on `path`, if one is armed; spends it.
    pub(crate) fn take(&mut self, path: &str) -> Option<(FaultSpec, FaultTiming)> {
        let i = self
            .rules
            .iter()
            .position(|f| f.path == path && f.remaining > 0)?;
        let f = &mut self.rules[i];
        f.remaining -= 1;
        let out = (f.spec.clone(), f.timing);
        if f.remaining == 0 {
            self.rules.remove(i);
        }
        Some(out)
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }
}

pub(crate) fn replacement(spec: &FaultSpec) -> Response {
    match spec {
        FaultSpec::Status { status } => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                code,
                [(header::CONTENT_TYPE, "text/html")],
                format!("<html><body><h1>{code}</h1><p>injected by neux-sandbox</p></body></html>"),
            )
                .into_response()
        }
        FaultSpec::NonJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Service temporarily unavailable</body></html>",
        )
            .into_response(),
        FaultSpec::ClockSkew => reject(
            TIMESTAMP_OUT_OF_WINDOW,
            "request timed out: timestamp outside the allowed window (injected)",
        )
        .into_response(),
        FaultSpec::Drop => broken(Bytes::new(), 64),
        // Handled by the caller (they need the real response).
        FaultSpec::Delay { .. } | FaultSpec::Truncate => ok(()),
    }
}

pub(crate) async fn truncate(res: Response) -> Response {
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let mut broken = broken(half, bytes.len().max(1));
    *broken.status_mut() = parts.status;
    broken.extensions_mut().extend(parts.extensions);
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        broken
            .headers_mut()
            .insert(header::CONTENT_TYPE, ct.clone());
    }
    broken
}

/// A response that promises `declared` bytes, sends `prefix`, then fails, which makes the server
/// drop the connection mid-body.
fn broken(prefix: Bytes, declared: usize) -> Response {
    let mut res = Response::new(Body::new(Broken {
        prefix: Some(prefix),
    }));
    res.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    res
}

struct Broken {
    prefix: Option<Bytes>,
}

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.prefix.take() {
            Some(p) if !p.is_empty() => Poll::Ready(Some(Ok(Frame::data(p)))),
            _ => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "injected fault: connection dropped",
            )))),
        }
    }
}
