//! Deterministic tests of the `limit` module: every waiter is polled by
//! hand with a counting waker on a `ManualClock`, so each test pins who is
//! woken, who sleeps, and who gets cells or a slot, including both cancel
//! cases of each future (dropped while queued; dropped after being woken or
//! handed something, before the re-poll). No executor, no threads, no real
//! time (this file also runs under miri).
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::poll::{polled, Polled};
use common::traits::{assert_not_unpin, assert_send_sync};
use sluicegate::futures::{AdaptiveLimiterAcquire, RateLimiterAcquire};
use sluicegate::limit::{
    AdaptiveLimiter, Aimd, ExceedsBurst, Fixed, LimitAlgorithm, LimitToken, Outcome, Quota,
    RateLimiter, Sample, TryAcquireError, UnchangedBy,
};
use sluicegate::time::{Clock, ManualClock};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

type Rate = RateLimiter<ManualClock>;
type RateWait<'a> = Polled<RateLimiterAcquire<'a, ManualClock>>;

#[test]
fn limiters_and_futures_are_send_and_sync_and_the_futures_are_not_unpin() {
    assert_send_sync::<Rate>();
    assert_send_sync::<RateLimiterAcquire<'static, ManualClock>>();
    assert_send_sync::<AdaptiveLimiter<Aimd, ManualClock>>();
    assert_send_sync::<AdaptiveLimiterAcquire<'static, Aimd, ManualClock>>();
    assert_send_sync::<LimitToken<'static, Aimd, ManualClock>>();
    // Both wait in the semaphore's intrusive list.
    assert_not_unpin!(RateLimiterAcquire<'static, ManualClock>);
    assert_not_unpin!(AdaptiveLimiterAcquire<'static, Aimd, ManualClock>);
}

/// A limiter of one cell per second, burst 1, with its cell taken.
fn spent(clock: &ManualClock) -> Rate {
    let limiter = RateLimiter::new(clock.clone(), Quota::per_second(1));
    limiter.try_acquire().unwrap();
    limiter
}

fn queue(limiter: &Rate, n: usize) -> Vec<RateWait<'_>> {
    (0..n)
        .map(|_| {
            let mut w = polled(limiter.acquire());
            w.pending();
            w
        })
        .collect()
}

// --- RateLimiter -----------------------------------------------------------

#[test]
fn only_the_first_waiter_sleeps_and_it_wakes_when_its_cell_is_due() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 3);
    assert_eq!(clock.pending_sleeps(), 1, "one sleep for the whole queue");
    assert_eq!(clock.next_deadline(), Some(SEC));
    clock.advance(SEC - MS);
    assert!(!ws[0].woken());
    clock.advance(MS);
    assert_eq!(ws[0].wakes(), 1);
    assert_eq!(ws[0].ready(), Ok(()));
    // Its turn passed on: the second now sleeps until 2 s.
    assert_eq!(ws[1].wakes(), 1);
    ws[1].pending();
    assert_eq!(clock.next_deadline(), Some(2 * SEC));
    assert!(!ws[2].woken());
}

#[test]
fn waiters_are_admitted_in_arrival_order_one_interval_apart() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 4);
    let mut admitted = Vec::new();
    while admitted.len() < 4 {
        clock.advance_to_next_deadline().expect("someone sleeps");
        for (i, w) in ws.iter_mut().enumerate() {
            if w.woken() && !admitted.iter().any(|&(j, _)| j == i) && w.poll().is_ready() {
                admitted.push((i, clock.now()));
            }
        }
    }
    assert_eq!(
        admitted,
        [(0, SEC), (1, 2 * SEC), (2, 3 * SEC), (3, 4 * SEC)]
    );
    assert!(!limiter.has_waiters());
}

#[test]
fn try_acquire_never_overtakes_a_queued_waiter() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut w = queue(&limiter, 1).pop().unwrap();
    clock.advance(SEC); // the cell is due, and promised to `w`
    assert_eq!(
        limiter.try_acquire(),
        Err(TryAcquireError::TooSoon { retry_after: SEC }),
        "after the waiter's cell, one more interval"
    );
    assert_eq!(w.ready(), Ok(()));
    assert!(limiter.try_acquire().is_err(), "the waiter took the cell");
}

