//! The default ledger: codes in this process's memory, bounded by count, one per platform and
//! app unless a client is given another.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use neux_proto::{ClientId, Clock, SystemClock};
use neux_transport::async_trait;

use crate::ledger::{Claim, ClaimTicket, CodeKey, CodeLedger, LedgerError};

/// How many live codes an [`InMemoryLedger`] holds by default: 250,000, which is 833 logins a
/// second for the 5 minutes a code lives, per process. About 25 MB when full (measured: see
/// [`InMemoryLedger`]).
pub const DEFAULT_LEDGER_CAPACITY: usize = 250_000;

/// The default [`CodeLedger`]: the codes presented from this process, in memory, bounded by
/// count.
///
/// Every client in a process that talks to the same platform as the same app shares one (see
/// [`for_process`](Self::for_process)), unless it is given another ledger.
///
/// **A full ledger never forgets a live code.** When it holds `capacity` codes that are still
/// within their lifetime, a new code is refused at once with [`LedgerError::Full`]: nothing is
/// sent, a warning is logged, and [`refused_full`](Self::refused_full) counts it. Forgetting the
/// oldest code instead would let anyone who floods the login endpoint with junk codes evict a
/// victim's spent code, and a leaked copy of it would then be sent again. Under such a flood the
/// choice is between availability and the promise; this ledger keeps the promise (and logins
/// resume as the junk expires). Size it above the logins one code lifetime can see.
///
/// Memory: a code takes 64 bytes of entries (a 128-bit prefix of its [`CodeKey`], its expiry and
/// its ticket, in a map and in an expiry queue). Measured as the process's resident memory
/// while a default ledger fills (`cargo run --release -p neux-oauth --example ledger_memory`):
/// 102-111 bytes a code, 25.5 MB at 250,000 codes. It does not shrink after a peak.
///
/// ```
/// use std::time::Duration;
/// use neux_oauth::{AuthCode, Claim, ClientId, Clock, CodeKey, CodeLedger, InMemoryLedger, LedgerError, ManualClock};
/// # futures_lite::future::block_on(async {
/// let clock = ManualClock::from_millis(1_700_000_000_000);
/// let ledger = InMemoryLedger::with_clock(1, clock.clone());
/// let app = ClientId::new("demo-app")?;
/// let (now, lifetime) = (clock.now(), Duration::from_secs(300));
/// let first = CodeKey::of(&AuthCode::new("first")?);
/// assert!(matches!(ledger.claim(&app, first, now, lifetime).await?, Claim::Won(_)));
/// let second = CodeKey::of(&AuthCode::new("second")?);
/// let full = ledger.claim(&app, second, now, lifetime).await.unwrap_err();
/// assert_eq!(full, LedgerError::Full { capacity: 1 });
/// // Once the first code's lifetime is over, there is room again.
/// clock.advance(lifetime);
/// assert!(matches!(ledger.claim(&app, second, clock.now(), lifetime).await?, Claim::Won(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
pub struct InMemoryLedger {
    capacity: usize,
    state: Mutex<Entries>,
    /// Lifetimes run on its monotonic reading, never on the wall time a claim is given.
    clock: Arc<dyn Clock>,
}

// The entries are keyed by codes' hashes: show how many, not which.
impl std::fmt::Debug for InMemoryLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = self.entries();
        f.debug_struct("InMemoryLedger")
            .field("capacity", &self.capacity)
            .field("codes", &e.live.len())
            .field("refused_full", &e.refused_full)
            .finish()
    }
}

/// A recorded code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Live {
    /// Unix milliseconds at which the claim lapses.
    until: u64,
    ticket: u64,
}

#[derive(Debug, Default)]
struct Entries {
    /// Recorded codes by the first 128 bits of their key: plenty to tell a process's codes apart.
    live: HashMap<u128, Live>,
    /// Every claim by expiry, soonest first. A released claim leaves its entry behind; it is
    /// skipped when it reaches the front, and the queue is rebuilt when such entries pile up.
    expiries: BinaryHeap<Reverse<(u64, u128)>>,
    next_ticket: u64,
    refused_full: u64,
}

impl Default for InMemoryLedger {
    fn default() -> Self {
        Self::new(DEFAULT_LEDGER_CAPACITY)
    }
}

