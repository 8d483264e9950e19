//! `breaker`: CircuitBreaker under every executor, in virtual time.
mod common;

use std::future::{pending, ready};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::poll::polled;
use futures_lite::future::yield_now;
use sluicegate::breaker::{
    BreakerConfig, BreakerError, CircuitBreaker, Rejected, State, StateChange,
};
use sluicegate::retry::Backoff;
use sluicegate::time::ManualClock;
use sluicegate::Event;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

type Breaker = CircuitBreaker<ManualClock>;

fn breaker(clock: &ManualClock, threshold: u32, recovery: Duration) -> Arc<Breaker> {
    Arc::new(CircuitBreaker::new(clock.clone(), threshold, recovery))
}

async fn fail(b: &Breaker) {
    let r = b.call(ready(Err::<(), _>("boom"))).await;
    assert_eq!(r, Err(BreakerError::Inner("boom")));
}

#[test]
fn trips_after_consecutive_failures_and_rejects_without_running() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let b = breaker(&clock, 3, secs(60));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                ex.spawn(async move { fail(&b).await })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        assert_eq!(b.state(), State::Open);
        let ran = Arc::new(AtomicBool::new(false));
        let r = {
            let ran = ran.clone();
            b.call(async move {
                ran.store(true, SeqCst);
                Ok::<_, ()>(())
            })
            .await
        };
        let open = |retry_in| Err(BreakerError::Rejected(Rejected::Open { retry_in }));
        assert_eq!(r, open(secs(60)));
        assert!(!ran.load(SeqCst), "a rejected call never runs");
        clock.advance(secs(45));
        assert_eq!(b.call(ready(Ok::<_, ()>(()))).await, open(secs(15)));
    });
}

#[test]
fn a_success_after_recovery_closes_and_a_failure_reopens() {
    common::run(|_| async move {
        let clock = ManualClock::new();
        let b = breaker(&clock, 1, secs(60));
        fail(&b).await;
        clock.advance(secs(60));
        assert_eq!(b.state(), State::HalfOpen);
        fail(&b).await; // the trial fails
        assert_eq!(b.state(), State::Open);
        assert!(b.try_acquire().is_err());
        clock.advance(secs(60));
        assert_eq!(b.call(ready(Ok::<_, ()>(5))).await, Ok(5));
        assert_eq!(b.state(), State::Closed);
    });
}

#[test]
fn half_open_admits_at_most_n_trials_at_once() {
    common::run(|ex| async move {
        const TRIALS: u32 = 2;
        let clock = ManualClock::new();
        let b = Arc::new(CircuitBreaker::with_config(
            clock.clone(),
            BreakerConfig::new()
                .failure_threshold(1)
                .half_open_max_calls(TRIALS)
                .success_threshold(TRIALS),
            core::iter::repeat(secs(10)),
        ));
        b.try_acquire().unwrap().failure();
        clock.advance(secs(10));
        let gate = Arc::new(Event::new());
        let running = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (b, gate, running) = (b.clone(), gate.clone(), running.clone());
                ex.spawn(async move {
                    b.call(async {
                        running.fetch_add(1, SeqCst);
                        gate.wait().await;
                        Ok::<_, ()>(())
                    })
                    .await
                })
            })
            .collect();
        // Wait until every task has either started its trial or been turned
        // away; the rejected ones finish on their own.
        while (running.load(SeqCst) as u32) < TRIALS || b.metrics().rejections < 4 {
            yield_now().await;
        }
        assert_eq!(running.load(SeqCst) as u32, TRIALS);
        gate.set();
        let (mut ok, mut rejected) = (0, 0);
        for t in tasks {
            match t.await {
                Ok(()) => ok += 1,
                Err(BreakerError::Rejected(rejection)) => {
                    assert_eq!(rejection, Rejected::HalfOpenFull, "slots taken, not open");
                    assert_eq!(rejection.retry_in(), None);
                    rejected += 1;
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!((ok, rejected), (TRIALS, 4));
        assert_eq!(b.state(), State::Closed);
    });
}

#[test]
fn a_trial_dropped_while_running_gives_its_slot_back() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(1));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    let mut trial = polled(b.call(pending::<Result<(), ()>>()));
    trial.pending();
    assert!(b.try_acquire().is_err(), "the only slot is taken");
    drop(trial);
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "a drop is neither success nor failure"
    );
    let m = b.metrics();
    assert_eq!((m.calls, m.successes, m.failures), (2, 0, 1));
    b.try_acquire().unwrap().success();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_call_dropped_before_its_first_poll_asks_for_nothing() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(1));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    drop(b.call(ready(Ok::<(), ()>(()))));
    assert_eq!(b.metrics().calls, 1);
    assert!(b.try_acquire().is_ok(), "the trial slot is still free");
}

