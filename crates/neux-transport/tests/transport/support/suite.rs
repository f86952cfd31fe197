//! The conformance suite: the same checks for every Transport implementation.

use std::time::{Duration, Instant};

use neux_transport::{HttpRequest, TimeoutPhase, Transport, TransportConfig, TransportError};

use super::server::{DATE, TestServer, closed_port, saturated_listener};

/// A token-like value put in the query of every failing request: it must never show in errors.
const TOKEN: &str = "SECRET-TOKEN-VALUE-123";

pub fn config() -> TransportConfig {
    TransportConfig::default()
        .timeout(Duration::from_millis(800))
        .connect_timeout(Duration::from_millis(300))
        .max_body_bytes(1024 * 1024)
}

/// How long a call may take before a test calls it a hang: the configured total timeout plus a
/// margin a loaded 2-core machine cannot eat. The misbehaving server stalls far longer (30 s),
/// so finishing within this bound proves the timeout cut the exchange short.
fn bound() -> Duration {
    config().timeout_value() + Duration::from_secs(5)
}

fn get(url: &str) -> HttpRequest {
    http::Request::get(url).body(Vec::new()).unwrap()
}

fn with_token(url: &str) -> String {
    format!("{url}?accessToken={TOKEN}")
}

fn assert_no_token(err: &TransportError) {
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "query leaked into the error: {text}");
    assert!(
        !text.contains("SECRET-TOKEN"),
        "query leaked into the error: {text}"
    );
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("echo answers JSON")
}

pub async fn get_with_query_and_headers(t: &dyn Transport) {
    let server = TestServer::start();
    let req = http::Request::get(server.url("/echo?accessToken=a%2Bb&x=1"))
        .header("x-neux-test", "one")
        .header("accept", "application/json")
        .body(Vec::new())
        .unwrap();
    let res = t.send(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let echo = json(res.body());
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["target"], "/echo?accessToken=a%2Bb&x=1");
    assert_eq!(echo["headers"]["x-neux-test"][0], "one");
}

pub async fn multi_value_headers_cross_both_ways(t: &dyn Transport) {
    let server = TestServer::start();
    let req = http::Request::get(server.url("/echo"))
        .header("x-multi", "one")
        .header("x-multi", "two")
        .body(Vec::new())
        .unwrap();
    let echo = json(t.send(req).await.unwrap().body());
    assert_eq!(
        echo["headers"]["x-multi"],
        serde_json::json!(["one", "two"])
    );
    let res = t.send(get(&server.url("/multi-header"))).await.unwrap();
    let values: Vec<&str> = res
        .headers()
        .get_all("x-multi")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(values, ["first", "second"]);
}

pub async fn post_exact_body_and_content_type(t: &dyn Transport) {
    let server = TestServer::start();
    let body: Vec<u8> = b"appid=a&code=%26x&sign=0f\xff\x00".to_vec();
    let req = http::Request::post(server.url("/echo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .unwrap();
    let res = t.send(req).await.unwrap();
    let echo = json(res.body());
    assert_eq!(echo["method"], "POST");
    let got: Vec<u8> = serde_json::from_value(echo["body"].clone()).unwrap();
    assert_eq!(got, body, "body bytes arrive unchanged");
    assert_eq!(
        echo["headers"]["content-type"],
        serde_json::json!(["application/x-www-form-urlencoded"]),
        "exactly our content type, once"
    );
    assert_eq!(echo["headers"]["content-length"][0], body.len().to_string());
}

pub async fn statuses_are_returned_not_errors(t: &dyn Transport) {
    let server = TestServer::start();
    for status in [200u16, 201, 400, 404, 500, 502, 503] {
        let res = t
            .send(get(&server.url(&format!("/status/{status}"))))
            .await
            .unwrap();
        assert_eq!(res.status(), status);
        assert_eq!(res.body(), format!("status {status}").as_bytes());
    }
}

pub async fn date_header_is_kept(t: &dyn Transport) {
    let server = TestServer::start();
    let res = t.send(get(&server.url("/status/200"))).await.unwrap();
    assert_eq!(res.headers().get(http::header::DATE).unwrap(), DATE);
}

pub async fn large_body_under_the_cap(t: &dyn Transport) {
    let server = TestServer::start();
    let n = 1024 * 1024; // exactly the cap
    let res = t
        .send(get(&server.url(&format!("/large/{n}"))))
        .await
        .unwrap();
    assert_eq!(res.body().len(), n);
    let res = t
        .send(get(&server.url(&format!("/chunked/{}", n - 7))))
        .await
        .unwrap();
    assert_eq!(res.body().len(), n - 7);
}

pub async fn body_over_the_cap_is_refused(t: &dyn Transport) {
    let server = TestServer::start();
    for path in ["/large/1048577", "/chunked/5000000"] {
        let err = t
            .send(get(&with_token(&server.url(path))))
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransportError::BodyTooLarge { limit: 1048576, .. }),
            "{path}: {err:?}"
        );
        assert!(err.may_have_been_sent());
        assert_no_token(&err);
    }
}

pub async fn slow_headers_time_out(t: &dyn Transport) {
    let server = TestServer::start();
    let started = Instant::now();
    let err = t
        .send(get(&with_token(&server.url("/slow-headers/30000"))))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            err,
            TransportError::Timeout {
                phase: TimeoutPhase::Exchange,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.may_have_been_sent() && !err.is_safe_to_retry());
    assert!(elapsed < bound(), "took {elapsed:?}");
    assert_no_token(&err);
}

