//! A waker that runs a one-shot hook when it is first woken.
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

/// Counts wake-ups; the first one also runs the hook, if any.
#[derive(Default)]
pub struct HookWaker {
    wakes: AtomicUsize,
    hook: Mutex<Option<Hook>>,
}

impl HookWaker {
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

impl Wake for HookWaker {
    fn wake(self: Arc<Self>) {
        self.fire();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fire();
    }
}

/// A boxed future polled by hand with a [`HookWaker`].
pub struct Hooked<F: Future> {
    fut: Pin<Box<F>>,
    state: Arc<HookWaker>,
    waker: Waker,
}

impl<F: Future> Hooked<F> {
    /// `fut`, whose waker runs `hook` on its first wake-up.
    pub fn new(fut: F, hook: impl FnOnce() + Send + 'static) -> Self {
        let state = Arc::new(HookWaker {
            wakes: AtomicUsize::new(0),
            hook: Mutex::new(Some(Box::new(hook))),
        });
        let waker = Waker::from(state.clone());
        Self {
            fut: Box::pin(fut),
            state,
            waker,
        }
    }

    pub fn poll(&mut self) -> Poll<F::Output> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    pub fn wakes(&self) -> usize {
        self.state.wakes.load(Ordering::SeqCst)
    }

    /// Whether the hook has run.
    pub fn hook_ran(&self) -> bool {
        self.state.hook.lock().unwrap().is_none()
    }

    #[track_caller]
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending");
    }

    #[track_caller]
    pub fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("expected Ready"),
        }
    }
}
