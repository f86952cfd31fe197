//! The canonical string the platform signs: `key=value` pairs in key order, no separator, the
//! secret in its sorted place, `sign` and `fileData` left out; written piece by piece into a
//! sink (the hasher when signing, a buffer when showing it).

use sha2::{Digest, Sha256};

use crate::params::{ListItem, ParamValue, Params, SECRET_KEY, cmp_keys};
use crate::secret::AppSecret;
use crate::signature::Signature;
use crate::value::decimal;

/// Keys that are sent but never signed (case-sensitive: `Sign` is signed).
pub const UNSIGNED_KEYS: [&str; 2] = ["sign", "fileData"];

/// Where the canonical bytes go: into the hasher (signing) or into a buffer (showing it).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);

    /// One byte (`=`, `,`).
    #[inline]
    fn put_byte(&mut self, byte: u8) {
        self.put(&[byte]);
    }
}

impl Sink for Sha256 {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Writes an integer in plain decimal without allocating.
fn put_u64(sink: &mut impl Sink, n: u64, negative: bool) {
    if negative {
        sink.put(b"-");
    }
    sink.put(decimal(n, &mut [0u8; 20]));
}

pub(crate) fn put_i64(sink: &mut impl Sink, n: i64) {
    put_u64(sink, n.unsigned_abs(), n < 0);
}

fn put_item(sink: &mut impl Sink, item: &ListItem) {
    match item {
        ListItem::Str(s) => sink.put(s.as_bytes()),
        ListItem::Int(n) => put_i64(sink, *n),
        ListItem::UInt(n) => put_u64(sink, *n, false),
    }
}

pub(crate) fn put_value(sink: &mut impl Sink, value: &ParamValue) {
    match value {
        ParamValue::Str(s) => sink.put(s.as_bytes()),
        ParamValue::Int(n) => put_i64(sink, *n),
        ParamValue::UInt(n) => put_u64(sink, *n, false),
        ParamValue::Bool(b) => sink.put(if *b { b"true" } else { b"false" }),
        ParamValue::Null => {}
        ParamValue::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sink.put_byte(b',');
                }
                put_item(sink, item);
            }
        }
    }
}

/// A value the signer can render: a map's [`ParamValue`], or bytes already in their text form
/// (the token request's fixed fields).
pub(crate) trait Piece: Copy {
    /// Writes the value's text form.
    fn put(self, sink: &mut impl Sink);
}

impl Piece for &ParamValue {
    #[inline]
    fn put(self, sink: &mut impl Sink) {
        put_value(sink, self);
    }
}

impl Piece for &[u8] {
    #[inline]
    fn put(self, sink: &mut impl Sink) {
        sink.put(self);
    }
}

/// The one signer: the canonical string of already-sorted `pairs`, `secret` in its sorted place,
/// hashed as it is written, piece by piece. sha2 buffers the pieces into its blocks and, with
/// its `zeroize` feature, wipes its buffer and state (which held the secret) when it is
/// dropped. (A hand-written block feeder measured no faster: docs/benchmarks.md.)
pub(crate) fn sign_pairs<'a, V: Piece>(
    pairs: impl Iterator<Item = (&'a str, V)>,
    secret: &AppSecret,
) -> Signature {
    let mut hasher = Sha256::new();
    write_pairs(
        pairs,
        secret.expose_secret().as_bytes(),
        &mut hasher,
        |s, v| v.put(s),
    );
    Signature(hasher.finalize().into())
}

/// Streams the canonical string of already-sorted `pairs` into `sink`, with `secret` in its
/// sorted place: one pass, no allocation.
pub(crate) fn write_pairs<'a, V, S: Sink>(
    pairs: impl Iterator<Item = (&'a str, V)>,
    secret: &[u8],
    sink: &mut S,
    mut put: impl FnMut(&mut S, V),
) {
    let mut secret_written = false;
    for (key, value) in pairs {
        if is_unsigned(key) {
            continue;
        }
        if !secret_written && after_secret(key) {
            put_secret(sink, secret);
            secret_written = true;
        }
        sink.put(key.as_bytes());
        sink.put_byte(b'=');
        put(sink, value);
    }
    if !secret_written {
        put_secret(sink, secret);
    }
}

/// The first byte of each of [`UNSIGNED_KEYS`]: most keys are told apart by it alone.
/// (A key added there without its byte here fails to compile: the lengths differ.)
const UNSIGNED_FIRST: [u8; UNSIGNED_KEYS.len()] = [
    UNSIGNED_KEYS[0].as_bytes()[0],
    UNSIGNED_KEYS[1].as_bytes()[0],
];

/// `key` is in [`UNSIGNED_KEYS`].
#[inline]
fn is_unsigned(key: &str) -> bool {
    key.as_bytes()
        .first()
        .is_some_and(|b| UNSIGNED_FIRST.contains(b))
        && UNSIGNED_KEYS.contains(&key)
}

