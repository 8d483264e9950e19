//! Deterministic tests of `Condition`, polled by hand with a counting waker:
//! every behaviour of issue 4 §2 that needs no executor.
mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Waker};

use common::poll::{polled, CountingWaker};
use sluicegate::{Condition, ConditionGuard, Mutex, MutexGuard, MutexGuardArc};

fn assert_send<T: Send>(_: &T) {}

#[test]
fn wait_futures_are_send_and_condition_is_sync() {
    fn sync<T: Send + Sync>() {}
    sync::<Condition>();
    let m = Mutex::new(0u8);
    let cond = Condition::new();
    let fut = cond.wait(m.try_lock().unwrap());
    assert_send(&fut);
    drop(fut);
    let fut = cond.wait_until(m.try_lock().unwrap(), |v| *v == 0);
    assert_send(&fut);
    drop(fut);
    let arc = Arc::new(Mutex::new(0u8));
    let fut = cond.wait_while(arc.try_lock_arc().unwrap(), |v| *v == 0);
    assert_send(&fut);
}

#[test]
fn waiter_registers_before_releasing_so_the_next_holders_notify_reaches_it() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let mut waiter = polled(cond.wait(m.try_lock().unwrap()));
    // Not yet polled: the guard still holds the mutex.
    assert!(m.try_lock().is_none());
    waiter.pending();
    // Registered, and only then released.
    let mut holder = m.try_lock().expect("wait released the mutex");
    *holder = 1;
    assert!(cond.notify_one(), "the notify found the waiter");
    assert_eq!(waiter.wakes(), 1);
    drop(holder);
    let guard = waiter.ready();
    assert_eq!(*guard, 1);
}

#[test]
fn wait_returns_holding_the_lock_after_a_notify_made_while_another_task_held_it() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let mut waiter = polled(cond.wait(m.try_lock().unwrap()));
    waiter.pending();
    let holder = m.try_lock().unwrap();
    cond.notify_one();
    // Notified, but the mutex is held: it waits for the mutex now.
    waiter.pending();
    let wakes = waiter.wakes();
    drop(holder);
    assert!(
        waiter.wakes() > wakes,
        "unlocking wakes the relocking waiter"
    );
    let guard = waiter.ready();
    assert!(m.try_lock().is_none(), "the returned guard holds the mutex");
    drop(guard);
    assert!(m.try_lock().is_some());
}

#[test]
fn works_with_the_arc_guard() {
    let m = Arc::new(Mutex::new(5));
    let cond = Condition::new();
    let mut waiter = polled(cond.wait(m.try_lock_arc().unwrap()));
    waiter.pending();
    *m.try_lock().unwrap() = 6;
    cond.notify_one();
    let guard: MutexGuardArc<i32> = waiter.ready();
    assert_eq!(*guard, 6);
    assert!(Arc::ptr_eq(MutexGuardArc::source(&guard), &m));
    assert!(m.try_lock().is_none());
}

#[test]
fn notify_n_wakes_the_n_longest_waiters_in_fifo_order() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut w = Vec::new();
    for _ in 0..4 {
        // Each registers (and releases the mutex) in index order.
        let mut f = polled(cond.wait(m.try_lock().unwrap()));
        f.pending();
        w.push(f);
    }
    assert_eq!(cond.notify(2), 2);
    assert_eq!(
        w.iter().map(|f| f.wakes()).collect::<Vec<_>>(),
        [1, 1, 0, 0]
    );
    assert!(cond.notify_one());
    assert_eq!(
        w.iter().map(|f| f.wakes()).collect::<Vec<_>>(),
        [1, 1, 1, 0]
    );
    // The notified ones complete one after the other; the last still waits.
    for f in &mut w[..3] {
        drop(f.ready());
    }
    w[3].pending();
    assert_eq!(cond.notify(10), 1, "only one was still waiting");
    drop(w[3].ready());
    assert_eq!(cond.notify(0), 0);
}

