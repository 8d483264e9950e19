//! `time`: ManualClock, timeout and interval, under every executor and by
//! hand-polling. Nothing here sleeps for real.
mod common;

use std::future::{pending, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::poll::{polled, CountingWaker};
use futures_lite::future::yield_now;
use sluicegate::breaker::{CircuitBreaker, State};
use sluicegate::retry::{Backoff, Retry, RetryPolicy};
use sluicegate::time::{
    interval, sleeper_fn, timeout, timeout_at, DynSleep, DynTimer, Elapsed, ManualClock,
    ManualSleep, MissedTickBehavior, SendTimer, Sleeper, TimeoutExt, Timer, WithClock,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Yields until `n` sleeps are registered on `clock`.
async fn until_sleeping(clock: &ManualClock, n: usize) {
    while clock.pending_sleeps() < n {
        yield_now().await;
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn advance_from_another_task_wakes_a_sleeping_task() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let sleeper = clock.clone();
        let task = ex.spawn(async move {
            sleeper.sleep(secs(60)).await;
            sleeper.now()
        });
        until_sleeping(&clock, 1).await;
        clock.advance(secs(59));
        assert_eq!(clock.pending_sleeps(), 1, "not due yet under {}", ex.name());
        clock.advance(secs(1));
        assert_eq!(task.await, secs(60));
        assert_eq!(clock.pending_sleeps(), 0);
    });
}

#[test]
fn timeout_elapses_once_the_clock_passes_the_deadline() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let c = clock.clone();
        let task = ex.spawn(async move { timeout(&c, secs(5), pending::<()>()).await });
        until_sleeping(&clock, 1).await;
        clock.advance(secs(5));
        assert_eq!(task.await, Err::<(), _>(elapsed()));
    });
}

fn elapsed() -> Elapsed {
    let instant = sleeper_fn(|_| std::future::ready(()));
    futures_lite::future::block_on(timeout(instant, Duration::ZERO, pending::<()>())).unwrap_err()
}

#[test]
fn timeout_returns_the_output_of_a_future_that_finishes_first() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let c = clock.clone();
        let task = ex.spawn(async move { rx.timeout(&c, secs(5)).await });
        until_sleeping(&clock, 1).await;
        clock.advance(secs(4));
        tx.send(7).unwrap();
        assert_eq!(task.await, Ok(Ok(7)));
        assert_eq!(
            clock.pending_sleeps(),
            0,
            "the sleep unregistered on completion"
        );
    });
}

#[test]
fn a_ready_future_beats_an_expired_deadline() {
    let clock = ManualClock::new();
    clock.advance(secs(10));
    let mut t = polled(timeout_at(&clock, secs(1), async { 3 }));
    assert_eq!(t.ready(), Ok(3));
}

#[test]
fn dropping_a_pending_timeout_drops_the_inner_future_and_its_sleep() {
    let clock = ManualClock::new();
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropFlag(dropped.clone());
    let mut t = polled(timeout(&clock, secs(5), async move {
        let _guard = guard;
        pending::<()>().await
    }));
    t.pending();
    assert_eq!(clock.pending_sleeps(), 1);
    drop(t);
    assert!(dropped.load(SeqCst));
    assert_eq!(clock.pending_sleeps(), 0);
}

#[test]
fn a_timeout_woken_by_its_deadline_then_dropped_leaves_nothing_behind() {
    let clock = ManualClock::new();
    let mut t = polled(timeout(&clock, secs(5), pending::<()>()));
    t.pending();
    clock.advance(secs(5));
    assert_eq!(t.wakes(), 1);
    drop(t);
    assert_eq!(clock.pending_sleeps(), 0);
    assert_eq!(clock.next_deadline(), None);
}

#[test]
fn advance_wakes_every_due_sleep_and_only_those() {
    let clock = ManualClock::new();
    let mut sleeps: Vec<_> = [1, 2, 3].map(|s| polled(clock.sleep(secs(s)))).into();
    for s in &mut sleeps {
        s.pending();
    }
    clock.advance(secs(2));
    assert_eq!(
        sleeps.iter().map(|s| s.wakes()).collect::<Vec<_>>(),
        [1, 1, 0]
    );
    assert_eq!(sleeps[0].poll(), Poll::Ready(()));
    assert_eq!(sleeps[1].poll(), Poll::Ready(()));
    sleeps[2].pending();
    assert_eq!(clock.next_deadline(), Some(secs(3)));
    assert_eq!(clock.advance_to_next_deadline(), Some(secs(3)));
    assert_eq!(sleeps[2].poll(), Poll::Ready(()));
}

