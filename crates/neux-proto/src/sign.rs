//! Signing a parameter map, and showing what is signed.

use crate::canonical::{put_value, sign_pairs, write_canonical, write_pairs};
use crate::params::{ParamValue, Params};
use crate::secret::AppSecret;
use crate::signature::Signature;

/// What stands for the secret in [`Params::canonical_string_redacted`].
pub const SECRET_MASK: &str = "[REDACTED]";

impl Params {
    /// Signs the parameters with the app secret: lowercase hex SHA-256 of the canonical string
    /// (see the crate docs for the rule). `sign` and `fileData` are left out.
    ///
    /// ```
    /// use neux_proto::{AppSecret, Params};
    /// let params = Params::from_json_str(r#"{"appid": "demo-appid", "code": "abc123",
    ///     "grantType": "authorization_code", "scope": "user.info", "timestamp": 1700000000000}"#)?;
    /// let sig = params.sign(&AppSecret::new("demo-secret")?);
    /// assert_eq!(sig.to_string(), "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sign(&self, secret: &AppSecret) -> Signature {
        sign_pairs(self.iter(), secret)
    }

    /// The canonical string with the secret replaced by [`SECRET_MASK`]: compare it with the
    /// server's to see which parameter differs when a signature is refused. Parameter values are
    /// shown as they are: for a string that may be logged, use
    /// [`canonical_string_masked`](Self::canonical_string_masked).
    ///
    /// ```
    /// use neux_proto::Params;
    /// let params = Params::new().with("appid", "a")?.with("timestamp", 1)?.with("sign", "x")?;
    /// assert_eq!(params.canonical_string_redacted(), "appid=asecret=[REDACTED]timestamp=1");
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn canonical_string_redacted(&self) -> String {
        let mut buf = Vec::new();
        write_canonical(self, SECRET_MASK.as_bytes(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The canonical string with the secret and every sensitive value (see
    /// [`is_sensitive`](Params::is_sensitive)) replaced by [`SECRET_MASK`]: safe to carry in an
    /// error or a log.
    ///
    /// ```
    /// use neux_proto::Params;
    /// let params = Params::new().with("appid", "a")?.with("code", "c0de")?.with("timestamp", 1)?;
    /// assert_eq!(
    ///     params.canonical_string_masked(),
    ///     "appid=acode=[REDACTED]secret=[REDACTED]timestamp=1"
    /// );
    /// # Ok::<(), neux_proto::ParamError>(())
    /// ```
    pub fn canonical_string_masked(&self) -> String {
        let mask = ParamValue::Str(SECRET_MASK.to_owned());
        let pairs = self
            .iter()
            .map(|(k, v)| (k, if self.is_sensitive(k) { &mask } else { v }));
        let mut buf = Vec::new();
        write_pairs(pairs, SECRET_MASK.as_bytes(), &mut buf, put_value);
        // Every piece written is UTF-8 (keys, string values, digits, the mask).
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The exact string that is hashed, **the secret in it**: for comparing byte by byte with
    /// another implementation's while debugging (the bindings' `canonical(mask_secret=False)`).
    /// Never log it; [`canonical_string_redacted`](Self::canonical_string_redacted) is the one
    /// to show.
    ///
    /// ```
    /// use neux_proto::{AppSecret, Params};
    /// let params = Params::new().with("appid", "a")?.with("timestamp", 1)?;
    /// let exact = params.canonical_string_exposing_secret(&AppSecret::new("s3")?);
    /// assert_eq!(exact, "appid=asecret=s3timestamp=1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn canonical_string_exposing_secret(&self, secret: &AppSecret) -> String {
        let mut buf = Vec::new();
        write_canonical(self, secret.expose_secret().as_bytes(), &mut buf);
        // Keys, string values, digits and the secret are all UTF-8.
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// The exact bytes that are hashed, secret included. Test and debugging use only.
    #[cfg(test)]
    pub(crate) fn canonical_bytes(&self, secret: &AppSecret) -> Vec<u8> {
        let mut buf = Vec::new();
        write_canonical(self, secret.expose_secret().as_bytes(), &mut buf);
        buf
    }
}

/// Where two canonical strings first differ, as a byte offset into their UTF-8 (the length of
/// the shorter one when it is a prefix of the other), or `None` when they are equal: what to
/// look at when a server refuses a signature and shows the string it signed.
///
/// ```
/// use neux_proto::first_difference;
/// assert_eq!(first_difference("appid=acode=b", "appid=acode=c"), Some(12));
/// assert_eq!(first_difference("appid=a", "appid=ab"), Some(7));
/// assert_eq!(first_difference("same", "same"), None);
/// ```
pub fn first_difference(ours: &str, theirs: &str) -> Option<usize> {
    let (a, b) = (ours.as_bytes(), theirs.as_bytes());
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// Signs any parameter map: the free-function form of [`Params::sign`].
///
/// ```
/// use neux_proto::{AppSecret, Params, sign};
/// let payment = Params::new().with("appid", "demo-appid")?.with("amount", 100)?.with("timestamp", 1700000000000u64)?;
/// let signature = sign(&payment, &AppSecret::new("demo-secret")?);
/// assert_eq!(signature.to_hex().len(), 64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign(params: &Params, secret: &AppSecret) -> Signature {
    params.sign(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ListItem;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    fn secret() -> AppSecret {
        AppSecret::new("demo-secret").unwrap()
    }

    /// The hasher that holds the secret's bytes wipes its buffer and state when dropped (sha2's
    /// `zeroize` feature): without the feature this does not compile.
    #[test]
    fn the_hasher_that_held_the_secret_is_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Sha256>();
    }

    #[test]
    fn long_secrets_sign_like_the_plain_digest() {
        // A stage of 256 bytes once underflowed for secrets over 256 bytes (a debug panic).
        for len in [255, 256, 257, 4096] {
            let long = AppSecret::new("s".repeat(len)).unwrap();
            let p = Params::new().with("appid", "a").unwrap();
            let expected: [u8; 32] = Sha256::digest(p.canonical_bytes(&long)).into();
            assert_eq!(*p.sign(&long).as_bytes(), expected, "secret of {len} bytes");
        }
    }

    #[test]
    fn values_around_the_block_size_hash_as_the_plain_digest() {
        // Values straddling and exceeding a block (and the old 256-byte stage) must hash exactly
        // as the plain digest.
        for len in [
            0, 1, 54, 55, 56, 63, 64, 65, 127, 128, 246, 255, 256, 257, 775,
        ] {
            let p = Params::new()
                .with("a", "x".repeat(len))
                .unwrap()
                .with("b", "y".repeat(len / 2))
                .unwrap();
            let expected: [u8; 32] = Sha256::digest(p.canonical_bytes(&secret())).into();
            assert_eq!(*p.sign(&secret()).as_bytes(), expected, "len {len}");
        }
    }

    fn key() -> impl Strategy<Value = String> {
        // Mostly ASCII keys, some with characters from the tricky ranges.
        prop_oneof![
            "[a-zA-Z][a-zA-Z0-9_]{0,8}",
            "[a-z]{0,3}[\u{E000}-\u{E0FF}\u{1F600}-\u{1F64F}\u{4E00}-\u{4E0F}]{1,2}",
            Just("sign".to_owned()),
            Just("fileData".to_owned()),
        ]
        .prop_filter("secret is refused", |k| k != "secret")
    }

    fn value() -> impl Strategy<Value = ParamValue> {
        prop_oneof![
            any::<String>().prop_map(ParamValue::Str),
            any::<i64>().prop_map(ParamValue::Int),
            any::<u64>().prop_map(ParamValue::UInt),
            any::<bool>().prop_map(ParamValue::Bool),
            Just(ParamValue::Null),
            proptest::collection::vec(any::<i64>(), 0..4)
                .prop_map(|v| ParamValue::List(v.into_iter().map(ListItem::Int).collect())),
        ]
    }

    /// An independent, allocation-happy rendering of the rule, to check the streaming one against.
    fn naive_canonical(
        entries: &std::collections::BTreeMap<String, ParamValue>,
        secret: &str,
    ) -> String {
        let render = |v: &ParamValue| match v {
            ParamValue::Str(s) => s.clone(),
            ParamValue::Int(n) => n.to_string(),
            ParamValue::UInt(n) => n.to_string(),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Null => String::new(),
            ParamValue::List(items) => items
                .iter()
                .map(|i| match i {
                    ListItem::Str(s) => s.clone(),
                    ListItem::Int(n) => n.to_string(),
                    ListItem::UInt(n) => n.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        let mut pairs: Vec<(Vec<u16>, String)> = entries
            .iter()
            .filter(|(k, _)| k.as_str() != "sign" && k.as_str() != "fileData")
            .map(|(k, v)| (k.encode_utf16().collect(), format!("{k}={}", render(v))))
            .collect();
        pairs.push((
            "secret".encode_utf16().collect(),
            format!("secret={secret}"),
        ));
        pairs.sort();
        pairs.into_iter().map(|(_, s)| s).collect()
    }

    proptest! {
        #[test]
        fn canonical_string_is_independent_of_insertion_order(
            entries in proptest::collection::btree_map(key(), value(), 0..12),
            seed in any::<u64>(),
        ) {
            let mut forward = Params::new();
            for (k, v) in &entries {
                forward.insert(k.clone(), v.clone()).unwrap();
            }
            let mut shuffled: Vec<_> = entries.iter().collect();
            // A deterministic shuffle driven by the seed.
            let n = shuffled.len().max(1) as u64;
            shuffled.sort_by_key(|(k, _)| (seed ^ (k.len() as u64 * 0x9E37_79B9)) % n);
            shuffled.reverse();
            let mut backward = Params::new();
            for (k, v) in shuffled {
                backward.insert(k.clone(), v.clone()).unwrap();
            }
            prop_assert_eq!(forward.canonical_bytes(&secret()), backward.canonical_bytes(&secret()));
            prop_assert_eq!(forward.sign(&secret()), backward.sign(&secret()));
        }

        #[test]
        fn canonical_string_matches_a_naive_reference_and_digest_matches(
            entries in proptest::collection::btree_map(key(), value(), 0..12),
        ) {
            let mut p = Params::new();
            for (k, v) in &entries {
                p.insert(k.clone(), v.clone()).unwrap();
            }
            p.insert("sign", "deadbeef").unwrap();
            let bytes = p.canonical_bytes(&secret());
            prop_assert_eq!(String::from_utf8(bytes.clone()).unwrap(), naive_canonical(&entries, "demo-secret"));
            let expected: [u8; 32] = Sha256::digest(&bytes).into();
            prop_assert_eq!(*p.sign(&secret()).as_bytes(), expected);
        }
    }
}
