//! The client a backend builds once and shares.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header;
use neux_proto::{
    AccessToken, ApiError, ApiStatus, AppSecret, AuthCode, ClientId, Clock, Dialect, Envelope,
    InvalidInput, OpenId, ResponseError, Scope, TOKEN_PATH, TokenRequest, TokenResponse, UserInfo,
    parse_http_date, redact, user_info_path_and_query,
};
use neux_transport::{AsyncSleep, HttpResponse, SystemClock, Transport, TransportConfig};
use tracing::Instrument;

use crate::error::{BuildError, Error, Skew};
use crate::ledger::{CodeKey, CodeLedger, InMemoryLedger};
use crate::retry::{RetryPolicy, with_retries};

/// How long the platform keeps a code valid, as far as anyone documents: the default for
/// [`ClientBuilder::code_lifetime`].
pub const DEFAULT_CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The longest token lifetime a [`TokenSet`] believes: a larger `expire` (the platform sends
/// 604800, 7 days) is clamped to this, so an absurd number cannot overflow the clock or keep a
/// token alive forever.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The statuses neux-sandbox uses for refused codes (unknown, expired, used, other client). The
/// platform documents none; see [`ClientBuilder::code_rejection_statuses`].
pub const SANDBOX_CODE_REJECTION_STATUSES: [ApiStatus; 4] = neux_proto::status::CODE_REFUSALS;

/// Configures a [`Client`]. `client_id`, `secret` and `base_url` are required.
pub struct ClientBuilder {
    client_id: Option<Result<ClientId, InvalidInput>>,
    secret: Option<Result<AppSecret, InvalidInput>>,
    base_url: Option<String>,
    dialect: Dialect,
    transport: Option<Arc<dyn Transport>>,
    transport_config: TransportConfig,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    code_rejection: Vec<ApiStatus>,
    allow_insecure_http: bool,
    ledger: Option<Arc<dyn CodeLedger>>,
    code_lifetime: Duration,
    sleeper: Option<Arc<dyn AsyncSleep>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "client_id",
                &self.client_id.as_ref().and_then(|r| r.as_ref().ok()),
            )
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .field("base_url", &self.base_url)
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            client_id: None,
            secret: None,
            base_url: None,
            dialect: Dialect::Json,
            transport: None,
            transport_config: TransportConfig::default(),
            clock: Arc::new(SystemClock),
            retry: RetryPolicy::default(),
            code_rejection: SANDBOX_CODE_REJECTION_STATUSES.to_vec(),
            allow_insecure_http: false,
            ledger: None,
            code_lifetime: DEFAULT_CODE_LIFETIME,
            sleeper: None,
        }
    }
}