impl InMemoryLedger {
    /// A ledger holding at most `capacity` live codes (at least 1), timed by the system's
    /// monotonic clock.
    pub fn new(capacity: usize) -> Self {
        Self::with_clock(capacity, SystemClock)
    }

    /// A ledger timed by `clock`'s [`monotonic`](Clock::monotonic) reading: a code lives its
    /// lifetime of that clock's time, whatever the wall clock does meanwhile (a step forward by
    /// NTP or a resumed VM forgets nothing live). Tests pass a [`ManualClock`](crate::ManualClock).
    ///
    /// ```
    /// use std::time::Duration;
    /// use neux_oauth::{AuthCode, Claim, ClientId, Clock, CodeKey, CodeLedger, InMemoryLedger, ManualClock};
    /// # futures_lite::future::block_on(async {
    /// let clock = ManualClock::from_millis(1_700_000_000_000);
    /// let ledger = InMemoryLedger::with_clock(10, clock.clone());
    /// let (app, key) = (ClientId::new("demo-app")?, CodeKey::of(&AuthCode::new("abc")?));
    /// let lifetime = Duration::from_secs(300);
    /// assert!(matches!(ledger.claim(&app, key, clock.now(), lifetime).await?, Claim::Won(_)));
    /// // The wall clock steps an hour ahead: the code is still live.
    /// clock.set(clock.now() + Duration::from_secs(3_600));
    /// assert_eq!(ledger.claim(&app, key, clock.now(), lifetime).await?, Claim::Taken);
    /// // Five minutes pass: it has lapsed.
    /// clock.advance(lifetime);
    /// assert!(matches!(ledger.claim(&app, key, clock.now(), lifetime).await?, Claim::Won(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn with_clock(capacity: usize, clock: impl Clock + 'static) -> Self {
        Self {
            capacity: capacity.max(1),
            state: Mutex::new(Entries::default()),
            clock: Arc::new(clock),
        }
    }

    /// The ledger every client of this process shares for `base_url` and `client_id`, made
    /// with [`DEFAULT_LEDGER_CAPACITY`] on first use and kept for the life of the process: a
    /// client built per request still finds the codes its predecessors presented. This is what
    /// a [`ClientBuilder`](crate::ClientBuilder) uses when it is given no ledger.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use neux_oauth::{ClientId, InMemoryLedger};
    /// let app = ClientId::new("demo-app")?;
    /// let a = InMemoryLedger::for_process("https://api.example.com", &app);
    /// let b = InMemoryLedger::for_process("HTTPS://API.example.com.:443/", &app);
    /// assert!(Arc::ptr_eq(&a, &b), "the same platform, however it is written");
    /// let other = InMemoryLedger::for_process("https://qa.example.com", &app);
    /// assert!(!Arc::ptr_eq(&a, &other));
    /// # Ok::<(), neux_oauth::InvalidInput>(())
    /// ```
    pub fn for_process(base_url: &str, client_id: &ClientId) -> Arc<InMemoryLedger> {
        type Registry = Mutex<HashMap<(String, String), Arc<InMemoryLedger>>>;
        static LEDGERS: OnceLock<Registry> = OnceLock::new();
        let key = (origin(base_url), client_id.as_str().to_owned());
        let mut ledgers = LEDGERS
            .get_or_init(Registry::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        ledgers.entry(key).or_default().clone()
    }

    /// How many codes are recorded (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.entries().live.len()
    }

    /// Whether no code is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most live codes it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many codes were refused because the ledger was full of live ones.
    pub fn refused_full(&self) -> u64 {
        self.entries().refused_full
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // Nothing panics while holding the lock; recover rather than cascade if it ever did.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn claim_at(&self, key: CodeKey, now: u64, lifetime: u64) -> Result<Claim, LedgerError> {
        let id = short(key);
        let mut e = self.entries();
        e.sweep(now);
        if e.live.contains_key(&id) {
            return Ok(Claim::Taken);
        }
        if e.live.len() >= self.capacity {
            e.refused_full += 1;
            let refused = e.refused_full;
            // Once, then every 10,000th: a flood must not become a flood of log lines too.
            if refused == 1 || refused.is_multiple_of(10_000) {
                tracing::warn!(
                    capacity = self.capacity,
                    refused,
                    "code ledger full of live codes: refusing new codes until some expire"
                );
            }
            return Err(LedgerError::Full {
                capacity: self.capacity,
            });
        }
        let until = now.saturating_add(lifetime);
        e.next_ticket += 1;
        let ticket = e.next_ticket;
        e.live.insert(id, Live { until, ticket });
        e.expiries.push(Reverse((until, id)));
        Ok(Claim::Won(ClaimTicket::new(ticket)))
    }

    fn release_ticket(&self, key: CodeKey, ticket: ClaimTicket) {
        let id = short(key);
        let mut e = self.entries();
        if e.live.get(&id).is_some_and(|l| l.ticket == ticket.get()) {
            e.live.remove(&id);
            // Releases leave entries behind in the queue: rebuild it before they outnumber the
            // live ones, so churn cannot grow it without bound.
            if e.expiries.len() > 2 * self.capacity.max(e.live.len()) {
                e.compact();
            }
        }
    }
}

