//! The control API (`/sandbox/v1/*`): minting codes, arming faults, reading the request log.

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::response::{IntoResponse, Response};
use neux_proto::{ClientId, Scope};
use serde::Deserialize;

use crate::faults::FaultRule;
use crate::log::LoggedRequest;
use crate::reply::{ok, reject};
use crate::state::{State, UserSpec};
use crate::status::*;

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
    ok(response)
}

pub(crate) async fn arm_fault(AxumState(state): AxumState<State>, body: Bytes) -> Response {
    let rule: FaultRule = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return reject(MALFORMED_BODY, format!("bad fault rule: {e}")).into_response(),
    };
    let count = rule.count;
    if let Err(full) = state.arm_fault(rule) {
        return reject(TOO_MANY_FAULTS, full).into_response();
    }
    ok(serde_json::json!({"armed": count}))
}

pub(crate) async fn clear_faults(AxumState(state): AxumState<State>) -> Response {
    state.clear_faults();
    ok(serde_json::json!({"armed": 0}))
}

pub(crate) async fn list_requests(AxumState(state): AxumState<State>) -> Response {
    let log: Vec<LoggedRequest> = state.tables().log.iter().cloned().collect();
    ok(log)
}

/// Validates a client id for the in-process API.
pub(crate) fn known(state: &State, client_id: &ClientId) -> bool {
    state.apps.contains_key(client_id.as_str())
}
