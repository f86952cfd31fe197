//! What can go wrong in a login, told so the caller knows what happened and what to do.

use std::time::Duration;

use neux_proto::{ApiStatus, DecodeError, status};
use neux_transport::TransportError;

use crate::mask::Mask;
use crate::token::TokenSet;

/// How far the server's clock was from ours when it refused a timestamp, measured from its
/// `Date` header (one-second resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skew {
    /// The size of the difference.
    pub by: Duration,
    /// `true` when our clock is ahead of the server's.
    pub local_ahead: bool,
}

impl std::fmt::Display for Skew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this host's clock is {} s {} the server's",
            self.by.as_secs(),
            if self.local_ahead {
                "ahead of"
            } else {
                "behind"
            }
        )
    }
}

/// A login step failed.
///
/// Each variant says what happened; the helpers say what to do:
/// [`is_retryable`](Self::is_retryable) (the same call may succeed later),
/// [`needs_new_code`](Self::needs_new_code) (ask the mini app for a fresh `wx.login()` code), and
/// [`request_may_have_been_sent`](Self::request_may_have_been_sent). No variant's text contains
/// the app secret, a code or an access token.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform refused the code: unknown, already used, expired, or issued to another app.
    /// Ask the mini app for a new one. (The platform documents no statuses for this; those of
    /// neux-sandbox are recognised, see [`ClientBuilder::code_rejection_statuses`](crate::ClientBuilder::code_rejection_statuses).)
    #[error(
        "the platform refused the code (status {status}): {message:?}; ask the mini app for a new code"
    )]
    CodeRejected {
        /// The envelope status.
        status: ApiStatus,
        /// The platform's message, unchanged.
        message: String,
    },
    /// Status 2000: the signature did not verify. Check the app secret, the client id, and the
    /// dialect (`clientId` vs `appid`).
    #[error("{}", signature_text(message, *dialect, canonical))]
    SignatureRejected {
        /// The platform's message, unchanged.
        message: String,
        /// The dialect used.
        dialect: neux_proto::Dialect,
        /// What we signed, with the secret and the code masked.
        canonical: String,
    },
    /// Status 2001: the timestamp was outside the server's window. Almost always clock skew:
    /// sync this host's clock (NTP).
    #[error("{}: {message:?}; {}", refused(status::TIMESTAMP_OUT_OF_WINDOW), match .skew { Some(s) => format!("{s}; sync this host's clock"), None => hint(status::TIMESTAMP_OUT_OF_WINDOW).to_owned() })]
    ClockSkew {
        /// The platform's message, unchanged.
        message: String,
        /// The skew measured from the server's `Date` header, when it sent one.
        skew: Option<Skew>,
    },
    /// Status 2002: the user has not opened the interface to this mini app.
    #[error(
        "{}: {message:?}; {}",
        refused(status::NOT_AUTHORIZED),
        hint(status::NOT_AUTHORIZED)
    )]
    NotAuthorized {
        /// The platform's message, unchanged.
        message: String,
    },
    /// Any other non-200 envelope status, carried through unchanged.
    #[error("the platform answered status {status}: {message:?}")]
    Api {
        /// The envelope status.
        status: ApiStatus,
        /// The platform's message, unchanged.
        message: String,
    },
    /// An HTTP error status without the platform's envelope (a proxy's 502 page, say).
    #[error("HTTP {status} without the platform's envelope (body starts: {excerpt:?})")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body, token-like runs masked.
        excerpt: String,
    },
    /// A signed call could not be built: its path or parameters are unusable (a key the client
    /// adds itself, such as `sign` or `appid`, or a value with no agreed text form). **Nothing
    /// was sent.**
    #[error("invalid call: {0}")]
    InvalidCall(String),
    /// The code was presented before: concurrently, earlier, or in a call that was cancelled or
    /// timed out after it may have sent it. [`SeenBy`] says who knew. The tokens of a code go
    /// only to the call that sent it; ask the mini app for a new code (`wx.login()`).
    #[error("{}", presented_text(by))]
    CodeAlreadyPresented {
        /// Who knew: the code ledger (nothing was sent), or the platform (it was sent).
        by: SeenBy,
    },
    /// The [`CodeLedger`](crate::CodeLedger) could not record the code: it was full, or a
    /// shared store did not answer. **Nothing was sent**, and the code is still unspent.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// [`login`](crate::Client::login) exchanged the code, then reading the profile failed. The
    /// code is spent, but the tokens are not lost: they are here, so the caller can retry
    /// [`user_info`](crate::Client::user_info) alone with [`tokens`](Self::tokens).
    #[error(
        "the code was exchanged, but reading the profile failed: {error}; retry user_info with the tokens this error carries (the code is spent)"
    )]
    LoginIncomplete {
        /// The tokens the exchange yielded (`Debug` shows the token as `[REDACTED]`).
        tokens: Box<TokenSet>,
        /// Why reading the profile failed.
        #[source]
        error: Box<Error>,
    },
    /// The request could not be completed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The answer was not what the platform sends.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// Who knew that a code had been presented before ([`Error::CodeAlreadyPresented`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeenBy {
    /// The code ledger: a client sharing it presented the code already. **Nothing was sent.**
    Ledger,
    /// The platform: it refused the code as already used (one of
    /// [`ClientBuilder::code_used_statuses`](crate::ClientBuilder::code_used_statuses)). The
    /// request was sent. This happens when a client outside the ledger presented the code, or
    /// when a shared ledger lost a claim (a Redis failover: docs/deploying.md).
    Platform {
        /// The envelope status.
        status: ApiStatus,
        /// The platform's message, unchanged.
        message: String,
    },
}

