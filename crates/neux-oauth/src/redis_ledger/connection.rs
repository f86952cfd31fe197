//! The ledger's one connection: made by a single caller, checked for settings that could lose
//! a claim, and forgotten when it no longer reaches the primary.

use std::sync::atomic::Ordering;

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{MultipleNodeRoutingInfo, RoutingInfo};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    AsyncConnectionConfig, Cmd, ErrorKind, RedisConnectionInfo, RedisError, RedisFuture, TlsMode,
    Value,
};

use super::RedisLedger;
use crate::ledger::LedgerError;
use crate::redis_url::RedisUrl;

// One per ledger, made once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(super) enum Target {
    Single(redis::Client),
    Cluster(ClusterClient),
    /// Asks the sentinels for the primary on every (re)connect.
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Sentinel(c) => c.req_packed_command(cmd),
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
            Self::Sentinel(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Sentinel(c) => c.get_db(),
        }
    }
}

/// The Sentinel client of a `redis+sentinel://` URL: the password and database are the
/// primary's; `sentinel_username` / `sentinel_password` in the query are the sentinels' own.
pub(super) fn sentinel_client(url: &RedisUrl) -> Result<SentinelClient, RedisError> {
    let auth = crate::redis_url::userinfo(
        url.query("sentinel_username"),
        url.query("sentinel_password")
            .or_else(|| url.query("sentinel_pass")),
    );
    let scheme = if url.tls { "rediss" } else { "redis" };
    let fragment = if url.insecure { "#insecure" } else { "" };
    let sentinel_url = |n: &crate::redis_url::Node| format!("{scheme}://{auth}{n}{fragment}");
    let sentinels: Vec<String> = url.nodes.iter().map(sentinel_url).collect();
    let mut redis = RedisConnectionInfo::default().set_db(url.db);
    if let Some(u) = &url.username {
        redis = redis.set_username(u);
    }
    if let Some(p) = &url.password {
        redis = redis.set_password(p);
    }
    let mut node = SentinelNodeConnectionInfo::default().set_redis_connection_info(redis);
    if url.tls {
        node = node.set_tls_mode(if url.insecure {
            TlsMode::Insecure
        } else {
            TlsMode::Secure
        });
    }
    SentinelClient::build(
        sentinels,
        url.master.clone().unwrap_or_default(),
        Some(node),
        SentinelServerType::Master,
    )
}

