//! What can go wrong starting or driving a sandbox.

use std::net::SocketAddr;

/// The sandbox could not start, or was asked for something it does not have.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// An app's client id or secret is unusable.
    #[error("invalid app: {0}")]
    InvalidApp(#[from] neux_proto::InvalidInput),
    /// No app was configured.
    #[error("a sandbox needs at least one app (client id and secret)")]
    NoApps,
    /// Binding the listening socket failed.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A profile field is longer than [`MAX_PROFILE_FIELD_BYTES`](crate::MAX_PROFILE_FIELD_BYTES).
    #[error("{0}")]
    ProfileTooLarge(String),
    /// The client id is not one of this sandbox's apps.
    #[error("no app with client id {0:?} in this sandbox")]
    UnknownClient(String),
    /// The operating system's random generator failed (keys and codes come from it).
    #[error("the OS random generator failed: {0}")]
    NoRandomness(String),
    /// Too many fault rules are armed already.
    #[error("{0}")]
    TooManyFaults(String),
    /// A non-loopback listen address without [`SandboxBuilder::allow_remote`](crate::SandboxBuilder::allow_remote).
    #[error(
        "refusing to listen on {0}: anyone who can reach the control API could mint codes and read the request log; listen on 127.0.0.1, or allow remote access on a network you trust (--allow-remote, which requires a control token)"
    )]
    RemoteRefused(SocketAddr),
    /// A control token that cannot be used ([`ControlToken::new`](crate::ControlToken::new)); the message never shows it.
    #[error("{0}")]
    BadControlToken(String),
    /// A [`SandboxBuilder::public_host`](crate::SandboxBuilder::public_host) that is not a host name or an IP address.
    #[error("public host {0:?} is not a host name or an IP address")]
    BadPublicHost(String),
}
