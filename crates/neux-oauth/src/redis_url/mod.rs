//! Redis URLs for the shared ledger: parsed once, shown without a secret, handed to redis-rs in
//! a form it reads the same way.
//!
//! Passwords are written into URLs raw more often than encoded (base64 secrets hold `/` and
//! `+`), so the parser reads the userinfo up to the last `@` before the query, not up to the
//! first `/` as a strict URL parser would. A URL that still cannot be read unambiguously is
//! refused, and its text is never shown: it may hold a password.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

mod node;

pub(crate) use node::Node;
use node::{parse_db, parse_node};

/// What stands in for a secret in every text the ledger shows.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// What an address that could not be parsed is shown as.
pub(crate) const UNPARSED: &str =
    "(a Redis URL that could not be parsed; not shown, as it may hold a password)";

/// Query keys whose values are secrets, in any case.
const SECRET_KEYS: &[&str] = &[
    "pass",
    "password",
    "sentinel_pass",
    "sentinel_password",
    "auth",
    "token",
];

/// Query keys that are shown as they are.
const SHOWN_KEYS: &[&str] = &["db", "protocol", "sentinel_username", "user", "username"];

/// Userinfo bytes kept as they are when a URL is rebuilt for redis-rs: everything else is
/// percent-encoded.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

/// How a URL reaches Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topology {
    /// One server (`redis://`, `rediss://`).
    Single,
    /// A Redis Cluster (`redis+cluster://host:port,host:port`).
    Cluster,
    /// A primary found through Sentinel (`redis+sentinel://host:port,host:port/master`).
    Sentinel,
    /// One server on a Unix socket (`redis+unix:///path`, `unix:///path`).
    Unix,
}