#[test]
fn a_new_acquire_queues_behind_waiters_even_when_cells_are_due() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut first = queue(&limiter, 1).pop().unwrap();
    clock.advance(SEC);
    let mut late = polled(limiter.acquire());
    late.pending();
    assert_eq!(first.ready(), Ok(()));
    assert!(late.woken());
    late.pending(); // its own cell is due at 2 s
    clock.advance(SEC);
    assert_eq!(late.ready(), Ok(()));
}

#[test]
fn retry_after_counts_the_cells_of_queued_waiters() {
    let clock = ManualClock::new();
    let limiter = RateLimiter::new(clock.clone(), Quota::per_second(10).with_burst(4));
    limiter.try_acquire_n(4).unwrap();
    let mut big = polled(limiter.acquire_n(3));
    big.pending();
    assert_eq!(
        limiter.try_acquire_n(2).unwrap_err().retry_after(),
        Some(500 * MS),
        "the 3 queued cells first, then these 2"
    );
    drop(big);
    assert_eq!(
        limiter.try_acquire_n(2).unwrap_err().retry_after(),
        Some(200 * MS)
    );
}

#[test]
fn a_large_request_is_not_starved_by_small_ones() {
    let clock = ManualClock::new();
    let limiter = RateLimiter::new(clock.clone(), Quota::per_second(4));
    limiter.try_acquire_n(4).unwrap();
    let mut big = polled(limiter.acquire_n(4));
    big.pending();
    let mut small = queue(&limiter, 3);
    // One cell is due every 250 ms; none of the small ones may take it.
    for _ in 0..3 {
        clock.advance(250 * MS);
        assert!(!big.woken());
        assert!(small.iter().all(|w| !w.woken()));
        assert!(limiter.try_acquire().is_err());
    }
    clock.advance(250 * MS);
    assert_eq!(big.ready(), Ok(()));
    assert!(small[0].woken());
    small[0].pending();
    clock.advance(250 * MS);
    assert_eq!(small[0].ready(), Ok(()));
}

#[test]
fn more_than_the_burst_fails_at_once_without_queueing() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut w = polled(limiter.acquire_n(2));
    assert_eq!(
        w.ready(),
        Err(ExceedsBurst {
            requested: 2,
            burst: 1
        })
    );
    assert!(!limiter.has_waiters());
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(
        limiter.try_acquire_n(2),
        Err(TryAcquireError::ExceedsBurst(ExceedsBurst {
            requested: 2,
            burst: 1
        }))
    );
}

#[test]
fn zero_cells_are_ready_at_once_even_behind_waiters() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let _w = queue(&limiter, 1);
    assert_eq!(polled(limiter.acquire_n(0)).ready(), Ok(()));
    assert_eq!(limiter.try_acquire_n(0), Ok(()));
}

#[test]
fn an_uncontended_acquire_takes_its_cell_without_sleeping() {
    let clock = ManualClock::new();
    let limiter = RateLimiter::new(clock.clone(), Quota::per_second(2));
    assert_eq!(polled(limiter.acquire_n(2)).ready(), Ok(()));
    assert_eq!(clock.pending_sleeps(), 0);
    assert!(limiter.try_acquire().is_err());
}

// Cancel case 1: dropped while queued.

#[test]
fn a_waiter_dropped_in_the_queue_keeps_the_others_in_order() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 3);
    let mut third = ws.pop().unwrap();
    let second = ws.pop().unwrap();
    let mut first = ws.pop().unwrap();
    drop(second);
    clock.advance(SEC);
    assert_eq!(first.ready(), Ok(()));
    assert!(third.woken());
    third.pending();
    clock.advance(SEC);
    assert_eq!(third.ready(), Ok(()), "it got the second's place");
    assert!(!limiter.has_waiters());
}

