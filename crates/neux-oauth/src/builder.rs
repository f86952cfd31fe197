//! Configuring a client: the builder, its defaults, and the base-URL policy.

use std::sync::Arc;
use std::time::Duration;

use neux_proto::{
    ApiStatus, AppSecret, CODE_LIFETIME, ClientId, Clock, Dialect, InvalidInput, SystemClock,
};
use neux_transport::{AsyncSleep, Transport, TransportConfig};

use crate::client::{Client, Core};
use crate::error::BuildError;
use crate::ledger::CodeLedger;
use crate::memory_ledger::InMemoryLedger;
use crate::pipeline::Pipeline;
use crate::retry::RetryPolicy;

/// The shortest [`ClientBuilder::code_lifetime`] a client accepts: a ledger that forgets a code
/// sooner than the platform does would let it be presented again while it is still live.
pub const MIN_CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The longest [`ClientBuilder::code_lifetime`] a client accepts (a day: no platform keeps a
/// one-time code that long, and a ledger must forget codes some time).
pub const MAX_CODE_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `NEUX_BASE_URL`, `NEUX_CLIENT_ID`, `NEUX_SECRET` and optionally
    /// `NEUX_DIALECT` and `NEUX_LEDGER_URL`, with the default transport. The error names the
    /// missing variable.
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder()
            .env_with(|name| std::env::var(name).ok())?
            .build()
    }
}

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
    code_used: Vec<ApiStatus>,
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
            code_rejection: neux_proto::status::CODE_REFUSALS.to_vec(),
            code_used: vec![neux_proto::status::CODE_USED],
            allow_insecure_http: false,
            ledger: None,
            code_lifetime: CODE_LIFETIME,
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

    /// The wire form of the token call and of every signed call (default [`Dialect::Json`]).
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

    /// Envelope statuses that mean "this code is refused" and become [`Error::CodeRejected`](crate::Error::CodeRejected).
    /// The platform documents none, so the default is neux-sandbox's
    /// ([`status::CODE_REFUSALS`](neux_proto::status::CODE_REFUSALS)); add the statuses your
    /// platform host answers with.
    /// Any other status is carried through unchanged as [`Error::Api`](crate::Error::Api).
    pub fn code_rejection_statuses(
        mut self,
        statuses: impl IntoIterator<Item = ApiStatus>,
    ) -> Self {
        self.code_rejection = statuses.into_iter().collect();
        self
    }

    /// Envelope statuses that mean "this code was already used" and become
    /// [`Error::CodeAlreadyPresented`](crate::Error::CodeAlreadyPresented) with
    /// [`SeenBy::Platform`](crate::SeenBy::Platform), the error a second presenter gets from
    /// the ledger. The platform documents none; the default is neux-sandbox's
    /// ([`status::CODE_USED`](neux_proto::status::CODE_USED)). These win over
    /// [`code_rejection_statuses`](Self::code_rejection_statuses).
    pub fn code_used_statuses(mut self, statuses: impl IntoIterator<Item = ApiStatus>) -> Self {
        self.code_used = statuses.into_iter().collect();
        self
    }

    /// Where presented codes are recorded. By default, every client of this process that talks
    /// to the same base URL as the same client id shares one [`InMemoryLedger`]
    /// ([`InMemoryLedger::for_process`]), so a client built per request keeps the promise too.
    /// Give every instance of a backend one shared ledger (`RedisLedger`, feature `redis`) to
    /// keep a code from being presented once per instance; see [`CodeLedger`]. An `Arc` of a
    /// ledger is a ledger, to share one value between clients.
    pub fn code_ledger(mut self, ledger: impl CodeLedger + 'static) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    /// How long a presented code is remembered: at least as long as the platform keeps a code
    /// valid (default [`CODE_LIFETIME`], 5 minutes). [`build`](Self::build) refuses a
    /// lifetime outside [`MIN_CODE_LIFETIME`]..=[`MAX_CODE_LIFETIME`].
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
    /// (`json` or `form`) and `NEUX_LEDGER_URL` (a shared Redis code ledger, feature `redis`)
    /// through `lookup`, onto this builder.
    ///
    /// A `NEUX_LEDGER_URL` that this build cannot use is an error, not ignored: a fleet that
    /// believes it shares a ledger while each instance keeps its own would break the promise.
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
        if let Some(url) = lookup("NEUX_LEDGER_URL").filter(|u| !u.is_empty()) {
            self = self.code_ledger_url(&url)?;
        }
        Ok(self)
    }

    /// A shared code ledger at `url` (`redis://`, `rediss://`, `redis+cluster://`,
    /// `redis+sentinel://`, `redis+unix://`), with the defaults of `RedisLedger` (feature
    /// `redis`): the process's one ledger for that URL (`RedisLedgerBuilder::build_shared`), so
    /// clients built per request share one connection. The error never shows the URL's
    /// password.
    ///
    /// ```
    /// # #[cfg(not(feature = "redis"))]
    /// # {
    /// let refused = neux_oauth::Client::builder().code_ledger_url("redis://:pw@redis.internal:6379");
    /// assert!(refused.unwrap_err().to_string().contains("`redis` feature"));
    /// # }
    /// ```
    pub fn code_ledger_url(self, url: &str) -> Result<Self, BuildError> {
        #[cfg(feature = "redis")]
        {
            // One ledger (and connection) per URL in the process: a client built per request
            // from the environment must not connect per request.
            let ledger = crate::RedisLedger::builder(url)
                .build_shared()
                .map_err(|e| BuildError::Invalid {
                    field: "NEUX_LEDGER_URL",
                    reason: e.to_string(),
                })?;
            Ok(self.code_ledger(ledger))
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = (self, url);
            Err(BuildError::Invalid {
                field: "NEUX_LEDGER_URL",
                reason: "a shared code ledger needs neux-oauth's `redis` feature; this build has none, and a fleet must not fall back to one ledger per process".into(),
            })
        }
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        Ok(Client {
            inner: Arc::new(self.into_core()?),
        })
    }

    /// Checks the settings: what [`build`](Self::build) turns into a client.
    fn into_core(self) -> Result<Core, BuildError> {
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
        if !(MIN_CODE_LIFETIME..=MAX_CODE_LIFETIME).contains(&self.code_lifetime) {
            return Err(BuildError::Invalid {
                field: "code_lifetime",
                reason: format!(
                    "{:?} is outside {MIN_CODE_LIFETIME:?}..={MAX_CODE_LIFETIME:?}: a code must be remembered at least as long as the platform keeps it valid (5 minutes)",
                    self.code_lifetime
                ),
            });
        }
        let sleeper = self.sleeper.or_else(|| transport.sleeper());
        if sleeper.is_none() && self.retry.max_retries_value() > 0 {
            return Err(BuildError::Invalid {
                field: "sleeper",
                reason: "the transport offers no timer to wait between retries: give one with \
                         ClientBuilder::sleeper, or turn retries off with RetryPolicy::none()"
                    .into(),
            });
        }
        let ledger = self
            .ledger
            .unwrap_or_else(|| InMemoryLedger::for_process(&base, &client_id));
        Ok(Core {
            client_id,
            secret,
            base,
            dialect: self.dialect,
            clock: self.clock.clone(),
            ledger,
            code_lifetime: self.code_lifetime,
            pipeline: Pipeline {
                transport,
                retry: self.retry,
                sleeper,
                clock: self.clock,
                dialect: self.dialect,
                code_rejection: self.code_rejection,
                code_used: self.code_used,
            },
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
            if !neux_transport::is_loopback_host(authority.host()) && !allow_insecure_http {
                return Err(invalid(
                    "plain http is only allowed for localhost and loopback addresses (codes and tokens would travel unencrypted); use https, or allow_insecure_http(true) (--allow-insecure-http) on a private test network",
                ));
            }
        }
        _ => return Err(invalid("scheme must be https (or http for loopback)")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}
