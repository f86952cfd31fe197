//! The transports' edge: a panic in the HTTP stack underneath, provoked by what a server sent,
//! becomes an error of the request instead of unwinding into the caller's task.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;

use crate::error::{Cause, TransportError};

/// Runs `exchange`; a panic while polling it becomes [`TransportError::Interrupted`] (the request
/// may have been sent). surf's stack unwraps an ASCII check on every response header, so a
/// server (or a CDN in front of it) that sends `X-Edge: café` in raw UTF-8 panicked the caller.
#[cfg_attr(
    not(any(feature = "reqwest-client", feature = "surf")),
    allow(dead_code)
)]
pub(crate) async fn guarded<F>(
    origin: &str,
    exchange: F,
) -> Result<crate::HttpResponse, TransportError>
where
    F: Future<Output = Result<crate::HttpResponse, TransportError>>,
{
    let mut exchange = std::pin::pin!(exchange);
    std::future::poll_fn(|cx| {
        // The future is dropped right after a panic, never polled again, so no broken state of
        // it can be observed.
        match catch_unwind(AssertUnwindSafe(|| exchange.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => Poll::Ready(Err(TransportError::Interrupted {
                origin: origin.to_owned(),
                cause: Cause::from_text(
                    format!(
                        "the HTTP client panicked on the server's answer ({}); it may have been a malformed header",
                        message(payload.as_ref())
                    ),
                    None,
                ),
            })),
        }
    })
    .await
}

/// The text a panic carried, if it was text.
fn message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_interrupted_exchange() {
        let out = futures_lite_block_on(guarded("http://h", async {
            panic!("header is not ASCII");
        }));
        match out {
            Err(e @ TransportError::Interrupted { .. }) => {
                assert!(e.may_have_been_sent());
                assert!(e.to_string().contains("header is not ASCII"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A minimal executor: the futures here are ready at once.
    fn futures_lite_block_on<T>(f: impl Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("not ready"),
        }
    }
}
