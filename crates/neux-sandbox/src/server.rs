//! Starting, driving and stopping a sandbox.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use neux_proto::{AppSecret, AuthCode, ClientId, OpenId, Scope, TOKEN_PATH, USER_INFO_PATH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::control;
use crate::faults::FaultRule;
use crate::inspect;
use crate::log::LoggedRequest;
use crate::observe::observe;
use crate::platform;
use crate::reply;
use crate::state::{Emulator, Settings, Shared, UserSpec};
use neux_proto::{Clock, SystemClock};

/// The sandbox could not start, or was asked for something it does not have.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// An app's client id or secret is unusable.
    #[error("invalid app: {0}")]
    InvalidApp(#[from] neux_proto::InvalidInput),
    /// No app was configured.
    #[error("a sandbox needs at least one app (client id and secret)")]
    NoApps,
    /// Binding the listening socket failed.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A profile field is longer than [`MAX_PROFILE_FIELD_BYTES`](crate::MAX_PROFILE_FIELD_BYTES).
    #[error("{0}")]
    ProfileTooLarge(String),
    /// The client id is not one of this sandbox's apps.
    #[error("no app with client id {0:?} in this sandbox")]
    UnknownClient(String),
    /// The operating system's random generator failed (keys and codes come from it).
    #[error("the OS random generator failed: {0}")]
    NoRandomness(String),
    /// Too many fault rules are armed already.
    #[error("{0}")]
    TooManyFaults(String),
    /// A non-loopback listen address without [`SandboxBuilder::allow_remote`].
    #[error(
        "refusing to listen on {0}: the control API has no authentication, so anyone who can reach it could mint codes and read the request log; listen on 127.0.0.1, or allow remote access on a network you trust (--allow-remote)"
    )]
    RemoteRefused(SocketAddr),
}

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

    /// Serves the control API and the inspector to any `Host`, and allows a non-loopback
    /// listen address (default: loopback only). The control API has no authentication: anyone
    /// who can reach it can mint codes and read the request log. For a container or a test
    /// network you trust.
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.settings.allow_remote = allow;
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
        if !self.listen.ip().is_loopback() && !self.settings.allow_remote {
            return Err(SandboxError::RemoteRefused(self.listen));
        }
        let apps = self
            .apps
            .into_iter()
            .map(|(id, secret)| Ok((ClientId::new(id)?, AppSecret::new(secret)?)))
            .collect::<Result<Vec<_>, neux_proto::InvalidInput>>()?;
        let emu: Emulator = Arc::new(
            Shared::new(apps, self.clock, self.settings)
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

/// The sizes of a sandbox's tables ([`Sandbox::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxStats {
    /// Codes remembered (live, spent and expired until they are swept).
    pub codes: usize,
    /// Codes that can still be exchanged: neither spent nor expired.
    pub live_codes: usize,
    /// Codes minted since the sandbox started.
    pub minted_codes: u64,
    /// User profiles (at most [`SandboxBuilder::profile_capacity`]).
    pub profiles: usize,
    /// Fault rules armed (at most 1,000).
    pub armed_faults: usize,
    /// Entries in the request log (at most [`SandboxBuilder::request_log_capacity`]).
    pub logged_requests: usize,
}

/// A code minted through [`Sandbox::mint_code`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MintedCode {
    /// The one-time code to hand to the backend under test.
    pub code: AuthCode,
    /// The openId the user will have in this app.
    pub open_id: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

/// A running sandbox. Stops when [`shutdown`](Self::shutdown) is awaited or when dropped.
#[derive(Debug)]
pub struct Sandbox {
    base_url: String,
    addr: SocketAddr,
    emu: Emulator,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts configuring a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// `http://127.0.0.1:PORT`: the base URL to give a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Mints a one-time code without going through HTTP.
    pub fn mint_code(
        &self,
        client_id: &ClientId,
        scope: Scope,
        user: UserSpec,
    ) -> Result<MintedCode, SandboxError> {
        if !control::known(&self.emu, client_id) {
            return Err(SandboxError::UnknownClient(client_id.to_string()));
        }
        if let Some((field, len)) = user.oversized_field() {
            return Err(SandboxError::ProfileTooLarge(control::oversized(
                field, len,
            )));
        }
        let (code, open_id) = self.emu.mint_code(client_id.as_str(), scope, user);
        Ok(MintedCode {
            // Codes are UUID-shaped: never empty, never control characters.
            code: AuthCode::new(code).map_err(SandboxError::InvalidApp)?,
            open_id,
            expires_in: self.emu.settings.code_ttl.as_secs(),
        })
    }

    /// The openId a user with `user_id` has in `client_id` (stable across runs).
    pub fn open_id_for(&self, client_id: &ClientId, user_id: &str) -> Option<OpenId> {
        OpenId::new(crate::state::derived_open_id(client_id.as_str(), user_id)).ok()
    }

    /// Disarms every fault rule (what `DELETE /sandbox/v1/faults` does).
    pub fn clear_faults(&self) {
        self.emu.clear_faults();
    }

    /// Arms a fault, as `POST /sandbox/v1/faults` does. At most 1,000 rules are armed at once
    /// (a rule's `count` is not limited).
    pub fn inject_fault(&self, rule: FaultRule) -> Result<(), SandboxError> {
        self.emu
            .arm_fault(rule)
            .map_err(SandboxError::TooManyFaults)
    }

    /// How much the sandbox holds: every table is bounded, and this shows by how much.
    pub fn stats(&self) -> SandboxStats {
        let live_codes = self.emu.live_codes();
        let t = self.emu.tables();
        SandboxStats {
            codes: t.codes.len(),
            live_codes,
            minted_codes: t.counter,
            profiles: t.profiles.len(),
            armed_faults: t.faults.len(),
            logged_requests: t.log.len(),
        }
    }

    /// The request log, oldest first, as `GET /sandbox/v1/requests` returns it.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emu.tables().log.iter().cloned().collect()
    }

    /// Empties the request log, as `DELETE /sandbox/v1/requests` does; returns how many
    /// entries it held. Later requests go on numbering from where the log was.
    pub fn clear_requests(&self) -> usize {
        self.emu.clear_log()
    }

    /// `http://127.0.0.1:PORT/`: the inspector page, to open in a browser on this machine.
    pub fn inspector_url(&self) -> String {
        format!("{}/", self.base_url)
    }

    /// Stops accepting connections and waits for the server task to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
