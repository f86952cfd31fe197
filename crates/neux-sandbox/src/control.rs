//! The control API (`/sandbox/v1/*`): minting codes, arming faults, reading the request log.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use neux_proto::{AuthCode, ClientId, Scope};
use serde::Deserialize;

use crate::decode::content_type;
use crate::faults::FaultRule;
use crate::inspect::is_page_navigation;
use crate::limits::{MAX_PROFILE_FIELD_BYTES, cut};
use crate::reply::{ok, reject};
use crate::state::{Emulator, UserSpec};
use crate::status::*;

/// Largest control API request body (a mint with a full profile is well under 1 KiB).
pub(crate) const MAX_CONTROL_BODY: usize = 16 * 1024;

/// Refuses what a web page the developer visits could make a browser send to the control API
/// on the fixed default address: a request addressed to another name (DNS rebinding: the page's
/// own domain resolved to 127.0.0.1, so its script reads the log), from another origin, or a
/// `POST` that is not JSON (a cross-site form or `text/plain` fetch needs no preflight). The one
/// cross-site request let in is a person following a link to the inspector page itself.
///
/// Remote mode keeps the defence: the `Host` must be a loopback name, the listen address or a
/// `--public-host` name (or the request must carry the control token), and the control API
/// itself wants the token, which a rebinding page cannot know.
pub(crate) async fn guard(State(emu): State<Emulator>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let access = &emu.settings.access;
    let has_token = access
        .token
        .as_ref()
        .is_some_and(|t| t.presented_in(headers));
    if !has_token && !access.serves(host) {
        return forbidden(if emu.settings.allow_remote {
            format!(
                "Host {:?} is not a name this sandbox serves (loopback names, the listen address, and the names given with --public-host): add the name with --public-host NAME, or send the control token (Authorization: Bearer TOKEN)",
                cut(host, 64)
            )
        } else {
            format!(
                "Host {:?} is not a loopback name or address: the control API answers only requests addressed to this machine (127.0.0.1, ::1, localhost); start the sandbox with --allow-remote and --public-host NAME to serve other names",
                cut(host, 64)
            )
        });
    }
    if is_page_navigation(&req) {
        return next.run(req).await;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let own = [format!("http://{host}"), format!("https://{host}")];
        if !origin
            .to_str()
            .is_ok_and(|o| own.iter().any(|own| own == o))
        {
            return forbidden(
                "cross-origin requests are refused: the control API serves its own page and programs, not other sites",
            );
        }
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|s| s.to_str().ok())
        .unwrap_or("none");
    if !matches!(site, "same-origin" | "none") {
        return forbidden(format!(
            "a {site} request is refused: the control API serves its own page and programs, not other sites"
        ));
    }
    if access.token.is_some() && !has_token && req.uri().path().starts_with("/sandbox/v1/") {
        let mut r = reject(
            CONTROL_TOKEN_REQUIRED,
            "the control API wants this sandbox's control token: send Authorization: Bearer TOKEN (the token `neux sandbox` printed at start, or the one set with --control-token or NEUX_SANDBOX_TOKEN); the inspector takes it from its URL, as /#token=TOKEN",
        );
        r.http = StatusCode::UNAUTHORIZED;
        let mut response = r.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"neux-sandbox\""),
        );
        return response;
    }
    if req.method() == Method::POST && !is_json(content_type(headers)) {
        let mut r = reject(
            UNSUPPORTED_CONTENT_TYPE,
            format!(
                "the control API takes application/json, not {:?}",
                cut(content_type(headers), 64)
            ),
        );
        r.http = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return r.into_response();
    }
    next.run(req).await
}

fn forbidden(msg: impl std::fmt::Display) -> Response {
    let mut r = reject(CONTROL_FORBIDDEN, msg);
    r.http = StatusCode::FORBIDDEN;
    r.into_response()
}

fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

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

pub(crate) async fn mint_code(State(emu): State<Emulator>, body: Bytes) -> Response {
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
    if !emu.apps.contains_key(&parsed.client_id) {
        return reject(
            UNKNOWN_CLIENT,
            format!("no app with client id {:?}", parsed.client_id),
        )
        .into_response();
    }
    if let Some((field, len)) = parsed.user.as_ref().and_then(UserSpec::oversized_field) {
        let mut r = reject(INVALID_PARAMETER, oversized(field, len));
        r.http = StatusCode::PAYLOAD_TOO_LARGE;
        return r.into_response();
    }
    let scope = match parsed.scope.as_deref().map(str::parse::<Scope>).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => return reject(INVALID_PARAMETER, format!("scope: {e}")).into_response(),
    };
    let (code, open_id) = emu.mint_code(&parsed.client_id, scope, parsed.user.unwrap_or_default());
    // The fingerprint lets a caller (the inspector) recognise the code in the log without
    // keeping it.
    let fingerprint = AuthCode::new(code.as_str()).map(|c| c.fingerprint()).ok();
    let response = serde_json::json!({
        "code": code,
        "codeFingerprint": fingerprint,
        "openId": open_id,
        "expiresIn": emu.settings.code_ttl.as_secs(),
    });
    ok(response)
}

pub(crate) async fn arm_fault(State(emu): State<Emulator>, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return reject(MALFORMED_BODY, format!("bad fault rule: {e}")).into_response(),
    };
    let count = rule.count;
    if let Err(full) = emu.arm_fault(rule) {
        return reject(TOO_MANY_FAULTS, full).into_response();
    }
    ok(serde_json::json!({"armed": count}))
}

pub(crate) async fn clear_faults(State(emu): State<Emulator>) -> Response {
    emu.clear_faults();
    ok(serde_json::json!({"armed": 0}))
}

/// Why a profile field was refused.
pub(crate) fn oversized(field: &str, len: usize) -> String {
    format!(
        "user.{field} is {len} bytes; a profile field holds at most {MAX_PROFILE_FIELD_BYTES} (the sandbox keeps its memory bounded by bytes, not only by count)"
    )
}

/// Validates a client id for the in-process API.
pub(crate) fn known(emu: &Emulator, client_id: &ClientId) -> bool {
    emu.apps.contains_key(client_id.as_str())
}