impl ClientBuilder {
    /// The mini app's id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(ClientId::new(id));
        self
    }

    /// The app secret. It is only ever hashed into signatures.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(AppSecret::new(secret));
        self
    }

    /// The platform's origin, e.g. `https://api.example.com` (the platform gives each mini app
    /// its hosts; there is deliberately no default). A path prefix is kept. Plain `http` is
    /// refused except for loopback hosts, unless [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The token call's wire form (default [`Dialect::Json`]).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The transport to send requests with (default: the enabled backend's, built with this
    /// builder's timeouts and body cap).
    pub fn transport(mut self, transport: impl Transport + 'static) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// A shared transport.
    pub fn shared_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The clock used for timestamps and token expiry (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Total time allowed per HTTP exchange, for the default transport (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.transport_config = self.transport_config.timeout(d);
        self
    }

    /// Time allowed to connect, for the default transport (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.transport_config = self.transport_config.connect_timeout(d);
        self
    }

    /// Largest response body, for the default transport (default 1 MiB).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.transport_config = self.transport_config.max_body_bytes(n);
        self
    }

    /// How `user_info` is retried, and how often `exchange_code` retries a connection that
    /// failed before anything was sent (default: 2 retries, 100 ms base, 2 s cap).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Envelope statuses that mean "this code is refused" and become [`Error::CodeRejected`].
    /// The platform documents none, so the default is neux-sandbox's
    /// ([`SANDBOX_CODE_REJECTION_STATUSES`]); add the statuses your platform host answers with.
    /// Any other status is carried through unchanged as [`Error::Api`].
    pub fn code_rejection_statuses(
        mut self,
        statuses: impl IntoIterator<Item = ApiStatus>,
    ) -> Self {
        self.code_rejection = statuses.into_iter().collect();
        self
    }

    /// Where presented codes are recorded (default: an [`InMemoryLedger`] of 100,000 codes, for
    /// this client alone). Give every instance of a backend one shared ledger to keep a code
    /// from being presented once per instance; see [`CodeLedger`].
    pub fn code_ledger(mut self, ledger: impl CodeLedger + 'static) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    /// How long a presented code is remembered: at least as long as the platform keeps a code
    /// valid (default [`DEFAULT_CODE_LIFETIME`], 5 minutes).
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// The timer for the backoff between retries (default: the transport's own, see
    /// [`Transport::sleeper`]). Needed only for a transport that offers none.
    pub fn sleeper(mut self, sleeper: impl AsyncSleep + 'static) -> Self {
        self.sleeper = Some(Arc::new(sleeper));
        self
    }

    /// Allows a plain-`http` base URL on a non-loopback host (codes and tokens would cross the
    /// network unencrypted: for private test networks only).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Reads `NEUX_BASE_URL`, `NEUX_CLIENT_ID`, `NEUX_SECRET` and, optionally, `NEUX_DIALECT`
    /// (`json` or `form`) through `lookup`, onto this builder.
    pub fn env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let get = |name: &'static str| lookup(name).ok_or(BuildError::MissingEnv(name));
        self = self
            .base_url(get("NEUX_BASE_URL")?)
            .client_id(get("NEUX_CLIENT_ID")?)
            .secret(get("NEUX_SECRET")?);
        if let Some(d) = lookup("NEUX_DIALECT") {
            self.dialect =
                d.parse()
                    .map_err(|e: neux_proto::DialectParseError| BuildError::Invalid {
                        field: "NEUX_DIALECT",
                        reason: e.to_string(),
                    })?;
        }
        Ok(self)
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let client_id = self
            .client_id
            .ok_or(BuildError::Missing("client_id"))?
            .map_err(|e| BuildError::Invalid {
                field: "client_id",
                reason: e.to_string(),
            })?;
        let secret = self
            .secret
            .ok_or(BuildError::Missing("secret"))?
            .map_err(|e| BuildError::Invalid {
                field: "secret",
                reason: e.to_string(),
            })?;
        let base = base_url(
            self.base_url
                .as_deref()
                .ok_or(BuildError::Missing("base_url"))?,
            self.allow_insecure_http,
        )?;
        let transport = match self.transport {
            Some(t) => t,
            None => neux_transport::default_transport(self.transport_config).map_err(|e| {
                BuildError::Invalid {
                    field: "transport",
                    reason: e.to_string(),
                }
            })?,
        };
        let sleeper = self.sleeper.or_else(|| transport.sleeper());
        if sleeper.is_none() && self.retry.max_retries_value() > 0 {
            return Err(BuildError::Invalid {
                field: "sleeper",
                reason: "the transport offers no timer to wait between retries: give one with \
                         ClientBuilder::sleeper, or turn retries off with RetryPolicy::none()"
                    .into(),
            });
        }
        Ok(Client {
            inner: Arc::new(Inner {
                client_id,
                secret,
                base,
                dialect: self.dialect,
                transport,
                clock: self.clock,
                retry: self.retry,
                code_rejection: self.code_rejection,
                ledger: self
                    .ledger
                    .unwrap_or_else(|| Arc::new(InMemoryLedger::default())),
                code_lifetime: self.code_lifetime,
                sleeper,
            }),
        })
    }
}