#[test]
fn a_sleep_repolled_with_a_new_waker_wakes_the_new_one() {
    let clock = ManualClock::new();
    let mut sleep = pin!(clock.sleep(secs(1)));
    let (a, b) = (
        Arc::new(CountingWaker::default()),
        Arc::new(CountingWaker::default()),
    );
    let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
    assert!(sleep
        .as_mut()
        .poll(&mut Context::from_waker(&wa))
        .is_pending());
    assert!(sleep
        .as_mut()
        .poll(&mut Context::from_waker(&wb))
        .is_pending());
    assert_eq!(
        clock.pending_sleeps(),
        1,
        "re-polling does not register twice"
    );
    clock.advance(secs(1));
    assert_eq!((a.wakes(), b.wakes()), (0, 1));
    assert!(sleep
        .as_mut()
        .poll(&mut Context::from_waker(&wb))
        .is_ready());
}

#[test]
fn time_never_goes_backwards_and_saturates_at_the_end() {
    let clock = ManualClock::new();
    clock.advance_to(secs(5));
    clock.advance_to(secs(1));
    assert_eq!(clock.now(), secs(5));
    let mut forever = polled(clock.sleep(Duration::MAX));
    forever.pending();
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::MAX);
    assert_eq!(forever.ready(), ());
}

#[test]
fn auto_advance_jumps_straight_to_each_deadline() {
    let clock = ManualClock::new();
    let order = futures_lite::future::block_on(clock.auto_advance(async {
        let mut seen = Vec::new();
        for s in [3, 1, 2] {
            clock.sleep(secs(s)).await;
            seen.push(clock.now());
        }
        seen
    }));
    assert_eq!(order, [secs(3), secs(4), secs(6)]);
}

#[test]
fn auto_advance_waits_for_an_ordinary_wake_when_nothing_sleeps() {
    let clock = ManualClock::new();
    let (tx, rx) = futures::channel::oneshot::channel::<u8>();
    let mut f = polled(clock.auto_advance(rx));
    f.pending();
    assert_eq!(clock.now(), Duration::ZERO);
    tx.send(1).unwrap();
    assert_eq!(f.wakes(), 1, "the wake-up reached the outer waker");
    assert_eq!(f.ready(), Ok(1));
}

#[test]
fn interval_ticks_on_schedule_without_drift() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let c = clock.clone();
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let task = ex.spawn(async move {
            let mut every = interval(&c, secs(5));
            let mut seen = Vec::new();
            for _ in 0..4 {
                seen.push(every.tick().await);
                t.fetch_add(1, SeqCst);
            }
            seen
        });
        // Advance in uneven steps; ticks still land on multiples of 5 s.
        while ticks.load(SeqCst) < 4 {
            if clock.pending_sleeps() > 0 {
                clock.advance(secs(3));
            }
            yield_now().await;
        }
        assert_eq!(task.await, [0, 5, 10, 15].map(secs));
    });
}

#[test]
fn interval_skips_missed_ticks_by_default() {
    let clock = ManualClock::new();
    let mut every = interval(&clock, secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(0));
    clock.advance(secs(17));
    assert_eq!(polled(every.tick()).ready(), secs(5), "one late tick");
    let mut next = polled(every.tick());
    next.pending();
    clock.advance(secs(3));
    assert_eq!(next.ready(), secs(20));
}

#[test]
fn interval_bursts_missed_ticks_when_asked() {
    let clock = ManualClock::new();
    let mut every = interval(&clock, secs(5));
    every.set_missed_tick_behavior(MissedTickBehavior::Burst);
    assert_eq!(polled(every.tick()).ready(), secs(0));
    clock.advance(secs(17));
    for due in [5, 10, 15] {
        assert_eq!(polled(every.tick()).ready(), secs(due));
    }
    polled(every.tick()).pending();
}

#[test]
fn a_dropped_tick_loses_no_tick() {
    let clock = ManualClock::new();
    let mut every = interval(&clock, secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(0));
    let mut tick = polled(every.tick());
    tick.pending();
    drop(tick);
    assert_eq!(clock.pending_sleeps(), 0);
    clock.advance(secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(5));
}

#[test]
fn interval_is_a_stream_of_ticks() {
    use futures::StreamExt;
    let clock = ManualClock::new();
    let ticks: Vec<_> = futures_lite::future::block_on(
        clock.auto_advance(interval(&clock, secs(2)).take(3).collect()),
    );
    assert_eq!(ticks, [0, 2, 4].map(secs));
}