#[test]
fn the_sleeping_first_waiter_dropped_passes_its_turn_on() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 2);
    let mut second = ws.pop().unwrap();
    drop(ws.pop().unwrap());
    assert_eq!(second.wakes(), 1, "the turn passed on at once");
    assert_eq!(
        clock.pending_sleeps(),
        0,
        "the dropped one's sleep went with it"
    );
    second.pending();
    assert_eq!(
        clock.next_deadline(),
        Some(SEC),
        "the cell it left is this one's"
    );
    clock.advance(SEC);
    assert_eq!(second.ready(), Ok(()));
}

// Cancel case 2: woken (by the timer, or handed the turn), dropped before
// the re-poll.

#[test]
fn the_first_waiter_woken_by_the_timer_and_dropped_takes_nothing() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 2);
    let mut second = ws.pop().unwrap();
    let first = ws.pop().unwrap();
    clock.advance(SEC);
    assert!(first.woken());
    drop(first);
    assert!(second.woken());
    assert_eq!(second.ready(), Ok(()), "the due cell was not taken");
    assert!(limiter.try_acquire().is_err());
}

#[test]
fn a_waiter_handed_the_turn_and_dropped_passes_it_on() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut ws = queue(&limiter, 3);
    let mut third = ws.pop().unwrap();
    let second = ws.pop().unwrap();
    let mut first = ws.pop().unwrap();
    clock.advance(SEC);
    assert_eq!(first.ready(), Ok(()));
    assert!(second.woken(), "handed the turn");
    drop(second);
    assert!(third.woken(), "the turn went on");
    third.pending();
    clock.advance(SEC);
    assert_eq!(third.ready(), Ok(()));
    assert!(!limiter.has_waiters());
    // Exactly two cells were taken in 2 s: the next is due at 3 s.
    assert_eq!(limiter.try_acquire().unwrap_err().retry_after(), Some(SEC));
}

#[test]
fn dropping_every_waiter_leaves_no_queue_and_no_sleep() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let ws = queue(&limiter, 5);
    drop(ws);
    assert!(!limiter.has_waiters());
    assert_eq!(clock.pending_sleeps(), 0);
    clock.advance(SEC);
    assert!(limiter.try_acquire().is_ok());
}

#[test]
fn a_repoll_with_a_new_waker_moves_the_wake_up_there() {
    let clock = ManualClock::new();
    let limiter = spent(&clock);
    let mut fut = Box::pin(limiter.acquire());
    let a = Arc::new(common::poll::CountingWaker::default());
    let b = Arc::new(common::poll::CountingWaker::default());
    let poll_with = |fut: &mut std::pin::Pin<Box<RateLimiterAcquire<'_, ManualClock>>>,
                     w: &Arc<common::poll::CountingWaker>| {
        let waker = std::task::Waker::from(w.clone());
        fut.as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
    };
    use std::future::Future;
    assert!(poll_with(&mut fut, &a).is_pending());
    assert!(poll_with(&mut fut, &b).is_pending());
    clock.advance(SEC);
    assert_eq!((a.wakes(), b.wakes()), (0, 1));
    assert!(poll_with(&mut fut, &b).is_ready());
}

#[test]
fn a_static_limiter_on_integer_ticks() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NOW: AtomicU64 = AtomicU64::new(0);
    struct Ticks;
    impl Clock for Ticks {
        type Instant = u64;
        fn now(&self) -> u64 {
            NOW.load(Ordering::SeqCst)
        }
    }
    static LIMIT: RateLimiter<Ticks> = RateLimiter::new_at(Ticks, Quota::per_second(1000), 0);
    LIMIT.try_acquire_n(1000).unwrap();
    assert!(LIMIT.try_acquire().is_err());
    NOW.store(1_000_000, Ordering::SeqCst); // 1 ms of ticks
    LIMIT.try_acquire().unwrap();
    assert!(LIMIT.try_acquire().is_err());
}

// --- AdaptiveLimiter -------------------------------------------------------

/// An algorithm that records its samples and answers a scripted limit and
/// a scripted [`UnchangedBy`] (nothing, unless told).
#[derive(Clone)]
struct Script {
    limit: usize,
    next: Arc<Mutex<Option<usize>>>,
    samples: Arc<Mutex<Vec<Sample>>>,
    quiet: Arc<Mutex<UnchangedBy>>,
}

