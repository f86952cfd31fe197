//! Everything the client logs, at every level and across a failing and a succeeding login, is
//! free of the secret, codes and tokens.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_oauth::{Dialect, Scope};
use neux_sandbox::UserSpec;

/// Log targets of dependencies that print a request's URL, and so the user-info call's access
/// token, at trace level. docs/security.md names them; the test fails if another appears.
const URL_LOGGING_TARGETS: &[&str] = &["async_h1::client"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_events_carry_no_secrets() {
    let capture = Capture::default();
    let writer = capture.clone();
    // `init` also installs the `log` bridge (tracing-log): the `log` records of reqwest, hyper,
    // surf, http-client and async-h1 are captured with the `tracing` ones, at trace level.
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
    #[allow(unused_mut)]
    let mut tokens_by_transport: Vec<_> = std::iter::once(tokens.clone()).collect();
    #[cfg(feature = "surf")]
    {
        let surf = builder(&sb, Dialect::Json)
            .transport(neux_oauth::SurfTransport::new(Default::default()).unwrap())
            .build()
            .unwrap();
        let code = mint(&sb, "user.info", UserSpec::default());
        tokens_by_transport.push(surf.login(&code, &Scope::default()).await.unwrap().0);
    }
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

    let all = capture.text();
    // The default transport's own stack logs through `log`: its records must be captured.
    let stack = if cfg!(feature = "reqwest-client") {
        [" hyper", " reqwest"]
    } else {
        [" async_h1", " http_client"]
    };
    assert!(
        stack.iter().any(|s| all.contains(s)),
        "the log bridge captured the HTTP stack's own records ({stack:?}):\n{all}"
    );
    let tokens_seen: Vec<String> = tokens_by_transport
        .iter()
        .map(|t| t.access_token().expose_secret().to_owned())
        .collect();
    // The named targets print the token in the URL, and nothing else does.
    let (named, logs): (Vec<&str>, Vec<&str>) = all.lines().partition(|l| {
        URL_LOGGING_TARGETS
            .iter()
            .any(|t| l.contains(&format!(" {t}:")))
    });
    let logs = logs.join("\n");
    for t in &tokens_seen {
        assert!(
            !logs.contains(t.as_str()),
            "a token leaked outside {URL_LOGGING_TARGETS:?}:\n{logs}"
        );
    }
    if cfg!(feature = "surf") {
        assert!(
            named
                .iter()
                .any(|l| tokens_seen.iter().any(|t| l.contains(t.as_str()))),
            "async-h1 no longer logs the URL: narrow URL_LOGGING_TARGETS and docs/security.md"
        );
    }
    for l in &named {
        for s in [code.expose_secret(), SECRET] {
            assert!(!l.contains(s), "{s} leaked:\n{l}");
        }
    }
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