fn presented_text(by: &SeenBy) -> String {
    match by {
        SeenBy::Ledger => "this code was presented already (a code is sent at most once), so it was not sent again; ask the mini app for a new code".to_owned(),
        SeenBy::Platform { status, message } => format!(
            "the platform refused the code as already used (status {status}): {message:?}; ask the mini app for a new code"
        ),
    }
}

/// The 2000 message, verdict first. When the server shows the string it expected and that
/// string is the one we signed (both with the secret masked), the parameters agree and only the
/// secret can differ: say that. The string we signed is not repeated here (it is long):
/// [`Error::signed_string`] has it, and the CLI shows it on a line of its own.
fn signature_text(message: &str, dialect: neux_proto::Dialect, canonical: &str) -> String {
    let refused = refused(status::SIGNATURE_REJECTED);
    if !canonical.is_empty() && message.contains(canonical) {
        format!(
            "{refused}: the app secret differs (the server expected exactly the string we signed); check the secret you configured (NEUX_SECRET)"
        )
    } else {
        format!(
            "{refused}: {message:?}; {} (this client uses {dialect})",
            hint(status::SIGNATURE_REJECTED)
        )
    }
}

/// "MEANING (status N)", from the status table.
fn refused(s: ApiStatus) -> String {
    let meaning = status::info(s).map_or("refused", |row| row.meaning);
    format!("{meaning} (status {s})")
}

/// What to check for a documented status, from the status table.
fn hint(s: ApiStatus) -> &'static str {
    status::info(s).and_then(|row| row.hint).unwrap_or("")
}

