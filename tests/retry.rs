//! `retry`: the runner under every executor, in virtual time.
mod common;

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::poll::polled;
use futures_lite::future::yield_now;
use sluicegate::retry::{Backoff, Retry, RetryBudget, RetryPolicy, StopReason};
use sluicegate::time::ManualClock;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// An operation that fails `failures` times, then succeeds with the attempt
/// number; counts its calls.
fn flaky(
    failures: u32,
    calls: Arc<AtomicU32>,
) -> impl FnMut() -> std::future::Ready<Result<u32, &'static str>> {
    move || {
        let n = calls.fetch_add(1, SeqCst) + 1;
        std::future::ready(if n <= failures {
            Err("unavailable")
        } else {
            Ok(n)
        })
    }
}

/// Advances `clock` to each deadline a task sleeps on, until `done` is set.
async fn drive(clock: &ManualClock, done: &AtomicBool) {
    while !done.load(SeqCst) {
        if clock.pending_sleeps() > 0 {
            clock.advance_to_next_deadline();
        }
        yield_now().await;
    }
}

#[test]
fn succeeds_after_transient_failures_having_waited_the_backoff() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let calls = Arc::new(AtomicU32::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (c, d, k) = (clock.clone(), done.clone(), calls.clone());
        let task = ex.spawn(async move {
            let policy = RetryPolicy::new(Backoff::exponential(ms(100))).max_attempts(5);
            let r = Retry::new(policy, &c).run(flaky(3, k)).await;
            d.store(true, SeqCst);
            (r, c.now())
        });
        drive(&clock, &done).await;
        let (result, finished_at) = task.await;
        assert_eq!(result, Ok(4));
        assert_eq!(calls.load(SeqCst), 4);
        assert_eq!(finished_at, ms(100 + 200 + 400), "under {}", ex.name());
    });
}

#[test]
fn max_attempts_counts_the_first_call() {
    common::run(|_| async move {
        let clock = ManualClock::new();
        let calls = Arc::new(AtomicU32::new(0));
        let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(3);
        let err = clock
            .auto_advance(Retry::new(policy, &clock).run(flaky(u32::MAX, calls.clone())))
            .await
            .unwrap_err();
        assert_eq!((err.attempts(), err.reason()), (3, StopReason::MaxAttempts));
        assert_eq!(calls.load(SeqCst), 3);
        assert_eq!(*err.error(), "unavailable");
        assert_eq!(clock.now(), ms(20), "two waits between three attempts");
    });
}

#[test]
fn one_attempt_means_no_retry_and_no_wait() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(1);
    let retry = Retry::new(policy, &clock);
    let mut run = polled(retry.run(flaky(1, calls.clone())));
    let err = run.ready().unwrap_err();
    assert_eq!((err.attempts(), err.reason()), (1, StopReason::MaxAttempts));
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn max_elapsed_stops_before_a_wait_that_would_pass_it() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(Backoff::exponential(ms(100)))
        .max_attempts(100)
        .max_elapsed(ms(500));
    let err = futures_lite::future::block_on(
        clock.auto_advance(Retry::new(policy, &clock).run(flaky(u32::MAX, calls.clone()))),
    )
    .unwrap_err();
    // Attempts at 0, 100, 300 ms; the next wait (400 ms) would end at 700.
    assert_eq!((err.attempts(), err.reason()), (3, StopReason::MaxElapsed));
    assert_eq!(clock.now(), ms(300));
}

#[test]
fn max_elapsed_counts_the_time_attempts_take() {
    let clock = ManualClock::new();
    let policy = RetryPolicy::new(Backoff::constant(ms(10)))
        .max_attempts(100)
        .max_elapsed(ms(100));
    let c = clock.clone();
    let err =
        futures_lite::future::block_on(clock.auto_advance(Retry::new(policy, &clock).run(|| {
            let c = c.clone();
            async move {
                use sluicegate::time::Sleeper;
                c.sleep(ms(40)).await; // each attempt takes 40 ms
                Err::<(), _>(())
            }
        })))
        .unwrap_err();
    // Attempts start at 0, 50 and 100 ms (at the limit: still allowed); a
    // fourth would start at 150.
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.reason(), StopReason::MaxElapsed);
}

