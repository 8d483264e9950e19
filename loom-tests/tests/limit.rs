//! loom models of the `limit` module: a rate-limiter waiter dropped while
//! the clock makes its cell due, two waiters racing a clock step, an
//! adaptive token dropped while another's verdict moves the limit, a
//! verdict that skips the lock racing one that moves what may skip it
//! (twice: once with the order its thread saw pinned), and the sequence
//! lock that publishes it never read torn. Each ends with
//! exact accounting: cells taken, slots left, samples fed.
//!
//! The limiters' futures and tokens borrow them; the models that move those
//! to other threads leak one limiter per run for a `'static` borrow.

use std::time::Duration;

use sluicegate::limit::{
    AdaptiveLimiter, Aimd, LimitAlgorithm, Quota, RateLimiter, Sample, UnchangedBy,
};
use sluicegate::time::ManualClock;
use sluicegate_loom_tests::{block_on, model, thread, Polled};

const SEC: Duration = Duration::from_secs(1);

/// The first waiter sleeps for a due-at-1 s cell and the second queues
/// behind it; the first is dropped while another thread moves the clock to
/// 1 s. Whatever the order, the second gets that cell, and it is the only
/// one taken.
#[test]
fn a_rate_waiter_dropped_while_its_cell_comes_due_passes_it_on() {
    model(|| {
        let clock = ManualClock::new();
        let limiter = RateLimiter::new(clock.clone(), Quota::per_second(1));
        limiter.try_acquire().unwrap();
        let mut first = Polled::new(limiter.acquire());
        let mut second = Polled::new(limiter.acquire());
        assert!(first.poll().is_pending());
        assert!(second.poll().is_pending());
        let c = clock.clone();
        let stepper = thread::spawn(move || c.advance(SEC));
        drop(first);
        stepper.join().unwrap();
        assert_eq!(second.wakes(), 1, "handed the turn once");
        assert!(second.poll().is_ready());
        assert!(!limiter.has_waiters());
        assert_eq!(limiter.try_acquire().unwrap_err().retry_after(), Some(SEC));
    });
}

/// Two tasks acquire on their own threads while a third moves the clock
/// one interval. One cell of a burst of two is left at first: whichever
/// order, one is admitted at once and the other by 1 s, and exactly two
/// cells are taken.
#[test]
fn two_rate_waiters_racing_a_clock_step_both_get_exactly_one_cell() {
    model(|| {
        let clock = ManualClock::new();
        let limiter: &'static RateLimiter<ManualClock> = Box::leak(Box::new(RateLimiter::new(
            clock.clone(),
            Quota::per_second(1).with_burst(2),
        )));
        limiter.try_acquire().unwrap();
        let spawn = || thread::spawn(move || block_on(limiter.acquire()).unwrap());
        let a = spawn();
        let b = spawn();
        clock.advance(SEC);
        a.join().unwrap();
        b.join().unwrap();
        assert!(!limiter.has_waiters());
        assert_eq!(limiter.try_acquire().unwrap_err().retry_after(), Some(SEC));
    });
}

/// A limiter leaked for a `'static` borrow, run by AIMD in `[1, 4]` from
/// `initial`, on a clock that never moves.
fn leaked_aimd(initial: usize) -> &'static AdaptiveLimiter<Aimd, ManualClock> {
    Box::leak(Box::new(AdaptiveLimiter::new(
        ManualClock::new(),
        Aimd::new().limits(1, 4).initial_limit(initial),
    )))
}

/// One token's verdict shrinks the limit (AIMD: 2 × 0.9 → 1) while the
/// other token is dropped without one. In any order, one slot is left.
#[test]
fn an_adaptive_token_dropped_while_a_verdict_shrinks_the_limit_leaves_exactly_the_new_limit() {
    model(|| {
        let limiter = leaked_aimd(2);
        let (a, b) = (
            limiter.try_acquire().unwrap(),
            limiter.try_acquire().unwrap(),
        );
        let shrinker = thread::spawn(move || a.dropped());
        let ignorer = thread::spawn(move || drop(b));
        shrinker.join().unwrap();
        ignorer.join().unwrap();
        assert_eq!(limiter.limit(), 1);
        assert_eq!(limiter.in_flight(), 0);
        let t = limiter.try_acquire().unwrap();
        assert!(limiter.try_acquire().is_err(), "one slot, not two");
        drop(t);
    });
}