/// `key` sorts after `secret`. Against an ASCII key, [`cmp_keys`]'s UTF-16 order is byte order
/// (they differ only where two non-ASCII characters meet), so the first byte decides unless it
/// is the secret key's own.
#[inline]
fn after_secret(key: &str) -> bool {
    const S: u8 = SECRET_KEY.as_bytes()[0];
    match key.as_bytes().first() {
        Some(&b) if b != S => b > S,
        _ => cmp_keys(key, SECRET_KEY).is_gt(),
    }
}

pub(crate) fn write_canonical(params: &Params, secret: &[u8], sink: &mut impl Sink) {
    write_pairs(params.iter(), secret, sink, put_value);
}

fn put_secret(sink: &mut impl Sink, secret: &[u8]) {
    sink.put(b"secret=");
    sink.put(secret);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn secret() -> AppSecret {
        AppSecret::new("demo-secret").unwrap()
    }

    #[test]
    fn decimal_matches_std_formatting() {
        let mut buf = [0u8; 20];
        let mut n = 1u64;
        let mut cases = vec![
            0,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            u64::MAX,
            u64::MAX - 1,
            1_700_000_000_000,
        ];
        while n < u64::MAX / 3 {
            cases.extend([n - 1, n, n + 1]);
            n *= 3;
        }
        for c in cases {
            assert_eq!(decimal(c, &mut buf), c.to_string().as_bytes(), "{c}");
        }
    }

    #[test]
    fn integers_render_exactly() {
        let p = Params::new()
            .with("a", i64::MIN)
            .unwrap()
            .with("b", u64::MAX)
            .unwrap()
            .with("c", 0)
            .unwrap()
            .with("d", vec![-1i64, 10])
            .unwrap()
            .with("e", 9_007_199_254_740_993u64) // 2^53 + 1: a double would round it
            .unwrap();
        assert_eq!(
            p.canonical_string_redacted(),
            "a=-9223372036854775808b=18446744073709551615c=0d=-1,10e=9007199254740993secret=[REDACTED]"
        );
    }

    #[test]
    fn booleans_nulls_and_lists_render_as_java_does() {
        let p = Params::new()
            .with("t", true)
            .unwrap()
            .with("f", false)
            .unwrap()
            .with("n", None::<i64>)
            .unwrap()
            .with("l", vec!["x", "y z"])
            .unwrap()
            .with("empty", Vec::<String>::new())
            .unwrap();
        assert_eq!(
            p.canonical_string_redacted(),
            "empty=f=falsel=x,y zn=secret=[REDACTED]t=true"
        );
    }

    #[test]
    fn secret_takes_its_sorted_place_not_the_end() {
        let p = Params::new()
            .with("sa", 1)
            .unwrap()
            .with("seb", 2)
            .unwrap()
            .with("sf", 3)
            .unwrap();
        // `seb` < `secret` (b < c) < `sf`.
        assert_eq!(
            p.canonical_string_redacted(),
            "sa=1seb=2secret=[REDACTED]sf=3"
        );
        // `secretX` sorts after `secret` (prefix first).
        let p = Params::new().with("secretX", 1).unwrap();
        assert_eq!(p.canonical_string_redacted(), "secret=[REDACTED]secretX=1");
        assert_eq!(
            Params::new().canonical_string_redacted(),
            "secret=[REDACTED]"
        );
    }

    #[test]
    fn sign_and_file_data_are_unsigned_but_case_sensitive() {
        let base = Params::new().with("a", "1").unwrap();
        let with_unsigned = base
            .clone()
            .with("sign", "zz")
            .unwrap()
            .with("fileData", "blob")
            .unwrap();
        assert_eq!(base.sign(&secret()), with_unsigned.sign(&secret()));
        let with_capital = base.clone().with("Sign", "zz").unwrap();
        assert_ne!(base.sign(&secret()), with_capital.sign(&secret()));
        assert!(
            with_capital
                .canonical_string_redacted()
                .starts_with("Sign=zz")
        );
    }

    #[test]
    fn parameters_containing_the_secret_text_are_ordinary() {
        let p = Params::new()
            .with("MMfuzz-secretMM", "demo-secret")
            .unwrap()
            .with("v", "secret=demo-secret")
            .unwrap();
        assert_eq!(
            p.canonical_string_redacted(),
            "MMfuzz-secretMM=demo-secretsecret=[REDACTED]v=secret=demo-secret"
        );
        let expected: [u8; 32] =
            Sha256::digest(b"MMfuzz-secretMM=demo-secretsecret=demo-secretv=secret=demo-secret")
                .into();
        assert_eq!(*p.sign(&secret()).as_bytes(), expected);
    }

    #[test]
    fn strings_are_not_trimmed_or_encoded() {
        let p = Params::new().with("v", " a&b=c+%20 ").unwrap();
        assert_eq!(
            p.canonical_string_redacted(),
            "secret=[REDACTED]v= a&b=c+%20 "
        );
    }
}
