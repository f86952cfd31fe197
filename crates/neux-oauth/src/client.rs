//! The client a backend builds once and shares: the exchange, the profile, the login.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use neux_proto::{
    AccessToken, AppSecret, AuthCode, ClientId, Clock, Dialect, Scope, TOKEN_PATH, TokenRequest,
    TokenResponse, UserInfo, user_info_path_and_query,
};

use crate::answer::Endpoint;
use crate::error::{Error, SeenBy};
use crate::ledger::{Claim, CodeKey, CodeLedger};
use crate::mask::Sensitive;
use crate::meter::{self, CallLabel};
use crate::pipeline::{Pipeline, Request, Resend, observe};
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
    pub(crate) inner: Arc<Core>,
}

/// A client's checked settings and the parts it calls with: what every clone shares.
pub(crate) struct Core {
    pub(crate) client_id: ClientId,
    pub(crate) secret: AppSecret,
    pub(crate) base: String,
    pub(crate) dialect: Dialect,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ledger: Arc<dyn CodeLedger>,
    pub(crate) code_lifetime: Duration,
    /// Sending, resending and reading answers.
    pub(crate) pipeline: Pipeline,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.inner.client_id)
            .field("base_url", &self.inner.base)
            .field("dialect", &self.inner.dialect)
            .field("transport", &self.inner.pipeline.transport)
            .field("ledger", &self.inner.ledger)
            .finish_non_exhaustive()
    }
}

impl Client {
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
            attempts = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        observe(
            span,
            CallLabel::exchange(),
            self.inner.exchange(code, scope),
        )
        .await
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
        observe(span, CallLabel::user_info(), self.inner.user_info(token)).await
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

impl Core {
    async fn exchange(&self, code: &AuthCode, scope: &Scope) -> Result<TokenSet, Error> {
        let key = CodeKey::of(code);
        let claim = self
            .ledger
            .claim(&self.client_id, key, self.clock.now(), self.code_lifetime)
            .await;
        meter::claim(match &claim {
            Ok(Claim::Won(_)) => "won",
            Ok(Claim::Taken) => "taken",
            Err(e) if e.is_full() => "full",
            Err(e) if e.is_unsafe() => "unsafe",
            Err(_) => "unavailable",
        });
        match claim {
            Ok(Claim::Won(ticket)) => {
                let result = self.exchange_claimed(code, scope).await;
                // Only a request that certainly never left may be presented again. A call
                // dropped before this line keeps its claim: it may have sent the code.
                if result
                    .as_ref()
                    .is_err_and(|e| !e.request_may_have_been_sent())
                {
                    let released = self.ledger.release(&self.client_id, key, ticket).await;
                    meter::release(released.is_ok());
                    if let Err(e) = released {
                        tracing::warn!(error = %e, "could not release the claim of a code that was never sent: it stays unusable until the claim lapses");
                    }
                }
                result
            }
            Ok(Claim::Taken) => Err(Error::CodeAlreadyPresented { by: SeenBy::Ledger }),
            Err(e) => Err(Error::Ledger(e)),
        }
    }

    async fn exchange_claimed(&self, code: &AuthCode, scope: &Scope) -> Result<TokenSet, Error> {
        let token = TokenRequest::new(
            self.client_id.clone(),
            code.clone(),
            scope.clone(),
            self.clock.timestamp(),
        );
        let body = token.encode(self.dialect, &self.secret);
        let url = format!("{}{TOKEN_PATH}", self.base);
        let request = Request {
            method: Method::POST,
            url: &url,
            body: Some((body.content_type(), body.body())),
            // The code is single-use: sent again only if it certainly never left.
            resend: Resend::IfNothingSent,
            endpoint: Endpoint::Token,
            canonical: &|| token.canonical_string_redacted(self.dialect),
            sensitive: Sensitive::Texts(&[code.expose_secret()]),
            label: CallLabel::exchange(),
        };
        let answer = self.pipeline.send::<TokenResponse>(&request).await?;
        Ok(TokenSet::received(answer, scope, self.clock.clone()))
    }

    async fn user_info(&self, token: &AccessToken) -> Result<UserInfo, Error> {
        let url = format!("{}{}", self.base, user_info_path_and_query(token));
        let request = Request {
            method: Method::GET,
            url: &url,
            body: None,
            // Reading a profile is idempotent.
            resend: Resend::Idempotent,
            endpoint: Endpoint::Profile,
            canonical: &String::new,
            sensitive: Sensitive::Texts(&[token.expose_secret()]),
            label: CallLabel::user_info(),
        };
        self.pipeline.send(&request).await
    }
}