impl Entries {
    /// Forgets every claim that has lapsed by `now`.
    fn sweep(&mut self, now: u64) {
        while let Some(&Reverse((until, id))) = self.expiries.peek() {
            if until > now {
                break;
            }
            self.expiries.pop();
            // A released and re-claimed key has a later entry of its own: leave that one.
            if self.live.get(&id).is_some_and(|l| l.until <= now) {
                self.live.remove(&id);
            }
        }
    }

    /// Rebuilds the expiry queue from the live entries alone.
    fn compact(&mut self) {
        self.expiries = self
            .live
            .iter()
            .map(|(id, l)| Reverse((l.until, *id)))
            .collect();
    }
}

/// The first 128 bits of a key.
fn short(key: CodeKey) -> u128 {
    let mut first = [0u8; 16];
    first.copy_from_slice(&key.as_bytes()[..16]);
    u128::from_be_bytes(first)
}

/// A base URL as a registry key: the normalized origin (scheme and host in lower case, the
/// host without a trailing dot, the effective port) and the path without a trailing slash, so
/// one platform written two ways is one key.
fn origin(base_url: &str) -> String {
    let trimmed = base_url.trim();
    let Ok(uri) = trimmed.parse::<http::Uri>() else {
        // The builder refuses such a URL before any ledger is asked for.
        return trimmed.to_owned();
    };
    let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
    let host = uri.host().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    let port = uri.port_u16().or(match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    });
    let path = uri.path().trim_end_matches('/');
    match port {
        Some(port) => format!("{scheme}://{host}:{port}{path}"),
        None => format!("{scheme}://{host}{path}"),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[async_trait]
impl CodeLedger for InMemoryLedger {
    /// `now` (the wall time) is not used: lifetimes run on the ledger's monotonic clock.
    async fn claim(
        &self,
        _client_id: &ClientId,
        key: CodeKey,
        _now: SystemTime,
        lifetime: Duration,
    ) -> Result<Claim, LedgerError> {
        self.claim_at(key, millis(self.clock.monotonic()), millis(lifetime))
    }

    async fn release(
        &self,
        _client_id: &ClientId,
        key: CodeKey,
        ticket: ClaimTicket,
    ) -> Result<(), LedgerError> {
        self.release_ticket(key, ticket);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> CodeKey {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&n.to_be_bytes());
        CodeKey::from_bytes_for_tests(bytes)
    }

    fn won(c: Result<Claim, LedgerError>) -> ClaimTicket {
        match c {
            Ok(Claim::Won(t)) => t,
            other => panic!("expected a won claim, got {other:?}"),
        }
    }

    #[test]
    fn a_key_is_claimed_once_until_it_lapses() {
        let l = InMemoryLedger::new(10);
        won(l.claim_at(key(1), 0, 300));
        assert_eq!(l.claim_at(key(1), 299, 300), Ok(Claim::Taken));
        won(l.claim_at(key(1), 300, 300));
        assert_eq!(l.claim_at(key(1), 301, 300), Ok(Claim::Taken));
    }

    #[test]
    fn a_full_ledger_refuses_new_codes_and_forgets_none() {
        let l = InMemoryLedger::new(3);
        let _spent = won(l.claim_at(key(0), 0, 300));
        for n in 1..3 {
            won(l.claim_at(key(n), 1, 300));
        }
        for junk in 3..1_000 {
            assert_eq!(
                l.claim_at(key(junk), 2, 300),
                Err(LedgerError::Full { capacity: 3 })
            );
        }
        assert_eq!(l.refused_full(), 997);
        // The first code is still known: a replay of it is refused, not sent.
        assert_eq!(l.claim_at(key(0), 2, 300), Ok(Claim::Taken));
        // When the first lapses there is room for exactly one more.
        won(l.claim_at(key(5), 300, 300));
        assert!(l.claim_at(key(6), 300, 300).is_err());
    }

    #[test]
    fn claims_lapse_by_their_own_expiry_whatever_their_order() {
        let l = InMemoryLedger::new(2);
        won(l.claim_at(key(1), 0, 1_000)); // lapses at 1,000
        won(l.claim_at(key(2), 0, 10)); // lapses at 10, claimed after a longer one
        won(l.claim_at(key(3), 10, 1_000));
        assert_eq!(l.claim_at(key(1), 11, 1_000), Ok(Claim::Taken));
    }

    #[test]
    fn release_forgets_only_the_claim_it_names() {
        let l = InMemoryLedger::new(4);
        let old = won(l.claim_at(key(1), 0, 100));
        // The first claim lapsed and another call claimed the code since.
        let new = won(l.claim_at(key(1), 100, 100));
        l.release_ticket(key(1), old);
        assert_eq!(l.claim_at(key(1), 101, 100), Ok(Claim::Taken));
        l.release_ticket(key(1), new);
        won(l.claim_at(key(1), 102, 100));
    }

    #[test]
    fn lifetimes_at_the_end_of_time_do_not_overflow() {
        let l = InMemoryLedger::new(4);
        won(l.claim_at(key(1), u64::MAX - 5, u64::MAX));
        assert_eq!(l.claim_at(key(1), u64::MAX - 1, 300), Ok(Claim::Taken));
    }

    #[test]
    fn churn_of_released_claims_keeps_the_queue_within_twice_the_capacity() {
        let cap = 50;
        let l = InMemoryLedger::new(cap);
        // Half the capacity stays live, so the live entries alone never trigger a sweep.
        for n in 0..25 {
            won(l.claim_at(key(n), 0, 1_000_000));
        }
        let mut longest = 0;
        for round in 0..10_000 {
            // A connect failure: claimed, then released.
            let k = key(1_000 + round);
            let t = won(l.claim_at(k, 1, 1_000_000));
            l.release_ticket(k, t);
            longest = longest.max(l.entries().expiries.len());
        }
        assert_eq!(l.len(), 25);
        assert!(
            longest <= 2 * cap,
            "the queue grew to {longest} for {cap} codes"
        );
        // And it does fill before it is rebuilt: the bound is the one the code promises.
        assert!(longest > 2 * cap - 2, "rebuilt too early: {longest}");
    }

    #[test]
    fn one_ledger_per_platform_and_app() {
        let app = ClientId::new("ledger-test-app").unwrap();
        let other = ClientId::new("ledger-test-other").unwrap();
        let a = InMemoryLedger::for_process("http://127.0.0.1:1/prefix/", &app);
        assert!(Arc::ptr_eq(
            &a,
            &InMemoryLedger::for_process("HTTP://127.0.0.1:1/prefix", &app)
        ));
        assert!(!Arc::ptr_eq(
            &a,
            &InMemoryLedger::for_process("http://127.0.0.1:1/Prefix", &app)
        ));
        // The default port and a host's trailing dot name the same origin.
        let b = InMemoryLedger::for_process("https://api.example.com/v1", &app);
        for same in [
            "https://api.example.com:443/v1",
            "https://API.example.com./v1/",
            " https://api.example.com.:443/v1",
        ] {
            assert!(
                Arc::ptr_eq(&b, &InMemoryLedger::for_process(same, &app)),
                "{same}"
            );
        }
        for other in [
            "http://api.example.com/v1",
            "https://api.example.com:8443/v1",
        ] {
            assert!(
                !Arc::ptr_eq(&b, &InMemoryLedger::for_process(other, &app)),
                "{other}"
            );
        }
        assert!(!Arc::ptr_eq(
            &a,
            &InMemoryLedger::for_process("http://127.0.0.1:1/prefix", &other)
        ));
        assert_eq!(a.capacity(), DEFAULT_LEDGER_CAPACITY);
    }
}
