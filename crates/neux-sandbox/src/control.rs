//! The control API (`/sandbox/v1/*`), fault injection and the request log.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use neux_proto::{ApiStatus, ClientId, Scope};
use serde::{Deserialize, Serialize};

use neux_proto::{TOKEN_PATH, USER_INFO_PATH};

use crate::platform::{self, LogDetails, Reject, envelope, reject};
use crate::state::{ArmedFault, State, UserSpec};
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

/// One entry of the request log (`GET /sandbox/v1/requests`): secrets, codes and tokens appear
/// only as fingerprints (the first 8 hex digits of their SHA-256), so tests can count how many
/// times a code was presented without seeing it.
///
/// An entry is written when the request arrives, with what it presents, before any fault,
/// delay or handling; the answer's statuses are filled in when it is sent. A request whose
/// client hung up before the answer keeps `http_status: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LoggedRequest {
    /// Arrival order, from 1.
    #[serde(default)]
    pub seq: u64,
    /// Sandbox clock at arrival, Unix ms.
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// `json` or `form` for token calls.
    pub dialect: Option<String>,
    /// The client id, when the request named one (its first 64 bytes: it is logged before it
    /// is checked).
    pub client_id: Option<String>,
    /// Fingerprint of the presented code.
    pub code_fingerprint: Option<String>,
    /// Fingerprint of the presented access token.
    pub token_fingerprint: Option<String>,
    /// The HTTP status sent; `None` while the request is being handled, and for good when the
    /// client hung up first.
    pub http_status: Option<u16>,
    /// The envelope status sent, if an envelope was sent.
    pub api_status: Option<i64>,
    /// The fault injected, if any.
    pub fault: Option<FaultSpec>,
}

/// Wraps the platform paths: logs each request as it arrives, injects armed faults, stamps
/// `Date` from the sandbox clock, and completes the log entry with the answer.
pub(crate) async fn observe(
    AxumState(state): AxumState<State>,
    req: Request,
    next: Next,
) -> Response {
    let at_ms = state.now_ms();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let (req, details) = match read_presented(req).await {
        Ok(read) => read,
        Err(refused) => (Request::new(Body::empty()), refused),
    };
    let fault = match &details {
        Presented::Read(_) => take_fault(&state, &path),
        Presented::Refused(..) => None,
    };
    let arrival = details.details();
    let seq = state.log_arrival(LoggedRequest {
        seq: 0,
        at_ms,
        method,
        path: path.clone(),
        dialect: arrival.dialect.map(|d| d.as_str().to_owned()),
        client_id: arrival.client_id.clone(),
        code_fingerprint: arrival.code_fingerprint.clone(),
        token_fingerprint: arrival.token_fingerprint.clone(),
        http_status: None,
        api_status: None,
        fault: fault.as_ref().map(|(spec, _)| spec.clone()),
    });
    let mut res = match (details, &fault) {
        (Presented::Refused(_, res), _) => *res,
        (_, Some((spec, FaultTiming::Before))) => match spec {
            FaultSpec::Delay { ms } => {
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                next.run(req).await
            }
            FaultSpec::Truncate => truncate(next.run(req).await).await,
            other => replacement(other),
        },
        (_, Some((spec, FaultTiming::After))) => {
            let real = next.run(req).await;
            match spec {
                FaultSpec::Delay { ms } => {
                    tokio::time::sleep(Duration::from_millis(*ms)).await;
                    real
                }
                FaultSpec::Truncate => truncate(real).await,
                other => {
                    // The request was handled: keep what it learnt for the log.
                    let learnt = real.extensions().get::<LogDetails>().cloned();
                    let mut res = replacement(other);
                    if let Some(d) = learnt {
                        res.extensions_mut().insert(d);
                    }
                    res
                }
            }
        }
        (_, None) => next.run(req).await,
    };
    if let Ok(v) = HeaderValue::from_str(&neux_proto::format_http_date(state.clock.now())) {
        res.headers_mut().insert(header::DATE, v);
    }
    let http_status = res.status().as_u16();
    let api_status = res.extensions().get::<ApiStatus>().map(|s| s.get());
    let learnt = res.extensions().get::<LogDetails>().cloned();
    tracing::info!(
        seq,
        path = %path,
        client_id = arrival.client_id.as_deref().unwrap_or("-"),
        code = arrival.code_fingerprint.as_deref().unwrap_or("-"),
        api_status = api_status.unwrap_or(0),
        http_status,
        "request"
    );
    state.log_answer(
        seq,
        http_status,
        api_status,
        learnt.and_then(|d| d.client_id),
    );
    res
}

/// A request as it arrived: read (its body buffered again for the handler), or refused while
/// reading (a body over the cap).
enum Presented {
    Read(LogDetails),
    Refused(LogDetails, Box<Response>),
}

impl Presented {
    fn details(&self) -> LogDetails {
        match self {
            Self::Read(d) | Self::Refused(d, _) => d.clone(),
        }
    }
}

