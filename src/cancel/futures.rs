//! The futures of the cancel module: waiting for a cancellation
//! ([`Cancelled`], [`CancelledOwned`]) and racing one
//! ([`RunUntilCancelled`], [`RunUntilCancelledOwned`]).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::Core;
use crate::loom::atomic::Ordering::*;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::wait_list::Node;

/// Polls a waiter whose node is used with `core`'s wait list only.
///
/// `queued` says whether the node is (or was, until `cancel()` popped it)
/// on the list; it is cleared once the waiter completes, leaving nothing
/// for the drop to do.
#[inline]
fn poll_waiter<C, L: ScopedRawMutex>(
    core: &Core<C, L>,
    node: Pin<&Node<()>>,
    queued: &mut bool,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if core.cancelled.load(Acquire) {
        if *queued {
            // A popped node is off the list for good: no lock needed.
            if !node.popped() {
                // `cancel()` has not reached it yet (it works in batches).
                // SAFETY: the node is used with `core.waiters` only.
                core.waiters.lock(|l| unsafe { l.remove(node) });
            }
            *queued = false;
        }
        return Poll::Ready(());
    }
    // Dropped after the lock is released, like every waker.
    let mut displaced = None;
    let ready = core.waiters.lock(|l| {
        // `cancel()` sets the flag under this lock: either it did before we
        // took it (we see it) or it will find us queued.
        if core.cancelled.load(Acquire) {
            if *queued {
                // SAFETY: the node is used with `core.waiters` only.
                unsafe { l.remove(node) };
            }
            return true;
        }
        if *queued {
            // Not cancelled, so not popped: still linked.
            // SAFETY: the node is used with `core.waiters` only.
            displaced = unsafe { l.set_waker(node, cx.waker()) };
        } else {
            // SAFETY: the node is used with `core.waiters` only, and the
            // future's drop (`drop_waiter`) unlinks it.
            displaced = unsafe { l.push_back(node, (), cx.waker().clone()) };
            *queued = true;
        }
        false
    });
    drop(displaced);
    if ready {
        *queued = false;
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

/// Unlinks a waiter that is being dropped.
#[inline]
fn drop_waiter<C, L: ScopedRawMutex>(core: &Core<C, L>, node: Pin<&Node<()>>, queued: bool) {
    // Popped by `cancel()`: it no longer touches the node.
    if queued && !node.popped() {
        // SAFETY: the node is used with `core.waiters` only.
        core.waiters.lock(|l| unsafe { l.remove(node) });
    }
}

pin_project! {
    /// The future returned by [`CancellationToken::cancelled`](super::CancellationToken::cancelled)
    /// and [`RootToken::cancelled`](super::RootToken::cancelled): completes
    /// once the token is cancelled.
    ///
    /// Its waiter node lives inside it (it is `!Unpin`), so waiting
    /// allocates nothing. Polling it again after it completed is allowed and
    /// completes again.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping it unregisters the waiter; nothing else is
    /// affected, since a cancellation wakes every waiter and there is no
    /// wake-up to pass on.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::cancel::{Cancelled, RootToken};
    ///
    /// let token = RootToken::new();
    /// let mut wait: std::pin::Pin<Box<Cancelled<'_>>> = Box::pin(token.cancelled());
    /// assert!(block_on(poll_once(&mut wait)).is_none());
    /// token.cancel();
    /// block_on(wait);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Cancelled<'a, C = (), L: ScopedRawMutex = DefaultRawMutex> {
        core: &'a Core<C, L>,
        #[pin]
        node: Node<()>,
        queued: bool,
    }

    impl<C, L: ScopedRawMutex> PinnedDrop for Cancelled<'_, C, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            drop_waiter(this.core, this.node.into_ref(), *this.queued);
        }
    }
}

impl<'a, C, L: ScopedRawMutex> Cancelled<'a, C, L> {
    #[inline]
    pub(super) fn new(core: &'a Core<C, L>) -> Self {
        Self {
            core,
            node: Node::new(()),
            queued: false,
        }
    }
}

impl<C, L: ScopedRawMutex> Future for Cancelled<'_, C, L> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        poll_waiter(this.core, this.node.into_ref(), this.queued, cx)
    }
}