/// Polls `ticks` as a `Stream` once with a no-op waker.
fn poll_stream(ticks: &mut sluicegate::time::Interval<&ManualClock>) -> Poll<Option<Duration>> {
    use futures::Stream;
    std::pin::Pin::new(ticks).poll_next(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_reset_during_a_pending_stream_tick_moves_that_tick() {
    let clock = ManualClock::new();
    let mut ticks = interval(&clock, secs(5));
    assert_eq!(poll_stream(&mut ticks), Poll::Ready(Some(secs(0))));
    assert!(poll_stream(&mut ticks).is_pending()); // sleeps until 5 s
    clock.advance(secs(3));
    ticks.reset();
    assert_eq!(ticks.next_deadline(), secs(8));
    assert_eq!(clock.pending_sleeps(), 0, "the stale sleep is gone");
    clock.advance(secs(2)); // 5 s: the old deadline, not the new one
    assert!(poll_stream(&mut ticks).is_pending());
    clock.advance(secs(3));
    assert_eq!(poll_stream(&mut ticks), Poll::Ready(Some(secs(8))));
}

#[test]
fn a_stream_tick_after_a_tick_future_waits_for_the_new_deadline() {
    let clock = ManualClock::new();
    let mut ticks = interval(&clock, secs(5));
    assert_eq!(poll_stream(&mut ticks), Poll::Ready(Some(secs(0))));
    assert!(poll_stream(&mut ticks).is_pending()); // a sleep until 5 s
    clock.advance(secs(5));
    assert_eq!(polled(ticks.tick()).ready(), secs(5)); // its own sleep
    assert_eq!(ticks.next_deadline(), secs(10));
    // The stream's sleep was made for 5 s: it must not end the 10 s tick.
    assert!(poll_stream(&mut ticks).is_pending());
    assert_eq!(clock.pending_sleeps(), 1);
    clock.advance(secs(5));
    assert_eq!(poll_stream(&mut ticks), Poll::Ready(Some(secs(10))));
}

/// Makes `sleep_until(target)` sleeps on `clock` through `make` while
/// another thread advances `clock` a nanosecond at a time, and checks that
/// each registers for `expected`. A handle that computes "deadline - now"
/// and then sleeps from a later now registers a later deadline; on the old
/// `&ManualClock` code that showed within a few thousand rounds.
fn assert_deadline_kept_while_another_thread_advances<S: Future<Output = ()>>(
    clock: &ManualClock,
    make: impl Fn() -> S,
    expected: Duration,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let advancer = {
        let (clock, stop) = (clock.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                clock.advance(Duration::from_nanos(1));
            }
        })
    };
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..20_000 {
        let mut sleep = pin!(make());
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert_eq!(clock.next_deadline(), Some(expected));
    }
    stop.store(true, SeqCst);
    advancer.join().unwrap();
}

#[test]
fn a_borrowed_manual_clock_keeps_an_absolute_deadline_while_another_thread_advances_it() {
    let clock = ManualClock::new();
    let target = secs(3600);
    let borrowed = &clock;
    assert_deadline_kept_while_another_thread_advances(
        &clock,
        || <&ManualClock as Timer>::sleep_until(&borrowed, target),
        target,
    );
}

#[test]
fn a_shared_or_boxed_manual_clock_keeps_an_absolute_deadline_while_another_thread_advances_it() {
    let clock = ManualClock::new();
    let target = secs(3600);
    let shared = Arc::new(clock.clone());
    assert_deadline_kept_while_another_thread_advances(
        &clock,
        || <Arc<ManualClock> as Timer>::sleep_until(&shared, target),
        target,
    );
    let boxed = Box::new(clock.clone());
    assert_deadline_kept_while_another_thread_advances(
        &clock,
        || <Box<ManualClock> as Timer>::sleep_until(&boxed, target),
        target,
    );
    let borrowed_shared = &shared;
    assert_deadline_kept_while_another_thread_advances(
        &clock,
        || <&Arc<ManualClock> as Timer>::sleep_until(&borrowed_shared, target),
        target,
    );
}

#[test]
#[should_panic(expected = "interval period must be non-zero")]
fn a_zero_period_is_refused() {
    let clock = ManualClock::new();
    let _ = interval(&clock, Duration::ZERO);
}

