//! loom models of `Semaphore::forget_permits`: the debt it leaves is paid
//! by exactly the permits that come back, whatever the interleaving.
use std::sync::Arc;
use std::task::Poll;

use sluicegate::Semaphore;
use sluicegate_loom_tests::{model, thread, Polled};

#[test]
fn forget_racing_a_return_with_a_waiter_queued_keeps_exact_accounting() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let mut waiter = Polled::new(sem.clone().acquire_owned());
        assert!(waiter.poll().is_pending());
        let s = sem.clone();
        let shrinker = thread::spawn(move || s.forget_permits(1));
        let releaser = thread::spawn(move || drop(held));
        assert_eq!(shrinker.join().unwrap(), 0, "nothing was available");
        releaser.join().unwrap();
        // Either the returned permit paid the debt (the waiter still
        // waits), or it went to the waiter first and the debt is still
        // owed; either way one permit is gone for good.
        match waiter.poll() {
            Poll::Ready(permit) => drop(permit.unwrap()),
            Poll::Pending => drop(waiter),
        }
        assert_eq!(sem.available_permits(), 0);
        sem.add_permits(1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn forget_racing_the_lock_free_paths_removes_exactly_what_it_asked() {
    model(|| {
        let sem = Arc::new(Semaphore::new(2));
        let s = sem.clone();
        let taker = thread::spawn(move || s.clone().try_acquire_owned().ok());
        let s = sem.clone();
        let shrinker = thread::spawn(move || s.forget_permits(2));
        let held = taker.join().unwrap();
        let at_once = shrinker.join().unwrap();
        assert_eq!(at_once + held.as_ref().map_or(0, |p| p.num_permits()), 2);
        drop(held);
        assert_eq!(sem.available_permits(), 0);
        sem.add_permits(1);
        assert_eq!(sem.available_permits(), 1, "the debt was paid exactly once");
    });
}
