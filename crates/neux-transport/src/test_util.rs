//! A scripted transport for tests (feature `test-util`): it records every request and answers
//! with the responses it was given, in order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{Cause, TransportError};
use crate::{AsyncSleep, HttpRequest, HttpResponse, Sleep, Transport, async_trait};

/// One scripted answer.
#[derive(Debug)]
pub enum Reply {
    /// Answer with this response.
    Response(HttpResponse),
    /// Fail with this error.
    Error(TransportError),
}

/// Records requests and replays scripted replies. Clones share the same script and record.
///
/// When the script runs out, `send` fails with [`TransportError::Connect`] (nothing sent) and
/// the request is still recorded, so a test sees the unexpected call.
///
/// Its [`sleeper`](Transport::sleeper) does not wait: a client's backoff between retries
/// completes at once and is recorded ([`sleeps`](Self::sleeps)), so scripted retry tests run
/// instantly and can still check the delays asked for.
///
/// ```
/// use neux_transport::test_util::MockTransport;
/// use neux_transport::Transport;
/// # futures_lite::future::block_on(async {
/// let mock = MockTransport::new();
/// mock.push_json(200, r#"{"ok":true}"#);
/// let response = mock.send(http::Request::get("http://127.0.0.1/x").body(Vec::new()).unwrap()).await.unwrap();
/// assert_eq!(response.body(), br#"{"ok":true}"#);
/// assert_eq!(mock.requests()[0].uri().path(), "/x");
/// # });
/// ```
#[derive(Clone, Default)]
pub struct MockTransport {
    inner: Arc<Mutex<State>>,
}

// Recorded requests carry codes in bodies and tokens in URLs: `Debug` shows counts only.
impl std::fmt::Debug for MockTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("MockTransport")
            .field("requests", &state.requests.len())
            .field("replies_left", &state.replies.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    replies: VecDeque<Reply>,
    requests: Vec<HttpRequest>,
    sleeps: Vec<Duration>,
}

impl MockTransport {
    /// A transport with an empty script.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the state half-written: recover it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a response.
    pub fn push_response(&self, response: HttpResponse) {
        self.state().replies.push_back(Reply::Response(response));
    }

    /// Queues a response with `status` and a JSON body.
    pub fn push_json(&self, status: u16, body: &str) {
        let mut response = http::Response::new(body.as_bytes().to_vec());
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        self.push_response(response);
    }

    /// Queues an error.
    pub fn push_error(&self, error: TransportError) {
        self.state().replies.push_back(Reply::Error(error));
    }

    /// Every request sent so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.state().requests.clone()
    }

    /// How many scripted replies are left.
    pub fn remaining(&self) -> usize {
        self.state().replies.len()
    }

    /// Every backoff delay a client asked this transport's sleeper for, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state().sleeps.clone()
    }
}

impl AsyncSleep for MockTransport {
    fn sleep(&self, duration: Duration) -> Sleep {
        self.state().sleeps.push(duration);
        Box::pin(std::future::ready(()))
    }
}

#[async_trait]
impl Transport for MockTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut state = self.state();
        state.requests.push(request);
        match state.replies.pop_front() {
            Some(Reply::Response(r)) => Ok(r),
            Some(Reply::Error(e)) => Err(e),
            None => Err(TransportError::Connect {
                origin: "mock://".into(),
                cause: Cause::from_text("the mock transport's script is empty".into(), None),
            }),
        }
    }

    fn sleeper(&self) -> Option<Arc<dyn AsyncSleep>> {
        Some(Arc::new(self.clone()))
    }
}
