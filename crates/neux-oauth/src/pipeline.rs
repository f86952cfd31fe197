//! The one request pipeline every call goes through: build the HTTP request, send it on the
//! transport, resend only what the call's rule allows, read the answer, and mask what the
//! server may have echoed.

use http::{Method, header};
use serde::de::DeserializeOwned;

use crate::answer::{Context, Kind, interpret};
use crate::builder::Settings;
use crate::error::Error;
use crate::mask::Sensitive;
use crate::retry::with_retries;

/// One request, as the pipeline sends it (on every attempt).
pub(crate) struct Outgoing<'a> {
    pub method: Method,
    pub url: &'a str,
    /// Content type and body, for a POST.
    pub body: Option<(&'static str, &'a [u8])>,
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

impl Settings {
    /// Sends `out` and reads the answer as `T`, with at most the policy's retries. `canonical`
    /// renders the masked string that was signed (for a 2000); `sensitive` are the values the
    /// server may echo (a code, a token, a caller's sensitive values), masked in every error.
    /// Returns how many attempts were made.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        out: &Outgoing<'_>,
        resend: Resend,
        kind: Kind,
        canonical: &(dyn Fn() -> String + Sync),
        sensitive: Sensitive<'_>,
    ) -> (Result<T, Error>, u32) {
        let (result, attempts) = with_retries(
            &self.retry,
            self.sleeper.as_deref(),
            |e| resend.allows(e),
            || async {
                let mut request = http::Request::builder()
                    .method(out.method.clone())
                    .uri(out.url)
                    .header(header::ACCEPT, "application/json");
                if let Some((content_type, _)) = out.body {
                    request = request.header(header::CONTENT_TYPE, content_type);
                }
                let request = request
                    .body(out.body.map(|(_, b)| b.to_vec()).unwrap_or_default())
                    .map_err(|e| invalid_request(&e))?;
                let response = self.transport.send(request).await?;
                interpret::<T>(&response, self.context(kind), canonical, sensitive)
            },
        )
        .await;
        let result = result.map_err(|e| e.scrub(&sensitive.mask()));
        (result, attempts)
    }

    /// What reading an answer of `kind` needs, as of now.
    fn context(&self, kind: Kind) -> Context<'_> {
        Context {
            kind,
            dialect: self.dialect,
            code_rejection: &self.code_rejection,
            code_used: &self.code_used,
            now: self.clock.now(),
        }
    }
}

fn invalid_request(e: &http::Error) -> Error {
    Error::Transport(neux_transport::TransportError::InvalidRequest {
        reason: e.to_string(),
    })
}

/// Records a call's outcome and latency on the current span, and warns on failure.
pub(crate) fn record<T>(result: &Result<T, Error>, started: neux_proto::Stopwatch) {
    let span = tracing::Span::current();
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    match result {
        Ok(_) => {
            span.record("status", "ok");
        }
        Err(e) => {
            span.record("status", e.kind());
            tracing::warn!(
                kind = e.kind(),
                error = %e,
                signed = e.signed_string(),
                "neux call failed"
            );
        }
    }
}
