//! Identifiers, and the secret-bearing strings that must never be printed.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

/// A value given to one of the identifier or secret constructors was unusable.
///
/// The message names what was wrong and where, never the value itself (it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// The value was empty.
    #[error("{what} is empty")]
    Empty {
        /// Which kind of value (`"client id"`, `"app secret"`, ...).
        what: &'static str,
    },
    /// The value holds a control character (often a trailing newline read from a file).
    #[error(
        "{what} contains a control character at byte {at} (a trailing newline from a file or variable?)"
    )]
    ControlCharacter {
        /// Which kind of value.
        what: &'static str,
        /// Byte offset of the first control character.
        at: usize,
    },
    /// The value holds white space where the platform never puts any.
    #[error("{what} contains white space at byte {at}")]
    Whitespace {
        /// Which kind of value.
        what: &'static str,
        /// Byte offset of the first white space.
        at: usize,
    },
}

fn check(what: &'static str, s: &str, allow_space: bool) -> Result<(), InvalidInput> {
    if s.is_empty() {
        return Err(InvalidInput::Empty { what });
    }
    for (at, c) in s.char_indices() {
        if c.is_control() {
            return Err(InvalidInput::ControlCharacter { what, at });
        }
        if !allow_space && c.is_whitespace() {
            return Err(InvalidInput::Whitespace { what, at });
        }
    }
    Ok(())
}

/// Equality that takes the same time wherever the first difference is, so comparing a guess
/// against a secret leaks nothing through timing (only the lengths).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        ///
        /// `Debug` prints only `[REDACTED]`; there is no `Display` and no `Serialize`. The text is
        /// read through [`expose_secret`](Self::expose_secret), compared in constant time, and
        /// wiped from memory on drop.
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value, refusing an empty one or one with control characters.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                match check($what, &value, true) {
                    Ok(()) => Ok(Self(value)),
                    Err(e) => {
                        let mut value = value;
                        value.zeroize();
                        Err(e)
                    }
                }
            }

            /// The secret text. Every call site is a place where the secret leaves its type:
            /// keep them few and never log the result.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// A short, stable, non-reversible tag (first 8 hex digits of its SHA-256) for telling
            /// values apart in logs without printing them.
            pub fn fingerprint(&self) -> String {
                let digest = Sha256::digest(self.0.as_bytes());
                hex::encode(&digest[..4])
            }

            /// Length in bytes; safe to show.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Always `false`: construction refuses empty values. Present for API symmetry.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
            }
        }
        impl Eq for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                self.0.zeroize();
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

secret_string!(
    /// The app secret the platform issued with the client id. It is only ever hashed into a
    /// signature: never sent, never logged.
    ///
    /// ```
    /// use neux_proto::AppSecret;
    /// let secret = AppSecret::new("demo-secret")?;
    /// assert_eq!(format!("{secret:?}"), "AppSecret([REDACTED])");
    /// assert!(AppSecret::new("oops\n").is_err());
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    AppSecret,
    "app secret"
);

secret_string!(
    /// The one-time `code` a mini app got from `wx.login()`. Single-use and short-lived: whoever
    /// holds it can log in as the user, so it is treated as a secret.
    ///
    /// ```
    /// use neux_proto::AuthCode;
    /// let code = AuthCode::new("9d77061e-47dc-498d-8c72-ef44a53cc8c9")?;
    /// assert_eq!(format!("{code:?}"), "AuthCode([REDACTED])");
    /// assert_eq!(code.fingerprint().len(), 8);
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    AuthCode,
    "authorization code"
);

secret_string!(
    /// The access token (a server-signed JWT) that reads the user's profile.
    ///
    /// [`claims_unverified`](Self::claims_unverified) decodes its payload for information only.
    ///
    /// ```
    /// use neux_proto::AccessToken;
    /// let token = AccessToken::new("eyJ0eXAiOiJKV1QifQ.e30.sig")?;
    /// assert_eq!(format!("{token:?}"), "AccessToken([REDACTED])");
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    AccessToken,
    "access token"
);

