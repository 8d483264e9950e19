//! Cancellation with a cause: a flat [`RootToken`] that needs no allocator,
//! and (with `alloc`) a tree of [`CancellationToken`]s, tokio-util's names
//! and meaning plus Go's `context.WithCancelCause`.
//!
//! - [`CancellationToken`]: `new()`, `cancel()`, `is_cancelled()`,
//!   `cancelled()`, `cancelled_owned()`, `child_token()`, `drop_guard()`,
//!   `run_until_cancelled(fut)`, and `Clone` for another handle to the same
//!   token, as in tokio-util, so switching is a change of import. Cancelling
//!   a token cancels its whole subtree, never its parent or siblings.
//! - **A cause**: [`cancel_with(cause)`](CancellationToken::cancel_with)
//!   records why, as a value of the token's type parameter `C` (`()` unless
//!   named); the first cancellation wins, and a child reports the cause of
//!   whichever cancellation reached it first, its own or an ancestor's.
//!   [`cause()`](CancellationToken::cause) reads it. `cancel()` works for any
//!   `C` and records no cause.
//! - [`RootToken`]: the same token without children of its own making: a
//!   `const` constructor, usable in a `static`, no allocator. With `alloc`,
//!   [`RootToken::child_token`] hangs a tree of `CancellationToken`s under a
//!   `static` root.
//!
//! `is_cancelled()` is one atomic load. Waiting ([`Cancelled`]) allocates
//! nothing: the waiter's node lives in the future, on the crate's intrusive
//! wait list.
//!
//! # Design
//!
//! Both token types are built on one flat core: a flag, the cause, and a
//! wait list whose lock also guards the intrusive list of the core's
//! children. A `static` needs a `const` constructor, which cannot allocate,
//! and a `static` cannot be shared through an `Arc`; so the flat
//! [`RootToken`] *is* the core (usable wherever it is borrowed from, e.g. a
//! `static`), and a [`CancellationToken`] is a handle to an `Arc`-shared tree
//! node that embeds one. A child is linked into its parent's core as an
//! intrusive entry that lives in the child's node, so a parent (a `static`
//! root too) needs no allocation for its children; the child's node is the
//! one allocation.
//!
//! - **Dropping the last handle of a child unlinks it** from its parent, so
//!   a long-lived parent that creates and drops a child per request stays
//!   the same size. Its own children, if any, move up to its parent (as in
//!   tokio-util), so cancelling an ancestor still reaches them, and a chain
//!   of tokens each replaced by its child stays one node long. The children
//!   of a dropped root (a token made by `new()`) become roots: nothing can
//!   cancel them through it any more.
//! - **Cancelling** sets the flag under the core's lock (after recording the
//!   cause), then takes its waiters and its children off their lists, a
//!   batch at a time, waking the waiters after the lock is released. The
//!   children go onto a work list threaded through their own nodes and are
//!   cancelled one after another, each under its own lock only: no
//!   recursion, no allocation, no lock held across two nodes, however deep
//!   or wide the tree. A descendant records where its cause lives (the
//!   cancelled ancestor, kept alive by the descendant) instead of a copy,
//!   so `C` need not be `Clone` and cancelling calls no user code under a
//!   lock.
//! - **Locks**: each core has its own, the type parameter `L` (see
//!   [`raw_mutex`](crate::raw_mutex)). A thread blocks on a second lock only
//!   going down the tree (parent, then child); going up it only tries, and
//!   on failure lets go and starts again from the top.
//!
//! # Memory ordering
//!
//! `cancel()` is a release operation and observing the cancellation
//! (`is_cancelled()` returning `true`, a `cancelled()` completing, a cause
//! read) an acquire of it: what the cancelling task wrote before cancelling
//! is visible to the tasks that see the token cancelled, in the whole
//! subtree.
//!
//! # Examples
//!
//! A shutdown signal with a cause, and a worker with a child token:
//!
//! ```
//! use futures_lite::future::block_on;
//! use sluicegate::CancellationToken;
//!
//! #[derive(Debug, PartialEq)]
//! enum Stop {
//!     Signal,
//!     Fatal(&'static str),
//! }
//!
//! let shutdown = CancellationToken::<Stop>::with_cause_type();
//! let worker = shutdown.child_token();
//! assert!(shutdown.cancel_with(Stop::Fatal("disk full")));
//! assert!(!shutdown.cancel_with(Stop::Signal)); // the first cause stays
//! block_on(worker.cancelled());
//! assert_eq!(worker.cause(), Some(&Stop::Fatal("disk full")));
//! ```