#[test]
fn a_trial_woken_then_dropped_before_the_repoll_gives_its_slot_back() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(1));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    let (tx, rx) = futures::channel::oneshot::channel::<Result<(), ()>>();
    let mut trial = polled(b.call(async move { rx.await.unwrap() }));
    trial.pending();
    tx.send(Ok(())).unwrap();
    assert_eq!(trial.wakes(), 1);
    drop(trial); // its success never got reported
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire().is_ok());
}

#[test]
fn a_slow_call_from_the_closed_state_cannot_close_a_half_open_breaker() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(5));
    let slow = b.try_acquire().unwrap();
    b.try_acquire().unwrap().failure();
    clock.advance(secs(5));
    let trial = b.try_acquire().unwrap();
    assert!(trial.is_trial() && !slow.is_trial());
    slow.success();
    assert_eq!(b.state(), State::HalfOpen);
    trial.failure();
    assert_eq!(b.state(), State::Open);
}

#[test]
fn the_classifier_decides_which_errors_count() {
    common::run(|_| async move {
        let clock = ManualClock::new();
        let b = breaker(&clock, 2, secs(1));
        let server_error = |code: &u16| *code >= 500;
        let call = |status| {
            b.call(ready(Err::<(), u16>(status)))
                .failure_if(server_error)
        };
        for _ in 0..5 {
            assert_eq!(call(404).await, Err(BreakerError::Inner(404)));
        }
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.metrics().successes, 5, "a 404 shows the service is up");
        let _ = call(503).await;
        let _ = call(500).await;
        assert_eq!(b.state(), State::Open);
    });
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ApiError {
    Down,
    NotFound,
    TimedOut,
}

impl From<sluicegate::time::Elapsed> for ApiError {
    fn from(_: sluicegate::time::Elapsed) -> Self {
        ApiError::TimedOut
    }
}

#[test]
fn call_timeout_counts_the_operations_errors_and_the_timeout_as_failures() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 2, secs(60));
    let r = futures_lite::future::block_on(b.call_timeout(
        &clock,
        secs(1),
        ready(Err::<(), _>(ApiError::Down)),
    ));
    assert_eq!(r, Err(BreakerError::Inner(ApiError::Down)));
    assert_eq!(b.metrics().failures, 1, "the operation's own error");
    let mut slow = polled(b.call_timeout(&clock, secs(1), pending::<Result<(), ApiError>>()));
    slow.pending();
    clock.advance(secs(1));
    assert_eq!(slow.ready(), Err(BreakerError::Inner(ApiError::TimedOut)));
    assert_eq!(b.metrics().failures, 2, "and the timeout");
    assert_eq!(b.state(), State::Open);
}

#[test]
fn call_timeout_takes_a_classifier_and_passes_successes_through() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(60));
    let not_found = futures_lite::future::block_on(
        b.call_timeout(&clock, secs(1), ready(Err::<(), _>(ApiError::NotFound)))
            .failure_if(|e: &ApiError| *e != ApiError::NotFound),
    );
    assert_eq!(not_found, Err(BreakerError::Inner(ApiError::NotFound)));
    let ok = futures_lite::future::block_on(b.call_timeout(
        &clock,
        secs(1),
        ready(Ok::<_, ApiError>(7)),
    ));
    assert_eq!(ok, Ok(7));
    assert_eq!((b.state(), b.metrics().successes), (State::Closed, 2));
}

