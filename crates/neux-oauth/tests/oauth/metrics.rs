//! Feature `metrics`: the exact counts a scripted run leaves in a recorder (metrics-util's
//! debugging recorder, installed for this test's thread), and labels that never hold a code, a
//! token, an openId or an unbounded path.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use neux_oauth::{ApiCall, AuthCode, Client, Error, Params, Scope};
use neux_oauth::{TOKEN_PATH, TimeoutPhase, TransportError, USER_INFO_PATH};
use neux_transport::test_util::MockTransport;

const TOKEN_OK: &str = r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"accessToken":"tok.en.secret-token","expire":60,"tokenType":"bearer"}}"#;
const USER_OK: &str =
    r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"openId":"open-id-of-a-user"}}"#;
const SIGNATURE_REJECTED: &str =
    r#"{"responseHeader":{"status":2000,"msg":"signature mismatch"},"response":null}"#;
const CALL_OK: &str = r#"{"responseHeader":{"status":200,"msg":"OK"},"response":{"orderId":"1"}}"#;

fn client(mock: &MockTransport) -> Client {
    crate::support::scripted_client(mock, "metrics-app")
}

fn timeout() -> TransportError {
    TransportError::Timeout {
        origin: "https://api.example.test".into(),
        phase: TimeoutPhase::Exchange,
        after: Duration::from_secs(1),
    }
}

/// `name{label=value,...}` -> the counter's value, or the histogram's count of samples.
fn read(snapshotter: &Snapshotter) -> BTreeMap<String, u64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let n = match value {
                DebugValue::Counter(n) => n,
                DebugValue::Histogram(samples) => samples.len() as u64,
                DebugValue::Gauge(_) => panic!("no gauges"),
            };
            (format!("{}{{{}}}", key.name(), labels.join(",")), n)
        })
        .collect()
}

#[tokio::test]
async fn a_scripted_run_is_counted_exactly() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // A current-thread test: every task of the run records on this thread.
    let _installed = metrics::set_default_local_recorder(&recorder);
    let mock = MockTransport::new();
    let c = client(&mock);

    // A login that succeeds: the exchange and the profile read.
    let code = AuthCode::new("metrics-code-1").unwrap();
    mock.push_json(200, TOKEN_OK);
    mock.push_json(200, USER_OK);
    c.login(&code, &Scope::default()).await.unwrap();
    // A 2000.
    mock.push_json(200, SIGNATURE_REJECTED);
    let err = c
        .exchange_code(&AuthCode::new("metrics-code-2").unwrap(), &Scope::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SignatureRejected { .. }), "{err:?}");
    // A timeout: an exchange is not sent again; a profile read is, three times in all.
    mock.push_error(timeout());
    let err = c
        .exchange_code(&AuthCode::new("metrics-code-3").unwrap(), &Scope::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "transport");
    for _ in 0..3 {
        mock.push_error(timeout());
    }
    let token = neux_oauth::AccessToken::new("tok.en.secret-token").unwrap();
    assert_eq!(c.user_info(&token).await.unwrap_err().kind(), "transport");
    // The first code presented again: refused by the ledger, nothing sent.
    let err = c.exchange_code(&code, &Scope::default()).await.unwrap_err();
    assert_eq!(err.kind(), "code_already_presented");
    // A signed call.
    mock.push_json(200, CALL_OK);
    let params = Params::new().with("amount", 100).unwrap();
    let _: serde_json::Value = c
        .call(ApiCall::new("/neuopenapi/pay/v1/order", params))
        .await
        .unwrap();
    assert_eq!(mock.requests().len(), 1 + 1 + 1 + 1 + 3 + 1);

    let got = read(&snapshotter);
    let calls = |call: &str, path: &str, outcome: &str| {
        format!("neux_calls_total{{call={call},path={path},outcome={outcome}}}")
    };
    let expected: BTreeMap<String, u64> = [
        (calls("exchange_code", TOKEN_PATH, "ok"), 1),
        (calls("exchange_code", TOKEN_PATH, "signature_rejected"), 1),
        (calls("exchange_code", TOKEN_PATH, "transport"), 1),
        (
            calls("exchange_code", TOKEN_PATH, "code_already_presented"),
            1,
        ),
        (calls("user_info", USER_INFO_PATH, "ok"), 1),
        (calls("user_info", USER_INFO_PATH, "transport"), 1),
        (calls("call", "/neuopenapi/pay/v1/order", "ok"), 1),
        (
            format!("neux_call_attempts_total{{call=exchange_code,path={TOKEN_PATH}}}"),
            3,
        ),
        (
            format!("neux_call_attempts_total{{call=user_info,path={USER_INFO_PATH}}}"),
            4,
        ),
        (
            "neux_call_attempts_total{call=call,path=/neuopenapi/pay/v1/order}".into(),
            1,
        ),
        (
            format!("neux_call_resends_total{{call=user_info,path={USER_INFO_PATH}}}"),
            2,
        ),
        ("neux_ledger_claims_total{outcome=won}".into(), 3),
        ("neux_ledger_claims_total{outcome=taken}".into(), 1),
    ]
    .into_iter()
    .collect();
    let counters: BTreeMap<String, u64> = got
        .iter()
        .filter(|(k, _)| !k.starts_with("neux_call_duration_seconds"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(counters, expected);
    // One latency sample per call, under the same labels as its count.
    for (key, n) in got
        .iter()
        .filter(|(k, _)| k.starts_with("neux_calls_total"))
    {
        let latency = key.replace("neux_calls_total", "neux_call_duration_seconds");
        assert_eq!(got.get(&latency), Some(n), "{latency}");
    }
    let text = format!("{got:?}");
    for secret in [
        "metrics-code",
        "secret-token",
        "open-id-of-a-user",
        "secret",
    ] {
        assert!(!text.contains(secret), "{secret} in a label: {text}");
    }
}

#[tokio::test]
async fn a_call_path_gets_a_label_of_its_own_up_to_64_paths() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let mock = MockTransport::new();
    let c = client(&mock);
    // Paths that carry an id would otherwise make a series per id.
    for id in 0..200 {
        mock.push_json(200, CALL_OK);
        let params = Params::new().with("amount", 1).unwrap();
        let _: serde_json::Value = c
            .call(ApiCall::new(format!("/neuopenapi/order/{id}"), params))
            .await
            .unwrap();
    }
    let got = read(&snapshotter);
    let series: Vec<&String> = got
        .keys()
        .filter(|k| k.starts_with("neux_calls_total{call=call"))
        .collect();
    // 64 paths for the process (fewer here if another test in this process took some), then
    // "other" for the rest.
    assert!(series.len() <= 65, "{} series", series.len());
    let other = got["neux_calls_total{call=call,path=other,outcome=ok}"];
    assert!(other >= 200 - 64, "{other}");
}

