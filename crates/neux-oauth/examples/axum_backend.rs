//! A mini app backend: `POST /login {"code": "..."}` logs the user in and returns their profile.
//!
//! ```sh
//! cargo run -p neux-oauth --example axum_backend
//! ```
//!
//! With no `NEUX_BASE_URL` it starts a sandbox in-process and prints a ready-to-paste `curl`
//! command with a fresh code. Errors map to HTTP statuses the mini app can act on: 401 with
//! `"new_code_needed": true` when it must call `wx.login()` again, 502/503 for platform trouble.
#![allow(clippy::print_stdout, dead_code)]

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use neux_oauth::{AuthCode, Client, Error, Scope};
use serde_json::{Value, json};

/// The backend's routes, around one shared client.
pub fn app(client: Client) -> Router {
    Router::new()
        .route("/login", post(login))
        .with_state(client)
}

async fn login(State(client): State<Client>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let Some(code) = body
        .get("code")
        .and_then(Value::as_str)
        .and_then(|c| AuthCode::new(c).ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "body must be {\"code\": \"...\"}"})),
        );
    };
    let login = match client.login(&code, &Scope::default()).await {
        // The code was exchanged but the profile read failed: the code is spent, the tokens are
        // not. Read the profile again with them rather than send the user back to wx.login().
        Err(Error::LoginIncomplete { tokens, .. }) => client
            .user_info(tokens.access_token())
            .await
            .map(|user| (*tokens, user)),
        other => other,
    };
    match login {
        // A real backend would create its session here, keyed by open_id.
        Ok((_tokens, user)) => (
            StatusCode::OK,
            Json(serde_json::to_value(&user).unwrap_or_default()),
        ),
        Err(e) => {
            let status = match &e {
                Error::CodeRejected { .. }
                | Error::CodeAlreadyPresented { .. }
                | Error::NotAuthorized { .. } => StatusCode::UNAUTHORIZED,
                Error::Transport(_) | Error::Http { .. } => StatusCode::BAD_GATEWAY,
                _ if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            // The error text carries no secret, code or token, so it may be logged and returned.
            (
                status,
                Json(
                    json!({"error": e.kind(), "message": e.to_string(), "new_code_needed": e.needs_new_code()}),
                ),
            )
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, sandbox) = if std::env::var_os("NEUX_BASE_URL").is_some() {
        (Client::from_env()?, None)
    } else {
        let sandbox = neux_sandbox::Sandbox::builder()
            .app("demo-app", "demo-secret")
            .start()
            .await?;
        let client = Client::builder()
            .client_id("demo-app")
            .secret("demo-secret")
            .base_url(sandbox.base_url())
            .build()?;
        (client, Some(sandbox))
    };
    let addr: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:3000".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("backend listening on http://{}", listener.local_addr()?);
    if let Some(sb) = &sandbox {
        let code = sb.mint_code(client.client_id(), Scope::default(), Default::default())?;
        println!("sandbox at {}; try:", sb.base_url());
        println!(
            "  curl -s http://{}/login -H 'content-type: application/json' -d '{{\"code\":\"{}\"}}'",
            listener.local_addr()?,
            code.code.expose_secret()
        );
    }
    axum::serve(listener, app(client))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
