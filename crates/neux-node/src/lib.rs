//! neux-proto's signing for Node.js, byte for byte the Rust signer's.
//!
//! JavaScript values map to the signing rule's kinds as the platform's Java server renders
//! them: a string as it is, an integral number up to 2^53 or a `BigInt` within 64 bits in exact
//! decimal, a boolean as `true`/`false`, `null` as the empty string, an array of strings and
//! integers joined with `,`; a property whose value is `undefined` is left out (JSON.stringify
//! does not send it). What the reference signers render differently (a fraction, an object, a
//! nested array, `null` or a boolean in an array, an integer beyond 64 bits) throws an `Error`
//! whose `code` is `ERR_NEUX_UNSUPPORTED_VALUE`, with `key` and `kind`; a `Number` beyond 2^53,
//! already rounded, throws `kind` `unsafe_integer`. Values never appear in a message.

use napi::bindgen_prelude::{
    Array, BigInt, Env, JsObjectValue, KeyCollectionMode, KeyConversion, KeyFilter, Object, Unknown,
};
use napi::{Error, JsValue, Result, Status, ValueType};
use napi_derive::napi;
use neux_proto::{
    AppSecret, AuthCode, ClientId, Dialect, ParamError, ParamValue, Params, Scope, Signature,
    Timestamp, TokenRequest, UnsupportedKind,
};

pub mod values;

/// A failure to report as a JavaScript error with a `code` (and `key`, `kind`).
struct Failure {
    code: &'static str,
    message: String,
    key: Option<String>,
    kind: Option<&'static str>,
}

impl Failure {
    fn param(e: ParamError) -> Self {
        let key = e.key().map(str::to_owned);
        match e {
            ParamError::Unsupported { kind, .. } => Self {
                code: "ERR_NEUX_UNSUPPORTED_VALUE",
                message: e.to_string(),
                key,
                kind: Some(kind.code()),
            },
            ParamError::ReservedKey => Self {
                code: "ERR_NEUX_RESERVED_KEY",
                message: e.to_string(),
                key,
                kind: None,
            },
            _ => Self {
                code: "ERR_NEUX_INVALID_PARAMS",
                message: e.to_string(),
                key,
                kind: None,
            },
        }
    }

    fn unsupported(key: &str, kind: UnsupportedKind) -> Self {
        Self::param(ParamError::Unsupported {
            key: key.to_owned(),
            kind,
        })
    }

    fn invalid(what: &str, e: impl std::fmt::Display) -> Self {
        Self {
            code: "ERR_NEUX_INVALID_INPUT",
            message: format!("{what}: {e}"),
            key: None,
            kind: None,
        }
    }

    fn type_error(message: String) -> Self {
        Self {
            code: "ERR_NEUX_INVALID_TYPE",
            message,
            key: None,
            kind: None,
        }
    }

