//! The parameter map that the platform's signing rule is computed over.

use std::cmp::Ordering;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// The key the signer adds itself; a caller's map may never hold it.
pub(crate) const SECRET_KEY: &str = "secret";

/// One value of a [`Params`] map: the kinds the platform's Java reference renders the same way
/// everywhere. Anything else (floats, objects, nested lists) is refused when the map is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamValue {
    /// Text, signed as it is: no trimming, normalisation or URL encoding.
    Str(String),
    /// A signed integer, rendered in plain decimal.
    Int(i64),
    /// An unsigned integer, rendered in plain decimal (exact above 2^53, unlike JavaScript).
    UInt(u64),
    /// `true` or `false`.
    Bool(bool),
    /// Rendered as the empty string.
    Null,
    /// Rendered as its items joined with `,`.
    List(Vec<ListItem>),
}

/// One item of a [`ParamValue::List`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListItem {
    /// Text.
    Str(String),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
}

/// What kind of value was refused, in [`ParamError::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedKind {
    /// A number with a fraction or exponent.
    Float,
    /// An integer outside both `i64` and `u64`.
    IntegerOutOfRange,
    /// A JSON object.
    Object,
    /// A list inside a list.
    NestedList,
    /// A `null` inside a list.
    NullInList,
    /// A boolean inside a list.
    BoolInList,
}

impl fmt::Display for UnsupportedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Float => "a floating-point number",
            Self::IntegerOutOfRange => "an integer outside the i64/u64 range",
            Self::Object => "an object",
            Self::NestedList => "a nested list",
            Self::NullInList => "a list holding null",
            Self::BoolInList => "a list holding a boolean",
        })
    }
}

/// A parameter map could not be built. Messages name the key, never the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// The caller passed a parameter named `secret`.
    #[error(
        "parameter `secret` is refused: the signer adds the app secret itself, and a map holding it is about to send it on the wire"
    )]
    ReservedKey,
    /// A value whose text form the platform's reference implementations disagree on.
    #[error(
        "parameter `{key}` is {kind}, which has no agreed text form for signing; send it as a string or an integer"
    )]
    Unsupported {
        /// The parameter's key.
        key: String,
        /// What was found.
        kind: UnsupportedKind,
    },
    /// The JSON text was not an object.
    #[error("the parameters must be one JSON object")]
    NotAnObject,
    /// The JSON text did not parse.
    #[error("the parameters are not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ParamError {
    /// The key the error is about, where there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::ReservedKey => Some(SECRET_KEY),
            Self::Unsupported { key, .. } => Some(key),
            Self::NotAnObject | Self::Json(_) => None,
        }
    }
}

/// A map of request parameters, kept in the order the platform signs them: by UTF-16 code unit, as
/// Java's `String.compareTo` orders keys.
///
/// Build it from Rust values with [`insert`](Self::insert) or from JSON with
/// [`from_json`](Self::from_json) / [`from_json_str`](Self::from_json_str), then
/// [`sign`](Self::sign) it. It serialises as a JSON object in that same order.
///
/// ```
/// use neux_proto::{AppSecret, Params};
/// let mut params = Params::new();
/// params.insert("appid", "demo-appid")?;
/// params.insert("timestamp", 1_700_000_000_000u64)?;
/// params.insert("openIds", vec!["a", "b"])?;
/// assert_eq!(params.len(), 3);
/// assert!(params.insert("secret", "x").is_err());
/// # Ok::<(), neux_proto::ParamError>(())
/// ```
///
/// `Debug` prints every key, and the values of all but the sensitive ones: those named in
/// [`SENSITIVE_KEYS`] and those marked with [`mark_sensitive`](Params::mark_sensitive) print as
/// `[REDACTED]`.
#[derive(Clone, Default)]
pub struct Params {
    entries: Vec<(String, ParamValue)>,
    // Keys whose values never print; not part of the map's value (equality ignores it).
    sensitive: Vec<String>,
}