macro_rules! public_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value, refusing an empty one or one with white space or control characters.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                check($what, &value, false)?;
                Ok(Self(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

public_id!(
    /// The mini app's id (`clientId` in the JSON dialect, `appid` in the form dialect). Public.
    ///
    /// ```
    /// use neux_proto::ClientId;
    /// let id: ClientId = "tmfxzpo3g02unycoyl".parse()?;
    /// assert_eq!(id.to_string(), "tmfxzpo3g02unycoyl");
    /// assert!(ClientId::new("has space").is_err());
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    ClientId,
    "client id"
);

public_id!(
    /// The user's id within one mini app: the key a backend stores.
    ///
    /// ```
    /// use neux_proto::OpenId;
    /// let id = OpenId::new("2212d4f2f0a0f5529f2b5eb83246879c")?;
    /// assert_eq!(id.as_str().len(), 32);
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    OpenId,
    "openId"
);

public_id!(
    /// The same user's id across all of one vendor's mini apps.
    ///
    /// ```
    /// use neux_proto::UnionId;
    /// let id = UnionId::new("dbc9f53ccc51c2e611b7d39e620bc315")?;
    /// assert_eq!(id.to_string(), "dbc9f53ccc51c2e611b7d39e620bc315");
    /// # Ok::<(), neux_proto::InvalidInput>(())
    /// ```
    UnionId,
    "unionId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = AppSecret::new("hunter2-secret").unwrap();
        let c = AuthCode::new("one-time-code-xyz").unwrap();
        let t = AccessToken::new("eyJhbGciOi.payload.sig").unwrap();
        let all = format!("{s:?} {c:?} {t:?} {:#?}", (&s, &c, &t));
        for needle in ["hunter2", "one-time-code", "eyJhbGciOi", "payload"] {
            assert!(!all.contains(needle), "{needle} leaked in {all}");
        }
        assert!(all.contains("AppSecret([REDACTED])"));
        assert!(all.contains("AuthCode([REDACTED])"));
        assert!(all.contains("AccessToken([REDACTED])"));
    }

    #[test]
    fn constructors_refuse_bad_values_without_echoing_them() {
        let err = AppSecret::new("topsecret\n").unwrap_err();
        assert_eq!(
            err,
            InvalidInput::ControlCharacter {
                what: "app secret",
                at: 9
            }
        );
        assert!(!err.to_string().contains("topsecret"));
        assert_eq!(
            AuthCode::new("").unwrap_err(),
            InvalidInput::Empty {
                what: "authorization code"
            }
        );
        assert_eq!(
            ClientId::new("ab cd").unwrap_err(),
            InvalidInput::Whitespace {
                what: "client id",
                at: 2
            }
        );
        // Secrets may contain spaces; identifiers may not.
        assert!(AppSecret::new("with space").is_ok());
    }

    #[test]
    fn secret_equality_is_by_value() {
        assert_eq!(AuthCode::new("abc").unwrap(), AuthCode::new("abc").unwrap());
        assert_ne!(AuthCode::new("abc").unwrap(), AuthCode::new("abd").unwrap());
        assert_ne!(
            AuthCode::new("abc").unwrap(),
            AuthCode::new("abcd").unwrap()
        );
    }

    #[test]
    fn fingerprint_is_stable_and_not_the_value() {
        let a = AuthCode::new("abc123").unwrap();
        // SHA-256("abc123") starts with 6ca13d52.
        assert_eq!(a.fingerprint(), "6ca13d52");
        assert_eq!(
            a.fingerprint(),
            AuthCode::new("abc123").unwrap().fingerprint()
        );
    }

    #[test]
    fn ids_round_trip_through_serde() {
        let id: OpenId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abc\"");
        assert!(serde_json::from_str::<OpenId>("\"\"").is_err());
        let tok: AccessToken = serde_json::from_str("\"t.o.k\"").unwrap();
        assert_eq!(tok.expose_secret(), "t.o.k");
    }
}
