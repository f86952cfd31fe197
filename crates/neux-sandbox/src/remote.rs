//! Remote mode: which `Host` names the sandbox answers to, and the control token.
//!
//! On loopback, the `Host` check is the defence against DNS rebinding: a page whose own name
//! resolves to 127.0.0.1 still sends its own name. `--allow-remote` must answer other names (a
//! container's published port, a team's dev box), so there the sandbox answers the names the
//! operator listed, and the control API wants a token that no web page can know.

use axum::http::{HeaderMap, header};

use crate::error::SandboxError;

/// The secret a program (or the inspector) shows the control API in remote mode, as
/// `Authorization: Bearer TOKEN`. `Debug` shows `[REDACTED]`; the value is read through
/// [`expose`](Self::expose) only.
///
/// ```
/// use neux_sandbox::ControlToken;
///
/// let token = ControlToken::new("a-token-of-at-least-16-chars")?;
/// assert_eq!(format!("{token:?}"), "ControlToken([REDACTED])");
/// assert!(ControlToken::new("short").is_err());
/// let generated = ControlToken::generate()?;
/// assert_eq!(generated.expose().len(), 32);
/// # Ok::<(), neux_sandbox::SandboxError>(())
/// ```
#[derive(Clone)]
pub struct ControlToken(String);

/// The shortest control token accepted: 16 characters (a generated one has 32 hex digits, 128
/// bits).
pub const MIN_CONTROL_TOKEN_LEN: usize = 16;

impl ControlToken {
    /// A token chosen by the operator: 16 to 256 characters, printable ASCII without spaces (it
    /// travels in a header and in a URL fragment).
    pub fn new(token: impl Into<String>) -> Result<Self, SandboxError> {
        let token = token.into();
        let printable = token.bytes().all(|b| b.is_ascii_graphic());
        if (MIN_CONTROL_TOKEN_LEN..=256).contains(&token.len()) && printable {
            Ok(Self(token))
        } else {
            // The text is never echoed: it may be a real secret pasted in the wrong place.
            Err(SandboxError::BadControlToken(format!(
                "a control token is {MIN_CONTROL_TOKEN_LEN} to 256 printable ASCII characters without spaces; this one is {} bytes{}",
                token.len(),
                if printable {
                    ""
                } else {
                    " with a space or a non-ASCII character"
                }
            )))
        }
    }

    /// 128 bits from the OS random generator, as 32 hex digits.
    pub fn generate() -> Result<Self, SandboxError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| SandboxError::NoRandomness(e.to_string()))?;
        Ok(Self(hex::encode(bytes)))
    }

    /// The token's text, to hand to the operator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `headers` carry this token as `Authorization: Bearer TOKEN`, compared in
    /// constant time.
    pub(crate) fn presented_in(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
        else {
            return false;
        };
        subtle::ConstantTimeEq::ct_eq(given, self.0.as_bytes()).into()
    }
}

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlToken([REDACTED])")
    }
}

