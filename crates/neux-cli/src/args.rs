//! Command-line arguments.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "neux",
    version,
    about = "Neuxnet mini app login: demo, sandbox, login, sign, call"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in against an embedded sandbox and show each step.
    Demo(DemoArgs),
    /// Run the platform emulator in the foreground.
    Sandbox(SandboxArgs),
    /// Log a user in against any host (the secret comes from the environment).
    Login(LoginArgs),
    /// Sign a JSON object of parameters read from stdin.
    Sign(SignArgs),
    /// Send any signed call to a host and print its decoded `response`, to debug a call by
    /// hand (the secret comes from the environment).
    Call(CallArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// application/json with clientId.
    Json,
    /// application/x-www-form-urlencoded with appid.
    Form,
}

impl From<DialectArg> for neux_oauth::Dialect {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Json => Self::Json,
            DialectArg::Form => Self::Form,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportArg {
    /// reqwest (tokio, rustls).
    Reqwest,
    /// surf (h1 client, native TLS).
    Surf,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Wire form of the token call.
    #[arg(long, value_enum, default_value = "json")]
    pub dialect: DialectArg,
    /// HTTP transport.
    #[arg(long, value_enum, default_value = "reqwest")]
    pub transport: TransportArg,
    /// Scope to request, comma-separated.
    #[arg(long, default_value = "user.info")]
    pub scope: String,
    /// Print only the user's profile, as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// An app, as CLIENT_ID:SECRET (repeatable). Without one, a demo app is created.
    #[arg(long = "app", value_parser = parse_app)]
    pub apps: Vec<(String, String)>,
    /// Allowed distance of a request's timestamp from the sandbox clock, in seconds.
    #[arg(long, default_value_t = 300)]
    pub window_secs: u64,
    /// Remote mode: allow a non-loopback --listen address, serve the --public-host names, and
    /// require the control token on the control API (/sandbox/v1/*). Whoever has the token can
    /// mint codes and read the request log.
    #[arg(long)]
    pub allow_remote: bool,
    /// A name (or IP address) the inspector and the control API answer to in remote mode, as
    /// clients write it in the URL, without a port. Repeatable. Loopback names and the listen
    /// address are always served.
    #[arg(long = "public-host", value_name = "NAME", requires = "allow_remote")]
    pub public_hosts: Vec<String>,
    /// The control token the control API requires (Authorization: Bearer TOKEN), 16 to 256
    /// printable characters. In remote mode one is generated and printed when none is given.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "NEUX_SANDBOX_TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Mask the value of parameters named KEY (any case, at any depth) in the request log, the
    /// inspector and the control API, beyond the names always masked (secrets, tokens, card
    /// numbers, CVV, PIN, OTP, API keys, phone numbers). Repeatable: --mask-key email.
    #[arg(long = "mask-key", value_name = "KEY")]
    pub mask_keys: Vec<String>,
}

fn parse_app(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_owned(), secret.to_owned()))
        }
        _ => Err("expected CLIENT_ID:SECRET".to_owned()),
    }
}

/// Where and as whom to connect: shared by `login` and `call`.
#[derive(Debug, Args)]
pub(crate) struct ConnectArgs {
    /// The platform's base URL.
    #[arg(long, env = "NEUX_BASE_URL")]
    pub base_url: String,
    /// The mini app's client id.
    #[arg(long, env = "NEUX_CLIENT_ID")]
    pub client_id: String,
    /// Wire form: JSON with clientId, or form-urlencoded with appid.
    #[arg(long, value_enum, default_value = "json")]
    pub dialect: DialectArg,
    /// HTTP transport.
    #[arg(long, value_enum, default_value = "reqwest")]
    pub transport: TransportArg,
    /// The environment variable holding the app secret.
    #[arg(long, default_value = "NEUX_SECRET")]
    pub secret_env: String,
    /// Allow a plain-http base URL on a non-loopback host (codes travel unencrypted).
    #[arg(long)]
    pub allow_insecure_http: bool,
    /// A code ledger shared by every instance, so that a code reaches the platform at most
    /// once across them: redis://:PASSWORD@HOST:PORT/DB (password and database optional),
    /// rediss://..., redis+cluster://HOST:PORT,HOST:PORT, or
    /// redis+sentinel://SENTINEL:26379,SENTINEL:26379/MASTER. Prefer the variable: arguments
    /// show up in `ps`.
    #[arg(
        long,
        env = "NEUX_LEDGER_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub ledger: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The one-time code from wx.login(), or `-` to read it from stdin. Safer: set NEUX_CODE
    /// or pipe it in, since arguments show up in `ps`.
    #[arg(long, env = "NEUX_CODE", hide_env_values = true)]
    pub code: String,
    /// Scope to request, comma-separated.
    #[arg(long, default_value = "user.info")]
    pub scope: String,
    /// Print only the user's profile, as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The path below the base URL, e.g. /neuopenapi/sandbox/echo.
    pub path: String,
    /// A parameter: `key=text` sends text; `key:=json` sends a JSON integer, boolean, null
    /// or list (repeatable). The client adds the app id, timestamp and sign.
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A key whose value is a credential: masked in errors (repeatable; `code`,
    /// `accessToken`, `refreshToken` and `password` always are).
    #[arg(long = "sensitive", value_name = "KEY")]
    pub sensitive: Vec<String>,
    /// Retry it like an idempotent read (transport failures, HTTP 5xx).
    #[arg(long)]
    pub idempotent: bool,
    /// Print the `response` as one line of JSON instead of pretty-printed.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The environment variable holding the app secret.
    #[arg(long, default_value = "NEUX_SECRET")]
    pub secret_env: String,
    /// Also print the canonical string (secret masked) on stderr.
    #[arg(long)]
    pub explain: bool,
}
