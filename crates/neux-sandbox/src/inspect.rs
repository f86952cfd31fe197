//! What the control API shows: the request log and each request's detail, the armed faults,
//! the tables' sizes, the status table; and the inspector page that reads them (`/`).

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use neux_proto::ApiStatus;
use serde::Serialize;

use crate::limits::cut;
use crate::log::{Detail, LoggedRequest};
use crate::reply::{ok, reject};
use crate::state::Emulator;
use crate::status::*;

/// `GET /sandbox/v1/requests?after=SEQ&limit=N`: entries after a sequence number (default 0),
/// at most `limit` of them, the newest (default: all).
fn log_query(uri: &Uri) -> Result<(u64, Option<usize>), String> {
    let (mut after, mut limit) = (0, None);
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "after" => {
                after = v
                    .parse()
                    .map_err(|_| format!("after={v:?} is not a sequence number"))?
            }
            "limit" => {
                limit = Some(
                    v.parse()
                        .map_err(|_| format!("limit={v:?} is not a count"))?,
                )
            }
            other => return Err(format!("unexpected query parameter {:?}", cut(other, 64))),
        }
    }
    Ok((after, limit))
}

/// `GET /sandbox/v1/requests`: the log, oldest first; `after` and `limit` let a poller read
/// only what is new, and the newest first.
pub(crate) async fn list_requests(State(emu): State<Emulator>, uri: Uri) -> Response {
    let (after, limit) = match log_query(&uri) {
        Ok(q) => q,
        Err(e) => {
            return reject(
                INVALID_PARAMETER,
                format!("the log takes `after` (a sequence number) and `limit`: {e}"),
            )
            .into_response();
        }
    };
    let t = emu.tables();
    // Sequence numbers only grow: the entries after `after` are a suffix of the log.
    let start = t.log.partition_point(|e| e.seq <= after);
    let newer = t.log.len() - start;
    let skip = start + limit.map_or(0, |l| newer.saturating_sub(l));
    let log: Vec<LoggedRequest> = t.log.iter().skip(skip).cloned().collect();
    drop(t);
    ok(log)
}

/// `DELETE /sandbox/v1/requests`: empties the log.
pub(crate) async fn clear_requests(State(emu): State<Emulator>) -> Response {
    ok(serde_json::json!({"cleared": emu.clear_log()}))
}

/// A presentation of a code, for "seen before".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Presentation {
    seq: u64,
    at_ms: u64,
}

/// How many earlier presentations of one code a detail lists.
const PRESENTATIONS_SHOWN: usize = 5;

/// `GET /sandbox/v1/requests/{seq}`: one request with its detail, while the log keeps it.
pub(crate) async fn request_detail(
    State(emu): State<Emulator>,
    Path(seq): Path<String>,
) -> Response {
    let Ok(seq) = seq.parse::<u64>() else {
        return reject(
            INVALID_PARAMETER,
            format!("{:?} is not a sequence number", cut(&seq, 64)),
        )
        .into_response();
    };
    let t = emu.tables();
    let Ok(i) = t.log.binary_search_by_key(&seq, |e| e.seq) else {
        drop(t);
        let mut r = reject(
            NOT_FOUND,
            format!(
                "request {seq} is not in the log (it was cleared, or pushed out by newer ones)"
            ),
        );
        r.http = StatusCode::NOT_FOUND;
        return r.into_response();
    };
    let entry = t.log[i].clone();
    let detail = t
        .details
        .binary_search_by_key(&seq, |d| d.seq)
        .ok()
        .map(|d| t.details[d].clone())
        .unwrap_or_default();
    // Earlier presentations of the same code: a code reaches the platform once, so any is a
    // finding.
    let (earlier, later) = match &entry.code_fingerprint {
        Some(fp) => {
            let same = |e: &&LoggedRequest| e.code_fingerprint.as_ref() == Some(fp);
            let earlier: Vec<Presentation> = t
                .log
                .iter()
                .take(i)
                .filter(same)
                .map(|e| Presentation {
                    seq: e.seq,
                    at_ms: e.at_ms,
                })
                .collect();
            let later = t.log.iter().skip(i + 1).filter(same).count();
            (Some(earlier), later)
        }
        None => (None, 0),
    };
    drop(t);
    let info = entry.api_status.and_then(|s| info(ApiStatus::new(s)));
    let Detail {
        params,
        message,
        signature,
        ..
    } = detail;
    let code = earlier.map(|earlier| {
        serde_json::json!({
            "earlierCount": earlier.len(),
            "earlier": earlier.iter().take(PRESENTATIONS_SHOWN).collect::<Vec<_>>(),
            "laterCount": later,
        })
    });
    ok(serde_json::json!({
        "request": entry,
        "meaning": info.map(|i| i.meaning),
        "hint": info.and_then(|i| i.hint),
        "message": message,
        "params": params.as_ref().map(|p| &p.shown),
        "paramsTotal": params.as_ref().map(|p| p.total),
        "signature": signature,
        "code": code,
    }))
}

/// `GET /sandbox/v1/faults`: the armed rules, in the order they strike.
pub(crate) async fn list_faults(State(emu): State<Emulator>) -> Response {
    let rules = emu.tables().faults.rules();
    ok(rules)
}

/// `GET /sandbox/v1/stats`: the tables' sizes, the apps (ids only) and the settings a page
/// needs.
pub(crate) async fn stats(State(emu): State<Emulator>) -> Response {
    let live = emu.live_codes();
    let t = emu.tables();
    let body = serde_json::json!({
        "codes": t.codes.len(),
        "liveCodes": live,
        "mintedCodes": t.counter,
        "profiles": t.profiles.len(),
        "armedFaults": t.faults.len(),
        "loggedRequests": t.log.len(),
        "oldestSeq": t.log.front().map_or(t.log_seq + 1, |e| e.seq),
        "lastSeq": t.log_seq,
        "apps": emu.app_ids(),
        "nowMs": emu.now_ms(),
        "codeLifetimeSecs": emu.settings.code_ttl.as_secs(),
        "windowSecs": emu.settings.window.as_secs(),
    });
    drop(t);
    ok(body)
}

/// `GET /sandbox/v1/statuses`: every status neux knows, with its meaning and hint.
pub(crate) async fn statuses() -> Response {
    let rows: Vec<_> = ALL
        .iter()
        .map(|row| {
            serde_json::json!({
                "status": row.status,
                "meaning": row.meaning,
                "hint": row.hint,
                "definedBy": match row.origin {
                    Origin::Platform => "platform",
                    _ => "sandbox",
                },
            })
        })
        .collect();
    ok(rows)
}

const PAGE: &str = include_str!("inspector/index.html");
const SCRIPT: &str = include_str!("inspector/app.js");
const STYLE: &str = include_str!("inspector/app.css");

/// What the page may load and where it may connect: itself only. No inline script, so a value
/// that slipped into the markup could not run; no frame, so no other page can overlay it.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /`: the inspector.
pub(crate) async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

/// `GET /sandbox/inspector/app.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /sandbox/inspector/app.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// Whether a request is a person opening the page: a top-level navigation to `/`, which the
/// control guard lets in from any site (a link in a README), because the page shows nothing
/// to the site that linked it and does nothing until clicked (and no site can frame it).
pub(crate) fn is_page_navigation(req: &Request) -> bool {
    let h = req.headers();
    let is = |name: &str, value: &str| {
        h.get(name)
            .is_some_and(|v| v.as_bytes() == value.as_bytes())
    };
    req.uri().path() == "/"
        && req.method() == axum::http::Method::GET
        && is("sec-fetch-mode", "navigate")
        && is("sec-fetch-dest", "document")
}
