//! Configuring a [`RedisLedger`], and the one ledger per process for a set of settings.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::Script;
use redis::cluster::ClusterClient;

use super::connection::{Target, sentinel_client};
use super::{RELEASE, RedisLedger};
use crate::ledger::LedgerError;
use crate::redis_url::{RedisUrl, Topology, UNPARSED};

/// Configures a [`RedisLedger`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedisLedgerBuilder {
    pub(super) url: String,
    pub(super) prefix: String,
    pub(super) timeout: Duration,
    pub(super) declared_noeviction: bool,
}

impl fmt::Debug for RedisLedgerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = RedisUrl::parse(&self.url);
        f.debug_struct("RedisLedgerBuilder")
            .field(
                "address",
                &shown.as_ref().map(RedisUrl::shown).unwrap_or(UNPARSED),
            )
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("declared_noeviction", &self.declared_noeviction)
            .finish()
    }
}

impl RedisLedgerBuilder {
    /// The first part of every key (default [`DEFAULT_REDIS_PREFIX`](super::DEFAULT_REDIS_PREFIX)), to keep apart the
    /// backends that share a Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The most a claim may take, connecting included (default [`DEFAULT_REDIS_TIMEOUT`](super::DEFAULT_REDIS_TIMEOUT)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// States that the server's `maxmemory-policy` is `noeviction`, for a managed Redis that
    /// refuses `CONFIG GET` (the ledger reads the setting itself wherever it may).
    ///
    /// A Redis that evicts keys under memory pressure (`allkeys-lru`, the usual setting of a
    /// cache) drops claims silently, and a dropped claim lets its code be sent again. So the
    /// ledger reads `maxmemory-policy` on every new connection and refuses to claim
    /// ([`LedgerError::Unsafe`]) unless it is `noeviction`; where the server does not let it
    /// read the setting, it refuses unless this is set. A setting the server does show always
    /// wins over this statement.
    pub fn declare_noeviction(mut self, declared: bool) -> Self {
        self.declared_noeviction = declared;
        self
    }

    /// Checks the URL and makes the ledger. It connects on first use, not here.
    pub fn build(self) -> Result<RedisLedger, LedgerError> {
        let url = RedisUrl::parse(&self.url).map_err(|e| {
            LedgerError::unavailable(UNPARSED, format!("not a usable Redis URL: {e}"))
        })?;
        let invalid = |e: &dyn fmt::Display| {
            LedgerError::unavailable(
                url.shown(),
                url.scrub(&format!("not a usable Redis URL: {e}")),
            )
        };
        if self.timeout.is_zero() {
            return Err(invalid(&"the timeout must be more than zero"));
        }
        let target = match url.topology {
            Topology::Cluster => Target::Cluster(
                ClusterClient::builder(url.node_urls())
                    .connection_timeout(self.timeout)
                    .response_timeout(self.timeout)
                    .build()
                    .map_err(|e| invalid(&e))?,
            ),
            Topology::Single => Target::Single(
                redis::Client::open(url.node_urls().remove(0).as_str()).map_err(|e| invalid(&e))?,
            ),
            Topology::Unix => Target::Single(
                redis::Client::open(url.unix_url().as_str()).map_err(|e| invalid(&e))?,
            ),
            Topology::Sentinel => Target::Sentinel(tokio::sync::Mutex::new(
                sentinel_client(&url).map_err(|e| invalid(&e))?,
            )),
        };
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)
            .map_err(|e| invalid(&format!("no randomness for the instance id: {e}")))?;
        Ok(RedisLedger {
            url,
            target,
            slot: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            connects: AtomicU64::new(0),
            prefix: self.prefix,
            timeout: self.timeout,
            declared_noeviction: self.declared_noeviction,
            instance: hex::encode(id),
            next: AtomicU64::new(0),
            uncertain: Mutex::new(HashMap::new()),
            uncertain_count: AtomicUsize::new(0),
            release: Script::new(RELEASE),
            warned_volatile: AtomicBool::new(false),
        })
    }

    /// The one ledger of this process for these settings (URL, prefix, timeout, declared
    /// policy), made on first use and shared after: every client built from the same settings
    /// ([`Client::from_env`](crate::Client::from_env) per request, say) shares its one
    /// connection and its memory of claims that timed out.
    ///
    /// The connection runs on the async runtime of the first claim. When that runtime ends (a
    /// process that runs several, one after the other), the next claim finds the connection
    /// dropped and connects again on the runtime it runs on (tested over three runtimes: no
    /// claim failed).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use neux_oauth::RedisLedger;
    /// let a = RedisLedger::builder("redis://:pw@redis.internal:6379").build_shared()?;
    /// let b = RedisLedger::builder("redis://:pw@redis.internal:6379").build_shared()?;
    /// assert!(Arc::ptr_eq(&a, &b));
    /// let other = RedisLedger::builder("redis://:pw@redis.internal:6379").prefix("shop").build_shared()?;
    /// assert!(!Arc::ptr_eq(&a, &other));
    /// # Ok::<(), neux_oauth::LedgerError>(())
    /// ```
    pub fn build_shared(self) -> Result<Arc<RedisLedger>, LedgerError> {
        type Registry = Mutex<HashMap<RedisLedgerBuilder, Arc<RedisLedger>>>;
        static LEDGERS: OnceLock<Registry> = OnceLock::new();
        let mut ledgers = LEDGERS
            .get_or_init(Registry::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(l) = ledgers.get(&self) {
            return Ok(l.clone());
        }
        let ledger = Arc::new(self.clone().build()?);
        ledgers.insert(self, ledger.clone());
        Ok(ledger)
    }
}
