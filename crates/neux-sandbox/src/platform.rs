//! The platform's paths (token exchange, user info, any signed call under the sandbox's own
//! prefix) and their rules, checked more strictly than the platform does.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use neux_proto::{AppSecret, Params, Scope, Signature};
use serde_json::Value;

use crate::decode::{
    Parsed, body_pairs, content_type, dialect_of, logged_client_id, parse_signed_call,
    parse_token_request,
};
use crate::jwt::{self, Claims, TokenProblem};
use crate::limits::{SHOWN_CANONICAL_MAX, cut};
use crate::log::LogDetails;
use crate::mask::is_sensitive;
use crate::reply::{Reject, SIGNATURE_MISMATCH, SignatureCheck, ok, reject};
use crate::state::{Emulator, user_info_json};
use crate::status::*;

/// Where the sandbox verifies and echoes any signed call: this prefix and below.
pub(crate) const SIGNED_CALL_PREFIX: &str = "/neuopenapi/sandbox/";

/// `POST /neuopenapi/oauth/mini/accessToken`.
pub(crate) async fn access_token(State(emu): State<Emulator>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let parsed = parts.extensions.remove::<Parsed>();
    match exchange(&emu, &parts.headers, parsed, body).await {
        Ok(v) => ok(v),
        Err(r) => r.into_response(),
    }
}

async fn exchange(
    emu: &Emulator,
    headers: &HeaderMap,
    parsed: Option<Parsed>,
    body: Body,
) -> Result<Value, Reject> {
    let dialect = dialect_of(content_type(headers))?;
    let pairs = body_pairs(dialect, parsed, body).await?;
    let fields = parse_token_request(dialect, pairs)?;

    let secret = app_secret(emu, &fields.client_id)?;
    if fields.grant_type != neux_proto::GRANT_TYPE {
        return Err(reject(
            INVALID_PARAMETER,
            format!(
                "grantType must be \"authorization_code\", got {:?}",
                fields.grant_type
            ),
        ));
    }
    let scope: Scope = fields
        .scope
        .parse()
        .map_err(|e| reject(INVALID_PARAMETER, format!("scope: {e}")))?;

    let now = check_window(emu, fields.timestamp)?;

    let expected = fields.signed_params(dialect, &fields.code).sign(secret);
    if !expected.verify(&fields.sign) {
        // The expected canonical string, secret and code masked (messages end up in logs), so
        // the caller can diff it against theirs.
        let masked = fields
            .signed_params(dialect, neux_proto::SECRET_MASK)
            .canonical_string_redacted();
        let check = signature_check(
            &fields.signed_params(dialect, &fields.code),
            &expected,
            &fields.sign,
            &emu.settings.mask_keys,
        );
        return Err(
            reject(SIGNATURE_REJECTED, format!("{SIGNATURE_MISMATCH}{masked}"))
                .with_signature(check),
        );
    }

    let open_id = {
        let mut t = emu.tables();
        let grant = t.codes.get_mut(&fields.code).ok_or_else(|| {
            reject(
                CODE_UNKNOWN,
                "code unknown: it was never issued by this sandbox",
            )
        })?;
        if grant.client_id != fields.client_id {
            return Err(reject(
                CODE_WRONG_CLIENT,
                "code was issued to another client",
            ));
        }
        if grant.used {
            return Err(reject(
                CODE_USED,
                "code already used: a code can be exchanged once",
            ));
        }
        if now >= grant.expires_at_ms {
            return Err(reject(CODE_EXPIRED, "code expired"));
        }
        if !grant.authorized {
            return Err(reject(
                NOT_AUTHORIZED,
                "the user has not opened the interface to this mini app",
            ));
        }
        if !grant.scope.includes(&scope) {
            return Err(reject(
                SCOPE_NOT_GRANTED,
                format!(
                    "scope {scope} was not granted with this code (granted: {})",
                    grant.scope
                ),
            ));
        }
        // Checked and spent under one lock: concurrent exchanges of one code yield one token.
        grant.used = true;
        grant.open_id.clone()
    };

    let iat = now / 1000;
    let ttl = emu.settings.token_ttl.as_secs();
    let token = jwt::mint(
        &emu.jwt_key,
        &Claims {
            iat,
            nbf: iat,
            exp: iat + ttl,
            open_id,
            client_id: fields.client_id.clone(),
            scope: scope.to_string(),
        },
    );
    Ok(serde_json::json!({"accessToken": token, "expire": ttl, "tokenType": "bearer"}))
}

fn with_details(mut res: Response, details: LogDetails) -> Response {
    res.extensions_mut().insert(details);
    res
}

/// The secret of the app `client_id` names, or the refusal that says it is unknown.
fn app_secret<'a>(emu: &'a Emulator, client_id: &str) -> Result<&'a AppSecret, Reject> {
    emu.apps.get(client_id).ok_or_else(|| {
        reject(
            UNKNOWN_CLIENT,
            format!(
                "no app with client id {client_id:?} in this sandbox: check the client id you configured (--client-id / NEUX_CLIENT_ID) against the sandbox's apps (--app)"
            ),
        )
    })
}

