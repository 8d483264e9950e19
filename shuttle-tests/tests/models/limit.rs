//! The adaptive limiter with many tasks: AIMD between 1 and a small
//! maximum, each task acquiring (some giving up while queued, in a race
//! against a yield) and ending its call with a success, a drop, or no
//! verdict, while the clock jumps past AIMD's timeout now and then. So
//! successes below half the limit end without the lock, the others take
//! it, and the limit moves both ways with slots in use. At the end of
//! every schedule every drop and ignored token is counted, nothing is in
//! flight, and the slots are exactly the final limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sluicegate::limit::{AdaptiveLimiter, Aimd};
use sluicegate::time::ManualClock;
use sluicegate_shuttle_tests::{check, choose, join_all, or_lose, spawn, yield_now};

const MAX: usize = 6;
const TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Tally {
    in_use: AtomicUsize,
    dropped: AtomicUsize,
    ignored: AtomicUsize,
}

fn churn(tasks: usize, rounds: usize) {
    let clock = ManualClock::new();
    let limiter: &'static AdaptiveLimiter<Aimd, ManualClock> =
        Box::leak(Box::new(AdaptiveLimiter::new(
            clock.clone(),
            Aimd::new()
                .limits(1, MAX)
                .initial_limit(1 + choose(MAX))
                .timeout(TIMEOUT),
        )));
    let tally = Arc::new(Tally::default());
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (tally, clock) = (tally.clone(), clock.clone());
            spawn(async move {
                for _ in 0..rounds {
                    let token = if choose(4) == 0 {
                        // Gives up if not admitted by the next yield.
                        match or_lose(limiter.acquire(), yield_now()).await {
                            Some(t) => t,
                            None => continue,
                        }
                    } else {
                        limiter.acquire().await
                    };
                    let now = tally.in_use.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= MAX, "{now} calls in flight, over the maximum {MAX}");
                    if choose(5) == 0 {
                        clock.advance(2 * TIMEOUT); // this call, and others, too slow
                    }
                    yield_now().await;
                    tally.in_use.fetch_sub(1, Ordering::SeqCst);
                    match choose(3) {
                        0 => token.success(),
                        1 => {
                            token.dropped();
                            tally.dropped.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {
                            drop(token);
                            tally.ignored.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    join_all(handles);
    let m = limiter.metrics();
    assert_eq!(m.in_flight, 0, "{m:?}");
    assert_eq!(
        (m.dropped, m.ignored),
        (
            tally.dropped.load(Ordering::SeqCst),
            tally.ignored.load(Ordering::SeqCst)
        ),
        "{m:?}"
    );
    assert!((1..=MAX).contains(&m.limit), "{m:?}");
    let all: Vec<_> = (0..m.limit)
        .map(|_| limiter.try_acquire().expect("a slot short of the limit"))
        .collect();
    assert!(
        limiter.try_acquire().is_err(),
        "a slot over the limit: {m:?}"
    );
    drop(all);
}

#[test]
fn adaptive_limiter_churn_16_tasks_accounts_for_every_call_and_slot() {
    check("adaptive-16", 1000, || churn(16, 4));
}

#[test]
fn adaptive_limiter_churn_48_tasks_accounts_for_every_call_and_slot() {
    check("adaptive-48", 300, || churn(48, 3));
}
