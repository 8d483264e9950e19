#![cfg(loom)]

//! loom models of the lock that `DefaultRawMutex` is with `std` (the
//! crate's parking lock: one compare-exchange to lock, one swap to unlock, a
//! contended thread spins briefly and then sleeps on a condition variable).
//! Under loom `DefaultRawMutex` itself is loom's mutex, so these models
//! reach the parking lock through its hidden re-export. Each checks mutual
//! exclusion with a loom cell (loom reports two accesses at once as a data
//! race) and that no sleeper is left asleep when the lock comes free (loom
//! reports that as a deadlock).

use loom::cell::UnsafeCell;
use sluicegate::raw_mutex::{__LoomParkingRawMutex as ParkingRawMutex, ScopedRawMutex};
use sluicegate_loom_tests::{model, thread};
use std::sync::Arc;

struct Counter {
    lock: ParkingRawMutex,
    value: UnsafeCell<usize>,
}

// SAFETY: `value` is only touched under `lock`, which these models check.
unsafe impl Sync for Counter {}

impl Counter {
    fn new() -> Self {
        Self {
            lock: ParkingRawMutex::new(),
            value: UnsafeCell::new(0),
        }
    }

    fn add(&self) {
        self.lock.with_lock(|| {
            // SAFETY: under the lock; loom checks that no other access
            // overlaps.
            self.value.with_mut(|v| unsafe { *v += 1 });
        });
    }

    fn get(&self) -> usize {
        // SAFETY: as in `add`.
        self.lock.with_lock(|| self.value.with(|v| unsafe { *v }))
    }
}

/// Two threads add under the lock, each twice: every add is kept, and a
/// thread that went to sleep on the lock is woken by the unlock after it.
#[test]
fn two_threads_exclude_each_other_and_no_sleeper_is_left_asleep() {
    model(|| {
        let c = Arc::new(Counter::new());
        let c2 = c.clone();
        let t = thread::spawn(move || {
            c2.add();
            c2.add();
        });
        c.add();
        c.add();
        t.join().unwrap();
        assert_eq!(c.get(), 4);
        assert!(!c.lock.is_locked());
    });
}

/// Three threads: two may sleep at once; each unlock that finds sleepers
/// wakes one, and the woken one, taking the lock as "sleepers" again, wakes
/// the next.
#[test]
fn three_threads_wake_every_sleeper_in_turn() {
    model(|| {
        let c = Arc::new(Counter::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || c.add())
            })
            .collect();
        c.add();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(c.get(), 3);
    });
}

/// `try_with_lock` never runs its closure while another thread holds the
/// lock, and leaves the lock free.
#[test]
fn try_with_lock_excludes_a_holder() {
    model(|| {
        let c = Arc::new(Counter::new());
        let c2 = c.clone();
        let t = thread::spawn(move || c2.add());
        let tried = c.lock.try_with_lock(|| {
            // SAFETY: under the lock.
            c.value.with_mut(|v| unsafe { *v += 10 });
        });
        t.join().unwrap();
        let want = if tried.is_some() { 11 } else { 1 };
        assert_eq!(c.get(), want);
        assert!(!c.lock.is_locked());
    });
}
