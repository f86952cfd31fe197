//! What the inspector page reads and serves, over HTTP: the page and its assets, the log read
//! in pieces, a request's detail (masked parameters, what a refused signature signed, earlier
//! presentations of its code), the armed faults, the totals; and the guard around all of it.
//! The page itself is driven in a real browser by neux-cli's tests (`tests/cli/inspector.rs`).
#![allow(clippy::unwrap_used)]

use crate::support::*;
use neux_sandbox::status;
use serde_json::{Value, json};

impl Ctx {
    async fn get_json(&self, path: &str) -> Value {
        let res = self.http.get(self.url(path)).send().await.unwrap();
        let env: Value = res.json().await.unwrap();
        assert_eq!(status(&env), status::OK.get(), "{path}: {env}");
        env["response"].clone()
    }

    async fn delete(&self, path: &str) -> Value {
        let res = self.http.delete(self.url(path)).send().await.unwrap();
        res.json().await.unwrap()
    }
}

fn seqs(log: &Value) -> Vec<u64> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_a_strict_policy() {
    let ctx = start().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/sandbox/inspector/app.js", "text/javascript"),
        ("/sandbox/inspector/app.css", "text/css"),
    ] {
        let res = ctx.http.get(ctx.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let h = res.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        // No inline script may run, nothing may load from elsewhere, no site may frame it.
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let body = res.text().await.unwrap();
        // Embedded and self-contained: nothing fetched from another host.
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );
    }
    let page = ctx.http.get(ctx.url("/")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/sandbox/inspector/app.js" defer></script>"#));
    assert!(!html.contains("<script>"), "no inline script");
    assert_eq!(
        ctx.sandbox.inspector_url(),
        format!("{}/", ctx.sandbox.base_url())
    );
}

#[tokio::test]
async fn the_page_is_guarded_like_the_control_api() {
    let ctx = start().await;
    let port = ctx.sandbox.local_addr().port();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut req = ctx.http.get(ctx.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send()
    };
    // DNS rebinding: another name resolved to 127.0.0.1 reads nothing, page or data.
    for path in [
        "/",
        "/sandbox/inspector/app.js",
        "/sandbox/v1/stats",
        "/sandbox/v1/requests/1",
    ] {
        let res = get(path, &[("host", &format!("evil.example:{port}"))])
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    // Another site's script may not read the page or its data...
    let cross = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "cors"),
        ("sec-fetch-dest", "empty"),
    ];
    for path in [
        "/",
        "/sandbox/v1/stats",
        "/sandbox/v1/faults",
        "/sandbox/v1/statuses",
    ] {
        assert_eq!(get(path, &cross).await.unwrap().status(), 403, "{path}");
    }
    let res = ctx
        .http
        .delete(ctx.url("/sandbox/v1/requests"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // ...but a person may follow a link to the page itself from anywhere.
    let navigate = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-dest", "document"),
    ];
    assert_eq!(get("/", &navigate).await.unwrap().status(), 200);
    // A navigation is let through to the page only, not to the data.
    assert_eq!(
        get("/sandbox/v1/stats", &navigate).await.unwrap().status(),
        403
    );
    assert_eq!(
        get("/sandbox/v1/requests", &navigate)
            .await
            .unwrap()
            .status(),
        403
    );
}

