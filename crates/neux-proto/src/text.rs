//! A borrowed parameter map whose values are already in their signed text form: what the
//! language bindings sign without copying each key and value into a `String` of their own.

use crate::canonical::{Piece, Sink, put_i64, sign_pairs, write_pairs};
use crate::params::{ParamError, SECRET_KEY, cmp_keys};
use crate::secret::AppSecret;
use crate::sign::SECRET_MASK;
use crate::signature::Signature;

/// Parameters as `(key, text)` pairs borrowed from the caller, each value already written as
/// the platform renders it (a string as it is, an integer in decimal, `true`/`false`, the
/// empty string for null). Signed and shown exactly as [`Params`](crate::Params) is: the same
/// order, the same left-out keys, the same refusal of a `secret` key and of a key given twice,
/// through the same signer. It copies nothing, which is why the Python and Node bindings use it
/// for the common kinds of value.
///
/// ```
/// use neux_proto::{AppSecret, Params, TextParams};
/// let secret = AppSecret::new("demo-secret")?;
/// let text = TextParams::from_pairs(vec![
///     ("timestamp", "1700000000000"),
///     ("appid", "demo-appid"),
///     ("code", "abc123"),
///     ("grantType", "authorization_code"),
///     ("scope", "user.info"),
/// ])?;
/// assert_eq!(
///     text.sign(&secret).to_hex(),
///     "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242"
/// );
/// // The same bytes as the owned map with typed values.
/// let owned = Params::new()
///     .with("appid", "demo-appid")?
///     .with("code", "abc123")?
///     .with("grantType", "authorization_code")?
///     .with("scope", "user.info")?
///     .with("timestamp", 1700000000000u64)?;
/// assert_eq!(text.sign(&secret), owned.sign(&secret));
/// assert_eq!(text.canonical_string_redacted(), owned.canonical_string_redacted());
/// assert!(TextParams::from_pairs(vec![("secret", "x")]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TextParams<'a> {
    entries: Vec<(&'a str, TextValue<'a>)>,
}

/// A value of a [`TextParams`] map: text already in its signed form, or an integer the signer
/// writes in decimal itself (without formatting it first).
///
/// ```
/// use neux_proto::{AppSecret, Params, TextParams, TextValue};
/// let secret = AppSecret::new("s")?;
/// let text = TextParams::from_pairs(vec![("n", TextValue::Int(-42)), ("t", "x".into())])?;
/// let owned = Params::new().with("n", -42)?.with("t", "x")?;
/// assert_eq!(text.sign(&secret), owned.sign(&secret));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextValue<'a> {
    /// The value's text, as it is signed.
    Text(&'a str),
    /// An integer, signed in plain decimal.
    Int(i64),
}

impl<'a> From<&'a str> for TextValue<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl Piece for TextValue<'_> {
    #[inline]
    fn put(self, sink: &mut impl Sink) {
        match self {
            Self::Text(text) => sink.put(text.as_bytes()),
            Self::Int(n) => put_i64(sink, n),
        }
    }
}

