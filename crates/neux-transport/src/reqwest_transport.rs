//! The reqwest backend (tokio, rustls).

use crate::error::{Cause, TimeoutPhase, TransportError, origin};
use crate::{HttpRequest, HttpResponse, Transport, TransportConfig, async_trait};

/// A [`Transport`] over a `reqwest::Client` (feature `reqwest`, the default). Needs a tokio
/// runtime.
///
/// [`new`](Self::new) builds a client with the limits of a [`TransportConfig`], redirects off
/// and no system proxy. [`from_client`](Self::from_client) shares a client (and its connection
/// pool) that the application already has; the total timeout and body cap still apply per
/// request, but connecting follows that client's own settings, and that client **must be built
/// with `redirect(reqwest::redirect::Policy::none())`**: a redirect it follows is detected and
/// reported as an error, but only after the request went to the other host.
///
/// ```
/// use neux_transport::{ReqwestTransport, TransportConfig};
/// let transport = ReqwestTransport::new(TransportConfig::default())?;
/// # Ok::<(), neux_transport::TransportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    config: TransportConfig,
}

impl ReqwestTransport {
    /// A transport with its own client, configured from `config`.
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout_value())
            .connect_timeout(config.connect_timeout_value())
            .no_proxy()
            .build()
            .map_err(|e| TransportError::Unavailable {
                reason: format!(
                    "could not build the reqwest client: {}",
                    Cause::scrubbed(&e, None)
                ),
            })?;
        Ok(Self { client, config })
    }

    /// A transport over an existing client (see the type's docs for what that client must do).
    pub fn from_client(client: reqwest::Client, config: TransportConfig) -> Self {
        Self { client, config }
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let uri = request.uri().clone();
        let origin = origin(&uri);
        let query = uri.query().map(str::to_owned);
        let map = |e: reqwest::Error| map_error(e, &origin, query.as_deref(), &self.config);

        let mut request =
            reqwest::Request::try_from(request).map_err(|e| TransportError::InvalidRequest {
                reason: Cause::scrubbed(&e.without_url(), query.as_deref()).to_string(),
            })?;
        // Applies to a shared client too, whose own timeout may be longer or absent.
        *request.timeout_mut() = Some(self.config.timeout_value());
        let sent_url = request.url().clone();

        let mut response = self.client.execute(request).await.map_err(map)?;
        if response.url() != &sent_url {
            return Err(TransportError::Interrupted {
                origin,
                cause: Cause::from_text(
                    "the HTTP client followed a redirect; build it with redirects disabled".into(),
                    query.as_deref(),
                ),
            });
        }

        let limit = self.config.max_body_bytes_value();
        let too_large = || TransportError::BodyTooLarge {
            origin: origin.clone(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = response.chunk().await.map_err(map)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }

        let mut out = http::Response::new(body);
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }

    fn sleeper(&self) -> Option<std::sync::Arc<dyn crate::AsyncSleep>> {
        Some(std::sync::Arc::new(crate::TokioSleep))
    }
}

fn map_error(
    err: reqwest::Error,
    origin: &str,
    query: Option<&str>,
    config: &TransportConfig,
) -> TransportError {
    // reqwest's Display includes the full URL, query (and so the access token) included.
    let err = err.without_url();
    let origin = origin.to_owned();
    if err.is_connect() {
        if err.is_timeout() {
            TransportError::Timeout {
                origin,
                phase: TimeoutPhase::Connect,
                after: config.connect_timeout_value(),
            }
        } else {
            TransportError::Connect {
                origin,
                cause: Cause::scrubbed(&err, query),
            }
        }
    } else if err.is_timeout() {
        TransportError::Timeout {
            origin,
            phase: TimeoutPhase::Exchange,
            after: config.timeout_value(),
        }
    } else if err.is_builder() {
        TransportError::InvalidRequest {
            reason: Cause::scrubbed(&err, query).to_string(),
        }
    } else {
        TransportError::Interrupted {
            origin,
            cause: Cause::scrubbed(&err, query),
        }
    }
}
