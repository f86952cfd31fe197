//! `neux sandbox`: the emulator in the foreground, until Ctrl-C or SIGTERM.

use std::time::Duration;

use neux_sandbox::Sandbox;

use crate::args::SandboxArgs;
use crate::failure::Failure;
use crate::terminal;

pub(crate) async fn run(a: &SandboxArgs) -> Result<(), Failure> {
    if !a.listen.ip().is_loopback() && a.allow_remote {
        terminal::eprintln(&format!(
            "warning: listening on {} with --allow-remote: the unauthenticated control API is reachable from the network",
            a.listen
        ));
    }
    // Handlers go in before the first line is printed: a script may signal as soon as it reads it.
    let stop = Stop::install()?;
    let generated =
        if a.apps.is_empty() {
            Some(random_secret().map_err(|e| {
                Failure::new("sandbox", format!("the OS random generator failed: {e}"))
            })?)
        } else {
            None
        };
    let mut builder = Sandbox::builder()
        .listen(a.listen)
        .allow_remote(a.allow_remote)
        .window(Duration::from_secs(a.window_secs));
    for (id, secret) in &a.apps {
        builder = builder.app(id.as_str(), secret.as_str());
    }
    for key in &a.mask_keys {
        builder = builder.mask_key(key.as_str());
    }
    if let Some(secret) = &generated {
        builder = builder.app("demo-app", secret.as_str());
    }
    let sandbox = builder.start().await.map_err(|e| match e {
        neux_sandbox::SandboxError::RemoteRefused(_) => Failure::new("usage", e.to_string()),
        e => Failure::new("sandbox", e.to_string()),
    })?;
    // The first line is a contract: scripts read the port from it.
    terminal::println(&format!("listening on {}", sandbox.base_url()));
    match &generated {
        // A throwaway secret made for this run: printing it is the point.
        Some(secret) => terminal::println(&format!(
            "app demo-app, secret {secret} (generated; choose your own with --app CLIENT_ID:SECRET)"
        )),
        None => {
            let ids: Vec<&str> = a.apps.iter().map(|(id, _)| id.as_str()).collect();
            terminal::println(&format!("apps: {}", ids.join(", ")));
        }
    }
    terminal::println(&format!(
        "inspector: open {} in a browser; mint a code there or POST /sandbox/v1/codes {{\"clientId\": \"...\"}}; stop with Ctrl-C",
        sandbox.inspector_url()
    ));
    stop.wait().await;
    sandbox.shutdown().await;
    terminal::eprintln("sandbox stopped");
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM, registered up front.
struct Stop {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Stop {
    fn install() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let failed = |e: std::io::Error| {
                Failure::new("signal", format!("could not install signal handlers: {e}"))
            };
            Ok(Self {
                int: signal(SignalKind::interrupt()).map_err(failed)?,
                term: signal(SignalKind::terminate()).map_err(failed)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// 128 bits of hex from the OS random generator.
fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
