//! A transport wrapper that keeps the last request body it sent, so the demo can show the
//! signature that really went out. (Also a small example of plugging into `Transport`.)

use std::sync::{Arc, Mutex};

use neux_oauth::{HttpRequest, HttpResponse, Transport, TransportError, async_trait};

#[derive(Debug, Clone)]
pub(crate) struct Recording {
    inner: Arc<dyn Transport>,
    last_body: Arc<Mutex<Vec<u8>>>,
}

impl Recording {
    pub(crate) fn new(inner: Arc<dyn Transport>) -> Self {
        Self {
            inner,
            last_body: Arc::default(),
        }
    }

    /// The `sign` field of the last request body (JSON or form), if it had one.
    pub(crate) fn last_sign(&self) -> Option<String> {
        let body = self.last_body.lock().ok()?.clone();
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
            return v.get("sign")?.as_str().map(str::to_owned);
        }
        let text = String::from_utf8(body).ok()?;
        text.split('&')
            .find_map(|kv| kv.strip_prefix("sign="))
            .map(str::to_owned)
    }
}

#[async_trait]
impl Transport for Recording {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Ok(mut last) = self.last_body.lock() {
            last.clone_from(request.body());
        }
        self.inner.send(request).await
    }

    // A wrapper must pass its inner transport's timer on, or the client has none for backoff.
    fn sleeper(&self) -> Option<std::sync::Arc<dyn neux_oauth::AsyncSleep>> {
        self.inner.sleeper()
    }
}
