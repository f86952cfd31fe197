//! Counts and latencies of every call and of the code ledger, through the `metrics` facade
//! (feature `metrics`): whatever recorder the process installs (Prometheus, StatsD,
//! OpenTelemetry) receives them. Without the feature every function here is empty.
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `neux_calls_total` | counter | `call`, `path`, `outcome` |
//! | `neux_call_duration_seconds` | histogram | `call`, `path`, `outcome` |
//! | `neux_call_attempts_total` | counter: HTTP requests sent | `call`, `path` |
//! | `neux_call_resends_total` | counter: requests beyond a call's first | `call`, `path` |
//! | `neux_ledger_claims_total` | counter | `outcome`: `won`, `taken`, `full`, `unsafe`, `unavailable` |
//! | `neux_ledger_releases_total` | counter | `outcome`: `released`, `failed` |
//!
//! `call` is `exchange_code`, `user_info` or `call`; `path` is the platform path without its
//! query (for [`Client::call`](crate::Client::call), the call's path: at most
//! [`MAX_PATHS`] distinct ones per process, later ones are `other`; a path the call refuses
//! is `invalid`); `outcome` is `ok` or
//! the error's [`kind`](crate::Error::kind). No label ever holds a code, a token, an openId or
//! a query string.

use std::time::Duration;

/// What a call is, for its labels.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) struct CallLabel {
    call: &'static str,
    path: &'static str,
}

impl CallLabel {
    pub(crate) fn exchange() -> Self {
        Self {
            call: "exchange_code",
            path: neux_proto::TOKEN_PATH,
        }
    }

    pub(crate) fn user_info() -> Self {
        Self {
            call: "user_info",
            path: neux_proto::USER_INFO_PATH,
        }
    }

    /// A signed call whose path was refused: one label for all of them.
    pub(crate) fn refused_path() -> Self {
        Self {
            call: "call",
            path: "invalid",
        }
    }

    /// A signed call to `path`: its label is found once, when the call starts (and not at all
    /// without the feature).
    #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
    pub(crate) fn signed(path: &str) -> Self {
        #[cfg(feature = "metrics")]
        let path = on::path(path);
        #[cfg(not(feature = "metrics"))]
        let path = "";
        Self { call: "call", path }
    }
}

/// How many distinct signed-call paths get a label of their own; later ones are `other`. A
/// backend calls a handful of platform paths; an id in a path would otherwise make a series
/// per id.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) const MAX_PATHS: usize = 64;

/// The end of a call: its outcome (`ok` or an error kind) and how long it took.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn call_ended(label: CallLabel, outcome: &'static str, elapsed: Duration) {
    #[cfg(feature = "metrics")]
    {
        on::describe();
        let labels = [
            ("call", label.call),
            ("path", label.path),
            ("outcome", outcome),
        ];
        metrics::counter!("neux_calls_total", &labels).increment(1);
        metrics::histogram!("neux_call_duration_seconds", &labels).record(elapsed.as_secs_f64());
    }
}

/// How many HTTP requests a call sent.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn attempts(label: CallLabel, attempts: u32) {
    #[cfg(feature = "metrics")]
    if attempts > 0 {
        let labels = [("call", label.call), ("path", label.path)];
        metrics::counter!("neux_call_attempts_total", &labels).increment(u64::from(attempts));
        if attempts > 1 {
            metrics::counter!("neux_call_resends_total", &labels)
                .increment(u64::from(attempts - 1));
        }
    }
}

/// What the ledger answered a claim: `won`, `taken`, `full`, `unsafe` or `unavailable`.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn claim(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    {
        on::describe();
        metrics::counter!("neux_ledger_claims_total", "outcome" => outcome).increment(1);
    }
}

/// Whether a claim on a code that was never sent could be released.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn release(released: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "neux_ledger_releases_total",
        "outcome" => if released { "released" } else { "failed" }
    )
    .increment(1);
}

#[cfg(feature = "metrics")]
mod on {
    use std::collections::HashSet;
    use std::sync::{Mutex, Once, OnceLock};

    use metrics::{Unit, describe_counter, describe_histogram};

    use super::MAX_PATHS;

    /// Tells the recorder what each metric is (Prometheus's `# HELP` lines), once per process,
    /// at the first call or claim: install the recorder before the first call.
    pub(super) fn describe() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            describe_counter!(
                "neux_calls_total",
                Unit::Count,
                "neux-oauth calls by call, platform path and outcome (ok or the error's kind)"
            );
            describe_histogram!(
                "neux_call_duration_seconds",
                Unit::Seconds,
                "How long neux-oauth calls took, retries and backoff included"
            );
            describe_counter!(
                "neux_call_attempts_total",
                Unit::Count,
                "HTTP requests neux-oauth calls sent"
            );
            describe_counter!(
                "neux_call_resends_total",
                Unit::Count,
                "HTTP requests sent again after a call's first (retries)"
            );
            describe_counter!(
                "neux_ledger_claims_total",
                Unit::Count,
                "Code ledger claims: won (the code may be sent), taken (presented already: refused), full, unsafe (a store that may forget codes), unavailable"
            );
            describe_counter!(
                "neux_ledger_releases_total",
                Unit::Count,
                "Claims released because their request certainly never left"
            );
        });
    }

    /// The signed-call paths seen so far, each kept for the life of the process (at most
    /// [`MAX_PATHS`], so at most that much is kept): a label value lives as long as the series.
    static PATHS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();

    /// The `path` label of a signed call: its path while fewer than [`MAX_PATHS`] are known,
    /// else `other`.
    pub(super) fn path(path: &str) -> &'static str {
        let mut known = PATHS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(p) = known.get(path) {
            return p;
        }
        if known.len() >= MAX_PATHS {
            return "other";
        }
        // Bounded by MAX_PATHS: a few short strings, once per process.
        let p: &'static str = Box::leak(path.to_owned().into_boxed_str());
        known.insert(p);
        p
    }
}
