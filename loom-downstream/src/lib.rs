//! A user's library built on sluicegate: a bounded job counter that lets at
//! most `limit` jobs run at once and counts how many finished.

// The user's own shared memory goes through loom under `cfg(loom)`, as
// loom requires; sluicegate's does so by itself.
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};

use sluicegate::{Event, Semaphore};

/// Runs jobs with at most `limit` at once; `done` is set once `expected`
/// jobs have finished.
pub struct Jobs {
    slots: Semaphore,
    finished: AtomicUsize,
    expected: usize,
    /// Set once every expected job has finished.
    pub done: Event,
}

impl Jobs {
    pub fn new(limit: usize, expected: usize) -> Self {
        Self {
            slots: Semaphore::new(limit),
            finished: AtomicUsize::new(0),
            expected,
            done: Event::new(),
        }
    }

    /// How many jobs have finished.
    pub fn finished(&self) -> usize {
        self.finished.load(Ordering::Acquire)
    }

    /// Runs one job (`work`) in a slot.
    pub async fn run(&self, work: impl FnOnce()) {
        let _slot = self.slots.acquire().await.expect("never closed");
        work();
        if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.done.set();
        }
    }

    /// The same, with the check-then-act race a loom model should catch:
    /// the count is read and written in two steps.
    pub async fn run_racy(&self, work: impl FnOnce()) {
        let _slot = self.slots.acquire().await.expect("never closed");
        work();
        let n = self.finished.load(Ordering::Acquire) + 1;
        self.finished.store(n, Ordering::Release);
        if n == self.expected {
            self.done.set();
        }
    }
}
