//! Deterministic tests of `Semaphore`: every future is polled by hand with a
//! counting waker, so each test pins exactly who is woken, how often, and who
//! completes. No executor and no threads (this file also runs under miri).
mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::poll::{panicking_clone_waker, polled, CountingWaker, Polled};
use sluicegate::futures::{Acquire, AcquireOwned};
use sluicegate::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};

const MAX: usize = Semaphore::MAX_PERMITS;
/// More waiters than one wake batch (`WakeBatch::CAPACITY` is 16).
const MANY: usize = 20;

// ---------------------------------------------------------------------------
// Auto traits, checked at compile time.

use common::traits::{assert_not_unpin, assert_send_sync, assert_unpin};
fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn futures_and_permits_are_send_and_sync_and_futures_are_not_unpin() {
    assert_send_sync::<Semaphore>();
    assert_send_sync::<Acquire<'static>>();
    assert_send_sync::<AcquireOwned>();
    assert_send_sync::<SemaphorePermit<'static>>();
    assert_send_sync::<OwnedSemaphorePermit>();
    assert_unpin::<Semaphore>();
    assert_unpin::<SemaphorePermit<'static>>();
    assert_unpin::<OwnedSemaphorePermit>();
    // The futures hold the intrusive wait-list node: once polled, the list
    // points at them, so they must not move.
    assert_not_unpin!(Acquire<'static>);
    assert_not_unpin!(AcquireOwned);
    assert_error::<AcquireError>();
    assert_error::<TryAcquireError>();
}

// ---------------------------------------------------------------------------
// Uncontended paths.

#[test]
fn uncontended_acquire_is_ready_at_first_poll_without_waking() {
    let sem = Semaphore::new(2);
    let mut a = polled(sem.acquire());
    let permit = a.ready().unwrap();
    assert_eq!(permit.num_permits(), 1);
    assert!(std::ptr::eq(permit.semaphore(), &sem));
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(a.wakes(), 0);
}

#[test]
fn permits_return_on_drop() {
    let sem = Semaphore::new(5);
    let a = sem.try_acquire_many(3).unwrap();
    let b = polled(sem.acquire_many(2)).ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(a);
    assert_eq!(sem.available_permits(), 3);
    drop(b);
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn acquire_many_zero_is_ready_at_once_with_no_permits() {
    let sem = Semaphore::new(0);
    let permit = polled(sem.acquire_many(0)).ready().unwrap();
    assert_eq!(permit.num_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn acquire_many_zero_is_ready_at_once_even_behind_waiters() {
    let sem = Semaphore::new(0);
    let mut waiter = polled(sem.acquire());
    waiter.pending();
    assert_eq!(
        polled(sem.acquire_many(0)).ready().unwrap().num_permits(),
        0
    );
    assert_eq!(sem.try_acquire_many(0).unwrap().num_permits(), 0);
    // Taking nothing did not disturb the queue.
    sem.add_permits(1);
    assert_eq!(waiter.wakes(), 1);
    assert!(waiter.ready().is_ok());
}

#[test]
fn try_acquire_reports_no_permits_when_short() {
    let sem = Semaphore::new(1);
    assert_eq!(
        sem.try_acquire_many(2).unwrap_err(),
        TryAcquireError::NoPermits
    );
    let p = sem.try_acquire().unwrap();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(p);
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn acquire_of_all_max_permits_is_allowed() {
    let sem = Semaphore::new(MAX);
    let permit = polled(sem.acquire_many(MAX)).ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), MAX);
}

#[test]
fn acquire_is_woken_once_and_repolls_without_new_registrations() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire());
    a.pending();
    a.pending();
    a.pending();
    assert_eq!(a.wakes(), 0);
    sem.add_permits(1);
    assert_eq!(a.wakes(), 1);
    assert!(a.ready().is_ok());
    assert_eq!(a.wakes(), 1);
}

#[test]
fn repoll_with_a_new_waker_moves_the_wake_up_to_it() {
    let sem = Semaphore::new(0);
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let (w1, w2) = (Waker::from(first.clone()), Waker::from(second.clone()));
    let mut fut = pin!(sem.acquire());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    sem.add_permits(1);
    assert_eq!(
        (first.wakes(), second.wakes()),
        (0, 1),
        "only the latest waker is woken"
    );
    assert!(matches!(
        fut.as_mut().poll(&mut Context::from_waker(&w2)),
        Poll::Ready(Ok(_))
    ));
}

#[test]
#[should_panic(expected = "polled after completion")]
fn acquire_polled_after_completion_panics() {
    let sem = Semaphore::new(1);
    let mut a = polled(sem.acquire());
    let _permit = a.ready().unwrap();
    let _ = a.poll();
}

// ---------------------------------------------------------------------------
// FIFO fairness.

#[test]
fn waiters_are_served_in_fifo_order() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..3).map(|_| polled(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    for served in 0..3 {
        sem.add_permits(1);
        for (i, w) in waiters.iter().enumerate() {
            assert_eq!(w.wakes(), usize::from(i <= served), "waiter {i}");
        }
        let permit = waiters[served].ready().unwrap();
        permit.forget();
        for w in &mut waiters[served + 1..] {
            w.pending();
        }
    }
}

#[test]
fn large_request_at_head_is_not_starved_by_later_small_ones() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(3));
    let mut small = polled(sem.acquire());
    big.pending();
    small.pending();
    // Each single permit goes to the head, although `small` could use it.
    for _ in 0..2 {
        sem.add_permits(1);
        assert_eq!((big.wakes(), small.wakes()), (0, 0));
        assert_eq!(sem.available_permits(), 0);
        big.pending();
        small.pending();
    }
    sem.add_permits(1);
    assert_eq!((big.wakes(), small.wakes()), (1, 0));
    small.pending();
    let big_permit = big.ready().unwrap();
    assert_eq!(big_permit.num_permits(), 3);
    drop(big_permit);
    assert_eq!(small.wakes(), 1);
    assert!(small.ready().is_ok());
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn large_request_keeps_the_permits_it_found_and_waits_for_the_rest() {
    let sem = Semaphore::new(2);
    let mut big = polled(sem.acquire_many(3));
    big.pending();
    // The two free permits went to `big`; none is left for anyone else.
    assert_eq!(sem.available_permits(), 0);
    let mut small = polled(sem.acquire());
    small.pending();
    sem.add_permits(1);
    assert_eq!((big.wakes(), small.wakes()), (1, 0));
    assert_eq!(big.ready().unwrap().num_permits(), 3);
    // `big`'s permit guard was dropped at the end of that statement.
    assert_eq!(small.wakes(), 1);
    assert!(small.ready().is_ok());
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn try_acquire_does_not_barge_past_queued_waiters() {
    let sem = Semaphore::new(1);
    let mut big = polled(sem.acquire_many(2));
    big.pending();
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    assert_eq!(
        sem.try_acquire_many(1).unwrap_err(),
        TryAcquireError::NoPermits
    );
    // A permit returned now goes to the queue, not to the counter.
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(big.wakes(), 1);
    assert_eq!(big.ready().unwrap().num_permits(), 2);
}

#[test]
fn fresh_acquire_queues_behind_waiters_instead_of_barging() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(2));
    big.pending();
    sem.add_permits(1); // partially assigned to `big`
    let mut late = polled(sem.acquire());
    late.pending();
    sem.add_permits(1);
    assert_eq!((big.wakes(), late.wakes()), (1, 0));
    let permit = big.ready().unwrap();
    late.pending();
    drop(permit);
    assert_eq!(late.wakes(), 1);
    assert_eq!(late.ready().unwrap().num_permits(), 1);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn one_release_serves_as_many_waiters_as_it_covers_in_order() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire_many(2));
    let mut b = polled(sem.acquire_many(2));
    let mut c = polled(sem.acquire_many(2));
    a.pending();
    b.pending();
    c.pending();
    sem.add_permits(5);
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 1, 0));
    assert_eq!(sem.available_permits(), 0, "the fifth permit waits at c");
    let (pa, pb) = (a.ready().unwrap(), b.ready().unwrap());
    c.pending();
    drop(pa);
    assert_eq!(c.wakes(), 1);
    assert_eq!(sem.available_permits(), 1);
    drop((pb, c.ready().unwrap()));
    assert_eq!(sem.available_permits(), 5);
}

