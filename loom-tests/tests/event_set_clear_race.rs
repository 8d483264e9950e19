//! `Event::set()` racing `clear()` and a new waiter.
//!
//! A waiter that starts waiting after a `clear()` which itself followed a
//! `set()` must wait for the next `set()`: no `set()` may release a waiter
//! that registered after the `clear()` that undid it.
use std::sync::Arc;

use sluicegate::Event;
use sluicegate_loom_tests::{model, thread, Polled};

#[test]
fn set_undone_by_clear_does_not_release_a_later_waiter() {
    model(|| {
        let ev = Arc::new(Event::new());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || ev.set())
        };
        ev.clear();
        let mut waiter = Polled::new(ev.wait());
        let first = waiter.poll();
        setter.join().unwrap();
        if first.is_pending() && !ev.is_set() {
            // The event ended clear, so the set's flag write came before our
            // clear, and the waiter registered after both: that set is over
            // as far as this waiter is concerned.
            assert_eq!(
                waiter.wakes(),
                0,
                "released by a set() undone before it waited"
            );
            assert!(waiter.poll().is_pending());
        }
    });
}

#[test]
fn set_racing_a_new_waiter_never_loses_the_wake_up() {
    model(|| {
        let ev = Arc::new(Event::new());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || ev.set())
        };
        let mut waiter = Polled::new(ev.wait());
        let first = waiter.poll();
        setter.join().unwrap();
        if first.is_pending() {
            assert_eq!(waiter.wakes(), 1, "set() lost the wake-up");
            assert!(waiter.poll().is_ready());
        }
    });
}
