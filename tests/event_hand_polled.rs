//! Deterministic tests of `Event`: every waiter is polled by hand with a
//! counting waker, so each test pins exactly who is woken, how often, and who
//! completes. No executor and no threads (this file also runs under miri).
mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::poll::{polled, CountingWaker, Polled};
use sluicegate::futures::EventWait;
use sluicegate::Event;

/// More waiters than one wake batch (`WakeBatch::CAPACITY` is 16).
const MANY: usize = 40;

use common::traits::{assert_not_unpin, assert_send_sync, assert_unpin};

#[test]
fn event_and_wait_are_send_and_sync_and_wait_is_not_unpin() {
    assert_send_sync::<Event>();
    assert_send_sync::<EventWait<'static>>();
    assert_unpin::<Event>();
    // The future holds the intrusive wait-list node.
    assert_not_unpin!(EventWait<'static>);
}

fn waiters(ev: &Event, n: usize) -> Vec<Polled<EventWait<'_>>> {
    let mut ws: Vec<_> = (0..n).map(|_| polled(ev.wait())).collect();
    for w in &mut ws {
        w.pending();
    }
    ws
}

#[test]
fn new_event_is_not_set() {
    assert!(!Event::new().is_set());
    assert!(!Event::default().is_set());
}

#[test]
fn wait_on_a_set_event_is_ready_at_once() {
    let ev = Event::new();
    ev.set();
    let mut w = polled(ev.wait());
    w.ready();
    assert_eq!(w.wakes(), 0);
    assert!(ev.is_set(), "waiting does not consume the event");
    polled(ev.wait()).ready();
}

#[test]
fn wait_on_a_clear_event_is_pending() {
    let ev = Event::new();
    let mut w = polled(ev.wait());
    w.pending();
    w.pending();
    assert_eq!(w.wakes(), 0);
}