#[tokio::test]
async fn a_refused_path_is_labelled_invalid_and_its_query_shown_nowhere() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _installed = metrics::set_default_local_recorder(&recorder);
    // This test's thread only (a current-thread test): the span's fields and the warning.
    let logs = neux_testkit::Capture::default();
    let writer = logs.clone();
    let _logging = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .finish(),
    );
    let mock = MockTransport::new();
    let c = client(&mock);
    for path in [
        "/neuopenapi/pay?accessToken=query-held-token",
        "pay#query-held-token",
    ] {
        let err = c
            .call::<serde_json::Value>(ApiCall::new(path, Params::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_call");
        assert!(
            !format!("{err} {err:?}").contains("query-held-token"),
            "{err:?}"
        );
    }
    assert!(mock.requests().is_empty());
    let got = read(&snapshotter);
    assert_eq!(
        got["neux_calls_total{call=call,path=invalid,outcome=invalid_call}"],
        2
    );
    let text = format!("{got:?}{}", logs.text());
    assert!(text.contains("neux.call"), "the span was logged: {text}");
    assert!(!text.contains("query-held-token"), "{text}");
}

/// A ledger whose store is down.
#[derive(Debug)]
struct Down;

#[neux_oauth::async_trait]
impl neux_oauth::CodeLedger for Down {
    async fn claim(
        &self,
        _: &neux_oauth::ClientId,
        _: neux_oauth::CodeKey,
        _: std::time::SystemTime,
        _: Duration,
    ) -> Result<neux_oauth::Claim, neux_oauth::LedgerError> {
        Err(neux_oauth::LedgerError::unavailable(
            "test://down",
            "connection refused",
        ))
    }

    async fn release(
        &self,
        _: &neux_oauth::ClientId,
        _: neux_oauth::CodeKey,
        _: neux_oauth::ClaimTicket,
    ) -> Result<(), neux_oauth::LedgerError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_full_or_unavailable_ledger_is_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _installed = metrics::set_default_local_recorder(&recorder);
    let mock = MockTransport::new();
    let with = |ledger: std::sync::Arc<dyn neux_oauth::CodeLedger>| {
        Client::builder()
            .client_id("metrics-app")
            .secret("secret")
            .base_url("https://api.example.test")
            .transport(mock.clone())
            .code_ledger(ledger)
            .build()
            .unwrap()
    };
    let c = with(std::sync::Arc::new(neux_oauth::InMemoryLedger::new(1)));
    mock.push_json(200, TOKEN_OK);
    c.exchange_code(&AuthCode::new("full-1").unwrap(), &Scope::default())
        .await
        .unwrap();
    let err = c
        .exchange_code(&AuthCode::new("full-2").unwrap(), &Scope::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "ledger_full");
    let err = with(std::sync::Arc::new(Down))
        .exchange_code(&AuthCode::new("down-1").unwrap(), &Scope::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "ledger_unavailable");
    assert_eq!(mock.requests().len(), 1, "a refused claim sends nothing");
    let got = read(&snapshotter);
    assert_eq!(got["neux_ledger_claims_total{outcome=unavailable}"], 1);
    assert_eq!(got["neux_ledger_claims_total{outcome=won}"], 1);
    assert_eq!(got["neux_ledger_claims_total{outcome=full}"], 1);
    assert_eq!(
        got[&format!(
            "neux_calls_total{{call=exchange_code,path={TOKEN_PATH},outcome=ledger_full}}"
        )],
        1
    );
}