#[test]
fn notify_with_nobody_waiting_is_not_stored() {
    let m = Mutex::new(());
    let cond = Condition::new();
    assert!(!cond.notify_one());
    assert_eq!(cond.notify(3), 0);
    assert_eq!(cond.notify_all(), 0);
    let mut late = polled(cond.wait(m.try_lock().unwrap()));
    late.pending();
    late.pending();
    assert_eq!(
        late.wakes(),
        0,
        "no earlier notify lets a later wait through"
    );
    assert!(cond.notify_one());
    drop(late.ready());
}

#[test]
fn notify_all_wakes_exactly_the_registered_waiters() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    let mut b = polled(cond.wait(m.try_lock().unwrap()));
    b.pending();
    assert_eq!(cond.notify_all(), 2);
    let mut late = polled(cond.wait(m.try_lock().unwrap()));
    late.pending();
    assert_eq!((a.wakes(), b.wakes(), late.wakes()), (1, 1, 0));
    drop(a.ready());
    drop(b.ready());
    late.pending();
    assert_eq!(late.wakes(), 0);
    assert_eq!(cond.notify_all(), 1);
    drop(late.ready());
}

#[test]
fn notified_waiter_dropped_before_repoll_passes_the_notification_on() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    let mut b = polled(cond.wait(m.try_lock().unwrap()));
    b.pending();
    assert!(cond.notify_one());
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1, "the dropped waiter's notification went on");
    drop(b.ready());
    // Nothing extra was created: the next waiter waits.
    let mut c = polled(cond.wait(m.try_lock().unwrap()));
    c.pending();
    assert_eq!(c.wakes(), 0);
    assert!(cond.notify_one());
    drop(c.ready());
}

#[test]
fn waiter_dropped_while_relocking_passes_the_notification_on_and_releases_nothing() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    let mut b = polled(cond.wait(m.try_lock().unwrap()));
    b.pending();
    let holder = m.try_lock().unwrap();
    assert!(cond.notify_one());
    a.pending(); // now re-acquiring, blocked on `holder`
    drop(a);
    assert_eq!(b.wakes(), 1, "the notification went on");
    // The dropped waiter did not release the mutex it never got back.
    assert!(m.try_lock().is_none());
    b.pending();
    drop(holder);
    drop(b.ready());
}

#[test]
fn waiter_dropped_while_queued_takes_nothing() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    let mut b = polled(cond.wait(m.try_lock().unwrap()));
    b.pending();
    drop(a);
    assert_eq!(b.wakes(), 0, "a queued drop wakes nobody");
    assert_eq!(cond.notify(2), 1, "the dropped waiter left the queue");
    drop(b.ready());
}

#[test]
fn wait_dropped_before_its_first_poll_just_releases_the_guard() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let w = cond.wait(m.try_lock().unwrap());
    assert!(m.try_lock().is_none());
    drop(w);
    assert!(m.try_lock().is_some());
    assert!(!cond.notify_one(), "nothing was registered");
}

#[test]
fn waiter_woken_by_notify_all_and_dropped_passes_nothing_to_a_later_waiter() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    assert_eq!(cond.notify_all(), 1);
    let mut late = polled(cond.wait(m.try_lock().unwrap()));
    late.pending();
    drop(a);
    assert_eq!(late.wakes(), 0);
    assert!(cond.notify_one());
    drop(late.ready());
}

#[test]
fn forwarded_notification_with_nobody_left_is_not_stored() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut a = polled(cond.wait(m.try_lock().unwrap()));
    a.pending();
    cond.notify_one();
    drop(a);
    let mut late = polled(cond.wait(m.try_lock().unwrap()));
    late.pending();
    assert_eq!(late.wakes(), 0);
    assert!(cond.notify_one());
    drop(late.ready());
}

