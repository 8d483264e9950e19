//! loom models of `Event`: set racing wait, set then clear versus a queued
//! waiter, and a waiter dropped while `set()` drains.
use std::sync::Arc;
use std::task::Poll;

use sluicegate::Event;
use sluicegate_loom_tests::{block_on, model, thread, Polled};

#[test]
fn set_racing_wait_always_wakes() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let waiter = thread::spawn(move || block_on(e.wait()));
        ev.set();
        waiter.join().unwrap();
        assert!(ev.is_set());
    });
}

#[test]
fn waiter_queued_before_set_completes_despite_clear() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let mut waiter = Polled::new(async move { e.wait().await });
        assert!(waiter.poll().is_pending());
        let e = ev.clone();
        let setter = thread::spawn(move || {
            e.set();
            e.clear();
        });
        setter.join().unwrap();
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(()));
        assert!(!ev.is_set());
    });
}

#[test]
fn waiter_dropped_while_set_drains() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e1 = ev.clone();
        let e2 = ev.clone();
        let mut gone = Polled::new(async move { e1.wait().await });
        let mut stays = Polled::new(async move { e2.wait().await });
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        let dropper = thread::spawn(move || drop(gone));
        let e = ev.clone();
        let setter = thread::spawn(move || e.set());
        dropper.join().unwrap();
        setter.join().unwrap();
        assert_eq!(stays.wakes(), 1);
        assert_eq!(stays.poll(), Poll::Ready(()));
    });
}

#[test]
fn clear_racing_set_and_wait_never_loses_the_set() {
    model(|| {
        let ev = Arc::new(Event::new());
        let e = ev.clone();
        let setter = thread::spawn(move || e.set());
        let e = ev.clone();
        let waiter = thread::spawn(move || {
            let mut w = Polled::new(async move { e.wait().await });
            if w.poll().is_pending() {
                // Queued before set() drained: it must be released.
                Some(w)
            } else {
                None
            }
        });
        setter.join().unwrap();
        if let Some(mut w) = waiter.join().unwrap() {
            assert_eq!(w.wakes(), 1);
            assert_eq!(w.poll(), Poll::Ready(()));
        }
    });
}
