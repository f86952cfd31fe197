//! The surf backend (h1 client, native TLS; runs on async-std's reactor thread).

use std::str::FromStr;

use futures_lite::AsyncReadExt;

use crate::error::{Cause, TimeoutPhase, TransportError, origin};
use crate::{HttpRequest, HttpResponse, Transport, TransportConfig, async_trait};

/// A [`Transport`] over a `surf::Client` (feature `surf`). Works from any executor, tokio's
/// included: surf's I/O runs on async-std's own reactor thread.
///
/// surf never follows redirects unless its `Redirect` middleware is added, so do not add it to
/// a client passed to [`from_client`](Self::from_client).
///
/// Timeouts: surf's h1 backend bounds only the request/response head, not connecting or the
/// body, so this transport puts its own deadline of [`TransportConfig::timeout`] around the
/// whole exchange. The backend exposes no separate connect timeout: a connect that hangs ends at
/// the total timeout and is reported as a [`TimeoutPhase::Exchange`] timeout, which (wrongly but
/// safely) says the request may have been sent, so a one-time code is never retried on a guess.
/// Refused connections are still told apart: they are reported as
/// [`TransportError::Connect`]. The deadline is an `async_io` timer, registered with async-io's
/// reactor thread on every exchange: about 5 % of the client's CPU on a sequential loopback
/// login (docs/benchmarks.md), the price of bounding the whole exchange.
///
/// Proxies and extra root certificates: surf's h1 client can use neither. A
/// [`TransportConfig`] with extra root certificates is refused by [`new`](Self::new); a request
/// that its proxy setting (the environment's `HTTPS_PROXY`/`HTTP_PROXY` by default) would send
/// through a proxy fails with [`TransportError::Unavailable`] (nothing sent) instead of
/// silently going direct. Loopback hosts are never proxied, so a local sandbox works anyway.
/// Behind a proxy or a private CA, use the reqwest transport.
///
/// ```
/// use neux_transport::{SurfTransport, TransportConfig};
/// let transport = SurfTransport::new(TransportConfig::default())?;
/// # Ok::<(), neux_transport::TransportError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SurfTransport {
    client: surf::Client,
    config: TransportConfig,
    proxies: crate::ProxyRules,
}

