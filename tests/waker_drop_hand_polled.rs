//! No waker is dropped while a primitive's lock is held: a future re-polled
//! with a new waker, or re-queued after leaving the queue, hands the waker it
//! displaces back to be dropped after the lock is released. A waker's drop is
//! executor code; here it re-enters the primitive, as an executor that drops
//! a task (and its futures) with its last waker may.
//!
//! Only where re-entering a held lock fails loudly instead of deadlocking:
//! the critical-section build (a `RefCell` borrow panics) and miri (which
//! reports the deadlock).
#![cfg(any(feature = "critical-section", miri))]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures::StreamExt;
use sluicegate::channel::bounded;
use sluicegate::{Condition, Event, Mutex, Semaphore};

/// A waker whose drop runs `on_drop` (which takes the primitive's lock).
struct Reentering {
    on_drop: Box<dyn Fn() + Send + Sync>,
    dropped: Arc<AtomicBool>,
}

impl Wake for Reentering {
    fn wake(self: Arc<Self>) {}
}

impl Drop for Reentering {
    fn drop(&mut self) {
        (self.on_drop)();
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// A waker whose last reference re-enters through `on_drop`, and the flag
/// its drop sets.
fn reentering(on_drop: impl Fn() + Send + Sync + 'static) -> (Waker, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    let waker = Waker::from(Arc::new(Reentering {
        on_drop: Box::new(on_drop),
        dropped: dropped.clone(),
    }));
    (waker, dropped)
}

/// Polls `fut` once with `waker`, expecting `Pending`.
fn pending_with<F: Future + ?Sized>(fut: std::pin::Pin<&mut F>, waker: &Waker) {
    assert!(fut.poll(&mut Context::from_waker(waker)).is_pending());
}

#[test]
fn a_recv_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let (tx, rx) = bounded::<u32>(1);
    let probe = rx.clone();
    let (first, dropped) = reentering(move || assert!(probe.is_empty()));
    let mut recv = pin!(rx.recv());
    pending_with(recv.as_mut(), &first);
    drop(first); // the node holds the last reference
    pending_with(recv.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    tx.try_send(1).unwrap();
    assert_eq!(
        recv.poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(Ok(1))
    );
}

#[test]
fn a_send_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let (tx, rx) = bounded::<u32>(1);
    tx.try_send(0).unwrap();
    let probe = tx.clone();
    let (first, dropped) = reentering(move || assert!(probe.is_full()));
    let mut send = pin!(tx.send(1));
    pending_with(send.as_mut(), &first);
    drop(first);
    pending_with(send.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn a_stream_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let (tx, mut rx) = bounded::<u32>(1);
    let probe = tx.clone();
    let (first, dropped) = reentering(move || assert!(probe.is_empty()));
    pending_with(pin!(rx.next()), &first);
    drop(first);
    // The `next()` future is gone; the stream's place keeps the old waker
    // (a direct receive leaves the place alone)...
    assert!(rx.try_recv().is_err());
    assert!(!dropped.load(Ordering::SeqCst));
    // ...until the stream is polled again with a new one.
    pending_with(pin!(rx.next()), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    tx.try_send(1).unwrap();
    assert_eq!(
        pin!(rx.next()).poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(Some(1))
    );
}

#[test]
fn streams_woken_by_a_send_drop_their_wakers_unlocked() {
    // One stream waiting, then several: the send wakes them (the one
    // directly, the several through a sweep), and each waker, whose last
    // reference the channel holds, is dropped with the lock released.
    for streams in [1, 3] {
        let (tx, rx) = bounded::<u32>(1);
        let mut receivers: Vec<_> = (0..streams).map(|_| rx.clone()).collect();
        let mut flags = Vec::new();
        for r in &mut receivers {
            let probe = tx.clone();
            let (waker, dropped) = reentering(move || assert!(probe.len() <= 1));
            pending_with(pin!(r.next()), &waker);
            drop(waker); // the stream's place holds the last reference
            flags.push(dropped);
        }
        tx.try_send(1).unwrap();
        assert!(flags.iter().all(|d| d.load(Ordering::SeqCst)));
        assert_eq!(rx.try_recv(), Ok(1));
    }
}

#[test]
fn closed_and_join_repolled_by_another_task_drop_the_old_waker_unlocked() {
    let (tx, rx) = sluicegate::channel::tracked::<u32>(1);
    let probe = rx.clone();
    let (first, closed_dropped) = reentering(move || assert!(!probe.is_closed()));
    let mut closed = pin!(tx.closed());
    pending_with(closed.as_mut(), &first);
    drop(first);
    pending_with(closed.as_mut(), Waker::noop());
    assert!(closed_dropped.load(Ordering::SeqCst));

    tx.try_send(1).unwrap();
    let probe = rx.clone();
    let (first, join_dropped) = reentering(move || assert_eq!(probe.unfinished_tasks(), 1));
    let mut join = pin!(tx.join());
    pending_with(join.as_mut(), &first);
    drop(first);
    pending_with(join.as_mut(), Waker::noop());
    assert!(join_dropped.load(Ordering::SeqCst));
}

#[test]
fn an_acquire_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.try_acquire().unwrap();
    let probe = sem.clone();
    // With a waiter queued, adding a permit takes the lock to hand it over.
    let (first, dropped) = reentering(move || probe.add_permits(1));
    let mut acquire = pin!(sem.acquire());
    pending_with(acquire.as_mut(), &first);
    drop(first);
    pending_with(acquire.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    let permit = match acquire.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(permit)) => permit,
        other => panic!(
            "the added permit was not handed over: {:?}",
            other.is_ready()
        ),
    };
    drop((permit, held));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn an_event_wait_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let event = Arc::new(Event::new());
    let probe = event.clone();
    // `set` takes the lock to release the waiters.
    let (first, dropped) = reentering(move || probe.set());
    let mut wait = pin!(event.wait());
    pending_with(wait.as_mut(), &first);
    drop(first);
    pending_with(wait.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(
        wait.poll(&mut Context::from_waker(Waker::noop())),
        Poll::Ready(())
    );
}