#[test]
fn a_call_timeout_dropped_while_running_gives_its_trial_slot_back() {
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(1));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    let mut trial = polled(b.call_timeout(&clock, secs(5), pending::<Result<(), ApiError>>()));
    trial.pending();
    assert!(b.try_acquire().is_err(), "the only slot is taken");
    drop(trial);
    assert_eq!(clock.pending_sleeps(), 0, "the timeout's sleep is gone too");
    assert!(b.try_acquire().unwrap().is_trial());
}

#[test]
fn repeated_trips_wait_longer_with_a_backoff_schedule() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::with_config(
        clock.clone(),
        BreakerConfig::new().failure_threshold(1),
        Backoff::exponential(secs(10)).max_delay(secs(25)),
    );
    let mut waits = Vec::new();
    for _ in 0..4 {
        b.try_acquire().unwrap().failure();
        let retry_in = b.try_acquire().unwrap_err().retry_in().unwrap();
        waits.push(retry_in);
        clock.advance(retry_in);
    }
    assert_eq!(waits, [secs(10), secs(20), secs(25), secs(25)]);
    b.try_acquire().unwrap().success();
    b.try_acquire().unwrap().failure();
    assert_eq!(
        b.try_acquire().unwrap_err().retry_in(),
        Some(secs(10)),
        "closing restarts it"
    );
}

#[test]
fn failure_rate_trips_over_the_window() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::with_config(
        clock.clone(),
        BreakerConfig::new()
            .failure_threshold(u32::MAX)
            .failure_rate(50, 10, 10),
        core::iter::repeat(secs(1)),
    );
    for i in 0..9 {
        let p = b.try_acquire().unwrap();
        if i % 2 == 0 {
            p.failure()
        } else {
            p.success()
        }
    }
    assert_eq!(b.state(), State::Closed, "9 calls < min_calls");
    b.try_acquire().unwrap().success(); // 5 of 10 failed, but a success
    assert_eq!(b.state(), State::Closed);
    b.try_acquire().unwrap().failure(); // window slides: still 5 of 10
    assert_eq!(b.state(), State::Open);
}

#[test]
fn the_hook_sees_every_change_of_state() {
    let clock = ManualClock::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let b = CircuitBreaker::new(clock.clone(), 1, secs(1))
        .on_state_change(move |c: StateChange| l.lock().unwrap().push((c.from, c.to)));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    b.try_acquire().unwrap().success();
    b.force_open();
    b.reset();
    b.reset(); // already closed: no change
    use State::*;
    assert_eq!(
        *log.lock().unwrap(),
        [
            (Closed, Open),
            (Open, HalfOpen),
            (HalfOpen, Open),
            (Open, HalfOpen),
            (HalfOpen, Closed),
            (Closed, Open),
            (Open, Closed),
        ]
    );
}

/// A client that keeps a breaker with a hook: named by its clock and its
/// hook alone.
struct Client {
    breaker: CircuitBreaker<ManualClock, sluicegate::breaker::BoxedHook>,
}

#[test]
fn a_breaker_with_a_boxed_hook_is_stored_under_its_clock_and_hook_types() {
    use sluicegate::breaker::BoxedHook;
    let clock = ManualClock::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let client = Client {
        breaker: CircuitBreaker::new(clock.clone(), 1, secs(1))
            .on_state_change(BoxedHook::new(move |c| l.lock().unwrap().push(c.to))),
    };
    client.breaker.try_acquire().unwrap().failure();
    clock.advance(secs(1));
    client.breaker.try_acquire().unwrap().success();
    assert_eq!(
        *log.lock().unwrap(),
        [State::Open, State::HalfOpen, State::Closed]
    );
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&client.breaker);
}

