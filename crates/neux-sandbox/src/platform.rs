//! The platform's two paths, checked more strictly than the platform does.

use std::fmt;

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use neux_proto::{ApiStatus, AuthCode, Dialect, Params, Scope, Signature};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::jwt::{self, Claims, TokenProblem};
use crate::state::{State, user_info_json};
use crate::status::*;

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 64 * 1024;

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

/// What a handler tells the request log (fingerprints only, never values).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetails {
    pub client_id: Option<String>,
    pub dialect: Option<Dialect>,
    pub code_fingerprint: Option<String>,
    pub token_fingerprint: Option<String>,
}

pub(crate) fn envelope(
    http: StatusCode,
    status: ApiStatus,
    msg: &str,
    response: Option<Value>,
) -> Response {
    let mut body = serde_json::json!({"responseHeader": {"status": status.get(), "msg": msg}});
    body["response"] = response.unwrap_or(Value::Null);
    let mut res = (
        http,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    res.extensions_mut().insert(status);
    res
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        envelope(self.http, self.status, &self.msg, None)
    }
}

fn with_details(mut res: Response, details: LogDetails) -> Response {
    res.extensions_mut().insert(details);
    res
}

/// The longest client id the request log keeps of a request (it is logged before it is
/// checked, so it may be anything a caller sent).
pub(crate) const LOGGED_CLIENT_ID_MAX: usize = 64;

/// What a token request presents, read from its bytes before anything else happens to it (a
/// fault, a delay, a client that hangs up), so the request log counts every code that arrived.
pub(crate) fn presented(headers: &HeaderMap, body: &[u8]) -> LogDetails {
    let mut details = LogDetails::default();
    let Ok(dialect) = dialect_of(content_type(headers)) else {
        return details;
    };
    details.dialect = Some(dialect);
    let pairs = match dialect {
        Dialect::Json => parse_json(body),
        _ => parse_form(body),
    };
    let text = |key: &str| {
        pairs.iter().flatten().find_map(|(k, v)| match v {
            Received::Text(s) | Received::Json(Value::String(s)) if k == key => Some(s.as_str()),
            _ => None,
        })
    };
    details.client_id = text(dialect.client_id_key()).map(|id| {
        let end = id
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .take_while(|end| *end <= LOGGED_CLIENT_ID_MAX)
            .last()
            .unwrap_or(0);
        id[..end].to_owned()
    });
    details.code_fingerprint = text("code")
        .and_then(|c| AuthCode::new(c).ok())
        .map(|c| c.fingerprint());
    details
}

/// What a user-info request presents: its token's fingerprint.
pub(crate) fn presented_token(uri: &Uri) -> LogDetails {
    let token = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "accessToken")
        .and_then(|(_, v)| neux_proto::AccessToken::new(v.into_owned()).ok());
    LogDetails {
        token_fingerprint: token.map(|t| t.fingerprint()),
        ..LogDetails::default()
    }
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `POST /neuopenapi/oauth/mini/accessToken`.
pub(crate) async fn access_token(
    AxumState(state): AxumState<State>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match exchange(&state, &headers, body).await {
        Ok(v) => envelope(StatusCode::OK, OK, "OK", Some(v)),
        Err(r) => r.into_response(),
    }
}