    /// Throws it as a JavaScript `Error` with its properties; the returned error tells napi
    /// the exception is already pending.
    fn throw(self, env: &Env) -> Error {
        let thrown = (|| -> Result<()> {
            let mut error = env.create_error(Error::new(Status::GenericFailure, self.message))?;
            error.set("code", self.code)?;
            if let Some(key) = self.key {
                error.set("key", key)?;
            }
            if let Some(kind) = self.kind {
                error.set("kind", kind)?;
            }
            env.throw(error)
        })();
        match thrown {
            Ok(()) => Error::new(Status::PendingException, String::new()),
            Err(e) => e,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::type_error(e.reason.clone())
    }
}

type Outcome<T> = std::result::Result<T, Failure>;

const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JavaScript number as JSON: an integer when it is one and exact, a float otherwise (which
/// neux-proto refuses).
fn number(key: &str, n: f64) -> Outcome<serde_json::Value> {
    if n.is_finite() && n.fract() == 0.0 {
        if n.abs() > MAX_SAFE_INTEGER {
            return Err(Failure {
                code: "ERR_NEUX_UNSUPPORTED_VALUE",
                message: format!(
                    "parameter `{key}` is a Number beyond 2^53, already rounded by JavaScript; pass it as a BigInt or a string"
                ),
                key: Some(key.to_owned()),
                kind: Some("unsafe_integer"),
            });
        }
        // Exact: |n| <= 2^53 - 1.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(serde_json::Value::from(n as i64));
    }
    serde_json::Number::from_f64(n)
        .map(serde_json::Value::Number)
        .ok_or_else(|| Failure::unsupported(key, UnsupportedKind::Float))
}

fn bigint(key: &str, n: &BigInt) -> Outcome<serde_json::Value> {
    if n.sign_bit {
        match n.get_i64() {
            (v, true) => Ok(v.into()),
            _ => Err(Failure::unsupported(
                key,
                UnsupportedKind::IntegerOutOfRange,
            )),
        }
    } else {
        match n.get_u64() {
            (_, v, true) => Ok(v.into()),
            _ => Err(Failure::unsupported(
                key,
                UnsupportedKind::IntegerOutOfRange,
            )),
        }
    }
}

/// A JavaScript value read as what its type says it is.
enum Js<'e> {
    Undefined,
    Null,
    Bool(bool),
    Str(String),
    Number(f64),
    BigInt(BigInt),
    Array(Array<'e>),
    Object,
    Other(ValueType),
}

/// Reads `v` by its type.
#[allow(unsafe_code)]
fn read<'e>(v: &Unknown<'e>) -> Result<Js<'e>> {
    // SAFETY: `Unknown::cast` requires the value to be of the type cast to; each cast below
    // follows the type napi itself reported for this value (`napi_typeof`, `napi_is_array`).
    unsafe {
        Ok(match v.get_type()? {
            ValueType::Undefined => Js::Undefined,
            ValueType::Null => Js::Null,
            ValueType::Boolean => Js::Bool(v.cast::<bool>()?),
            ValueType::String => Js::Str(v.cast::<String>()?),
            ValueType::Number => Js::Number(v.cast::<f64>()?),
            ValueType::BigInt => Js::BigInt(v.cast::<BigInt>()?),
            ValueType::Object if v.is_array()? => Js::Array(v.cast::<Array<'e>>()?),
            ValueType::Object => Js::Object,
            other => Js::Other(other),
        })
    }
}

/// One JavaScript value as JSON, for neux-proto's reader to decide; `None` for `undefined`.
fn as_json(key: &str, v: Js<'_>, depth: u8) -> Outcome<Option<serde_json::Value>> {
    use serde_json::Value as J;
    Ok(Some(match v {
        Js::Undefined => return Ok(None),
        Js::Null => J::Null,
        Js::Bool(b) => J::Bool(b),
        Js::Str(s) => J::String(s),
        Js::Number(n) => number(key, n)?,
        Js::BigInt(n) => bigint(key, &n)?,
        // A nested array: refused whatever it holds.
        Js::Array(_) if depth > 0 => J::Array(vec![J::Null]),
        Js::Array(array) => {
            let mut items = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item = match array.get::<Unknown<'_>>(i)? {
                    Some(item) => as_json(key, read(&item)?, depth + 1)?,
                    None => None,
                };
                // A hole or `undefined` in an array: JSON.stringify sends null.
                items.push(item.unwrap_or(J::Null));
            }
            J::Array(items)
        }
        Js::Object => J::Object(serde_json::Map::new()),
        Js::Other(other) => {
            return Err(Failure::type_error(format!(
                "parameter `{key}` is a {other}, which neux does not sign; pass a string, a number, a BigInt, a boolean, null or an array of strings and integers"
            )));
        }
    }))
}