impl Script {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            next: Arc::default(),
            samples: Arc::default(),
            quiet: Arc::new(Mutex::new(UnchangedBy::NOTHING)),
        }
    }
    fn answer(&self, limit: usize) {
        *self.next.lock().unwrap() = Some(limit);
    }
    /// What `unchanged_by` says from now on (the limiter reads it after the
    /// next sample it feeds).
    fn quiet(&self, q: UnchangedBy) {
        *self.quiet.lock().unwrap() = q;
    }
    fn samples(&self) -> Vec<Sample> {
        self.samples.lock().unwrap().clone()
    }
}

impl LimitAlgorithm for Script {
    fn limit(&self) -> usize {
        self.limit
    }
    fn on_sample(&mut self, sample: Sample) -> usize {
        self.samples.lock().unwrap().push(sample);
        if let Some(l) = self.next.lock().unwrap().take() {
            self.limit = l;
        }
        self.limit
    }
    fn unchanged_by(&self) -> UnchangedBy {
        *self.quiet.lock().unwrap()
    }
}

/// A script whose initial `unchanged_by` covers successes with fewer than
/// `below` calls in flight and an RTT of at most `rtt`.
fn quiet_adaptive(limit: usize, below: usize, rtt: Duration) -> (ManualClock, Script, Adaptive) {
    let clock = ManualClock::new();
    let script = Script::new(limit);
    script.quiet(UnchangedBy::successes(below, rtt));
    let limiter = AdaptiveLimiter::new(clock.clone(), script.clone());
    (clock, script, limiter)
}

type Adaptive = AdaptiveLimiter<Script, ManualClock>;

fn adaptive(limit: usize) -> (ManualClock, Script, Adaptive) {
    let clock = ManualClock::new();
    let script = Script::new(limit);
    let limiter = AdaptiveLimiter::new(clock.clone(), script.clone());
    (clock, script, limiter)
}

#[test]
fn a_verdict_feeds_the_rtt_on_the_clock_and_the_calls_in_flight_at_admission() {
    let (clock, script, limiter) = adaptive(4);
    let a = limiter.try_acquire().unwrap();
    clock.advance(5 * MS);
    let b = limiter.try_acquire().unwrap();
    clock.advance(20 * MS);
    b.success();
    a.dropped();
    assert_eq!(
        script.samples(),
        [Sample::success(20 * MS, 2), Sample::dropped(25 * MS, 1)]
    );
    let m = limiter.metrics();
    assert_eq!((m.dropped, m.ignored, m.in_flight), (1, 0, 0));
}

#[test]
fn a_token_dropped_without_a_verdict_is_ignored_and_feeds_nothing() {
    let (_clock, script, limiter) = adaptive(1);
    drop(limiter.try_acquire().unwrap());
    limiter.try_acquire().unwrap().record(Outcome::Ignored);
    assert!(script.samples().is_empty());
    assert_eq!(limiter.metrics().ignored, 2);
    assert!(limiter.try_acquire().is_ok(), "the slot came back");
}

#[test]
fn adaptive_waiters_are_served_fifo_as_slots_free() {
    let (_clock, _script, limiter) = adaptive(1);
    let held = limiter.try_acquire().unwrap();
    let mut ws: Vec<_> = (0..3).map(|_| polled(limiter.acquire())).collect();
    ws.iter_mut().for_each(Polled::pending);
    assert!(limiter.try_acquire().is_err(), "no barging past waiters");
    held.success();
    assert!(ws[0].woken() && !ws[1].woken());
    let t0 = ws[0].ready();
    drop(t0);
    assert!(ws[1].woken() && !ws[2].woken());
}

#[test]
fn a_grown_limit_wakes_as_many_waiters_as_it_adds() {
    let (_clock, script, limiter) = adaptive(1);
    let held = limiter.try_acquire().unwrap();
    let mut ws: Vec<_> = (0..4).map(|_| polled(limiter.acquire())).collect();
    ws.iter_mut().for_each(Polled::pending);
    script.answer(3);
    held.success();
    assert_eq!(limiter.limit(), 3);
    let woken: Vec<bool> = ws.iter().map(Polled::woken).collect();
    assert_eq!(woken, [true, true, true, false]);
    let tokens: Vec<_> = ws[..3].iter_mut().map(Polled::ready).collect();
    assert_eq!(limiter.in_flight(), 3);
    drop(tokens);
}