#[test]
fn a_condition_wait_repolled_by_another_task_drops_the_old_waker_unlocked() {
    let cond = Arc::new(Condition::new());
    let m = Mutex::new(0u8);
    let probe = cond.clone();
    // A notify takes the lock to pop the waiter.
    let (first, dropped) = reentering(move || assert!(probe.notify_one()));
    let mut wait = pin!(cond.wait(m.try_lock().unwrap()));
    pending_with(wait.as_mut(), &first);
    drop(first);
    pending_with(wait.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    match wait.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(guard) => assert_eq!(*guard, 0),
        Poll::Pending => panic!("the notify did not reach the waiter"),
    };
}

#[test]
fn a_manual_sleep_repolled_by_another_task_drops_the_old_waker_unlocked() {
    use sluicegate::time::{ManualClock, Sleeper};
    let clock = ManualClock::new();
    let probe = clock.clone();
    let (first, dropped) = reentering(move || assert_eq!(probe.pending_sleeps(), 1));
    let mut nap = pin!(clock.sleep(std::time::Duration::from_secs(1)));
    pending_with(nap.as_mut(), &first);
    drop(first); // the clock's table holds the last reference
    pending_with(nap.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
    clock.advance(std::time::Duration::from_secs(1));
    assert!(nap.poll(&mut Context::from_waker(Waker::noop())).is_ready());
}

#[test]
fn an_auto_advance_repolled_by_another_task_drops_the_old_waker_unlocked() {
    use std::sync::Mutex as StdMutex;
    let clock = sluicegate::time::ManualClock::new();
    // The inner future keeps the waker `auto_advance` gives it; the outer
    // waker's drop wakes it, which takes `auto_advance`'s waker lock.
    let inner_waker: Arc<StdMutex<Option<Waker>>> = Arc::default();
    let slot = inner_waker.clone();
    let inner = std::future::poll_fn(move |cx| {
        *slot.lock().unwrap() = Some(cx.waker().clone());
        Poll::<()>::Pending
    });
    let mut fut = pin!(clock.auto_advance(inner));
    let (first, dropped) = reentering(move || {
        if let Some(w) = inner_waker.lock().unwrap().take() {
            w.wake();
        }
    });
    pending_with(fut.as_mut(), &first);
    drop(first); // `auto_advance` holds the last reference
    pending_with(fut.as_mut(), Waker::noop());
    assert!(dropped.load(Ordering::SeqCst));
}

/// A waker whose first clone runs `on_clone` (standing for another thread
/// that races in while the future is being polled) and whose every drop runs
/// `on_drop`.
fn racing(
    on_clone: impl Fn() + Send + Sync + 'static,
    on_drop: impl Fn() + Send + Sync + 'static,
) -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    struct Hooks {
        cloned: AtomicBool,
        on_clone: Box<dyn Fn() + Send + Sync>,
        on_drop: Box<dyn Fn() + Send + Sync>,
    }
    fn clone(p: *const ()) -> RawWaker {
        // SAFETY: `p` came from `Arc::into_raw` and this waker still owns
        // its count, which `ManuallyDrop` leaves alone.
        let hooks = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(p.cast::<Hooks>()) });
        if !hooks.cloned.swap(true, Ordering::SeqCst) {
            (hooks.on_clone)();
        }
        RawWaker::new(Arc::into_raw(Arc::clone(&hooks)).cast(), &VTABLE)
    }
    fn drop_waker(p: *const ()) {
        // SAFETY: as in `clone`; this takes over the waker's count.
        let hooks = unsafe { Arc::from_raw(p.cast::<Hooks>()) };
        (hooks.on_drop)();
    }
    fn wake_by_ref(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, drop_waker, wake_by_ref, drop_waker);
    let hooks = Arc::new(Hooks {
        cloned: AtomicBool::new(false),
        on_clone: Box::new(on_clone),
        on_drop: Box::new(on_drop),
    });
    // SAFETY: the vtable's functions keep the `Arc` count balanced.
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(hooks).cast(), &VTABLE)) }
}

#[test]
fn an_acquire_that_completes_or_fails_under_the_lock_drops_its_waker_clone_unlocked() {
    // The first slow poll clones the waker before taking the lock; a release
    // or a close that lands in between lets it finish under the lock.
    for close in [false, true] {
        let sem = Arc::new(Semaphore::new(0));
        let (race, probe) = (sem.clone(), sem.clone());
        let waker = racing(
            move || {
                if close {
                    race.close();
                } else {
                    race.add_permits(1);
                }
            },
            move || drop(format!("{probe:?}")), // takes the lock
        );
        let mut acquire = pin!(sem.acquire());
        let res = acquire.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(res.map(|r| r.is_ok()), Poll::Ready(!close));
    }
}
