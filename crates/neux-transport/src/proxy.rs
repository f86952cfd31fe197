//! Which proxy a request goes through: the standard environment variables by default, never
//! for loopback hosts.

use std::net::IpAddr;

/// Where requests go through a proxy ([`TransportConfig::proxy`](crate::TransportConfig::proxy)).
///
/// Loopback hosts (`localhost`, `127.0.0.0/8`, `::1`) are never proxied, whatever the setting,
/// as Go's `net/http` does: a sandbox on 127.0.0.1 keeps working in a shell where a company
/// proxy is set.
///
/// ```
/// use neux_transport::{ProxyConfig, TransportConfig};
/// let pinned = TransportConfig::default().proxy(ProxyConfig::Url("http://proxy.corp:3128".into()));
/// let direct = TransportConfig::default().proxy(ProxyConfig::None);
/// assert_eq!(TransportConfig::default().proxy_value(), &ProxyConfig::FromEnv);
/// # let _ = (pinned, direct);
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// The variables curl and reqwest read (the default): `HTTPS_PROXY` for `https` URLs,
    /// `HTTP_PROXY` for `http` ones, `ALL_PROXY` for both when the specific one is unset (each
    /// also in lower case), and `NO_PROXY`'s exceptions (`*`, domains and their subdomains, IP
    /// addresses and CIDR ranges).
    #[default]
    FromEnv,
    /// No proxy at all.
    None,
    /// Every request (but to loopback) through this proxy, e.g. `http://proxy.corp:3128`,
    /// with `user:password@` if it needs them. The environment is not read.
    Url(String),
}

// A proxy URL may carry `user:password@`: show it without them.
impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FromEnv => f.write_str("FromEnv"),
            Self::None => f.write_str("None"),
            Self::Url(url) => {
                let shown = match url.split_once("://") {
                    Some((scheme, rest)) => match rest.rsplit_once('@') {
                        Some((_, host)) => format!("{scheme}://[credentials]@{host}"),
                        None => url.clone(),
                    },
                    None => url.clone(),
                };
                f.debug_tuple("Url").field(&shown).finish()
            }
        }
    }
}

/// The proxy rules in force: what [`ProxyConfig`] resolved to.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProxyRules {
    http: Option<String>,
    https: Option<String>,
    no_proxy: Vec<String>,
}

