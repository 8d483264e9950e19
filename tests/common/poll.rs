//! Hand-polling: a waker that counts its wake-ups (and can run a one-shot
//! hook on the first), and a wrapper that polls a pinned future on demand.
//! No executor, no timing: fully deterministic.
//!
//! Primitives call wakers after releasing their lock, in batches of at most
//! `WakeBatch::CAPACITY`. A hook on the waker of an early waiter therefore
//! runs *between* two batches of one `set()`/`close()`/release, which lets a
//! hand-polled test interleave a `clear()`, a cancel or a new waiter there,
//! deterministically and without threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

type Hook = Box<dyn FnOnce() + Send>;

/// A waker that counts how often it was woken; the first wake-up also runs
/// its hook, if it has one.
#[derive(Default)]
pub struct CountingWaker {
    wakes: AtomicUsize,
    hook: Mutex<Option<Hook>>,
}

impl CountingWaker {
    /// A counting waker whose first wake-up runs `hook`.
    pub fn with_hook(hook: impl FnOnce() + Send + 'static) -> Self {
        Self {
            wakes: AtomicUsize::new(0),
            hook: Mutex::new(Some(Box::new(hook))),
        }
    }

    /// How often it was woken so far.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }

    fn fire(&self) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.fire();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fire();
    }
}

/// A future under test, boxed and pinned, with its own counting waker.
pub struct Polled<F: Future> {
    fut: Pin<Box<F>>,
    counter: Arc<CountingWaker>,
    waker: Waker,
}

impl<F: Future> Polled<F> {
    pub fn new(fut: F) -> Self {
        Self::with_waker(fut, CountingWaker::default())
    }

    /// `fut`, whose waker runs `hook` on its first wake-up.
    pub fn with_hook(fut: F, hook: impl FnOnce() + Send + 'static) -> Self {
        Self::with_waker(fut, CountingWaker::with_hook(hook))
    }

    fn with_waker(fut: F, counter: CountingWaker) -> Self {
        let counter = Arc::new(counter);
        let waker = Waker::from(counter.clone());
        Self {
            fut: Box::pin(fut),
            counter,
            waker,
        }
    }

    /// Polls once with this future's waker.
    pub fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    /// How often this future's waker has been woken so far.
    pub fn wakes(&self) -> usize {
        self.counter.wakes()
    }

    /// Whether it has been woken since it was created.
    pub fn woken(&self) -> bool {
        self.wakes() > 0
    }

    /// Whether the hook has run.
    pub fn hook_ran(&self) -> bool {
        self.counter.hook.lock().unwrap().is_none()
    }

    /// Polls and expects `Pending`.
    #[track_caller]
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending");
    }

    /// Polls and expects `Ready`, returning the output.
    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected Ready"),
        }
    }
}

/// Shorthand for [`Polled::new`].
pub fn polled<F: Future>(fut: F) -> Polled<F> {
    Polled::new(fut)
}

/// A waker whose `clone` panics: the one user callback that can run while a
/// primitive holds its lock.
#[allow(dead_code)]
pub fn panicking_clone_waker() -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    fn clone(_: *const ()) -> RawWaker {
        panic!("waker clone failed")
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: every vtable function ignores the data pointer, and `clone`
    // never returns, so no `RawWaker` is ever built from a bad pointer.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}
