//! `neux._neux`: neux-proto's signing for Python, byte for byte the Rust signer's.
//!
//! Python values map to the signing rule's kinds as the platform's Java server renders them:
//! `str` as it is, `int` in exact decimal (any `i64` or `u64`), `bool` as `true`/`false`, `None`
//! as the empty string, a `list` or `tuple` of `str`/`int` joined with `,`. What the reference
//! signers render differently (a `float`, a `dict`, a nested list, `None` or a `bool` in a list,
//! an `int` beyond 64 bits) raises [`UnsupportedValueError`] naming the key; the key `secret`
//! raises `ReservedKeyError`. Values never appear in a message.

use neux_proto::{
    AppSecret, AuthCode, ClientId, Dialect, ParamError, ParamValue, Params, Scope, Signature,
    TextParams, TextValue, Timestamp, TokenRequest, UnsupportedKind,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

mod key_order;
use key_order::kept_order;

create_exception!(
    _neux,
    NeuxError,
    PyValueError,
    "Base of every error neux raises for a value it will not sign or use."
);
create_exception!(
    _neux,
    UnsupportedValueError,
    NeuxError,
    "A value whose text form the platform's reference signers disagree on; `.key` and `.kind`."
);
create_exception!(
    _neux,
    ReservedKeyError,
    NeuxError,
    "The key `secret`: the signer adds the app secret itself; `.key`."
);
create_exception!(
    _neux,
    InvalidInputError,
    NeuxError,
    "A secret, client id, code, scope, dialect or timestamp that cannot be used."
);

/// A Rust error as the matching Python exception, with `key` and `kind` set where there are.
fn param_error(py: Python<'_>, e: ParamError) -> PyErr {
    let message = e.to_string();
    let (err, key, kind) = match &e {
        ParamError::Unsupported { key, kind } => (
            UnsupportedValueError::new_err(message),
            Some(key.as_str()),
            Some(kind.code()),
        ),
        ParamError::ReservedKey => (ReservedKeyError::new_err(message), e.key(), None),
        _ => (NeuxError::new_err(message), e.key(), None),
    };
    let value = err.value(py);
    // Setting an attribute on a fresh exception instance cannot fail short of memory.
    let _ = value.setattr("key", key);
    let _ = value.setattr("kind", kind);
    err
}

fn invalid(what: &str, e: impl std::fmt::Display) -> PyErr {
    InvalidInputError::new_err(format!("{what}: {e}"))
}

fn unsupported(py: Python<'_>, key: &str, kind: UnsupportedKind) -> PyErr {
    param_error(
        py,
        ParamError::Unsupported {
            key: key.to_owned(),
            kind,
        },
    )
}

/// One Python value as JSON, for the cases neux-proto's JSON reader decides (lists, and what
/// it refuses): the refusals then are the Rust crate's own.
fn as_json(py: Python<'_>, key: &str, v: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    use serde_json::Value as J;
    if v.is_none() {
        Ok(J::Null)
    } else if let Ok(b) = v.cast::<PyBool>() {
        Ok(J::Bool(b.is_true()))
    } else if v.cast::<PyInt>().is_ok() {
        if let Ok(i) = v.extract::<i64>() {
            Ok(J::from(i))
        } else if let Ok(u) = v.extract::<u64>() {
            Ok(J::from(u))
        } else {
            Err(unsupported(py, key, UnsupportedKind::IntegerOutOfRange))
        }
    } else if let Ok(s) = v.cast::<PyString>() {
        Ok(J::String(s.to_cow()?.into_owned()))
    } else if v.cast::<PyFloat>().is_ok() {
        Err(unsupported(py, key, UnsupportedKind::Float))
    } else if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        let items = v
            .try_iter()?
            .map(|item| as_json(py, key, &item?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(J::Array(items))
    } else if v.cast::<PyDict>().is_ok() || v.hasattr("items")? {
        Ok(J::Object(serde_json::Map::new()))
    } else {
        Err(PyTypeError::new_err(format!(
            "parameter `{key}` is a {}, which neux does not sign; send a str, an int, a bool, None or a list of str/int",
            v.get_type().name()?
        )))
    }
}

/// One parameter's value: the common kinds directly, the rest through neux-proto's reader.
fn param_value(py: Python<'_>, key: &str, v: &Bound<'_, PyAny>) -> PyResult<ParamValue> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(ParamValue::Str(s.to_cow()?.into_owned()));
    }
    if v.cast::<PyInt>().is_ok()
        && v.cast::<PyBool>().is_err()
        && let Ok(i) = v.extract::<i64>()
    {
        return Ok(ParamValue::Int(i));
    }
    let json = as_json(py, key, v)?;
    ParamValue::from_json(key, &json).map_err(|e| param_error(py, e))
}