#[test]
fn many_sleepers_all_wake_exactly_at_their_deadlines() {
    common::run(|ex| async move {
        const N: u64 = 64;
        let clock = ManualClock::new();
        let woke_early = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..N)
            .map(|i| {
                let c = clock.clone();
                let early = woke_early.clone();
                ex.spawn(async move {
                    let deadline = Duration::from_millis(i * 37 % 1000);
                    c.sleep_until(deadline).await;
                    // Woken only once time has reached the deadline.
                    if c.now() < deadline {
                        early.fetch_add(1, SeqCst);
                    }
                    c.now()
                })
            })
            .collect();
        // Sleepers with deadline 0 finish at once; the rest register.
        let sleeping = (0..N).filter(|i| i * 37 % 1000 != 0).count();
        until_sleeping(&clock, sleeping).await;
        while clock.pending_sleeps() > 0 {
            clock.advance(Duration::from_millis(1));
        }
        let mut done = 0;
        for t in tasks {
            assert!(t.await <= secs(1));
            done += 1;
        }
        assert_eq!(done, N);
        assert_eq!(woke_early.load(SeqCst), 0);
    });
}

#[test]
fn a_closure_sleeps_through_sleeper_fn() {
    let calls = AtomicUsize::new(0);
    let sleeper = sleeper_fn(|d: Duration| {
        calls.fetch_add(1, SeqCst);
        assert_eq!(d, secs(2));
        std::future::ready(())
    });
    let r = futures_lite::future::block_on(timeout(&sleeper, secs(2), pending::<()>()));
    assert!(r.is_err());
    let r = futures_lite::future::block_on(timeout(sleeper, secs(2), pending::<()>()));
    assert!(r.is_err());
    assert_eq!(calls.load(SeqCst), 2);
}

#[test]
fn a_sleeper_fn_paired_with_a_clock_drives_an_interval() {
    let clock = ManualClock::new();
    // A sleeper that sleeps on the clock, as a runtime's `sleep` would.
    let c = clock.clone();
    let timer = WithClock::new(sleeper_fn(move |d| c.sleep(d)), clock.clone());
    let mut every = interval(timer, secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(0));
    let mut next = polled(every.tick());
    next.pending();
    clock.advance(secs(5));
    assert_eq!(next.ready(), secs(5));
}

#[test]
fn shared_and_boxed_clocks_drive_timeout_interval_retry_and_breaker() {
    let clock = ManualClock::new();
    let shared = Arc::new(clock.clone());
    let boxed = Box::new(clock.clone());

    let mut t = polled(timeout(shared.clone(), secs(1), pending::<()>()));
    let mut u = polled(pending::<()>().timeout(boxed.clone(), secs(2)));
    let mut v = polled(timeout_at(Arc::clone(&shared), secs(3), pending::<()>()));
    t.pending();
    u.pending();
    v.pending();
    assert_eq!(clock.pending_sleeps(), 3);
    clock.advance(secs(3));
    assert!(t.ready().is_err() && u.ready().is_err() && v.ready().is_err());

    let mut a = interval(shared.clone(), secs(5));
    let mut b = interval(boxed.clone(), secs(5));
    assert_eq!(polled(a.tick()).ready(), secs(3));
    assert_eq!(polled(b.tick()).ready(), secs(3));

    let policy = RetryPolicy::new(Backoff::constant(secs(1))).max_attempts(3);
    let r =
        futures_lite::future::block_on(clock.auto_advance(
            Retry::new(policy, shared.clone()).run(|| async { Err::<(), _>("down") }),
        ));
    assert_eq!(r.unwrap_err().attempts(), 3);
    assert_eq!(clock.now(), secs(5));

    let breaker = CircuitBreaker::new(boxed, 1, secs(10));
    let _ = futures_lite::future::block_on(breaker.call(async { Err::<(), _>(()) }));
    assert_eq!(breaker.state(), State::Open);
    let breaker = CircuitBreaker::new(shared, 1, secs(10));
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn a_boxed_dyn_timer_drives_an_interval() {
    let clock = ManualClock::new();
    let timer: Box<dyn Timer<Sleep = ManualSleep, Instant = Duration> + Send + Sync> =
        Box::new(clock.clone());
    let mut every = interval(timer, secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(0));
    let mut next = polled(every.tick());
    next.pending();
    clock.advance(secs(5));
    assert_eq!(next.ready(), secs(5));
}

/// A library's background worker, generic over the timer and spawned, so
/// `Send + 'static`: it holds the timer, a borrow of it, its sleeps and its
/// instants across awaits. One bound says all that.
fn spawn_heartbeat<T: SendTimer + 'static>(
    ex: &common::Exec,
    timer: T,
    beats: Arc<AtomicUsize>,
) -> impl Future<Output = T::Instant> + Send + 'static {
    ex.spawn(async move {
        let mut every = interval(&timer, secs(5));
        let mut last = every.tick().await;
        for _ in 0..3 {
            // The check that each beat runs, cut short by a timeout.
            let _ = timeout(&timer, secs(1), pending::<()>()).await;
            last = every.tick().await;
            beats.fetch_add(1, SeqCst);
        }
        last
    })
}