async fn exchange(state: &State, headers: &HeaderMap, body: Body) -> Result<Value, Reject> {
    let dialect = dialect_of(content_type(headers))?;
    let bytes = read_body(body).await?;
    let fields = parse_token_request(dialect, &bytes)?;

    let secret = state.apps.get(&fields.client_id).ok_or_else(|| {
        reject(
            UNKNOWN_CLIENT,
            format!(
                "no app with client id {:?} in this sandbox: check the client id you configured (--client-id / NEUX_CLIENT_ID) against the sandbox's apps (--app)",
                fields.client_id
            ),
        )
    })?;
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

    let now = state.now_ms();
    let window = state.settings.window.as_millis() as u64;
    let skew = i128::from(fields.timestamp) - i128::from(now);
    if skew.unsigned_abs() > u128::from(window) {
        let hint = if fields.timestamp < 100_000_000_000 {
            " (it looks like seconds: the timestamp is in milliseconds)"
        } else {
            " (is the client's clock synced?)"
        };
        return Err(reject(
            TIMESTAMP_OUT_OF_WINDOW,
            format!(
                "timestamp {} is {} ms {} the server clock {now}, outside the ±{} s window{hint}",
                fields.timestamp,
                skew.unsigned_abs(),
                if skew < 0 { "behind" } else { "ahead of" },
                window / 1000,
            ),
        ));
    }

    let expected = fields.signed_params(dialect, &fields.code).sign(secret);
    if !expected.verify(&fields.sign) {
        // The expected canonical string, secret and code masked (messages end up in logs), so
        // the caller can diff it against theirs.
        let masked = fields.signed_params(dialect, neux_proto::SECRET_MASK);
        return Err(reject(
            SIGNATURE_REJECTED,
            format!(
                "signature mismatch: expected the SHA-256 of {}",
                masked.canonical_string_redacted()
            ),
        ));
    }

    let open_id = {
        let mut t = state.tables();
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
    let ttl = state.settings.token_ttl.as_secs();
    let token = jwt::mint(
        &state.jwt_key,
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

fn dialect_of(content_type: &str) -> Result<Dialect, Reject> {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(Dialect::Json),
        "application/x-www-form-urlencoded" => Ok(Dialect::Form),
        _ => Err(reject(
            UNSUPPORTED_CONTENT_TYPE,
            format!(
                "Content-Type {content_type:?} is not accepted: send application/json (clientId) or application/x-www-form-urlencoded (appid)"
            ),
        )),
    }
}

/// Decodes and checks a token request body: everything that needs no state.
fn parse_token_request(dialect: Dialect, bytes: &[u8]) -> Result<Fields, Reject> {
    let pairs = match dialect {
        Dialect::Json => parse_json(bytes)?,
        _ => parse_form(bytes)?,
    };
    check_fields(dialect, pairs)
}

/// The request decoding, exposed for the fuzzers (feature `fuzzing`; not a stable API).
#[cfg(feature = "fuzzing")]
pub fn fuzz_token_request(content_type: &str, body: &[u8]) -> Result<(), String> {
    let dialect = dialect_of(content_type).map_err(|r| r.msg)?;
    let fields = parse_token_request(dialect, body).map_err(|r| r.msg)?;
    // Both renderings of what was received must work on anything that decoded.
    let _ = fields
        .signed_params(dialect, &fields.code)
        .canonical_string_redacted();
    Ok(())
}

pub(crate) async fn read_body(body: Body) -> Result<Bytes, Reject> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        reject(
            BODY_TOO_LARGE,
            format!("request body is over {MAX_BODY} bytes (or was cut off)"),
        )
    })
}

/// A JSON object as its key/value pairs in order, duplicates kept (to refuse them).
struct Pairs(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A received parameter: JSON keeps its type, form values are text.
#[derive(Debug)]
enum Received {
    Json(Value),
    Text(String),
}

fn parse_json(bytes: &[u8]) -> Result<Vec<(String, Received)>, Reject> {
    let Pairs(pairs) = serde_json::from_slice(bytes)
        .map_err(|e| reject(MALFORMED_BODY, format!("body is not a JSON object: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Received::Json(v)))
        .collect())
}

fn parse_form(bytes: &[u8]) -> Result<Vec<(String, Received)>, Reject> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| reject(MALFORMED_BODY, "form body is not UTF-8"))?;
    // Strict decoding: `form_urlencoded::parse` would turn invalid UTF-8 into U+FFFD silently.
    let decode = |s: &str| {
        percent_encoding::percent_decode(s.replace('+', " ").as_bytes())
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| reject(MALFORMED_BODY, "form body percent-decodes to invalid UTF-8"))
    };
    let mut out = Vec::new();
    for piece in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        out.push((decode(k)?, Received::Text(decode(v)?)));
    }
    Ok(out)
}

struct Fields {
    client_id: String,
    code: String,
    grant_type: String,
    scope: String,
    timestamp: u64,
    sign: Signature,
}

impl Fields {
    /// The parameters as received (not as we would have sent them), for signing.
    fn signed_params(&self, dialect: Dialect, code: &str) -> Params {
        Params::new()
            .with(dialect.client_id_key(), self.client_id.as_str())
            .and_then(|p| p.with("code", code))
            .and_then(|p| p.with("grantType", self.grant_type.as_str()))
            .and_then(|p| p.with("scope", self.scope.as_str()))
            .and_then(|p| p.with("timestamp", self.timestamp))
            .unwrap_or_default()
    }
}

