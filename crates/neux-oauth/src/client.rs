//! The client a backend builds once and shares: the exchange, the profile, the login.

use neux_proto::Stopwatch;
use std::sync::Arc;

use http::Method;
use neux_proto::{
    AccessToken, AuthCode, ClientId, Dialect, Scope, TOKEN_PATH, TokenRequest, TokenResponse,
    UserInfo, user_info_path_and_query,
};
use tracing::Instrument;

use crate::answer::Kind;
use crate::builder::{ClientBuilder, Settings};
use crate::error::{BuildError, Error, SeenBy};
use crate::ledger::{Claim, CodeKey};
use crate::mask::Sensitive;
use crate::pipeline::{Outgoing, Resend, record};
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
    pub(crate) inner: Arc<Settings>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.inner.client_id)
            .field("base_url", &self.inner.base)
            .field("dialect", &self.inner.dialect)
            .field("transport", &self.inner.transport)
            .field("ledger", &self.inner.ledger)
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

    /// The dialect of the token call and of every signed call.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// The base URL (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Exchanges a one-time code for an access token.
    ///
    /// A code reaches the server at most once among the clients that share a
    /// [`CodeLedger`](crate::CodeLedger) (by default, every client of this process for the same
    /// platform and app): the request is retried only when connecting failed before any byte
    /// went out, and a code that was already sent (concurrently, earlier, or in a call that was
    /// cancelled or timed out) is refused at once with [`Error::CodeAlreadyPresented`], without
    /// a request. The tokens go only to the call that sent the code.
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
    ///
    /// When the exchange succeeds and reading the profile then fails, the code is spent but the
    /// tokens are not lost: the error is [`Error::LoginIncomplete`], which carries them, so the
    /// caller can retry `user_info` alone ([`Error::tokens`]).
    pub async fn login(
        &self,
        code: &AuthCode,
        scope: &Scope,
    ) -> Result<(TokenSet, UserInfo), Error> {
        let tokens = self.exchange_code(code, scope).await?;
        match self.user_info(tokens.access_token()).await {
            Ok(user) => Ok((tokens, user)),
            Err(error) => Err(Error::LoginIncomplete {
                tokens: Box::new(tokens),
                error: Box::new(error),
            }),
        }
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
        let started = Stopwatch::start();
        let key = CodeKey::of(code);
        let claim = self
            .ledger
            .claim(&self.client_id, key, self.clock.now(), self.code_lifetime)
            .await;
        let result = match claim {
            Ok(Claim::Won(ticket)) => {
                let result = self.exchange_claimed(code, scope).await;
                // Only a request that certainly never left may be presented again. A call
                // dropped before this line keeps its claim: it may have sent the code.
                if result
                    .as_ref()
                    .is_err_and(|e| !e.request_may_have_been_sent())
                    && let Err(e) = self.ledger.release(&self.client_id, key, ticket).await
                {
                    tracing::warn!(error = %e, "could not release the claim of a code that was never sent: it stays unusable until the claim lapses");
                }
                result
            }
            Ok(Claim::Taken) => Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger }),
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
        let out = Outgoing {
            method: Method::POST,
            url: &url,
            body: Some((body.content_type(), body.body())),
        };
        // The code is single-use: sent again only if it certainly never left.
        let (token, _) = self
            .send::<TokenResponse>(
                &out,
                Resend::IfNothingSent,
                Kind::Exchange,
                &|| request.canonical_string_redacted(self.dialect),
                Sensitive::Texts(&[code.expose_secret()]),
            )
            .await;
        Ok(TokenSet::received(token?, scope, self.clock.clone()))
    }

    async fn user_info(&self, token: &AccessToken) -> Result<UserInfo, Error> {
        let started = Stopwatch::start();
        let url = format!("{}{}", self.base, user_info_path_and_query(token));
        let out = Outgoing {
            method: Method::GET,
            url: &url,
            body: None,
        };
        // Reading a profile is idempotent.
        let (result, attempts) = self
            .send(
                &out,
                Resend::Idempotent,
                Kind::Unsigned,
                &String::new,
                Sensitive::Texts(&[token.expose_secret()]),
            )
            .await;
        tracing::Span::current().record("attempts", attempts);
        record(&result, started);
        result
    }
}