/// A parsed Redis URL. `Debug` and `Display` show [`shown`](Self::shown) only.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RedisUrl {
    pub(crate) topology: Topology,
    pub(crate) tls: bool,
    /// `#insecure` on a TLS URL: no certificate check (redis-rs's own convention).
    pub(crate) insecure: bool,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) nodes: Vec<Node>,
    /// The Unix socket's path.
    pub(crate) socket: Option<String>,
    /// The Sentinel master's name.
    pub(crate) master: Option<String>,
    pub(crate) db: i64,
    /// Decoded query pairs.
    pub(crate) query: Vec<(String, String)>,
    /// Every secret in the URL, as written and decoded: scrubbed from any text.
    secrets: Vec<String>,
    shown: String,
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RedisUrl").field(&self.shown).finish()
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Why a URL was refused. Never holds any part of the URL but its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlError(pub(crate) String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse(reason: impl Into<String>) -> UrlError {
    UrlError(reason.into())
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

impl RedisUrl {
    /// Reads `text`; the error says what is wrong without repeating the URL.
    pub(crate) fn parse(text: &str) -> Result<Self, UrlError> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(refuse(
                "not a URL (expected redis://, rediss://, redis+cluster://, redis+sentinel:// or redis+unix://)",
            ));
        };
        let scheme = scheme.to_ascii_lowercase();
        let (topology, tls) = match scheme.as_str() {
            "redis" | "valkey" => (Topology::Single, false),
            "rediss" | "valkeys" => (Topology::Single, true),
            "redis+cluster" => (Topology::Cluster, false),
            "rediss+cluster" => (Topology::Cluster, true),
            "redis+sentinel" => (Topology::Sentinel, false),
            "rediss+sentinel" => (Topology::Sentinel, true),
            "redis+unix" | "unix" => (Topology::Unix, false),
            // The scheme is not secret, but it may be a password's first part when `://` came
            // from elsewhere: show it only when it looks like a scheme.
            other
                if other.len() <= 20
                    && other
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'+') =>
            {
                return Err(refuse(format!(
                    "the scheme {other}:// is not one the ledger knows (redis, rediss, redis+cluster, rediss+cluster, redis+sentinel, rediss+sentinel, redis+unix)"
                )));
            }
            _ => return Err(refuse("not a URL with a known scheme")),
        };
        // The query (and a fragment) start at the first `?` or `#`: a raw `?` or `#` in a
        // password is not supported (percent-encode it), and is refused below, unshown.
        let end = rest.find(['?', '#']).unwrap_or(rest.len());
        let (before, after) = rest.split_at(end);
        let (query_text, fragment) = match after.strip_prefix('#') {
            Some(fragment) => ("", Some(fragment)),
            None => {
                let q = after.strip_prefix('?').unwrap_or(after);
                match q.split_once('#') {
                    Some((q, f)) => (q, Some(f)),
                    None => (q, None),
                }
            }
        };
        let mut secrets = Vec::new();
        let mut username = None;
        let mut password = None;
        // Userinfo: up to the last `@` before the query, so `/`, `@` and `:` may be raw in a
        // password.
        let (userinfo, location) = match before.rfind('@') {
            Some(at) if topology != Topology::Unix => (Some(&before[..at]), &before[at + 1..]),
            _ => (None, before),
        };
        if let Some(info) = userinfo {
            let (user, pass) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            if !user.is_empty() {
                username = Some(decode(user));
            }
            if let Some(p) = pass.filter(|p| !p.is_empty()) {
                secrets.push(p.to_owned());
                password = Some(decode(p));
            }
            // A user name alone is a password in redis-rs's reading of `redis://secret@host`:
            // treat it as one for masking.
            if pass.is_none() && !user.is_empty() {
                secrets.push(user.to_owned());
            }
        }
        let mut query = Vec::new();
        for (k, v) in form_urlencoded::parse(query_text.as_bytes()) {
            let (k, v) = (k.into_owned(), v.into_owned());
            if is_secret_key(&k) && !v.is_empty() {
                secrets.push(v.clone());
            }
            query.push((k, v));
        }
        // The raw query text holds the secrets as written too.
        for piece in query_text.split('&') {
            if let Some((k, v)) = piece.split_once('=')
                && is_secret_key(&decode(k))
                && !v.is_empty()
            {
                secrets.push(v.to_owned());
            }
        }
        for s in secrets.clone() {
            let d = decode(&s);
            secrets.push(d.clone());
            secrets.push(d.replace(' ', "+"));
            secrets.push(utf8_percent_encode(&d, USERINFO).to_string());
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        if password.is_none() && topology == Topology::Unix {
            password = query
                .iter()
                .find(|(k, _)| k == "pass" || k == "password")
                .map(|(_, v)| v.clone());
        }

        let (authority, path) = location.split_at(location.find('/').unwrap_or(location.len()));
        let mut url = RedisUrl {
            topology,
            tls,
            insecure: false,
            username,
            password,
            nodes: Vec::new(),
            socket: None,
            master: None,
            db: 0,
            query,
            secrets,
            shown: String::new(),
        };
        match fragment {
            None | Some("") => {}
            Some("insecure") if tls => url.insecure = true,
            Some(_) => {
                return Err(refuse(
                    "a URL fragment other than #insecure (on rediss://); a `#` in a password must be written %23",
                ));
            }
        }
        if topology == Topology::Unix {
            if !authority.is_empty() && authority != "localhost" {
                return Err(refuse(
                    "a unix socket URL names a path, not a host: redis+unix:///path/to/redis.sock",
                ));
            }
            if path.len() < 2 {
                return Err(refuse("a unix socket URL without a socket path"));
            }
            url.socket = Some(decode(path));
            if let Some((_, db)) = url.query.iter().find(|(k, _)| k == "db") {
                url.db = parse_db(db)?;
            }
        } else {
            if authority.is_empty() {
                return Err(refuse("a Redis URL without a host"));
            }
            for node in authority.split(',') {
                url.nodes.push(parse_node(node, topology)?);
            }
            if url.nodes.len() > 1 && topology == Topology::Single {
                return Err(refuse(
                    "several hosts in a single-node URL: use redis+cluster:// or redis+sentinel://",
                ));
            }
            let mut segments = path.split('/').filter(|s| !s.is_empty());
            if topology == Topology::Sentinel {
                let Some(master) = segments.next() else {
                    return Err(refuse(
                        "a Sentinel URL names the master: redis+sentinel://host:26379,host:26380/MASTER_NAME[/DB]",
                    ));
                };
                url.master = Some(decode(master));
            }
            if let Some(db) = segments.next() {
                url.db = parse_db(&decode(db))?;
            }
            if segments.next().is_some() {
                return Err(refuse(
                    "a Redis URL's path is /DB (or /MASTER/DB for Sentinel)",
                ));
            }
            if topology == Topology::Cluster && url.db != 0 {
                return Err(refuse("a Redis Cluster has database 0 only"));
            }
        }
        url.shown = url.render();
        Ok(url)
    }

    /// The URL as every text shows it: no user, no password, no secret query value.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` with every secret of this URL replaced.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    /// One URL per node in redis-rs's own reading: credentials percent-encoded, the database
    /// in the path.
    pub(crate) fn node_urls(&self) -> Vec<String> {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let auth = self.userinfo();
        let fragment = if self.insecure { "#insecure" } else { "" };
        self.nodes
            .iter()
            .map(|n| format!("{scheme}://{auth}{n}/{}{fragment}", self.db))
            .collect()
    }

    /// The Unix socket URL in redis-rs's reading.
    pub(crate) fn unix_url(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("db", &self.db.to_string());
        if let Some(u) = &self.username {
            q.append_pair("user", u);
        }
        if let Some(p) = &self.password {
            q.append_pair("pass", p);
        }
        let path = self.socket.as_deref().unwrap_or_default();
        let path = utf8_percent_encode(path, &PATH);
        format!("redis+unix://{path}?{}", q.finish())
    }

    /// A query value (decoded), by key.
    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn userinfo(&self) -> String {
        userinfo(self.username.as_deref(), self.password.as_deref())
    }

    fn render(&self) -> String {
        let scheme = match (self.topology, self.tls) {
            (Topology::Single, false) => "redis",
            (Topology::Single, true) => "rediss",
            (Topology::Cluster, false) => "redis+cluster",
            (Topology::Cluster, true) => "rediss+cluster",
            (Topology::Sentinel, false) => "redis+sentinel",
            (Topology::Sentinel, true) => "rediss+sentinel",
            (Topology::Unix, _) => "redis+unix",
        };
        let mut out = format!("{scheme}://");
        if let Some(socket) = &self.socket {
            out.push_str(&utf8_percent_encode(socket, &PATH).to_string());
        } else {
            let nodes: Vec<String> = self.nodes.iter().map(Node::to_string).collect();
            out.push_str(&nodes.join(","));
            if let Some(master) = &self.master {
                out.push('/');
                out.push_str(&utf8_percent_encode(master, &PATH).to_string());
            }
            if self.db != 0 {
                out.push_str(&format!("/{}", self.db));
            }
        }
        let mut shown_query = Vec::new();
        for (k, v) in &self.query {
            let lower = k.to_ascii_lowercase();
            if is_secret_key(&lower) {
                shown_query.push(format!("{lower}={REDACTED}"));
            } else if SHOWN_KEYS.contains(&lower.as_str())
                && !(lower == "db" && self.socket.is_some() && self.db == 0)
            {
                let v = utf8_percent_encode(v, USERINFO);
                shown_query.push(format!("{lower}={v}"));
            }
            // Any other key is left out: it may be a secret under a name we do not know.
        }
        if !shown_query.is_empty() {
            out.push('?');
            out.push_str(&shown_query.join("&"));
        }
        if self.insecure {
            out.push_str("#insecure");
        }
        // Whatever slipped through (a password that is also a host name) goes now.
        self.scrub(&out)
    }
}

