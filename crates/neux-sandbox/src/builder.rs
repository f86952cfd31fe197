//! Configuring and starting a sandbox, and the routes it serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use neux_proto::{AppSecret, ClientId, TOKEN_PATH, USER_INFO_PATH};
use tokio::sync::oneshot;

use crate::control;
use crate::error::SandboxError;
use crate::inspect;
use crate::observe::observe;
use crate::platform;
use crate::remote::ControlToken;
use crate::reply;
use crate::server::Sandbox;
use crate::state::{Emulator, Settings, Shared};
use neux_proto::{Clock, SystemClock};

/// How many bytes the profile table holds by default: 32 MiB, about 5,000 profiles with every
/// field full, or 100,000 (the count cap) of ordinary size.
pub const DEFAULT_PROFILE_BYTES: usize = 32 << 20;

/// Configures a [`Sandbox`]. `Debug` shows the apps' client ids, never their secrets.
pub struct SandboxBuilder {
    apps: Vec<(String, String)>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    listen: SocketAddr,
}

impl std::fmt::Debug for SandboxBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.apps.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("SandboxBuilder")
            .field("apps", &ids)
            .field("clock", &self.clock)
            .field("settings", &self.settings)
            .field("listen", &self.listen)
            .finish()
    }
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            apps: Vec::new(),
            clock: Arc::new(SystemClock),
            settings: Settings {
                window: Duration::from_secs(300),
                code_ttl: neux_proto::CODE_LIFETIME,
                token_ttl: Duration::from_secs(604_800),
                log_capacity: 10_000,
                profile_capacity: 100_000,
                profile_bytes: DEFAULT_PROFILE_BYTES,
                code_capacity: 100_000,
                allow_remote: false,
                access: crate::remote::Access::default(),
                mask_keys: Vec::new(),
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl SandboxBuilder {
    /// Adds an app (client id and secret). Several apps may share one sandbox.
    pub fn app(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.apps.push((client_id.into(), secret.into()));
        self
    }

    /// How far a request's timestamp may be from the sandbox clock, either way (default 5 min).
    pub fn window(mut self, window: Duration) -> Self {
        self.settings.window = window;
        self
    }

    /// How long a minted code stays valid (default 5 min).
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.settings.code_ttl = ttl;
        self
    }

    /// How long an access token stays valid (default 7 days, as the platform's `expire`).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.settings.token_ttl = ttl;
        self
    }

    /// How many requests the request log keeps, oldest dropped first (default 10,000).
    pub fn request_log_capacity(mut self, entries: usize) -> Self {
        self.settings.log_capacity = entries.max(1);
        self
    }

    /// How many user profiles the sandbox keeps, the least recently minted forgotten first
    /// (default 100,000). A token whose profile was forgotten answers 2002.
    pub fn profile_capacity(mut self, profiles: usize) -> Self {
        self.settings.profile_capacity = profiles.max(1);
        self
    }

    /// The most bytes the profile table holds (default [`DEFAULT_PROFILE_BYTES`], 32 MiB; at
    /// least 64 KiB): each profile weighs its fields' bytes plus 256, and the oldest profiles go
    /// first when a new one would pass the budget. Each field holds at most
    /// [`MAX_PROFILE_FIELD_BYTES`](crate::MAX_PROFILE_FIELD_BYTES).
    ///
    /// ```
    /// let builder = neux_sandbox::Sandbox::builder().profile_bytes(4 << 20);
    /// # let _ = builder;
    /// ```
    pub fn profile_bytes(mut self, bytes: usize) -> Self {
        self.settings.profile_bytes = bytes.max(64 * 1024);
        self
    }

    /// How many codes the sandbox remembers, live, spent and expired together, the oldest
    /// forgotten first when it is full (default 100,000; a forgotten code is "unknown").
    pub fn code_capacity(mut self, codes: usize) -> Self {
        self.settings.code_capacity = codes.max(1);
        self
    }

    /// Remote mode: allows a non-loopback listen address, serves the inspector to the names
    /// given with [`public_host`](Self::public_host) and to the listen address as well as to
    /// loopback names, and makes the control API require the [`ControlToken`] (one is
    /// generated when [`control_token`](Self::control_token) is not given; read it with
    /// [`Sandbox::control_token`]). For a container or a test network you trust: anyone who
    /// has the token can mint codes and read the request log. Default: loopback only.
    ///
    /// A web page cannot drive a remote sandbox by DNS rebinding: its requests name its own
    /// host, which is not listed, and it does not know the token.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = neux_sandbox::Sandbox::builder()
    ///     .app("demo-app", "demo-secret")
    ///     .allow_remote(true)
    ///     .public_host("sandbox.ci.internal")
    ///     .start()
    ///     .await?;
    /// let token = sandbox.control_token().expect("remote mode always has one");
    /// assert!(sandbox.inspector_url().ends_with(&format!("/#token={}", token.expose())));
    /// # Ok(()) }
    /// ```
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.settings.allow_remote = allow;
        self
    }

    /// A name (or IP address) the inspector and the control API answer to in remote mode, as
    /// clients write it in the URL, without a port (repeatable). Loopback names and the listen
    /// address are always served.
    pub fn public_host(mut self, name: impl AsRef<str>) -> Self {
        self.settings
            .access
            .hosts
            .push(crate::remote::normalize(name.as_ref()));
        self
    }

    /// The control token the control API requires (`Authorization: Bearer TOKEN`). Required on
    /// loopback too when given; in remote mode a random one is made when this is not given.
    pub fn control_token(mut self, token: ControlToken) -> Self {
        self.settings.access.token = Some(token);
        self
    }

    /// Masks the value of parameters named `key` (any case, at any depth of a JSON body) in the
    /// request log, the inspector and the control API, beyond the names every part of neux
    /// masks ([`neux_proto::is_sensitive_name`]: secrets, tokens, card numbers, CVV, PIN, OTP,
    /// API keys, phone numbers): an `email`, say, that your client marks sensitive.
    ///
    /// ```
    /// let builder = neux_sandbox::Sandbox::builder().mask_key("email").mask_key("idNumber");
    /// # let _ = builder;
    /// ```
    pub fn mask_key(mut self, key: impl Into<String>) -> Self {
        self.settings.mask_keys.push(key.into());
        self
    }

    /// The clock used for windows, expiries and the `Date` header (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<Sandbox, SandboxError> {
        if self.apps.is_empty() {
            return Err(SandboxError::NoApps);
        }
        let mut settings = self.settings;
        if !self.listen.ip().is_loopback() && !settings.allow_remote {
            return Err(SandboxError::RemoteRefused(self.listen));
        }
        if settings.allow_remote {
            if settings.access.token.is_none() {
                settings.access.token = Some(ControlToken::generate()?);
            }
            if !self.listen.ip().is_unspecified() {
                let ip = self.listen.ip().to_string();
                settings.access.hosts.push(crate::remote::normalize(&ip));
            }
            if let Some(bad) = settings.access.hosts.iter().find(|h| {
                crate::remote::parse_host(h).is_none() && h.parse::<std::net::Ipv6Addr>().is_err()
            }) {
                return Err(SandboxError::BadPublicHost(crate::limits::cut(bad, 64)));
            }
        }
        let apps = self
            .apps
            .into_iter()
            .map(|(id, secret)| Ok((ClientId::new(id)?, AppSecret::new(secret)?)))
            .collect::<Result<Vec<_>, neux_proto::InvalidInput>>()?;
        let emu: Emulator = Arc::new(
            Shared::new(apps, self.clock, settings)
                .map_err(|e| SandboxError::NoRandomness(e.to_string()))?,
        );
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: self.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: self.listen,
            source,
        })?;
        let app = router(emu.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Sandbox {
            base_url: format!("http://{addr}"),
            addr,
            emu,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

impl Sandbox {
    /// Starts configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }
}

fn router(emu: Emulator) -> Router {
    let platform = Router::new()
        .route(
            TOKEN_PATH,
            post(platform::access_token).fallback(reply::method_not_allowed),
        )
        .route(
            USER_INFO_PATH,
            get(platform::user_info).fallback(reply::method_not_allowed),
        )
        .route(
            &format!("{}{{*call}}", platform::SIGNED_CALL_PREFIX),
            post(platform::signed_call).fallback(reply::method_not_allowed),
        )
        .layer(axum::middleware::from_fn_with_state(emu.clone(), observe));
    // The control API reads small JSON bodies: cap them well below the platform paths' 64 KiB.
    // The inspector page and what it reads sit behind the same guard as the control API.
    let control = Router::new()
        .route("/sandbox/v1/codes", post(control::mint_code))
        .route(
            "/sandbox/v1/faults",
            get(inspect::list_faults)
                .post(control::arm_fault)
                .delete(control::clear_faults),
        )
        .route(
            "/sandbox/v1/requests",
            get(inspect::list_requests).delete(inspect::clear_requests),
        )
        .route("/sandbox/v1/requests/{seq}", get(inspect::request_detail))
        .route("/sandbox/v1/stats", get(inspect::stats))
        .route("/sandbox/v1/statuses", get(inspect::statuses))
        .route("/", get(inspect::page))
        .route("/sandbox/inspector/app.js", get(inspect::script))
        .route("/sandbox/inspector/app.css", get(inspect::style))
        .layer(axum::extract::DefaultBodyLimit::max(
            control::MAX_CONTROL_BODY,
        ))
        .layer(axum::middleware::from_fn_with_state(
            emu.clone(),
            control::guard,
        ));
    Router::new()
        .merge(platform)
        // The platform paths enforce their own cap (64 KiB) with a precise error; this only
        // stops axum's 2 MiB default from answering first with a bare 413.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .merge(control)
        .fallback(reply::not_found)
        .with_state(emu)
}
