//! The reqwest backend (tokio, rustls).

use crate::error::{Cause, TimeoutPhase, TransportError, origin};
use crate::{HttpRequest, HttpResponse, Transport, TransportConfig, async_trait};

/// A [`Transport`] over a `reqwest::Client` (feature `reqwest`, the default). Needs a tokio
/// runtime.
///
/// [`new`](Self::new) builds a client with the limits of a [`TransportConfig`], redirects off,
/// its proxy setting (the standard environment variables by default; loopback hosts never
/// proxied) and its extra root certificates. [`from_client`](Self::from_client) shares a client
/// (and its connection pool) that the application already has; the total timeout and body cap
/// still apply per request, but connecting, proxies and trusted roots follow that client's own
/// settings, and that client **must be built with `redirect(reqwest::redirect::Policy::none())`**:
/// a redirect it follows is detected and reported as an error, but only after the request went
/// to the other host.
///
/// `from_client` ties your code to the reqwest version neux-transport uses: neux-transport's
/// major version moves with reqwest's. Everything [`TransportConfig`] covers (timeouts, body cap,
/// proxy, root certificates) needs no reqwest types at all; prefer it.
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
        Self::from_builder(reqwest::Client::builder(), config)
    }

    /// A transport with its own client, built from a `reqwest::ClientBuilder` you prepared
    /// (DNS overrides, local address, HTTP/2 settings...) and then given everything
    /// [`TransportConfig`] sets, exactly as [`new`](Self::new) does: timeouts, no redirects, the
    /// proxy rules and the extra roots. Settings of yours that the config also sets are
    /// replaced.
    ///
    /// ```
    /// use neux_transport::{ReqwestTransport, TransportConfig};
    /// let builder = reqwest::Client::builder().resolve("api.example.test", ([127, 0, 0, 1], 8443).into());
    /// let transport = ReqwestTransport::from_builder(builder, TransportConfig::default())?;
    /// # Ok::<(), neux_transport::TransportError>(())
    /// ```
    pub fn from_builder(
        builder: reqwest::ClientBuilder,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        let unavailable = |reason: String| TransportError::Unavailable { reason };
        // rustls unless only native TLS was asked for (both may be on in one build).
        #[cfg(feature = "reqwest")]
        let builder = builder.tls_backend_rustls();
        #[cfg(all(feature = "native-tls", not(feature = "reqwest")))]
        let builder = builder.tls_backend_native();
        let mut builder = builder
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout_value())
            .connect_timeout(config.connect_timeout_value())
            // reqwest's own reading of the environment is off: ours also keeps loopback direct.
            .no_proxy();
        // An unusable proxy is refused here: reqwest's custom proxy would quietly go direct.
        let rules = config
            .proxy_value()
            .resolve(|name| std::env::var(name).ok())
            .map_err(|e| unavailable(e.to_string()))?;
        if !rules.is_empty() {
            builder = builder.proxy(reqwest::Proxy::custom(move |url| {
                rules
                    .for_url(url.scheme(), url.host_str()?)
                    .map(str::to_owned)
            }));
        }
        #[cfg(any(feature = "reqwest", feature = "native-tls"))]
        for root in config.root_certificates() {
            let certs = reqwest::Certificate::from_pem_bundle(root.pem()).map_err(|e| {
                unavailable(format!(
                    "an extra root certificate is not PEM: {}",
                    Cause::scrubbed(&e, None)
                ))
            })?;
            if certs.is_empty() {
                return Err(unavailable(
                    "an extra root certificate holds no PEM certificate".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        #[cfg(not(any(feature = "reqwest", feature = "native-tls")))]
        if !config.root_certificates().is_empty() {
            return Err(unavailable(
                "extra root certificates need TLS: enable the `reqwest` (rustls) or `native-tls` feature".into(),
            ));
        }
        let client = builder.build().map_err(|e| TransportError::Unavailable {
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
        let origin = origin(request.uri());
        let exchange = std::pin::pin!(self.exchange(request));
        crate::unwind::guarded(&origin, exchange).await
    }

    fn sleeper(&self) -> Option<std::sync::Arc<dyn crate::AsyncSleep>> {
        Some(std::sync::Arc::new(crate::TokioSleep))
    }
}

impl ReqwestTransport {
    async fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        // The URI is kept (a cheap clone) to name the origin and scrub the query in errors; the
        // strings are made only when an error needs them.
        let uri = request.uri().clone();
        let query = uri.query();
        let map = |e: reqwest::Error| map_error(e, &origin(&uri), query, &self.config);

        let mut request =
            reqwest::Request::try_from(request).map_err(|e| TransportError::InvalidRequest {
                reason: Cause::scrubbed(&e.without_url(), query).to_string(),
            })?;
        // Applies to a shared client too, whose own timeout may be longer or absent.
        *request.timeout_mut() = Some(self.config.timeout_value());
        let sent_url = request.url().clone();

        let mut response = self.client.execute(request).await.map_err(map)?;
        if response.url() != &sent_url {
            return Err(TransportError::Interrupted {
                origin: origin(&uri),
                cause: Cause::from_text(
                    "the HTTP client followed a redirect; build it with redirects disabled".into(),
                    query,
                ),
            });
        }

        let limit = self.config.max_body_bytes_value();
        let too_large = || TransportError::BodyTooLarge {
            origin: origin(&uri),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit))
        {
            return Err(too_large());
        }
        // The buffer grows with what arrives: the server's declared length sizes nothing (a
        // 1-byte body declaring the cap would otherwise make us allocate the whole cap).
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map)? {
            if body.len().saturating_add(chunk.len()) > limit {
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
            let cause = Cause::scrubbed(&err, query);
            // An untrusted certificate fails the TLS handshake: say what fixes it.
            let cause = if cause.as_str().contains("certificate") {
                Cause::from_text(
                    format!(
                        "{cause} (the server's certificate is not trusted: if a private CA or a TLS-inspecting gateway signs it, add that CA with TransportConfig::add_root_certificate_pem)"
                    ),
                    None,
                )
            } else {
                cause
            };
            TransportError::Connect { origin, cause }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The future `send` returns holds the exchange once: a future that is moved copies all of
    /// it, and this one is moved into async-trait's box, then polled from cold memory. (The
    /// guard around it once held the exchange twice, as its argument and as its pinned local.)
    #[test]
    fn the_send_future_holds_the_exchange_once() {
        let transport =
            ReqwestTransport::from_client(reqwest::Client::new(), TransportConfig::default());
        let request = || {
            http::Request::post("http://127.0.0.1:9/v1/oauth/token")
                .body(Vec::new())
                .unwrap()
        };
        let exchange = std::mem::size_of_val(&transport.exchange(request()));
        let send = transport.send(request());
        let send = std::mem::size_of_val(&*send);
        assert!(exchange > 512, "the exchange is {exchange} bytes");
        // Once, plus the request async-trait keeps as the call's argument and the guard's own
        // few words (1,816 bytes here, and 3,024 when the exchange was in it twice).
        assert!(
            send < 2 * exchange,
            "send's future is {send} bytes around an exchange of {exchange}"
        );
    }
}
