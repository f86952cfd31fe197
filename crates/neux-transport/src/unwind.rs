//! The transports' edge: a panic in the HTTP stack underneath, provoked by what a server sent,
//! becomes an error of the request instead of unwinding into the caller's task.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Once;
use std::task::Poll;

use crate::error::{Cause, TransportError};

/// Runs `exchange`; a panic while polling it becomes [`TransportError::Interrupted`] (the request
/// may have been sent). surf's stack unwraps an ASCII check on every response header, so a
/// server (or a CDN in front of it) that sends `X-Edge: café` in raw UTF-8 panicked the caller.
#[cfg_attr(
    not(any(feature = "reqwest-client", feature = "surf")),
    allow(dead_code)
)]
///
/// It takes the exchange pinned by the caller, not by value: an `async fn` keeps a future it
/// is given as its argument and again as the local it pins, twice its size (the reqwest
/// exchange is 1.2 kB), and every move of the request's future copies all of it.
pub(crate) async fn guarded<F>(
    origin: &str,
    mut exchange: Pin<&mut F>,
) -> Result<crate::HttpResponse, TransportError>
where
    F: Future<Output = Result<crate::HttpResponse, TransportError>>,
{
    quiet_hook();
    std::future::poll_fn(|cx| {
        // The future is dropped right after a panic, never polled again, so no broken state of
        // it can be observed. While it is polled, a panic on this thread is this function's to
        // report, as an error, not the panic hook's to print.
        let was = QUIET.replace(true);
        let polled = catch_unwind(AssertUnwindSafe(|| exchange.as_mut().poll(cx)));
        QUIET.set(was);
        match polled {
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

thread_local! {
    /// Set while this thread polls a guarded exchange.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Puts a panic hook in front of the process's own, once: a panic on a thread that is polling a
/// guarded exchange prints nothing (it is caught and becomes the request's error); every other
/// panic goes to the hook that was there before, unchanged. The flag is per thread, so tasks
/// polled on other threads at the same moment keep their panics' reports. (A hook installed
/// later by the application replaces this one, and such panics print again.)
fn quiet_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.get() {
                previous(info);
            }
        }));
    });
}

/// The text a panic carried, if it was text: its first line, at most 160 characters (a
/// library's `unwrap` of an error can carry the error's whole backtrace).
fn message(payload: &(dyn Any + Send)) -> &str {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    let line = text.lines().next().unwrap_or("").trim();
    let line = line.split(" Backtrace").next().unwrap_or(line);
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_interrupted_exchange() {
        let exchange = std::pin::pin!(async {
            panic!("header is not ASCII");
        });
        let out = futures_lite_block_on(guarded("http://h", exchange));
        match out {
            Err(e @ TransportError::Interrupted { .. }) => {
                assert!(e.may_have_been_sent());
                assert!(e.to_string().contains("header is not ASCII"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_panics_text_is_one_short_line() {
        let long = format!(
            "called `Result::unwrap()` on an `Err` value: header {}\nstack backtrace:\n   0: x",
            "x".repeat(500)
        );
        let exchange = std::pin::pin!(async move {
            panic!("{long}");
        });
        let out = futures_lite_block_on(guarded("http://h", exchange));
        let text = out.unwrap_err().to_string();
        assert!(
            !text.contains('\n') && !text.contains("backtrace"),
            "{text}"
        );
        assert!(text.len() < 400, "{}", text.len());
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
