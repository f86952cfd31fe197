//! How much memory the in-memory code ledger takes per code, as the process's resident memory
//! grows while the ledger fills (Linux: `/proc/self/statm`).
//!
//! `cargo run --release -p neux-oauth --example ledger_memory`
// Tests and benches time real servers and threads on the wall clock; the core never reads it.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::print_stdout, missing_docs)]

use std::time::{Duration, SystemTime};

use neux_oauth::{
    AuthCode, ClientId, CodeKey, CodeLedger, DEFAULT_LEDGER_CAPACITY, InMemoryLedger,
};

/// Resident memory in bytes (4 KiB pages), or 0 where `/proc` is not there.
fn resident() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn main() {
    let app = ClientId::new("memory").expect("a client id");
    let (now, lifetime) = (SystemTime::now(), Duration::from_secs(300));
    // The keys are made first, so that only the ledger grows while it is measured.
    let keys: Vec<CodeKey> = (0..DEFAULT_LEDGER_CAPACITY)
        .map(|i| CodeKey::of(&AuthCode::new(format!("code-{i}")).expect("a code")))
        .collect();
    let ledger = InMemoryLedger::default();
    let before = resident();
    println!("    codes  resident growth  bytes per code");
    let mut next = 15_625;
    futures_lite::future::block_on(async {
        for (i, key) in keys.iter().enumerate() {
            ledger
                .claim(&app, *key, now, lifetime)
                .await
                .expect("room for every code");
            if i + 1 == next || i + 1 == keys.len() {
                let grown = resident().saturating_sub(before);
                println!(
                    "{:>9} {:>16} {:>15.0}",
                    i + 1,
                    grown,
                    grown as f64 / (i + 1) as f64
                );
                next *= 2;
            }
        }
    });
}