#[test]
fn a_shrunk_limit_takes_slots_back_as_calls_end_and_cancels_nothing() {
    let (_clock, script, limiter) = adaptive(4);
    let mut tokens: Vec<_> = (0..4).map(|_| limiter.try_acquire().unwrap()).collect();
    let mut waiter = polled(limiter.acquire());
    waiter.pending();
    script.answer(2);
    tokens.pop().unwrap().dropped();
    assert_eq!(limiter.limit(), 2);
    assert_eq!(
        limiter.in_flight(),
        3,
        "in flight above the limit: none cancelled"
    );
    tokens.pop().unwrap().success(); // pays the rest of the debt
    assert!(!waiter.woken());
    tokens.pop().unwrap().success();
    assert!(waiter.woken(), "back under the limit");
    let t = waiter.ready();
    assert_eq!(limiter.in_flight(), 2);
    drop((t, tokens));
    assert_eq!(limiter.metrics().in_flight, 0);
    let all: Vec<_> = (0..2).map(|_| limiter.try_acquire().unwrap()).collect();
    assert!(limiter.try_acquire().is_err(), "exactly the new limit");
    drop(all);
}

#[test]
fn the_limit_is_kept_at_one_at_least() {
    let (_clock, script, limiter) = adaptive(3);
    script.answer(0);
    limiter.try_acquire().unwrap().dropped();
    assert_eq!(limiter.limit(), 1);
    let t = limiter.try_acquire().unwrap();
    assert!(limiter.try_acquire().is_err());
    drop(t);
}

#[test]
fn aimd_through_the_limiter_backs_off_and_grows_back() {
    let clock = ManualClock::new();
    let limiter = AdaptiveLimiter::new(&clock, Aimd::new().limits(1, 10).initial_limit(10));
    let tokens: Vec<_> = (0..10).map(|_| limiter.try_acquire().unwrap()).collect();
    let mut it = tokens.into_iter();
    it.next().unwrap().dropped();
    assert_eq!(limiter.limit(), 9);
    for t in it {
        t.success(); // admitted with 10 in flight: grows by one each
    }
    assert_eq!(limiter.limit(), 10);
}

#[test]
fn a_success_the_algorithm_says_changes_nothing_is_counted_but_not_fed() {
    let (clock, script, limiter) = quiet_adaptive(8, 2, 10 * MS);
    limiter.try_acquire().unwrap().success(); // 1 in flight, 0 ms: covered
    let a = limiter.try_acquire().unwrap();
    let b = limiter.try_acquire().unwrap(); // 2 in flight: not covered
    clock.advance(10 * MS);
    b.success();
    a.success(); // 1 in flight, 10 ms: covered (at most)
    let c = limiter.try_acquire().unwrap();
    clock.advance(11 * MS);
    c.success(); // too slow: fed
    limiter.try_acquire().unwrap().dropped(); // a drop is never covered
    assert_eq!(
        script.samples(),
        [
            Sample::success(10 * MS, 2),
            Sample::success(11 * MS, 1),
            Sample::dropped(Duration::ZERO, 1)
        ]
    );
    let m = limiter.metrics();
    assert_eq!((m.dropped, m.ignored, m.in_flight), (1, 0, 0));
    let all: Vec<_> = (0..8).map(|_| limiter.try_acquire().unwrap()).collect();
    assert!(limiter.try_acquire().is_err(), "every slot came back");
    drop(all);
}

#[test]
fn a_new_unchanged_by_is_read_after_the_next_fed_sample() {
    let (_clock, script, limiter) = adaptive(4);
    script.quiet(UnchangedBy::successes(usize::MAX, Duration::MAX));
    limiter.try_acquire().unwrap().success(); // fed: the limiter knew nothing yet
    limiter.try_acquire().unwrap().success(); // covered now
    assert_eq!(script.samples().len(), 1);
    script.quiet(UnchangedBy::NOTHING);
    limiter.try_acquire().unwrap().dropped(); // fed, and reads NOTHING
    limiter.try_acquire().unwrap().success(); // fed again
    assert_eq!(script.samples().len(), 3);
}

