#![allow(
    dead_code,
    unused_imports,
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::time::Duration;

use neux_oauth::{AuthCode, Client, ClientBuilder, Dialect, RetryPolicy, Scope};
use neux_sandbox::{Sandbox, UserSpec};

pub const APP: &str = "oauth-app";
pub const SECRET: &str = "oauth-secret";

pub async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .app(APP, SECRET)
        .app("other-app", "other-secret")
        .start()
        .await
        .unwrap()
}

pub fn builder(sb: &Sandbox, dialect: Dialect) -> ClientBuilder {
    Client::builder()
        .client_id(APP)
        .secret(SECRET)
        .base_url(sb.base_url())
        .dialect(dialect)
        .timeout(Duration::from_secs(3))
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
}

/// A client over a scripted transport, retrying after 1-2 ms. Each test file names its own
/// `app`, so its codes stay apart from other files' in the process's shared ledger.
pub fn scripted_client(mock: &neux_transport::test_util::MockTransport, app: &str) -> Client {
    Client::builder()
        .client_id(app)
        .secret("secret")
        .base_url("https://api.example.test")
        .transport(mock.clone())
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(2)),
        )
        .build()
        .unwrap()
}

pub fn mint(sb: &Sandbox, scope: &str, user: UserSpec) -> AuthCode {
    let id = neux_oauth::ClientId::new(APP).unwrap();
    sb.mint_code(&id, scope.parse::<Scope>().unwrap(), user)
        .unwrap()
        .code
}

/// How many token requests presented `code`, per the sandbox's log.
pub fn presentations(sb: &Sandbox, code: &AuthCode) -> usize {
    let fp = code.fingerprint();
    sb.requests()
        .iter()
        .filter(|r| r.code_fingerprint.as_deref() == Some(fp.as_str()))
        .count()
}

pub fn requests_to(sb: &Sandbox, path: &str) -> usize {
    sb.requests().iter().filter(|r| r.path == path).count()
}

pub use neux_oauth::{TOKEN_PATH, USER_INFO_PATH as USER_PATH};

pub use neux_testkit::Capture;