#[test]
fn a_generic_worker_spawned_on_any_executor_needs_only_send_timer() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let beats = Arc::new(AtomicUsize::new(0));
        let worker = spawn_heartbeat(&ex, clock.clone(), beats.clone());
        while beats.load(SeqCst) < 3 {
            if clock.pending_sleeps() > 0 {
                clock.advance_to_next_deadline();
            }
            yield_now().await;
        }
        assert_eq!(worker.await, secs(15), "under {}", ex.name());
    });
}

#[test]
fn an_erased_timer_keeps_an_absolute_deadline_while_another_thread_advances_the_clock() {
    let clock = ManualClock::new();
    clock.advance(secs(7));
    let timer = DynTimer::new(clock.clone());
    assert_eq!(timer.now(), Duration::ZERO, "instants count from its start");
    assert_deadline_kept_while_another_thread_advances(
        &clock,
        || timer.sleep_until(secs(3600)),
        secs(3607),
    );
}

#[test]
fn an_erased_timer_drives_timeout_interval_and_retry() {
    let clock = ManualClock::new();
    clock.advance(secs(2));
    let timer = DynTimer::new(clock.clone());

    let mut t = polled(timeout(timer.clone(), secs(5), pending::<()>()));
    t.pending();
    clock.advance(secs(4));
    t.pending();
    clock.advance(secs(1));
    assert!(t.ready().is_err());
    assert_eq!(timer.now(), secs(5));

    let mut every = interval(timer.clone(), secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(5));
    let mut next = polled(every.tick());
    next.pending();
    clock.advance(secs(5));
    assert_eq!(next.ready(), secs(10));

    let policy = RetryPolicy::new(Backoff::constant(secs(1))).max_attempts(3);
    let r = futures_lite::future::block_on(
        clock
            .auto_advance(Retry::new(policy, timer.clone()).run(|| async { Err::<(), _>("down") })),
    );
    assert_eq!(r.unwrap_err().attempts(), 3);
    assert_eq!(timer.now(), secs(12));
}

#[test]
fn an_erased_timer_from_a_sleeper_and_a_clock_tells_the_clock_time() {
    let clock = ManualClock::new();
    let c = clock.clone();
    let timer = DynTimer::with_clock(sleeper_fn(move |d| c.sleep(d)), clock.clone());
    clock.advance(secs(3));
    assert_eq!(timer.now(), secs(3));
    let mut every = interval(timer, secs(5));
    assert_eq!(polled(every.tick()).ready(), secs(3));
    let mut next = polled(every.tick());
    next.pending();
    clock.advance(secs(5));
    assert_eq!(next.ready(), secs(8));
}

#[test]
fn an_erased_timer_is_a_send_timer_a_spawned_worker_can_hold() {
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let beats = Arc::new(AtomicUsize::new(0));
        let worker = spawn_heartbeat(&ex, DynTimer::new(clock.clone()), beats.clone());
        while beats.load(SeqCst) < 3 {
            if clock.pending_sleeps() > 0 {
                clock.advance_to_next_deadline();
            }
            yield_now().await;
        }
        assert_eq!(worker.await, secs(15), "under {}", ex.name());
    });
}

#[test]
fn an_erased_timer_shows_what_it_erased() {
    let timer = DynTimer::new(ManualClock::new());
    let shown = format!("{timer:?}");
    assert!(
        shown.contains("DynTimer") && shown.contains("ManualClock"),
        "{shown}"
    );
    let sleep = timer.sleep(secs(1));
    assert!(format!("{sleep:?}").contains("DynSleep"));
}

#[test]
fn time_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<ManualClock>();
    send_sync::<sluicegate::time::ManualSleep>();
    send_sync::<Elapsed>();
    fn send_timer<T: SendTimer + 'static>() {}
    send_timer::<ManualClock>();
    send_timer::<Arc<ManualClock>>();
    send_timer::<Box<ManualClock>>();
    send_timer::<&'static ManualClock>();
    send_timer::<DynTimer>();
    send_sync::<DynTimer>();
    fn send_unpin<T: Send + Unpin>() {}
    send_unpin::<DynSleep>();
    let clock = ManualClock::new();
    send(&timeout(&clock, secs(1), async {}));
    send(&clock.auto_advance(async {}));
    let mut i = interval(&clock, secs(1));
    send(&i.tick());
}