fn check_fields(dialect: Dialect, pairs: Vec<(String, Received)>) -> Result<Fields, Reject> {
    let id_key = dialect.client_id_key();
    let expected = [id_key, "code", "grantType", "scope", "timestamp", "sign"];
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &pairs {
        if k == "secret" {
            return Err(reject(
                SECRET_ON_THE_WIRE,
                "a `secret` parameter was sent: the app secret is only hashed into `sign`, never sent; rotate it if this reached a real server",
            ));
        }
        if seen.contains(&k.as_str()) {
            return Err(reject(
                MALFORMED_BODY,
                format!("parameter {k:?} appears more than once"),
            ));
        }
        seen.push(k);
    }
    for key in expected {
        if !seen.contains(&key) {
            let other = if dialect == Dialect::Json {
                "appid"
            } else {
                "clientId"
            };
            let hint = if key == id_key && seen.contains(&other) {
                format!(
                    " (`{other}` is the other dialect's key: the {dialect} dialect uses `{id_key}`)"
                )
            } else {
                String::new()
            };
            return Err(reject(
                MISSING_PARAMETER,
                format!("missing parameter {key:?}{hint}"),
            ));
        }
    }
    if let Some(extra) = seen.iter().find(|k| !expected.contains(k)) {
        return Err(reject(
            UNEXPECTED_PARAMETER,
            format!(
                "unexpected parameter {extra:?}: the token call takes exactly {}",
                expected.join(", ")
            ),
        ));
    }
    let get = |key: &str| {
        pairs
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| &pairs[i].1)
    };
    let text = |key: &str, v: Option<&Received>| -> Result<String, Reject> {
        match v {
            Some(Received::Text(s)) | Some(Received::Json(Value::String(s))) => Ok(s.clone()),
            _ => Err(reject(
                INVALID_PARAMETER,
                format!("parameter {key:?} must be a string"),
            )),
        }
    };
    let client_id = text(id_key, get(id_key))?;
    let code = text("code", get("code"))?;
    let grant_type = text("grantType", get("grantType"))?;
    let scope = text("scope", get("scope"))?;
    let sign_text = text("sign", get("sign"))?;
    if let Some(Received::Text(t)) = get("timestamp")
        && t.len() > 1
        && t.starts_with('0')
        && t.bytes().all(|b| b.is_ascii_digit())
    {
        // Whether the platform signs the digits it received or the number they mean is not
        // documented: refuse the ambiguity rather than pick one (docs/signing.md).
        return Err(reject(
            INVALID_PARAMETER,
            "timestamp has leading zeros: send the milliseconds as plain decimal digits (the signature is computed over them)",
        ));
    }
    let timestamp = match get("timestamp") {
        Some(Received::Json(Value::Number(n))) => n.as_u64(),
        Some(Received::Text(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
    .ok_or_else(|| {
        reject(
            INVALID_PARAMETER,
            match dialect {
                Dialect::Json => "timestamp must be a JSON integer: Unix epoch milliseconds",
                _ => "timestamp must be decimal digits: Unix epoch milliseconds",
            },
        )
    })?;
    let sign: Signature = sign_text
        .parse()
        .map_err(|e| reject(INVALID_PARAMETER, format!("sign: {e}")))?;
    Ok(Fields {
        client_id,
        code,
        grant_type,
        scope,
        timestamp,
        sign,
    })
}

/// `GET /neuopenapi/oauth/mini/user/info?accessToken=...`.
pub(crate) async fn user_info(AxumState(state): AxumState<State>, uri: Uri) -> Response {
    let mut details = LogDetails::default();
    let res = match lookup_user(&state, &uri, &mut details) {
        Ok(v) => envelope(StatusCode::OK, OK, "OK", Some(v)),
        Err(r) => r.into_response(),
    };
    with_details(res, details)
}

fn lookup_user(state: &State, uri: &Uri, details: &mut LogDetails) -> Result<Value, Reject> {
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
    let claims =
        jwt::verify(&state.jwt_key, &token, state.now_ms() / 1000).map_err(|p| match p {
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
    let t = state.tables();
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
