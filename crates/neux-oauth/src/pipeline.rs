//! The one request pipeline every call goes through: build the HTTP request, send it on the
//! transport, resend only what the call's rule allows, read the answer, and mask what the
//! server may have echoed. It also owns each call's span: where the outcome and latency are
//! recorded, once.

use std::sync::Arc;

use http::{Method, header};
use neux_proto::{ApiStatus, Clock, Dialect, Stopwatch};
use neux_transport::{AsyncSleep, Transport};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::answer::{Context, Endpoint, interpret};
use crate::error::Error;
use crate::mask::Sensitive;
use crate::meter::{self, CallLabel};
use crate::retry::{RetryPolicy, with_retries};

/// The part of a client the pipeline works with: how to send, when to send again, how to read.
pub(crate) struct Pipeline {
    pub transport: Arc<dyn Transport>,
    pub retry: RetryPolicy,
    /// The timer between retries (none: no retries).
    pub sleeper: Option<Arc<dyn AsyncSleep>>,
    pub clock: Arc<dyn Clock>,
    pub dialect: Dialect,
    /// Statuses that mean "this code is refused", and "this code was used already".
    pub code_rejection: Vec<ApiStatus>,
    pub code_used: Vec<ApiStatus>,
}

/// One request, as the pipeline sends it on every attempt, and how to read its answer.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// Content type and body, for a POST.
    pub body: Option<(&'static str, &'a [u8])>,
    /// When it may be sent again.
    pub resend: Resend,
    /// What its answer's statuses mean.
    pub endpoint: Endpoint,
    /// Renders the masked string that was signed, for a 2000 (runs only then).
    pub canonical: &'a (dyn Fn() -> String + Sync),
    /// What the server may echo and every error must mask: a code, a token, sensitive values.
    pub sensitive: Sensitive<'a>,
    /// What the call is, for its metrics.
    pub label: CallLabel,
}

/// When a request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Only when nothing was sent (the connection failed before a byte went out): a one-time
    /// code, or a call that must not take effect twice.
    IfNothingSent,
    /// Whenever [`Error::is_retryable`] says so: an idempotent call.
    Idempotent,
}

impl Resend {
    fn allows(self, e: &Error) -> bool {
        match self {
            Self::IfNothingSent => matches!(e, Error::Transport(t) if t.is_safe_to_retry()),
            Self::Idempotent => e.is_retryable(),
        }
    }
}

impl Pipeline {
    /// Sends `request` and reads the answer as `T`, with at most the policy's retries: the payload,
    /// or the error with every sensitive value masked. The number of attempts goes on the span.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        request: &Request<'_>,
    ) -> Result<T, Error> {
        let (result, attempts) = with_retries(
            &self.retry,
            self.sleeper.as_deref(),
            |e| request.resend.allows(e),
            || async {
                let mut http = http::Request::builder()
                    .method(request.method.clone())
                    .uri(request.url)
                    .header(header::ACCEPT, "application/json");
                if let Some((content_type, _)) = request.body {
                    http = http.header(header::CONTENT_TYPE, content_type);
                }
                let http = http
                    .body(request.body.map(|(_, b)| b.to_vec()).unwrap_or_default())
                    .map_err(|e| invalid_request(&e))?;
                let response = self.transport.send(http).await?;
                interpret::<T>(
                    &response,
                    self.context(request.endpoint),
                    request.canonical,
                    request.sensitive,
                )
            },
        )
        .await;
        tracing::Span::current().record("attempts", attempts);
        meter::attempts(request.label, attempts);
        result.map_err(|e| e.scrub(&request.sensitive.mask()))
    }

    /// What reading an answer from `endpoint` needs, as of now.
    fn context(&self, endpoint: Endpoint) -> Context<'_> {
        Context {
            endpoint,
            dialect: self.dialect,
            code_rejection: &self.code_rejection,
            code_used: &self.code_used,
            now: self.clock.now(),
        }
    }
}

/// Runs one call of the client inside `span`, and records its outcome and latency there (and a
/// warning on failure) and in the metrics: the one place a call's end is recorded.
pub(crate) async fn observe<T>(
    span: tracing::Span,
    label: CallLabel,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let started = Stopwatch::start();
    let result = call.instrument(span.clone()).await;
    let elapsed = started.elapsed();
    span.record("latency_ms", elapsed.as_millis() as u64);
    let outcome = result.as_ref().map_or_else(Error::kind, |_| "ok");
    meter::call_ended(label, outcome, elapsed);
    match &result {
        Ok(_) => {
            span.record("status", "ok");
        }
        Err(e) => {
            span.record("status", outcome);
            span.in_scope(|| {
                tracing::warn!(
                    kind = e.kind(),
                    error = %e,
                    signed = e.signed_string(),
                    "neux call failed"
                );
            });
        }
    }
    result
}

fn invalid_request(e: &http::Error) -> Error {
    Error::Transport(neux_transport::TransportError::InvalidRequest {
        reason: e.to_string(),
    })
}
