//! Writing to stdout/stderr without panicking (a closed pipe is not a crash), and failures.

use std::io::Write;

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

/// Writes a line to stdout and flushes it (scripts may wait on it).
pub(crate) fn println(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Writes a line to stderr.
pub(crate) fn eprintln(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Reads a secret from `var`, naming the variable (never the value) on failure.
pub(crate) fn secret_from_env(var: &str) -> Result<String, Failure> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(Failure::new(
            "config",
            format!("environment variable {var} is empty"),
        )),
        Err(_) => Err(Failure::new(
            "config",
            format!(
                "environment variable {var} is not set (the secret is read from the environment, never from an argument)"
            ),
        )),
    }
}

/// Milliseconds with one decimal, for step timings.
pub(crate) fn ms(d: std::time::Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
