//! Helpers shared by the loom models in `tests/`.
//!
//! Run the models with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p sluicegate-loom-tests --release`.
//! Without `--cfg loom`, [`model`] runs its body once on real threads, so the
//! models also run as ordinary tests.
#![allow(clippy::new_without_default)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[cfg(loom)]
pub use loom::{future::block_on, model, thread};

#[cfg(not(loom))]
pub use std::thread;

/// Runs `f` once (loom explores every interleaving under `--cfg loom`).
#[cfg(not(loom))]
pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    f()
}

/// Drives a future to completion on the current thread.
#[cfg(not(loom))]
pub fn block_on<F: Future>(f: F) -> F::Output {
    futures_lite::future::block_on(f)
}

/// A waker that only counts its wake-ups. Its counter is a plain std atomic,
/// which loom cannot see: read it only after joining the threads that may
/// wake it. A model that reads it earlier to learn how far another thread
/// got lets loom skip the interleavings that matter; use a loom atomic there.
#[derive(Default)]
pub struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A boxed future polled by hand with a counting waker.
pub struct Polled<F: Future> {
    fut: Pin<Box<F>>,
    counter: Arc<Counter>,
    waker: Waker,
}

impl<F: Future> Polled<F> {
    pub fn new(fut: F) -> Self {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(counter.clone());
        Self {
            fut: Box::pin(fut),
            counter,
            waker,
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    pub fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }
}
