//! A request signature: SHA-256, shown as 64 lowercase hex digits, compared in constant time.

use std::fmt;

use crate::secret::constant_time_eq;

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
pub struct Signature(pub(crate) [u8; 32]);

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
        // One allocation: `hex::encode` collects a char at a time, which was a sixth of a
        // 5-key signature through the Python binding.
        String::from_utf8_lossy(&self.hex_digits()).into_owned()
    }

    /// The 64 lowercase hex digits as ASCII bytes, written without allocating.
    fn hex_digits(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        out
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
        // Hex digits are ASCII: the lossy view borrows, it never replaces anything.
        f.write_str(&String::from_utf8_lossy(&self.hex_digits()))
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written hex digits are the hex crate's, in both forms.
        #[test]
        fn hex_digits_are_the_hex_crates(bytes in proptest::prelude::any::<[u8; 32]>()) {
            let sig = Signature(bytes);
            proptest::prop_assert_eq!(sig.to_hex(), hex::encode(bytes));
            proptest::prop_assert_eq!(sig.to_string(), hex::encode(bytes));
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
    fn signature_parses_and_displays() {
        let hex = "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242";
        let sig: Signature = hex.parse().unwrap();
        assert_eq!(sig.to_string(), hex);
        assert_eq!(sig.to_hex(), hex);
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
}