/// A `Mapping` (a `dict`, or anything with `.items()`) as a parameter map.
fn params(py: Python<'_>, mapping: &Bound<'_, PyAny>) -> PyResult<Params> {
    let mut pairs = Vec::new();
    let mut add = |k: Bound<'_, PyAny>, v: Bound<'_, PyAny>| -> PyResult<()> {
        let key = k.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err("parameter keys are str; got another type as a key")
        })?;
        let key = key.to_cow()?.into_owned();
        let value = param_value(py, &key, &v)?;
        pairs.push((key, value));
        Ok(())
    };
    if let Ok(dict) = mapping.cast::<PyDict>() {
        for (k, v) in dict.iter() {
            add(k, v)?;
        }
    } else if mapping.hasattr("items")? {
        for item in mapping.call_method0("items")?.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            add(k, v)?;
        }
    } else {
        return Err(PyTypeError::new_err(
            "params must be a Mapping of parameter names to values (a dict)",
        ));
    }
    Params::from_pairs(pairs).map_err(|e| param_error(py, e))
}

/// A value of the common kinds: text held by Python, an integer, or a fixed text.
enum Text<'py> {
    Held(Bound<'py, PyBytes>),
    Int(i64),
    Fixed(&'static str),
}

/// The keys of an exact `dict` of the common kinds (see [`common_kinds`]), in its order, and
/// their values.
struct Common<'py> {
    keys: Vec<Bound<'py, PyString>>,
    values: Vec<Text<'py>>,
}

/// The keys and values of an exact `dict` whose keys are `str` and whose values are `str`,
/// `int` (within `i64`), `bool` or `None`: strings as UTF-8 held by Python (one bytes object
/// each, the abi3 way to read a `str` before 3.10) and no `String` of ours (copying every key
/// and value was a third of a 50-key signature). Integers go to neux-proto's signer as
/// integers. `None` for any other mapping or value, which [`params`] reads instead, refusals
/// included.
fn common_kinds<'py>(mapping: &Bound<'py, PyAny>) -> Option<Common<'py>> {
    let dict = mapping.cast_exact::<PyDict>().ok()?;
    let mut keys = Vec::with_capacity(dict.len());
    let mut values = Vec::with_capacity(dict.len());
    for (k, v) in dict.iter() {
        keys.push(k.cast_into_exact::<PyString>().ok()?);
        values.push(if let Ok(s) = v.cast_exact::<PyString>() {
            // A lone surrogate does not encode: the general reader reports it.
            Text::Held(s.encode_utf8().ok()?)
        } else if v.is_exact_instance_of::<PyInt>() {
            Text::Int(v.extract::<i64>().ok()?)
        } else if let Ok(b) = v.cast_exact::<PyBool>() {
            Text::Fixed(if b.is_true() { "true" } else { "false" })
        } else if v.is_none() {
            Text::Fixed("")
        } else {
            return None;
        });
    }
    Some(Common { keys, values })
}

/// The parameters, read once, as the signer needs them.
enum Read<'a> {
    Text(TextParams<'a>),
    Owned(Params),
}

impl Read<'_> {
    fn sign(&self, secret: &AppSecret) -> Signature {
        match self {
            Self::Text(p) => p.sign(secret),
            Self::Owned(p) => p.sign(secret),
        }
    }

    fn redacted(&self) -> String {
        match self {
            Self::Text(p) => p.canonical_string_redacted(),
            Self::Owned(p) => p.canonical_string_redacted(),
        }
    }

    fn exposing(&self, secret: &AppSecret) -> String {
        match self {
            Self::Text(p) => p.canonical_string_exposing_secret(secret),
            Self::Owned(p) => p.canonical_string_exposing_secret(secret),
        }
    }
}

fn utf8(bytes: &[u8]) -> PyResult<&str> {
    std::str::from_utf8(bytes)
        .map_err(|_| PyValueError::new_err("Python's UTF-8 encoder produced invalid UTF-8"))
}