impl SurfTransport {
    /// A transport with its own client: no middleware, and one connection per exchange (see
    /// [`from_client`](Self::from_client) for why).
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        if !config.root_certificates().is_empty() {
            return Err(TransportError::Unavailable {
                reason: "the surf transport cannot trust extra root certificates (its h1 client takes the system's): use the reqwest transport, or add the CA to the system's trust store".into(),
            });
        }
        // Building from a Config cannot fail (`Infallible`); the Result keeps the constructor's
        // shape the same as the other backends'.
        let client = match surf::Client::try_from(
            surf::Config::new()
                // Our own deadline (in `send`) covers connect, head and body; surf's would only
                // race it with a less precise error.
                .set_timeout(None)
                .set_tcp_no_delay(true)
                // http-client's h1 pool puts a connection back even when its response was not
                // read to the end (body cap, timeout), and the next request on it then parses
                // leftover body bytes as its answer. A fresh connection per exchange is the
                // only way to stay correct; the cost is one TCP (and TLS) handshake per call.
                .set_http_keep_alive(false),
        ) {
            Ok(client) => client,
            Err(never) => match never {},
        };
        Self::from_client(client, config)
    }

    /// A transport over an existing client, sharing its connection pool.
    ///
    /// Beware of pooling (`http_keep_alive`, on by default): surf's h1 pool reuses a connection
    /// whose response was abandoned part-way (a body over the cap, a timeout), and the next
    /// request on it reads garbage. Build the client with `set_http_keep_alive(false)` unless
    /// every server it talks to is trusted to answer small and fast.
    ///
    /// Fails with [`TransportError::Unavailable`] when the proxy setting cannot be used (see
    /// [`ProxyConfig::resolve`](crate::ProxyConfig::resolve)).
    pub fn from_client(
        client: surf::Client,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        let proxies = config
            .proxy_value()
            .resolve(|name| std::env::var(name).ok())
            .map_err(|e| TransportError::Unavailable {
                reason: e.to_string(),
            })?;
        Ok(Self {
            client,
            config,
            proxies,
        })
    }

    async fn exchange(
        &self,
        request: HttpRequest,
        origin: &str,
        query: Option<&str>,
    ) -> Result<HttpResponse, TransportError> {
        let invalid = |reason: String| TransportError::InvalidRequest { reason };
        let (parts, body) = request.into_parts();
        let url = surf::Url::parse(&parts.uri.to_string())
            .map_err(|e| invalid(Cause::from_text(format!("bad URL: {e}"), query).to_string()))?;
        let method = surf::http::Method::from_str(parts.method.as_str())
            .map_err(|_| invalid(format!("unsupported method {}", parts.method)))?;
        let mut req = surf::Request::new(method, url);
        if !body.is_empty() || parts.method != http::Method::GET {
            req.set_body(surf::Body::from_bytes(body));
        }
        // After the body: our headers (Content-Type above all) win over surf's guesses.
        for name in parts.headers.keys() {
            for (i, value) in parts.headers.get_all(name).iter().enumerate() {
                let value = value
                    .to_str()
                    .map_err(|_| invalid(format!("header {name} is not visible ASCII")))?;
                if i == 0 {
                    req.insert_header(name.as_str(), value);
                } else {
                    req.append_header(name.as_str(), value);
                }
            }
        }

        let mut res = self.client.send(req).await.map_err(|e| {
            let cause = Cause::scrubbed(e.as_ref(), query);
            // A user's client may carry its own timeout; async-std's error type is not ours to
            // name, so it is recognised by its fixed message.
            if cause.as_str().contains("future has timed out") {
                TransportError::Timeout {
                    origin: origin.to_owned(),
                    phase: TimeoutPhase::Exchange,
                    after: self.config.timeout_value(),
                }
            } else if not_sent(&e) {
                TransportError::Connect {
                    origin: origin.to_owned(),
                    cause,
                }
            } else {
                TransportError::Interrupted {
                    origin: origin.to_owned(),
                    cause,
                }
            }
        })?;

        let limit = self.config.max_body_bytes_value();
        let too_large = || TransportError::BodyTooLarge {
            origin: origin.to_owned(),
            limit,
        };
        let body = res.take_body();
        let declared = body.len();
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        // The buffer grows with what arrives: the server's declared length sizes nothing.
        let mut bytes = Vec::new();
        // Read at most one byte past the cap: enough to know it was passed.
        let past_the_cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        body.take(past_the_cap)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| TransportError::Interrupted {
                origin: origin.to_owned(),
                cause: Cause::scrubbed(&e, query),
            })?;
        if bytes.len() > limit {
            return Err(too_large());
        }
        // async-h1 ends a body at the connection's end without checking it against the
        // declared length: a cut answer is an interrupted exchange, as hyper reports it.
        if declared.is_some_and(|n| bytes.len() < n) {
            return Err(TransportError::Interrupted {
                origin: origin.to_owned(),
                cause: Cause::from_text(
                    format!(
                        "the answer ended after {} of its declared {} bytes",
                        bytes.len(),
                        declared.unwrap_or_default()
                    ),
                    None,
                ),
            });
        }

        let mut out = http::Response::new(bytes);
        *out.status_mut() = http::StatusCode::from_u16(res.status() as u16).map_err(|_| {
            TransportError::Interrupted {
                origin: origin.to_owned(),
                cause: Cause::from_text("invalid status code".into(), None),
            }
        })?;
        for (name, values) in res.iter() {
            for value in values.iter() {
                if let (Ok(n), Ok(v)) = (
                    http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
                    http::header::HeaderValue::from_str(value.as_str()),
                ) {
                    out.headers_mut().append(n, v);
                }
            }
        }
        Ok(out)
    }
}

/// Whether a surf error happened before any byte of the request was written.
fn not_sent(e: &surf::Error) -> bool {
    use std::io::ErrorKind::*;
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        // Errors that only connecting can produce.
        return matches!(
            io.kind(),
            ConnectionRefused | AddrNotAvailable | AddrInUse | HostUnreachable | NetworkUnreachable
        );
    }
    // http-client's h1 backend fails with 400 only before anything is written (pool, connect,
    // URL); failures while exchanging bytes carry 500.
    e.status() == surf::StatusCode::BadRequest
}

#[async_trait]
impl Transport for SurfTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let origin = origin(request.uri());
        let (scheme, host) = (
            request.uri().scheme_str().unwrap_or(""),
            request.uri().host().unwrap_or(""),
        );
        if self.proxies.for_url(scheme, host).is_some() {
            return Err(TransportError::Unavailable {
                reason: format!(
                    "the proxy setting (HTTPS_PROXY/HTTP_PROXY, or TransportConfig::proxy) applies to {origin}, but the surf transport cannot use a proxy: use the reqwest transport, or exempt the host (NO_PROXY, ProxyConfig::None)"
                ),
            });
        }
        let query = request.uri().query().map(str::to_owned);
        let total = self.config.timeout_value();
        let exchange = std::pin::pin!(self.exchange(request, &origin, query.as_deref()));
        let work = crate::unwind::guarded(&origin, exchange);
        let deadline = async {
            async_io::Timer::after(total).await;
            Err(TransportError::Timeout {
                origin: origin.clone(),
                phase: TimeoutPhase::Exchange,
                after: total,
            })
        };
        futures_lite::future::or(work, deadline).await
    }

    fn sleeper(&self) -> Option<std::sync::Arc<dyn crate::AsyncSleep>> {
        Some(std::sync::Arc::new(crate::AsyncIoSleep))
    }
}
