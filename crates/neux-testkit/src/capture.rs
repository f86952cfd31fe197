//! A writer that keeps what is written to it, for asserting on log output.

use std::sync::{Arc, Mutex};

/// A `tracing` (or any `io::Write`) writer that keeps everything written to it; clones share
/// the text.
///
/// ```
/// use std::io::Write;
/// let capture = neux_testkit::Capture::default();
/// capture.clone().write_all(b"hello").unwrap();
/// assert_eq!(capture.text(), "hello");
/// ```
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
