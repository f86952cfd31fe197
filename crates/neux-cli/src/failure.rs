//! How a command fails: a stable kind for scripts, one line for people.

/// A failure: a stable kind for scripts and a one-line message for people.
#[derive(Debug)]
pub(crate) struct Failure {
    pub kind: &'static str,
    pub message: String,
}

impl Failure {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> Self {
        // One line, whatever the cause's formatting.
        let message = message.into().replace(['\n', '\r'], " ");
        Self { kind, message }
    }
}

impl From<neux_oauth::Error> for Failure {
    fn from(e: neux_oauth::Error) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}
