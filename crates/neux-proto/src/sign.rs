//! The platform's signing rule: SHA-256 over `key=value` pairs in key order, secret included.

use std::fmt;

use sha2::block_api::compress256;
use zeroize::Zeroize;

use crate::params::{ListItem, ParamValue, Params, SECRET_KEY, cmp_keys};
use crate::secret::{AppSecret, constant_time_eq};
use crate::value::decimal;

/// Keys that are sent but never signed (case-sensitive: `Sign` is signed).
pub const UNSIGNED_KEYS: [&str; 2] = ["sign", "fileData"];

/// What stands for the secret in [`Params::canonical_string_redacted`].
pub const SECRET_MASK: &str = "[REDACTED]";

/// A request signature: the SHA-256 digest, shown as 64 lowercase hex digits.
///
/// Not a secret (it is sent with every request), so it prints in full. Equality (`==`) takes the
/// same time wherever the first difference is, so a server that checks signatures with it
/// leaks nothing through timing.
///
/// ```
/// use neux_proto::Signature;
/// let sig: Signature = "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242".parse()?;
/// assert_eq!(sig.to_string().len(), 64);
/// # Ok::<(), neux_proto::SignatureParseError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Signature([u8; 32]);

// Equal signatures have equal bytes, so hashing the bytes agrees with the constant-time `==`.
impl std::hash::Hash for Signature {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for Signature {}

/// Text that is not 64 hex digits was given as a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a signature is 64 hex digits; got {len} characters{}", if *.hex { "" } else { " that are not all hex" })]
pub struct SignatureParseError {
    len: usize,
    hex: bool,
}

impl Signature {
    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-digit lowercase hex form that goes on the wire.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares against a signature received from elsewhere in constant time (for servers that
    /// verify signatures); the same as `==`.
    pub fn verify(&self, received: &Signature) -> bool {
        self == received
    }

    /// The first `n` hex digits, for shortened display (`n` is capped at 64).
    pub fn short(&self, n: usize) -> String {
        let mut s = self.to_hex();
        s.truncate(n.min(64));
        s
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the digest's length.
        hex::encode_to_slice(self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl std::str::FromStr for Signature {
    type Err = SignatureParseError;
    /// Accepts upper or lower case hex (a server comparing signatures should not care).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| SignatureParseError {
            len: s.chars().count(),
            hex: s.bytes().all(|b| b.is_ascii_hexdigit()),
        })?;
        Ok(Self(out))
    }
}

/// Where the canonical bytes go: into the hasher (signing) or into a buffer (debugging).
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);

    /// One byte (`=`, `,`): no copy call for it.
    #[inline]
    fn put_byte(&mut self, byte: u8) {
        self.put(&[byte]);
    }
}

/// SHA-256 fed piece by piece straight into its 64-byte blocks. The canonical string is many
/// small pieces (`key`, `=`, value); each is copied into the block being filled, a full block is
/// compressed at once, and the whole blocks of a long value are compressed where they lie. One
/// pass, no staging buffer, no heap, the same for every length.
/// Measured in docs/benchmarks.md.
struct Blocks {
    state: [u32; 8],
    block: [u8; 64],
    /// Bytes waiting in `block` (always < 64).
    fill: usize,
    /// Whole blocks compressed so far.
    blocks: u64,
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
#[rustfmt::skip]
const IV: [u32; 8] = [
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
];

impl Blocks {
    fn new() -> Self {
        Self {
            state: IV,
            block: [0; 64],
            fill: 0,
            blocks: 0,
        }
    }

