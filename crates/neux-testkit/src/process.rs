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