#[test]
fn a_covered_success_still_gives_its_slot_to_the_next_waiter() {
    let (_clock, script, limiter) = quiet_adaptive(1, usize::MAX, Duration::MAX);
    let held = limiter.try_acquire().unwrap();
    let mut w = polled(limiter.acquire());
    w.pending();
    held.success();
    assert!(w.woken());
    assert_eq!(w.ready().in_flight_at_start(), 1);
    assert!(script.samples().is_empty());
}

/// An algorithm that counts the samples it is fed and otherwise is `A`.
struct Counted<A> {
    inner: A,
    fed: usize,
}

impl<A: LimitAlgorithm> LimitAlgorithm for Counted<A> {
    fn limit(&self) -> usize {
        self.inner.limit()
    }
    fn on_sample(&mut self, sample: Sample) -> usize {
        self.fed += 1;
        self.inner.on_sample(sample)
    }
    fn unchanged_by(&self) -> UnchangedBy {
        self.inner.unchanged_by()
    }
}

fn counted<A: LimitAlgorithm>(inner: A) -> AdaptiveLimiter<Counted<A>, ManualClock> {
    AdaptiveLimiter::new(ManualClock::new(), Counted { inner, fed: 0 })
}

#[test]
fn aimd_successes_below_half_the_limit_are_not_fed_and_the_rest_are() {
    let limiter = counted(Aimd::new().limits(1, 20).initial_limit(10));
    let tokens: Vec<_> = (0..4).map(|_| limiter.try_acquire().unwrap()).collect();
    tokens.into_iter().for_each(LimitToken::success); // at most 4 of 10 in flight
    assert_eq!(limiter.with_algorithm(|a| a.fed), 0, "no lock, no sample");
    let tokens: Vec<_> = (0..5).map(|_| limiter.try_acquire().unwrap()).collect();
    tokens.into_iter().for_each(LimitToken::success); // the 5th was admitted at half
    assert_eq!(limiter.with_algorithm(|a| a.fed), 1);
    assert_eq!(limiter.limit(), 11);
    limiter.try_acquire().unwrap().dropped(); // a drop is always fed
    assert_eq!(limiter.with_algorithm(|a| a.fed), 2);
    assert_eq!(limiter.limit(), 9);
    assert_eq!(limiter.metrics().dropped, 1);
}

#[test]
fn aimd_at_its_maximum_feeds_no_success_whatever_is_in_flight() {
    let limiter = counted(Aimd::new().limits(1, 4).initial_limit(4));
    limiter.try_acquire().unwrap().dropped(); // 4 → 3: fed, and the state is in bounds
    let tokens: Vec<_> = (0..3).map(|_| limiter.try_acquire().unwrap()).collect();
    tokens.into_iter().for_each(LimitToken::success); // grows back to 4
    let fed = limiter.with_algorithm(|a| a.fed);
    assert_eq!(limiter.limit(), 4);
    let tokens: Vec<_> = (0..4).map(|_| limiter.try_acquire().unwrap()).collect();
    tokens.into_iter().for_each(LimitToken::success); // all in use, at the maximum
    assert_eq!(
        limiter.with_algorithm(|a| a.fed),
        fed,
        "none fed at the maximum"
    );
    assert_eq!(limiter.limit(), 4);
}

#[test]
fn a_fixed_limit_feeds_no_success_and_every_drop() {
    let limiter = counted(Fixed::new(3));
    let tokens: Vec<_> = (0..3).map(|_| limiter.try_acquire().unwrap()).collect();
    tokens.into_iter().for_each(LimitToken::success);
    assert_eq!(limiter.with_algorithm(|a| a.fed), 0);
    limiter.try_acquire().unwrap().dropped();
    assert_eq!(limiter.with_algorithm(|a| a.fed), 1);
    assert_eq!(limiter.metrics().dropped, 1);
}

/// A `u64` clock that panics while told to.
#[derive(Default)]
struct Flaky(std::sync::atomic::AtomicBool);

