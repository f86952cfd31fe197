//! The safety limits every transport enforces.

use std::time::Duration;

/// Limits that every [`Transport`](crate::Transport) implementation honours.
///
/// ```
/// use std::time::Duration;
/// use neux_transport::TransportConfig;
/// let config = TransportConfig::default().timeout(Duration::from_secs(3)).max_body_bytes(64 * 1024);
/// assert_eq!(config.connect_timeout_value(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: usize,
}

impl Default for TransportConfig {
    /// 10 s in all, 5 s to connect, 1 MiB of response body.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl TransportConfig {
    /// The time allowed for a whole exchange: connect, send, and read the full response.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time allowed to establish a connection (TCP and TLS).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body read; a larger one stops the read with
    /// [`TransportError::BodyTooLarge`](crate::TransportError::BodyTooLarge).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The whole-exchange timeout.
    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout.
    pub fn connect_timeout_value(&self) -> Duration {
        self.connect_timeout
    }

    /// The body cap in bytes.
    pub fn max_body_bytes_value(&self) -> usize {
        self.max_body_bytes
    }
}
