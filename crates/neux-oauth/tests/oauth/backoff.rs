//! Backoff waits on the transport's timer, never on a thread of its own: a crowd of retrying
//! calls during an upstream outage costs timers, not threads.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use neux_oauth::{
    AsyncSleep, Dialect, Error, HttpRequest, HttpResponse, RetryPolicy, Transport, TransportConfig,
    TransportError, async_trait,
};
use neux_sandbox::{FaultRule, FaultSpec, FaultTiming};

/// The client's usual transport, counting the requests it was given and those it got an
/// answer to: on a loaded machine some attempts fail before reaching the sandbox's log (a full
/// listen backlog, a timeout), so the log alone cannot say how many were made.
#[derive(Debug)]
struct Counting {
    inner: Arc<dyn Transport>,
    sent: AtomicUsize,
    answered: AtomicUsize,
}

#[async_trait]
impl Transport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let answer = self.inner.send(request).await;
        if answer.is_ok() {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    fn sleeper(&self) -> Option<Arc<dyn AsyncSleep>> {
        self.inner.sleeper()
    }
}

/// This process's thread count (Linux).
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_retrying_calls_keep_the_thread_count_flat() {
    const CALLS: usize = 2_000;
    let sb = sandbox().await;
    let policy = RetryPolicy::default()
        .max_retries(2)
        .base_delay(Duration::from_millis(200))
        .max_delay(Duration::from_millis(400));
    let transport = Arc::new(Counting {
        inner: neux_transport::default_transport(
            // 2,000 requests at once queue at an unoptimised sandbox: on a loaded 2-core
            // machine the last wait seconds, and a 3 s timeout failed a quarter to three
            // quarters of the calls with transport errors instead of the 503.
            TransportConfig::default().timeout(Duration::from_secs(20)),
        )
        .unwrap(),
        sent: AtomicUsize::new(0),
        answered: AtomicUsize::new(0),
    });
    let client = builder(&sb, Dialect::Json)
        .shared_transport(transport.clone())
        .retry(policy)
        .build()
        .unwrap();
    let tokens = client
        .exchange_code(
            &mint(&sb, "user.info", Default::default()),
            &Default::default(),
        )
        .await
        .unwrap();
    // An upstream outage: every profile request answers 503, three attempts per call.
    sb.inject_fault(FaultRule {
        path: USER_PATH.into(),
        count: u32::try_from(CALLS * 3).unwrap(),
        fault: FaultSpec::Status { status: 503 },
        when: FaultTiming::Before,
    })
    .unwrap();

    let (sent_before, answered_before) = (
        transport.sent.load(Ordering::Relaxed),
        transport.answered.load(Ordering::Relaxed),
    );
    let before = threads();
    let peak = Arc::new(AtomicUsize::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(threads(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let (client, token) = (client.clone(), tokens.access_token().clone());
            tokio::spawn(async move { client.user_info(&token).await })
        })
        .collect();
    // A hang guard, above three timed-out attempts and the backoff (61 s), below nextest's
    // 2-minute kill.
    let results = tokio::time::timeout(Duration::from_secs(100), async {
        let mut out = Vec::with_capacity(CALLS);
        for c in calls {
            out.push(c.await.unwrap());
        }
        out
    })
    .await
    .expect("every call ends");
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();

    // Every call ends with a typed error: the 503 after its three attempts, or, when 2,000
    // connections at once overflow the listener's backlog on a loaded machine, a transport
    // error (also retried on the same timer).
    let mut unavailable = 0;
    for r in &results {
        match r {
            Err(Error::Http { status: 503, .. }) => unavailable += 1,
            Err(Error::Transport(_)) => {}
            other => panic!("not a typed 503 or transport error: {other:?}"),
        }
    }
    assert!(
        unavailable >= CALLS * 9 / 10,
        "only {unavailable} of {CALLS} calls reached the 503"
    );
    // Every call made its three attempts, whatever each one met; the sandbox logged every
    // attempt that was answered, and none that was not made.
    let sent = transport.sent.load(Ordering::Relaxed) - sent_before;
    let answered = transport.answered.load(Ordering::Relaxed) - answered_before;
    assert_eq!(sent, CALLS * 3, "attempts made by {CALLS} calls");
    let logged = requests_to(&sb, USER_PATH);
    assert!(
        answered <= logged && logged <= sent,
        "{logged} attempts logged, {answered} answered of {sent} sent"
    );
    let peak = peak.load(Ordering::Relaxed);
    // The sampler itself is one thread; allow a few for the runtime's own housekeeping.
    assert!(
        peak <= before + 8,
        "threads grew from {before} to {peak} during {CALLS} retrying calls"
    );
}
