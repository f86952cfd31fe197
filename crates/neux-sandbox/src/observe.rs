//! The middleware around the platform paths: it logs each request as it arrives, injects armed
//! faults, stamps `Date` from the sandbox clock, and completes the log entry with the answer.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use neux_proto::{ApiStatus, TOKEN_PATH, USER_INFO_PATH};

use crate::decode;
use crate::faults::{FaultSpec, FaultTiming, replacement, truncate};
use crate::limits::{LOGGED_METHOD_MAX, LOGGED_PATH_MAX, cut};
use crate::log::{Answer, LogDetails, LoggedRequest};
use crate::platform::SIGNED_CALL_PREFIX;
use crate::reply::{Reject, ReplyMessage, SignatureCheck};
use crate::state::Emulator;

/// Wraps the platform paths: logs each request as it arrives, injects armed faults, stamps
/// `Date` from the sandbox clock, and completes the log entry with the answer.
pub(crate) async fn observe(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let at_ms = emu.now_ms();
    // What a caller sent before anything checked it: the log keeps a bounded part.
    let method = cut(req.method().as_str(), LOGGED_METHOD_MAX);
    let path = req.uri().path().to_owned();
    let (req, details) = match read_presented(req, &emu.settings.mask_keys).await {
        Ok(read) => read,
        Err(refused) => (Request::new(Body::empty()), refused),
    };
    let fault = match &details {
        Presented::Read(_) => emu.take_fault(&path),
        Presented::Refused(..) => None,
    };
    let mut arrival = details.details();
    let seq = emu.log_arrival(
        LoggedRequest {
            seq: 0,
            at_ms,
            method,
            path: cut(&path, LOGGED_PATH_MAX),
            dialect: arrival.dialect.map(|d| d.as_str().to_owned()),
            client_id: arrival.client_id.clone(),
            code_fingerprint: arrival.code_fingerprint.clone(),
            token_fingerprint: arrival.token_fingerprint.clone(),
            http_status: None,
            api_status: None,
            fault: fault.as_ref().map(|(spec, _)| spec.clone()),
        },
        arrival.params.take(),
    );
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
    if let Ok(v) = HeaderValue::from_str(&neux_proto::format_http_date(emu.clock.now())) {
        res.headers_mut().insert(header::DATE, v);
    }
    let http_status = res.status().as_u16();
    let api_status = res.extensions().get::<ApiStatus>().map(|s| s.get());
    let learnt = res.extensions().get::<LogDetails>().cloned();
    tracing::info!(
        seq,
        path = %cut(&path, LOGGED_PATH_MAX),
        client_id = arrival.client_id.as_deref().unwrap_or("-"),
        code = arrival.code_fingerprint.as_deref().unwrap_or("-"),
        api_status = api_status.unwrap_or(0),
        http_status,
        "request"
    );
    emu.log_answer(
        seq,
        Answer {
            http_status,
            api_status,
            client_id: learnt.and_then(|d| d.client_id),
            message: res.extensions().get::<ReplyMessage>().map(|m| m.0.clone()),
            signature: res.extensions().get::<SignatureCheck>().cloned(),
        },
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

/// Reads what a platform request presents (its code or token, as fingerprints, and its
/// parameters, masked), buffering a signed request's body so the handler can read it again.
async fn read_presented(
    req: Request,
    mask_keys: &[String],
) -> Result<(Request, Presented), Presented> {
    match req.uri().path() {
        USER_INFO_PATH => {
            let details = decode::presented_token(req.uri());
            Ok((req, Presented::Read(details)))
        }
        path if path == TOKEN_PATH || path.starts_with(SIGNED_CALL_PREFIX) => {
            let (parts, body) = req.into_parts();
            let refused = |details: LogDetails, r: Reject| {
                Presented::Refused(details, Box::new(r.into_response()))
            };
            let bytes = decode::read_body(body)
                .await
                .map_err(|r| refused(LogDetails::default(), r))?;
            let (details, parsed) = decode::presented(&parts.headers, &bytes, mask_keys);
            let mut req = Request::from_parts(parts, Body::from(bytes));
            if let Some(parsed) = parsed {
                req.extensions_mut().insert(parsed);
            }
            Ok((req, Presented::Read(details)))
        }
        _ => Ok((req, Presented::Read(LogDetails::default()))),
    }
}