pub async fn slow_body_times_out(t: &dyn Transport) {
    let server = TestServer::start();
    let started = Instant::now();
    let err = t
        .send(get(&with_token(&server.url("/slow-body/30000"))))
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.may_have_been_sent(), "{err:?}");
    assert!(started.elapsed() < bound(), "took {:?}", started.elapsed());
    assert_no_token(&err);
}

pub async fn refused_connection_was_not_sent(t: &dyn Transport) {
    let addr = closed_port();
    let err = t
        .send(get(&with_token(&format!("http://{addr}/x"))))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Connect { .. }), "{err:?}");
    assert!(!err.may_have_been_sent() && err.is_safe_to_retry() && err.is_connect());
    assert!(
        err.to_string().contains(&addr.port().to_string()),
        "names the origin: {err}"
    );
    assert_no_token(&err);
}

/// `separate` says whether the backend bounds connecting on its own (see each backend's docs).
pub async fn hanging_connect_times_out(t: &dyn Transport, separate: bool) {
    let target = saturated_listener();
    let started = Instant::now();
    let err = t
        .send(get(&with_token(&format!("http://{}/x", target.addr))))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    if separate {
        // The phase proves it was the connect timeout (300 ms), not the total one (800 ms),
        // that ended the call: no wall-clock bound is needed for that.
        assert!(err.is_connect() && !err.may_have_been_sent(), "{err:?}");
    } else {
        assert!(
            err.may_have_been_sent(),
            "without a separate connect timeout, err on the safe side"
        );
    }
    assert!(elapsed < bound(), "took {elapsed:?}");
    assert_no_token(&err);
}

pub async fn redirects_are_not_followed(t: &dyn Transport) {
    let server = TestServer::start();
    let elsewhere = TestServer::start();
    let to = elsewhere.url("/hit");
    let res = t
        .send(get(&server.url(&format!("/redirect?to={to}"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 307);
    assert_eq!(res.headers().get("location").unwrap(), to.as_str());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        elsewhere.hits().is_empty(),
        "the redirect target was contacted"
    );
}

pub async fn dropped_connection_may_have_been_sent(t: &dyn Transport) {
    let server = TestServer::start();
    let err = t
        .send(get(&with_token(&server.url("/close"))))
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Interrupted { .. }), "{err:?}");
    assert!(err.may_have_been_sent() && !err.is_safe_to_retry());
    assert_eq!(server.hits().len(), 1, "the server did receive the request");
    assert_no_token(&err);
}

pub async fn many_requests_then_a_dropped_connection_then_recovery(t: &dyn Transport) {
    let server = TestServer::start();
    for i in 0..20 {
        let res = t
            .send(get(&server.url(&format!("/status/200?i={i}"))))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let _ = t.send(get(&server.url("/close"))).await.unwrap_err();
    let res = t.send(get(&server.url("/status/200"))).await.unwrap();
    assert_eq!(res.status(), 200, "works again after a dropped connection");
}

/// A header value in raw UTF-8 from the server (a CDN's `X-Edge: café`): an answer or a typed
/// error that says the request may have been sent, never a panic in the caller's task.
pub async fn a_non_ascii_header_is_no_panic(t: &dyn Transport) {
    let server = TestServer::start();
    match t
        .send(get(&with_token(&server.url("/non-ascii-header"))))
        .await
    {
        Ok(res) => {
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["x-edge"].as_bytes(), "café".as_bytes());
        }
        Err(err) => {
            assert!(
                matches!(err, TransportError::Interrupted { .. }) && err.may_have_been_sent(),
                "{err:?}"
            );
            assert_no_token(&err);
        }
    }
}

/// A server's declared length sizes no allocation: with no body cap, a `Content-Length` of
/// `u64::MAX` overflowed a capacity computation, and 2^39 with one byte sent asked the
/// allocator for 512 GiB. Both are an ordinary broken answer now.
pub async fn a_declared_length_sizes_no_allocation(
    make: fn(TransportConfig) -> Box<dyn Transport>,
) {
    let server = TestServer::start();
    for (cap, declared) in [(usize::MAX, u64::MAX), (1 << 40, 1 << 39)] {
        let t = make(config().max_body_bytes(cap));
        let err = t
            .send(get(&server.url(&format!("/declared/{declared}"))))
            .await
            .unwrap_err();
        assert!(err.may_have_been_sent(), "{declared}: {err:?}");
    }
}

/// Instantiates the suite for one transport, as tokio tests.
#[macro_export]
macro_rules! conformance {
    ($module:ident, $make:expr, separate_connect_timeout: $separate:expr) => {
        mod $module {
            use $crate::support::suite;

            fn transport() -> Box<dyn neux_transport::Transport> {
                let make: fn(
                    neux_transport::TransportConfig,
                ) -> Box<dyn neux_transport::Transport> = $make;
                make(suite::config())
            }

            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        suite::$name(&*transport()).await;
                    }
                };
            }

            case!(get_with_query_and_headers);
            case!(post_exact_body_and_content_type);
            case!(statuses_are_returned_not_errors);
            case!(date_header_is_kept);
            case!(large_body_under_the_cap);
            case!(body_over_the_cap_is_refused);
            case!(slow_headers_time_out);
            case!(slow_body_times_out);
            case!(refused_connection_was_not_sent);
            case!(redirects_are_not_followed);
            case!(dropped_connection_may_have_been_sent);
            case!(many_requests_then_a_dropped_connection_then_recovery);
            case!(multi_value_headers_cross_both_ways);
            case!(a_non_ascii_header_is_no_panic);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_declared_length_sizes_no_allocation() {
                suite::a_declared_length_sizes_no_allocation($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn hanging_connect_times_out() {
                suite::hanging_connect_times_out(&*transport(), $separate).await;
            }
        }
    };
}