#[test]
fn set_wakes_every_waiter_exactly_once() {
    let ev = Event::new();
    let mut ws = waiters(&ev, 3);
    ev.set();
    assert!(ev.is_set());
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn set_with_more_waiters_than_a_wake_batch_wakes_them_all() {
    let ev = Event::new();
    let mut ws = waiters(&ev, MANY);
    ev.set();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn set_on_a_set_event_wakes_nobody_again() {
    let ev = Event::new();
    let mut w = polled(ev.wait());
    w.pending();
    ev.set();
    ev.set();
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn waiter_registered_at_set_completes_even_if_cleared_before_repoll() {
    let ev = Event::new();
    let mut ws = waiters(&ev, 3);
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn waiter_registered_after_clear_waits_for_the_next_set() {
    let ev = Event::new();
    let mut early = polled(ev.wait());
    early.pending();
    ev.set();
    ev.clear();
    let mut late = polled(ev.wait());
    late.pending();
    early.ready();
    late.pending();
    assert_eq!(late.wakes(), 0);
    ev.set();
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn clear_on_a_clear_event_does_nothing() {
    let ev = Event::new();
    let mut w = polled(ev.wait());
    w.pending();
    ev.clear();
    assert_eq!(w.wakes(), 0);
    ev.set();
    w.ready();
}

#[test]
fn dropped_waiter_leaves_nothing_behind() {
    let ev = Event::new();
    let mut ws = waiters(&ev, 5);
    // Drop the first, a middle and the last one.
    let last = ws.pop().unwrap();
    drop(last);
    drop(ws.remove(2));
    drop(ws.remove(0));
    ev.set();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    ev.clear();
    // The list is consistent afterwards: new waiters queue and wake.
    let mut again = waiters(&ev, 2);
    ev.set();
    for w in &mut again {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn every_waiter_dropped_leaves_an_empty_list() {
    let ev = Event::new();
    drop(waiters(&ev, 4));
    let mut w = polled(ev.wait());
    w.pending();
    ev.set();
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn dropped_after_wake_before_repoll_does_not_affect_the_others() {
    let ev = Event::new();
    let mut ws = waiters(&ev, 3);
    ev.set();
    ev.clear();
    drop(ws.remove(1));
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    let mut late = polled(ev.wait());
    late.pending();
    ev.set();
    late.ready();
}

#[test]
fn dropped_never_polled_waiter_changes_nothing() {
    let ev = Event::new();
    drop(ev.wait());
    let mut w = polled(ev.wait());
    w.pending();
    ev.set();
    w.ready();
}

#[test]
fn repeated_set_clear_cycles_wake_each_generation_once() {
    let ev = Event::new();
    let mut current = polled(ev.wait());
    current.pending();
    for _ in 0..50 {
        ev.set();
        ev.clear();
        let mut next = polled(ev.wait());
        next.pending();
        assert_eq!(current.wakes(), 1);
        assert_eq!(next.wakes(), 0);
        current.ready();
        current = next;
    }
    ev.set();
    current.ready();
}

#[test]
fn waiter_not_repolled_across_many_cycles_is_woken_once_and_completes() {
    let ev = Event::new();
    let mut w = polled(ev.wait());
    w.pending();
    for _ in 0..10 {
        ev.set();
        ev.clear();
    }
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn repoll_with_a_new_waker_moves_the_wake_up_to_it() {
    let ev = Event::new();
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let (w1, w2) = (Waker::from(first.clone()), Waker::from(second.clone()));
    let mut fut = pin!(ev.wait());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    ev.set();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&w2)),
        Poll::Ready(())
    );
}

#[test]
#[should_panic(expected = "polled after completion")]
fn wait_polled_after_completion_panics() {
    let ev = Event::new();
    ev.set();
    let mut w = polled(ev.wait());
    w.ready();
    let _ = w.poll();
}

#[test]
fn debug_output_shows_the_state() {
    let ev = Event::new();
    assert!(format!("{ev:?}").contains("is_set: false"));
    let w = ev.wait();
    assert!(format!("{w:?}").contains("EventWait"));
    ev.set();
    assert!(format!("{ev:?}").contains("is_set: true"));
}

// ---------------------------------------------------------------------------
// Interleavings inside one `set()`: the first waiter's wake-up runs between
// two wake batches (see `common::poll`).

#[test]
fn waiter_registered_after_a_clear_in_the_middle_of_set_waits_for_the_next() {
    static EV: Event = Event::new();
    let late = Arc::new(Mutex::new(None::<Polled<EventWait<'static>>>));
    let late_in_hook = late.clone();
    let mut first = Polled::with_hook(EV.wait(), move || {
        EV.clear();
        let mut w = polled(EV.wait());
        w.pending();
        *late_in_hook.lock().unwrap() = Some(w);
    });
    first.pending();
    let mut rest = waiters(&EV, MANY);
    EV.set();
    assert!(first.hook_ran());
    // Everyone queued before the set is released, in both batches ...
    assert!(rest.iter().all(|w| w.wakes() == 1));
    first.ready();
    for w in &mut rest {
        w.ready();
    }
    // ... but not the waiter that came after the clear.
    let mut late = late.lock().unwrap().take().unwrap();
    assert!(!EV.is_set());
    assert_eq!(late.wakes(), 0);
    late.pending();
    EV.set();
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn second_set_in_the_middle_of_set_releases_everyone_once() {
    static EV: Event = Event::new();
    let late = Arc::new(Mutex::new(None::<Polled<EventWait<'static>>>));
    let late_in_hook = late.clone();
    let mut first = Polled::with_hook(EV.wait(), move || {
        EV.clear();
        let mut w = polled(EV.wait());
        w.pending();
        *late_in_hook.lock().unwrap() = Some(w);
        // This set takes over the waiters the first one has not reached.
        EV.set();
    });
    first.pending();
    let mut rest = waiters(&EV, MANY);
    EV.set();
    assert!(first.hook_ran());
    assert!(EV.is_set());
    assert_eq!(first.wakes(), 1);
    assert!(rest.iter().all(|w| w.wakes() == 1));
    let mut late = late.lock().unwrap().take().unwrap();
    assert_eq!(late.wakes(), 1);
    first.ready();
    for w in &mut rest {
        w.ready();
    }
    late.ready();
}

#[test]
fn waiter_dropped_in_the_middle_of_set_is_skipped() {
    static EV: Event = Event::new();
    let victim = Arc::new(Mutex::new(None::<Polled<EventWait<'static>>>));
    let victim_in_hook = victim.clone();
    let mut first = Polled::with_hook(EV.wait(), move || {
        drop(victim_in_hook.lock().unwrap().take());
    });
    first.pending();
    let mut rest = waiters(&EV, MANY);
    let mut v = polled(EV.wait());
    v.pending();
    *victim.lock().unwrap() = Some(v);
    let mut after = polled(EV.wait());
    after.pending();
    EV.set();
    assert!(victim.lock().unwrap().is_none());
    assert!(rest.iter().all(|w| w.wakes() == 1));
    assert_eq!(after.wakes(), 1);
    first.ready();
    after.ready();
    for w in &mut rest {
        w.ready();
    }
}

#[test]
fn panicking_waker_clone_leaves_the_event_consistent() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let bad = common::poll::panicking_clone_waker();
    let ev = Event::new();
    let mut other = polled(ev.wait());
    other.pending();
    let mut fut = Box::pin(ev.wait());
    let poll = catch_unwind(AssertUnwindSafe(|| {
        fut.as_mut().poll(&mut Context::from_waker(&bad))
    }));
    assert!(poll.is_err());
    drop(fut);
    ev.set();
    assert_eq!(other.wakes(), 1);
    other.ready();
}

#[test]
fn a_panicking_wake_in_a_set_spanning_several_batches_still_releases_every_waiter() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let ev = Event::new();
    let mut waiters = vec![Polled::with_hook(ev.wait(), || panic!("wake failed"))];
    for _ in 1..17 {
        waiters.push(polled(ev.wait()));
    }
    for w in &mut waiters {
        w.pending();
    }
    assert!(catch_unwind(AssertUnwindSafe(|| ev.set())).is_err());
    assert!(ev.is_set());
    assert!(waiters.iter().all(|w| w.woken()), "the 17th was woken too");
    for w in &mut waiters {
        w.ready();
    }
}