#[test]
fn a_permanent_error_stops_at_once() {
    common::run(|_| async move {
        let clock = ManualClock::new();
        let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(5);
        let mut n = 0;
        let err = clock
            .auto_advance(
                Retry::new(policy, &clock)
                    .retry_if(|e: &&str| *e == "busy")
                    .run(|| {
                        n += 1;
                        std::future::ready(Err::<(), _>(if n == 1 { "busy" } else { "forbidden" }))
                    }),
            )
            .await
            .unwrap_err();
        assert_eq!(err.reason(), StopReason::NotRetryable);
        assert_eq!((err.attempts(), err.into_inner()), (2, "forbidden"));
        assert_eq!(clock.now(), ms(10));
    });
}

#[test]
fn retry_after_overrides_the_backoff_and_on_retry_sees_it() {
    let clock = ManualClock::new();
    let seen = Mutex::new(Vec::new());
    let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(3);
    let calls = Arc::new(AtomicU32::new(0));
    let r = futures_lite::future::block_on(
        clock.auto_advance(
            Retry::new(policy, &clock)
                .retry_after(|e: &&str| (*e == "unavailable").then_some(ms(250)))
                .on_retry(|attempt, e: &&'static str, delay| {
                    seen.lock().unwrap().push((attempt, *e, delay))
                })
                .run(flaky(2, calls)),
        ),
    );
    assert_eq!(r, Ok(3));
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, "unavailable", ms(250)), (2, "unavailable", ms(250))]
    );
    assert_eq!(clock.now(), ms(500));
}

#[test]
fn a_finite_schedule_ends_the_retries() {
    let clock = ManualClock::new();
    let policy = RetryPolicy::new([ms(1), ms(2)].into_iter()).max_attempts(10);
    let err = futures_lite::future::block_on(
        clock.auto_advance(Retry::new(policy, &clock).run(|| std::future::ready(Err::<(), _>(())))),
    )
    .unwrap_err();
    assert_eq!(
        (err.attempts(), err.reason()),
        (3, StopReason::BackoffExhausted)
    );
}

#[test]
fn dropping_during_the_backoff_wait_stops_further_attempts() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(5);
    let retry = Retry::new(policy, &clock);
    let mut run = polled(retry.run(flaky(u32::MAX, calls.clone())));
    run.pending();
    assert_eq!((calls.load(SeqCst), clock.pending_sleeps()), (1, 1));
    drop(run);
    assert_eq!(clock.pending_sleeps(), 0);
    clock.advance(ms(1000));
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn dropped_after_the_wait_woke_it_but_before_the_repoll_makes_no_attempt() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_attempts(5);
    let retry = Retry::new(policy, &clock);
    let mut run = polled(retry.run(flaky(u32::MAX, calls.clone())));
    run.pending();
    clock.advance(ms(10));
    assert_eq!(run.wakes(), 1);
    drop(run);
    assert_eq!(calls.load(SeqCst), 1);
}

#[test]
fn with_zero_delays_each_poll_starts_one_attempt_and_yields() {
    // A timer whose sleeps are over at once, and attempts that fail at once:
    // without a yield, one poll would run every attempt and nothing (a
    // timeout, a select) could cancel the loop in between.
    let timer = sluicegate::time::WithClock::new(
        sluicegate::time::sleeper_fn(|_| std::future::ready(())),
        ManualClock::new(),
    );
    let calls = Arc::new(AtomicU32::new(0));
    let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(1_000);
    let retry = Retry::new(policy, timer);
    let mut run = polled(retry.run(flaky(u32::MAX, calls.clone())));
    for n in 1..=3 {
        run.pending();
        assert_eq!(calls.load(SeqCst), n, "one attempt per poll");
        assert_eq!(run.wakes(), n as usize, "and it asks to be polled again");
    }
    drop(run); // cancelled between attempts
    assert_eq!(calls.load(SeqCst), 3);
}