impl<'a> TextParams<'a> {
    /// Sorts the pairs into signing order. Refuses a `secret` key
    /// ([`ParamError::ReservedKey`]) and a key given twice ([`ParamError::Duplicate`]).
    pub fn from_pairs<V: Into<TextValue<'a>>>(
        pairs: impl IntoIterator<Item = (&'a str, V)>,
    ) -> Result<Self, ParamError> {
        let mut entries: Vec<(&'a str, TextValue<'a>)> =
            pairs.into_iter().map(|(k, v)| (k, v.into())).collect();
        if entries.iter().any(|(k, _)| *k == SECRET_KEY) {
            return Err(ParamError::ReservedKey);
        }
        // Pairs already in strictly increasing order (a binding's cached key order) are sorted
        // and distinct: one pass of comparisons instead of a sort and a second pass.
        if !entries.windows(2).all(|w| cmp_keys(w[0].0, w[1].0).is_lt()) {
            entries.sort_unstable_by(|a, b| cmp_keys(a.0, b.0));
            if let Some(pair) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                return Err(ParamError::Duplicate(pair[0].0.to_owned()));
            }
        }
        Ok(Self { entries })
    }

    /// The signature: lowercase hex SHA-256 of the canonical string, as
    /// [`Params::sign`](crate::Params::sign).
    pub fn sign(&self, secret: &AppSecret) -> Signature {
        sign_pairs(self.pieces(), secret)
    }

    /// The canonical string with the secret shown as [`SECRET_MASK`], as
    /// [`Params::canonical_string_redacted`](crate::Params::canonical_string_redacted).
    pub fn canonical_string_redacted(&self) -> String {
        self.canonical(SECRET_MASK.as_bytes())
    }

    /// The exact string that is hashed, **the secret in it**, as
    /// [`Params::canonical_string_exposing_secret`](crate::Params::canonical_string_exposing_secret).
    /// Never log it.
    pub fn canonical_string_exposing_secret(&self, secret: &AppSecret) -> String {
        self.canonical(secret.expose_secret().as_bytes())
    }

    /// Number of pairs held (including any `sign` or `fileData`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn pieces(&self) -> impl Iterator<Item = (&'a str, TextValue<'a>)> + '_ {
        self.entries.iter().copied()
    }

    fn canonical(&self, secret: &[u8]) -> String {
        let mut buf = Vec::new();
        write_pairs(self.pieces(), secret, &mut buf, |sink, v| v.put(sink));
        // Keys, values and the secret are all `&str`.
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// Every key is shown, and the values of all but the sensitive ones
/// ([`is_sensitive_name`](crate::is_sensitive_name)), which print as `[REDACTED]`, as
/// [`Params`](crate::Params) does.
impl std::fmt::Debug for TextParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Redacted;
        impl std::fmt::Debug for Redacted {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(SECRET_MASK)
            }
        }
        let mut map = f.debug_map();
        for (key, value) in &self.entries {
            if crate::is_sensitive_name(key) {
                map.entry(key, &Redacted);
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{ParamValue, Params};
    use proptest::prelude::*;

    fn secret() -> AppSecret {
        AppSecret::new("k3y").unwrap()
    }

    #[test]
    fn refuses_what_params_refuses() {
        assert!(matches!(
            TextParams::from_pairs([("a", "1"), ("secret", "x")]),
            Err(ParamError::ReservedKey)
        ));
        assert!(matches!(
            TextParams::from_pairs([("a", "1"), ("a", "2")]),
            Err(ParamError::Duplicate(k)) if k == "a"
        ));
        // In order but for the repeat: not taken for sorted.
        assert!(matches!(
            TextParams::from_pairs([("a", "1"), ("b", "2"), ("b", "3")]),
            Err(ParamError::Duplicate(k)) if k == "b"
        ));
        let empty = TextParams::from_pairs(Vec::<(&str, &str)>::new()).unwrap();
        assert_eq!(empty.len(), 0);
        assert!(empty.is_empty());
        assert_eq!(empty.canonical_string_redacted(), "secret=[REDACTED]");
    }

    #[test]
    fn debug_hides_sensitive_values() {
        let p = TextParams::from_pairs([
            ("code", "c0de-value"),
            ("accessToken", "t0ken-value"),
            ("appid", "demo-appid"),
            ("amount", "100"),
        ])
        .unwrap();
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("c0de-value") && !shown.contains("t0ken-value"),
            "{shown}"
        );
        assert!(shown.contains("\"code\": [REDACTED]"), "{shown}");
        assert!(
            shown.contains("demo-appid") && shown.contains("\"100\""),
            "{shown}"
        );
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z]{1,6}",
            Just("sign".to_owned()),
            Just("fileData".to_owned()),
            Just("Sign".to_owned()),
            Just("secrets".to_owned()),
            Just("\u{ffff}".to_owned()),
            Just("\u{1f600}".to_owned()),
            "\\PC{1,4}",
        ]
    }

    fn value() -> impl Strategy<Value = ParamValue> {
        prop_oneof![
            "\\PC{0,12}".prop_map(ParamValue::Str),
            any::<i64>().prop_map(ParamValue::Int),
            any::<u64>().prop_map(ParamValue::UInt),
            any::<bool>().prop_map(ParamValue::Bool),
            Just(ParamValue::Null),
        ]
    }

    proptest! {
        /// Any map of scalars, rendered to text, signs and shows as the typed map does.
        #[test]
        fn signs_as_the_typed_map_does(
            pairs in proptest::collection::btree_map(key(), value(), 0..12)
        ) {
            let pairs: Vec<(String, ParamValue)> =
                pairs.into_iter().filter(|(k, _)| k != SECRET_KEY).collect();
            let texts: Vec<(String, String)> =
                pairs.iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
            // Integers as the signer's own (i64), everything else as its text.
            let values: Vec<TextValue<'_>> = pairs
                .iter()
                .zip(&texts)
                .map(|((_, v), (_, t))| match v {
                    ParamValue::Int(n) => TextValue::Int(*n),
                    _ => TextValue::Text(t),
                })
                .collect();
            let owned = Params::from_pairs(pairs.clone()).unwrap();
            let text = TextParams::from_pairs(
                texts.iter().map(|(k, _)| k.as_str()).zip(values),
            )
            .unwrap();
            prop_assert_eq!(text.sign(&secret()), owned.sign(&secret()));
            prop_assert_eq!(text.canonical_string_redacted(), owned.canonical_string_redacted());
            prop_assert_eq!(
                text.canonical_string_exposing_secret(&secret()),
                owned.canonical_string_exposing_secret(&secret())
            );
        }

        /// Keys in any order, given twice or not, sorted already or not: the same map, or the
        /// same refusal, as the typed map's.
        #[test]
        fn any_order_and_repeats_as_the_typed_map(
            keys in proptest::collection::vec(key(), 0..10),
            presort in any::<bool>(),
        ) {
            let mut keys: Vec<String> = keys.into_iter().filter(|k| k != SECRET_KEY).collect();
            if presort {
                keys.sort_by(|a, b| cmp_keys(a, b));
            }
            let owned = Params::from_pairs(keys.iter().map(|k| (k.clone(), ParamValue::Str(k.clone()))));
            let text = TextParams::from_pairs(keys.iter().map(|k| (k.as_str(), k.as_str())));
            match (owned, text) {
                (Ok(owned), Ok(text)) => {
                    prop_assert_eq!(text.canonical_string_redacted(), owned.canonical_string_redacted());
                }
                (Err(ParamError::Duplicate(a)), Err(ParamError::Duplicate(b))) => prop_assert_eq!(a, b),
                (owned, text) => prop_assert!(false, "{:?} against {:?}", owned.err(), text.err()),
            }
        }
    }
}