/// CPython's `test_cancelled_wakeup` (and `_relock`): two consumers wait for
/// an item; one item is produced and `notify(1)` sent; the notified consumer
/// is cancelled before it runs. The item must still be consumed.
fn cancelled_wakeup(cancel_while_relocking: bool) {
    let state = Mutex::new(0i32);
    let cond = Condition::new();
    let consumer = || async {
        let mut guard = state.lock().await;
        loop {
            guard = cond.wait_until(guard, |s| *s != 0).await;
            if *guard < 0 {
                return;
            }
            *guard -= 1;
        }
    };
    let mut c0 = polled(consumer());
    let mut c1 = polled(consumer());
    c0.pending();
    c1.pending();
    let mut guard = state.try_lock().unwrap();
    *guard += 1;
    assert_eq!(cond.notify(1), 1);
    assert_eq!((c0.wakes(), c1.wakes()), (1, 0));
    if cancel_while_relocking {
        // c0 re-polls and blocks re-acquiring the lock we hold.
        c0.pending();
    }
    drop(c0);
    drop(guard);
    assert_eq!(c1.wakes(), 1, "the notification reached the other consumer");
    c1.pending(); // consumes the item and waits again
    assert_eq!(*state.try_lock().unwrap(), 0, "the item was consumed");
    *state.try_lock().unwrap() = -1;
    assert_eq!(cond.notify_all(), 1);
    assert_eq!(c1.poll(), Poll::Ready(()));
}

#[test]
fn cancelled_wakeup_while_awaiting_the_repoll_is_not_lost() {
    cancelled_wakeup(false);
}

#[test]
fn cancelled_wakeup_while_relocking_is_not_lost() {
    cancelled_wakeup(true);
}

#[test]
fn wait_while_rechecks_after_each_wakeup() {
    let m = Mutex::new(0);
    let cond = Condition::new();
    let mut calls = 0;
    let mut w = polled(cond.wait_while(m.try_lock().unwrap(), |n| {
        calls += 1;
        *n < 2
    }));
    w.pending();
    *m.try_lock().unwrap() = 1;
    cond.notify_one();
    w.pending(); // woke, predicate still true, waits again
    assert!(m.try_lock().is_some(), "it released the mutex again");
    *m.try_lock().unwrap() = 2;
    cond.notify_one();
    let guard = w.ready();
    assert_eq!(*guard, 2);
    drop(guard);
    drop(w);
    assert_eq!(calls, 3);
}

#[test]
fn wait_until_with_a_true_predicate_returns_without_releasing() {
    let m = Mutex::new(7);
    let cond = Condition::new();
    let mut w = polled(cond.wait_until(m.try_lock().unwrap(), |n| *n == 7));
    let guard = w.ready();
    assert_eq!(*guard, 7);
    assert!(!cond.notify_one(), "it never waited");
}

#[test]
fn wait_until_dropped_after_notify_passes_the_notification_on() {
    let m = Mutex::new(false);
    let cond = Condition::new();
    let mut a = polled(cond.wait_until(m.try_lock().unwrap(), |ready| *ready));
    a.pending();
    let mut b = polled(cond.wait_until(m.try_lock().unwrap(), |ready| *ready));
    b.pending();
    *m.try_lock().unwrap() = true;
    cond.notify_one();
    drop(a);
    assert_eq!(b.wakes(), 1);
    assert!(*b.ready());
}

#[test]
#[should_panic(expected = "`ConditionWait` polled after completion")]
fn polling_a_completed_wait_panics() {
    let m = Mutex::new(());
    let cond = Condition::new();
    let mut w = polled(cond.wait(m.try_lock().unwrap()));
    w.pending();
    cond.notify_one();
    drop(w.ready());
    let _ = w.poll();
}

type Late = Pin<Box<dyn Future<Output = MutexGuard<'static, ()>> + Send>>;