/// A client that builds its retry once and runs it for every request.
struct Client {
    retry: Retry<'static, Backoff, ManualClock, fn(&&'static str) -> bool>,
}

impl Client {
    fn new(clock: &ManualClock) -> Self {
        fn transient(e: &&'static str) -> bool {
            *e == "unavailable"
        }
        let policy = RetryPolicy::new(Backoff::exponential(ms(100))).max_attempts(5);
        Self {
            retry: Retry::new(policy, clock.clone()).retry_if(transient as fn(&_) -> bool),
        }
    }

    /// One request against a service that fails `failures` times first.
    async fn request(
        &self,
        failures: u32,
    ) -> Result<u32, sluicegate::retry::RetryError<&'static str>> {
        let calls = Arc::new(AtomicU32::new(0));
        self.retry.run(flaky(failures, calls)).await
    }
}

#[test]
fn a_stored_retry_runs_many_times_each_from_the_first_backoff_delay() {
    let clock = ManualClock::new();
    let client = Client::new(&clock);
    for run in 1..=3u64 {
        let r = futures_lite::future::block_on(clock.auto_advance(client.request(2)));
        assert_eq!(r, Ok(3), "run {run}");
        // 100 ms + 200 ms each time: a run does not go on from the last
        // run's backoff (400 ms, 800 ms, ...).
        assert_eq!(clock.now(), ms(300 * run), "run {run}");
    }
}

#[test]
fn a_stored_retry_runs_concurrently_from_two_futures() {
    let clock = ManualClock::new();
    let client = Client::new(&clock);
    let (a, b) = futures_lite::future::block_on(clock.auto_advance(futures_lite::future::zip(
        client.request(1),
        client.request(3),
    )));
    assert_eq!((a, b), (Ok(2), Ok(4)));
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&client); // so threads can share it too
    assert_eq!(
        clock.now(),
        ms(100 + 200 + 400),
        "each run has its own backoff"
    );
}