#[test]
fn release_to_more_waiters_than_a_wake_batch_serves_them_all() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..MANY).map(|_| polled(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    let mut late = polled(sem.acquire());
    late.pending();
    sem.add_permits(MANY);
    assert!(waiters.iter().all(|w| w.wakes() == 1));
    assert_eq!(late.wakes(), 0);
    let permits: Vec<_> = waiters.iter_mut().map(|w| w.ready().unwrap()).collect();
    assert_eq!(sem.available_permits(), 0);
    drop(permits);
    assert_eq!(late.wakes(), 1);
    drop(late.ready().unwrap());
    assert_eq!(sem.available_permits(), MANY);
}

#[test]
fn no_new_caller_barges_in_between_two_wake_batches() {
    static SEM: Semaphore = Semaphore::new(0);
    let seen = Arc::new(Mutex::new(None));
    let seen_in_hook = seen.clone();
    // Runs after the first batch is woken, while the release still holds
    // the permits for the rest of the queue.
    let mut first = Polled::with_hook(SEM.acquire(), move || {
        *seen_in_hook.lock().unwrap() = Some(SEM.try_acquire().map(SemaphorePermit::forget));
    });
    first.pending();
    let mut rest: Vec<_> = (1..MANY).map(|_| polled(SEM.acquire())).collect();
    for w in &mut rest {
        w.pending();
    }
    SEM.add_permits(MANY);
    assert!(first.hook_ran());
    assert_eq!(
        seen.lock().unwrap().take(),
        Some(Err(TryAcquireError::NoPermits))
    );
    assert!(rest.iter().all(|w| w.wakes() == 1));
    let mut permits = vec![first.ready().unwrap()];
    permits.extend(rest.iter_mut().map(|w| w.ready().unwrap()));
    drop(permits);
    assert_eq!(SEM.available_permits(), MANY);
}

// ---------------------------------------------------------------------------
// Cancellation: dropped while queued.

#[test]
fn dropped_while_queued_waiter_leaves_the_queue() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire());
    let mut b = polled(sem.acquire());
    a.pending();
    b.pending();
    drop(a);
    sem.add_permits(1);
    assert_eq!(b.wakes(), 1);
    assert!(b.ready().is_ok());
}

