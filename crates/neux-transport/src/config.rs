//! The safety limits every transport enforces.

use std::time::Duration;

use crate::ProxyConfig;

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
    proxy: ProxyConfig,
    root_certificates: Vec<RootCertificate>,
}

/// An extra trusted root certificate, as PEM text (`-----BEGIN CERTIFICATE-----`).
#[derive(Clone, PartialEq, Eq)]
pub struct RootCertificate(Vec<u8>);

impl RootCertificate {
    /// The PEM bytes (one certificate, or a bundle of several).
    pub fn pem(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootCertificate({} bytes of PEM)", self.0.len())
    }
}

impl Default for TransportConfig {
    /// 10 s in all, 5 s to connect, 1 MiB of response body.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            proxy: ProxyConfig::default(),
            root_certificates: Vec::new(),
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

    /// Which proxy requests go through (default [`ProxyConfig::FromEnv`]: the standard
    /// environment variables). Loopback hosts are never proxied.
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Trusts an extra root certificate (PEM, one certificate or a bundle), besides the usual
    /// ones: for a private CA, or a TLS-intercepting company gateway. Call it once per file.
    ///
    /// ```
    /// use neux_transport::TransportConfig;
    /// # let pem = b"-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n".to_vec();
    /// let config = TransportConfig::default().add_root_certificate_pem(pem);
    /// assert_eq!(config.root_certificates().len(), 1);
    /// ```
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(RootCertificate(pem.into()));
        self
    }

    /// The proxy setting.
    pub fn proxy_value(&self) -> &ProxyConfig {
        &self.proxy
    }

    /// The extra root certificates.
    pub fn root_certificates(&self) -> &[RootCertificate] {
        &self.root_certificates
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
