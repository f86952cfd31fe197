//! What can go wrong moving bytes, told in the terms that decide whether a retry is safe.

use std::fmt;
use std::time::Duration;

/// Which part of an exchange a timeout cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the connection (TCP and TLS): nothing was sent.
    Connect,
    /// The exchange as a whole: the request may have reached the server.
    Exchange,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "while connecting",
            Self::Exchange => "before the exchange completed",
        })
    }
}

/// The text of a lower layer's error, flattened (source chain included) and scrubbed of the
/// request's query string, so an access token in a URL cannot reach a log through it.
#[derive(Clone, PartialEq, Eq)]
pub struct Cause(String);

impl Cause {
    /// Flattens `err` and its sources into one line, removing `query` and its values.
    // Only the backends read lower layers' errors; a build with none (a user's own transport)
    // has no use for it.
    #[cfg_attr(
        not(any(feature = "reqwest-client", feature = "surf")),
        allow(dead_code)
    )]
    pub(crate) fn scrubbed(err: &(dyn std::error::Error + 'static), query: Option<&str>) -> Self {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            let part = s.to_string();
            if !text.contains(&part) {
                text.push_str(": ");
                text.push_str(&part);
            }
            source = s.source();
        }
        Self::from_text(text, query)
    }

    /// A cause from plain text, scrubbed like [`scrubbed`](Self::scrubbed).
    #[cfg_attr(
        not(any(feature = "reqwest-client", feature = "surf", feature = "test-util")),
        allow(dead_code)
    )]
    pub(crate) fn from_text(mut text: String, query: Option<&str>) -> Self {
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            text = text.replace(query, "[REDACTED]");
            for (_, value) in form_urlencoded::parse(query.as_bytes()) {
                if value.len() >= 4 {
                    text = text.replace(value.as_ref(), "[REDACTED]");
                }
            }
        }
        Self(text)
    }

    /// The scrubbed text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A request could not be completed.
///
/// Each variant says whether the request may have reached the server, which decides whether it
/// may be sent again: a one-time code must never be presented twice.
/// [`may_have_been_sent`](Self::may_have_been_sent) answers that in one call. Messages name the
/// server's origin (`scheme://host:port`), never the path's query.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection could be made: **nothing was sent**, so a retry is safe.
    #[error("could not connect to {origin}: {cause}")]
    Connect {
        /// `scheme://host:port` of the server.
        origin: String,
        /// What the lower layer said.
        cause: Cause,
    },
    /// The time allowed ran out. During [`TimeoutPhase::Connect`] nothing was sent; during
    /// [`TimeoutPhase::Exchange`] the request **may have been sent**.
    #[error("request to {origin} timed out after {after:?} {phase}")]
    Timeout {
        /// `scheme://host:port` of the server.
        origin: String,
        /// Which phase ran out of time.
        phase: TimeoutPhase,
        /// The limit that was hit.
        after: Duration,
    },
    /// The connection failed after the request started going out: it **may have been sent**
    /// (reset, closed early, malformed answer).
    #[error("exchange with {origin} failed after the request may have been sent: {cause}")]
    Interrupted {
        /// `scheme://host:port` of the server.
        origin: String,
        /// What the lower layer said.
        cause: Cause,
    },
    /// The response body was larger than the configured cap; reading stopped there. The request
    /// **was sent**.
    #[error("response from {origin} exceeds the {limit}-byte body cap")]
    BodyTooLarge {
        /// `scheme://host:port` of the server.
        origin: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// No transport could be had: no backend feature is enabled, or the backend's client could
    /// not be created (TLS initialisation, say). **Nothing was sent.**
    #[error("no HTTP transport available: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// The request could not be built (bad URL, header or method): **nothing was sent**.
    #[error("invalid request: {reason}")]
    InvalidRequest {
        /// What was wrong (never the query string).
        reason: String,
    },
}