impl<C, L: ScopedRawMutex> fmt::Debug for Cancelled<'_, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("is_cancelled", &self.core.is_cancelled())
            .field("queued", &self.queued)
            .finish()
    }
}

/// Polls a [`RunUntilCancelled`] or [`RunUntilCancelledOwned`].
///
/// On the first poll a token already cancelled wins and `fut` is never
/// polled; after that `fut` is polled first, and a `fut` that completes
/// wins even if the token is cancelled by then.
#[inline]
fn poll_race<F: Future>(
    fut: Pin<&mut F>,
    cancelled: impl FnOnce(&mut Context<'_>) -> Poll<()>,
    is_cancelled: bool,
    state: &mut Race,
    cx: &mut Context<'_>,
) -> Poll<Option<F::Output>> {
    let output = match state {
        Race::Done => panic!("`RunUntilCancelled` polled after completion"),
        Race::Start if is_cancelled => Poll::Ready(None),
        Race::Start | Race::Running => match fut.poll(cx) {
            Poll::Ready(v) => Poll::Ready(Some(v)),
            Poll::Pending => match cancelled(cx) {
                Poll::Ready(()) => Poll::Ready(None),
                Poll::Pending => {
                    *state = Race::Running;
                    return Poll::Pending;
                }
            },
        },
    };
    *state = Race::Done;
    output
}

/// How far a [`RunUntilCancelled`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Race {
    /// Not polled yet.
    Start,
    /// The inner future has been polled.
    Running,
    /// Completed.
    Done,
}

pin_project! {
    /// The future returned by
    /// [`CancellationToken::run_until_cancelled`](super::CancellationToken::run_until_cancelled)
    /// and [`RootToken::run_until_cancelled`](super::RootToken::run_until_cancelled):
    /// `Some` of the inner future's output, or `None` if the token is
    /// cancelled first (the inner future is then dropped).
    ///
    /// # Which wins when both are ready
    ///
    /// - **First poll: the cancellation.** If the token is already cancelled
    ///   when it is first polled, the result is `None` and the inner future
    ///   is never polled. Nothing has started, so nothing is lost, and a
    ///   loop such as `while let Some(x) = token.run_until_cancelled(next()).await`
    ///   stops even when `next()` is always ready.
    /// - **Every later poll: the inner future.** It is polled first, and
    ///   its output is returned even if the token was cancelled meanwhile:
    ///   work that completed may carry effects that dropping it would lose
    ///   (a message taken off a queue, a permit acquired).
    ///
    /// This is tokio-util's order too.
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the inner future, which dropping this one drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    /// use sluicegate::CancellationToken;
    ///
    /// let token = CancellationToken::new();
    /// token.cancel();
    /// // Already cancelled at the first poll: the work never starts.
    /// assert_eq!(block_on(token.run_until_cancelled(async { 1 })), None);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct RunUntilCancelled<'a, F, C = (), L: ScopedRawMutex = DefaultRawMutex> {
        #[pin]
        cancelled: Cancelled<'a, C, L>,
        #[pin]
        fut: F,
        state: Race,
    }
}

impl<'a, F, C, L: ScopedRawMutex> RunUntilCancelled<'a, F, C, L> {
    #[inline]
    pub(super) fn new(core: &'a Core<C, L>, fut: F) -> Self {
        Self {
            cancelled: Cancelled::new(core),
            fut,
            state: Race::Start,
        }
    }
}

impl<F: Future, C, L: ScopedRawMutex> Future for RunUntilCancelled<'_, F, C, L> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let is_cancelled = this.cancelled.core.is_cancelled();
        let cancelled = this.cancelled;
        poll_race(
            this.fut,
            |cx| cancelled.poll(cx),
            is_cancelled,
            this.state,
            cx,
        )
    }
}

