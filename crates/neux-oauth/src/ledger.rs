//! The record of one-time codes that have been presented: a code goes to the server at most
//! once, whatever happens to the call that sent it.
//!
//! The trait is here; the ledgers are [`InMemoryLedger`](crate::InMemoryLedger) (the default, one
//! per process and platform) and, with the `redis` feature, `RedisLedger` (one per fleet).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use neux_proto::{AuthCode, ClientId};
use neux_transport::async_trait;
use sha2::{Digest, Sha256};

/// The ledger's key for a code: its SHA-256. The code itself is never stored.
///
/// ```
/// use neux_oauth::{AuthCode, CodeKey};
/// let key = CodeKey::of(&AuthCode::new("abc123")?);
/// assert_eq!(key.to_hex().len(), 64);
/// assert!(!format!("{key:?}").contains("abc123"));
/// # Ok::<(), neux_oauth::InvalidInput>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// The key of `code`.
    pub fn of(code: &AuthCode) -> Self {
        Self(Sha256::digest(code.expose_secret().as_bytes()).into())
    }

    #[cfg(test)]
    pub(crate) fn from_bytes_for_tests(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits: a key for a shared store.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 8 hex digits: the same fingerprint the logs show for the code.
        write!(f, "CodeKey({})", &self.to_hex()[..8])
    }
}

/// Names one claim, so that releasing it removes that claim and never a later one.
///
/// ```
/// use neux_oauth::ClaimTicket;
/// assert_eq!(ClaimTicket::new(7).get(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimTicket(u64);

impl ClaimTicket {
    /// A ticket with a ledger's own number.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The ledger's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// What a [`CodeLedger::claim`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This call recorded the code: it, and only it, may send it. The ticket releases the claim
    /// if the request certainly never left.
    Won(ClaimTicket),
    /// The code is recorded already (and has not expired): it must not be sent.
    Taken,
}

/// A ledger could not answer. **Nothing was sent**, and the code is still unspent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The ledger is full of live codes: a new one is refused rather than forget one that may
    /// be replayed (see [`InMemoryLedger`](crate::InMemoryLedger)).
    #[error(
        "the code ledger is full ({capacity} live codes); the code was refused and not sent: retry later, and raise the ledger's capacity if this is not a flood"
    )]
    Full {
        /// How many codes the ledger holds at most.
        capacity: usize,
    },
    /// A shared store could not be reached, or answered with an error.
    #[error("the code ledger at {ledger} failed: {reason}; nothing was sent")]
    Unavailable {
        /// Where the ledger is (a store's address, never its password).
        ledger: String,
        /// What went wrong.
        reason: String,
    },
    /// A shared store is set up so that it could forget a live code (a Redis that evicts keys
    /// under memory pressure): the ledger refuses to claim rather than let a code be sent twice.
    /// Not retryable as it is: the store's setting must change first.
    #[error(
        "the code ledger at {ledger} is not safe for one-time codes: {reason}; nothing was sent"
    )]
    Unsafe {
        /// Where the ledger is (a store's address, never its password).
        ledger: String,
        /// The setting at fault, by name (`maxmemory-policy`).
        setting: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A shared store did not answer within the ledger's timeout.
    #[error("the code ledger at {ledger} did not answer within {after:?}; nothing was sent")]
    Timeout {
        /// Where the ledger is (a store's address, never its password).
        ledger: String,
        /// The timeout that ran out.
        after: Duration,
    },
}

impl LedgerError {
    /// A store that could not answer (never put a code or a password in either text).
    ///
    /// ```
    /// let e = neux_oauth::LedgerError::unavailable("sql://db.internal/neux", "connection refused");
    /// assert_eq!(e.to_string(), "the code ledger at sql://db.internal/neux failed: connection refused; nothing was sent");
    /// ```
    pub fn unavailable(ledger: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Unavailable {
            ledger: ledger.into(),
            reason: reason.into(),
        }
    }

