//! The values a [`Params`](crate::Params) map holds, how each converts and serialises, and
//! why one is refused.

use std::fmt;

use serde::ser::{Serialize, SerializeSeq, Serializer};

/// Formats `n` in decimal into `buf`, returning the digits (two at a time: half the divisions).
pub(crate) fn decimal(n: u64, buf: &mut [u8; 20]) -> &[u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let mut i = buf.len();
    let mut n = n;
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    &buf[i..]
}

/// The key the signer adds itself; a caller's map may never hold it.
pub(crate) const SECRET_KEY: &str = "secret";

/// One value of a [`Params`](crate::Params) map: the kinds the platform's Java reference renders the same way
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

impl UnsupportedKind {
    /// A stable code for the kind, for programs and for other languages' bindings
    /// (`"float"`, `"integer_out_of_range"`, `"object"`, `"nested_list"`, `"null_in_list"`,
    /// `"bool_in_list"`).
    ///
    /// ```
    /// assert_eq!(neux_proto::UnsupportedKind::Float.code(), "float");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            Self::Float => "float",
            Self::IntegerOutOfRange => "integer_out_of_range",
            Self::Object => "object",
            Self::NestedList => "nested_list",
            Self::NullInList => "null_in_list",
            Self::BoolInList => "bool_in_list",
        }
    }
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
    /// The caller passed a parameter that the signer of a call adds itself (`sign`, `timestamp`,
    /// `appid` or `clientId`).
    #[error(
        "parameter `{0}` is refused: the client adds it to every signed call itself (app id, timestamp and signature)"
    )]
    AddedBySigner(&'static str),
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
    /// [`Params::from_pairs`](crate::Params::from_pairs) was given one key twice.
    #[error("parameter `{0}` is given more than once")]
    Duplicate(String),
}

impl ParamError {
    /// The key the error is about, where there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::ReservedKey => Some(SECRET_KEY),
            Self::AddedBySigner(key) => Some(key),
            Self::Unsupported { key, .. } | Self::Duplicate(key) => Some(key),
            Self::NotAnObject | Self::Json(_) => None,
        }
    }
}

impl ParamValue {
    /// The value of JSON `v` under `key`, keeping integers exact; refuses what has no agreed
    /// text form (floats, objects, nested lists, null or booleans in a list), naming `key`.
    ///
    /// ```
    /// use neux_proto::ParamValue;
    /// let v = ParamValue::from_json("ids", &serde_json::json!([1, 18446744073709551615u64]))?;
    /// assert_eq!(v.to_string(), "1,18446744073709551615");
    /// assert!(ParamValue::from_json("price", &serde_json::json!(1.5)).is_err());
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn from_json(key: &str, v: &serde_json::Value) -> Result<Self, ParamError> {
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

/// The text a value is signed in (and sent in, in the form dialect): strings as they are,
/// integers in plain decimal, `true`/`false`, null as nothing, a list's items joined with `,`.
///
/// ```
/// use neux_proto::ParamValue;
/// assert_eq!(ParamValue::from(vec![1u64, 2]).to_string(), "1,2");
/// assert_eq!(ParamValue::from(u64::MAX).to_string(), "18446744073709551615");
/// assert_eq!(ParamValue::Null.to_string(), "");
/// ```
impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::UInt(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => Ok(()),
            Self::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

/// The text an item is signed in.
impl fmt::Display for ListItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::UInt(n) => write!(f, "{n}"),
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
