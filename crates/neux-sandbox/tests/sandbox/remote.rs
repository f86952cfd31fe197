//! Remote mode (`allow_remote`): a DNS-rebinding page cannot drive it, the operator can.

use neux_sandbox::{ControlToken, Sandbox, SandboxError, status};
use reqwest::StatusCode;
use serde_json::json;

const TOKEN: &str = "operator-token-0123456789";

async fn remote() -> Sandbox {
    Sandbox::builder()
        .app("app-a", "secret-a")
        .allow_remote(true)
        .public_host("Sandbox.Internal.")
        .control_token(ControlToken::new(TOKEN).unwrap())
        .start()
        .await
        .unwrap()
}

/// A request to `sandbox`'s control API or inspector with `headers`: the HTTP status and the
/// API status (none for the page).
async fn send(
    sandbox: &Sandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<i64>) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("{}{path}", sandbox.base_url()))
        .header("content-type", "application/json");
    if method == reqwest::Method::POST {
        req = req.body(json!({"clientId": "app-a"}).to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let http = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    (http, body["responseHeader"]["status"].as_i64())
}

const CONTROL: [(&str, &str); 4] = [
    ("POST", "/sandbox/v1/codes"),
    ("GET", "/sandbox/v1/requests"),
    ("DELETE", "/sandbox/v1/requests"),
    ("POST", "/sandbox/v1/faults"),
];

#[tokio::test]
async fn a_rebinding_page_cannot_drive_a_remote_sandbox() {
    let sandbox = remote().await;
    let port = sandbox.local_addr().port();
    // What a page on attacker.example, resolved to this machine, makes the browser send: its
    // own name in Host and Origin, and same-origin in Sec-Fetch-Site.
    let host = format!("attacker.example:{port}");
    let origin = format!("http://{host}");
    let forged = [
        ("host", host.as_str()),
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    for (method, path) in CONTROL.into_iter().chain([("GET", "/")]) {
        let (http, api) = send(&sandbox, method, path, &forged).await;
        assert_eq!(http, 403, "{method} {path}");
        if path != "/" {
            assert_eq!(api, Some(status::CONTROL_FORBIDDEN.get()));
        }
    }
    // A listed name, or loopback, serves the page; the control API still wants the token.
    for host in [
        format!("sandbox.internal:{port}"),
        format!("127.0.0.1:{port}"),
    ] {
        let (http, _) = send(&sandbox, "GET", "/", &[("host", &host)]).await;
        assert_eq!(http, 200, "the page through {host}");
        for (method, path) in CONTROL {
            let (http, api) = send(&sandbox, method, path, &[("host", &host)]).await;
            assert_eq!(http, 401, "{method} {path} through {host}");
            assert_eq!(api, Some(status::CONTROL_TOKEN_REQUIRED.get()));
            let wrong = [
                ("host", host.as_str()),
                ("authorization", "Bearer operator-token-012345678"),
            ];
            let (http, _) = send(&sandbox, method, path, &wrong).await;
            assert_eq!(http, 401, "{method} {path} with a wrong token");
        }
    }
    assert_eq!(sandbox.stats().codes, 0, "nothing was minted");
    // The operator's program, with the token, on a listed name.
    let bearer = format!("Bearer {TOKEN}");
    let listed = format!("sandbox.internal:{port}");
    let (http, api) = send(
        &sandbox,
        "POST",
        "/sandbox/v1/codes",
        &[("host", &listed), ("authorization", &bearer)],
    )
    .await;
    assert_eq!((http, api), (StatusCode::OK, Some(200)));
    // A program with the token may use any name (a page cannot know the token).
    let (http, _) = send(
        &sandbox,
        "GET",
        "/sandbox/v1/requests",
        &[("host", "other.example"), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(http, 200);
    // The token does not open the door to other sites' pages.
    let (http, _) = send(
        &sandbox,
        "GET",
        "/sandbox/v1/requests",
        &[
            ("authorization", &bearer),
            ("origin", "http://attacker.example"),
        ],
    )
    .await;
    assert_eq!(http, 403);
}

#[tokio::test]
async fn a_token_given_on_loopback_is_required_and_the_inspector_url_carries_it() {
    let token = ControlToken::new(TOKEN).unwrap();
    let sandbox = Sandbox::builder()
        .app("app-a", "secret-a")
        .control_token(token)
        .start()
        .await
        .unwrap();
    assert_eq!(
        sandbox.inspector_url(),
        format!("{}/#token={TOKEN}", sandbox.base_url())
    );
    let (http, _) = send(&sandbox, "GET", "/sandbox/v1/stats", &[]).await;
    assert_eq!(http, 401);
    let bearer = format!("Bearer {TOKEN}");
    let (http, _) = send(
        &sandbox,
        "GET",
        "/sandbox/v1/stats",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(http, 200);
    // Without a token and without remote mode, nothing changes: no token, a plain URL.
    let plain = Sandbox::builder().app("a", "s").start().await.unwrap();
    assert!(plain.control_token().is_none());
    assert_eq!(plain.inspector_url(), format!("{}/", plain.base_url()));
    // The token is a secret: never in Debug output.
    assert!(!format!("{sandbox:?}").contains(TOKEN));
}

#[tokio::test]
async fn remote_mode_generates_a_token_and_checks_its_host_names() {
    let sandbox = Sandbox::builder()
        .app("a", "s")
        .allow_remote(true)
        .start()
        .await
        .unwrap();
    let token = sandbox.control_token().unwrap().expose().to_owned();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = Sandbox::builder()
        .app("a", "s")
        .allow_remote(true)
        .start()
        .await
        .unwrap();
    assert_ne!(other.control_token().unwrap().expose(), token);
    for bad in ["evil.example/path", "a b", "", "user@host"] {
        let e = Sandbox::builder()
            .app("a", "s")
            .allow_remote(true)
            .public_host(bad)
            .start()
            .await
            .unwrap_err();
        assert!(matches!(e, SandboxError::BadPublicHost(_)), "{bad}: {e}");
    }
}