/// Refuses a timestamp outside the window around the sandbox clock; returns the clock's now.
fn check_window(emu: &Emulator, timestamp: u64) -> Result<u64, Reject> {
    let now = emu.now_ms();
    let window = emu.settings.window.as_millis() as u64;
    let skew = i128::from(timestamp) - i128::from(now);
    if skew.unsigned_abs() > u128::from(window) {
        let hint = if timestamp < 100_000_000_000 {
            " (it looks like seconds: the timestamp is in milliseconds)"
        } else {
            " (is the client's clock synced?)"
        };
        return Err(reject(
            TIMESTAMP_OUT_OF_WINDOW,
            format!(
                "timestamp {timestamp} is {} ms {} the server clock {now}, outside the ±{} s window{hint}",
                skew.unsigned_abs(),
                if skew < 0 { "behind" } else { "ahead of" },
                window / 1000,
            ),
        ));
    }
    Ok(now)
}

/// `POST /neuopenapi/sandbox/...`: verifies any signed call as strictly as the token call
/// (content type, window, app, signature, refused keys) and echoes what it verified, so a
/// backend can test its own calls before the real API is available.
pub(crate) async fn signed_call(State(emu): State<Emulator>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let parsed = parts.extensions.remove::<Parsed>();
    let mut details = LogDetails::default();
    let res = match verify_call(&emu, &parts.headers, parsed, body, &mut details).await {
        Ok(params) => ok(serde_json::json!({"path": parts.uri.path(), "params": params})),
        Err(r) => r.into_response(),
    };
    with_details(res, details)
}

async fn verify_call(
    emu: &Emulator,
    headers: &HeaderMap,
    parsed: Option<Parsed>,
    body: Body,
    details: &mut LogDetails,
) -> Result<Params, Reject> {
    let dialect = dialect_of(content_type(headers))?;
    details.dialect = Some(dialect);
    let pairs = body_pairs(dialect, parsed, body).await?;
    let call = parse_signed_call(dialect, pairs)?;
    details.client_id = Some(logged_client_id(&call.client_id));
    let secret = app_secret(emu, &call.client_id)?;
    check_window(emu, call.timestamp)?;
    let expected = call.params.sign(secret);
    if !expected.verify(&call.sign) {
        let masked = call.params.canonical_string_masked();
        let check = signature_check(&call.params, &expected, &call.sign, &emu.settings.mask_keys);
        return Err(
            reject(SIGNATURE_REJECTED, format!("{SIGNATURE_MISMATCH}{masked}"))
                .with_signature(check),
        );
    }
    Ok(call.params)
}

/// What the inspector shows of a refused signature: the canonical string the sandbox signed,
/// with the secret, the code and whatever looks sensitive masked, and the first 8 hex digits of
/// both signatures (a prefix of a SHA-256 says nothing of its input).
fn signature_check(
    signed: &Params,
    expected: &Signature,
    received: &Signature,
    extra: &[String],
) -> SignatureCheck {
    let mut shown = signed.clone();
    for (key, _) in signed.iter().filter(|(k, _)| is_sensitive(k, extra)) {
        shown.mark_sensitive(key);
    }
    let masked = shown.canonical_string_masked();
    let canonical = cut(&masked, SHOWN_CANONICAL_MAX);
    SignatureCheck {
        canonical_cut: canonical.len() < masked.len(),
        canonical,
        expected: cut(&expected.to_hex(), 8),
        received: cut(&received.to_hex(), 8),
    }
}

/// `GET /neuopenapi/oauth/mini/user/info?accessToken=...`.
pub(crate) async fn user_info(State(emu): State<Emulator>, uri: Uri) -> Response {
    let mut details = LogDetails::default();
    let res = match lookup_user(&emu, &uri, &mut details) {
        Ok(v) => ok(v),
        Err(r) => r.into_response(),
    };
    with_details(res, details)
}

fn lookup_user(emu: &Emulator, uri: &Uri, details: &mut LogDetails) -> Result<Value, Reject> {
    // The token's fingerprint is logged on arrival (`presented_token`); this adds the client id
    // once the token is verified.
    let query = uri.query().unwrap_or("");
    let mut token = None;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "accessToken" if token.is_none() => token = Some(v.into_owned()),
            "accessToken" => {
                return Err(reject(MALFORMED_BODY, "accessToken appears more than once"));
            }
            other => {
                return Err(reject(
                    UNEXPECTED_PARAMETER,
                    format!(
                        "unexpected query parameter {other:?}: user info takes only accessToken"
                    ),
                ));
            }
        }
    }
    let token = token
        .ok_or_else(|| reject(MISSING_PARAMETER, "missing query parameter \"accessToken\""))?;
    let claims = jwt::verify(&emu.jwt_key, &token, emu.now_ms() / 1000).map_err(|p| match p {
        TokenProblem::Invalid => reject(
            TOKEN_INVALID,
            "access token invalid: not issued by this sandbox, or altered",
        ),
        TokenProblem::Expired => {
            reject(TOKEN_EXPIRED, "access token expired: log the user in again")
        }
    })?;
    details.client_id = Some(claims.client_id.clone());
    let scope: Scope = claims.scope.parse().unwrap_or_default();
    let t = emu.tables();
    let profile = t
        .profiles
        .get(&(claims.client_id.clone(), claims.open_id.clone()))
        .ok_or_else(|| {
            reject(
                NOT_AUTHORIZED,
                "the user has not opened the interface to this mini app",
            )
        })?;
    Ok(user_info_json(&claims.open_id, profile, &scope))
}
