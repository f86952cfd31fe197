//! The parameter map that the platform's signing rule is computed over.

use std::cmp::Ordering;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

pub(crate) use crate::value::SECRET_KEY;
pub use crate::value::{ListItem, ParamError, ParamValue, UnsupportedKind};

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
/// [`is_sensitive_name`](crate::is_sensitive_name) names and those marked with [`mark_sensitive`](Params::mark_sensitive) print as
/// `[REDACTED]`.
#[derive(Clone, Default)]
pub struct Params {
    entries: Vec<(String, ParamValue)>,
    // Keys whose values never print; not part of the map's value (equality ignores it).
    sensitive: Vec<String>,
}

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
    /// key is present yet). Use it for any credential a call carries beyond [`is_sensitive_name`](crate::is_sensitive_name)'s table.
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

    /// Whether `key`'s value is kept out of `Debug` (and out of the client's errors): a name of
    /// the shared table ([`is_sensitive_name`](crate::is_sensitive_name)) or one marked with
    /// [`mark_sensitive`](Self::mark_sensitive).
    pub fn is_sensitive(&self, key: &str) -> bool {
        crate::is_sensitive_name(key) || self.sensitive.iter().any(|k| k == key)
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
        let pairs = object
            .iter()
            .map(|(key, v)| Ok((key.clone(), ParamValue::from_json(key, v)?)))
            .collect::<Result<Vec<_>, ParamError>>()?;
        Self::from_pairs(pairs)
    }

    /// Builds the map from pairs in any order with one sort, so it costs O(n log n) whatever
    /// the order (inserting keys one by one in descending order moves the whole map each
    /// time). Refuses `secret` and a key given twice.
    ///
    /// ```
    /// use neux_proto::{ParamError, ParamValue, Params};
    /// let p = Params::from_pairs([("b".into(), ParamValue::Int(2)), ("a".into(), ParamValue::Int(1))])?;
    /// assert_eq!(p.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "b"]);
    /// let twice = Params::from_pairs([("a".into(), ParamValue::Null), ("a".into(), ParamValue::Null)]);
    /// assert!(matches!(twice, Err(ParamError::Duplicate(k)) if k == "a"));
    /// # Ok::<(), ParamError>(())
    /// ```
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, ParamValue)>,
    ) -> Result<Self, ParamError> {
        let mut entries: Vec<(String, ParamValue)> = pairs.into_iter().collect();
        if entries.iter().any(|(k, _)| k == SECRET_KEY) {
            return Err(ParamError::ReservedKey);
        }
        entries.sort_by(|a, b| cmp_keys(&a.0, &b.0));
        if let Some(pair) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ParamError::Duplicate(pair[0].0.clone()));
        }
        Ok(Self {
            entries,
            sensitive: Vec::new(),
        })
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
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> + Clone {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
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