use core::fmt;
use core::future::Future;

use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::{loom_const_fn, UnsafeCell};
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::wait_list::{List, WaitList, WakeBatch};

mod futures;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod tree;

pub use futures::{Cancelled, RunUntilCancelled};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use futures::{CancelledOwned, RunUntilCancelledOwned};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use tree::{CancellationToken, DropGuard};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
use tree::{ChildList as Children, OriginRef, Work};

/// Without an allocator a core has no children.
#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
struct Children<C, L>(core::marker::PhantomData<fn() -> (C, L)>);

#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
impl<C, L> Children<C, L> {
    const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

/// The flat state shared by [`RootToken`] and each tree node: the flag, the
/// cause, the waiters and (with `alloc`) the list of children.
///
/// # Invariants
///
/// - `cancelled` goes from `false` to `true` once, under the lock, and never
///   back.
/// - `cause` is written only under the lock and only while `cancelled` is
///   `false` (just before it is set); it is read only after a load of
///   `cancelled` that returned `true` (with `Acquire`). So a read never
///   overlaps a write, and a `&C` handed out stays valid for as long as the
///   core lives.
/// - Once `cancelled` is `true`, nothing is pushed onto either list (a
///   waiter or a child that finds it set under the lock is ready, or born
///   cancelled), and the canceller empties both.
pub(crate) struct Core<C, L: ScopedRawMutex> {
    cancelled: AtomicBool,
    cause: UnsafeCell<Option<C>>,
    /// The waiting [`Cancelled`] futures; the list state holds the children.
    waiters: WaitList<Children<C, L>, (), L>,
}

// SAFETY: `cause` is shared by reference across threads (`cause()` from any
// thread: `C: Sync`), moved in by one thread and dropped by another
// (`C: Send`); everything else is atomics and a wait list behind `L`, which
// must be `Sync` to be locked from several threads.
unsafe impl<C: Send + Sync, L: ScopedRawMutex + Sync> Sync for Core<C, L> {}

impl<C, L: ScopedRawMutex> Core<C, L> {
    loom_const_fn! {
        const fn new(raw_mutex: L) -> Core<C, L> {
            Core {
                cancelled: AtomicBool::new(false),
                cause: UnsafeCell::new(None),
                waiters: WaitList::new(Children::new(), raw_mutex),
            }
        }
    }

    #[inline]
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Acquire)
    }

    /// The cause this core's own cancellation recorded.
    ///
    /// # Safety
    ///
    /// A load of `cancelled` returned `true` (with `Acquire`, or under the
    /// lock) before this call: the cause is then never written again.
    #[inline]
    unsafe fn cause_unchecked(&self) -> Option<&C> {
        // SAFETY: written before `cancelled` was set and never after (type
        // invariant), and the caller saw it set.
        self.cause.with(|cause| unsafe { (*cause).as_ref() })
    }

    #[inline]
    fn own_cause(&self) -> Option<&C> {
        if self.is_cancelled() {
            // SAFETY: just seen cancelled.
            unsafe { self.cause_unchecked() }
        } else {
            None
        }
    }

    /// Cancels this core as the origin of a cancellation, recording `cause`,
    /// and then everything below it. Returns `false` (and drops `cause`,
    /// outside the lock) if it was cancelled already.
    fn cancel(&self, cause: Option<C>, #[allow(unused)] origin: Origin<'_, C, L>) -> bool {
        let mut batch = Batch::empty();
        let mut work = Work::new();
        let mut rejected = None;
        let more = self.waiters.lock(|l| {
            if self.cancelled.load(Relaxed) {
                rejected = cause;
                return None;
            }
            // SAFETY: not cancelled and the lock is held: no reader yet, and
            // no other writer (type invariant).
            self.cause.with_mut(|slot| unsafe { *slot = cause });
            self.cancelled.store(true, Release);
            Some(drain(l, &mut batch, &mut work))
        });
        let Some(more) = more else {
            // A user value: dropped with no lock held.
            drop(rejected);
            return false;
        };
        let mut run = Cancelling {
            first: more.then_some(self),
            #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
            current: None,
            #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
            origin,
            work,
        };
        // If a waker panics, `run`'s drop goes on with the rest.
        batch.wake_all();
        run.run();
        true
    }

    /// Takes this core's waiters and children off their lists until its
    /// lists are empty, waking the waiters a batch at a time.
    fn drain_all(&self, work: &mut Work<C, L>) {
        let mut batch = Batch::empty();
        while self.waiters.lock(|l| drain(l, &mut batch, work)) {
            batch.wake_all();
        }
        batch.wake_all();
    }
}

