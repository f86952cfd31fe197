//! Finding the programs the tests start, and ports for them.

use std::net::TcpListener;
use std::path::PathBuf;

/// The path of `program` on `PATH`; panics, naming the package that provides it, when it is
/// missing (a test never skips for lack of a part).
pub fn need(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    match found {
        Some(path) => path,
        None => panic!(
            "`{program}` is not installed: run `apt-get install {package}` (Debian, Ubuntu), \
             or `cargo xtask ci`, which installs it"
        ),
    }
}

/// A loopback port nothing listens on now, below `below` (a Redis Cluster node also needs the
/// port 10,000 above its own).
pub fn free_port(below: u16) -> u16 {
    for _ in 0..1_000 {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = listener.local_addr() else {
            continue;
        };
        if addr.port() < below {
            return addr.port();
        }
    }
    // The kernel hands out ports from its ephemeral range; walk a quieter range instead.
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (start..below)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .unwrap_or_else(|| panic!("no free loopback port below {below}"))
}

/// A loopback port below the kernel's ephemeral range, with the port 10,000 above it free too
/// (a Redis Cluster node's bus), both below that range: no other test's port-0 socket can take
/// it while a server there is down. A Redis restarted on its own port once found another
/// test's HTTP server there, and its client parsed `HTTP/1.1 400` as Redis replies.
pub fn quiet_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let (from, to) = (10_000u32, low.clamp(20_001, 55_535) - 10_000);
    let span = to - from;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = std::process::id()
        .wrapping_mul(7_919)
        .wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed).wrapping_mul(104_729))
        .wrapping_add(nanos);
    (0..span)
        .map(|i| from + (seed.wrapping_add(i) % span))
        .filter_map(|p| u16::try_from(p).ok())
        .find(|p| {
            TcpListener::bind(("127.0.0.1", *p)).is_ok()
                && TcpListener::bind(("127.0.0.1", *p + 10_000)).is_ok()
        })
        .unwrap_or_else(|| panic!("no free loopback port in {from}..{to}"))
}