/// Reads `mapping` (the common kinds without copying them, the rest through [`params`]) and
/// hands the result to `then`.
fn read<R>(
    py: Python<'_>,
    mapping: &Bound<'_, PyAny>,
    then: impl FnOnce(&Read<'_>) -> PyResult<R>,
) -> PyResult<R> {
    let Some(common) = common_kinds(mapping) else {
        return then(&Read::Owned(params(py, mapping)?));
    };
    let value = |place: usize| -> PyResult<TextValue<'_>> {
        Ok(match &common.values[place] {
            Text::Held(bytes) => TextValue::Text(utf8(bytes.as_bytes())?),
            Text::Int(n) => TextValue::Int(*n),
            Text::Fixed(text) => TextValue::Text(text),
        })
    };
    let mut pairs = Vec::with_capacity(common.values.len());
    if let Some(order) = kept_order(&common.keys) {
        for (key, place) in order.sorted() {
            pairs.push((key, value(place)?));
        }
        let text = TextParams::from_pairs(pairs).map_err(|e| param_error(py, e))?;
        return then(&Read::Text(text));
    }
    // A key order seen once: each key as UTF-8 held by Python, and sorted by neux-proto.
    let mut held = Vec::with_capacity(common.keys.len());
    for key in &common.keys {
        let Ok(bytes) = key.encode_utf8() else {
            // A lone surrogate: the general reader reports it.
            return then(&Read::Owned(params(py, mapping)?));
        };
        held.push(bytes);
    }
    for (place, bytes) in held.iter().enumerate() {
        pairs.push((utf8(bytes.as_bytes())?, value(place)?));
    }
    let text = TextParams::from_pairs(pairs).map_err(|e| param_error(py, e))?;
    then(&Read::Text(text))
}

fn secret(secret: &str) -> PyResult<AppSecret> {
    AppSecret::new(secret).map_err(|e| invalid("secret", e))
}

/// The signature of `params` with the app secret: 64 lowercase hex digits.
#[pyfunction]
fn sign(py: Python<'_>, params: &Bound<'_, PyAny>, secret: &str) -> PyResult<String> {
    read(py, params, |params| {
        Ok(params.sign(&self::secret(secret)?).to_hex())
    })
}

/// The canonical string, what is hashed: with the secret shown as `[REDACTED]` (the default,
/// safe to log), or, with `mask_secret=False` and `secret` given, exactly the bytes hashed.
#[pyfunction]
#[pyo3(signature = (params, mask_secret = true, secret = None))]
fn canonical(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    mask_secret: bool,
    secret: Option<&str>,
) -> PyResult<String> {
    read(py, params, |params| {
        if mask_secret {
            return Ok(params.redacted());
        }
        let secret = secret.ok_or_else(|| {
            InvalidInputError::new_err("canonical(mask_secret=False) needs the secret: secret=...")
        })?;
        Ok(params.exposing(&self::secret(secret)?))
    })
}

/// Whether `signature` is the signature of `params` with the secret, compared in constant
/// time. A `signature` that is not 64 hex digits is not valid: `False`.
#[pyfunction]
fn verify(
    py: Python<'_>,
    params: &Bound<'_, PyAny>,
    secret: &str,
    signature: &str,
) -> PyResult<bool> {
    let expected = read(py, params, |params| Ok(params.sign(&self::secret(secret)?)))?;
    Ok(signature
        .parse::<Signature>()
        .is_ok_and(|received| expected.verify(&received)))
}

/// The signed body of the code-for-token call, as a dict in signing order with `sign` last:
/// send it as JSON (`dialect="json"`, the app id under `clientId`) or as a form
/// (`dialect="form"`, under `appid`).
#[pyfunction]
#[pyo3(signature = (client_id, code, scope, timestamp, dialect = "json", *, secret))]
fn token_request<'py>(
    py: Python<'py>,
    client_id: &str,
    code: &str,
    scope: &str,
    timestamp: u64,
    dialect: &str,
    secret: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let dialect: Dialect = dialect.parse().map_err(|e| invalid("dialect", e))?;
    let request = TokenRequest::new(
        ClientId::new(client_id).map_err(|e| invalid("client_id", e))?,
        AuthCode::new(code).map_err(|e| invalid("code", e))?,
        scope.parse::<Scope>().map_err(|e| invalid("scope", e))?,
        Timestamp::from_millis(timestamp),
    );
    let signature = request.sign(dialect, &self::secret(secret)?);
    let body = PyDict::new(py);
    for (key, value) in request.params(dialect).iter() {
        match value {
            ParamValue::UInt(n) => body.set_item(key, n)?,
            ParamValue::Int(n) => body.set_item(key, n)?,
            other => body.set_item(key, other.to_string())?,
        }
    }
    body.set_item("sign", signature.to_hex())?;
    Ok(body)
}

/// Where two canonical strings first differ, as a byte offset into their UTF-8, or `None`
/// when they are equal.
#[pyfunction]
fn first_difference(ours: &str, theirs: &str) -> Option<usize> {
    neux_proto::first_difference(ours, theirs)
}

#[pymodule]
fn _neux(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(token_request, m)?)?;
    m.add_function(wrap_pyfunction!(first_difference, m)?)?;
    m.add("NeuxError", py.get_type::<NeuxError>())?;
    m.add(
        "UnsupportedValueError",
        py.get_type::<UnsupportedValueError>(),
    )?;
    m.add("ReservedKeyError", py.get_type::<ReservedKeyError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("SECRET_MASK", neux_proto::SECRET_MASK)?;
    Ok(())
}