impl RedisLedger {
    /// Whether a connection is made (every command on it has the ledger's response timeout).
    pub(super) fn is_connected(&self) -> bool {
        self.slot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    fn cached(&self) -> Option<(u64, Conn)> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The connection, made by one caller at a time: the first caller connects, the others
    /// wait for it (within their own claim's timeout) and share what it made. A failed connect
    /// leaves the slot empty for the next caller to try.
    pub(super) async fn connection(&self) -> Result<(u64, Conn), LedgerError> {
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let _turn = self.connecting.lock().await;
        if let Some(c) = self.cached() {
            return Ok(c);
        }
        let mut conn = self.connect().await?;
        self.check_server(&mut conn).await?;
        let generation = self.connects.fetch_add(1, Ordering::Relaxed) + 1;
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, conn.clone()));
        Ok((generation, conn))
    }

    /// Forgets connection `generation` after an error that says it may no longer reach the
    /// primary (a failover): the next claim connects again (through the sentinels, or from the
    /// cluster's seeds).
    pub(super) fn forget(&self, generation: u64, e: &RedisError) {
        let lost = e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_timeout();
        // Replies that are not Redis's: whatever answered is not the server (another service
        // took its port while it was down), and a connection manager does not reconnect on that.
        let garbled = matches!(e.kind(), ErrorKind::Parse | ErrorKind::UnexpectedReturnType);
        let stale = match self.target {
            // A connection manager reconnects to its one server by itself after a lost
            // connection.
            Target::Single(_) => garbled,
            // A cluster connection follows MOVED and READONLY by itself; after a lost primary,
            // connecting again from the seeds (one caller at a time) does not depend on its
            // internal refresh (a loaded run once went on failing after the failover).
            Target::Cluster(_) => lost || garbled,
            // The sentinels know where the primary is now.
            Target::Sentinel(_) => lost || garbled || e.code() == Some("READONLY"),
        };
        if stale {
            let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_some_and(|(g, _)| *g == generation) {
                *slot = None;
            }
        }
    }

    async fn connect(&self) -> Result<Conn, LedgerError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        Ok(match &self.target {
            // It reconnects by itself after a failure.
            Target::Single(client) => Conn::Single(
                ConnectionManager::new_with_config(
                    client.clone(),
                    ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(self.timeout))
                        .set_response_timeout(Some(self.timeout))
                        .set_number_of_retries(1),
                )
                .await
                .map_err(|e| self.failed(&e))?,
            ),
            Target::Cluster(client) => Conn::Cluster(
                client
                    .get_async_connection()
                    .await
                    .map_err(|e| self.failed(&e))?,
            ),
            Target::Sentinel(sentinel) => {
                let client = sentinel
                    .lock()
                    .await
                    .async_get_client()
                    .await
                    .map_err(|e| self.failed(&e))?;
                Conn::Sentinel(
                    client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .map_err(|e| self.failed(&e))?,
                )
            }
        })
    }

    /// Refuses a server that may evict claims; warns once about one that forgets them on a
    /// restart. On a cluster, every primary is asked.
    async fn check_server(&self, conn: &mut Conn) -> Result<(), LedgerError> {
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET")
            .arg("maxmemory-policy")
            .arg("appendonly")
            .arg("save");
        let reply = match conn {
            Conn::Cluster(c) => {
                c.route_command(
                    cmd,
                    RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None)),
                )
                .await
            }
            other => cmd.query_async::<Value>(other).await,
        };
        let settings = match reply {
            Ok(v) => {
                let mut words = Vec::new();
                flatten(&v, &mut words);
                words
            }
            Err(e)
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout() =>
            {
                return Err(self.failed(&e));
            }
            // `CONFIG` renamed away or not permitted (a managed Redis).
            Err(_) => Vec::new(),
        };
        let values = |name: &str| -> Vec<&str> {
            settings
                .windows(2)
                .filter(|w| w[0].eq_ignore_ascii_case(name))
                .map(|w| w[1].as_str())
                .collect()
        };
        let policies = values("maxmemory-policy");
        if let Some(bad) = policies
            .iter()
            .find(|p| !p.eq_ignore_ascii_case("noeviction"))
        {
            return Err(LedgerError::Unsafe {
                ledger: self.url.shown().to_owned(),
                setting: "maxmemory-policy".to_owned(),
                reason: format!(
                    "its maxmemory-policy is {bad}, so under memory pressure it drops keys, claims included, and a dropped claim lets its code be sent again; set `maxmemory-policy noeviction` on this server (or give the ledger a Redis of its own)"
                ),
            });
        }
        if policies.is_empty() {
            if !self.declared_noeviction {
                return Err(LedgerError::Unsafe {
                    ledger: self.url.shown().to_owned(),
                    setting: "maxmemory-policy".to_owned(),
                    reason: "the server does not let the ledger read its maxmemory-policy (CONFIG GET is refused), and a policy that evicts keys would drop claims; if it is `noeviction`, say so with RedisLedgerBuilder::declare_noeviction(true)".to_owned(),
                });
            }
            tracing::info!(
                ledger = self.url.shown(),
                "maxmemory-policy not readable; declared noeviction"
            );
        }
        let appendonly = values("appendonly");
        let save = values("save");
        let volatile = !appendonly.is_empty()
            && appendonly.iter().all(|a| a.eq_ignore_ascii_case("no"))
            && save.iter().all(|s| s.trim().is_empty());
        if volatile && !self.warned_volatile.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                ledger = self.url.shown(),
                "the code ledger's Redis keeps nothing on disk (appendonly no, save \"\"): a restart forgets every claim, and a code presented before it may be presented once more (the platform then refuses it: CodeAlreadyPresented by Platform)"
            );
        }
        Ok(())
    }
}

/// Every string in a reply, in order (a `CONFIG GET` answers a flat list in RESP2, a map in
/// RESP3, and a map of node to either from a cluster).
fn flatten(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::BulkString(b) => out.push(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => out.push(s.clone()),
        Value::Array(items) | Value::Set(items) => items.iter().for_each(|i| flatten(i, out)),
        Value::Map(pairs) => {
            for (k, v) in pairs {
                flatten(k, out);
                flatten(v, out);
            }
        }
        _ => {}
    }
}