#[tokio::test]
async fn the_log_is_read_after_a_sequence_number_newest_last() {
    let ctx = start().await;
    for _ in 0..5 {
        ctx.user_info("no-such-token").await;
    }
    let all = ctx.get_json("/sandbox/v1/requests").await;
    assert_eq!(seqs(&all), [1, 2, 3, 4, 5]);
    assert_eq!(
        seqs(&ctx.get_json("/sandbox/v1/requests?after=3").await),
        [4, 5]
    );
    assert_eq!(
        seqs(&ctx.get_json("/sandbox/v1/requests?limit=2").await),
        [4, 5]
    );
    assert_eq!(
        seqs(&ctx.get_json("/sandbox/v1/requests?after=1&limit=10").await),
        [2, 3, 4, 5]
    );
    assert!(seqs(&ctx.get_json("/sandbox/v1/requests?after=99").await).is_empty());
    let res = ctx
        .http
        .get(ctx.url("/sandbox/v1/requests?after=soon"))
        .send()
        .await
        .unwrap();
    let env: Value = res.json().await.unwrap();
    assert_eq!(status(&env), status::INVALID_PARAMETER.get(), "{env}");
    assert!(msg(&env).contains("after"), "{env}");

    // Cleared: the log is empty and numbering goes on, so a poller sees nothing old again.
    let cleared = ctx.delete("/sandbox/v1/requests").await;
    assert_eq!(cleared["response"]["cleared"], 5);
    assert!(ctx.sandbox.requests().is_empty());
    let stats = ctx.get_json("/sandbox/v1/stats").await;
    assert_eq!(
        (stats["oldestSeq"].as_u64(), stats["lastSeq"].as_u64()),
        (Some(6), Some(5))
    );
    ctx.user_info("no-such-token").await;
    assert_eq!(
        seqs(&ctx.get_json("/sandbox/v1/requests?after=5").await),
        [6]
    );
    assert_eq!(ctx.sandbox.clear_requests(), 1);
}

#[tokio::test]
async fn a_refused_signature_shows_what_the_sandbox_signed_masked() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let wrong = ctx.json_request("app-a", "not-the-secret", &code, "user.info", NOW);
    let env = ctx.exchange_json(&wrong).await;
    assert_eq!(status(&env), status::SIGNATURE_REJECTED.get());
    let d = ctx.get_json("/sandbox/v1/requests/1").await;
    assert_eq!(d["request"]["apiStatus"], 2000);
    assert_eq!(d["meaning"], "signature verification failed");
    assert!(d["hint"].as_str().unwrap().contains("app secret"), "{d}");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("signature mismatch"),
        "{d}"
    );
    let sig = &d["signature"];
    assert_eq!(
        sig["canonical"],
        format!(
            "clientId=app-acode=[REDACTED]grantType=authorization_codescope=user.infosecret=[REDACTED]timestamp={NOW}"
        )
    );
    assert_eq!(sig["canonicalCut"], false);
    let sent = wrong["sign"].as_str().unwrap();
    assert_eq!(sig["received"], sent[..8]);
    let right = naive_sign(
        &[
            ("clientId", "app-a"),
            ("code", &code),
            ("grantType", "authorization_code"),
            ("scope", "user.info"),
            ("timestamp", &NOW.to_string()),
        ],
        "secret-a",
    );
    assert_eq!(sig["expected"], right[..8]);
    // The parameters as received: the code as its fingerprint, `sign` as a prefix.
    let fp = neux_proto::AuthCode::new(code.as_str())
        .unwrap()
        .fingerprint();
    let params: Vec<(String, String)> = serde_json::from_value(d["params"].clone()).unwrap();
    let value = |k: &str| params.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(value("clientId"), "app-a");
    assert_eq!(value("code"), format!("[fingerprint {fp}]"));
    assert_eq!(value("sign"), format!("{}…", &sent[..8]));
    assert_eq!(value("timestamp"), NOW.to_string());
    assert_eq!(d["paramsTotal"], 6);
    let text = d.to_string();
    assert!(!text.contains(&code) && !text.contains("secret-a") && !text.contains(sent));
}

