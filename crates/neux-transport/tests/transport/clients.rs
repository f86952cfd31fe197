//! Constructors over clients the application already has, and the scripted test transport.
#![allow(clippy::unwrap_used)]

use crate::support::server::TestServer;
#[cfg(any(feature = "reqwest-client", feature = "test-util"))]
use neux_transport::TransportError;
use neux_transport::{Transport, TransportConfig};

fn get(url: &str) -> neux_transport::HttpRequest {
    http::Request::get(url).body(Vec::new()).unwrap()
}

#[cfg(feature = "reqwest-client")]
#[tokio::test]
async fn reqwest_shared_client_that_follows_redirects_is_caught() {
    let server = TestServer::start();
    let elsewhere = TestServer::start();
    // A client built the careless way: default redirect policy.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let transport =
        neux_transport::ReqwestTransport::from_client(client, TransportConfig::default());
    let url = server.url(&format!("/redirect?to={}", elsewhere.url("/hit")));
    let err = transport.send(get(&url)).await.unwrap_err();
    assert!(matches!(err, TransportError::Interrupted { .. }), "{err:?}");
    assert!(err.to_string().contains("followed a redirect"), "{err}");
}

#[cfg(feature = "reqwest-client")]
#[tokio::test]
async fn reqwest_shared_client_still_gets_our_timeout_and_cap() {
    let server = TestServer::start();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let config = TransportConfig::default()
        .timeout(std::time::Duration::from_millis(300))
        .max_body_bytes(10);
    let transport = neux_transport::ReqwestTransport::from_client(client, config);
    let err = transport
        .send(get(&server.url("/slow-headers/2000")))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let err = transport
        .send(get(&server.url("/large/11")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransportError::BodyTooLarge { limit: 10, .. }),
        "{err:?}"
    );
}

#[cfg(feature = "surf")]
#[tokio::test]
async fn surf_shared_client_works() {
    let server = TestServer::start();
    let client: surf::Client = surf::Config::new()
        .set_http_keep_alive(false)
        .try_into()
        .unwrap();
    let transport =
        neux_transport::SurfTransport::from_client(client, TransportConfig::default()).unwrap();
    assert_eq!(
        transport
            .send(get(&server.url("/status/204")))
            .await
            .unwrap()
            .status(),
        204
    );
}

/// A shared surf client with its own (shorter) timeout: async-std's timeout error is recognised
/// by its text and reported as a timeout after which the request may have been sent.
#[cfg(feature = "surf")]
#[tokio::test]
async fn surf_shared_client_timeout_is_a_timeout() {
    let server = TestServer::start();
    let client: surf::Client = surf::Config::new()
        .set_http_keep_alive(false)
        .set_timeout(Some(std::time::Duration::from_millis(200)))
        .try_into()
        .unwrap();
    let transport =
        neux_transport::SurfTransport::from_client(client, TransportConfig::default()).unwrap();
    let err = transport
        .send(get(&server.url("/slow-headers/30000")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            neux_transport::TransportError::Timeout {
                phase: neux_transport::TimeoutPhase::Exchange,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.may_have_been_sent());
}

/// Connection refused is the one failure surf's error lets us prove happened before sending.
#[cfg(feature = "surf")]
#[tokio::test]
async fn surf_refused_connection_is_not_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let transport = neux_transport::SurfTransport::new(TransportConfig::default()).unwrap();
    let err = transport
        .send(get(&format!("http://127.0.0.1:{port}/x")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, neux_transport::TransportError::Connect { .. }) && !err.may_have_been_sent(),
        "{err:?}"
    );
}

#[cfg(any(feature = "reqwest-client", feature = "surf"))]
#[tokio::test]
async fn default_transport_talks_http() {
    let server = TestServer::start();
    let transport = neux_transport::default_transport(TransportConfig::default()).unwrap();
    assert_eq!(
        transport
            .send(get(&server.url("/status/200")))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[cfg(feature = "test-util")]
mod mock {
    use super::*;
    use neux_transport::test_util::MockTransport;

    #[tokio::test]
    async fn records_requests_and_replays_in_order() {
        let mock = MockTransport::new();
        mock.push_json(200, "{}");
        mock.push_error(TransportError::InvalidRequest {
            reason: "scripted".into(),
        });
        let shared = mock.clone();

        let first = shared
            .send(
                http::Request::post("http://127.0.0.1/a")
                    .header("content-type", "application/json")
                    .body(b"body".to_vec())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(first.headers()["content-type"], "application/json");
        let second = shared.send(get("http://127.0.0.1/b")).await.unwrap_err();
        assert!(matches!(second, TransportError::InvalidRequest { .. }));
        let third = shared.send(get("http://127.0.0.1/c")).await.unwrap_err();
        assert!(
            !third.may_have_been_sent(),
            "an empty script fails as not sent"
        );

        let seen = mock.requests();
        assert_eq!(
            seen.len(),
            3,
            "every call is recorded, even past the script"
        );
        assert_eq!(seen[0].body(), b"body");
        assert_eq!(seen[0].method(), http::Method::POST);
        assert_eq!(seen[2].uri().path(), "/c");
        assert_eq!(mock.remaining(), 0);
    }
}

/// A proxy the client cannot use is refused when the transport is built, by both backends: a
/// typo must never mean "directly".
#[test]
fn an_unusable_proxy_is_refused_at_build_by_every_backend() {
    use neux_transport::{ProxyConfig, TransportError};
    type Make = fn(TransportConfig) -> Result<(), TransportError>;
    let backends: Vec<(&str, Make)> = vec![
        #[cfg(feature = "reqwest-client")]
        ("reqwest", |c| {
            neux_transport::ReqwestTransport::new(c).map(drop)
        }),
        #[cfg(feature = "surf")]
        ("surf", |c| neux_transport::SurfTransport::new(c).map(drop)),
    ];
    for (name, make) in backends {
        for bad in ["htps://user:hunter2@proxy.corp:3128", "ftp://proxy.corp:21"] {
            let config = TransportConfig::default().proxy(ProxyConfig::Url(bad.into()));
            match make(config) {
                Err(e @ TransportError::Unavailable { .. }) => {
                    assert!(!e.may_have_been_sent(), "{name}: {e}");
                    assert!(!e.to_string().contains("hunter2"), "{name}: {e}");
                }
                other => panic!("{name} {bad}: {other:?}"),
            }
        }
        // A scheme-less proxy is http://, as curl and reqwest take it.
        let config = TransportConfig::default().proxy(ProxyConfig::Url("proxy.corp:3128".into()));
        assert!(make(config).is_ok(), "{name}");
    }
}