#[test]
fn force_open_rejects_until_reset() {
    common::run(|_| async move {
        let clock = ManualClock::new();
        let b = breaker(&clock, 3, secs(1));
        b.force_open();
        clock.advance(secs(3600));
        let r = b.call(ready(Ok::<(), ()>(()))).await;
        assert_eq!(r, Err(BreakerError::Rejected(Rejected::ForcedOpen)));
        assert_eq!(r.unwrap_err().retry_in(), None, "not in Duration::MAX");
        b.reset();
        assert_eq!(b.call(ready(Ok::<_, ()>(1))).await, Ok(1));
    });
}

#[test]
fn try_acquire_and_call_reject_alike_and_say_why() {
    let clock = ManualClock::new();
    let b = CircuitBreaker::with_config(
        &clock,
        BreakerConfig::new().failure_threshold(1),
        core::iter::repeat(secs(30)),
    );
    let rejection = |b: &CircuitBreaker<&ManualClock>| {
        let acquired = b.try_acquire().unwrap_err();
        let called = futures_lite::future::block_on(b.call(ready(Ok::<(), &str>(()))));
        assert_eq!(called, Err(BreakerError::Rejected(acquired)));
        let called = called.unwrap_err();
        assert_eq!(called.to_string(), acquired.to_string());
        assert_eq!(
            (called.retry_in(), called.rejected()),
            (acquired.retry_in(), Some(acquired))
        );
        acquired
    };
    b.try_acquire().unwrap().failure();
    clock.advance(secs(10));
    let open = rejection(&b);
    assert_eq!(open, Rejected::Open { retry_in: secs(20) });
    assert_eq!(open.retry_in(), Some(secs(20)));
    assert_eq!(
        open.to_string(),
        "circuit breaker is open (next trial in 20s)"
    );

    clock.advance(secs(20));
    let _trial = b.try_acquire().unwrap();
    let full = rejection(&b);
    assert_eq!(full, Rejected::HalfOpenFull);
    assert_eq!(full.retry_in(), None);
    assert_eq!(
        full.to_string(),
        "circuit breaker is half-open and all its trial slots are taken"
    );

    b.force_open();
    let forced = rejection(&b);
    assert_eq!(forced, Rejected::ForcedOpen);
    assert_eq!(forced.retry_in(), None);
    assert_eq!(
        forced.to_string(),
        "circuit breaker is forced open until reset"
    );
}

#[test]
fn a_forced_open_rejection_fed_to_retry_after_waits_the_backoff_not_forever() {
    use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    let clock = ManualClock::new();
    let b = breaker(&clock, 1, secs(60));
    b.force_open();
    let policy = RetryPolicy::new(Backoff::constant(secs(1))).max_attempts(3);
    let retry = Retry::new(policy, &clock).retry_after(BreakerError::<()>::retry_in);
    let err = futures_lite::future::block_on(
        clock.auto_advance(retry.run(|| b.call(ready(Ok::<(), ()>(()))))),
    )
    .unwrap_err();
    assert_eq!((err.attempts(), err.reason()), (3, StopReason::MaxAttempts));
    assert_eq!(clock.now(), secs(2), "two waits of the backoff's 1 s");
}

#[test]
fn concurrent_calls_keep_exact_accounting() {
    common::run(|ex| async move {
        const TASKS: usize = 8;
        const CALLS: usize = 200;
        let clock = ManualClock::new();
        let b = breaker(&clock, 3, secs(1));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (b, clock) = (b.clone(), clock.clone());
                ex.spawn(async move {
                    let (mut ok, mut failed, mut rejected) = (0, 0, 0);
                    for i in 0..CALLS {
                        let outcome = (t * 7 + i * 13) % 5 == 0;
                        match b.call(ready(if outcome { Err(()) } else { Ok(()) })).await {
                            Ok(()) => ok += 1,
                            Err(BreakerError::Inner(())) => failed += 1,
                            Err(BreakerError::Rejected(_)) => {
                                rejected += 1;
                                clock.advance(Duration::from_millis(100));
                            }
                        }
                        if i % 16 == 0 {
                            yield_now().await;
                        }
                    }
                    (ok, failed, rejected)
                })
            })
            .collect();
        let (mut ok, mut failed, mut rejected) = (0, 0, 0);
        for t in tasks {
            let (o, f, r) = t.await;
            ok += o;
            failed += f;
            rejected += r;
        }
        let m = b.metrics();
        assert_eq!(ok + failed + rejected, TASKS * CALLS);
        assert_eq!(
            (m.successes, m.failures, m.rejections, m.calls),
            (ok, failed, rejected, ok + failed),
            "under {}",
            ex.name()
        );
    });
}

