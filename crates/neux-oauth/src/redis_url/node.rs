//! One host of a Redis URL, and the database number.

use std::fmt;

use super::{Topology, UrlError, refuse};

/// A node's host and port as written (IPv6 in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

pub(super) fn parse_db(text: &str) -> Result<i64, UrlError> {
    text.parse::<i64>()
        .ok()
        .filter(|db| (0..=1_000_000).contains(db))
        .ok_or_else(|| refuse("the database in a Redis URL is a number (/0 to /15 by default)"))
}

pub(super) fn parse_node(text: &str, topology: Topology) -> Result<Node, UrlError> {
    let default_port = if topology == Topology::Sentinel {
        26_379
    } else {
        6_379
    };
    let bad = || {
        refuse(
            "a host in a Redis URL is a name, an IPv4 address or [an IPv6 address], with an optional :port (a password's `?`, `#` or `,` must be percent-encoded)",
        )
    };
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (addr, tail) = v6.split_once(']').ok_or_else(bad)?;
        addr.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':').ok_or_else(bad)?),
        };
        (format!("[{addr}]"), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        };
        let ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        if !ok {
            return Err(bad());
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?
        }
        Some(_) => return Err(bad()),
    };
    Ok(Node { host, port })
}
