//! A code ledger in Redis (feature `redis`): one promise for a whole fleet of instances.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use neux_proto::ClientId;
use neux_transport::{AsyncSleep, Sleep, async_trait};
use redis::{RedisError, Script};

use crate::ledger::{Claim, ClaimTicket, CodeKey, CodeLedger, LedgerError};
use crate::redis_url::RedisUrl;

mod builder;
mod connection;

pub use builder::RedisLedgerBuilder;
use connection::{Conn, Target};

/// How long a claim may take by default before the exchange fails with nothing sent.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(300);

/// The key prefix by default: keys are `neux:code:v1:{client id}:{code key}`.
pub const DEFAULT_REDIS_PREFIX: &str = "neux";

/// How many timed-out claims a ledger remembers, to recognise them if they landed after all.
const UNCERTAIN_CLAIMS: usize = 4_096;

/// Deletes a key only while it still holds this claim's value: a release never removes a
/// claim that another presenter made after this one lapsed.
const RELEASE: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// A [`CodeLedger`] in Redis (feature `redis`): every instance of a backend that shares it
/// presents a code at most once between them.
///
/// - **One atomic command per claim:** `SET {prefix}:code:v1:{client id}:{code key} {value} NX
///   GET PX {lifetime ms}` (Redis 7.0 or newer). The key holds the SHA-256 of the code, never the
///   code. The value names the claim (this ledger's random instance id and a counter), so a
///   claim whose reply was lost but which landed is recognised as this one's own when it is
///   sent again. The expiry is relative (`PX`): instances' clocks may differ.
/// - **Release** (only when the request certainly never left) deletes the key only if it still
///   holds this claim's value, in one script.
/// - **Fail closed.** Each claim is bounded by a timeout ([`DEFAULT_REDIS_TIMEOUT`] by default;
///   a claim sent again because its connection dropped may take it twice).
///   When Redis is down, slow or refuses the password, the exchange fails with
///   [`Error::Ledger`](crate::Error::Ledger): nothing is sent, `is_retryable()` is true and
///   `needs_new_code()` false. There is no fail-open mode. The connection is made on first use
///   and remade after a failure, so a client recovers when Redis comes back, without being
///   rebuilt.
/// - **One connection, whatever the burst.** The first claim connects and every concurrent
///   claim waits for it (within its own timeout) and shares it; a failed connect is tried again
///   by the next claim. [`RedisLedgerBuilder::build_shared`] gives one ledger per settings per
///   process, which [`Client::from_env`](crate::Client::from_env) uses.
/// - **No evicting Redis.** Every new connection reads `maxmemory-policy`: anything but
///   `noeviction` is refused with [`LedgerError::Unsafe`], since an evicted claim lets its code
///   be sent again ([`RedisLedgerBuilder::declare_noeviction`] for a Redis that hides its
///   config). A Redis without persistence is logged once: its restart forgets every claim.
/// - **Cluster:** `redis+cluster://host1:port,host2:port` (or `rediss+cluster://`) uses the
///   crate's cluster client; keys carry no hash tag, so they spread over every slot.
/// - **Sentinel:** `redis+sentinel://sentinel1:26379,sentinel2:26379/MASTER`: the primary is
///   asked of the sentinels on connect, and again after an error that says it moved.
///
/// The password in the URL never appears in `Debug`, errors or logs; [`address`](Self::address)
/// shows the URL without it. docs/deploying.md says what the ledger promises under failover,
/// with the windows measured.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use neux_oauth::{Client, RedisLedger};
/// let ledger = RedisLedger::builder("redis://:hunter2@redis.internal:6379/2")
///     .prefix("shop-backend")
///     .build()?;
/// assert_eq!(ledger.address(), "redis://redis.internal:6379/2");
/// let client = Client::builder()
///     .client_id("tmfxzpo3g02unycoyl")
///     .secret(std::env::var("NEUX_SECRET")?)
///     .base_url("https://openapi.example.com")
///     .code_ledger(ledger)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct RedisLedger {
    url: RedisUrl,
    target: Target,
    /// The connection every claim shares, once made; a generation number names it.
    slot: Mutex<Option<(u64, Conn)>>,
    /// Single flight: the one caller that connects holds it; the others wait, then share.
    connecting: tokio::sync::Mutex<()>,
    connects: AtomicU64,
    prefix: String,
    timeout: Duration,
    declared_noeviction: bool,
    instance: String,
    next: AtomicU64,
    /// Claims that timed out or failed, by key: sent again with the same value, they are
    /// recognised if they landed after all.
    uncertain: Mutex<HashMap<String, u64>>,
    uncertain_count: AtomicUsize,
    release: Script,
    warned_volatile: AtomicBool,
}

