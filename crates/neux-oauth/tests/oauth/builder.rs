//! Building a client: required settings, the environment, and what is refused.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use neux_oauth::{
    BuildError, CODE_LIFETIME, Client, Dialect, MAX_CODE_LIFETIME, MIN_CODE_LIFETIME,
};

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn required_settings_are_named() {
    let err = Client::builder()
        .secret("s")
        .base_url("https://a.test")
        .build()
        .unwrap_err();
    assert_eq!(err, BuildError::Missing("client_id"));
    let err = Client::builder()
        .client_id("c")
        .base_url("https://a.test")
        .build()
        .unwrap_err();
    assert_eq!(err, BuildError::Missing("secret"));
    let err = Client::builder()
        .client_id("c")
        .secret("s")
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::Missing("base_url"),
        "no silent default host"
    );
}

#[test]
fn environment_names_the_missing_variable() {
    let all = [
        ("NEUX_BASE_URL", "https://a.test"),
        ("NEUX_CLIENT_ID", "c"),
        ("NEUX_SECRET", "s"),
        ("NEUX_DIALECT", "form"),
    ];
    let client = Client::builder()
        .env_with(env(&all))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.dialect(), Dialect::Form);
    assert_eq!(client.client_id().as_str(), "c");
    for missing in ["NEUX_BASE_URL", "NEUX_CLIENT_ID", "NEUX_SECRET"] {
        let vars: Vec<_> = all.iter().copied().filter(|(k, _)| *k != missing).collect();
        let err = Client::builder().env_with(env(&vars)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("environment variable {missing} is not set")
        );
    }
    // A shared ledger: used with the `redis` feature, refused without it (never ignored).
    let mut with_ledger = all.to_vec();
    with_ledger.push((
        "NEUX_LEDGER_URL",
        "redis://:ledger-pw-93@redis.internal:6379/0",
    ));
    let built = Client::builder()
        .env_with(env(&with_ledger))
        .and_then(|b| b.build());
    if cfg!(feature = "redis") {
        let client = built.unwrap();
        let text = format!("{client:?}");
        assert!(text.contains("redis://redis.internal:6379"), "{text}");
        assert!(!text.contains("ledger-pw-93"), "{text}");
    } else {
        let err = built.unwrap_err();
        assert!(err.to_string().contains("`redis` feature"), "{err}");
        assert!(!err.to_string().contains("ledger-pw-93"), "{err}");
    }
    with_ledger.pop();
    with_ledger.push(("NEUX_LEDGER_URL", "redis://:ledger-pw-93@host:not-a-port"));
    let err = Client::builder().env_with(env(&with_ledger)).unwrap_err();
    assert!(
        matches!(
            &err,
            BuildError::Invalid {
                field: "NEUX_LEDGER_URL",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !format!("{err} {err:?}").contains("ledger-pw-93"),
        "{err:?}"
    );
    let bad = [
        ("NEUX_BASE_URL", "https://a.test"),
        ("NEUX_CLIENT_ID", "c"),
        ("NEUX_SECRET", "s"),
        ("NEUX_DIALECT", "xml"),
    ];
    assert!(matches!(
        Client::builder().env_with(env(&bad)),
        Err(BuildError::Invalid {
            field: "NEUX_DIALECT",
            ..
        })
    ));
}

#[test]
fn base_urls_are_checked() {
    let b = |url: &str| {
        Client::builder()
            .client_id("c")
            .secret("s")
            .base_url(url)
            .build()
    };
    assert!(b("https://api.example.test").is_ok());
    assert_eq!(
        b("https://api.example.test/prefix/").unwrap().base_url(),
        "https://api.example.test/prefix"
    );
    assert!(b("http://127.0.0.1:8080").is_ok());
    assert!(b("http://[::1]:8080").is_ok());
    assert!(b("http://localhost:1").is_ok());
    // The one loopback rule (neux-transport's, which also keeps these off a proxy): a
    // subdomain of localhost may be resolved by DNS, so plain http to it needs the opt-in.
    let e = b("http://sandbox.localhost:1").unwrap_err();
    assert!(e.to_string().contains("allow_insecure_http"), "{e}");
    assert!(
        Client::builder()
            .client_id("c")
            .secret("s")
            .base_url("http://sandbox.localhost:1")
            .allow_insecure_http(true)
            .build()
            .is_ok()
    );
    assert!(b("http://localhost.example.com:1").is_err());
    for bad in [
        "http://api.example.test",
        "ftp://a.test",
        "api.example.test",
        "https://a.test/?x=1",
        "https://u:p@a.test",
        "",
    ] {
        assert!(
            matches!(
                b(bad),
                Err(BuildError::Invalid {
                    field: "base_url",
                    ..
                })
            ),
            "{bad}"
        );
    }
    let insecure = Client::builder()
        .client_id("c")
        .secret("s")
        .base_url("http://10.0.0.1")
        .allow_insecure_http(true)
        .build();
    assert!(insecure.is_ok());
}

#[test]
fn bad_values_are_refused_without_echoing_the_secret() {
    let err = Client::builder()
        .client_id("c")
        .secret("top-secret\n")
        .base_url("https://a.test")
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        BuildError::Invalid {
            field: "secret",
            ..
        }
    ));
    assert!(!err.to_string().contains("top-secret"));
    let err = Client::builder()
        .client_id("has space")
        .secret("s")
        .base_url("https://a.test")
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        BuildError::Invalid {
            field: "client_id",
            ..
        }
    ));
}

#[test]
fn debug_output_has_no_secret() {
    let b = Client::builder()
        .client_id("c")
        .secret("hunter2-secret")
        .base_url("https://a.test");
    let text = format!("{b:?}");
    assert!(
        !text.contains("hunter2") && text.contains("[REDACTED]"),
        "{text}"
    );
    let client = b.build().unwrap();
    let text = format!("{client:?} {:#?}", client.clone());
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn client_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Client>();
    assert_send_sync::<neux_oauth::TokenSet>();
    assert_send_sync::<neux_oauth::Error>();
}

#[test]
fn code_lifetimes_outside_the_sane_range_are_refused() {
    let with = |lifetime: Duration| {
        Client::builder()
            .client_id("app")
            .secret("secret")
            .base_url("https://api.example.test")
            .code_lifetime(lifetime)
            .build()
    };
    for bad in [
        Duration::ZERO,
        Duration::from_secs(59),
        MAX_CODE_LIFETIME + Duration::from_secs(1),
        Duration::MAX,
    ] {
        match with(bad) {
            Err(BuildError::Invalid { field, reason }) => {
                assert_eq!(field, "code_lifetime");
                assert!(reason.contains("5 minutes"), "{reason}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    for good in [MIN_CODE_LIFETIME, CODE_LIFETIME, MAX_CODE_LIFETIME] {
        assert!(with(good).is_ok(), "{good:?}");
    }
}
