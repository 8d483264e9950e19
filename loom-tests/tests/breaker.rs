//! loom models of `CircuitBreaker`: half-open permit accounting with
//! concurrent callers, a trip racing a success, and a `call()` cancelled
//! while another trial closes the breaker.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use sluicegate::breaker::{BreakerConfig, CircuitBreaker, State};
use sluicegate::time::Clock;
use sluicegate_loom_tests::{model, thread, Polled};

/// A clock the model sets between phases (never while threads run), so
/// a plain std atomic does; nanosecond ticks.
#[derive(Default)]
struct TestClock(AtomicU64);

impl Clock for TestClock {
    type Instant = u64;

    fn now(&self) -> u64 {
        self.0.load(SeqCst)
    }
}

const SECOND: u64 = 1_000_000_000;

type Breaker = CircuitBreaker<Arc<TestClock>>;

/// A breaker with one failure recorded: open for 1 s from t = 0.
fn tripped(trials: u32, successes: u32) -> (Arc<Breaker>, Arc<TestClock>) {
    let clock = Arc::new(TestClock::default());
    let breaker = CircuitBreaker::with_config(
        clock.clone(),
        BreakerConfig::new()
            .failure_threshold(1)
            .half_open_max_calls(trials)
            .success_threshold(successes),
        core::iter::repeat(Duration::from_secs(1)),
    );
    breaker.try_acquire().unwrap().failure();
    (Arc::new(breaker), clock)
}

/// Two callers race for the single half-open slot (each cancels its trial):
/// never two trials at once, and the slot is free again afterwards.
#[test]
fn half_open_admits_no_more_trials_than_slots() {
    model(|| {
        let (breaker, clock) = tripped(1, 1);
        clock.0.store(SECOND, SeqCst);
        let in_trial = Arc::new(loom_counter::Counter::new());
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (b, in_trial) = (breaker.clone(), in_trial.clone());
                thread::spawn(move || {
                    if let Ok(permit) = b.try_acquire() {
                        assert!(permit.is_trial());
                        assert_eq!(in_trial.enter(), 1, "two trials in flight");
                        in_trial.leave();
                        drop(permit); // cancelled: gives the slot back
                    }
                })
            })
            .collect();
        for c in callers {
            c.join().unwrap();
        }
        assert_eq!(breaker.state(), State::HalfOpen);
        let trial = breaker.try_acquire().expect("the slot was given back");
        assert!(breaker.try_acquire().is_err());
        trial.success();
        assert_eq!(breaker.state(), State::Closed);
    });
}

/// One trial succeeds while another fails: the failure reopens the breaker
/// whatever the order, and the trial slots are all free afterwards.
#[test]
fn a_trial_failure_racing_a_trial_success_reopens() {
    model(|| {
        let (breaker, clock) = tripped(2, 2);
        clock.0.store(SECOND, SeqCst);
        let b = breaker.clone();
        let succeeding = thread::spawn(move || {
            if let Ok(p) = b.try_acquire() {
                p.success();
            }
        });
        let b = breaker.clone();
        let failing = thread::spawn(move || b.try_acquire().expect("never rejected").failure());
        succeeding.join().unwrap();
        failing.join().unwrap();
        assert_eq!(breaker.state(), State::Open);
        clock.0.store(3 * SECOND, SeqCst);
        let (a, b) = (breaker.try_acquire(), breaker.try_acquire());
        assert!(a.is_ok() && b.is_ok(), "both slots free");
        assert!(breaker.try_acquire().is_err());
    });
}

/// A failure that trips the breaker races a success on the lock-free closed
/// path: the trip is never lost, and every call is accounted for.
#[test]
fn a_trip_racing_a_success_is_never_lost() {
    model(|| {
        let clock = Arc::new(TestClock::default());
        let breaker = Arc::new(CircuitBreaker::new(clock, 1, Duration::from_secs(1)));
        let b = breaker.clone();
        let succeeding = thread::spawn(move || {
            if let Ok(p) = b.try_acquire() {
                p.success();
            }
        });
        let b = breaker.clone();
        let failing = thread::spawn(move || {
            if let Ok(p) = b.try_acquire() {
                p.failure();
            }
        });
        succeeding.join().unwrap();
        failing.join().unwrap();
        let m = breaker.metrics();
        assert_eq!(m.state, State::Open);
        assert_eq!(m.calls + m.rejections, 2);
        assert_eq!(m.successes + m.failures, m.calls);
        assert_eq!(m.failures, 1);
    });
}

/// With one failure counted (threshold 2), a success races a second
/// failure: either the failure trips it, or the success came first and the
/// failure is counted afresh, so one more failure trips it.
#[test]
fn a_reset_racing_a_failure_keeps_the_count_consistent() {
    model(|| {
        let clock = Arc::new(TestClock::default());
        let breaker = Arc::new(CircuitBreaker::new(clock, 2, Duration::from_secs(1)));
        breaker.try_acquire().unwrap().failure();
        let b = breaker.clone();
        let succeeding = thread::spawn(move || {
            if let Ok(p) = b.try_acquire() {
                p.success();
            }
        });
        let b = breaker.clone();
        let failing = thread::spawn(move || {
            if let Ok(p) = b.try_acquire() {
                p.failure();
            }
        });
        succeeding.join().unwrap();
        failing.join().unwrap();
        if breaker.state() == State::Closed {
            breaker.try_acquire().unwrap().failure();
            assert_eq!(breaker.state(), State::Open);
        }
    });
}

/// A `call()` holding one of two half-open trial slots is dropped while
/// another trial's success closes the breaker: whichever comes first, the
/// breaker closes, the cancel is counted once, and after the next trip
/// exactly the configured two trial slots are free (a stale cancel frees
/// nothing in the new generation).
#[test]
fn a_call_cancelled_racing_the_success_that_closes_frees_no_extra_slot() {
    model(|| {
        let (breaker, clock) = tripped(2, 1);
        clock.0.store(SECOND, SeqCst);
        let mut call = Polled::new(breaker.call(core::future::pending::<Result<(), ()>>()));
        assert!(call.poll().is_pending(), "holds a trial slot");
        let b = breaker.clone();
        let succeeding = thread::spawn(move || b.try_acquire().expect("a slot is free").success());
        drop(call);
        succeeding.join().unwrap();
        let m = breaker.metrics();
        assert_eq!(m.state, State::Closed);
        assert_eq!((m.successes, m.cancelled), (1, 1));
        breaker.try_acquire().unwrap().failure();
        clock.0.store(3 * SECOND, SeqCst);
        let (a, b) = (breaker.try_acquire(), breaker.try_acquire());
        assert!(a.is_ok() && b.is_ok(), "a trial slot was lost");
        assert!(breaker.try_acquire().is_err(), "a trial slot was doubled");
    });
}

/// A counter of trials in flight, on loom's atomics so loom sees it.
mod loom_counter {
    #[cfg(loom)]
    use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    #[cfg(not(loom))]
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    pub struct Counter(AtomicUsize);

    impl Counter {
        pub fn new() -> Self {
            Self(AtomicUsize::new(0))
        }

        pub fn enter(&self) -> usize {
            self.0.fetch_add(1, SeqCst) + 1
        }

        pub fn leave(&self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }
}
