//! Real Redis servers for the tests: Debian's `redis-server` 7, on free loopback ports, with
//! persistence off, stopped when dropped.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::process::{need, quiet_port};

/// A `redis-server` the test owns.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    password: Option<String>,
    dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// A server on a free port, without a password.
    pub fn start() -> Self {
        Self::start_with(None, &[])
    }

    /// A server that requires `password` (`requirepass`).
    pub fn with_password(password: &str) -> Self {
        Self::start_with(Some(password), &[])
    }

    fn start_with(password: Option<&str>, extra: &[&str]) -> Self {
        need("redis-server", "redis-server");
        let mut last = String::new();
        // A port can be taken between choosing it and binding it: try a few.
        for _ in 0..5 {
            // Below the ephemeral range, with the bus port (plus 10,000) free too.
            let port = quiet_port();
            let dir =
                std::env::temp_dir().join(format!("neux-redis-{}-{port}", std::process::id()));
            let mut server = Self {
                port,
                password: password.map(str::to_owned),
                dir,
                extra: extra.iter().map(|s| (*s).to_owned()).collect(),
                child: None,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("redis-server did not start: {last}");
    }

    fn spawn(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        let log = std::fs::File::create(self.dir.join("redis.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--protected-mode", "no", "--enable-debug-command", "local"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not run redis-server: {e}"))?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
                return Err(format!("exited with {status}: {log}"));
            }
            if self.answers() {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("did not answer PING within 10 s".to_owned())
    }

    /// Whether the server answers a PING (`NOAUTH` counts: it is up).
    fn answers(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 64];
        match s.read(&mut reply) {
            Ok(n) => reply[..n].starts_with(b"+PONG") || reply[..n].starts_with(b"-NOAUTH"),
            Err(_) => false,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://[:password@]127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (empty: persistence is off).
    pub fn restart(&mut self) {
        self.kill();
        let started = Instant::now();
        loop {
            match self.spawn() {
                Ok(()) => return,
                // The old socket may linger for a moment.
                Err(e) if started.elapsed() > Duration::from_secs(10) => {
                    panic!("redis-server did not restart on port {}: {e}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Runs `redis-cli` against this server and returns what it printed.
    pub fn cli(&self, args: &[&str]) -> String {
        need("redis-cli", "redis-tools");
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(p) = &self.password {
            cmd.args(["-a", p, "--no-auth-warning"]);
        }
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("could not run redis-cli: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Blocks the server for `seconds` (`DEBUG SLEEP`), from a thread of its own; join it to
    /// wait for the server to answer again.
    pub fn stall(&self, seconds: f64) -> JoinHandle<String> {
        let (port, password) = (self.port, self.password.clone());
        let me = Self {
            port,
            password,
            dir: self.dir.clone(),
            extra: Vec::new(),
            child: None,
        };
        let secs = seconds.to_string();
        std::thread::spawn(move || me.cli(&["DEBUG", "SLEEP", &secs]))
    }

    /// How many keys the server holds (`DBSIZE`).
    pub fn keys(&self) -> usize {
        self.cli(&["DBSIZE"]).trim().parse().unwrap_or(0)
    }

    /// A server started with extra `redis-server` arguments (`--maxmemory 3mb`, say).
    pub fn start_with_args(args: &[&str]) -> Self {
        Self::start_with(None, args)
    }

    /// A field of `INFO` (`total_connections_received`, `role`), as text.
    pub fn info(&self, field: &str) -> String {
        let info = self.cli(&["INFO", "everything"]);
        info.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// How many connections the server has accepted since it started, this one's own
    /// `redis-cli` calls included.
    pub fn connections_received(&self) -> usize {
        self.info("total_connections_received").parse().unwrap_or(0)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A handle made by `stall` owns no process and no directory.
        if self.child.is_some() {
            self.kill();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A Redis Cluster of three primaries the test owns, made with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Three primaries on free ports, no replicas, every slot assigned.
    pub fn start() -> Self {
        Self::start_with_replicas(0, 5_000)
    }

    /// Three primaries with `replicas` replicas each; a primary that does not answer for
    /// `node_timeout_ms` is failed over to its replica.
    pub fn start_with_replicas(replicas: usize, node_timeout_ms: u64) -> Self {
        let timeout = node_timeout_ms.to_string();
        let nodes: Vec<RedisServer> = (0..3 * (1 + replicas))
            .map(|_| {
                RedisServer::start_with(
                    None,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        &timeout,
                    ],
                )
            })
            .collect();
        need("redis-cli", "redis-tools");
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("could not run redis-cli --cluster create: {e}"));
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Self { nodes };
        let started = Instant::now();
        while !cluster.nodes.iter().all(|n| {
            n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok")
                && (n.info("role") == "master" || n.info("master_link_status") == "up")
        }) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the cluster did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        cluster
    }

    /// `redis+cluster://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// How many keys each node holds.
    pub fn keys_per_node(&self) -> Vec<usize> {
        self.nodes.iter().map(RedisServer::keys).collect()
    }

    /// The nodes, in the order they were started (the first three began as primaries).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// Kills node `i` at once (SIGKILL).
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].kill();
    }

    /// The node that replicates node `i`, if one does.
    pub fn replica_of(&self, i: usize) -> Option<usize> {
        let port = self.nodes[i].port().to_string();
        self.nodes
            .iter()
            .position(|n| n.info("role") == "slave" && n.info("master_port") == port)
    }

    /// Waits until every live node reports the cluster healthy and node `i` is a primary.
    pub fn wait_until_primary(&self, i: usize, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let live = self.nodes.iter().filter(|n| n.child.is_some());
            let healthy = live
                .map(|n| n.cli(&["CLUSTER", "INFO"]))
                .all(|info| info.contains("cluster_state:ok"));
            if healthy && self.nodes[i].info("role") == "master" {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "node {i} did not become a primary of a healthy cluster within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many connections every node has accepted, added up.
    pub fn connections_received(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(RedisServer::connections_received)
            .sum()
    }
}