impl<F, C, L: ScopedRawMutex> fmt::Debug for RunUntilCancelled<'_, F, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunUntilCancelled")
            .field("cancelled", &self.cancelled)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use owned::{CancelledOwned, RunUntilCancelledOwned};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod owned {
    use super::*;
    use crate::cancel::CancellationToken;

    pin_project! {
        /// The future returned by
        /// [`CancellationToken::cancelled_owned`]: [`Cancelled`] holding a
        /// handle to the token instead of a borrow, so it is `'static` (it
        /// can be moved into a spawned task).
        ///
        /// # Cancel safety
        ///
        /// Cancel safe, as [`Cancelled`]. Dropping it also drops its handle.
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::{futures::CancelledOwned, CancellationToken};
        ///
        /// let token = CancellationToken::new();
        /// let wait: CancelledOwned = token.clone().cancelled_owned();
        /// token.cancel();
        /// futures_lite::future::block_on(wait);
        /// ```
        #[must_use = "futures do nothing unless polled"]
        pub struct CancelledOwned<C = (), L: ScopedRawMutex = DefaultRawMutex> {
            token: CancellationToken<C, L>,
            #[pin]
            node: Node<()>,
            queued: bool,
        }

        impl<C, L: ScopedRawMutex> PinnedDrop for CancelledOwned<C, L> {
            fn drop(this: Pin<&mut Self>) {
                let this = this.project();
                // Before `token` (a field) is dropped: the node leaves the
                // list while the token's node is certainly alive.
                drop_waiter(this.token.core(), this.node.into_ref(), *this.queued);
            }
        }
    }

    impl<C, L: ScopedRawMutex> CancelledOwned<C, L> {
        #[inline]
        pub(crate) fn new(token: CancellationToken<C, L>) -> Self {
            Self {
                token,
                node: Node::new(()),
                queued: false,
            }
        }
    }

    impl<C, L: ScopedRawMutex> Future for CancelledOwned<C, L> {
        type Output = ();

        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.project();
            poll_waiter(this.token.core(), this.node.into_ref(), this.queued, cx)
        }
    }

    impl<C, L: ScopedRawMutex> fmt::Debug for CancelledOwned<C, L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("CancelledOwned")
                .field("is_cancelled", &self.token.is_cancelled())
                .field("queued", &self.queued)
                .finish()
        }
    }

    pin_project! {
        /// The future returned by
        /// [`CancellationToken::run_until_cancelled_owned`]:
        /// [`RunUntilCancelled`] holding a handle to the token instead of a
        /// borrow, so it is `'static` when the inner future is.
        ///
        /// The same order decides when both are ready: the cancellation on
        /// the first poll, the inner future after that (see
        /// [`RunUntilCancelled`]).
        ///
        /// # Cancel safety
        ///
        /// As cancel safe as the inner future, which dropping this one
        /// drops.
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::CancellationToken;
        ///
        /// let token = CancellationToken::new();
        /// let run = token.clone().run_until_cancelled_owned(async { 5 });
        /// assert_eq!(futures_lite::future::block_on(run), Some(5));
        /// ```
        #[must_use = "futures do nothing unless polled"]
        pub struct RunUntilCancelledOwned<F, C = (), L: ScopedRawMutex = DefaultRawMutex> {
            #[pin]
            cancelled: CancelledOwned<C, L>,
            #[pin]
            fut: F,
            state: Race,
        }
    }

    impl<F, C, L: ScopedRawMutex> RunUntilCancelledOwned<F, C, L> {
        #[inline]
        pub(crate) fn new(token: CancellationToken<C, L>, fut: F) -> Self {
            Self {
                cancelled: CancelledOwned::new(token),
                fut,
                state: Race::Start,
            }
        }
    }

    impl<F: Future, C, L: ScopedRawMutex> Future for RunUntilCancelledOwned<F, C, L> {
        type Output = Option<F::Output>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let is_cancelled = this.cancelled.token.is_cancelled();
            let cancelled = this.cancelled;
            poll_race(
                this.fut,
                |cx| cancelled.poll(cx),
                is_cancelled,
                this.state,
                cx,
            )
        }
    }

    impl<F, C, L: ScopedRawMutex> fmt::Debug for RunUntilCancelledOwned<F, C, L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("RunUntilCancelledOwned")
                .field("cancelled", &self.cancelled)
                .field("state", &self.state)
                .finish_non_exhaustive()
        }
    }
}