/// `user:password@`, percent-encoded, or nothing.
pub(crate) fn userinfo(user: Option<&str>, password: Option<&str>) -> String {
    let user = user
        .map(|u| utf8_percent_encode(u, USERINFO).to_string())
        .unwrap_or_default();
    match password {
        Some(p) => format!("{user}:{}@", utf8_percent_encode(p, USERINFO)),
        None if !user.is_empty() => format!("{user}@"),
        None => String::new(),
    }
}

/// Path bytes kept as they are in a shown or rebuilt socket path or master name.
const PATH: AsciiSet = NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || key.contains("pass") || key.contains("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_shown_without_secrets() {
        for (url, shown, password) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379", None),
            ("redis://:pw@h:1/2", "redis://h:1/2", Some("pw")),
            ("rediss://user:p%40ss@h:1", "rediss://h:1", Some("p@ss")),
            (
                "redis://:ab/cd+ef==@h:1/0",
                "redis://h:1",
                Some("ab/cd+ef=="),
            ),
            ("redis://:a@b@h:1", "redis://h:1", Some("a@b")),
            ("redis://user:a:b@h", "redis://h:6379", Some("a:b")),
            ("redis://:a%2Fb@h:1", "redis://h:1", Some("a/b")),
            (
                "redis://:pw@[::1]:7000/3",
                "redis://[::1]:7000/3",
                Some("pw"),
            ),
            (
                "redis+cluster://:pw@a:1,b:2",
                "redis+cluster://a:1,b:2",
                Some("pw"),
            ),
            (
                "redis+sentinel://:pw@s1:26379,s2/mymaster/2?sentinel_password=sp",
                "redis+sentinel://s1:26379,s2:26379/mymaster/2?sentinel_password=[REDACTED]",
                Some("pw"),
            ),
            (
                "redis+unix:///run/redis.sock?pass=s3cr%2Ft&db=1",
                "redis+unix:///run/redis.sock?pass=[REDACTED]&db=1",
                Some("s3cr/t"),
            ),
            (
                "unix:///run/redis.sock?password=x/y",
                "redis+unix:///run/redis.sock?password=[REDACTED]",
                Some("x/y"),
            ),
            (
                "redis://h?pass=q@r&protocol=resp3&other=zz",
                "redis://h:6379?pass=[REDACTED]&protocol=resp3",
                None,
            ),
        ] {
            let parsed = RedisUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.shown(), shown, "{url}");
            assert_eq!(parsed.password.as_deref(), password, "{url}");
            assert_eq!(format!("{parsed:?}"), format!("RedisUrl({shown:?})"));
            // Every way the password was written is scrubbed from a text.
            if let Some(p) = password {
                let text = format!("failed: {url} {p}");
                assert!(!parsed.scrub(&text).contains(p), "{url}");
            }
        }
    }

    #[test]
    fn urls_for_redis_rs_carry_the_credentials_encoded() {
        let u = RedisUrl::parse("redis://us er:ab/c@d@h:1/2").unwrap();
        assert_eq!(u.node_urls(), vec!["redis://us%20er:ab%2Fc%40d@h:1/2"]);
        let u = RedisUrl::parse("rediss+cluster://:pw@a:1,[::1]:2#insecure").unwrap();
        assert_eq!(
            u.node_urls(),
            vec![
                "rediss://:pw@a:1/0#insecure",
                "rediss://:pw@[::1]:2/0#insecure"
            ]
        );
        let u = RedisUrl::parse("redis+unix:///tmp/r.sock?pass=a%26b").unwrap();
        assert_eq!(u.unix_url(), "redis+unix:///tmp/r.sock?db=0&pass=a%26b");
        let s = RedisUrl::parse("redis+sentinel://h1,h2:1/main/3").unwrap();
        assert_eq!(s.master.as_deref(), Some("main"));
        assert_eq!(s.db, 3);
        assert_eq!(
            s.nodes[0],
            Node {
                host: "h1".into(),
                port: 26_379
            }
        );
    }

    #[test]
    fn ambiguous_urls_are_refused_without_being_shown() {
        for url in [
            "redis://:Qz?7x@host:6379",
            "redis://:Qz#7x@host:6379",
            "redis://:Qz7x@",
            "redis://:Qz7x@host:notaport",
            "redis://:Qz7x@a:1,b:2",
            "redis+sentinel://:Qz7x@a:1",
            "redis+cluster://:Qz7x@a:1/3",
            "redis://:Qz7x@host/x",
            "redis://:Qz7x@[::1",
            "http://:Qz7x@host",
            "pw@host:1",
            "redis+unix://:Qz7x@host/sock",
        ] {
            let e = RedisUrl::parse(url).unwrap_err();
            assert!(!e.0.contains("Qz") && !e.0.contains("7x"), "{url}: {e}");
        }
    }
}