/// Queues `n` waiters on `cond`; the first one's waker, when it is woken,
/// starts a new waiter (which registers at once), i.e. *during* the notify
/// call, between two of its wake batches.
fn waiters_with_a_late_arrival(
    cond: &'static Condition,
    m: &'static Mutex<()>,
    n: usize,
) -> (
    Late,
    Vec<common::poll::Polled<impl Future>>,
    Arc<StdMutex<Option<Late>>>,
) {
    let late: Arc<StdMutex<Option<Late>>> = Arc::default();
    let slot = late.clone();
    let on_wake = Arc::new(CountingWaker::with_hook(move || {
        let mut fut: Late = Box::pin(cond.wait(m.try_lock().unwrap()));
        let waker = Waker::noop();
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        *slot.lock().unwrap() = Some(fut);
    }));
    // The first waiter is polled with the special waker.
    let mut first: Late = Box::pin(cond.wait(m.try_lock().unwrap()));
    let waker = Waker::from(on_wake);
    assert!(first
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    let mut rest = Vec::new();
    for _ in 1..n {
        let mut w = polled(cond.wait(m.try_lock().unwrap()));
        w.pending();
        rest.push(w);
    }
    // `first` stays registered (its node is pinned in the box); it is woken
    // through `on_wake`.
    (first, rest, late)
}

#[test]
fn notify_all_spanning_several_batches_skips_a_waiter_that_arrives_meanwhile() {
    static M: Mutex<()> = Mutex::new(());
    static COND: Condition = Condition::new();
    let n = 40; // more than one wake batch
    let (first, mut rest, late) = waiters_with_a_late_arrival(&COND, &M, n);
    assert_eq!(
        COND.notify_all(),
        n,
        "exactly the waiters queued at the call"
    );
    assert!(
        late.lock().unwrap().is_some(),
        "the late waiter registered mid-call"
    );
    assert!(rest.iter().all(|w| w.wakes() == 1));
    for w in &mut rest {
        drop(w.ready());
    }
    drop(first); // woken by notify_all: passes nothing on
    assert_eq!(COND.notify_all(), 1, "only the late waiter is left");
    drop(late.lock().unwrap().take());
}

#[test]
fn notify_n_spanning_several_batches_counts_only_waiters_queued_at_the_call() {
    static M: Mutex<()> = Mutex::new(());
    static COND: Condition = Condition::new();
    let n = 40;
    let (first, mut rest, late) = waiters_with_a_late_arrival(&COND, &M, n);
    assert_eq!(COND.notify(usize::MAX), n);
    assert!(late.lock().unwrap().is_some());
    for w in &mut rest {
        drop(w.ready());
    }
    assert!(COND.notify_one(), "the late waiter is still queued");
    drop(late.lock().unwrap().take());
    drop(first); // notified by `notify`: forwards, but nobody is left
}

type BoxedWait = Pin<Box<dyn Future<Output = MutexGuard<'static, ()>> + Send>>;

/// A notified waiter `a` (in a slot), and `n` waiters behind it; the first
/// of them, when woken (the end of a notify's first wake batch), queues a
/// new waiter `c` (after the notify began, so not covered by it) and then
/// cancels `a`, which forwards its notification mid-notify.
#[allow(clippy::type_complexity)]
fn forward_mid_notify(
    cond: &'static Condition,
    m: &'static Mutex<()>,
    n: usize,
) -> (
    Vec<common::poll::Polled<impl Future<Output = MutexGuard<'static, ()>>>>,
    Arc<StdMutex<Option<BoxedWait>>>,
    Arc<CountingWaker>,
) {
    let a_slot: Arc<StdMutex<Option<BoxedWait>>> = Arc::default();
    let mut a: BoxedWait = Box::pin(cond.wait(m.try_lock().unwrap()));
    assert!(a
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    *a_slot.lock().unwrap() = Some(a);
    let c_wakes = Arc::new(CountingWaker::default());
    let c_slot: Arc<StdMutex<Option<BoxedWait>>> = Arc::default();
    let hook = {
        let (c_slot, c_wakes) = (c_slot.clone(), c_wakes.clone());
        move || {
            let mut c: BoxedWait = Box::pin(cond.wait(m.try_lock().unwrap()));
            let w = Waker::from(c_wakes);
            assert!(c.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
            *c_slot.lock().unwrap() = Some(c);
            drop(a_slot.lock().unwrap().take()); // cancel `a`: it forwards
        }
    };
    let mut bs = vec![common::poll::Polled::with_hook(
        cond.wait(m.try_lock().unwrap()),
        hook,
    )];
    bs[0].pending(); // queued, and the mutex released
    for _ in 1..n {
        let mut b = common::poll::Polled::new(cond.wait(m.try_lock().unwrap()));
        b.pending();
        bs.push(b);
    }
    assert!(cond.notify_one(), "`a` is notified");
    (bs, c_slot, c_wakes)
}

#[test]
fn a_notification_forwarded_during_a_batched_notify_all_reaches_the_waiter_it_does_not_cover() {
    static M: Mutex<()> = Mutex::new(());
    static COND: Condition = Condition::new();
    let (mut bs, c, c_wakes) = forward_mid_notify(&COND, &M, 40);
    assert_eq!(COND.notify_all(), 40, "every waiter queued at the call");
    assert!(c.lock().unwrap().is_some(), "the hook ran mid-call");
    assert!(bs.iter().all(|b| b.wakes() == 1));
    assert_eq!(c_wakes.wakes(), 1, "`a`'s notification reached `c`");
    for b in &mut bs {
        drop(b.ready());
    }
    assert!(!COND.notify_one(), "`c` was released: nobody is left");
    drop(c.lock().unwrap().take()); // notified (forwarded): nobody to pass to
}

#[test]
fn a_notification_forwarded_during_a_batched_notify_n_goes_to_the_next_waiter_after_them() {
    static M: Mutex<()> = Mutex::new(());
    static COND: Condition = Condition::new();
    let (mut bs, c, c_wakes) = forward_mid_notify(&COND, &M, 40);
    // notify(30) releases b1..b30; `a`'s notification then goes to b31.
    assert_eq!(COND.notify(30), 30);
    assert!(c.lock().unwrap().is_some());
    for (i, b) in bs.iter().enumerate() {
        assert_eq!(b.wakes(), usize::from(i <= 30), "b{}", i + 1);
    }
    assert_eq!(c_wakes.wakes(), 0);
    for b in &mut bs[..31] {
        drop(b.ready());
    }
    assert_eq!(COND.notify_all(), 10, "b32..b40 and `c`");
    for b in &mut bs[31..] {
        drop(b.ready());
    }
    drop(c.lock().unwrap().take());
}

#[test]
fn condition_guard_is_implemented_for_both_guards() {
    fn guard<G: ConditionGuard>() {}
    guard::<MutexGuard<'static, String>>();
    guard::<MutexGuardArc<[u8]>>();
}

#[test]
fn a_panicking_wake_in_a_batched_notify_all_still_releases_every_waiter_and_pays_forwards() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    static M: Mutex<()> = Mutex::new(());
    static COND: Condition = Condition::new();
    let mut waiters = vec![common::poll::Polled::with_hook(
        COND.wait(M.try_lock().unwrap()),
        || panic!("wake failed"),
    )];
    waiters[0].pending();
    for _ in 1..17 {
        let mut w = common::poll::Polled::new(COND.wait(M.try_lock().unwrap()));
        w.pending();
        waiters.push(w);
    }
    assert!(catch_unwind(AssertUnwindSafe(|| COND.notify_all())).is_err());
    assert!(waiters.iter().all(|w| w.woken()), "the 17th was woken too");
    for w in &mut waiters {
        drop(w.ready());
    }
    // The notify is over: a forward now goes straight to the next waiter.
    let mut a = polled(COND.wait(M.try_lock().unwrap()));
    a.pending();
    let mut b = polled(COND.wait(M.try_lock().unwrap()));
    b.pending();
    assert!(COND.notify_one());
    drop(a);
    assert!(
        b.woken(),
        "the forward was not owed to a notify that is gone"
    );
    drop(b.ready());
}