impl TransportError {
    /// Whether the request may have reached the server. When `true`, a non-idempotent request
    /// (exchanging a one-time code) must not be sent again.
    pub fn may_have_been_sent(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::InvalidRequest { .. } | Self::Unavailable { .. } => false,
            Self::Timeout { phase, .. } => *phase == TimeoutPhase::Exchange,
            Self::Interrupted { .. } | Self::BodyTooLarge { .. } => true,
        }
    }

    /// Whether sending the same request again could help and cannot do harm: the request did
    /// not go out, and the failure was not in the request itself.
    pub fn is_safe_to_retry(&self) -> bool {
        !self.may_have_been_sent()
            && !matches!(self, Self::InvalidRequest { .. } | Self::Unavailable { .. })
    }

    /// The same error with every text it carries from the layers below passed through `f`, for
    /// a caller that knows more values to keep out of it (neux-oauth masks a call's sensitive
    /// values this way).
    ///
    /// ```
    /// use neux_transport::TransportError;
    /// let e = TransportError::InvalidRequest { reason: "bad header pw=hunter2".into() };
    /// let masked = e.map_text(|t| t.replace("hunter2", "[REDACTED]"));
    /// assert_eq!(masked.to_string(), "invalid request: bad header pw=[REDACTED]");
    /// ```
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Self {
        match self {
            Self::Connect { origin, cause } => Self::Connect {
                origin,
                cause: Cause(f(&cause.0)),
            },
            Self::Interrupted { origin, cause } => Self::Interrupted {
                origin,
                cause: Cause(f(&cause.0)),
            },
            Self::Unavailable { reason } => Self::Unavailable { reason: f(&reason) },
            Self::InvalidRequest { reason } => Self::InvalidRequest { reason: f(&reason) },
            other @ (Self::Timeout { .. } | Self::BodyTooLarge { .. }) => other,
        }
    }

    /// Whether this is a timeout, in either phase.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether connecting failed (refused, unreachable, or timed out while connecting).
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::Timeout {
                    phase: TimeoutPhase::Connect,
                    ..
                }
        )
    }
}

/// `scheme://host[:port]` of a URI: what errors may show.
#[cfg_attr(
    not(any(feature = "reqwest-client", feature = "surf")),
    allow(dead_code)
)]
pub(crate) fn origin(uri: &http::Uri) -> String {
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => {
            // An authority may carry `user:password@`: keep only host and port.
            let host = authority.host();
            match authority.port_u16() {
                Some(port) => format!("{scheme}://{host}:{port}"),
                None => format!("{scheme}://{host}"),
            }
        }
        _ => "<no origin>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_scrubs_raw_and_decoded_query_values() {
        let q = "accessToken=ab%2Bcd.ef&x=1";
        let c = Cause::from_text(
            "error sending http://h/p?accessToken=ab%2Bcd.ef&x=1 (token ab+cd.ef)".into(),
            Some(q),
        );
        assert!(!c.as_str().contains("ab%2Bcd"), "{c}");
        assert!(!c.as_str().contains("ab+cd.ef"), "{c}");
        assert!(c.as_str().contains("[REDACTED]"));
    }

    #[test]
    fn origin_drops_userinfo_path_and_query() {
        let uri: http::Uri = "https://user:pw@example.test:8443/p?accessToken=x"
            .parse()
            .unwrap();
        assert_eq!(origin(&uri), "https://example.test:8443");
    }

    #[test]
    fn send_state_per_variant() {
        let o = || "http://h".to_owned();
        let connect = TransportError::Connect {
            origin: o(),
            cause: Cause("x".into()),
        };
        assert!(
            !connect.may_have_been_sent() && connect.is_safe_to_retry() && connect.is_connect()
        );
        let t = TransportError::Timeout {
            origin: o(),
            phase: TimeoutPhase::Exchange,
            after: Duration::from_secs(1),
        };
        assert!(
            t.may_have_been_sent() && !t.is_safe_to_retry() && t.is_timeout() && !t.is_connect()
        );
        let t = TransportError::Timeout {
            origin: o(),
            phase: TimeoutPhase::Connect,
            after: Duration::from_secs(1),
        };
        assert!(!t.may_have_been_sent() && t.is_connect());
        let none = TransportError::Unavailable { reason: "r".into() };
        assert!(!none.may_have_been_sent() && !none.is_safe_to_retry());
        let bad = TransportError::InvalidRequest { reason: "r".into() };
        assert!(!bad.may_have_been_sent() && !bad.is_safe_to_retry());
        let big = TransportError::BodyTooLarge {
            origin: o(),
            limit: 1,
        };
        assert!(big.may_have_been_sent());
    }
}
