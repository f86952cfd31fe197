//! The request log's entries, and what a handler adds to them.

use neux_proto::Dialect;
use serde::{Deserialize, Serialize};

use crate::faults::FaultSpec;
use crate::reply::SignatureCheck;

/// One entry of the request log (`GET /sandbox/v1/requests`): secrets, codes and tokens appear
/// only as fingerprints (the first 8 hex digits of their SHA-256), so tests can count how many
/// times a code was presented without seeing it.
///
/// An entry is written when the request arrives, with what it presents, before any fault,
/// delay or handling; the answer's statuses are filled in when it is sent. A request whose
/// client hung up before the answer keeps `http_status: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LoggedRequest {
    /// Arrival order, from 1.
    #[serde(default)]
    pub seq: u64,
    /// Sandbox clock at arrival, Unix ms.
    pub at_ms: u64,
    /// HTTP method (its first 16 bytes).
    pub method: String,
    /// Path, without the query (its first 256 bytes).
    pub path: String,
    /// `json` or `form` for token calls.
    pub dialect: Option<String>,
    /// The client id, when the request named one (its first 64 bytes: it is logged before it
    /// is checked).
    pub client_id: Option<String>,
    /// Fingerprint of the presented code.
    pub code_fingerprint: Option<String>,
    /// Fingerprint of the presented access token.
    pub token_fingerprint: Option<String>,
    /// The HTTP status sent; `None` while the request is being handled, and for good when the
    /// client hung up first.
    pub http_status: Option<u16>,
    /// The envelope status sent, if an envelope was sent.
    pub api_status: Option<i64>,
    /// The fault injected, if any.
    pub fault: Option<FaultSpec>,
}

/// What a handler tells the request log (fingerprints only, never values).
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDetails {
    pub client_id: Option<String>,
    pub dialect: Option<Dialect>,
    pub code_fingerprint: Option<String>,
    pub token_fingerprint: Option<String>,
    /// The parameters a signed request carried, as the inspector shows them.
    pub params: Option<ShownParams>,
}

/// A request's parameters as the inspector shows them: in the order received, the first
/// [`SHOWN_PARAMS_MAX`](crate::limits::SHOWN_PARAMS_MAX) of them, each cut, sensitive values masked (`code` as its fingerprint).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ShownParams {
    pub shown: Vec<(String, String)>,
    /// How many the request carried.
    pub total: usize,
}

/// A request's detail beyond its log entry, kept for the latest
/// [`DETAIL_CAPACITY`](crate::limits::DETAIL_CAPACITY) requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct Detail {
    pub seq: u64,
    pub params: Option<ShownParams>,
    pub message: Option<String>,
    pub signature: Option<SignatureCheck>,
}

/// What an answer adds to its request's log entry and detail.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer {
    pub http_status: u16,
    pub api_status: Option<i64>,
    pub client_id: Option<String>,
    pub message: Option<String>,
    pub signature: Option<SignatureCheck>,
}