impl Clock for Flaky {
    type Instant = u64;
    fn now(&self) -> u64 {
        assert!(
            !self.0.load(std::sync::atomic::Ordering::SeqCst),
            "clock failure"
        );
        0
    }
}

#[test]
fn a_clock_that_panics_at_admission_loses_no_slot() {
    let limiter = AdaptiveLimiter::new(Flaky::default(), Fixed::new(2));
    limiter
        .clock()
        .0
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| limiter.try_acquire()));
    assert!(r.is_err());
    limiter
        .clock()
        .0
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let both = (
        limiter.try_acquire().unwrap(),
        limiter.try_acquire().unwrap(),
    );
    assert_eq!(limiter.in_flight(), 2);
    drop(both);
}

#[test]
fn an_algorithm_that_panics_on_a_sample_loses_no_slot() {
    struct Explodes;
    impl LimitAlgorithm for Explodes {
        fn limit(&self) -> usize {
            2
        }
        fn on_sample(&mut self, _: Sample) -> usize {
            panic!("algorithm failure")
        }
    }
    let limiter = AdaptiveLimiter::new(ManualClock::new(), Explodes);
    let token = limiter.try_acquire().unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| token.dropped()));
    assert!(r.is_err());
    assert_eq!(limiter.in_flight(), 0, "the slot came back");
    let both = (
        limiter.try_acquire().unwrap(),
        limiter.try_acquire().unwrap(),
    );
    drop(both); // ignored: no sample, no panic
    assert_eq!(limiter.metrics().ignored, 2);
}

// Cancel cases of `AdaptiveLimiterAcquire`.

#[test]
fn an_adaptive_waiter_dropped_while_queued_gives_its_place_up() {
    let (_clock, _script, limiter) = adaptive(1);
    let held = limiter.try_acquire().unwrap();
    let mut ws: Vec<_> = (0..2).map(|_| polled(limiter.acquire())).collect();
    ws.iter_mut().for_each(Polled::pending);
    let mut second = ws.pop().unwrap();
    drop(ws.pop().unwrap());
    held.success();
    assert!(second.woken());
    let t = second.ready();
    assert_eq!(t.in_flight_at_start(), 1);
    let m = limiter.metrics();
    assert_eq!(
        (m.ignored, m.in_flight),
        (0, 1),
        "the dropped waiter counted nothing"
    );
}

#[test]
fn an_adaptive_waiter_handed_a_slot_and_dropped_passes_it_on() {
    let (_clock, script, limiter) = adaptive(1);
    let held = limiter.try_acquire().unwrap();
    let mut ws: Vec<_> = (0..2).map(|_| polled(limiter.acquire())).collect();
    ws.iter_mut().for_each(Polled::pending);
    let mut second = ws.pop().unwrap();
    let first = ws.pop().unwrap();
    held.success();
    assert!(first.woken());
    drop(first);
    assert!(second.woken(), "the slot went on");
    let t = second.ready();
    t.success();
    assert_eq!(script.samples().len(), 2);
    let m = limiter.metrics();
    assert_eq!((m.ignored, m.in_flight), (0, 0));
}

#[test]
fn the_fixed_limit_never_moves() {
    let clock = ManualClock::new();
    let limiter = AdaptiveLimiter::new(&clock, Fixed::new(2));
    for _ in 0..5 {
        limiter.try_acquire().unwrap().dropped();
    }
    assert_eq!(limiter.limit(), 2);
}

#[test]
fn the_breaker_takes_the_shared_outcome_vocabulary() {
    use sluicegate::breaker::{CircuitBreaker, State};
    let breaker = CircuitBreaker::new(ManualClock::new(), 2, SEC);
    breaker.try_acquire().unwrap().record(Outcome::Failure);
    breaker.try_acquire().unwrap().record(Outcome::Ignored);
    breaker.try_acquire().unwrap().record(Outcome::Success); // resets the streak
    breaker.try_acquire().unwrap().record(Outcome::Failure);
    assert_eq!(breaker.state(), State::Closed);
    let m = breaker.metrics();
    assert_eq!((m.successes, m.failures, m.cancelled), (1, 2, 1));
}
