//! A code ledger in Redis (feature `redis`): one promise for a whole fleet of instances.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use neux_proto::ClientId;
use neux_transport::{AsyncSleep, Sleep, async_trait};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, RedisError, RedisFuture, Script, Value};

use crate::ledger::{Claim, ClaimTicket, CodeKey, CodeLedger, LedgerError};

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
/// - **Fail closed.** Each claim is bounded by a timeout ([`DEFAULT_REDIS_TIMEOUT`] by default).
///   When Redis is down, slow or refuses the password, the exchange fails with
///   [`Error::Ledger`](crate::Error::Ledger): nothing is sent, `is_retryable()` is true and
///   `needs_new_code()` false. There is no fail-open mode. The connection is made on first use
///   and remade after a failure, so a client recovers when Redis comes back, without being
///   rebuilt.
/// - **Cluster:** `redis+cluster://host1:port,host2:port` (or `rediss+cluster://`) uses the
///   crate's cluster client; keys carry no hash tag, so they spread over every slot.
///
/// The password in the URL never appears in `Debug`, errors or logs; [`address`](Self::address)
/// shows the URL without it. docs/deploying.md says what the ledger promises under failover.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use neux_oauth::{Client, RedisLedger};
/// let ledger = RedisLedger::builder("redis://:hunter2@redis.internal:6379/0")
///     .prefix("shop-backend")
///     .build()?;
/// assert_eq!(ledger.address(), "redis://redis.internal:6379/0");
/// let client = Client::builder()
///     .client_id("tmfxzpo3g02unycoyl")
///     .secret(std::env::var("NEUX_SECRET")?)
///     .base_url("https://openapi.example.com")
///     .code_ledger(ledger)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
pub struct RedisLedger {
    target: Target,
    conn: Mutex<Option<Conn>>,
    address: String,
    password: Option<String>,
    prefix: String,
    timeout: Duration,
    instance: String,
    next: AtomicU64,
    /// Claims that timed out or failed, by key: sent again with the same value, they are
    /// recognised if they landed after all.
    uncertain: Mutex<HashMap<String, u64>>,
    release: Script,
}

// One per ledger, made once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Target {
    Single(redis::Client),
    Cluster(ClusterClient),
}

#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

impl fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger")
            .field("address", &self.address)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisLedger`].
#[derive(Clone)]
pub struct RedisLedgerBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
}

impl fmt::Debug for RedisLedgerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedgerBuilder")
            .field("address", &shown(&self.url).0)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisLedgerBuilder {
    /// The first part of every key (default [`DEFAULT_REDIS_PREFIX`]), to keep apart the
    /// backends that share a Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most a claim may take, connecting included (default [`DEFAULT_REDIS_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the URL and makes the ledger. It connects on first use, not here.
    pub fn build(self) -> Result<RedisLedger, LedgerError> {
        let (address, password) = shown(&self.url);
        let invalid = |e: &dyn fmt::Display| {
            LedgerError::unavailable(
                address.clone(),
                scrub(&format!("not a usable Redis URL: {e}"), password.as_deref()),
            )
        };
        if self.timeout.is_zero() {
            return Err(invalid(&"the timeout must be more than zero"));
        }
        let target = match cluster_nodes(&self.url) {
            Some(nodes) => Target::Cluster(
                ClusterClient::builder(nodes)
                    .connection_timeout(self.timeout)
                    .response_timeout(self.timeout)
                    .build()
                    .map_err(|e| invalid(&e))?,
            ),
            None => {
                Target::Single(redis::Client::open(self.url.as_str()).map_err(|e| invalid(&e))?)
            }
        };
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)
            .map_err(|e| invalid(&format!("no randomness for the instance id: {e}")))?;
        Ok(RedisLedger {
            target,
            conn: Mutex::new(None),
            address,
            password,
            prefix: self.prefix,
            timeout: self.timeout,
            instance: hex::encode(id),
            next: AtomicU64::new(0),
            uncertain: Mutex::new(HashMap::new()),
            release: Script::new(RELEASE),
        })
    }
}

impl RedisLedger {
    /// Starts configuring a ledger at `url`: `redis://[user:password@]host:port[/db]`,
    /// `rediss://` for TLS, or `redis+cluster://host1:port,host2:port` (`rediss+cluster://`)
    /// for a Redis Cluster.
    pub fn builder(url: impl Into<String>) -> RedisLedgerBuilder {
        RedisLedgerBuilder {
            url: url.into(),
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
        }
    }

    /// A ledger at `url` with the default prefix and timeout.
    pub fn new(url: impl Into<String>) -> Result<Self, LedgerError> {
        Self::builder(url).build()
    }

    /// Where the ledger is: its URL without the credentials.
    pub fn address(&self) -> &str {
        &self.address
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
        LedgerError::unavailable(
            self.address.clone(),
            scrub(&e.to_string(), self.password.as_deref()),
        )
    }