    /// Whether the ledger refused the code because it was full (rather than failing to answer).
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full { .. })
    }

    /// Whether the store is set up so that it could forget a live code (see
    /// [`Unsafe`](Self::Unsafe)): retrying changes nothing until the setting does.
    ///
    /// ```
    /// let e = neux_oauth::LedgerError::Unsafe {
    ///     ledger: "redis://cache.internal:6379".into(),
    ///     setting: "maxmemory-policy".into(),
    ///     reason: "it is allkeys-lru".into(),
    /// };
    /// assert!(e.is_unsafe() && !e.is_full());
    /// ```
    pub fn is_unsafe(&self) -> bool {
        matches!(self, Self::Unsafe { .. })
    }
}

/// Where a [`Client`](crate::Client) records the codes it presents, so that a code reaches the
/// platform at most once among every client that shares the ledger.
///
/// Before sending a code the client calls [`claim`](Self::claim); only the call that wins the
/// claim sends it. A claim is released only when the client is certain the request never left
/// (connecting failed). Otherwise, whatever happens to the call (success, failure, timeout,
/// cancellation), the code stays claimed for `lifetime`.
///
/// Who shares a ledger:
/// - by default, every client in the process that talks to the same platform (base URL) as the
///   same app (client id) shares one [`InMemoryLedger`](crate::InMemoryLedger), so a client built
///   per request keeps the promise too;
/// - [`ClientBuilder::code_ledger`](crate::ClientBuilder::code_ledger) gives a client any other,
///   and an `Arc<L>` is a ledger too, so one value can serve several clients;
/// - several instances of a backend share a store: `RedisLedger` (feature `redis`), or an
///   implementation of this trait over a store with an atomic "set if absent, with expiry" (a
///   SQL `INSERT .. ON CONFLICT DO NOTHING` with an expiry column, a DynamoDB conditional put),
///   keyed by the client id and [`CodeKey::to_hex`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use neux_oauth::{AuthCode, Claim, ClientId, CodeKey, CodeLedger, InMemoryLedger};
/// # futures_lite::future::block_on(async {
/// let ledger = InMemoryLedger::new(1_000);
/// let app = ClientId::new("demo-app")?;
/// let key = CodeKey::of(&AuthCode::new("abc123")?);
/// let (now, lifetime) = (SystemTime::now(), Duration::from_secs(300));
/// let Claim::Won(ticket) = ledger.claim(&app, key, now, lifetime).await? else { panic!() };
/// assert_eq!(ledger.claim(&app, key, now, lifetime).await?, Claim::Taken, "a code is claimed once");
/// // Connecting failed: nothing left, so the code may be presented again.
/// ledger.release(&app, key, ticket).await?;
/// assert!(matches!(ledger.claim(&app, key, now, lifetime).await?, Claim::Won(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[async_trait]
pub trait CodeLedger: Send + Sync + fmt::Debug {
    /// Records `key` for `client_id` for `lifetime` from `now`, unless it is recorded already
    /// and not yet expired. Must be atomic: of concurrent claims of one key, exactly one wins.
    /// A ledger that cannot answer returns an error, and the client then sends nothing.
    async fn claim(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<Claim, LedgerError>;

    /// Forgets the claim `ticket` won, if it is still the one recorded: its request certainly
    /// never reached the server, so the code may be presented again.
    async fn release(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        ticket: ClaimTicket,
    ) -> Result<(), LedgerError>;
}

#[async_trait]
impl<L: CodeLedger + ?Sized> CodeLedger for Arc<L> {
    async fn claim(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        now: SystemTime,
        lifetime: Duration,
    ) -> Result<Claim, LedgerError> {
        (**self).claim(client_id, key, now, lifetime).await
    }

    async fn release(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        ticket: ClaimTicket,
    ) -> Result<(), LedgerError> {
        (**self).release(client_id, key, ticket).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_a_fingerprint_only() {
        let code = AuthCode::new("a-secret-code-value").unwrap();
        let k = CodeKey::of(&code);
        let text = format!("{k:?}");
        assert_eq!(text, format!("CodeKey({})", code.fingerprint()));
    }
}
