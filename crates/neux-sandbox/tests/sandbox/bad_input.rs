//! Hostile and malformed requests through real HTTP: every one gets an envelope error (never a
//! 500, never a crash), and the sandbox still serves good requests afterwards.
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_proto::ApiStatus;
use neux_sandbox::status::*;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Sends a raw request and returns (HTTP status, parsed envelope if any).
async fn send(
    ctx: &Ctx,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Option<Value>) {
    let mut req = ctx
        .http
        .request(method.parse().unwrap(), ctx.url(path))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).ok())
}

/// Asserts the envelope status each hostile request must get (never a 500, never accepted).
fn assert_refused(what: &str, expected: ApiStatus, (http, env): (u16, Option<Value>)) {
    assert_ne!(http, 500, "{what}: HTTP 500");
    let env = env.unwrap_or_else(|| panic!("{what}: no envelope (HTTP {http})"));
    let status = env["responseHeader"]["status"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: {env}"));
    if status != expected.get() {
        MISMATCHES.with(|m| {
            m.borrow_mut()
                .push(format!("{what}: expected {expected}, got {env}"))
        });
    }
}

thread_local! {
    static MISMATCHES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

async fn still_serves(ctx: &Ctx) {
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let env = ctx
        .exchange_json(&ctx.json_request("app-a", "secret-a", &code, "user.info", NOW))
        .await;
    assert_eq!(
        status(&env),
        200,
        "a good request after the bad ones: {env}"
    );
}

#[tokio::test]
async fn hand_picked_hostile_requests() {
    let ctx = start().await;
    let code = ctx.mint("app-a", None, json!({})).await.0;
    let good = ctx.json_request("app-a", "secret-a", &code, "user.info", NOW);
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b.to_string().into_bytes()
    };
    let json_cases: Vec<(&str, ApiStatus, Vec<u8>)> = vec![
        (
            "deeply nested arrays",
            MALFORMED_BODY,
            // Under the 64 KiB cap, far past serde_json's recursion limit (128).
            "[".repeat(60_000).into_bytes(),
        ),
        (
            "deeply nested objects",
            MALFORMED_BODY,
            "{\"a\":".repeat(10_000).into_bytes(),
        ),
        (
            "huge number timestamp",
            MALFORMED_BODY,
            good.to_string()
                .replace(&NOW.to_string(), &"9".repeat(400))
                .into_bytes(),
        ),
        (
            "float timestamp",
            INVALID_PARAMETER,
            with("timestamp", json!(1.7e12)),
        ),
        (
            "negative timestamp",
            INVALID_PARAMETER,
            with("timestamp", json!(-1)),
        ),
        (
            "far-future timestamp",
            TIMESTAMP_OUT_OF_WINDOW,
            with("timestamp", json!(u64::MAX)),
        ),
        (
            "zero timestamp",
            TIMESTAMP_OUT_OF_WINDOW,
            with("timestamp", json!(0)),
        ),
        ("null code", INVALID_PARAMETER, with("code", Value::Null)),
        (
            "object code",
            INVALID_PARAMETER,
            with("code", json!({"a": 1})),
        ),
        // A string code is checked after the signature, which no longer matches.
        ("empty code", SIGNATURE_REJECTED, with("code", json!(""))),
        (
            "NUL in code",
            SIGNATURE_REJECTED,
            with("code", json!("ab\u{0}c")),
        ),
        (
            "huge sign",
            INVALID_PARAMETER,
            with("sign", json!("a".repeat(60_000))),
        ),
        (
            "invalid UTF-8",
            MALFORMED_BODY,
            vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'],
        ),
        ("empty body", MALFORMED_BODY, Vec::new()),
        ("a string", MALFORMED_BODY, b"\"hello\"".to_vec()),
        (
            "trailing garbage",
            MALFORMED_BODY,
            format!("{good}garbage").into_bytes(),
        ),
        (
            "BOM",
            MALFORMED_BODY,
            [&[0xEF, 0xBB, 0xBF][..], good.to_string().as_bytes()].concat(),
        ),
        ("10 MB body", BODY_TOO_LARGE, vec![b'{'; 10 * 1024 * 1024]),
    ];
    for (what, expected, body) in json_cases {
        assert_refused(
            what,
            expected,
            send(&ctx, "POST", TOKEN_PATH, Some("application/json"), body).await,
        );
    }
    let form = ctx.form_request("app-a", "secret-a", &code, "user.info", NOW);
    for (what, expected, body) in [
        ("lone percent", UNEXPECTED_PARAMETER, format!("{form}&x=%")),
        (
            "bad hex escape",
            SIGNATURE_REJECTED,
            form.replacen("code=", "code=%zz", 1),
        ),
        (
            "truncated UTF-8 escape",
            MALFORMED_BODY,
            form.replacen("code=", "code=%E0%A4", 1),
        ),
        (
            "NUL escape",
            SIGNATURE_REJECTED,
            form.replacen("code=", "code=%00", 1),
        ),
        (
            "no equals signs",
            MISSING_PARAMETER,
            "appid&code&grantType".to_owned(),
        ),
        (
            "duplicate key",
            MALFORMED_BODY,
            format!("{form}&code=again"),
        ),
        ("only separators", MISSING_PARAMETER, "&&&===&&".to_owned()),
        (
            "timestamp with plus",
            INVALID_PARAMETER,
            form.replacen("timestamp=", "timestamp=%2B", 1),
        ),
    ] {
        assert_refused(
            what,
            expected,
            send(
                &ctx,
                "POST",
                TOKEN_PATH,
                Some("application/x-www-form-urlencoded"),
                body.into_bytes(),
            )
            .await,
        );
    }
    for ct in [
        None,
        Some(""),
        Some("application/jsonx"),
        Some("multipart/form-data; boundary=x"),
        Some("text/html"),
    ] {
        assert_refused(
            "content type",
            UNSUPPORTED_CONTENT_TYPE,
            send(&ctx, "POST", TOKEN_PATH, ct, good.to_string().into_bytes()).await,
        );
    }
    for method in ["PUT", "DELETE", "PATCH", "GET"] {
        assert_refused(
            method,
            METHOD_NOT_ALLOWED,
            send(
                &ctx,
                method,
                TOKEN_PATH,
                Some("application/json"),
                good.to_string().into_bytes(),
            )
            .await,
        );
    }
    let long = format!("?accessToken={}", "x".repeat(7000));
    for (query, expected) in [
        ("?accessToken=%", TOKEN_INVALID),
        ("?accessToken=%ff%fe", TOKEN_INVALID),
        ("?accessToken=a&accessToken=b", MALFORMED_BODY),
        ("?=&=", UNEXPECTED_PARAMETER),
        ("?accessToken=", TOKEN_INVALID),
        (long.as_str(), TOKEN_INVALID),
    ] {
        assert_refused(
            query,
            expected,
            send(
                &ctx,
                "GET",
                &format!("{USER_PATH}{query}"),
                None,
                Vec::new(),
            )
            .await,
        );
    }
    // A 500 kB header is within what the HTTP layer reads: the request is handled like any
    // other (here refused for its missing content type), with an envelope, not a 500.
    let res = ctx
        .http
        .post(ctx.url(TOKEN_PATH))
        .header("x-big", "v".repeat(500_000))
        .send()
        .await
        .expect("the server answers a request with a huge header");
    let http = res.status().as_u16();
    let env = serde_json::from_slice(&res.bytes().await.unwrap()).ok();
    assert_refused("500 kB header", UNSUPPORTED_CONTENT_TYPE, (http, env));
    let mismatches = MISMATCHES.with(|m| m.borrow().clone());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // The code was never spent by any of the above.
    assert_eq!(status(&ctx.exchange_json(&good).await), 200);
    still_serves(&ctx).await;
}

/// A request body that is wrong in some way: random bytes, random JSON, or a valid request
/// with one mutation.
fn bad_body() -> impl Strategy<Value = (Option<String>, Vec<u8>)> {
    let content_type = prop_oneof![
        Just(Some("application/json".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(None),
        "[a-z/+.-]{0,30}".prop_map(Some),
    ];
    let body = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| {
            // One byte of a valid-looking request flipped.
            let mut b = br#"{"clientId":"app-a","code":"c","grantType":"authorization_code","scope":"user.info","timestamp":1700000000000,"sign":"0000000000000000000000000000000000000000000000000000000000000000"}"#.to_vec();
            let i = at % b.len();
            b[i] ^= byte | 1;
            b
        }),
        (0usize..6).prop_map(|drop| {
            let mut v = json!({"clientId": "app-a", "code": "c", "grantType": "authorization_code", "scope": "user.info", "timestamp": 1_700_000_000_000u64, "sign": "0".repeat(64)});
            let key = ["clientId", "code", "grantType", "scope", "timestamp", "sign"][drop];
            v.as_object_mut().unwrap().remove(key);
            v.to_string().into_bytes()
        }),
    ];
    (content_type, body)
}

#[test]
fn ten_thousand_generated_bad_requests() {
    // The sandbox runs on its own runtime; each generated case is sent from a small client one.
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = server_rt.block_on(start());
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = ctx.url(TOKEN_PATH);
    let config = ProptestConfig {
        cases: 10_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((ct, body) in bad_body())| {
        let (http_status, envelope) = client_rt.block_on(async {
            let mut req = http.post(&url).body(body.clone());
            if let Some(ct) = &ct {
                req = req.header("content-type", ct.as_str());
            }
            let res = req.send().await.unwrap();
            let s = res.status().as_u16();
            (s, serde_json::from_slice::<Value>(&res.bytes().await.unwrap()).ok())
        });
        prop_assert_ne!(http_status, 500);
        let env = envelope.expect("an envelope");
        let st = env["responseHeader"]["status"].as_i64().unwrap();
        prop_assert!(st != 200 && st != 0, "accepted or no status: {}", env);
    });
    let served = ctx.sandbox.requests().len();
    assert!(served >= 10_000, "every case reached the server ({served})");
    server_rt.block_on(still_serves(&ctx));
}

/// One change to a valid token request, the request correctly signed afterwards (except where
/// the change is the secret itself), and the status the sandbox must answer.
#[derive(Debug, Clone)]
enum Mutation {
    UnknownClient(String),
    OtherAppsClient,
    GrantType(String),
    UngrantedScope,
    TimestampOff(i64),
    UnknownCode(String),
    WrongSecret(String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        "[a-z0-9]{1,12}"
            .prop_filter("not a real app", |c| c != "app-a" && c != "app-b")
            .prop_map(Mutation::UnknownClient),
        Just(Mutation::OtherAppsClient),
        "[ -~]{0,20}"
            .prop_filter("not the grant", |g| g != "authorization_code")
            .prop_map(Mutation::GrantType),
        Just(Mutation::UngrantedScope),
        prop_oneof![300_001i64..1_000_000_000, -1_000_000_000i64..-300_000]
            .prop_map(Mutation::TimestampOff),
        "[a-z0-9-]{1,40}".prop_map(Mutation::UnknownCode),
        "[ -~]{1,30}"
            .prop_filter("not the secret", |s| s != "secret-a")
            .prop_map(Mutation::WrongSecret),
    ]
}

#[test]
fn mutated_but_correctly_signed_requests_on_real_codes_are_refused_and_spend_nothing() {
    let server_rt = tokio::runtime::Runtime::new().unwrap();
    let ctx = server_rt.block_on(start());
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases: 1_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(m in mutation(), form in any::<bool>())| {
        let code = code_for(&ctx.sandbox, "app-a").expose_secret().to_owned();
        let (mut client, mut secret, mut grant) = ("app-a".to_owned(), "secret-a".to_owned(), "authorization_code".to_owned());
        let (mut sent_code, mut scope, mut ts) = (code.clone(), "user.info".to_owned(), NOW);
        let expected = match &m {
            Mutation::UnknownClient(c) => { client = c.clone(); UNKNOWN_CLIENT }
            Mutation::OtherAppsClient => { client = "app-b".into(); secret = "secret-b".into(); CODE_WRONG_CLIENT }
            Mutation::GrantType(g) => { grant = g.clone(); INVALID_PARAMETER }
            Mutation::UngrantedScope => { scope = "user.info,user.phone".into(); SCOPE_NOT_GRANTED }
            Mutation::TimestampOff(off) => { ts = NOW.saturating_add_signed(*off); TIMESTAMP_OUT_OF_WINDOW }
            Mutation::UnknownCode(c) => { sent_code = c.clone(); CODE_UNKNOWN }
            Mutation::WrongSecret(s) => { secret = s.clone(); SIGNATURE_REJECTED }
        };
        let send = |client: &str, secret: &str, code: &str, grant: &str, scope: &str, ts: u64| {
            let ts_text = ts.to_string();
            let key = if form { "appid" } else { "clientId" };
            let pairs = [(key, client), ("code", code), ("grantType", grant), ("scope", scope), ("timestamp", ts_text.as_str())];
            let sign = naive_sign(&pairs, secret);
            let (ct, body) = if form {
                let mut ser = form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs { ser.append_pair(k, v); }
                ser.append_pair("sign", &sign);
                ("application/x-www-form-urlencoded", ser.finish().into_bytes())
            } else {
                ("application/json", json!({key: client, "code": code, "grantType": grant, "scope": scope, "timestamp": ts, "sign": sign}).to_string().into_bytes())
            };
            client_rt.block_on(send(&ctx, "POST", TOKEN_PATH, Some(ct), body))
        };
        let (http, env) = send(&client, &secret, &sent_code, &grant, &scope, ts);
        prop_assert_ne!(http, 500);
        let env = env.expect("an envelope");
        prop_assert_eq!(env["responseHeader"]["status"].as_i64(), Some(expected.get()), "{:?}: {}", m, env);
        // The refusal spent nothing: the real code still works, once.
        let (_, env) = send("app-a", "secret-a", &code, "authorization_code", "user.info", NOW);
        prop_assert_eq!(env.map(|e| e["responseHeader"]["status"].as_i64()), Some(Some(200)), "{:?}", m);
    });
}
