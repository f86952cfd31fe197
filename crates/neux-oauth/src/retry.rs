//! Bounded exponential backoff with jitter, and the one retry loop.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use neux_transport::AsyncSleep;

use crate::error::Error;

/// How failed idempotent calls (`user_info`) are retried: on transport failures and HTTP 5xx,
/// never on an API status.
///
/// The delay before retry *n* (from 1) is a random duration in `[d/2, d]` where
/// `d = min(base * 2^(n-1), max)` ("equal jitter"), so a crowd of clients does not retry in step.
///
/// ```
/// use std::time::Duration;
/// use neux_oauth::RetryPolicy;
/// let policy = RetryPolicy::default().max_retries(3).base_delay(Duration::from_millis(50));
/// assert_eq!(RetryPolicy::none().max_retries_value(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 2 retries, 100 ms base delay, 2 s cap.
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// How many times to retry after the first attempt.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The delay before the first retry (before jitter).
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// The largest delay between two attempts.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The configured number of retries.
    pub fn max_retries_value(&self) -> u32 {
        self.max_retries
    }

    /// The delay before retry `n` (1-based), jitter included.
    pub(crate) fn delay(&self, n: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)));
        let d = exp.min(self.max_delay);
        let half = d / 2;
        half + half.mul_f64(unit_random())
    }
}

/// A number in [0, 1) from the OS-seeded keys of `RandomState`; good enough for jitter.
fn unit_random() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs `attempt` until it succeeds, fails with an error `may_retry` refuses, or the policy's
/// retries are spent, waiting the jittered backoff on `sleeper` between attempts. Returns the
/// last outcome and the number of attempts made. The one retry loop of the client.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: &RetryPolicy,
    sleeper: Option<&dyn AsyncSleep>,
    may_retry: impl Fn(&Error) -> bool,
    mut attempt: F,
) -> (Result<T, Error>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut made = 0;
    loop {
        made += 1;
        match attempt().await {
            // Without a timer (the builder allows that only with no retries) nothing is retried.
            Err(e) if made <= policy.max_retries && may_retry(&e) && sleeper.is_some() => {
                tracing::debug!(attempt = made, kind = e.kind(), "retrying");
                if let Some(sleeper) = sleeper {
                    sleeper.sleep(policy.delay(made)).await;
                }
            }
            other => return (other, made),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_are_capped_and_jittered_within_bounds() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(350));
        for _ in 0..50 {
            let d1 = p.delay(1);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d2 = p.delay(2);
            assert!(
                d2 >= Duration::from_millis(100) && d2 <= Duration::from_millis(200),
                "{d2:?}"
            );
            let d5 = p.delay(5);
            assert!(
                d5 >= Duration::from_millis(175) && d5 <= Duration::from_millis(350),
                "{d5:?}"
            );
        }
        // A huge attempt number saturates at the cap instead of overflowing.
        let huge = p.delay(40);
        assert!(
            huge >= Duration::from_millis(175) && huge <= Duration::from_millis(350),
            "{huge:?}"
        );
    }

    #[test]
    fn jitter_varies() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(1));
        let samples: std::collections::HashSet<_> = (0..20).map(|_| p.delay(1)).collect();
        assert!(samples.len() > 1, "no jitter");
    }
}