    /// The digest: the padding of FIPS 180-4, 5.1.1 (a 1 bit, zeros, the length in bits).
    fn finish(&mut self) -> Signature {
        let bits = (self.blocks * 64 + self.fill as u64) * 8;
        self.block[self.fill] = 0x80;
        self.block[self.fill + 1..].fill(0);
        if self.fill >= 56 {
            compress256(&mut self.state, std::slice::from_ref(&self.block));
            self.block = [0; 64];
        }
        self.block[56..].copy_from_slice(&bits.to_be_bytes());
        compress256(&mut self.state, std::slice::from_ref(&self.block));
        let mut out = [0u8; 32];
        for (word, bytes) in self.state.iter().zip(out.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        Signature(out)
    }

    /// A piece that fills the block: complete it, compress, and go on (out of line: the
    /// common piece fits).
    #[cold]
    #[inline(never)]
    fn overflow(&mut self, mut bytes: &[u8]) {
        let room = 64 - self.fill;
        self.block[self.fill..].copy_from_slice(&bytes[..room]);
        compress256(&mut self.state, std::slice::from_ref(&self.block));
        self.blocks += 1;
        bytes = &bytes[room..];
        let (whole, rest) = bytes.as_chunks::<64>();
        if !whole.is_empty() {
            compress256(&mut self.state, whole);
            self.blocks += whole.len() as u64;
        }
        self.block[..rest.len()].copy_from_slice(rest);
        self.fill = rest.len();
    }
}

// The block holds the secret's bytes (the canonical string includes it): wipe it, as
// `AppSecret` wipes its own copy, rather than leave it on the stack.
impl Drop for Blocks {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl Blocks {
    fn wipe(&mut self) {
        self.block.zeroize();
    }
}

impl Sink for Blocks {
    #[inline]
    fn put_byte(&mut self, byte: u8) {
        self.block[self.fill] = byte;
        self.fill += 1;
        if self.fill == 64 {
            compress256(&mut self.state, std::slice::from_ref(&self.block));
            self.blocks += 1;
            self.fill = 0;
        }
    }

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.fill + bytes.len();
        if end < 64 {
            self.block[self.fill..end].copy_from_slice(bytes);
            self.fill = end;
        } else {
            self.overflow(bytes);
        }
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

fn put_i64(sink: &mut impl Sink, n: i64) {
    put_u64(sink, n.unsigned_abs(), n < 0);
}

fn put_item(sink: &mut impl Sink, item: &ListItem) {
    match item {
        ListItem::Str(s) => sink.put(s.as_bytes()),
        ListItem::Int(n) => put_i64(sink, *n),
        ListItem::UInt(n) => put_u64(sink, *n, false),
    }
}

fn put_value(sink: &mut impl Sink, value: &ParamValue) {
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
/// hashed as it is written.
pub(crate) fn sign_pairs<'a, V: Piece>(
    pairs: impl Iterator<Item = (&'a str, V)>,
    secret: &AppSecret,
) -> Signature {
    let mut sink = Blocks::new();
    write_pairs(
        pairs,
        secret.expose_secret().as_bytes(),
        &mut sink,
        |s, v| v.put(s),
    );
    sink.finish()
}

/// Streams the canonical string of already-sorted `pairs` into `sink`, with `secret` in its
/// sorted place: one pass, no allocation.
fn write_pairs<'a, V, S: Sink>(
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

fn write_canonical(params: &Params, secret: &[u8], sink: &mut impl Sink) {
    write_pairs(params.iter(), secret, sink, put_value);
}

fn put_secret(sink: &mut impl Sink, secret: &[u8]) {
    sink.put(b"secret=");
    sink.put(secret);
}

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

    /// The exact bytes that are hashed, secret included. Test and debugging use only.
    #[cfg(test)]
    pub(crate) fn canonical_bytes(&self, secret: &AppSecret) -> Vec<u8> {
        let mut buf = Vec::new();
        write_canonical(self, secret.expose_secret().as_bytes(), &mut buf);
        buf
    }
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
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    proptest! {
        /// The block sink is SHA-256: any bytes, cut into any pieces (single bytes included),
        /// give sha2's digest of the whole. Lengths cover the padding's two cases (the length
        /// fits the last block, or needs one more) at every offset.
        #[test]
        fn blocks_hash_any_pieces_as_sha2_does(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            single in any::<bool>(),
        ) {
            let mut sink = Blocks::new();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut start = 0;
            for end in cuts.into_iter().chain([bytes.len()]) {
                let piece = &bytes[start..end];
                if single && piece.len() == 1 {
                    sink.put_byte(piece[0]);
                } else {
                    sink.put(piece);
                }
                start = end;
            }
            let expected: [u8; 32] = Sha256::digest(&bytes).into();
            prop_assert_eq!(*sink.finish().as_bytes(), expected);
        }
    }

    #[test]
    fn the_block_holding_the_secret_is_wiped() {
        let mut sink = Blocks::new();
        sink.put(b"appid=asecret=demo-secret");
        assert!(sink.block.iter().any(|&b| b != 0));
        sink.wipe();
        assert!(sink.block.iter().all(|&b| b == 0));
    }

    #[test]
    fn blocks_hash_every_length_up_to_three_blocks() {
        for len in 0..=200 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut sink = Blocks::new();
            sink.put(&bytes);
            let expected: [u8; 32] = Sha256::digest(&bytes).into();
            assert_eq!(*sink.finish().as_bytes(), expected, "{len} bytes");
        }
    }

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
    fn signature_equality_is_byte_equality() {
        let a: Signature = "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242"
            .parse()
            .unwrap();
        let mut flipped = *a.as_bytes();
        for i in [0, 15, 31] {
            flipped[i] ^= 1;
            assert_ne!(a, Signature(flipped));
            assert!(!a.verify(&Signature(flipped)));
            flipped[i] ^= 1;
        }
        assert_eq!(a, Signature(flipped));
        assert!(a.verify(&Signature(flipped)));
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

    /// From the fuzzer: parameters whose text equals the secret's are signed as any other text
    /// (the secret still appears once, in its place).
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

    #[test]
    fn signature_parses_and_displays() {
        let hex = "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242";
        let sig: Signature = hex.parse().unwrap();
        assert_eq!(sig.to_string(), hex);
        assert_eq!(hex.to_uppercase().parse::<Signature>().unwrap(), sig);
        assert_eq!(format!("{sig:?}"), format!("Signature({hex})"));
        assert_eq!(sig.short(8), "964bd409");
        assert!(sig.verify(&sig));
        let err = "xyz".parse::<Signature>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "a signature is 64 hex digits; got 3 characters that are not all hex"
        );
        assert!("abcd".parse::<Signature>().is_err());
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