/// How many waiters a cancellation wakes per round trip through the lock:
/// it wakes every one, so a bigger batch than the default saves round
/// trips (tokio's `notify_waiters` takes 32 too). 512 bytes of stack.
const BATCH: usize = 32;

type Batch = WakeBatch<BATCH>;

/// Under the lock of a cancelled core: moves its children to `work` and
/// pops waiters into `batch` until it is full; returns whether waiters are
/// left.
#[inline]
fn drain<C, L: ScopedRawMutex>(
    l: &mut List<Children<C, L>, ()>,
    batch: &mut Batch,
    #[allow(unused)] work: &mut Work<C, L>,
) -> bool {
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    l.state.take_all(work);
    l.pop_front_into(batch)
}

/// Where the cause of a cancellation lives, for the descendants it reaches.
#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
type Origin<'a, C, L> = core::marker::PhantomData<&'a Core<C, L>>;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
type Origin<'a, C, L> = OriginRef<'a, C, L>;

/// Without an allocator there is no work beyond the first core.
#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
struct Work<C, L>(core::marker::PhantomData<fn() -> (C, L)>);

#[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
impl<C, L> Work<C, L> {
    #[inline]
    fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

/// One cancellation in progress: the origin's core is drained first, then
/// each descendant on the work list in turn.
///
/// Dropping it finishes the work, so a waker that panics part-way strands
/// nobody (a second panic aborts, as in `Vec`'s drop).
struct Cancelling<'a, C, L: ScopedRawMutex> {
    /// The origin, while waiters are left on it.
    first: Option<&'a Core<C, L>>,
    /// The descendant being drained.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    current: Option<crate::loom::Arc<tree::TreeNode<C, L>>>,
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    origin: Origin<'a, C, L>,
    work: Work<C, L>,
}

impl<C, L: ScopedRawMutex> Cancelling<'_, C, L> {
    fn run(&mut self) {
        if let Some(core) = self.first {
            core.drain_all(&mut self.work);
            self.first = None;
        }
        #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
        loop {
            if let Some(node) = &self.current {
                node.core.drain_all(&mut self.work);
            }
            // Possibly the node's last reference: its drop (a cause's drop
            // is user code) runs with no lock held.
            self.current = None;
            let Some(next) = self.work.pop() else { break };
            if next.cancel_from(&self.origin) {
                self.current = Some(next);
            }
        }
    }
}

impl<C, L: ScopedRawMutex> Drop for Cancelling<'_, C, L> {
    fn drop(&mut self) {
        // Nothing left after a normal `run()`; after a panic, the rest.
        self.run();
    }
}

/// A cancellation token that needs no allocator: a `const` constructor, so
/// it can live in a `static`, and no children of its own making.
///
/// It has [`CancellationToken`]'s flat half: [`cancel`](Self::cancel),
/// [`cancel_with`](Self::cancel_with), [`is_cancelled`](Self::is_cancelled),
/// [`cancelled`](Self::cancelled), [`cause`](Self::cause) and
/// [`run_until_cancelled`](Self::run_until_cancelled). With the `alloc`
/// feature, [`child_token`](Self::child_token) on a `static` root hangs a
/// tree of `CancellationToken`s under it: cancelling the root cancels them
/// all. It is not `Clone`: share it by reference (`&'static` for a
/// `static`).
///
/// `C` is the type of the cause (`()` unless named; see
/// [`with_cause_type`](RootToken::with_cause_type)), `L` the lock of its
/// wait list (see [`raw_mutex`](crate::raw_mutex)).
///
/// # Examples
///
/// ```
/// use sluicegate::cancel::RootToken;
///
/// static SHUTDOWN: RootToken = RootToken::new();
///
/// futures_lite::future::block_on(async {
///     assert!(!SHUTDOWN.is_cancelled());
///     SHUTDOWN.cancel();
///     SHUTDOWN.cancelled().await; // ready at once
/// });
/// ```
pub struct RootToken<C = (), L: ScopedRawMutex = DefaultRawMutex> {
    core: Core<C, L>,
}

impl RootToken {
    loom_const_fn! {
        /// A new token, not cancelled, with no cause type and the
        /// [`DefaultRawMutex`].
        ///
        /// # Examples
        ///
        /// ```
        /// static STOP: sluicegate::cancel::RootToken = sluicegate::cancel::RootToken::new();
        /// assert!(!STOP.is_cancelled());
        /// ```
        pub const fn new() -> RootToken {
            RootToken::new_with_raw_mutex(DefaultRawMutex::new())
        }
    }
}