// Proxy URLs may carry a password: show only whether each is set.
impl std::fmt::Debug for ProxyRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRules")
            .field("http", &self.http.is_some())
            .field("https", &self.https.is_some())
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxyConfig {
    /// The rules this setting means, reading variables through `env` for
    /// [`FromEnv`](Self::FromEnv).
    ///
    /// ```
    /// use neux_transport::ProxyConfig;
    /// let env = |name: &str| match name {
    ///     "HTTPS_PROXY" => Some("http://proxy.corp:3128".to_owned()),
    ///     "NO_PROXY" => Some("internal.corp, 10.0.0.0/8".to_owned()),
    ///     _ => None,
    /// };
    /// let rules = ProxyConfig::FromEnv.resolve(env);
    /// assert_eq!(rules.for_url("https", "api.example.com"), Some("http://proxy.corp:3128"));
    /// assert_eq!(rules.for_url("https", "db.internal.corp"), None);
    /// assert_eq!(rules.for_url("https", "127.0.0.1"), None, "loopback is never proxied");
    /// assert_eq!(rules.for_url("http", "api.example.com"), None, "no HTTP_PROXY set");
    /// ```
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> ProxyRules {
        let var = |upper: &str| {
            env(upper)
                .or_else(|| env(&upper.to_ascii_lowercase()))
                .filter(|v| !v.trim().is_empty())
        };
        match self {
            Self::None => ProxyRules::default(),
            Self::Url(url) => ProxyRules {
                http: Some(url.clone()),
                https: Some(url.clone()),
                no_proxy: Vec::new(),
            },
            Self::FromEnv => {
                let all = var("ALL_PROXY");
                ProxyRules {
                    http: var("HTTP_PROXY").or_else(|| all.clone()),
                    https: var("HTTPS_PROXY").or(all),
                    no_proxy: var("NO_PROXY")
                        .map(|list| {
                            list.split(',')
                                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                                .filter(|e| !e.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            }
        }
    }
}

impl ProxyRules {
    /// Whether any request could go through a proxy.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy for a request to `host` over `scheme`, or `None` to connect directly.
    pub fn for_url(&self, scheme: &str, host: &str) -> Option<&str> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if is_loopback(host) || self.excepted(host) {
            return None;
        }
        match scheme {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }
    }

    fn excepted(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some(ip) = ip {
                return in_range(ip, entry);
            }
            host == *entry || host.ends_with(&format!(".{entry}"))
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `ip` is `entry`, or inside `entry` written as a CIDR range.
fn in_range(ip: IpAddr, entry: &str) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(bits) => (a, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            prefix_eq(u128::from(u32::from(a)), u128::from(u32::from(n)), 32, bits)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => prefix_eq(u128::from(a), u128::from(n), 128, bits),
        _ => false,
    }
}

fn prefix_eq(a: u128, n: u128, width: u32, bits: Option<u32>) -> bool {
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    let shift = width - bits;
    // checked_shr: a shift by the whole width (bits == 0) matches everything.
    a.checked_shr(shift).unwrap_or(0) == n.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_standard_variables_in_either_case() {
        let rules = ProxyConfig::FromEnv.resolve(env(&[
            ("http_proxy", "http://h:1"),
            ("ALL_PROXY", "http://all:2"),
        ]));
        assert_eq!(rules.for_url("http", "x.example"), Some("http://h:1"));
        assert_eq!(rules.for_url("https", "x.example"), Some("http://all:2"));
        let rules = ProxyConfig::FromEnv.resolve(env(&[("HTTPS_PROXY", " ")]));
        assert!(rules.is_empty(), "a blank variable is unset");
    }

    #[test]
    fn no_proxy_domains_ips_ranges_and_star() {
        let rules = ProxyConfig::FromEnv.resolve(env(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                ".corp.example, 10.0.0.0/8, 192.168.1.7, fd00::/8, API.other",
            ),
        ]));
        for host in [
            "corp.example",
            "a.corp.example",
            "10.1.2.3",
            "192.168.1.7",
            "[fd00::1]",
            "api.other",
        ] {
            assert_eq!(rules.for_url("https", host), None, "{host}");
        }
        for host in [
            "notcorp.example",
            "11.0.0.1",
            "192.168.1.8",
            "[fe80::1]",
            "x.api.otherx",
        ] {
            assert_eq!(rules.for_url("https", host), Some("http://p:1"), "{host}");
        }
        let all =
            ProxyConfig::FromEnv.resolve(env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]));
        assert_eq!(all.for_url("https", "anything"), None);
        let zero = ProxyConfig::FromEnv.resolve(env(&[
            ("HTTPS_PROXY", "http://p:1"),
            ("NO_PROXY", "0.0.0.0/0,1.2.3.4/99"),
        ]));
        assert_eq!(
            zero.for_url("https", "8.8.8.8"),
            None,
            "/0 covers every address"
        );
    }

    #[test]
    fn loopback_is_never_proxied() {
        let rules = ProxyConfig::Url("http://p:1".into()).resolve(|_| None);
        for host in [
            "localhost",
            "LOCALHOST",
            "a.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
        ] {
            assert_eq!(rules.for_url("http", host), None, "{host}");
        }
        assert_eq!(rules.for_url("http", "example.com"), Some("http://p:1"));
    }

    #[test]
    fn none_and_a_pinned_url_ignore_the_environment() {
        let vars = [("HTTPS_PROXY", "http://env:1")];
        assert!(ProxyConfig::None.resolve(env(&vars)).is_empty());
        let pinned = ProxyConfig::Url("http://pinned:2".into()).resolve(env(&vars));
        assert_eq!(
            pinned.for_url("https", "x.example"),
            Some("http://pinned:2")
        );
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let config = ProxyConfig::Url("http://user:hunter2@p:1".into());
        assert_eq!(format!("{config:?}"), r#"Url("http://[credentials]@p:1")"#);
        let rules = config.resolve(|_| None);
        assert!(!format!("{rules:?}").contains("hunter2"));
    }
}