impl Error {
    /// Whether the same call may succeed if made again as it is: for an idempotent call
    /// (`user_info`), exactly the failures the client itself retries there (transport failures
    /// other than a bad request, an oversized answer or no transport, and HTTP 5xx pages); for
    /// any call, a [`Ledger`](Self::Ledger) that could not answer (nothing was sent). API
    /// statuses are answers, not accidents: a 2001 needs the clock fixed first. An
    /// `exchange_code` is never sent again once it may have reached the server: see
    /// [`needs_new_code`](Self::needs_new_code).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(t) => !matches!(
                t,
                TransportError::InvalidRequest { .. }
                    | TransportError::BodyTooLarge { .. }
                    | TransportError::Unavailable { .. }
            ),
            Self::Http { status, .. } => *status >= 500,
            // Nothing was sent: the same call may find the ledger able to answer later (but
            // not a store set up to forget codes: that needs its setting changed first).
            Self::Ledger(e) => !e.is_unsafe(),
            _ => false,
        }
    }

    /// Whether the request may have reached the server (so a one-time code in it may be spent).
    pub fn request_may_have_been_sent(&self) -> bool {
        match self {
            Self::Transport(e) => e.may_have_been_sent(),
            Self::CodeAlreadyPresented { by } => *by != SeenBy::Ledger,
            Self::Ledger(_) | Self::InvalidCall(_) => false,
            _ => true,
        }
    }

    /// Whether the code of a failed `exchange_code` or `login` can no longer be used: it was
    /// refused, it may have reached the server (a code is presented at most once, whatever the
    /// answer), or it was presented before. Ask the mini app for a new one. For a
    /// [`LoginIncomplete`](Self::LoginIncomplete) the code is spent too, but its tokens are in
    /// the error: retry [`user_info`](crate::Client::user_info) with them first.
    pub fn needs_new_code(&self) -> bool {
        match self {
            Self::CodeRejected { .. }
            | Self::CodeAlreadyPresented { .. }
            | Self::LoginIncomplete { .. } => true,
            // Nothing was sent and nothing recorded: the same code may be tried again.
            Self::Ledger(_) | Self::InvalidCall(_) => false,
            Self::Transport(e) => e.may_have_been_sent(),
            // Any answer means the code reached the server, which may have spent it.
            Self::SignatureRejected { .. }
            | Self::ClockSkew { .. }
            | Self::NotAuthorized { .. }
            | Self::Api { .. }
            | Self::Http { .. }
            | Self::Decode(_) => true,
        }
    }

    /// The tokens of a [`login`](crate::Client::login) whose exchange succeeded before the
    /// profile failed ([`LoginIncomplete`](Self::LoginIncomplete)): retry `user_info` with them.
    pub fn tokens(&self) -> Option<&TokenSet> {
        match self {
            Self::LoginIncomplete { tokens, .. } => Some(tokens),
            _ => None,
        }
    }

    /// For a refused signature (2000), the canonical string that was signed, with the secret
    /// and every sensitive value masked: compare it with what the server expected.
    pub fn signed_string(&self) -> Option<&str> {
        match self {
            Self::SignatureRejected { canonical, .. } => Some(canonical),
            _ => None,
        }
    }

    /// A short, stable name for the kind of error (for logs, metrics and the CLI).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CodeRejected { .. } => "code_rejected",
            Self::SignatureRejected { .. } => "signature_rejected",
            Self::ClockSkew { .. } => "clock_skew",
            Self::NotAuthorized { .. } => "not_authorized",
            Self::Api { .. } => "api",
            Self::Http { .. } => "http",
            Self::CodeAlreadyPresented { .. } => "code_already_presented",
            Self::Ledger(e) if e.is_full() => "ledger_full",
            Self::Ledger(e) if e.is_unsafe() => "ledger_unsafe",
            Self::Ledger(_) => "ledger_unavailable",
            Self::LoginIncomplete { .. } => "login_incomplete",
            Self::InvalidCall(_) => "invalid_call",
            Self::Transport(_) => "transport",
            Self::Decode(_) => "decode",
        }
    }
}

impl Error {
    /// Masks every form of every value in `mask` in every text the error carries (a server's
    /// message, an excerpt of its body, a lower layer's cause).
    pub(crate) fn scrub(self, mask: &Mask) -> Self {
        let m = |s: String| mask.apply(&s);
        match self {
            Self::CodeRejected { status, message } => Self::CodeRejected {
                status,
                message: m(message),
            },
            Self::SignatureRejected {
                message,
                dialect,
                canonical,
            } => Self::SignatureRejected {
                message: m(message),
                dialect,
                canonical: m(canonical),
            },
            Self::ClockSkew { message, skew } => Self::ClockSkew {
                message: m(message),
                skew,
            },
            Self::NotAuthorized { message } => Self::NotAuthorized {
                message: m(message),
            },
            Self::Api { status, message } => Self::Api {
                status,
                message: m(message),
            },
            Self::Http { status, excerpt } => Self::Http {
                status,
                excerpt: m(excerpt),
            },
            Self::InvalidCall(text) => Self::InvalidCall(m(text)),
            Self::CodeAlreadyPresented {
                by: SeenBy::Platform { status, message },
            } => Self::CodeAlreadyPresented {
                by: SeenBy::Platform {
                    status,
                    message: m(message),
                },
            },
            Self::LoginIncomplete { tokens, error } => Self::LoginIncomplete {
                tokens,
                error: Box::new(error.scrub(mask)),
            },
            Self::Transport(e) => Self::Transport(e.map_text(|t| mask.apply(t))),
            Self::Decode(d) => Self::Decode(d.map_text(|t| mask.apply(t))),
            other @ (Self::CodeAlreadyPresented { .. } | Self::Ledger(_)) => other,
        }
    }
}

/// A [`Client`](crate::Client) could not be built. Names the setting or variable at fault, never
/// the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required setting was not given.
    #[error("missing setting `{0}`")]
    Missing(&'static str),
    /// An environment variable was not set (or not Unicode).
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// A setting's value is unusable.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The setting (or environment variable).
        field: &'static str,
        /// Why.
        reason: String,
    },
}