impl<C> RootToken<C> {
    loom_const_fn! {
        /// A new token, not cancelled, whose cause is a `C`, with the
        /// [`DefaultRawMutex`].
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::cancel::RootToken;
        ///
        /// static STOP: RootToken<&str> = RootToken::with_cause_type();
        /// STOP.cancel_with("SIGTERM");
        /// assert_eq!(STOP.cause(), Some(&"SIGTERM"));
        /// ```
        pub const fn with_cause_type() -> RootToken<C> {
            RootToken::new_with_raw_mutex(DefaultRawMutex::new())
        }
    }
}

impl<C, L: ScopedRawMutex> RootToken<C, L> {
    loom_const_fn! {
        /// A new token, not cancelled, whose wait list is guarded by
        /// `raw_mutex` (see [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::cancel::RootToken;
        /// use sluicegate::raw_mutex::SpinRawMutex;
        ///
        /// static STOP: RootToken<(), SpinRawMutex> =
        ///     RootToken::new_with_raw_mutex(SpinRawMutex::new());
        /// STOP.cancel();
        /// assert!(STOP.is_cancelled());
        /// ```
        pub const fn new_with_raw_mutex(raw_mutex: L) -> RootToken<C, L> {
            RootToken { core: Core::new(raw_mutex) }
        }
    }

    /// Whether the token is cancelled: one atomic load, no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::cancel::RootToken::new();
    /// assert!(!token.is_cancelled());
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.core.is_cancelled()
    }

    /// Cancels the token (with no cause) and, with `alloc`, every
    /// [`child_token`](Self::child_token) below it, waking every waiter.
    /// Cancelling a cancelled token does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::cancel::RootToken::new();
    /// token.cancel();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.cancel_inner(None);
    }

    /// Cancels the token as [`cancel`](Self::cancel) does, recording `cause`
    /// as the reason. Returns `true` if this call cancelled it; `false` if
    /// it was cancelled already, and then `cause` is dropped: the first
    /// cancellation's cause stays.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::cancel::RootToken::<&str>::with_cause_type();
    /// assert!(token.cancel_with("first"));
    /// assert!(!token.cancel_with("second"));
    /// assert_eq!(token.cause(), Some(&"first"));
    /// ```
    pub fn cancel_with(&self, cause: C) -> bool {
        self.cancel_inner(Some(cause))
    }

    fn cancel_inner(&self, cause: Option<C>) -> bool {
        #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
        let origin = OriginRef::Root(&self.core);
        #[cfg(not(all(feature = "alloc", target_has_atomic = "ptr")))]
        let origin = core::marker::PhantomData;
        self.core.cancel(cause, origin)
    }

    /// Why the token was cancelled: the cause given to
    /// [`cancel_with`](Self::cancel_with), or `None` if it is not cancelled
    /// or was cancelled by [`cancel`](Self::cancel).
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::cancel::RootToken::<u32>::with_cause_type();
    /// assert_eq!(token.cause(), None);
    /// token.cancel_with(7);
    /// assert_eq!(token.cause(), Some(&7));
    /// ```
    #[inline]
    pub fn cause(&self) -> Option<&C> {
        self.core.own_cause()
    }

    /// Waits until the token is cancelled; ready at once if it is.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped waiter leaves nothing behind, and since
    /// `cancel()` wakes every waiter there is no wake-up to pass on.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::cancel::RootToken::new();
    /// token.cancel();
    /// futures_lite::future::block_on(token.cancelled());
    /// ```
    pub fn cancelled(&self) -> Cancelled<'_, C, L> {
        Cancelled::new(&self.core)
    }

    /// Runs `fut` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `fut` is dropped). See
    /// [`RunUntilCancelled`] for which wins when both are ready.
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as `fut`: dropping the returned future drops `fut`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, pending};
    ///
    /// let token = sluicegate::cancel::RootToken::new();
    /// assert_eq!(block_on(token.run_until_cancelled(async { 1 })), Some(1));
    /// token.cancel();
    /// assert_eq!(block_on(token.run_until_cancelled(pending::<()>())), None);
    /// ```
    pub fn run_until_cancelled<F: Future>(&self, fut: F) -> RunUntilCancelled<'_, F, C, L> {
        RunUntilCancelled::new(&self.core, fut)
    }
}

impl Default for RootToken {
    fn default() -> Self {
        Self::new()
    }
}

impl<C, L: ScopedRawMutex> fmt::Debug for RootToken<C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}
