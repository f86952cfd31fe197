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

// A proxy URL may carry `user:password@`, with or without a scheme: show it without them.
impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FromEnv => f.write_str("FromEnv"),
            Self::None => f.write_str("None"),
            Self::Url(url) => f
                .debug_tuple("Url")
                .field(&without_credentials(url))
                .finish(),
        }
    }
}

/// A proxy URL with any `user:password@` replaced by `[credentials]@`.
fn without_credentials(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}[credentials]@{host}{path}"),
        None => url.to_owned(),
    }
}

/// A proxy setting that cannot be used: refused when the transport is built, because a client
/// that cannot parse its proxy would otherwise send directly while believing it is proxied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the proxy {setting} ({shown}) cannot be used: {reason}")]
pub struct ProxyError {
    setting: String,
    shown: String,
    reason: String,
}

impl ProxyError {
    /// Where the setting came from: an environment variable's name, or `TransportConfig::proxy`.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

/// Checks a proxy URL and gives it a scheme (`http://` when it has none, as curl does).
fn usable(setting: &str, url: &str) -> Result<String, ProxyError> {
    let refuse = |reason: &str| ProxyError {
        setting: setting.to_owned(),
        shown: without_credentials(url),
        reason: reason.to_owned(),
    };
    let url = url.trim();
    let full = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let uri: http::Uri = full
        .parse()
        .map_err(|_| refuse("not a URL (expected http://host:port)"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(refuse(&format!(
                "the scheme {other:?} is not supported: use http:// or https://"
            )));
        }
        None => return Err(refuse("no scheme")),
    }
    let authority = uri.authority().ok_or_else(|| refuse("no host"))?;
    if authority.host().is_empty() {
        return Err(refuse("no host"));
    }
    // `http::Uri` reads a port lazily: a bad one only shows as "no port" later.
    let host_and_port = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, h)| h);
    if let Some((host, port)) = host_and_port.rsplit_once(':')
        && !host.is_empty()
        && !port.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(refuse("the port is not a number from 0 to 65535"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(refuse("a proxy URL is scheme://host:port, without a path"));
    }
    Ok(full)
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
    /// [`FromEnv`](Self::FromEnv). A proxy URL that cannot be used (it does not parse, its
    /// scheme is not `http` or `https`, it has no host) is an error naming where it came from;
    /// one without a scheme (`proxy.corp:3128`, `user:pw@proxy.corp:3128`) is taken as
    /// `http://`, as curl does.
    ///
    /// ```
    /// use neux_transport::ProxyConfig;
    /// let env = |name: &str| match name {
    ///     "HTTPS_PROXY" => Some("http://proxy.corp:3128".to_owned()),
    ///     "NO_PROXY" => Some("internal.corp, 10.0.0.0/8".to_owned()),
    ///     _ => None,
    /// };
    /// let rules = ProxyConfig::FromEnv.resolve(env)?;
    /// assert_eq!(rules.for_url("https", "api.example.com"), Some("http://proxy.corp:3128"));
    /// assert_eq!(rules.for_url("https", "db.internal.corp"), None);
    /// assert_eq!(rules.for_url("https", "127.0.0.1"), None, "loopback is never proxied");
    /// assert_eq!(rules.for_url("http", "api.example.com"), None, "no HTTP_PROXY set");
    ///
    /// let typo = |name: &str| (name == "HTTPS_PROXY").then(|| "htps://proxy.corp:3128".to_owned());
    /// let err = ProxyConfig::FromEnv.resolve(typo).unwrap_err();
    /// assert_eq!(err.setting(), "HTTPS_PROXY");
    /// # Ok::<(), neux_transport::ProxyError>(())
    /// ```
    pub fn resolve(&self, env: impl Fn(&str) -> Option<String>) -> Result<ProxyRules, ProxyError> {
        // The variable that was set, by the name it was set under.
        let var = |upper: &str| {
            let lower = upper.to_ascii_lowercase();
            env(upper)
                .map(|v| (upper.to_owned(), v))
                .or_else(|| env(&lower).map(|v| (lower, v)))
                .filter(|(_, v)| !v.trim().is_empty())
        };
        let checked = |found: Option<(String, String)>| {
            found.map(|(name, url)| usable(&name, &url)).transpose()
        };
        match self {
            Self::None => Ok(ProxyRules::default()),
            Self::Url(url) => {
                let url = usable("TransportConfig::proxy", url)?;
                Ok(ProxyRules {
                    http: Some(url.clone()),
                    https: Some(url),
                    no_proxy: Vec::new(),
                })
            }
            Self::FromEnv => {
                let all = checked(var("ALL_PROXY"))?;
                Ok(ProxyRules {
                    http: checked(var("HTTP_PROXY"))?.or_else(|| all.clone()),
                    https: checked(var("HTTPS_PROXY"))?.or(all),
                    no_proxy: var("NO_PROXY")
                        .map(|(_, list)| {
                            list.split(',')
                                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                                .filter(|e| !e.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                })
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
        if is_loopback_host(host) || self.excepted(host) {
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

/// Whether `host` (a name or an address, IPv6 with or without brackets, no port) is certainly
/// this machine: `localhost`, `127.0.0.0/8` and `::1`. The one loopback rule of the client:
/// loopback hosts are never proxied, and neux-oauth lets them use plain `http`.
///
/// `*.localhost` names are not in it: RFC 6761 reserves them, but many resolvers (glibc's
/// among them) send them to DNS like any other name, so a request to one could cross a
/// network, in clear and around the proxy.
///
/// ```
/// use neux_transport::is_loopback_host;
/// assert!(is_loopback_host("127.0.0.1") && is_loopback_host("[::1]") && is_loopback_host("LocalHost"));
/// assert!(!is_loopback_host("localhost.example.com") && !is_loopback_host("app.localhost"));
/// ```
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
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
        let rules = ProxyConfig::FromEnv
            .resolve(env(&[
                ("http_proxy", "http://h:1"),
                ("ALL_PROXY", "http://all:2"),
            ]))
            .unwrap();
        assert_eq!(rules.for_url("http", "x.example"), Some("http://h:1"));
        assert_eq!(rules.for_url("https", "x.example"), Some("http://all:2"));
        let rules = ProxyConfig::FromEnv
            .resolve(env(&[("HTTPS_PROXY", " ")]))
            .unwrap();
        assert!(rules.is_empty(), "a blank variable is unset");
    }

    #[test]
    fn no_proxy_domains_ips_ranges_and_star() {
        let rules = ProxyConfig::FromEnv
            .resolve(env(&[
                ("HTTPS_PROXY", "http://p:1"),
                (
                    "NO_PROXY",
                    ".corp.example, 10.0.0.0/8, 192.168.1.7, fd00::/8, API.other",
                ),
            ]))
            .unwrap();
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
        let all = ProxyConfig::FromEnv
            .resolve(env(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]))
            .unwrap();
        assert_eq!(all.for_url("https", "anything"), None);
        let zero = ProxyConfig::FromEnv
            .resolve(env(&[
                ("HTTPS_PROXY", "http://p:1"),
                ("NO_PROXY", "0.0.0.0/0,1.2.3.4/99"),
            ]))
            .unwrap();
        assert_eq!(
            zero.for_url("https", "8.8.8.8"),
            None,
            "/0 covers every address"
        );
    }

    #[test]
    fn loopback_is_never_proxied() {
        let rules = ProxyConfig::Url("http://p:1".into())
            .resolve(|_| None)
            .unwrap();
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.9.9.9", "[::1]"] {
            assert_eq!(rules.for_url("http", host), None, "{host}");
        }
        // A subdomain of localhost may be resolved by DNS: it goes where any name goes.
        for host in ["example.com", "a.localhost", "localhost.example.com"] {
            assert_eq!(rules.for_url("http", host), Some("http://p:1"), "{host}");
        }
    }

    #[test]
    fn none_and_a_pinned_url_ignore_the_environment() {
        let vars = [("HTTPS_PROXY", "http://env:1")];
        assert!(ProxyConfig::None.resolve(env(&vars)).unwrap().is_empty());
        let pinned = ProxyConfig::Url("http://pinned:2".into())
            .resolve(env(&vars))
            .unwrap();
        assert_eq!(
            pinned.for_url("https", "x.example"),
            Some("http://pinned:2")
        );
    }

    #[test]
    fn debug_hides_proxy_credentials_with_or_without_a_scheme() {
        let config = ProxyConfig::Url("http://user:hunter2@p:1".into());
        assert_eq!(format!("{config:?}"), r#"Url("http://[credentials]@p:1")"#);
        let rules = config.resolve(|_| None).unwrap();
        assert!(!format!("{rules:?}").contains("hunter2"));
        // reqwest takes a proxy without a scheme, and so do we: its password stays hidden.
        let bare = ProxyConfig::Url("user:hunter2@proxy:3128".into());
        assert_eq!(format!("{bare:?}"), r#"Url("[credentials]@proxy:3128")"#);
        let rules = bare.resolve(|_| None).unwrap();
        assert_eq!(
            rules.for_url("https", "x.example"),
            Some("http://user:hunter2@proxy:3128")
        );
    }

    #[test]
    fn an_unusable_proxy_is_refused_naming_its_source_without_credentials() {
        for bad in [
            "htps://proxy:3128",
            "ftp://proxy:21",
            "socks5://proxy:1080",
            "http://",
            "http://proxy:3128/path",
            "http://proxy:notaport",
            "http://us er:pw@proxy",
        ] {
            let err = ProxyConfig::Url(bad.into()).resolve(|_| None).unwrap_err();
            assert_eq!(err.setting(), "TransportConfig::proxy", "{bad}");
            let err = ProxyConfig::FromEnv
                .resolve(env(&[("https_proxy", bad)]))
                .unwrap_err();
            assert_eq!(err.setting(), "https_proxy", "{bad}");
        }
        let err = ProxyConfig::Url("htps://user:hunter2@proxy:3128".into())
            .resolve(|_| None)
            .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("hunter2") && text.contains("htps"), "{text}");
    }
}