#[test]
fn dropped_waiter_in_the_middle_keeps_the_others_in_order() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire());
    let mut b = polled(sem.acquire());
    let mut c = polled(sem.acquire());
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    sem.add_permits(1);
    assert_eq!((a.wakes(), c.wakes()), (1, 0));
    sem.add_permits(1);
    assert_eq!(c.wakes(), 1);
    drop((a.ready().unwrap(), c.ready().unwrap()));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn dropped_waiter_passes_partial_permits_on_and_wakes_the_next() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(3));
    let mut next = polled(sem.acquire_many(2));
    big.pending();
    next.pending();
    sem.add_permits(2); // `big` holds two of its three
    assert_eq!((big.wakes(), next.wakes()), (0, 0));
    drop(big);
    assert_eq!(next.wakes(), 1);
    assert_eq!(sem.available_permits(), 0);
    drop(next.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn dropped_waiter_passes_permits_found_at_first_poll_on() {
    let sem = Semaphore::new(2);
    let mut big = polled(sem.acquire_many(3));
    big.pending();
    let mut next = polled(sem.acquire());
    next.pending();
    drop(big);
    assert_eq!(next.wakes(), 1);
    assert_eq!(sem.available_permits(), 1);
    drop(next.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn dropped_partial_waiter_returns_permits_to_the_counter_when_alone() {
    let sem = Semaphore::new(1);
    let mut big = polled(sem.acquire_many(4));
    big.pending();
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 0);
    drop(big);
    assert_eq!(sem.available_permits(), 3);
    // With the queue empty, the lock-free paths work again.
    assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
}

#[test]
fn dropped_partial_waiter_serves_several_smaller_waiters() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(5));
    let mut smalls: Vec<_> = (0..3).map(|_| polled(sem.acquire())).collect();
    big.pending();
    for s in &mut smalls {
        s.pending();
    }
    sem.add_permits(4);
    drop(big);
    assert!(smalls.iter().all(|s| s.wakes() == 1));
    assert_eq!(sem.available_permits(), 1);
    for s in &mut smalls {
        s.ready().unwrap().forget();
    }
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn dropped_never_polled_acquire_changes_nothing() {
    let sem = Semaphore::new(0);
    let mut waiter = polled(sem.acquire());
    waiter.pending();
    drop(sem.acquire_many(3));
    sem.add_permits(1);
    assert_eq!(waiter.wakes(), 1);
    assert!(waiter.ready().is_ok());
}

#[test]
fn dropped_completed_acquire_keeps_its_permit() {
    let sem = Semaphore::new(1);
    let mut a = polled(sem.acquire());
    let permit = a.ready().unwrap();
    drop(a);
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn last_waiter_dropped_lets_the_lock_free_path_run_again() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire_many(2));
    a.pending();
    drop(a);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 2);
    assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
}

#[test]
fn single_permit_hand_off_to_the_last_waiter_keeps_exact_accounting() {
    // Handing one permit to the last waiter leaves the waiters flag set for
    // a moment (it spares the releaser, who usually queues again, two
    // read-modify-writes); nothing observable may differ.
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut a = polled(sem.acquire());
    a.pending();
    drop(held);
    assert!(a.woken());
    assert_eq!(sem.available_permits(), 0);
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    // A newcomer queues behind nobody and is served by the next release.
    let mut b = polled(sem.acquire());
    b.pending();
    let permit_a = a.ready().unwrap();
    drop(permit_a);
    assert!(b.woken());
    let permit_b = b.ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert!(
        format!("{sem:?}").contains("waiters: false"),
        "nobody queued"
    );
    drop(permit_b);
    // The flag is settled by that release: the lock-free paths run again.
    assert_eq!(sem.available_permits(), 1);
    let again = sem.try_acquire().unwrap();
    drop(again);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
}

// ---------------------------------------------------------------------------
// Cancellation: dropped after being woken, before the re-poll.