/// Keys whose values are credentials wherever the platform uses them: their values never print
/// in a [`Params`]'s `Debug`.
pub const SENSITIVE_KEYS: [&str; 4] = ["code", "accessToken", "refreshToken", "password"];

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Params {}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted;
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[REDACTED]")
            }
        }
        let mut map = f.debug_map();
        for (key, value) in &self.entries {
            if self.is_sensitive(key) {
                map.entry(key, &Redacted);
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

/// Orders keys as Java's `String.compareTo` does: by UTF-16 code unit.
///
/// This equals byte order except where a character beyond U+FFFF (a surrogate pair, D800..DFFF)
/// meets one in U+E000..U+FFFF: UTF-16 puts the surrogate first, UTF-8 byte order the other.
pub fn cmp_keys(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        None => x.len().cmp(&y.len()),
        // An ASCII byte is a whole character and sorts below every multi-byte one in both orders.
        Some(i) if x[i] < 0x80 || y[i] < 0x80 => x[i].cmp(&y[i]),
        Some(_) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

impl Params {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `key` as sensitive: its value prints as `[REDACTED]` in `Debug` (whether or not the
    /// key is present yet). Use it for any credential a call carries beyond [`SENSITIVE_KEYS`].
    ///
    /// ```
    /// use neux_proto::Params;
    /// let mut params = Params::new().with("cardNo", "4111111111111111")?;
    /// params.mark_sensitive("cardNo");
    /// assert_eq!(format!("{params:?}"), r#"{"cardNo": [REDACTED]}"#);
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn mark_sensitive(&mut self, key: impl Into<String>) {
        let key = key.into();
        if !self.sensitive.contains(&key) {
            self.sensitive.push(key);
        }
    }

    /// Whether `key`'s value is kept out of `Debug`.
    pub fn is_sensitive(&self, key: &str) -> bool {
        SENSITIVE_KEYS.contains(&key) || self.sensitive.iter().any(|k| k == key)
    }

    /// Inserts or replaces a parameter, returning the value it replaced.
    ///
    /// Refuses the key `secret` ([`ParamError::ReservedKey`]). `sign` and `fileData` may be held
    /// (they are sent) but are left out of the signature.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<ParamValue>,
    ) -> Result<Option<ParamValue>, ParamError> {
        let key = key.into();
        if key == SECRET_KEY {
            return Err(ParamError::ReservedKey);
        }
        let value = value.into();
        Ok(self.put(key, value))
    }

    /// Inserts a key that is known not to be `secret`.
    fn put(&mut self, key: String, value: ParamValue) -> Option<ParamValue> {
        match self.entries.binary_search_by(|(k, _)| cmp_keys(k, &key)) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Builder-style [`insert`](Self::insert).
    ///
    /// ```
    /// use neux_proto::Params;
    /// let params = Params::new().with("appid", "x")?.with("amount", 100)?;
    /// assert_eq!(params.len(), 2);
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn with(
        mut self,
        key: impl Into<String>,
        value: impl Into<ParamValue>,
    ) -> Result<Self, ParamError> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// Builds the map from a JSON object, keeping integers exact.
    ///
    /// ```
    /// use neux_proto::Params;
    /// let params = Params::from_json(&serde_json::json!({"amount": 18446744073709551615u64}))?;
    /// assert_eq!(params.get("amount"), Some(&neux_proto::ParamValue::UInt(u64::MAX)));
    /// assert!(Params::from_json(&serde_json::json!({"price": 1.5})).is_err());
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ParamError> {
        let object = value.as_object().ok_or(ParamError::NotAnObject)?;
        let mut params = Self {
            entries: Vec::with_capacity(object.len()),
            sensitive: Vec::new(),
        };
        for (key, v) in object {
            if key == SECRET_KEY {
                return Err(ParamError::ReservedKey);
            }
            let value = ParamValue::from_json(key, v)?;
            params.put(key.clone(), value);
        }
        Ok(params)
    }

    /// Parses JSON text and builds the map from it (see [`from_json`](Self::from_json)).
    pub fn from_json_str(text: &str) -> Result<Self, ParamError> {
        let value: serde_json::Value = serde_json::from_str(text)?;
        Self::from_json(&value)
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&ParamValue> {
        self.entries
            .binary_search_by(|(k, _)| cmp_keys(k, key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&mut self, key: &str) -> Option<ParamValue> {
        self.entries
            .binary_search_by(|(k, _)| cmp_keys(k, key))
            .ok()
            .map(|i| self.entries.remove(i).1)
    }

    /// Number of parameters held (including any `sign` or `fileData`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The parameters in signing order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl ParamValue {
    fn from_json(key: &str, v: &serde_json::Value) -> Result<Self, ParamError> {
        use serde_json::Value as J;
        let unsupported = |kind| ParamError::Unsupported {
            key: key.to_owned(),
            kind,
        };
        Ok(match v {
            J::Null => Self::Null,
            J::Bool(b) => Self::Bool(*b),
            J::String(s) => Self::Str(s.clone()),
            J::Number(n) => match number(n) {
                Ok(item) => item.into(),
                Err(kind) => return Err(unsupported(kind)),
            },
            J::Object(_) => return Err(unsupported(UnsupportedKind::Object)),
            J::Array(items) => Self::List(
                items
                    .iter()
                    .map(|item| match item {
                        J::String(s) => Ok(ListItem::Str(s.clone())),
                        J::Number(n) => number(n).map_err(unsupported),
                        J::Null => Err(unsupported(UnsupportedKind::NullInList)),
                        J::Bool(_) => Err(unsupported(UnsupportedKind::BoolInList)),
                        J::Array(_) => Err(unsupported(UnsupportedKind::NestedList)),
                        J::Object(_) => Err(unsupported(UnsupportedKind::Object)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

fn number(n: &serde_json::Number) -> Result<ListItem, UnsupportedKind> {
    if let Some(i) = n.as_i64() {
        Ok(ListItem::Int(i))
    } else if let Some(u) = n.as_u64() {
        Ok(ListItem::UInt(u))
    } else {
        // serde_json turns an integer that fits neither i64 nor u64 into an f64: tell that apart
        // from a real fraction, so the message points at the right fix.
        match n.as_f64() {
            // (A literal like 1e20 lands here too; it is refused either way.)
            Some(f) if f.fract() == 0.0 && f.abs() >= 9.2e18 => {
                Err(UnsupportedKind::IntegerOutOfRange)
            }
            _ => Err(UnsupportedKind::Float),
        }
    }
}

impl From<ListItem> for ParamValue {
    fn from(item: ListItem) -> Self {
        match item {
            ListItem::Str(s) => Self::Str(s),
            ListItem::Int(i) => Self::Int(i),
            ListItem::UInt(u) => Self::UInt(u),
        }
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}
impl From<&String> for ParamValue {
    fn from(s: &String) -> Self {
        Self::Str(s.clone())
    }
}
impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}
impl<T: Into<ParamValue>> From<Option<T>> for ParamValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}
impl<T: Into<ListItem>> From<Vec<T>> for ParamValue {
    fn from(items: Vec<T>) -> Self {
        Self::List(items.into_iter().map(Into::into).collect())
    }
}
impl From<&str> for ListItem {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}
impl From<String> for ListItem {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

macro_rules! int_conversions {
    ($variant:ident: $($t:ty),*) => {$(
        impl From<$t> for ParamValue {
            fn from(n: $t) -> Self {
                Self::$variant(n.into())
            }
        }
        impl From<$t> for ListItem {
            fn from(n: $t) -> Self {
                Self::$variant(n.into())
            }
        }
    )*};
}
int_conversions!(Int: i8, i16, i32, i64);
int_conversions!(UInt: u8, u16, u32, u64);

impl Serialize for ParamValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => s.serialize_str(v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::UInt(v) => s.serialize_u64(*v),
            Self::Bool(v) => s.serialize_bool(*v),
            Self::Null => s.serialize_unit(),
            Self::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl Serialize for ListItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => s.serialize_str(v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::UInt(v) => s.serialize_u64(*v),
        }
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_credential_values_and_marked_keys() {
        let mut p = Params::new()
            .with("code", "the-code-value")
            .unwrap()
            .with("accessToken", "the-token-value")
            .unwrap()
            .with("amount", 100u64)
            .unwrap()
            .with("cardNo", "4111-card")
            .unwrap();
        p.mark_sensitive("cardNo");
        let text = format!("{p:?}");
        for hidden in ["the-code-value", "the-token-value", "4111-card"] {
            assert!(!text.contains(hidden), "{text}");
        }
        assert!(text.contains("\"amount\": UInt(100)"), "{text}");
        // Marking is not part of the map's value.
        let mut q = p.clone();
        q.mark_sensitive("amount");
        assert_eq!(p, q);
    }
    use serde_json::json;

    #[test]
    fn utf16_order_differs_from_byte_order_beyond_the_bmp() {
        let private_use = "\u{E000}"; // UTF-16: E000; UTF-8: EE 80 80
        let emoji = "\u{1F600}"; // UTF-16: D83D DE00; UTF-8: F0 9F 98 80
        assert_eq!(private_use.as_bytes().cmp(emoji.as_bytes()), Ordering::Less);
        assert_eq!(cmp_keys(private_use, emoji), Ordering::Greater);
        assert_eq!(cmp_keys("\u{FFFD}", "\u{10000}"), Ordering::Greater);
        // Below U+E000 the two orders agree.
        assert_eq!(cmp_keys("\u{D7FF}", "\u{1F600}"), Ordering::Less);
    }

    #[test]
    fn ascii_order_is_java_order() {
        assert_eq!(cmp_keys("Zeta", "alpha"), Ordering::Less);
        assert_eq!(cmp_keys("code", "codeX"), Ordering::Less);
        assert_eq!(cmp_keys("a", "é"), Ordering::Less);
        assert_eq!(cmp_keys("same", "same"), Ordering::Equal);
    }

    #[test]
    fn insertion_keeps_signing_order_and_replaces() {
        let mut p = Params::new();
        for k in ["b", "\u{1F600}", "A", "\u{E000}", "a"] {
            p.insert(k, 1).unwrap();
        }
        let keys: Vec<_> = p.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["A", "a", "b", "\u{1F600}", "\u{E000}"]);
        assert_eq!(p.insert("a", "x").unwrap(), Some(ParamValue::Int(1)));
        assert_eq!(p.get("a"), Some(&ParamValue::Str("x".into())));
        assert_eq!(p.remove("A"), Some(ParamValue::Int(1)));
        assert_eq!(p.len(), 4);
    }

    #[test]
    fn refuses_secret_key_from_code_and_json() {
        assert!(matches!(
            Params::new().insert("secret", "x"),
            Err(ParamError::ReservedKey)
        ));
        let err = Params::from_json(&json!({"a": 1, "secret": "leak-me"})).unwrap_err();
        assert!(matches!(err, ParamError::ReservedKey));
        assert!(!err.to_string().contains("leak-me"));
        // Case-sensitive, like `sign`: `Secret` is an ordinary parameter.
        assert!(Params::new().insert("Secret", "x").is_ok());
    }

    #[test]
    fn refuses_each_unsupported_kind_naming_the_key() {
        let cases = [
            (json!({"price": 1.5}), UnsupportedKind::Float),
            (json!({"price": 1e3}), UnsupportedKind::Float),
            (json!({"o": {"a": 1}}), UnsupportedKind::Object),
            (json!({"l": [[1]]}), UnsupportedKind::NestedList),
            (json!({"l": [1, null]}), UnsupportedKind::NullInList),
            (json!({"l": [true]}), UnsupportedKind::BoolInList),
            (json!({"l": [{"a": 1}]}), UnsupportedKind::Object),
        ];
        for (value, kind) in cases {
            match Params::from_json(&value) {
                Err(ParamError::Unsupported { key, kind: got }) => {
                    assert_eq!(got, kind, "{value}");
                    assert!(value.get(&key).is_some(), "error names key {key}");
                }
                other => panic!("{value}: expected Unsupported, got {other:?}"),
            }
        }
    }

    #[test]
    fn huge_integers_are_exact_or_refused() {
        let p = Params::from_json_str(
            r#"{"a": 9223372036854775807, "b": -9223372036854775808, "c": 18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(p.get("a"), Some(&ParamValue::Int(i64::MAX)));
        assert_eq!(p.get("b"), Some(&ParamValue::Int(i64::MIN)));
        assert_eq!(p.get("c"), Some(&ParamValue::UInt(u64::MAX)));
        let err = Params::from_json_str(r#"{"big": 18446744073709551616}"#).unwrap_err();
        assert!(matches!(
            err,
            ParamError::Unsupported {
                kind: UnsupportedKind::IntegerOutOfRange,
                ..
            }
        ));
        assert_eq!(err.key(), Some("big"));
    }

    #[test]
    fn not_an_object_and_bad_json_are_typed() {
        assert!(matches!(
            Params::from_json_str("[1]"),
            Err(ParamError::NotAnObject)
        ));
        assert!(matches!(
            Params::from_json_str("{"),
            Err(ParamError::Json(_))
        ));
    }

    #[test]
    fn serialises_in_signing_order() {
        let p = Params::new()
            .with("b", vec![1u64, 2])
            .unwrap()
            .with("a", None::<&str>)
            .unwrap()
            .with("Z", true)
            .unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"Z":true,"a":null,"b":[1,2]}"#
        );
    }
}
