//! What the `metrics` feature costs a login (built with `--features metrics`): the same SDK
//! login with a Prometheus recorder taking every count and latency, against no recorder, login
//! by login. A switch in front of the recorder turns it on for one side only (a process has
//! one global recorder).

use std::sync::atomic::{AtomicBool, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use neux_oauth::{AuthCode, Scope};
use neux_sandbox::Sandbox;
use serde_json::Value;

use crate::stats::{Sizes, interleaved, sequential_cases};
use crate::{client, mint_many};

/// Whether the recorder takes what the client emits right now.
static RECORDING: AtomicBool = AtomicBool::new(false);

/// metrics-exporter-prometheus's recorder while [`RECORDING`], else no recorder at all (the
/// handles are no-ops, as with none installed).
struct Switch(PrometheusRecorder);

impl Recorder for Switch {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_counter(key, metadata)
        } else {
            Counter::noop()
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_gauge(key, metadata)
        } else {
            Gauge::noop()
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        if RECORDING.load(Ordering::Relaxed) {
            self.0.register_histogram(key, metadata)
        } else {
            Histogram::noop()
        }
    }
}

pub async fn cases(s: &Sizes, sb: &Sandbox) -> Vec<Value> {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(Switch(recorder)).expect("the bench's only recorder");
    let sdk = client(sb).build().expect("a client");
    let login = |recording: bool| {
        let c = sdk.clone();
        move |code: AuthCode| {
            RECORDING.store(recording, Ordering::Relaxed);
            let c = c.clone();
            async move {
                c.login(&code, &Scope::default()).await.expect("a login");
            }
        }
    };
    let pair = interleaved(s, |n| mint_many(sb, n), login(true), login(false)).await;
    RECORDING.store(false, Ordering::Relaxed);
    // The recorded side was recorded: one exchange per login it made.
    let scrape = handle.render();
    let logins = (s.rounds * s.per_round + 5) as u64;
    let line = format!(
        "neux_calls_total{{call=\"exchange_code\",path=\"{}\",outcome=\"ok\"}} {logins}",
        neux_oauth::TOKEN_PATH
    );
    assert!(scrape.contains(&line), "expected {line} in\n{scrape}");
    sequential_cases(
        "login/loopback metrics: prometheus recorder vs none",
        "µs/login",
        &pair,
        1.02,
    )
    .into()
}
