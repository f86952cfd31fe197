//! How a command fails: a stable kind for scripts, a line for people (and, for a refused
//! signature, the string that was signed on a line of its own).

/// A failure: a stable kind for scripts, a one-line message for people, and lines of detail.
#[derive(Debug)]
pub(crate) struct Failure {
    pub kind: &'static str,
    pub message: String,
    /// Lines printed after the message, indented.
    pub details: Vec<String>,
}

impl Failure {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        // One line, whatever the cause's formatting.
        let message = message.into().replace(['\n', '\r'], " ");
        Self {
            kind,
            message,
            details: Vec::new(),
        }
    }
}

impl From<neux_oauth::Error> for Failure {
    fn from(e: neux_oauth::Error) -> Self {
        let mut failure = Self::new(e.kind(), e.to_string());
        if let Some(signed) = e.signed_string() {
            failure.details.push(format!("signed: {signed}"));
        }
        failure
    }
}