impl fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger")
            .field("address", &self.url.shown())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connections_made", &self.connections_made())
            .finish_non_exhaustive()
    }
}

impl RedisLedger {
    /// Starts configuring a ledger at `url`:
    /// - `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS (`#insecure` skips
    ///   the certificate check);
    /// - `redis+cluster://host1:port,host2:port` (`rediss+cluster://`) for a Redis Cluster;
    /// - `redis+sentinel://[user:password@]sentinel1:26379,sentinel2:26379/MASTER[/db]`
    ///   (`rediss+sentinel://`) for a primary found through Sentinel; the password is the
    ///   primary's, and `?sentinel_password=` (`sentinel_username=`) the sentinels' own;
    /// - `redis+unix:///path/to/redis.sock[?db=N&pass=...]` for a Unix socket.
    ///
    /// A password may be written raw (`/`, `@`, `:` and `+` included) or percent-encoded; a raw
    /// `?`, `#` or `,` must be encoded (`%3F`, `%23`, `%2C`).
    pub fn builder(url: impl Into<String>) -> RedisLedgerBuilder {
        RedisLedgerBuilder {
            url: url.into(),
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            declared_noeviction: false,
        }
    }

    /// A ledger at `url` with the default prefix and timeout.
    pub fn new(url: impl Into<String>) -> Result<Self, LedgerError> {
        Self::builder(url).build()
    }

    /// Where the ledger is: its URL without the user name, the password or any secret query
    /// value.
    pub fn address(&self) -> &str {
        self.url.shown()
    }

