//! The minimal login.
//!
//! ```sh
//! cargo run -p neux-oauth --example login                 # against an in-process sandbox
//! NEUX_BASE_URL=... NEUX_CLIENT_ID=... NEUX_SECRET=... NEUX_CODE=... \
//!   cargo run -p neux-oauth --example login               # against a real host
//! ```
#![allow(clippy::print_stdout)]

use neux_oauth::{AuthCode, Client, Scope};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // With no NEUX_BASE_URL, play the platform (and the mini app) with a local sandbox.
    let (client, code, _sandbox) = if std::env::var_os("NEUX_BASE_URL").is_some() {
        let code = AuthCode::new(
            std::env::var("NEUX_CODE").map_err(|_| "set NEUX_CODE to a code from wx.login()")?,
        )?;
        (Client::from_env()?, code, None)
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
        let minted = sandbox.mint_code(client.client_id(), Scope::default(), Default::default())?;
        (client, minted.code, Some(sandbox))
    };

    let (tokens, user) = client.login(&code, &Scope::default()).await?;
    println!("openId:   {}", user.open_id);
    println!("nickName: {}", user.nick_name.as_deref().unwrap_or("-"));
    println!(
        "unionId:  {}",
        user.union_id.as_ref().map(|u| u.as_str()).unwrap_or("-")
    );
    println!("token expires in {} s", tokens.expires_in().as_secs());
    Ok(())
}
