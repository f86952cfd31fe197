//! Reading requests: the token call's body in either dialect, strictly, and what a request
//! presents (its code or token) for the log.

use std::fmt;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Uri, header};
use neux_proto::{AuthCode, Dialect, ParamValue, Params, Signature};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::limits::{
    LOGGED_CLIENT_ID_MAX, LOGGED_PATH_MAX, SHOWN_KEY_MAX, SHOWN_PARAMS_MAX, SHOWN_VALUE_MAX, cut,
};
use crate::log::{LogDetails, ShownParams};
use crate::mask::{is_sensitive, masked_json};
use crate::reply::{Reject, reject};
use crate::status::*;

/// Largest request body accepted.
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The part of a client id the log keeps.
pub(crate) fn logged_client_id(id: &str) -> String {
    cut(id, LOGGED_CLIENT_ID_MAX)
}

/// A signed request's body as the log parsed it on arrival, handed on to the handler in the
/// request's extensions so that a body is parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Parsed(Result<Vec<(String, Received)>, Reject>);

/// What a signed request (the token call or any signed call) presents, read from its bytes
/// before anything else happens to it (a fault, a delay, a client that hangs up), so the
/// request log counts every code that arrived; and the body, parsed, for the handler.
pub(crate) fn presented(
    headers: &HeaderMap,
    body: &[u8],
    extra: &[String],
) -> (LogDetails, Option<Parsed>) {
    let mut details = LogDetails::default();
    let Ok(dialect) = dialect_of(content_type(headers)) else {
        return (details, None);
    };
    details.dialect = Some(dialect);
    let pairs = parse(dialect, body);
    let text = |key: &str| {
        pairs.iter().flatten().find_map(|(k, v)| match v {
            Received::Text(s) | Received::Json(Value::String(s)) if k == key => Some(s.as_str()),
            _ => None,
        })
    };
    details.client_id = text(dialect.client_id_key()).map(logged_client_id);
    details.code_fingerprint = text("code")
        .and_then(|c| AuthCode::new(c).ok())
        .map(|c| c.fingerprint());
    details.params = pairs.as_ref().ok().map(|p| shown(p, extra));
    (details, Some(Parsed(pairs)))
}

/// A body's key/value pairs in `dialect`, in order, duplicates kept.
fn parse(dialect: Dialect, bytes: &[u8]) -> Result<Vec<(String, Received)>, Reject> {
    match dialect {
        Dialect::Json => parse_json(bytes),
        _ => parse_form(bytes),
    }
}

/// A signed request's pairs: as the log parsed them on arrival, else read and parsed now.
pub(crate) async fn body_pairs(
    dialect: Dialect,
    parsed: Option<Parsed>,
    body: Body,
) -> Result<Vec<(String, Received)>, Reject> {
    match parsed {
        Some(Parsed(pairs)) => pairs,
        None => parse(dialect, &read_body(body).await?),
    }
}