/// AIMD at 3 in `[1, 4]`: `a` (admitted with 1 in flight) succeeds, which
/// changes nothing at 3 and so skips the lock, while `b` is dropped, which
/// backs the limit off to 2, where `a`'s success would grow it back to 3.
/// Whichever the limiter saw first, the result is one of the two orders,
/// both verdicts are counted, and exactly `limit` slots are left.
#[test]
fn a_verdict_that_skips_the_lock_racing_one_that_moves_the_limit_is_ordered_before_or_after_it() {
    model(|| {
        let limiter = leaked_aimd(3);
        let a = limiter.try_acquire().unwrap();
        let b = limiter.try_acquire().unwrap();
        assert_eq!(a.in_flight_at_start(), 1);
        let quiet = thread::spawn(move || a.success());
        let shrinker = thread::spawn(move || b.dropped());
        quiet.join().unwrap();
        shrinker.join().unwrap();
        let m = limiter.metrics();
        assert!(m.limit == 2 || m.limit == 3, "limit {}", m.limit);
        assert_eq!((m.dropped, m.in_flight), (1, 0));
        let all: Vec<_> = (0..m.limit)
            .map(|_| limiter.try_acquire().unwrap())
            .collect();
        assert!(limiter.try_acquire().is_err(), "exactly `limit` slots");
        drop(all);
    });
}

/// As above, but `a`'s thread reads the limit before its verdict: if it
/// saw `b`'s backed-off limit (2), the only order that respects what it
/// saw is `b` then `a`, which grows the limit back to 3. (Publishing the
/// limit before what may skip the lock would let `a`'s success be judged
/// by the state before `b`'s, and end at 2.)
#[test]
fn a_verdict_after_its_thread_saw_a_new_limit_is_judged_by_the_state_it_saw() {
    model(|| {
        let limiter = leaked_aimd(3);
        let a = limiter.try_acquire().unwrap();
        let b = limiter.try_acquire().unwrap();
        let quiet = thread::spawn(move || {
            let saw = limiter.limit() == 2;
            a.success();
            saw
        });
        let shrinker = thread::spawn(move || b.dropped());
        let saw = quiet.join().unwrap();
        shrinker.join().unwrap();
        if saw {
            assert_eq!(
                limiter.limit(),
                3,
                "saw b's limit, yet a was judged before b"
            );
        }
    });
}

/// An algorithm whose `unchanged_by` flips on a dropped sample between two
/// answers that both refuse a success with 5 in flight and 5 s of RTT, and
/// that counts the samples it is fed. Only a torn read of the two (the
/// in-flight bound of the second with the RTT bound of the first) would
/// cover that sample.
struct Flip {
    flipped: bool,
    fed: usize,
}

impl LimitAlgorithm for Flip {
    fn limit(&self) -> usize {
        8
    }

    fn on_sample(&mut self, s: Sample) -> usize {
        self.fed += 1;
        self.flipped |= s.dropped;
        8
    }

    fn unchanged_by(&self) -> UnchangedBy {
        if self.flipped {
            UnchangedBy::successes(10, Duration::ZERO)
        } else {
            UnchangedBy::successes(1, 10 * SEC)
        }
    }
}

#[test]
fn the_published_unchanged_by_is_never_read_torn() {
    model(|| {
        let clock = ManualClock::new();
        let limiter: &'static AdaptiveLimiter<Flip, ManualClock> =
            Box::leak(Box::new(AdaptiveLimiter::new(
                clock.clone(),
                Flip {
                    flipped: false,
                    fed: 0,
                },
            )));
        let early: Vec<_> = (0..4).map(|_| limiter.try_acquire().unwrap()).collect();
        let slow = limiter.try_acquire().unwrap();
        assert_eq!(slow.in_flight_at_start(), 5);
        clock.advance(5 * SEC);
        let flipper = limiter.try_acquire().unwrap();
        let a = thread::spawn(move || slow.success());
        let b = thread::spawn(move || flipper.dropped());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(limiter.with_algorithm(|f| f.fed), 2, "both fed");
        assert_eq!(limiter.metrics().dropped, 1);
        drop(early);
    });
}
