//! What an exchange yields: the access token and what is known about it.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use neux_proto::{AccessToken, Clock, OpenId, Scope, TokenResponse};

/// The longest token lifetime a [`TokenSet`] believes: a larger `expire` (the platform sends
/// 604800, 7 days) is clamped to this, so an absurd number cannot overflow the clock or keep a
/// token alive forever.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// An access token with what is known about it.
#[derive(Debug, Clone)]
pub struct TokenSet {
    access_token: AccessToken,
    token_type: Option<String>,
    scope: Scope,
    obtained_at: SystemTime,
    expires_at: SystemTime,
    /// Read from the token's payload on first use: most logins never ask.
    open_id: OnceLock<Option<OpenId>>,
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
        self.open_id
            .get_or_init(|| {
                self.access_token
                    .claims_unverified()
                    .ok()
                    .and_then(|c| c.open_id)
            })
            .as_ref()
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

impl TokenSet {
    /// The platform's answer, received now by `clock`: `expire` is clamped to
    /// [`MAX_TOKEN_LIFETIME`], and the openId is read (unverified) from the token's payload.
    pub(crate) fn received(token: TokenResponse, scope: &Scope, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        let lifetime = Duration::from_secs(token.expires_in).min(MAX_TOKEN_LIFETIME);
        Self {
            // A clock so far ahead that even the clamped lifetime overflows it: expired.
            expires_at: now.checked_add(lifetime).unwrap_or(now),
            obtained_at: now,
            token_type: token.token_type,
            scope: scope.clone(),
            open_id: OnceLock::new(),
            access_token: token.access_token,
            clock,
        }
    }
}