/// The parameters as the inspector shows them: the first [`SHOWN_PARAMS_MAX`], each cut; the
/// code as its fingerprint, `sign` as its first 8 characters, sensitive values masked.
fn shown(pairs: &[(String, Received)], extra: &[String]) -> ShownParams {
    let value = |key: &str, v: &Received| -> String {
        let raw = match v {
            Received::Text(s) | Received::Json(Value::String(s)) => {
                std::borrow::Cow::Borrowed(s.as_str())
            }
            Received::Json(other) => std::borrow::Cow::Owned(masked_json(other, extra).to_string()),
        };
        if key == "code" {
            match AuthCode::new(raw.as_ref()) {
                Ok(c) => format!("[fingerprint {}]", c.fingerprint()),
                Err(_) => neux_proto::SECRET_MASK.to_owned(),
            }
        } else if key == "sign" {
            format!("{}…", cut(&raw, 8))
        } else if is_sensitive(key, extra) {
            neux_proto::SECRET_MASK.to_owned()
        } else {
            cut(&raw, SHOWN_VALUE_MAX)
        }
    };
    ShownParams {
        shown: pairs
            .iter()
            .take(SHOWN_PARAMS_MAX)
            .map(|(k, v)| (cut(k, SHOWN_KEY_MAX), value(k, v)))
            .collect(),
        total: pairs.len(),
    }
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

pub(crate) fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(crate) fn dialect_of(content_type: &str) -> Result<Dialect, Reject> {
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

/// Checks a token request's pairs: everything that needs no state.
pub(crate) fn parse_token_request(
    dialect: Dialect,
    pairs: Vec<(String, Received)>,
) -> Result<Fields, Reject> {
    check_fields(dialect, pairs)
}

/// The request decoding, exposed for the fuzzers (feature `fuzzing`; not a stable API).
#[cfg(feature = "fuzzing")]
pub fn fuzz_token_request(content_type: &str, body: &[u8]) -> Result<(), String> {
    let dialect = dialect_of(content_type).map_err(|r| r.msg)?;
    let pairs = parse(dialect, body).map_err(|r| r.msg)?;
    let fields = parse_token_request(dialect, pairs).map_err(|r| r.msg)?;
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
#[derive(Debug, Clone)]
pub(crate) enum Received {
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

/// A token request's fields, decoded and type-checked, not yet judged.
pub(crate) struct Fields {
    pub client_id: String,
    pub code: String,
    pub grant_type: String,
    pub scope: String,
    pub timestamp: u64,
    pub sign: Signature,
}

impl Fields {
    /// The parameters as received (not as we would have sent them), for signing.
    pub(crate) fn signed_params(&self, dialect: Dialect, code: &str) -> Params {
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
    let seen = check_keys(dialect, &pairs, &expected)?;
    if let Some(extra) = seen.iter().find(|k| !expected.contains(k)) {
        return Err(reject(
            UNEXPECTED_PARAMETER,
            format!(
                "unexpected parameter {:?}: the token call takes exactly {}",
                cut(extra, LOGGED_PATH_MAX),
                expected.join(", ")
            ),
        ));
    }
    let (client_id, timestamp, sign) = signer_fields(dialect, &pairs)?;
    Ok(Fields {
        client_id,
        code: text("code", get(&pairs, "code"))?,
        grant_type: text("grantType", get(&pairs, "grantType"))?,
        scope: text("scope", get(&pairs, "scope"))?,
        timestamp,
        sign,
    })
}

/// Any signed call, decoded: who signed it, when, the signature, and every other parameter it
/// carried, as received (JSON keeps its types, form values are text).
pub(crate) struct CallFields {
    pub client_id: String,
    pub timestamp: u64,
    pub sign: Signature,
    /// Every parameter but `sign`: what was signed.
    pub params: Params,
}

/// Checks a signed call's pairs: everything that needs no state.
pub(crate) fn parse_signed_call(
    dialect: Dialect,
    pairs: Vec<(String, Received)>,
) -> Result<CallFields, Reject> {
    check_keys(
        dialect,
        &pairs,
        &[dialect.client_id_key(), "timestamp", "sign"],
    )?;
    let (client_id, timestamp, sign) = signer_fields(dialect, &pairs)?;
    let values = pairs
        .into_iter()
        .filter(|(k, _)| k != "sign")
        .map(|(key, value)| {
            let value = match value {
                Received::Text(t) => ParamValue::Str(t),
                Received::Json(v) => ParamValue::from_json(&key, &v)?,
            };
            Ok((key, value))
        })
        .collect::<Result<Vec<_>, neux_proto::ParamError>>()
        .map_err(|e| reject(INVALID_PARAMETER, e))?;
    // One sort for the whole map: a body of 16k keys in descending order would otherwise move
    // the map once per key.
    let params = Params::from_pairs(values).map_err(|e| reject(INVALID_PARAMETER, e))?;
    Ok(CallFields {
        client_id,
        timestamp,
        sign,
        params,
    })
}

/// Refuses `secret`, repeated keys and missing `required` keys (naming the other dialect's id
/// key when that is what was sent); returns the keys seen, in order.
fn check_keys<'a>(
    dialect: Dialect,
    pairs: &'a [(String, Received)],
    required: &[&str],
) -> Result<Vec<&'a str>, Reject> {
    let id_key = dialect.client_id_key();
    let mut seen: Vec<&str> = Vec::with_capacity(pairs.len());
    let mut unique: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(pairs.len());
    for (k, _) in pairs {
        if k == "secret" {
            return Err(reject(
                SECRET_ON_THE_WIRE,
                "a `secret` parameter was sent: the app secret is only hashed into `sign`, never sent; rotate it if this reached a real server",
            ));
        }
        if !unique.insert(k.as_str()) {
            return Err(reject(
                MALFORMED_BODY,
                format!(
                    "parameter {:?} appears more than once",
                    cut(k, LOGGED_PATH_MAX)
                ),
            ));
        }
        seen.push(k);
    }
    for key in required {
        if !unique.contains(key) {
            let other = if dialect == Dialect::Json {
                "appid"
            } else {
                "clientId"
            };
            let hint = if *key == id_key && unique.contains(other) {
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
    Ok(seen)
}

fn get<'a>(pairs: &'a [(String, Received)], key: &str) -> Option<&'a Received> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn text(key: &str, v: Option<&Received>) -> Result<String, Reject> {
    match v {
        Some(Received::Text(s)) | Some(Received::Json(Value::String(s))) => Ok(s.clone()),
        _ => Err(reject(
            INVALID_PARAMETER,
            format!("parameter {key:?} must be a string"),
        )),
    }
}

/// The client id, timestamp and signature every signed call carries, type-checked.
fn signer_fields(
    dialect: Dialect,
    pairs: &[(String, Received)],
) -> Result<(String, u64, Signature), Reject> {
    let id_key = dialect.client_id_key();
    let client_id = text(id_key, get(pairs, id_key))?;
    let sign_text = text("sign", get(pairs, "sign"))?;
    if let Some(Received::Text(t)) = get(pairs, "timestamp")
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
    let timestamp = match get(pairs, "timestamp") {
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
    Ok((client_id, timestamp, sign))
}
