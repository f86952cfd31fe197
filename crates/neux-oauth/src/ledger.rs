//! The record of one-time codes this client has presented: a code goes to the server at most
//! once, whatever happens to the call that sent it.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use neux_proto::AuthCode;
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

/// A ledger could not answer (a shared store was unreachable, say). Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the code ledger failed: {reason}")]
pub struct LedgerError {
    reason: String,
}

impl LedgerError {
    /// An error with a reason (never put the code in it).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// Where a [`Client`](crate::Client) records the codes it has presented.
///
/// Before sending a code the client calls [`claim`](Self::claim); only the call that claims the
/// code sends it. A claim is released only when the client is certain the request never left
/// (connecting failed): after that, and whenever the request may have reached the server,
/// the code stays claimed until `expires_at`, whatever happens to the call (success, failure,
/// timeout, cancellation).
///
/// The default, [`InMemoryLedger`], covers one process. A backend that runs several instances
/// behind a load balancer can share one ledger by implementing this trait over a store with an
/// atomic "set if absent, with expiry" (Redis `SET key 1 NX PXAT ms`, a SQL `INSERT .. ON
/// CONFLICT DO NOTHING` with an expiry column, DynamoDB's conditional put), keyed by
/// [`CodeKey::to_hex`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use neux_oauth::{AuthCode, CodeKey, CodeLedger, InMemoryLedger};
/// # futures_lite::future::block_on(async {
/// let ledger = InMemoryLedger::new(1_000);
/// let key = CodeKey::of(&AuthCode::new("abc123")?);
/// let now = SystemTime::now();
/// let until = now + Duration::from_secs(300);
/// assert!(ledger.claim(key, now, until).await?);
/// assert!(!ledger.claim(key, now, until).await?, "a code is claimed once");
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[async_trait]
pub trait CodeLedger: Send + Sync + fmt::Debug {
    /// Records `key` until `expires_at` unless it is already recorded and not yet expired at
    /// `now`. Returns `true` when this call recorded it: the caller, and only it, may send the
    /// code. Must be atomic: of concurrent claims of one key, exactly one returns `true`.
    async fn claim(
        &self,
        key: CodeKey,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, LedgerError>;

    /// Forgets a claim whose request certainly never reached the server, so the code may be
    /// presented again.
    async fn release(&self, key: CodeKey);
}

/// The default [`CodeLedger`]: a map in this process's memory, bounded by count.
///
/// Entries expire with the code's lifetime
/// ([`ClientBuilder::code_lifetime`](crate::ClientBuilder::code_lifetime), 5 minutes by
/// default). When the ledger is full of live entries, the oldest one is forgotten (and a
/// warning is logged): size it above the number of logins one code lifetime can see (the
/// default, 100,000, is 333 logins a second for 5 minutes, about 8 MiB at most).
#[derive(Debug)]
pub struct InMemoryLedger {
    capacity: usize,
    state: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    live: HashMap<CodeKey, SystemTime>,
    // Claim order, for expiry and eviction; a released key leaves a stale entry behind, which
    // is skipped when it reaches the front.
    order: VecDeque<(CodeKey, SystemTime)>,
    evicted: u64,
}

impl Default for InMemoryLedger {
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl InMemoryLedger {
    /// A ledger holding at most `capacity` codes (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(Entries::default()),
        }
    }

    /// How many codes are recorded (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.entries().live.len()
    }

    /// Whether no code is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many live codes were forgotten early because the ledger was full.
    pub fn evicted(&self) -> u64 {
        self.entries().evicted
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Nothing panics while holding the lock; recover rather than cascade if it ever did.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn claim_now(&self, key: CodeKey, now: SystemTime, expires_at: SystemTime) -> bool {
        let mut e = self.entries();
        if e.live.get(&key).is_some_and(|until| *until > now) {
            return false;
        }
        // Sweep from the oldest: expired entries, stale ones, and, when full, live ones.
        while let Some(&(old, until)) = e.order.front() {
            let current = e.live.get(&old) == Some(&until);
            if current && until > now && e.live.len() < self.capacity {
                break;
            }
            e.order.pop_front();
            if current {
                e.live.remove(&old);
                if until > now {
                    e.evicted += 1;
                    tracing::warn!(
                        capacity = self.capacity,
                        "code ledger full: forgot the oldest live code; raise its capacity"
                    );
                }
            }
        }
        e.live.insert(key, expires_at);
        e.order.push_back((key, expires_at));
        // Released keys leave stale entries behind a live front; keep the queue bounded too.
        if e.order.len() > 2 * self.capacity {
            let Entries { live, order, .. } = &mut *e;
            order.retain(|(k, until)| live.get(k) == Some(until));
        }
        true
    }
}

#[async_trait]
impl CodeLedger for InMemoryLedger {
    async fn claim(
        &self,
        key: CodeKey,
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<bool, LedgerError> {
        Ok(self.claim_now(key, now, expires_at))
    }

    async fn release(&self, key: CodeKey) {
        self.entries().live.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(n: u8) -> CodeKey {
        CodeKey([n; 32])
    }

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn a_key_is_claimed_once_until_it_expires() {
        let l = InMemoryLedger::new(10);
        assert!(l.claim_now(key(1), at(0), at(300)));
        assert!(!l.claim_now(key(1), at(299), at(599)));
        assert!(l.claim_now(key(1), at(300), at(600)), "expired: claimable");
        assert!(!l.claim_now(key(1), at(301), at(601)));
    }

    #[test]
    fn release_makes_a_key_claimable_and_leaves_no_stale_eviction() {
        let l = InMemoryLedger::new(2);
        assert!(l.claim_now(key(1), at(0), at(300)));
        futures_lite::future::block_on(l.release(key(1)));
        assert!(l.claim_now(key(1), at(1), at(301)));
        assert!(l.claim_now(key(2), at(2), at(302)));
        // The stale (0, 300) entry of key 1 must not evict its newer claim.
        assert!(!l.claim_now(key(1), at(3), at(303)));
        assert_eq!(l.evicted(), 0);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn capacity_bounds_the_map_sweeping_expired_first_then_oldest() {
        let l = InMemoryLedger::new(3);
        for n in 0..3 {
            assert!(l.claim_now(key(n), at(u64::from(n)), at(10 + u64::from(n))));
        }
        // At 10 the first has expired: it goes, nothing live is evicted.
        assert!(l.claim_now(key(3), at(10), at(20)));
        assert_eq!((l.len(), l.evicted()), (3, 0));
        // Full of live entries: the oldest live one (key 1) is forgotten.
        assert!(l.claim_now(key(4), at(10), at(20)));
        assert_eq!((l.len(), l.evicted()), (3, 1));
        assert!(!l.claim_now(key(2), at(10), at(20)), "younger entries stay");
        for n in 5..200 {
            l.claim_now(key(n), at(10), at(20));
        }
        assert!(l.len() <= 3);
        assert!(l.entries().order.len() <= 3 + 1);
    }

    #[test]
    fn debug_shows_a_fingerprint_only() {
        let code = AuthCode::new("a-secret-code-value").unwrap();
        let k = CodeKey::of(&code);
        let text = format!("{k:?}");
        assert_eq!(text, format!("CodeKey({})", code.fingerprint()));
    }
}