#[test]
fn clones_of_a_seeded_default_rng_draw_distinct_streams_that_the_seed_replays() {
    use sluicegate::retry::{DefaultRng, RandomSource};
    // The first few values of each of three clones, in the order cloned.
    let streams = |seed| {
        let parent = DefaultRng::from_seed(seed);
        (0..3)
            .map(|_| {
                let mut child = parent.clone();
                (0..4).map(|_| child.next_u64()).collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let seven = streams(7);
    assert_eq!(seven, streams(7), "the same seed forks the same streams");
    assert_ne!(seven[0], seven[1], "two clones, two streams");
    assert_ne!(seven[1], seven[2]);
    assert_ne!(seven[0], seven[2]);
    assert_ne!(seven, streams(8), "another seed, other streams");
}

#[test]
fn a_stored_seeded_policy_jitters_each_run_anew_and_its_seed_replays_the_runs() {
    use sluicegate::retry::{DefaultRng, Jitter, RetryError};
    // The jittered delays of two runs of one stored retry.
    let two_runs = |seed| {
        let clock = ManualClock::new();
        let delays = Mutex::new(Vec::new());
        let backoff = Backoff::exponential(ms(100))
            .jitter(Jitter::Full)
            .rng(DefaultRng::from_seed(seed));
        let retry = Retry::new(RetryPolicy::new(backoff).max_attempts(4), &clock)
            .on_retry(|_, _: &&str, delay| delays.lock().unwrap().push(delay));
        (0..2)
            .map(|_| {
                let run = retry.run(flaky(u32::MAX, Arc::new(AtomicU32::new(0))));
                let _: RetryError<_> =
                    futures_lite::future::block_on(clock.auto_advance(run)).unwrap_err();
                std::mem::take(&mut *delays.lock().unwrap())
            })
            .collect::<Vec<_>>()
    };
    let runs = two_runs(7);
    assert_eq!(runs[0].len(), 3);
    assert_ne!(runs[0], runs[1], "each run draws its own jitter");
    assert_eq!(runs, two_runs(7), "the seed replays both runs");
}

#[test]
fn a_budget_keeps_three_decimals_of_its_ratio() {
    let budget = RetryBudget::new(10, 1.001);
    budget.record_failure();
    budget.record_failure();
    budget.record_success();
    assert_eq!(budget.tokens(), 9.001);
}

#[test]
fn dropping_during_an_attempt_drops_the_attempt() {
    let clock = ManualClock::new();
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let policy = RetryPolicy::new(Backoff::constant(ms(10)));
    let retry = Retry::new(policy, &clock);
    let mut run = polled(retry.run(move || {
        s.fetch_add(1, SeqCst);
        pending::<Result<(), ()>>()
    }));
    run.pending();
    drop(run);
    assert_eq!(started.load(SeqCst), 1);
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_shared_budget_throttles_concurrent_retry_loops() {
    common::run(|ex| async move {
        static_budget_case(ex).await;
    });
}

async fn static_budget_case(ex: common::Exec) {
    // Each run gets a fresh budget: 4 tokens, refilled by 1 per success.
    let budget: &'static RetryBudget = Box::leak(Box::new(RetryBudget::new(4, 1.0)));
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicU32::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (c, k) = (clock.clone(), calls.clone());
            ex.spawn(async move {
                let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(10);
                Retry::new(policy, &c)
                    .budget(budget)
                    .run(flaky(u32::MAX, k))
                    .await
                    .unwrap_err()
            })
        })
        .collect();
    let mut attempts = 0;
    for t in tasks {
        let err = t.await;
        assert!(matches!(err.reason(), StopReason::BudgetExhausted));
        attempts += err.attempts();
    }
    // Every failure takes a token; a retry needs more than 2 of the 4 left
    // after its own failure, so at most the first failure worldwide retries.
    assert_eq!(calls.load(SeqCst), attempts);
    assert!(
        (4..=5).contains(&attempts),
        "attempts {attempts} under {}",
        ex.name()
    );
    assert_eq!(budget.tokens(), 0.0);
}

#[test]
fn successes_refill_the_budget() {
    let budget = RetryBudget::new(4, 1.0);
    let clock = ManualClock::new();
    let run = |fails| {
        let calls = Arc::new(AtomicU32::new(0));
        let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(10);
        futures_lite::future::block_on(
            Retry::new(policy, &clock)
                .budget(&budget)
                .run(flaky(fails, calls)),
        )
    };
    assert_eq!(run(1), Ok(2)); // 4 - 1 + 1 = 4
    assert_eq!(budget.tokens(), 4.0);
    assert!(run(u32::MAX).is_err()); // drains to 2
    assert!(!budget.can_retry());
    assert_eq!(run(0), Ok(1)); // first attempts are never throttled
    assert!(budget.can_retry());
}

#[test]
fn retry_error_reports_its_parts() {
    #[derive(Debug)]
    struct Boom;
    impl std::fmt::Display for Boom {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("boom")
        }
    }
    impl std::error::Error for Boom {}
    let clock = ManualClock::new();
    let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(2);
    let err = futures_lite::future::block_on(
        Retry::new(policy, &clock).run(|| std::future::ready(Err::<(), _>(Boom))),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "gave up after 2 attempt(s), attempt limit reached: boom"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn the_future_of_run_is_named_run_and_is_send() {
    use sluicegate::time::{Clock, Timer};
    // The crate's rule: a future is named after the method that returns it.
    fn named_run<B, T: Timer + Clock, If, Hook, After, Op, Fut>(
        run: sluicegate::retry::Run<'_, B, T, If, Hook, After, Op, Fut>,
    ) -> sluicegate::futures::Run<'_, B, T, If, Hook, After, Op, Fut> {
        run
    }
    fn send<T: Send>(_: &T) {}
    let clock = ManualClock::new();
    let policy = RetryPolicy::new(Backoff::exponential(ms(1)));
    send(&named_run(
        Retry::new(policy, &clock).run(|| async { Ok::<_, ()>(()) }),
    ));
}

#[test]
#[should_panic(expected = "max_attempts must be at least 1")]
fn zero_attempts_are_refused() {
    let _ = RetryPolicy::new(Backoff::constant(ms(1))).max_attempts(0);
}