/// Validates a base URL and returns it without a trailing slash.
fn base_url(url: &str, allow_insecure_http: bool) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::Invalid {
        field: "base_url",
        reason: reason.to_owned(),
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| invalid("no scheme: use https://host"))?;
    let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
    if uri.query().is_some() {
        return Err(invalid("must not have a query string"));
    }
    if authority.as_str().contains('@') {
        return Err(invalid("must not carry credentials"));
    }
    match scheme {
        "https" => {}
        "http" => {
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback && !allow_insecure_http {
                return Err(invalid(
                    "plain http is only allowed for loopback hosts (codes and tokens would travel unencrypted); use https",
                ));
            }
        }
        _ => return Err(invalid("scheme must be https (or http for loopback)")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

struct Inner {
    client_id: ClientId,
    secret: AppSecret,
    base: String,
    dialect: Dialect,
    transport: Arc<dyn Transport>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    code_rejection: Vec<ApiStatus>,
    ledger: Arc<dyn CodeLedger>,
    code_lifetime: Duration,
    sleeper: Option<Arc<dyn AsyncSleep>>,
}

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
    inner: Arc<Inner>,
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

/// An access token with what is known about it.
#[derive(Debug, Clone)]
pub struct TokenSet {
    access_token: AccessToken,
    token_type: Option<String>,
    scope: Scope,
    obtained_at: SystemTime,
    expires_at: SystemTime,
    open_id: Option<OpenId>,
    clock: Arc<dyn Clock>,
}

impl TokenSet {
    /// The access token (a secret: never log it).
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    /// `tokenType` as the platform sent it (`bearer`).
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }
    /// The scope that was requested and granted.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
    /// When the token was received, by the client's clock.
    pub fn obtained_at(&self) -> SystemTime {
        self.obtained_at
    }
    /// When the token expires: receipt time plus the platform's `expire` seconds.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
    /// The openId read (unverified) from the token's payload, when it carries one.
    pub fn open_id(&self) -> Option<&OpenId> {
        self.open_id.as_ref()
    }
    /// Whether the token has expired by the clock of the client that obtained it.
    pub fn is_expired(&self) -> bool {
        self.clock.now() >= self.expires_at
    }
    /// Time left before expiry (zero once expired).
    pub fn expires_in(&self) -> Duration {
        self.expires_at
            .duration_since(self.clock.now())
            .unwrap_or(Duration::ZERO)
    }
}

/// Which call an answer belongs to (the same status means different things in each).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Call {
    Exchange,
    UserInfo,
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
    /// A code reaches the server at most once per client (per [`CodeLedger`]): the request is
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
    /// HTTP 5xx are retried per the [`RetryPolicy`]; API statuses are not.
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

impl Inner {
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
        let token: TokenResponse = self
            .interpret(&response?, Call::Exchange, || {
                request.canonical_string_redacted(self.dialect)
            })
            .map_err(|e| e.scrub(code.expose_secret()))?;
        let now = self.clock.now();
        let open_id = token
            .access_token
            .claims_unverified()
            .ok()
            .and_then(|c| c.open_id);
        let lifetime = Duration::from_secs(token.expires_in).min(MAX_TOKEN_LIFETIME);
        Ok(TokenSet {
            // A clock so far ahead that even the clamped lifetime overflows it: expired.
            expires_at: now.checked_add(lifetime).unwrap_or(now),
            obtained_at: now,
            token_type: token.token_type,
            scope: scope.clone(),
            open_id,
            access_token: token.access_token,
            clock: self.clock.clone(),
        })
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
                self.interpret::<UserInfo>(&response, Call::UserInfo, String::new)
                    .map_err(|e| e.scrub(token.expose_secret()))
            },
        )
        .await;
        tracing::Span::current().record("attempts", attempts);
        record(&result, started);
        result
    }

    /// Turns an HTTP answer into the payload or the error that says what happened.
    fn interpret<T: serde::de::DeserializeOwned>(
        &self,
        res: &HttpResponse,
        call: Call,
        canonical: impl FnOnce() -> String,
    ) -> Result<T, Error> {
        match Envelope::<T>::decode(res.body()) {
            Ok(v) => Ok(v),
            Err(ResponseError::Api(api)) => Err(self.classify(api, call, res, canonical)),
            Err(ResponseError::Decode(d)) if !res.status().is_success() => Err(Error::Http {
                status: res.status().as_u16(),
                excerpt: d.excerpt().to_owned(),
            }),
            Err(ResponseError::Decode(d)) => Err(Error::Decode(d)),
            Err(_) => Err(Error::Http {
                status: res.status().as_u16(),
                excerpt: redact(&String::from_utf8_lossy(
                    &res.body()[..res.body().len().min(120)],
                )),
            }),
        }
    }

    fn classify(
        &self,
        api: ApiError,
        call: Call,
        res: &HttpResponse,
        canonical: impl FnOnce() -> String,
    ) -> Error {
        let ApiError {
            status, message, ..
        } = api;
        match status {
            ApiStatus::SIGNATURE_REJECTED if call == Call::Exchange => Error::SignatureRejected {
                message,
                dialect: self.dialect,
                canonical: canonical(),
            },
            ApiStatus::TIMESTAMP_OUT_OF_WINDOW => Error::ClockSkew {
                message,
                skew: self.skew(res),
            },
            ApiStatus::NOT_AUTHORIZED => Error::NotAuthorized { message },
            s if call == Call::Exchange && self.code_rejection.contains(&s) => {
                Error::CodeRejected { status, message }
            }
            _ => Error::Api { status, message },
        }
    }

    /// The server's clock minus ours, from its `Date` header.
    fn skew(&self, res: &HttpResponse) -> Option<Skew> {
        let server = parse_http_date(res.headers().get(header::DATE)?.to_str().ok()?)?;
        let local = self.clock.now();
        Some(match local.duration_since(server) {
            Ok(ahead) => Skew {
                by: ahead,
                local_ahead: true,
            },
            Err(behind) => Skew {
                by: behind.duration(),
                local_ahead: false,
            },
        })
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
