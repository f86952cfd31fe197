//! OAuth scopes: what the user is asked to share.

use std::fmt;
use std::str::FromStr;

/// One scope name. The platform's client docs name these; others are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScopeName {
    /// `user.info`: openId, nickName, avatar, email, unionId.
    UserInfo,
    /// `user.phone`: adds `country` and `phone`.
    UserPhone,
    /// `user.email`.
    UserEmail,
    /// `user.qdi`.
    UserQdi,
    /// `user.qid`.
    UserQid,
    /// `user.epassport`.
    UserEpassport,
    /// `user.mrzpassport`.
    UserMrzpassport,
    /// A name this version does not know, kept verbatim.
    Other(String),
}

impl ScopeName {
    /// The name as the platform spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::UserInfo => "user.info",
            Self::UserPhone => "user.phone",
            Self::UserEmail => "user.email",
            Self::UserQdi => "user.qdi",
            Self::UserQid => "user.qid",
            Self::UserEpassport => "user.epassport",
            Self::UserMrzpassport => "user.mrzpassport",
            Self::Other(s) => s,
        }
    }

    fn parse(name: &str) -> Result<Self, ScopeError> {
        Ok(match name {
            "user.info" => Self::UserInfo,
            "user.phone" => Self::UserPhone,
            "user.email" => Self::UserEmail,
            "user.qdi" => Self::UserQdi,
            "user.qid" => Self::UserQid,
            "user.epassport" => Self::UserEpassport,
            "user.mrzpassport" => Self::UserMrzpassport,
            "" => return Err(ScopeError::EmptyName),
            other => {
                if other
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == ',')
                {
                    return Err(ScopeError::InvalidName(other.to_owned()));
                }
                Self::Other(other.to_owned())
            }
        })
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An empty scope, or an empty name between commas.
    #[error("a scope name is empty (check for a stray comma)")]
    EmptyName,
    /// A name with white space, a comma or a control character inside.
    #[error("scope name {0:?} contains white space or a control character")]
    InvalidName(String),
}

/// A non-empty set of scope names, sent comma-separated (`user.info,user.phone`).
///
/// Order is kept as given (it is what gets signed and sent) and duplicates are dropped. The
/// default is `user.info`.
///
/// ```
/// use neux_proto::{Scope, ScopeName};
/// let scope: Scope = "user.info, user.phone".parse()?;
/// assert_eq!(scope.to_string(), "user.info,user.phone");
/// assert!(scope.contains(&ScopeName::UserPhone));
/// assert_eq!(Scope::default().to_string(), "user.info");
/// let custom: Scope = "user.info,user.future".parse()?;
/// assert!(custom.contains(&ScopeName::Other("user.future".into())));
/// # Ok::<(), neux_proto::ScopeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    names: Vec<ScopeName>,
    // The wire form, built once: it is signed and sent with every exchange.
    text: String,
}

impl Scope {
    /// `user.info`.
    pub fn user_info() -> Self {
        Self::from_names([ScopeName::UserInfo])
    }

    /// `user.info,user.phone`.
    pub fn user_info_and_phone() -> Self {
        Self::from_names([ScopeName::UserInfo, ScopeName::UserPhone])
    }

    /// Builds a scope from names; an empty list gives the default, `user.info`.
    pub fn from_names(names: impl IntoIterator<Item = ScopeName>) -> Self {
        let mut unique: Vec<ScopeName> = Vec::new();
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        if unique.is_empty() {
            unique.push(ScopeName::UserInfo);
        }
        let text = unique
            .iter()
            .map(ScopeName::as_str)
            .collect::<Vec<_>>()
            .join(",");
        Self {
            names: unique,
            text,
        }
    }

    /// Whether `name` is part of this scope.
    pub fn contains(&self, name: &ScopeName) -> bool {
        self.names.contains(name)
    }

    /// Whether every name of `other` is part of this scope.
    pub fn includes(&self, other: &Scope) -> bool {
        other.names.iter().all(|n| self.contains(n))
    }

    /// The names, in order.
    pub fn names(&self) -> &[ScopeName] {
        &self.names
    }

    /// The wire form: names joined with `,`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Default for Scope {
    fn default() -> Self {
        Self::user_info()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    /// Parses `a,b,c`; white space around names is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let names = s
            .split(',')
            .map(|n| ScopeName::parse(n.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_names(names))
    }
}

impl From<ScopeName> for Scope {
    fn from(name: ScopeName) -> Self {
        Self::from_names([name])
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_unknown_names_and_dedups() {
        let s: Scope = "user.phone,user.info,user.phone,user.x".parse().unwrap();
        assert_eq!(
            s.names(),
            &[
                ScopeName::UserPhone,
                ScopeName::UserInfo,
                ScopeName::Other("user.x".into())
            ]
        );
        assert_eq!(s.as_str(), "user.phone,user.info,user.x");
        for known in [
            "user.info",
            "user.phone",
            "user.email",
            "user.qdi",
            "user.qid",
            "user.epassport",
            "user.mrzpassport",
        ] {
            let parsed: Scope = known.parse().unwrap();
            assert!(!matches!(parsed.names()[0], ScopeName::Other(_)), "{known}");
            assert_eq!(parsed.as_str(), known);
        }
    }

    #[test]
    fn refuses_empty_and_odd_names() {
        assert_eq!("".parse::<Scope>().unwrap_err(), ScopeError::EmptyName);
        assert_eq!(
            "user.info,".parse::<Scope>().unwrap_err(),
            ScopeError::EmptyName
        );
        assert!(matches!(
            "user info".parse::<Scope>().unwrap_err(),
            ScopeError::InvalidName(_)
        ));
    }

    #[test]
    fn includes_is_a_subset_test() {
        let both = Scope::user_info_and_phone();
        assert!(both.includes(&Scope::user_info()));
        assert!(!Scope::user_info().includes(&both));
    }
}
