//! Every public type of the workspace that holds an app secret, a code or an access token,
//! built with recognisable values and formatted with `{:?}` (and `{}` where it has one): none
//! of the values may appear.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use neux_oauth::{
    AccessToken, AuthCode, Client, ClientId, CodeKey, CodeLedger, Dialect, InMemoryLedger, Scope,
};
use neux_proto::{AppSecret, Envelope, Params, Timestamp, TokenRequest, TokenResponse};
use neux_sandbox::{ControlToken, Sandbox, UserSpec};
use neux_transport::Transport;
use neux_transport::test_util::MockTransport;

const SECRET: &str = "SECRET-recognisable-1";
const CODE: &str = "CODE-recognisable-2";
const TOKEN: &str = "TOKEN.recognisable.3";
const CONTROL: &str = "CONTROL-recognisable-4";

fn assert_clean(what: &str, text: &str, values: &[&str]) {
    for v in values {
        assert!(!text.contains(v), "{what} shows {v}: {text}");
    }
}

#[tokio::test]
async fn no_public_type_prints_a_secret_code_or_token() {
    let all = [SECRET, CODE, TOKEN];
    let mut shown: Vec<(&str, String)> = Vec::new();

    // neux-proto
    let secret = AppSecret::new(SECRET).unwrap();
    let code = AuthCode::new(CODE).unwrap();
    let token = AccessToken::new(TOKEN).unwrap();
    shown.push(("AppSecret", format!("{secret:?}")));
    shown.push(("AuthCode", format!("{code:?}")));
    shown.push(("AccessToken", format!("{token:?}")));
    let request = TokenRequest::new(
        ClientId::new("app").unwrap(),
        code.clone(),
        Scope::default(),
        Timestamp::from_millis(1_700_000_000_000),
    );
    shown.push(("TokenRequest", format!("{request:?}")));
    for dialect in [Dialect::Json, Dialect::Form] {
        let params: Params = request.params(dialect);
        shown.push(("Params", format!("{params:?}")));
        let body = request.encode(dialect, &secret);
        shown.push(("TokenRequestBody", format!("{body:?}")));
    }
    let mut params = Params::new().with("cardNo", SECRET).unwrap();
    params.mark_sensitive("cardNo");
    shown.push(("Params (marked)", format!("{params:?}")));
    let answer = format!(
        r#"{{"responseHeader":{{"status":200,"msg":"OK"}},"response":{{"accessToken":"{TOKEN}","expire":60,"tokenType":"bearer"}}}}"#
    );
    let response: TokenResponse = Envelope::decode(answer.as_bytes()).unwrap();
    shown.push(("TokenResponse", format!("{response:?}")));
    let garbled = answer.replace("60", "\"sixty\"");
    let decode = Envelope::<TokenResponse>::decode(garbled.as_bytes()).unwrap_err();
    shown.push(("ResponseError", format!("{decode} {decode:?}")));

    // neux-oauth
    let ledger = InMemoryLedger::new(8);
    let now = std::time::SystemTime::now();
    let app = ClientId::new("app").unwrap();
    assert!(matches!(
        ledger
            .claim(&app, CodeKey::of(&code), now, Duration::from_secs(60))
            .await
            .unwrap(),
        neux_oauth::Claim::Won(_)
    ));
    shown.push((
        "CodeKey",
        format!("{:?} {}", CodeKey::of(&code), CodeKey::of(&code).to_hex()),
    ));
    shown.push(("InMemoryLedger", format!("{ledger:?}")));
    let mock = MockTransport::new();
    mock.push_json(200, &answer);
    let builder = Client::builder()
        .client_id("app")
        .secret(SECRET)
        .base_url("http://127.0.0.1:9")
        .retry(neux_oauth::RetryPolicy::none())
        .transport(mock.clone());
    shown.push(("ClientBuilder", format!("{builder:?}")));
    let client = builder.build().unwrap();
    let tokens = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap();
    shown.push(("Client", format!("{client:?}")));
    shown.push(("TokenSet", format!("{tokens:?}")));
    let again = client
        .exchange_code(&code, &Scope::default())
        .await
        .unwrap_err();
    shown.push(("Error", format!("{again} {again:?}")));
    // A server that echoes what it got, in an error, a page and a garbled answer.
    mock.push_json(
        200,
        &format!(r#"{{"responseHeader":{{"status":4107,"msg":"bad token {TOKEN}"}}}}"#),
    );
    mock.push_json(502, &format!("<html>{TOKEN}</html>"));
    let echo = client.user_info(&token).await.unwrap_err();
    shown.push(("Error (echo)", format!("{echo} {echo:?}")));
    let page = client.user_info(&token).await.unwrap_err();
    shown.push(("Error (page)", format!("{page} {page:?}")));
    // A login whose profile failed carries its tokens in the error.
    let fresh = AuthCode::new(format!("{CODE}-login")).unwrap();
    mock.push_json(200, &answer);
    mock.push_json(502, &format!("<html>{TOKEN}</html>"));
    let incomplete = client.login(&fresh, &Scope::default()).await.unwrap_err();
    assert!(incomplete.tokens().is_some(), "{incomplete:?}");
    shown.push((
        "Error (login incomplete)",
        format!("{incomplete} {incomplete:?}"),
    ));
    // A shared ledger whose URL holds the secret as its password.
    #[cfg(feature = "redis")]
    {
        let url = format!("redis://:{SECRET}@127.0.0.1:9/0");
        let ledger = neux_oauth::RedisLedger::new(url.clone()).unwrap();
        shown.push(("RedisLedger", format!("{ledger:?}")));
        let with_ledger = Client::builder()
            .client_id("app")
            .secret("other")
            .base_url("http://127.0.0.1:9")
            .code_ledger(ledger);
        shown.push(("ClientBuilder (redis)", format!("{with_ledger:?}")));
        shown.push((
            "Client (redis)",
            format!("{:?}", with_ledger.build().unwrap()),
        ));
        let bad = neux_oauth::RedisLedger::new(format!("redis://:{SECRET}@host:bad")).unwrap_err();
        shown.push(("LedgerError", format!("{bad} {bad:?}")));
        let builder = neux_oauth::RedisLedger::builder(url);
        shown.push(("RedisLedgerBuilder", format!("{builder:?}")));
    }

    // neux-transport: the mock recorded a body with the code and a URL with the token.
    let _ = mock
        .send(
            http::Request::get(format!("http://127.0.0.1:9/?accessToken={TOKEN}"))
                .body(CODE.as_bytes().to_vec())
                .unwrap(),
        )
        .await;
    shown.push(("MockTransport", format!("{mock:?}")));

    // neux-sandbox
    let control = ControlToken::new(CONTROL).unwrap();
    shown.push(("ControlToken", format!("{control:?}")));
    let sb_builder = Sandbox::builder().app("app", SECRET).control_token(control);
    shown.push(("SandboxBuilder", format!("{sb_builder:?}")));
    let sb = sb_builder.start().await.unwrap();
    let minted = sb
        .mint_code(
            &ClientId::new("app").unwrap(),
            Scope::default(),
            UserSpec::default(),
        )
        .unwrap();
    let sandbox_client = Client::builder()
        .client_id("app")
        .secret(SECRET)
        .base_url(sb.base_url())
        .build()
        .unwrap();
    let live = sb
        .mint_code(
            &ClientId::new("app").unwrap(),
            Scope::default(),
            UserSpec::default(),
        )
        .unwrap();
    let (sandbox_tokens, _) = sandbox_client
        .login(&minted.code, &Scope::default())
        .await
        .unwrap();
    shown.push(("MintedCode", format!("{minted:?}")));
    shown.push(("Sandbox", format!("{sb:?}")));
    shown.push(("LoggedRequest", format!("{:?}", sb.requests())));

    let sandbox_values = [
        minted.code.expose_secret(),
        live.code.expose_secret(),
        sandbox_tokens.access_token().expose_secret(),
        CONTROL,
    ];
    for (what, text) in &shown {
        assert_clean(what, text, &all);
        assert_clean(what, text, &sandbox_values);
    }
    // The checks above looked at real output, not at empty strings.
    assert!(shown.iter().all(|(_, text)| text.len() > 4));
}
