//! Everything the client logs, at every level and across a failing and a succeeding login, is
//! free of the secret, codes and tokens.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use neux_oauth::{Dialect, Scope};
use neux_sandbox::UserSpec;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_events_carry_no_secrets() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();

    let sb = sandbox().await;
    let client = builder(&sb, Dialect::Form).build().unwrap();
    let code = mint(&sb, "user.info", UserSpec::default());
    let (tokens, _) = client.login(&code, &Scope::default()).await.unwrap();
    let err = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    let wrong = builder(&sb, Dialect::Json)
        .secret("wrong-secret")
        .build()
        .unwrap();
    let code2 = mint(&sb, "user.info", UserSpec::default());
    let _ = wrong
        .exchange_code(&code2, &Scope::default())
        .await
        .unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("neux.exchange_code") && logs.contains("neux.user_info"),
        "{logs}"
    );
    assert!(
        logs.contains(&code.fingerprint()),
        "codes are logged as fingerprints"
    );
    assert!(
        logs.contains("dialect=form") && logs.contains("latency_ms"),
        "{logs}"
    );
    assert!(logs.contains(err.kind()), "failures are logged by kind");
    let token = tokens.access_token().expose_secret();
    for s in [
        code.expose_secret(),
        code2.expose_secret(),
        token,
        token.split('.').nth(2).unwrap(),
        SECRET,
        "wrong-secret",
    ] {
        assert!(!logs.contains(s), "{s} leaked into the logs:\n{logs}");
    }
}