/// Reads what a platform request presents (its code or token, as fingerprints), buffering a
/// token request's body so the handler can read it again.
async fn read_presented(req: Request) -> Result<(Request, Presented), Presented> {
    match req.uri().path() {
        USER_INFO_PATH => {
            let details = platform::presented_token(req.uri());
            Ok((req, Presented::Read(details)))
        }
        TOKEN_PATH => {
            let (parts, body) = req.into_parts();
            let refused = |details: LogDetails, r: Reject| {
                Presented::Refused(details, Box::new(r.into_response()))
            };
            let bytes = platform::read_body(body)
                .await
                .map_err(|r| refused(LogDetails::default(), r))?;
            let details = platform::presented(&parts.headers, &bytes);
            Ok((
                Request::from_parts(parts, Body::from(bytes)),
                Presented::Read(details),
            ))
        }
        _ => Ok((req, Presented::Read(LogDetails::default()))),
    }
}

fn take_fault(state: &State, path: &str) -> Option<(FaultSpec, FaultTiming)> {
    if state.armed_faults.load(Ordering::Acquire) == 0 {
        return None;
    }
    let mut t = state.tables();
    let i = t
        .faults
        .iter()
        .position(|f| f.path == path && f.remaining > 0)?;
    let f = &mut t.faults[i];
    f.remaining -= 1;
    let out = (f.spec.clone(), f.timing);
    if f.remaining == 0 {
        t.faults.remove(i);
        state.armed_faults.store(t.faults.len(), Ordering::Release);
    }
    Some(out)
}

fn replacement(spec: &FaultSpec) -> Response {
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
        FaultSpec::ClockSkew => envelope(
            StatusCode::OK,
            TIMESTAMP_OUT_OF_WINDOW,
            "request timed out: timestamp outside the allowed window (injected)",
            None,
        ),
        FaultSpec::Drop => broken(Bytes::new(), 64),
        // Handled by the caller (they need the real response).
        FaultSpec::Delay { .. } | FaultSpec::Truncate => envelope(StatusCode::OK, OK, "OK", None),
    }
}

async fn truncate(res: Response) -> Response {
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

/// Largest control API request body (a mint with a full profile is well under 1 KiB).
pub(crate) const MAX_CONTROL_BODY: usize = 16 * 1024;

/// `POST /sandbox/v1/codes` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct MintBody {
    client_id: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    user: Option<UserSpec>,
}

pub(crate) async fn mint_code(AxumState(state): AxumState<State>, body: Bytes) -> Response {
    let parsed: MintBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return reject(
                MALFORMED_BODY,
                format!("expected {{\"clientId\", \"scope\"?, \"user\"?}}: {e}"),
            )
            .into_response();
        }
    };
    if !state.apps.contains_key(&parsed.client_id) {
        return reject(
            UNKNOWN_CLIENT,
            format!("no app with client id {:?}", parsed.client_id),
        )
        .into_response();
    }
    let scope = match parsed.scope.as_deref().map(str::parse::<Scope>).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return reject(INVALID_PARAMETER, format!("scope: {e}")).into_response(),
    };
    let (code, open_id) =
        state.mint_code(&parsed.client_id, scope, parsed.user.unwrap_or_default());
    let response = serde_json::json!({
        "code": code,
        "openId": open_id,
        "expiresIn": state.settings.code_ttl.as_secs(),
    });
    envelope(StatusCode::OK, OK, "OK", Some(response))
}

pub(crate) async fn arm_fault(AxumState(state): AxumState<State>, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return reject(MALFORMED_BODY, format!("bad fault rule: {e}")).into_response(),
    };
    let count = rule.count;
    if let Err(full) = arm(&state, rule) {
        return reject(TOO_MANY_FAULTS, full).into_response();
    }
    envelope(
        StatusCode::OK,
        OK,
        "OK",
        Some(serde_json::json!({"armed": count})),
    )
}

/// How many fault rules may be armed at once.
pub(crate) const MAX_ARMED_FAULTS: usize = 1_000;

/// Arms `rule`, unless [`MAX_ARMED_FAULTS`] are armed already.
pub(crate) fn arm(state: &State, rule: FaultRule) -> Result<(), String> {
    if rule.count == 0 {
        return Ok(());
    }
    let mut t = state.tables();
    if t.faults.len() >= MAX_ARMED_FAULTS {
        return Err(format!(
            "{MAX_ARMED_FAULTS} fault rules are armed already: DELETE /sandbox/v1/faults, or arm one rule with a larger count"
        ));
    }
    t.faults.push(ArmedFault {
        path: rule.path,
        remaining: rule.count,
        spec: rule.fault,
        timing: rule.when,
    });
    state.armed_faults.store(t.faults.len(), Ordering::Release);
    Ok(())
}

pub(crate) async fn clear_faults(AxumState(state): AxumState<State>) -> Response {
    let mut t = state.tables();
    t.faults.clear();
    state.armed_faults.store(0, Ordering::Release);
    drop(t);
    envelope(
        StatusCode::OK,
        OK,
        "OK",
        Some(serde_json::json!({"armed": 0})),
    )
}

pub(crate) async fn list_requests(AxumState(state): AxumState<State>) -> Response {
    let log: Vec<LoggedRequest> = state.tables().log.iter().cloned().collect();
    Json(serde_json::json!({
        "responseHeader": {"status": 200, "msg": "OK"},
        "response": log,
    }))
    .into_response()
}

pub(crate) async fn not_found() -> Response {
    let mut r = reject(
        NOT_FOUND,
        "no such path: the platform serves POST /neuopenapi/oauth/mini/accessToken and GET /neuopenapi/oauth/mini/user/info",
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

/// Validates a client id for the in-process API.
pub(crate) fn known(state: &State, client_id: &ClientId) -> bool {
    state.apps.contains_key(client_id.as_str())
}