/// A `Host` header's name and port, read as a browser writes one: `[IPv6]` then nothing or
/// `:port`, or a name (or IPv4 address) then nothing or `:port`. Anything else (`[::1]evil.com`,
/// two colons, an empty name, a port that is not a number) is `None`: refused, never guessed at.
pub(crate) fn parse_host(host: &str) -> Option<(&str, Option<u16>)> {
    let port = |p: &str| -> Option<u16> {
        (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    if let Some(v6) = host.strip_prefix('[') {
        let (addr, rest) = v6.split_once(']')?;
        addr.parse::<std::net::Ipv6Addr>().ok()?;
        return match rest {
            "" => Some((addr, None)),
            r => Some((addr, Some(port(r.strip_prefix(':')?)?))),
        };
    }
    let (name, p) = match host.split_once(':') {
        Some((name, p)) => (name, Some(port(p)?)),
        None => (host, None),
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    valid.then_some((name, p))
}

/// Whether a `Host` header names this machine: `localhost` (and its subdomains, RFC 6761, which
/// browsers resolve to loopback themselves), or a loopback address, with any port. The server's
/// own rule for which names it answers to; the client's rule for loopback base URLs is
/// neux-transport's, which this crate does not depend on.
pub(crate) fn loopback_host(host: &str) -> bool {
    let Some((name, _)) = parse_host(host) else {
        return false;
    };
    let lower = name.to_ascii_lowercase();
    lower == "localhost"
        || lower.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The names a sandbox answers to beyond loopback, and its control token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    /// `--public-host` names and the listen address, lowercase, without a trailing dot.
    pub hosts: Vec<String>,
    /// Required by the control API when set; always set in remote mode.
    pub token: Option<ControlToken>,
}

impl Access {
    /// Whether a `Host` header names this machine or a name the operator listed (any port: a
    /// published port differs from the one inside a container).
    pub(crate) fn serves(&self, host: &str) -> bool {
        if loopback_host(host) {
            return true;
        }
        parse_host(host).is_some_and(|(name, _)| {
            let name = normalize(name);
            self.hosts.contains(&name)
        })
    }
}

/// A host name as compared: lowercase, no trailing dot, no brackets around an IPv6 address.
pub(crate) fn normalize(name: &str) -> String {
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(hosts: &[&str]) -> Access {
        Access {
            hosts: hosts.iter().map(|h| normalize(h)).collect(),
            token: None,
        }
    }

    #[test]
    fn serves_loopback_and_listed_names_only() {
        let a = access(&["Sandbox.Internal.", "10.0.0.5", "[fd00::5]"]);
        for host in [
            "127.0.0.1:7878",
            "localhost",
            "[::1]:1",
            "sandbox.internal:7878",
            "SANDBOX.internal",
            "10.0.0.5:80",
            "[fd00::5]:7878",
        ] {
            assert!(a.serves(host), "{host}");
        }
        for host in [
            "attacker.example:7878",
            "sandbox.internal.attacker.example",
            "10.0.0.50",
            "[fd00::5]evil",
            "sandbox.internal:x",
            "",
        ] {
            assert!(!a.serves(host), "{host}");
        }
    }

    #[test]
    fn a_token_is_read_from_a_bearer_header_only() {
        let token = ControlToken::new("0123456789abcdef").unwrap();
        let with = |name: header::HeaderName, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            token.presented_in(&h)
        };
        assert!(with(header::AUTHORIZATION, "Bearer 0123456789abcdef"));
        assert!(!with(header::AUTHORIZATION, "Bearer 0123456789abcde"));
        assert!(!with(header::AUTHORIZATION, "Bearer 0123456789abcdef0"));
        assert!(!with(header::AUTHORIZATION, "Basic 0123456789abcdef"));
        assert!(!with(header::COOKIE, "Bearer 0123456789abcdef"));
        assert!(!token.presented_in(&HeaderMap::new()));
    }

    #[test]
    fn a_bad_token_is_refused_without_being_shown() {
        for bad in [
            "short",
            "has a space in it ok",
            "ünïcödé-ünïcödé-x",
            &"x".repeat(257),
        ] {
            let e = ControlToken::new(bad).unwrap_err().to_string();
            assert!(!e.contains(bad), "{e}");
        }
    }

    #[test]
    fn loopback_hosts_with_or_without_a_port() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:7878",
            "127.9.9.9:1",
            "[::1]:7878",
            "[::1]",
            "localhost",
            "LOCALHOST:7878",
            "app.localhost:80",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:7878",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.1:7878",
            "[::2]:7878",
            "0.0.0.0:7878",
            // What no browser sends: refused, not read generously.
            "[::1]evil.com",
            "[::1]:7878evil",
            "[::1]:",
            "[::1]:99999",
            "[127.0.0.1]",
            "[::1",
            "::1",
            "127.0.0.1:",
            "127.0.0.1:80:80",
            "127.0.0.1:+80",
            "localhost:port",
            "local host",
            "localhost/evil",
            "localhost@evil.example",
            ":7878",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn hosts_are_parsed_strictly() {
        assert_eq!(parse_host("[::1]:7878"), Some(("::1", Some(7878))));
        assert_eq!(parse_host("[::1]"), Some(("::1", None)));
        assert_eq!(
            parse_host("Example.COM:80"),
            Some(("Example.COM", Some(80)))
        );
        assert_eq!(parse_host("[::1]evil.com"), None);
        assert_eq!(parse_host("a:b:c"), None);
    }
}