    /// The connection, made on first use (and again after a cluster's first attempt failed).
    async fn connection(&self) -> Result<Conn, LedgerError> {
        if let Some(c) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok(c);
        }
        let conn = match &self.target {
            // Lazy, and it reconnects by itself after a failure.
            Target::Single(client) => Conn::Single(
                ConnectionManager::new_lazy_with_config(
                    client.clone(),
                    ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.timeout))
                        .set_response_timeout(Some(self.timeout))
                        .set_number_of_retries(1),
                )
                .map_err(|e| self.failed(&e))?,
            ),
            Target::Cluster(client) => Conn::Cluster(
                client
                    .get_async_connection()
                    .await
                    .map_err(|e| self.failed(&e))?,
            ),
        };
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        Ok(conn)
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
                ledger: self.address.clone(),
                after,
            })
        };
        futures_lite::future::or(work, deadline).await
    }

    async fn set_nx_get(&self, key: &str, value: &str, ttl: u64) -> Result<bool, LedgerError> {
        let mut conn = self.connection().await?;
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
                Err(e) if tries < 2 && (e.is_connection_dropped() || e.is_io_error()) => {}
                Err(e) => return Err(self.failed(&e)),
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
        // A claim of this key that failed may have landed: send its value again.
        let nonce = self
            .uncertain()
            .remove(&key)
            .unwrap_or_else(|| self.next.fetch_add(1, Ordering::Relaxed));
        let value = self.value(nonce);
        let ttl = u64::try_from(lifetime.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        match self.bounded(self.set_nx_get(&key, &value, ttl)).await {
            Ok(true) => Ok(Claim::Won(ClaimTicket::new(nonce))),
            Ok(false) => Ok(Claim::Taken),
            Err(e) => {
                let mut uncertain = self.uncertain();
                if uncertain.len() >= UNCERTAIN_CLAIMS {
                    // Only availability rests on this memory, never the promise.
                    uncertain.clear();
                }
                uncertain.insert(key, nonce);
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
            let mut conn = self.connection().await?;
            self.release
                .key(&key)
                .arg(&value)
                .invoke_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(|e| self.failed(&e))
        })
        .await
    }
}

/// The nodes of a `redis+cluster://` (or `rediss+cluster://`) URL, as one URL each.
fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.strip_suffix("+cluster")?;
    let (auth, hosts) = match rest.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), rest),
    };
    let hosts = hosts.split('/').next().unwrap_or(hosts);
    Some(
        hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|h| format!("{scheme}://{auth}{h}"))
            .collect(),
    )
}

/// A Redis URL without its credentials, and the password it carried.
fn shown(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return ("(not a URL)".to_owned(), None);
    };
    let (authority_end, path) = match rest.find('/') {
        Some(i) => (i, &rest[i..]),
        None => (rest.len(), ""),
    };
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((auth, hosts)) => {
            let password = auth.split_once(':').map_or(auth, |(_, p)| p).to_owned();
            let password = (!password.is_empty()).then_some(password);
            (format!("{scheme}://{hosts}{path}"), password)
        }
        None => (format!("{scheme}://{authority}{path}"), None),
    }
}

/// `text` without the password in it, raw or percent-encoded.
fn scrub(text: &str, password: Option<&str>) -> String {
    let Some(p) = password.filter(|p| !p.is_empty()) else {
        return text.to_owned();
    };
    let decoded = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
    text.replace(p, "[REDACTED]")
        .replace(decoded.as_ref(), "[REDACTED]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_shown_without_credentials() {
        for (url, address, password) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379", None),
            ("redis://:pw@h:1/2", "redis://h:1/2", Some("pw")),
            ("rediss://user:p%40ss@h:1", "rediss://h:1", Some("p%40ss")),
            (
                "redis+cluster://:pw@a:1,b:2",
                "redis+cluster://a:1,b:2",
                Some("pw"),
            ),
        ] {
            let (shown_address, shown_password) = shown(url);
            assert_eq!(shown_address, address);
            assert_eq!(shown_password.as_deref(), password);
        }
        assert_eq!(
            scrub("auth p@ss failed", Some("p%40ss")),
            "auth [REDACTED] failed"
        );
    }

    #[test]
    fn a_cluster_url_names_every_node_with_the_credentials() {
        assert_eq!(
            cluster_nodes("redis+cluster://:pw@a:1,b:2/"),
            Some(vec![
                "redis://:pw@a:1".to_owned(),
                "redis://:pw@b:2".to_owned()
            ])
        );
        assert_eq!(cluster_nodes("redis://a:1"), None);
    }

    #[test]
    fn a_bad_url_is_a_typed_error_without_the_password() {
        let e = RedisLedger::new("redis://:hunter2@host:notaport").unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(matches!(e, LedgerError::Unavailable { .. }), "{e:?}");
    }
}
