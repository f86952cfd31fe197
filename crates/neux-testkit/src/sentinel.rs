//! A Redis primary, its replica and three sentinels watching them: Debian's `redis-server` and
//! `redis-sentinel`, on free loopback ports, stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::RedisServer;
use crate::process::{need, quiet_port};

/// The name the sentinels know the primary by.
pub const MASTER_NAME: &str = "neux-main";

/// A primary, a replica and three sentinels (quorum 2), failing over within about two seconds
/// of the primary's death (`down-after-milliseconds 1000`).
#[derive(Debug)]
pub struct RedisSentinelSet {
    /// The primary as started (killed by [`kill_primary`](Self::kill_primary)).
    pub primary: RedisServer,
    /// The replica as started: the primary after a failover.
    pub replica: RedisServer,
    sentinels: Vec<(u16, Child, PathBuf)>,
}

impl RedisSentinelSet {
    /// Starts the set and waits until every sentinel knows the primary, the replica and the
    /// other two sentinels (a failover needs them all).
    pub fn start() -> Self {
        need("redis-sentinel", "redis-sentinel");
        let primary = RedisServer::start();
        let port = primary.port().to_string();
        let replica = RedisServer::start_with_args(&["--replicaof", "127.0.0.1", &port]);
        let mut set = Self {
            primary,
            replica,
            sentinels: Vec::new(),
        };
        for _ in 0..3 {
            set.spawn_sentinel();
        }
        let started = Instant::now();
        loop {
            let ready = set.sentinels.iter().all(|(p, _, _)| {
                let replicas = sentinel_cli(*p, &["SENTINEL", "REPLICAS", MASTER_NAME]);
                let others = sentinel_cli(*p, &["SENTINEL", "SENTINELS", MASTER_NAME]);
                replicas.contains(&set.replica.port().to_string())
                    && !replicas.contains("s_down")
                    && others.lines().filter(|l| *l == "name").count() == 2
            });
            if ready {
                return set;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the sentinels did not find each other and the replica within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn spawn_sentinel(&mut self) {
        let port = quiet_port();
        let dir = std::env::temp_dir().join(format!("neux-sentinel-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a sentinel's directory");
        let config = dir.join("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir {dir}\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2\n\
                 sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
                 sentinel failover-timeout {MASTER_NAME} 5000\n\
                 sentinel parallel-syncs {MASTER_NAME} 1\n",
                dir = dir.display(),
                primary = self.primary.port(),
            ),
        )
        .expect("a sentinel's config");
        let log = std::fs::File::create(dir.join("sentinel.log")).expect("a sentinel's log");
        let child = Command::new("redis-sentinel")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not run redis-sentinel: {e}"));
        let started = Instant::now();
        while !sentinel_cli(port, &["PING"]).contains("PONG") {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-sentinel did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.sentinels.push((port, child, dir));
    }

    /// `redis+sentinel://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C/neux-main`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|(p, _, _)| format!("127.0.0.1:{p}"))
            .collect();
        format!("redis+sentinel://{}/{MASTER_NAME}", hosts.join(","))
    }

    /// The primary's port as the first sentinel reports it now.
    pub fn primary_port(&self) -> Option<u16> {
        let (port, _, _) = self.sentinels.first()?;
        let out = sentinel_cli(*port, &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME]);
        out.lines().nth(1)?.trim().parse().ok()
    }

    /// Kills the primary at once (SIGKILL), as a crash would.
    pub fn kill_primary(&mut self) {
        self.primary.kill();
    }

    /// Waits until the sentinels name the replica as the primary, and the replica says so.
    pub fn wait_for_failover(&self, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if self.primary_port() == Some(self.replica.port())
                && self.replica.info("role") == "master"
            {
                return started.elapsed();
            }
            assert!(started.elapsed() < within, "no failover within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn sentinel_cli(port: u16, args: &[&str]) -> String {
    Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

impl Drop for RedisSentinelSet {
    fn drop(&mut self) {
        for (_, child, dir) in &mut self.sentinels {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
