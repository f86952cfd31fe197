//! The client a backend builds once and shares: the exchange, the profile, the login.

use std::sync::Arc;
use std::time::Instant;

use http::header;
use neux_proto::{
    AccessToken, AuthCode, ClientId, Dialect, Scope, TOKEN_PATH, TokenRequest, TokenResponse,
    UserInfo, user_info_path_and_query,
};
use tracing::Instrument;

use crate::answer::{Call, Context, interpret};
use crate::builder::{ClientBuilder, Settings};
use crate::error::{BuildError, Error};
use crate::ledger::CodeKey;
use crate::retry::with_retries;
use crate::token::TokenSet;

/// A Neuxnet mini app login client: build once per app, clone freely (cheap: an `Arc`), share
/// across tasks.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use neux_oauth::{AuthCode, Client, Scope};
/// let client = Client::builder()
///     .client_id("tmfxzpo3g02unycoyl")
///     .secret(std::env::var("NEUX_SECRET")?)
///     .base_url("https://openapi.example.com")
///     .build()?;
/// let code = AuthCode::new("code-from-wx.login")?;
/// let (tokens, user) = client.login(&code, &Scope::default()).await?;
/// println!("logged in {} until {:?}", user.open_id, tokens.expires_at());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Settings>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.inner.client_id)
            .field("base_url", &self.inner.base)
            .field("dialect", &self.inner.dialect)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `NEUX_BASE_URL`, `NEUX_CLIENT_ID`, `NEUX_SECRET` and optionally
    /// `NEUX_DIALECT`, with the default transport. The error names the missing variable.
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder()
            .env_with(|name| std::env::var(name).ok())?
            .build()
    }

    /// The app's client id.
    pub fn client_id(&self) -> &ClientId {
        &self.inner.client_id
    }

    /// The dialect of the token call.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// The base URL (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Exchanges a one-time code for an access token.
    ///
    /// A code reaches the server at most once per client (per [`CodeLedger`](crate::CodeLedger)): the request is
    /// retried only when connecting failed before any byte went out, and a code that this client
    /// has already sent (concurrently, earlier, or in a call that was cancelled or timed out)
    /// is refused at once with [`Error::CodeAlreadyPresented`], without a request. The tokens
    /// go only to the call that sent the code.
    pub async fn exchange_code(&self, code: &AuthCode, scope: &Scope) -> Result<TokenSet, Error> {
        let span = tracing::info_span!(
            "neux.exchange_code",
            client_id = %self.inner.client_id,
            dialect = %self.inner.dialect,
            code = %code.fingerprint(),
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        self.inner.exchange(code, scope).instrument(span).await
    }

    /// Reads the user's profile with an access token. Idempotent, so transport failures and
    /// HTTP 5xx are retried per the [`RetryPolicy`](crate::RetryPolicy); API statuses are not.
    pub async fn user_info(&self, token: &AccessToken) -> Result<UserInfo, Error> {
        let span = tracing::info_span!(
            "neux.user_info",
            client_id = %self.inner.client_id,
            token = %token.fingerprint(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        self.inner.user_info(token).instrument(span).await
    }

    /// The whole login: [`exchange_code`](Self::exchange_code), then [`user_info`](Self::user_info).
    pub async fn login(
        &self,
        code: &AuthCode,
        scope: &Scope,
    ) -> Result<(TokenSet, UserInfo), Error> {
        let tokens = self.exchange_code(code, scope).await?;
        let user = self.user_info(tokens.access_token()).await?;
        Ok((tokens, user))
    }
}

impl ClientBuilder {
    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        Ok(Client {
            inner: Arc::new(self.into_settings()?),
        })
    }
}

impl Settings {
    async fn exchange(&self, code: &AuthCode, scope: &Scope) -> Result<TokenSet, Error> {
        let started = Instant::now();
        let key = CodeKey::of(code);
        let now = self.clock.now();
        let until = now.checked_add(self.code_lifetime).unwrap_or(now);
        let result = match self.ledger.claim(key, now, until).await {
            Ok(true) => {
                let result = self.exchange_claimed(code, scope).await;
                // Only a request that certainly never left may be presented again. A call
                // dropped before this line keeps its claim: it may have sent the code.
                if result
                    .as_ref()
                    .is_err_and(|e| !e.request_may_have_been_sent())
                {
                    self.ledger.release(key).await;
                }
                result
            }
            Ok(false) => Err(Error::CodeAlreadyPresented),
            Err(e) => Err(Error::Ledger(e)),
        };
        record(&result, started);
        result
    }

    async fn exchange_claimed(&self, code: &AuthCode, scope: &Scope) -> Result<TokenSet, Error> {
        let request = TokenRequest::new(
            self.client_id.clone(),
            code.clone(),
            scope.clone(),
            self.clock.timestamp(),
        );
        let body = request.encode(self.dialect, &self.secret);
        let url = format!("{}{TOKEN_PATH}", self.base);
        // Only a failure where nothing was sent may be retried: the code is single-use.
        let (response, _) = with_retries(
            &self.retry,
            self.sleeper.as_deref(),
            |e| matches!(e, Error::Transport(t) if t.is_safe_to_retry()),
            || async {
                let request = http::Request::post(url.as_str())
                    .header(header::CONTENT_TYPE, body.content_type())
                    .header(header::ACCEPT, "application/json")
                    .body(body.body().to_vec())
                    .map_err(|e| invalid_request(&e))?;
                Ok(self.transport.send(request).await?)
            },
        )
        .await;
        let token: TokenResponse = interpret(&response?, self.context(Call::Exchange), || {
            request.canonical_string_redacted(self.dialect)
        })
        .map_err(|e| e.scrub(code.expose_secret()))?;
        Ok(TokenSet::received(token, scope, self.clock.clone()))
    }

    async fn user_info(&self, token: &AccessToken) -> Result<UserInfo, Error> {
        let started = Instant::now();
        let url = format!("{}{}", self.base, user_info_path_and_query(token));
        // Reading a profile is idempotent: retried on what `is_retryable` says.
        let (result, attempts) = with_retries(
            &self.retry,
            self.sleeper.as_deref(),
            Error::is_retryable,
            || async {
                let request = http::Request::get(url.as_str())
                    .header(header::ACCEPT, "application/json")
                    .body(Vec::new())
                    .map_err(|e| invalid_request(&e))?;
                let response = self.transport.send(request).await?;
                interpret::<UserInfo>(&response, self.context(Call::Other), String::new)
                    .map_err(|e| e.scrub(token.expose_secret()))
            },
        )
        .await;
        tracing::Span::current().record("attempts", attempts);
        record(&result, started);
        result
    }

    /// What reading an answer to `call` needs, as of now.
    fn context(&self, call: Call) -> Context<'_> {
        Context {
            call,
            dialect: self.dialect,
            code_rejection: &self.code_rejection,
            now: self.clock.now(),
        }
    }
}

fn invalid_request(e: &http::Error) -> Error {
    Error::Transport(neux_transport::TransportError::InvalidRequest {
        reason: e.to_string(),
    })
}

fn record<T>(result: &Result<T, Error>, started: Instant) {
    let span = tracing::Span::current();
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    match result {
        Ok(_) => {
            span.record("status", "ok");
        }
        Err(e) => {
            span.record("status", e.kind());
            tracing::warn!(kind = e.kind(), error = %e, "neux call failed");
        }
    }
}