#[test]
fn dropped_after_wake_passes_permit_and_wake_up_on() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire());
    let mut b = polled(sem.acquire());
    a.pending();
    b.pending();
    sem.add_permits(1);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1);
    assert!(b.ready().is_ok());
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn dropped_after_wake_with_nobody_waiting_returns_permits() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire_many(3));
    a.pending();
    sem.add_permits(3);
    assert_eq!(a.wakes(), 1);
    drop(a);
    assert_eq!(sem.available_permits(), 3);
    assert!(sem.try_acquire_many(3).is_ok());
}

#[test]
fn dropped_after_wake_serves_a_larger_next_waiter_in_part() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire_many(2));
    let mut b = polled(sem.acquire_many(3));
    let mut c = polled(sem.acquire());
    a.pending();
    b.pending();
    c.pending();
    sem.add_permits(2);
    assert_eq!(a.wakes(), 1);
    drop(a);
    // `b` now holds two of its three; `c` still queues behind it.
    assert_eq!((b.wakes(), c.wakes()), (0, 0));
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(1);
    assert_eq!((b.wakes(), c.wakes()), (1, 0));
    drop(b);
    assert_eq!(c.wakes(), 1);
    assert_eq!(sem.available_permits(), 2);
    drop(c.ready().unwrap());
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn dropped_between_two_wake_batches_passes_its_permit_to_the_next() {
    static SEM: Semaphore = Semaphore::new(0);
    // `victim` is queued last; the first waiter's wake-up drops it while the
    // release is between batches.
    let victim = Arc::new(Mutex::new(None::<common::poll::Polled<Acquire<'static>>>));
    let victim_in_hook = victim.clone();
    let mut first = Polled::with_hook(SEM.acquire(), move || {
        drop(victim_in_hook.lock().unwrap().take());
    });
    first.pending();
    let mut rest: Vec<_> = (2..MANY).map(|_| polled(SEM.acquire())).collect();
    for w in &mut rest {
        w.pending();
    }
    let mut v = polled(SEM.acquire());
    v.pending();
    *victim.lock().unwrap() = Some(v);
    let mut after = polled(SEM.acquire());
    after.pending();
    SEM.add_permits(MANY);
    assert!(first.hook_ran());
    assert!(victim.lock().unwrap().is_none());
    // The victim's permit skipped to the waiter behind it.
    assert!(rest.iter().all(|w| w.wakes() == 1));
    assert_eq!(after.wakes(), 1);
    assert_eq!(SEM.available_permits(), 0);
    let mut permits = vec![first.ready().unwrap(), after.ready().unwrap()];
    permits.extend(rest.iter_mut().map(|w| w.ready().unwrap()));
    drop(permits);
    assert_eq!(SEM.available_permits(), MANY);
}

// ---------------------------------------------------------------------------
// close().

#[test]
fn close_wakes_every_waiter_with_acquire_error() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..MANY).map(|_| polled(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    sem.close();
    assert!(sem.is_closed());
    for w in &mut waiters {
        assert_eq!(w.wakes(), 1);
        assert!(w.ready().is_err());
    }
}

#[test]
fn acquire_after_close_fails_at_once() {
    let sem = Semaphore::new(3);
    sem.close();
    let mut a = polled(sem.acquire());
    assert!(a.ready().is_err());
    assert!(polled(sem.acquire_many(2)).ready().is_err());
    assert!(polled(sem.acquire_many(0)).ready().is_err());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_eq!(
        sem.try_acquire_many(0).unwrap_err(),
        TryAcquireError::Closed
    );
    assert_eq!(a.wakes(), 0);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn close_gives_back_partial_permits_of_a_waiter_that_repolls() {
    let sem = Semaphore::new(1);
    let mut big = polled(sem.acquire_many(4));
    big.pending();
    sem.add_permits(2);
    sem.close();
    assert_eq!(big.wakes(), 1);
    assert!(big.ready().is_err());
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn close_gives_back_partial_permits_of_a_waiter_dropped_before_repoll() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(4));
    big.pending();
    sem.add_permits(3);
    sem.close();
    assert_eq!(big.wakes(), 1);
    drop(big);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn close_keeps_held_permits_valid_and_returns_them() {
    let sem = Semaphore::new(2);
    let permit = sem.try_acquire_many(2).unwrap();
    sem.close();
    assert_eq!(permit.num_permits(), 2);
    drop(permit);
    assert_eq!(sem.available_permits(), 2);
    assert!(sem.try_acquire().is_err());
}

#[test]
fn waiter_served_before_close_keeps_its_permits() {
    let sem = Semaphore::new(0);
    let mut served = polled(sem.acquire_many(2));
    let mut queued = polled(sem.acquire());
    served.pending();
    queued.pending();
    sem.add_permits(2);
    sem.close();
    assert_eq!((served.wakes(), queued.wakes()), (1, 1));
    assert_eq!(served.ready().unwrap().num_permits(), 2);
    assert!(queued.ready().is_err());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn close_twice_is_harmless() {
    let sem = Semaphore::new(0);
    let mut a = polled(sem.acquire());
    a.pending();
    sem.close();
    sem.close();
    assert_eq!(a.wakes(), 1);
    assert!(a.ready().is_err());
}

#[test]
fn close_between_two_release_batches_fails_the_unserved_waiters() {
    static SEM: Semaphore = Semaphore::new(0);
    let mut first = Polled::with_hook(SEM.acquire(), || SEM.close());
    first.pending();
    let mut rest: Vec<_> = (1..MANY).map(|_| polled(SEM.acquire())).collect();
    for w in &mut rest {
        w.pending();
    }
    SEM.add_permits(MANY);
    assert!(first.hook_ran());
    assert!(rest.iter().all(|w| w.wakes() == 1));
    // The first batch was served before the close; the others fail, and
    // the permits meant for them stay in the semaphore.
    let mut served = vec![first.ready().unwrap()];
    let mut failed = 0;
    for w in &mut rest {
        match w.ready() {
            Ok(p) => served.push(p),
            Err(AcquireError { .. }) => failed += 1,
        }
    }
    assert!(failed > 0, "the close hit nobody");
    assert_eq!(served.len() + failed, MANY);
    assert_eq!(SEM.available_permits(), failed);
    drop(served);
    assert_eq!(SEM.available_permits(), MANY);
}

#[test]
fn waiter_dropped_between_two_close_batches_is_skipped() {
    static SEM: Semaphore = Semaphore::new(0);
    let victim = Arc::new(Mutex::new(None::<common::poll::Polled<Acquire<'static>>>));
    let victim_in_hook = victim.clone();
    let late_result = Arc::new(Mutex::new(None));
    let late_in_hook = late_result.clone();
    let mut first = Polled::with_hook(SEM.acquire(), move || {
        drop(victim_in_hook.lock().unwrap().take());
        // A new acquire during the close fails at once.
        *late_in_hook.lock().unwrap() = Some(polled(SEM.acquire()).ready().is_err());
    });
    first.pending();
    let mut rest: Vec<_> = (2..MANY).map(|_| polled(SEM.acquire_many(2))).collect();
    for w in &mut rest {
        w.pending();
    }
    let mut v = polled(SEM.acquire());
    v.pending();
    *victim.lock().unwrap() = Some(v);
    SEM.close();
    assert!(first.hook_ran());
    assert!(victim.lock().unwrap().is_none());
    assert_eq!(late_result.lock().unwrap().take(), Some(true));
    assert_eq!(first.wakes(), 1);
    assert!(first.ready().is_err());
    for w in &mut rest {
        assert_eq!(w.wakes(), 1);
        assert!(w.ready().is_err());
    }
    assert_eq!(SEM.available_permits(), 0);
}

// ---------------------------------------------------------------------------
// Limits.

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn acquire_many_above_max_permits_panics_naming_the_limit() {
    let sem = Semaphore::new(0);
    let _fut = sem.acquire_many(MAX + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn try_acquire_many_above_max_permits_panics_naming_the_limit() {
    let sem = Semaphore::new(0);
    let _ = sem.try_acquire_many(usize::MAX);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn acquire_many_owned_above_max_permits_panics_naming_the_limit() {
    let sem = Arc::new(Semaphore::new(0));
    let _fut = sem.acquire_many_owned(MAX + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn try_acquire_many_owned_above_max_permits_panics_naming_the_limit() {
    let sem = Arc::new(Semaphore::new(0));
    let _ = sem.try_acquire_many_owned(MAX + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn new_above_max_permits_panics_naming_the_limit() {
    let _ = Semaphore::new(MAX + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn add_permits_overflow_panics_naming_the_limit() {
    let sem = Semaphore::new(MAX);
    sem.add_permits(1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn add_permits_above_max_permits_panics_naming_the_limit() {
    let sem = Semaphore::new(0);
    sem.add_permits(MAX + 1);
}

#[test]
fn add_permits_overflow_leaves_the_semaphore_usable() {
    let sem = Semaphore::new(MAX - 1);
    let overflow = catch_unwind(AssertUnwindSafe(|| sem.add_permits(2)));
    assert!(overflow.is_err());
    assert_eq!(sem.available_permits(), MAX - 1);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), MAX);
    assert!(polled(sem.acquire_many(MAX)).ready().is_ok());
}

#[test]
fn add_permits_to_waiters_hands_them_over_without_overflow() {
    let sem = Semaphore::new(0);
    let mut big = polled(sem.acquire_many(MAX));
    big.pending();
    sem.add_permits(MAX);
    assert_eq!(big.wakes(), 1);
    let permit = big.ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), MAX);
}

// ---------------------------------------------------------------------------
// Permit guards.

#[test]
fn forget_removes_the_permits_from_the_semaphore() {
    let sem = Semaphore::new(3);
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    let mut waiter = polled(sem.acquire_many(2));
    waiter.pending();
    sem.try_acquire_many(0).unwrap().forget();
    assert_eq!(waiter.wakes(), 0);
}

#[test]
fn split_and_merge_move_permits_between_guards() {
    let sem = Semaphore::new(4);
    let mut p = sem.try_acquire_many(4).unwrap();
    assert!(p.split(5).is_none());
    assert_eq!(p.num_permits(), 4);
    let q = p.split(3).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (1, 3));
    drop(q);
    assert_eq!(sem.available_permits(), 3);
    let r = sem.try_acquire_many(2).unwrap();
    p.merge(r);
    assert_eq!(p.num_permits(), 3);
    assert_eq!(sem.available_permits(), 1);
    drop(p);
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn dropping_a_split_off_permit_wakes_a_waiter() {
    let sem = Semaphore::new(2);
    let mut p = sem.try_acquire_many(2).unwrap();
    let mut waiter = polled(sem.acquire());
    waiter.pending();
    drop(p.split(1).unwrap());
    assert_eq!(waiter.wakes(), 1);
    assert!(waiter.ready().is_ok());
}

#[test]
#[should_panic(expected = "different semaphores")]
fn merging_permits_of_different_semaphores_panics() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut pa = a.try_acquire().unwrap();
    pa.merge(b.try_acquire().unwrap());
}

#[test]
fn failed_merge_returns_both_permits() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut pa = a.try_acquire().unwrap();
    let pb = b.try_acquire().unwrap();
    assert!(catch_unwind(AssertUnwindSafe(|| pa.merge(pb))).is_err());
    drop(pa);
    assert_eq!((a.available_permits(), b.available_permits()), (1, 1));
}

#[test]
fn debug_output_shows_the_state() {
    let sem = Semaphore::default();
    assert_eq!(sem.available_permits(), 0);
    let mut fut = polled(sem.acquire());
    fut.pending();
    let text = format!("{sem:?}");
    assert!(text.contains("available_permits: 0"), "{text}");
    assert!(text.contains("waiters: true"), "{text}");
    sem.add_permits(1);
    let permit = fut.ready().unwrap();
    assert!(format!("{permit:?}").contains("permits: 1"));
    assert!(format!("{:?}", sem.acquire()).contains("Acquire"));
    sem.close();
    let closed = polled(sem.acquire()).ready().unwrap_err();
    assert_eq!(closed.to_string(), "semaphore closed");
    assert_eq!(
        TryAcquireError::NoPermits.to_string(),
        "no permits available"
    );
}

// ---------------------------------------------------------------------------
// Owned forms: the same behaviours through `Arc<Semaphore>`.

#[test]
fn owned_acquire_is_ready_at_once_and_keeps_the_semaphore_alive() {
    let sem = Arc::new(Semaphore::new(2));
    let p = polled(sem.clone().acquire_owned()).ready().unwrap();
    let q = polled(sem.clone().acquire_many_owned(1)).ready().unwrap();
    assert!(Arc::ptr_eq(p.semaphore(), &sem));
    assert_eq!(Arc::strong_count(&sem), 3);
    assert_eq!(sem.available_permits(), 0);
    drop((p, q));
    assert_eq!(Arc::strong_count(&sem), 1);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn owned_permit_outlives_the_callers_handle() {
    let sem = Arc::new(Semaphore::new(1));
    let weak = Arc::downgrade(&sem);
    let permit = sem.try_acquire_owned().unwrap();
    assert_eq!(weak.upgrade().unwrap().available_permits(), 0);
    drop(permit);
    assert!(weak.upgrade().is_none());
}

#[test]
fn owned_try_acquire_fails_like_the_borrowed_one() {
    let sem = Arc::new(Semaphore::new(1));
    let mut big = polled(sem.clone().acquire_many_owned(2));
    big.pending();
    assert_eq!(
        sem.clone().try_acquire_owned().unwrap_err(),
        TryAcquireError::NoPermits
    );
    drop(big);
    assert_eq!(
        sem.clone().try_acquire_many_owned(1).unwrap().num_permits(),
        1
    );
    sem.close();
    assert_eq!(
        sem.clone().try_acquire_owned().unwrap_err(),
        TryAcquireError::Closed
    );
}

#[test]
fn owned_waiters_are_fair_to_borrowed_ones() {
    let sem = Arc::new(Semaphore::new(0));
    let mut owned_big = polled(sem.clone().acquire_many_owned(2));
    let mut borrowed = polled(sem.acquire());
    owned_big.pending();
    borrowed.pending();
    sem.add_permits(1);
    assert_eq!((owned_big.wakes(), borrowed.wakes()), (0, 0));
    sem.add_permits(1);
    assert_eq!((owned_big.wakes(), borrowed.wakes()), (1, 0));
    drop(owned_big.ready().unwrap());
    assert_eq!(borrowed.wakes(), 1);
    drop(borrowed.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn owned_dropped_while_queued_passes_partial_permits_on() {
    let sem = Arc::new(Semaphore::new(1));
    let mut big = polled(sem.clone().acquire_many_owned(3));
    let mut next = polled(sem.clone().acquire_owned());
    big.pending();
    next.pending();
    sem.add_permits(1);
    drop(big);
    assert_eq!(next.wakes(), 1);
    assert_eq!(sem.available_permits(), 1);
    drop(next.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
    drop(next);
    assert_eq!(
        Arc::strong_count(&sem),
        1,
        "a dropped future holds no handle"
    );
}

#[test]
fn owned_dropped_after_wake_passes_permit_and_wake_up_on() {
    let sem = Arc::new(Semaphore::new(0));
    let mut a = polled(sem.clone().acquire_many_owned(2));
    let mut b = polled(sem.clone().acquire_many_owned(2));
    a.pending();
    b.pending();
    sem.add_permits(2);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1);
    drop(b.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
    drop(b);
    assert_eq!(
        Arc::strong_count(&sem),
        1,
        "a dropped future holds no handle"
    );
}

#[test]
fn owned_close_wakes_waiters_with_error_and_returns_partial_permits() {
    let sem = Arc::new(Semaphore::new(0));
    let mut big = polled(sem.clone().acquire_many_owned(3));
    let mut small = polled(sem.clone().acquire_owned());
    big.pending();
    small.pending();
    sem.add_permits(2);
    sem.close();
    assert_eq!((big.wakes(), small.wakes()), (1, 1));
    assert!(big.ready().is_err());
    assert!(small.ready().is_err());
    assert!(polled(sem.clone().acquire_owned()).ready().is_err());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn owned_acquire_many_zero_is_ready_at_once() {
    let sem = Arc::new(Semaphore::new(0));
    let mut waiter = polled(sem.clone().acquire_owned());
    waiter.pending();
    let p = polled(sem.clone().acquire_many_owned(0)).ready().unwrap();
    assert_eq!(p.num_permits(), 0);
    assert_eq!(
        sem.clone().try_acquire_many_owned(0).unwrap().num_permits(),
        0
    );
}

#[test]
fn owned_forget_split_merge_account_exactly() {
    let sem = Arc::new(Semaphore::new(5));
    let mut p = sem.clone().try_acquire_many_owned(5).unwrap();
    assert!(p.split(6).is_none());
    let q = p.split(2).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (3, 2));
    q.forget();
    assert_eq!(sem.available_permits(), 0);
    let r = p.split(1).unwrap();
    drop(r);
    assert_eq!(sem.available_permits(), 1);
    p.merge(sem.clone().try_acquire_owned().unwrap());
    assert_eq!(p.num_permits(), 3);
    assert!(format!("{p:?}").contains("permits: 3"));
    drop(p);
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(Arc::strong_count(&sem), 1);
}

#[test]
#[should_panic(expected = "different semaphores")]
fn owned_merge_of_different_semaphores_panics() {
    let a = Arc::new(Semaphore::new(1));
    let b = Arc::new(Semaphore::new(1));
    let mut pa = a.try_acquire_owned().unwrap();
    pa.merge(b.try_acquire_owned().unwrap());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn owned_acquire_polled_after_completion_panics() {
    let sem = Arc::new(Semaphore::new(1));
    let mut a = polled(sem.acquire_owned());
    let _permit = a.ready().unwrap();
    let _ = a.poll();
}

#[test]
fn owned_acquire_debug_names_the_future() {
    let sem = Arc::new(Semaphore::new(0));
    let fut = sem.acquire_many_owned(2);
    assert!(format!("{fut:?}").contains("AcquireOwned"));
}

// ---------------------------------------------------------------------------
// A misbehaving waker.

#[test]
fn panicking_waker_clone_loses_no_permits() {
    let sem = Semaphore::new(1);
    let waker = panicking_clone_waker();
    let mut fut = Box::pin(sem.acquire_many(2));
    let poll = catch_unwind(AssertUnwindSafe(|| {
        fut.as_mut().poll(&mut Context::from_waker(&waker))
    }));
    assert!(poll.is_err(), "the clone panic propagates");
    drop(fut);
    assert_eq!(
        sem.available_permits(),
        1,
        "the permit found at first poll was lost"
    );
    assert!(sem.try_acquire().is_ok(), "the semaphore still works");
}

#[test]
fn panicking_waker_clone_on_repoll_loses_no_permits() {
    let sem = Semaphore::new(1);
    let mut fut = Box::pin(sem.acquire_many(3));
    let mut next = polled(sem.acquire());
    let good = Waker::noop();
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(good))
        .is_pending());
    next.pending();
    sem.add_permits(1); // `fut` now holds two of its three
    let bad = panicking_clone_waker();
    let poll = catch_unwind(AssertUnwindSafe(|| {
        fut.as_mut().poll(&mut Context::from_waker(&bad))
    }));
    assert!(poll.is_err());
    drop(fut);
    assert_eq!(next.wakes(), 1, "the wake-up was not passed on");
    drop(next.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

/// 17 queued single-permit acquires (one more than a wake batch), the first
/// of which panics when woken.
fn queue_behind_a_panicking_wake(sem: &Semaphore) -> Vec<Polled<Acquire<'_>>> {
    let mut waiters = vec![Polled::with_hook(sem.acquire(), || panic!("wake failed"))];
    for _ in 1..17 {
        waiters.push(polled(sem.acquire()));
    }
    for w in &mut waiters {
        w.pending();
    }
    waiters
}

#[test]
fn a_panicking_wake_in_a_release_spanning_several_batches_loses_no_permits() {
    let sem = Semaphore::new(0);
    let mut waiters = queue_behind_a_panicking_wake(&sem);
    assert!(catch_unwind(AssertUnwindSafe(|| sem.add_permits(17))).is_err());
    assert!(
        waiters.iter().all(|w| w.woken()),
        "the rest were still handed theirs"
    );
    let held: Vec<_> = waiters.iter_mut().map(|w| w.ready().unwrap()).collect();
    assert_eq!((held.len(), sem.available_permits()), (17, 0));
    drop(held);
    assert_eq!(sem.available_permits(), 17);
}

#[test]
fn a_panicking_wake_in_a_close_spanning_several_batches_still_fails_every_waiter() {
    let sem = Semaphore::new(0);
    let mut waiters = queue_behind_a_panicking_wake(&sem);
    assert!(catch_unwind(AssertUnwindSafe(|| sem.close())).is_err());
    assert!(waiters.iter().all(|w| w.woken()));
    assert!(waiters.iter_mut().all(|w| w.ready().is_err()));
}

// ---------------------------------------------------------------------------
// Shrinking: `forget_permits`.

#[test]
fn forget_permits_takes_available_permits_at_once() {
    let sem = Semaphore::new(5);
    assert_eq!(sem.forget_permits(2), 2);
    assert_eq!(sem.available_permits(), 3);
    assert_eq!(sem.forget_permits(0), 0);
    assert!(sem.try_acquire_many(3).is_ok());
}

#[test]
fn forget_permits_while_held_takes_the_rest_from_returning_permits() {
    let sem = Semaphore::new(4);
    let mut held: Vec<_> = (0..3).map(|_| sem.try_acquire().unwrap()).collect();
    // Shrink from 4 to 1 with 3 in use: one at once, two owed.
    assert_eq!(sem.forget_permits(3), 1);
    assert_eq!(sem.available_permits(), 0);
    held.pop();
    assert_eq!(sem.available_permits(), 0, "the first return pays the debt");
    held.pop();
    assert_eq!(sem.available_permits(), 0, "so does the second");
    held.pop();
    assert_eq!(sem.available_permits(), 1, "the new limit");
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn forget_permits_debt_is_paid_before_queued_waiters() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiter = polled(sem.acquire());
    waiter.pending();
    assert_eq!(sem.forget_permits(1), 0);
    drop(held);
    assert_eq!(waiter.wakes(), 0, "the returned permit was owed");
    waiter.pending();
    sem.add_permits(1);
    assert_eq!(waiter.wakes(), 1);
    assert_eq!(waiter.ready().unwrap().num_permits(), 1);
}

#[test]
fn a_release_larger_than_the_debt_pays_it_and_serves_waiters_with_the_rest() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut waiter = polled(sem.acquire_many(2));
    waiter.pending();
    assert_eq!(sem.forget_permits(2), 0);
    sem.add_permits(3); // two pay the debt, one goes to the waiter
    assert_eq!(waiter.wakes(), 0, "the waiter still needs one more");
    drop(held);
    assert_eq!(waiter.wakes(), 1);
    drop(waiter.ready().unwrap());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn add_permits_pays_the_debt_first_so_a_limit_that_grows_back_nets_out() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.forget_permits(2), 0); // shrink 2 -> 0 while both are held
    sem.add_permits(2); // and back to 2 before either came back
    assert_eq!(sem.available_permits(), 0, "the add paid the debt");
    drop(held);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn forget_permits_takes_partial_permits_given_back_by_a_cancelled_waiter() {
    let sem = Semaphore::new(0);
    let mut waiter = polled(sem.acquire_many(3));
    waiter.pending();
    sem.add_permits(2); // the waiter holds 2 of its 3
    assert_eq!(sem.forget_permits(1), 0);
    drop(waiter); // gives its 2 back: 1 pays the debt, 1 is available
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok(), "nothing owed, nobody waiting");
}

#[test]
fn after_the_debt_is_paid_the_lock_free_paths_run_again() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    sem.forget_permits(1);
    drop(held);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
    let p = sem.try_acquire().unwrap();
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn forget_permits_on_a_closed_semaphore_still_shrinks_it() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire().unwrap();
    sem.close();
    assert_eq!(sem.forget_permits(2), 1);
    drop(held);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
#[should_panic(expected = "Semaphore::MAX_PERMITS")]
fn forget_permits_beyond_the_maximum_panics_naming_the_limit() {
    Semaphore::new(0).forget_permits(MAX + 1);
}