#[tokio::test]
async fn a_signed_calls_detail_masks_what_looks_sensitive() {
    let ctx = start().await;
    let params = [
        ("appid", "app-a"),
        ("cardNo", "4111111111111111"),
        ("password", "hunter2"),
        ("refreshToken", "rt-value"),
        ("amount", "100"),
        ("timestamp", &NOW.to_string()),
    ];
    let sign = naive_sign(&params, "wrong");
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    ser.append_pair("sign", &sign);
    let body = ser.finish();
    let (_, env) = ctx
        .post_raw(
            "/neuopenapi/sandbox/pay",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
        .await;
    assert_eq!(status(&env), status::SIGNATURE_REJECTED.get(), "{env}");
    let d = ctx.get_json("/sandbox/v1/requests/1").await;
    let params: Vec<(String, String)> = serde_json::from_value(d["params"].clone()).unwrap();
    let value = |k: &str| params.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(value("cardNo"), "[REDACTED]");
    assert_eq!(value("password"), "[REDACTED]");
    assert_eq!(value("refreshToken"), "[REDACTED]");
    assert_eq!(value("amount"), "100");
    let canonical = d["signature"]["canonical"].as_str().unwrap();
    assert!(canonical.contains("cardNo=[REDACTED]"), "{canonical}");
    assert!(canonical.contains("password=[REDACTED]"), "{canonical}");
    assert!(canonical.contains("amount=100"), "{canonical}");
    // The answer's canonical string masks them too: the sandbox and the client mask by one
    // table (neux_proto::is_sensitive_name).
    assert!(!msg(&env).contains("4111111111111111"), "{env}");
    assert!(
        d["message"].as_str().unwrap().contains("cardNo=[REDACTED]"),
        "{d}"
    );
    let text = d.to_string();
    for secret in ["4111111111111111", "hunter2", "rt-value", "secret-a"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test]
async fn a_codes_earlier_presentations_are_listed() {
    let ctx = start().await;
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    let req = ctx.json_request("app-a", "secret-a", &code, "user.info", NOW);
    assert_eq!(status(&ctx.exchange_json(&req).await), 200);
    ctx.clock.advance(std::time::Duration::from_millis(1500));
    assert_eq!(
        status(&ctx.exchange_json(&req).await),
        status::CODE_USED.get()
    );
    let first = ctx.get_json("/sandbox/v1/requests/1").await;
    assert_eq!(
        first["code"],
        json!({"earlierCount": 0, "earlier": [], "laterCount": 1})
    );
    let second = ctx.get_json("/sandbox/v1/requests/2").await;
    assert_eq!(
        second["code"],
        json!({"earlierCount": 1, "earlier": [{"seq": 1, "atMs": NOW}], "laterCount": 0})
    );
    assert_eq!(second["meaning"], "code already used");
    // Gone from the log: a clear answer, not an empty detail.
    ctx.delete("/sandbox/v1/requests").await;
    let res = ctx
        .http
        .get(ctx.url("/sandbox/v1/requests/2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let env: Value = res.json().await.unwrap();
    assert!(msg(&env).contains("not in the log"), "{env}");
}

#[tokio::test]
async fn only_the_latest_requests_keep_their_detail() {
    let ctx = start().await;
    for _ in 0..510 {
        ctx.exchange_json(&ctx.json_request("app-a", "secret-a", "no-such-code", "user.info", NOW))
            .await;
    }
    let oldest = ctx.get_json("/sandbox/v1/requests/10").await;
    assert_eq!(oldest["request"]["apiStatus"], status::CODE_UNKNOWN.get());
    assert_eq!(oldest["params"], Value::Null, "detail of #10 is dropped");
    assert_eq!(oldest["message"], Value::Null);
    let kept = ctx.get_json("/sandbox/v1/requests/11").await;
    assert_eq!(kept["paramsTotal"], 6, "the latest 500 keep theirs");
    assert!(kept["message"].as_str().unwrap().contains("code unknown"));
}

#[tokio::test]
async fn faults_stats_and_statuses_read_as_the_page_shows_them() {
    let ctx = start().await;
    let rule = json!({"path": TOKEN_PATH, "count": 2, "fault": {"kind": "status", "status": 503}, "when": "after"});
    let (_, env) = ctx
        .post_raw(
            "/sandbox/v1/faults",
            "application/json",
            rule.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status(&env), 200, "{env}");
    assert_eq!(ctx.get_json("/sandbox/v1/faults").await, json!([rule]));
    let (code, _) = ctx.mint("app-a", None, json!({})).await;
    ctx.mint("app-b", None, json!({})).await;
    // The fault strikes after handling: the code is spent, one strike is left.
    let res = ctx
        .http
        .post(ctx.url(TOKEN_PATH))
        .header("content-type", "application/json")
        .body(
            ctx.json_request("app-a", "secret-a", &code, "user.info", NOW)
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let left = ctx.get_json("/sandbox/v1/faults").await;
    assert_eq!(left[0]["count"], 1);
    let stats = ctx.get_json("/sandbox/v1/stats").await;
    assert_eq!(stats["mintedCodes"], 2);
    assert_eq!(stats["liveCodes"], 1);
    assert_eq!(stats["codes"], 2);
    assert_eq!(stats["armedFaults"], 1);
    assert_eq!(stats["apps"], json!(["app-a", "app-b"]));
    assert!(!stats.to_string().contains("secret-"), "{stats}");
    let s = ctx.sandbox.stats();
    assert_eq!((s.minted_codes, s.live_codes), (2, 1));
    // The page's answer column reads the one status table.
    let rows = ctx.get_json("/sandbox/v1/statuses").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), status::ALL.len());
    let sig = rows.iter().find(|r| r["status"] == 2000).unwrap();
    assert_eq!(sig["definedBy"], "platform");
    assert!(sig["hint"].as_str().unwrap().contains("app secret"));
    // A minted code's fingerprint is the one the log shows, so the page can tell it was used.
    let (_, env) = ctx
        .post_raw(
            "/sandbox/v1/codes",
            "application/json",
            json!({"clientId": "app-a"}).to_string().into_bytes(),
        )
        .await;
    let code = env["response"]["code"].as_str().unwrap();
    let fp = env["response"]["codeFingerprint"].as_str().unwrap();
    assert_eq!(fp, neux_proto::AuthCode::new(code).unwrap().fingerprint());
}

/// Masking follows the data: a nested card, a key marked with `mask_key`, an API key and an OTP
/// in a JSON body are masked in the log, the detail and the control API, at any depth, though
/// the call is refused (a nested value cannot be signed).
#[tokio::test]
async fn nested_sensitive_values_are_masked_at_any_depth() {
    let clock = neux_proto::ManualClock::from_millis(NOW);
    let sandbox = neux_sandbox::Sandbox::builder()
        .app("app-a", "secret-a")
        .clock(clock.clone())
        .mask_key("email")
        .start()
        .await
        .unwrap();
    let ctx = Ctx {
        sandbox,
        clock,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    let body = json!({
        "appid": "app-a",
        "timestamp": NOW,
        "apiKey": "ak-77f3e1",
        "otp": "918273",
        "payment": {
            "cardNo": "4111111111111111",
            "cvv": "123",
            "holder": {"email": "jo@example.test", "name": "Jo"},
            "history": [{"pin": "4242"}, {"api_key": "ak-2-51c0"}],
        },
        "sign": "00",
    });
    let (_, env) = ctx
        .post_raw(
            "/neuopenapi/sandbox/pay",
            "application/json",
            body.to_string().into_bytes(),
        )
        .await;
    assert_ne!(status(&env), status::OK.get(), "{env}");
    let d = ctx.get_json("/sandbox/v1/requests/1").await;
    let log = ctx.get_json("/sandbox/v1/requests").await;
    let text = format!("{d} {log}");
    for secret in [
        "ak-77f3e1",
        "918273",
        "4111111111111111",
        "\"123\"",
        "jo@example.test",
        "4242",
        "ak-2-51c0",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // What is not sensitive stays readable, masked values in place.
    assert!(text.contains("Jo") && text.contains("[REDACTED]"), "{text}");
}
