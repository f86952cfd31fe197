//! Waiting between retries on the timer of the runtime the transport already uses.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future that completes after a delay.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Sleeps without holding a thread: the backoff between two retries.
///
/// A transport offers the timer of the runtime it runs on through
/// [`Transport::sleeper`](crate::Transport::sleeper) (tokio's for reqwest, async-io's for surf),
/// so a crowd of retrying calls costs timers, not threads. Implement it to bring another
/// runtime's timer.
///
/// ```
/// use std::time::Duration;
/// use neux_transport::{AsyncSleep, Sleep};
///
/// /// Never waits: retries run back to back (scripted tests).
/// #[derive(Debug)]
/// struct NoWait;
///
/// impl AsyncSleep for NoWait {
///     fn sleep(&self, _: Duration) -> Sleep {
///         Box::pin(std::future::ready(()))
///     }
/// }
/// # futures_lite::future::block_on(NoWait.sleep(Duration::from_secs(60)));
/// ```
pub trait AsyncSleep: Send + Sync + std::fmt::Debug {
    /// A future that completes once `duration` has passed.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// tokio's timer (feature `tokio`, on with `reqwest`). Needs a tokio runtime with time enabled.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use neux_transport::{AsyncSleep, TokioSleep};
/// TokioSleep.sleep(Duration::from_millis(1)).await;
/// # }
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl AsyncSleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// async-io's timer (feature `surf`): works under any executor; its reactor runs on one thread
/// shared by every timer in the process.
///
/// ```
/// use std::time::Duration;
/// use neux_transport::{AsyncIoSleep, AsyncSleep};
/// futures_lite::future::block_on(AsyncIoSleep.sleep(Duration::from_millis(1)));
/// ```
#[cfg(feature = "surf")]
#[cfg_attr(docsrs, doc(cfg(feature = "surf")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIoSleep;

#[cfg(feature = "surf")]
impl AsyncSleep for AsyncIoSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(async move {
            async_io::Timer::after(duration).await;
        })
    }
}