/// The object's own enumerable string keys: what `Object.keys` lists and `JSON.stringify`
/// sends. (`napi_get_property_names`, behind napi's `Object::keys`, also lists inherited
/// enumerable keys, as for-in does: signed, they would not match the body sent.)
fn own_keys(object: &Object<'_>) -> Result<Vec<String>> {
    let names = object.get_all_property_names(
        KeyCollectionMode::OwnOnly,
        KeyFilter::Enumerable,
        KeyConversion::NumbersToStrings,
    )?;
    let len = names.get_array_length()?;
    let mut keys = Vec::with_capacity(len as usize);
    for i in 0..len {
        // Symbol keys come too (the filter takes one flag): JSON.stringify leaves them out.
        if let Js::Str(key) = read(&names.get_element::<Unknown<'_>>(i)?)? {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// A plain object as a parameter map.
fn params(object: &Object<'_>) -> Outcome<Params> {
    let keys = own_keys(object)?;
    let mut pairs = Vec::with_capacity(keys.len());
    for key in keys {
        let Some(value) = object.get::<Unknown<'_>>(&key)? else {
            continue;
        };
        // Strings, the usual parameters, go straight in.
        let value = match read(&value)? {
            Js::Str(s) => ParamValue::Str(s),
            other => match as_json(&key, other, 0)? {
                None => continue,
                Some(json) => ParamValue::from_json(&key, &json).map_err(Failure::param)?,
            },
        };
        pairs.push((key, value));
    }
    Params::from_pairs(pairs).map_err(Failure::param)
}

fn secret(secret: &str) -> Outcome<AppSecret> {
    AppSecret::new(secret).map_err(|e| Failure::invalid("secret", e))
}

/// A map whose canonical string `canonical` shows: neux-proto's owned or borrowed one.
trait Canonical {
    fn redacted(&self) -> String;
    fn exposing(&self, secret: &AppSecret) -> String;
}

impl Canonical for Params {
    fn redacted(&self) -> String {
        self.canonical_string_redacted()
    }
    fn exposing(&self, secret: &AppSecret) -> String {
        self.canonical_string_exposing_secret(secret)
    }
}

impl Canonical for neux_proto::TextParams<'_> {
    fn redacted(&self) -> String {
        self.canonical_string_redacted()
    }
    fn exposing(&self, secret: &AppSecret) -> String {
        self.canonical_string_exposing_secret(secret)
    }
}

/// What `canonical` shows of `params`: the secret masked, unless `maskSecret` is false and it
/// is given.
fn shown(
    params: &impl Canonical,
    mask_secret: Option<bool>,
    secret: Option<&str>,
) -> Outcome<String> {
    if mask_secret.unwrap_or(true) {
        return Ok(params.redacted());
    }
    let secret = secret.ok_or_else(|| {
        Failure::invalid(
            "canonical",
            "maskSecret = false needs the secret as the third argument",
        )
    })?;
    Ok(params.exposing(&self::secret(secret)?))
}

/// Whether `signature` (text from the caller) is `expected`, compared in constant time; text
/// that is not 64 hex digits is not.
fn signs(expected: &Signature, signature: &str) -> bool {
    signature
        .parse::<Signature>()
        .is_ok_and(|received| expected.verify(&received))
}

fn run<T>(env: &Env, f: impl FnOnce() -> Outcome<T>) -> Result<T> {
    f().map_err(|failure| failure.throw(env))
}

/// The signature of `params` with the app secret: 64 lowercase hex digits.
#[napi]
pub fn sign(env: Env, params: Object<'_>, secret: String) -> Result<String> {
    run(&env, || {
        Ok(self::params(&params)?
            .sign(&self::secret(&secret)?)
            .to_hex())
    })
}

/// The canonical string, what is hashed: the secret as `[REDACTED]` unless `maskSecret` is
/// `false` and `secret` is given.
#[napi]
pub fn canonical(
    env: Env,
    params: Object<'_>,
    mask_secret: Option<bool>,
    secret: Option<String>,
) -> Result<String> {
    run(&env, || {
        let params = self::params(&params)?;
        shown(&params, mask_secret, secret.as_deref())
    })
}

/// Whether `signature` signs `params` with the secret, compared in constant time; a signature
/// that is not 64 hex digits is `false`.
#[napi]
pub fn verify(env: Env, params: Object<'_>, secret: String, signature: String) -> Result<bool> {
    run(&env, || {
        let expected = self::params(&params)?.sign(&self::secret(&secret)?);
        Ok(signs(&expected, &signature))
    })
}

/// The signed body of the code-for-token call, `sign` last: JSON (`"json"`, the app id under
/// `clientId`) or a form (`"form"`, under `appid`). The timestamp is in milliseconds.
#[napi]
pub fn token_request<'e>(
    env: &'e Env,
    client_id: String,
    code: String,
    scope: String,
    timestamp: f64,
    dialect: Option<String>,
    secret: String,
) -> Result<Object<'e>> {
    let (request, dialect, signature) = run(env, || {
        let dialect: Dialect = dialect
            .as_deref()
            .unwrap_or("json")
            .parse()
            .map_err(|e| Failure::invalid("dialect", e))?;
        if !(timestamp.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&timestamp)) {
            return Err(Failure::invalid(
                "timestamp",
                "whole milliseconds since 1970, not negative, at most 2^53 - 1",
            ));
        }
        // Checked just above: a whole number in 0..=2^53-1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let timestamp = timestamp as u64;
        let request = TokenRequest::new(
            ClientId::new(client_id).map_err(|e| Failure::invalid("clientId", e))?,
            AuthCode::new(code).map_err(|e| Failure::invalid("code", e))?,
            scope
                .parse::<Scope>()
                .map_err(|e| Failure::invalid("scope", e))?,
            Timestamp::from_millis(timestamp),
        );
        let signature = request.sign(dialect, &self::secret(&secret)?);
        Ok((request, dialect, signature))
    })?;
    // In signing order, `sign` last, as JSON.stringify will write it.
    let mut body = Object::new(env)?;
    for (key, value) in request.params(dialect).iter() {
        match value {
            // A timestamp in milliseconds is far below 2^53: exact as a Number.
            #[allow(clippy::cast_precision_loss)]
            ParamValue::UInt(n) => body.set(key, *n as f64)?,
            other => body.set(key, other.to_string())?,
        }
    }
    body.set("sign", signature.to_hex())?;
    Ok(body)
}

/// Where two canonical strings first differ, as a byte offset into their UTF-8, or `null` when
/// they are equal.
#[napi]
pub fn first_difference(ours: String, theirs: String) -> Option<u32> {
    neux_proto::first_difference(&ours, &theirs).map(|at| u32::try_from(at).unwrap_or(u32::MAX))
}
