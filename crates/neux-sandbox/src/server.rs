//! A running sandbox: driving it and stopping it.

use std::net::SocketAddr;

use neux_proto::{AuthCode, ClientId, OpenId, Scope};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::control;
use crate::error::SandboxError;
use crate::faults::FaultRule;
use crate::log::LoggedRequest;
use crate::remote::ControlToken;
use crate::state::{Emulator, UserSpec};

/// The sizes of a sandbox's tables ([`Sandbox::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxStats {
    /// Codes remembered (live, spent and expired until they are swept).
    pub codes: usize,
    /// Codes that can still be exchanged: neither spent nor expired.
    pub live_codes: usize,
    /// Codes minted since the sandbox started.
    pub minted_codes: u64,
    /// User profiles (at most [`SandboxBuilder::profile_capacity`](crate::SandboxBuilder::profile_capacity)).
    pub profiles: usize,
    /// Fault rules armed (at most 1,000).
    pub armed_faults: usize,
    /// Entries in the request log (at most [`SandboxBuilder::request_log_capacity`](crate::SandboxBuilder::request_log_capacity)).
    pub logged_requests: usize,
}

/// A code minted through [`Sandbox::mint_code`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MintedCode {
    /// The one-time code to hand to the backend under test.
    pub code: AuthCode,
    /// The openId the user will have in this app.
    pub open_id: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
}

/// A running sandbox. Stops when [`shutdown`](Self::shutdown) is awaited or when dropped.
#[derive(Debug)]
pub struct Sandbox {
    pub(crate) base_url: String,
    pub(crate) addr: SocketAddr,
    pub(crate) emu: Emulator,
    pub(crate) shutdown: Option<oneshot::Sender<()>>,
    pub(crate) task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// `http://127.0.0.1:PORT`: the base URL to give a client.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Mints a one-time code without going through HTTP.
    pub fn mint_code(
        &self,
        client_id: &ClientId,
        scope: Scope,
        user: UserSpec,
    ) -> Result<MintedCode, SandboxError> {
        if !control::known(&self.emu, client_id) {
            return Err(SandboxError::UnknownClient(client_id.to_string()));
        }
        if let Some((field, len)) = user.oversized_field() {
            return Err(SandboxError::ProfileTooLarge(control::oversized(
                field, len,
            )));
        }
        let (code, open_id) = self.emu.mint_code(client_id.as_str(), scope, user);
        Ok(MintedCode {
            // Codes are UUID-shaped: never empty, never control characters.
            code: AuthCode::new(code).map_err(SandboxError::InvalidApp)?,
            open_id,
            expires_in: self.emu.settings.code_ttl.as_secs(),
        })
    }

    /// The openId a user with `user_id` has in `client_id` (stable across runs).
    pub fn open_id_for(&self, client_id: &ClientId, user_id: &str) -> Option<OpenId> {
        OpenId::new(crate::state::derived_open_id(client_id.as_str(), user_id)).ok()
    }

    /// Disarms every fault rule (what `DELETE /sandbox/v1/faults` does).
    pub fn clear_faults(&self) {
        self.emu.clear_faults();
    }

    /// Arms a fault, as `POST /sandbox/v1/faults` does. At most 1,000 rules are armed at once
    /// (a rule's `count` is not limited).
    pub fn inject_fault(&self, rule: FaultRule) -> Result<(), SandboxError> {
        self.emu
            .arm_fault(rule)
            .map_err(SandboxError::TooManyFaults)
    }

    /// How much the sandbox holds: every table is bounded, and this shows by how much.
    pub fn stats(&self) -> SandboxStats {
        let live_codes = self.emu.live_codes();
        let t = self.emu.tables();
        SandboxStats {
            codes: t.codes.len(),
            live_codes,
            minted_codes: t.counter,
            profiles: t.profiles.len(),
            armed_faults: t.faults.len(),
            logged_requests: t.log.len(),
        }
    }

    /// The request log, oldest first, as `GET /sandbox/v1/requests` returns it.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emu.tables().log.iter().cloned().collect()
    }

    /// Empties the request log, as `DELETE /sandbox/v1/requests` does; returns how many
    /// entries it held. Later requests go on numbering from where the log was.
    pub fn clear_requests(&self) -> usize {
        self.emu.clear_log()
    }

    /// `http://127.0.0.1:PORT/`: the inspector page, to open in a browser on this machine.
    /// With a control token, the URL carries it in its fragment (`#token=...`), which the
    /// browser never sends; the page keeps it for the tab and takes it out of the address bar.
    pub fn inspector_url(&self) -> String {
        match self.control_token() {
            Some(token) => format!("{}/#token={}", self.base_url, token.expose()),
            None => format!("{}/", self.base_url),
        }
    }

    /// The token the control API requires, if any: always in remote mode.
    pub fn control_token(&self) -> Option<&ControlToken> {
        self.emu.settings.access.token.as_ref()
    }

    /// Stops accepting connections and waits for the server task to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
