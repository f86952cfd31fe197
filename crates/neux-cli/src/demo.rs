//! `neux demo`: a whole login against an embedded sandbox, step by step.

use std::sync::Arc;

use neux_oauth::{Client, Stopwatch};
use neux_sandbox::{Sandbox, UserSpec};

use crate::args::{DemoArgs, TransportArg};
use crate::config::{make_transport, parse_scope};
use crate::failure::Failure;
use crate::recording::Recording;
use crate::terminal::{self, ms, print_profile};

const DEMO_APP: &str = "demo-app";
// The embedded sandbox's own app: not a real secret, and never printed.
const DEMO_SECRET: &str = "demo-secret-for-the-embedded-sandbox";

pub(crate) async fn run(a: &DemoArgs) -> Result<(), Failure> {
    let scope = parse_scope(&a.scope)?;
    let started = Stopwatch::start();
    let sandbox = Sandbox::builder()
        .app(DEMO_APP, DEMO_SECRET)
        .start()
        .await
        .map_err(|e| Failure::new("sandbox", e.to_string()))?;
    let t_sandbox = started.elapsed();

    let transport = Recording::new(make_transport(a.transport)?);
    let client = Client::builder()
        .client_id(DEMO_APP)
        .secret(DEMO_SECRET)
        .base_url(sandbox.base_url())
        .dialect(a.dialect.into())
        .shared_transport(Arc::new(transport.clone()))
        .build()
        .map_err(|e| Failure::new("config", e.to_string()))?;
    let user = UserSpec {
        id: Some("demo-user".into()),
        nick_name: Some("Demo User".into()),
        ..Default::default()
    };
    let minted = sandbox
        .mint_code(client.client_id(), scope.clone(), user)
        .map_err(|e| Failure::new("sandbox", e.to_string()))?;

    let t = Stopwatch::start();
    let tokens = client.exchange_code(&minted.code, &scope).await?;
    let t_exchange = t.elapsed();
    let sign = transport.last_sign().unwrap_or_default();
    let t = Stopwatch::start();
    let user = client.user_info(tokens.access_token()).await?;
    let t_user = t.elapsed();
    let total = started.elapsed();
    sandbox.shutdown().await;

    if a.json {
        let json =
            serde_json::to_string(&user).map_err(|e| Failure::new("output", e.to_string()))?;
        terminal::println_json(&json);
        return Ok(());
    }
    let transport_name = match a.transport {
        TransportArg::Reqwest => "reqwest",
        TransportArg::Surf => "surf",
    };
    let code = minted.code.expose_secret();
    let short_code: String = code.chars().take(4).collect();
    let short_sign: String = sign.chars().take(8).collect();
    let lines = [
        "neux demo: a whole login against an embedded sandbox".to_owned(),
        format!(
            "  dialect {}, transport {transport_name}, scope {scope}",
            client.dialect()
        ),
        String::new(),
        format!(
            "1. sandbox    started at {} with app {DEMO_APP}  ({})",
            client.base_url(),
            ms(t_sandbox)
        ),
        format!(
            "2. code       minted {short_code}… for user demo-user, valid {} s",
            minted.expires_in
        ),
        format!(
            "3. exchange   POST /neuopenapi/oauth/mini/accessToken  code {short_code}…  sign {short_sign}…  ({})",
            ms(t_exchange)
        ),
        format!(
            "4. token      {}, expires in {} s, scope {}",
            tokens.token_type().unwrap_or("bearer"),
            tokens.expires_in().as_secs(),
            tokens.scope()
        ),
        format!(
            "5. user info  GET /neuopenapi/oauth/mini/user/info?accessToken=…  ({})",
            ms(t_user)
        ),
        String::new(),
        "profile".to_owned(),
    ];
    for line in lines {
        terminal::println(&line);
    }
    print_profile(&user);
    terminal::println("");
    terminal::println(&format!("logged in in {}", ms(total)));
    Ok(())
}