    /// How many connections (a multiplexed connection, a cluster's set of node connections, or
    /// a primary found through Sentinel) this ledger has made: one, however many claims, until
    /// a failure makes it connect again.
    pub fn connections_made(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// The Redis key of a code.
    fn key(&self, client_id: &ClientId, key: CodeKey) -> String {
        format!("{}:code:v1:{client_id}:{}", self.prefix, key.to_hex())
    }

    fn value(&self, nonce: u64) -> String {
        format!("{}:{nonce:x}", self.instance)
    }

    fn uncertain(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        self.uncertain.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn failed(&self, e: &RedisError) -> LedgerError {
        if e.is_timeout() {
            return LedgerError::Timeout {
                ledger: self.url.shown().to_owned(),
                after: self.timeout,
            };
        }
        LedgerError::unavailable(self.url.shown(), self.url.scrub(&e.to_string()))
    }

    /// Runs `work`, or fails with [`LedgerError::Timeout`] once the ledger's timeout is over.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, LedgerError>>,
    ) -> Result<T, LedgerError> {
        let after = self.timeout;
        let deadline = async {
            timer(after).await;
            Err(LedgerError::Timeout {
                ledger: self.url.shown().to_owned(),
                after,
            })
        };
        futures_lite::future::or(work, deadline).await
    }

    async fn set_nx_get(&self, key: &str, value: &str, ttl: u64) -> Result<bool, LedgerError> {
        let (generation, mut conn) = self.connection().await?;
        let mut set = redis::cmd("SET");
        set.arg(key)
            .arg(value)
            .arg("NX")
            .arg("GET")
            .arg("PX")
            .arg(ttl);
        // A dropped connection may have lost the reply of a SET that landed: send the same
        // value once more, and a reply holding it says the claim is this one's.
        let mut tries = 0;
        loop {
            tries += 1;
            match set.query_async::<Option<String>>(&mut conn).await {
                Ok(None) => return Ok(true),
                Ok(Some(held)) => return Ok(held == value),
                Err(e) if tries < 2 && (e.is_connection_dropped() || e.is_io_error()) => {
                    self.forget(generation, &e);
                }
                Err(e) => {
                    self.forget(generation, &e);
                    return Err(self.failed(&e));
                }
            }
        }
    }
}

/// A timer for the claim's deadline, on the runtime the ledger runs on.
fn timer(after: Duration) -> Sleep {
    #[cfg(feature = "surf")]
    if tokio::runtime::Handle::try_current().is_err() {
        return neux_transport::AsyncIoSleep.sleep(after);
    }
    neux_transport::TokioSleep.sleep(after)
}

#[async_trait]
impl CodeLedger for RedisLedger {
    async fn claim(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        _now: SystemTime,
        lifetime: Duration,
    ) -> Result<Claim, LedgerError> {
        let key = self.key(client_id, key);
        // A claim of this key that failed may have landed: send its value again. (Most of the
        // time none has failed: skip the lock.)
        let again = if self.uncertain_count.load(Ordering::Relaxed) == 0 {
            None
        } else {
            let mut uncertain = self.uncertain();
            let again = uncertain.remove(&key);
            self.uncertain_count
                .store(uncertain.len(), Ordering::Relaxed);
            again
        };
        let nonce = again.unwrap_or_else(|| self.next.fetch_add(1, Ordering::Relaxed));
        let value = self.value(nonce);
        let ttl = u64::try_from(lifetime.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        // Connected, the command is bounded by the client's own response timeout (the
        // ledger's); connecting (and waiting for another caller to connect) by this timer.
        let claimed = if self.is_connected() {
            self.set_nx_get(&key, &value, ttl).await
        } else {
            self.bounded(self.set_nx_get(&key, &value, ttl)).await
        };
        match claimed {
            Ok(true) => Ok(Claim::Won(ClaimTicket::new(nonce))),
            Ok(false) => Ok(Claim::Taken),
            Err(e) => {
                let mut uncertain = self.uncertain();
                if uncertain.len() >= UNCERTAIN_CLAIMS {
                    // Only availability rests on this memory, never the promise.
                    uncertain.clear();
                }
                uncertain.insert(key, nonce);
                self.uncertain_count
                    .store(uncertain.len(), Ordering::Relaxed);
                Err(e)
            }
        }
    }

    async fn release(
        &self,
        client_id: &ClientId,
        key: CodeKey,
        ticket: ClaimTicket,
    ) -> Result<(), LedgerError> {
        let key = self.key(client_id, key);
        let value = self.value(ticket.get());
        self.bounded(async {
            let (generation, mut conn) = self.connection().await?;
            self.release
                .key(&key)
                .arg(&value)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| {
                    self.forget(generation, &e);
                    self.failed(&e)
                })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_is_a_typed_error_without_the_password() {
        for url in [
            "redis://:hunter2@host:notaport",
            "redis://:hunter2?x@host",
            "ftp://:hunter2@host",
        ] {
            let e = RedisLedger::new(url).unwrap_err();
            let text = format!("{e} {e:?}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(matches!(e, LedgerError::Unavailable { .. }), "{e:?}");
        }
    }

    #[test]
    fn debug_of_a_builder_and_a_ledger_shows_no_password() {
        let b = RedisLedger::builder("redis://u:p/w@h:1/2?password=qq");
        let l = b.clone().build().unwrap();
        let text = format!("{b:?} {l:?} {}", l.address());
        for secret in ["p/w", "p%2Fw", "qq"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert_eq!(l.address(), "redis://h:1/2?password=[REDACTED]");
    }

    proptest::proptest! {
        /// Whatever the password and wherever the URL carries it, no text the ledger shows
        /// holds it: not the builder's or the ledger's `Debug`, the address, nor an error.
        #[test]
        fn a_random_password_appears_in_no_text(
            password in "[A-Za-z0-9/@:+=%!$*._~?#,-]{8,24}",
            form in 0usize..7,
        ) {
            let encoded = percent_encoding::utf8_percent_encode(&password, percent_encoding::NON_ALPHANUMERIC).to_string();
            let url = match form {
                0 => format!("redis://:{password}@cache.internal:6379/1"),
                1 => format!("rediss://app:{password}@cache.internal"),
                2 => format!("redis+cluster://:{password}@a.internal:7000,b.internal:7001"),
                3 => format!("redis+sentinel://:{password}@s1.internal,s2.internal:26380/main?sentinel_password={encoded}"),
                4 => format!("redis+unix:///run/redis.sock?pass={encoded}&db=2"),
                5 => format!("redis://:{encoded}@cache.internal:6379"),
                _ => format!("redis://cache.internal?password={encoded}"),
            };
            let builder = RedisLedger::builder(url.as_str());
            let mut text = format!("{builder:?}");
            match builder.build() {
                Ok(l) => text.push_str(&format!("{l:?} {}", l.address())),
                Err(e) => text.push_str(&format!("{e} {e:?}")),
            }
            let decoded = percent_encoding::percent_decode_str(&password).decode_utf8_lossy();
            proptest::prop_assert!(!text.contains(&password), "{text}");
            proptest::prop_assert!(!text.contains(decoded.as_ref()), "{text}");
            proptest::prop_assert!(!text.contains(&encoded), "{text}");
        }
    }
}