/// After a panic in user code during a trial: still half-open, and the one
/// trial slot is free again.
fn assert_the_trial_slot_is_free<H: sluicegate::breaker::StateChangeHook>(
    b: &CircuitBreaker<&ManualClock, H>,
) {
    assert_eq!(b.state(), State::HalfOpen);
    let trial = b.try_acquire();
    assert!(
        trial.is_ok(),
        "the only trial slot was lost: {:?}",
        trial.err()
    );
}

#[test]
fn a_panicking_classifier_gives_the_trial_slot_back() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let clock = ManualClock::new();
    let b = CircuitBreaker::new(&clock, 1, secs(10));
    b.try_acquire().unwrap().failure();
    clock.advance(secs(10));
    let r = catch_unwind(AssertUnwindSafe(|| {
        futures_lite::future::block_on(
            b.call(ready(Err::<(), _>("e")))
                .failure_if(|_: &&str| -> bool { panic!("classifier bug") }),
        )
    }));
    assert!(r.is_err());
    assert_the_trial_slot_is_free(&b);
}

#[test]
fn a_panicking_hook_gives_back_the_trial_its_transition_admitted() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let clock = ManualClock::new();
    let b = CircuitBreaker::new(&clock, 1, secs(10)).on_state_change(|c: StateChange| {
        if c.to == State::HalfOpen {
            panic!("hook bug");
        }
    });
    b.try_acquire().unwrap().failure();
    clock.advance(secs(10));
    let r = catch_unwind(AssertUnwindSafe(|| b.try_acquire().map(drop)));
    assert!(r.is_err(), "the hook panicked");
    assert_the_trial_slot_is_free(&b);
}

#[test]
fn a_panicking_recovery_schedule_leaves_neither_a_stuck_trial_nor_a_stale_state() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    /// Ten seconds once, then a panic.
    #[derive(Clone)]
    struct Once(bool);
    impl Iterator for Once {
        type Item = Duration;
        fn next(&mut self) -> Option<Duration> {
            assert!(!std::mem::replace(&mut self.0, true), "schedule bug");
            Some(secs(10))
        }
    }
    let clock = ManualClock::new();
    let b = CircuitBreaker::with_config(
        &clock,
        BreakerConfig::new().failure_threshold(1),
        Once(false),
    );
    b.try_acquire().unwrap().failure(); // opens for 10 s
    clock.advance(secs(10));
    let trial = b.try_acquire().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| trial.failure())).is_err());
    // The failed trial's slot is free again, and the lock-free paths see
    // the machine as it is.
    assert_eq!(b.state(), State::HalfOpen);
    assert!(b.try_acquire().is_ok(), "stuck half-open");
}

#[test]
fn retry_and_breaker_share_one_any_error_and_one_no_hook() {
    use sluicegate::breaker::{FailureClassifier, StateChangeHook};
    use sluicegate::retry::{OnRetry, RetryIf};
    use sluicegate::{breaker, retry};
    fn same_type<T>(_: T, _: T) {}
    same_type(breaker::AnyError, retry::AnyError);
    same_type(breaker::NoHook, retry::NoHook);
    let mut any = retry::AnyError;
    assert!(any.should_retry(&"refused") && any.is_failure(&"refused"));
    retry::NoHook.on_retry(1, &"refused", Duration::ZERO);
    retry::NoHook.on_state_change(StateChange {
        from: State::Closed,
        to: State::Open,
    });
}

#[test]
fn breaker_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let b: Breaker = CircuitBreaker::new(ManualClock::new(), 1, secs(1));
    send_sync(&b);
    send(&b.call(async { Ok::<(), ()>(()) }));
    send(&b.try_acquire().unwrap());
}
