//! `neux sandbox`: the emulator in the foreground, until Ctrl-C or SIGTERM.

use std::time::Duration;

use neux_sandbox::{ControlToken, Sandbox, SandboxError};

use crate::args::SandboxArgs;
use crate::failure::Failure;
use crate::terminal;

pub(crate) async fn run(a: &SandboxArgs) -> Result<(), Failure> {
    if a.allow_remote {
        terminal::eprintln(&crate::failure::wrapped("warning:", &remote_warning(a)).join("\n"));
    }
    let token = a
        .control_token
        .as_deref()
        .map(ControlToken::new)
        .transpose()
        .map_err(|e| {
            Failure::new(
                "usage",
                format!("--control-token / NEUX_SANDBOX_TOKEN: {e}"),
            )
        })?;
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
    for host in &a.public_hosts {
        builder = builder.public_host(host);
    }
    if let Some(token) = token {
        builder = builder.control_token(token);
    }
    for key in &a.mask_keys {
        builder = builder.mask_key(key.as_str());
    }
    if let Some(secret) = &generated {
        builder = builder.app("demo-app", secret.as_str());
    }
    let sandbox = builder.start().await.map_err(|e| match e {
        SandboxError::RemoteRefused(_) | SandboxError::BadPublicHost(_) => {
            Failure::new("usage", e.to_string())
        }
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
    let control = match (sandbox.control_token(), &a.control_token) {
        (None, _) => String::new(),
        // Generated for this run: the operator has no other way to learn it.
        (Some(token), None) => {
            terminal::println(&format!(
                "control token: {} (generated; choose your own with --control-token or NEUX_SANDBOX_TOKEN)",
                token.expose()
            ));
            " with Authorization: Bearer TOKEN".to_owned()
        }
        // The operator's own: not repeated into logs.
        (Some(_), Some(_)) => {
            terminal::println(
                "control token: the one given (--control-token or NEUX_SANDBOX_TOKEN)",
            );
            " with Authorization: Bearer TOKEN".to_owned()
        }
    };
    let inspector = match (sandbox.control_token(), &a.control_token) {
        (Some(_), Some(_)) => format!("{}/#token=TOKEN", sandbox.base_url()),
        _ => sandbox.inspector_url(),
    };
    terminal::println(&format!(
        "inspector: open {inspector} in a browser; mint a code there or POST /sandbox/v1/codes {{\"clientId\": \"...\"}}{control}; stop with Ctrl-C"
    ));
    stop.wait().await;
    sandbox.shutdown().await;
    terminal::eprintln("sandbox stopped");
    Ok(())
}

/// What `--allow-remote` opens, said before anything is opened, on any address.
fn remote_warning(a: &SandboxArgs) -> String {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !a.listen.ip().is_unspecified() && !a.listen.ip().is_loopback() {
        names.push(a.listen.ip().to_string());
    }
    names.extend(a.public_hosts.iter().cloned());
    let reach = if a.listen.ip().is_loopback() {
        "this machine (and anything that forwards to it, such as a published container port)"
    } else {
        "the network"
    };
    format!(
        "listening on {} with --allow-remote: anyone on {reach} who has the control token can mint codes, arm faults and read and clear the request log (/sandbox/v1/*); the inspector page is served to the names {}; the platform paths answer everyone, as the platform does",
        a.listen,
        names.join(", ")
    )
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
