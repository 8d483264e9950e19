//! [`TaskTracker`]: count in-flight work, and wait until it has drained.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
use alloc::sync::Arc;

use pin_project_lite::pin_project;

use crate::defer::Defer;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::loom_const_fn;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::wait_list::{List, Node, WaitList, WakeBatch};

// The state word: the number of tracked tasks shifted left by `SHIFT`, plus
// two flags.
const CLOSED: usize = 0b01;
/// Set (under the lock) when a `wait()` queues, cleared (under the lock)
/// once the queue is empty again.
///
/// While it is set, the state becomes closed-and-empty only under the lock:
/// the lock-free `untrack` and `close` step aside to the lock when their
/// change would do it. So a transition to closed-and-empty that has waiters
/// to release is serialised with every registration, and releases exactly
/// the waiters queued before it: a `wait()` that queues after a `reopen()`
/// is never completed by an earlier drain whose wake-up is still on its way.
/// It may be left set over an empty queue for a moment (a released
/// generation being woken batch by batch); that only sends a transition
/// through the lock.
const WAITERS: usize = 0b10;
const SHIFT: u32 = 2;
/// One tracked task in the state word.
const ONE: usize = 1 << SHIFT;
/// Tracking more tasks than this at once panics, long before the count
/// could wrap (even with every thread of a machine racing past the check).
const MAX_TASKS: usize = usize::MAX >> (SHIFT + 1);

/// Closed, and nothing tracked (whatever the `WAITERS` flag).
#[inline]
const fn drained(state: usize) -> bool {
    state & !WAITERS == CLOSED
}

/// Counts in-flight work, and waits until it has drained: tokio-util's
/// `TaskTracker` without a runtime.
///
/// Each piece of work holds a [`TaskTrackerToken`] (from
/// [`token`](Self::token)) or is wrapped in a [`TrackFuture`] (from
/// [`track_future`](Self::track_future)); it counts as tracked until that
/// token or future is dropped. [`wait`](Self::wait) completes once the
/// tracker is [closed](Self::close) **and** nothing is tracked. Closing does
/// not stop anyone from tracking more work: it only says that an empty
/// tracker is done, so that `wait()` does not complete before the first task
/// was even started. Nothing here spawns: run tracked futures on any
/// executor, or poll them yourself.
///
/// `new` is `const` and allocates nothing, so a tracker can live in a
/// `static` and hand out `'static` tokens by borrowing. For one that does
/// not, [`token_owned`](Self::token_owned) and
/// [`track_future_owned`](Self::track_future_owned) work on an
/// `Arc<TaskTracker>` (with the `alloc` feature).
///
/// Tracking and untracking are one read-modify-write of one atomic word
/// each; the lock is taken only when the last task of a closed tracker ends
/// while someone waits.
///
/// # Memory ordering
///
/// Everything a task did before its token (or tracked future) was dropped,
/// and everything done before [`close`](Self::close), happens before a
/// [`wait`](Self::wait) that this drain completes returns.
///
/// # Examples
///
/// ```
/// use futures_lite::future::{block_on, poll_once};
/// use sluicegate::TaskTracker;
///
/// static TRACKER: TaskTracker = TaskTracker::new();
///
/// let token = TRACKER.token(); // work that is not one future
/// let job = TRACKER.track_future(async { 1 + 1 });
/// assert_eq!(TRACKER.len(), 2);
/// TRACKER.close();
/// let mut drained = Box::pin(TRACKER.wait());
/// assert!(block_on(poll_once(&mut drained)).is_none()); // two in flight
/// assert_eq!(block_on(job), 2); // completed and dropped: untracked
/// drop(token);
/// block_on(drained);
/// ```
pub struct TaskTracker<L: ScopedRawMutex = DefaultRawMutex> {
    state: AtomicUsize,
    /// Each node's data is the generation it queued in. The list state is
    /// the current generation, opened (under the lock) by every transition
    /// to closed-and-empty; a generation releases the waiters queued in
    /// older ones.
    waiters: WaitList<usize, usize, L>,
}

impl TaskTracker {
    loom_const_fn! {
        /// A new, open tracker with nothing tracked, guarded by the
        /// [`DefaultRawMutex`] (see
        /// [`new_with_raw_mutex`](TaskTracker::new_with_raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::TaskTracker;
        ///
        /// static TRACKER: TaskTracker = TaskTracker::new();
        /// assert!(TRACKER.is_empty() && !TRACKER.is_closed());
        /// ```
        pub const fn new() -> TaskTracker {
            TaskTracker::new_with_raw_mutex(DefaultRawMutex::new())
        }
    }
}

impl<L: ScopedRawMutex> TaskTracker<L> {
    loom_const_fn! {
        /// A new, open tracker whose wait list is guarded by `raw_mutex` (see
        /// [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::SpinRawMutex;
        /// use sluicegate::TaskTracker;
        ///
        /// static TRACKER: TaskTracker<SpinRawMutex> =
        ///     TaskTracker::new_with_raw_mutex(SpinRawMutex::new());
        /// let _token = TRACKER.token();
        /// assert_eq!(TRACKER.len(), 1);
        /// ```
        pub const fn new_with_raw_mutex(raw_mutex: L) -> TaskTracker<L> {
            TaskTracker { state: AtomicUsize::new(0), waiters: WaitList::new(0, raw_mutex) }
        }
    }

    /// Closes the tracker: from now on, [`wait`](Self::wait) completes as
    /// soon as nothing is tracked. Returns `true` if this call closed it,
    /// `false` if it was closed already.
    ///
    /// Work can still be tracked after closing (a closed tracker does not
    /// refuse tokens); closing only makes an empty tracker count as done.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// assert!(tracker.close());
    /// assert!(!tracker.close());
    /// assert!(tracker.is_closed());
    /// ```
    pub fn close(&self) -> bool {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & CLOSED != 0 {
                return false;
            }
            if cur & WAITERS != 0 && cur >> SHIFT == 0 {
                // Closing an empty tracker that has waiters releases them.
                return self.close_slow();
            }
            match self
                .state
                .compare_exchange_weak(cur, cur | CLOSED, Release, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn close_slow(&self) -> bool {
        let mut batch = WakeBatch::new();
        let (closed, released) = self.waiters.lock(|l| {
            let prev = self.state.fetch_or(CLOSED, AcqRel);
            let released = drained(prev | CLOSED).then(|| self.open_generation(l, &mut batch));
            (prev & CLOSED == 0, released)
        });
        if let Some((generation, more)) = released {
            self.wake_released(generation, batch, more);
        }
        closed
    }

    /// Reopens a closed tracker: [`wait`](Self::wait)s that start from now
    /// on wait for the next [`close`](Self::close) (and drain). Returns
    /// `true` if this call reopened it, `false` if it was open.
    ///
    /// A `wait()` that a drain already released still completes (see
    /// [`wait`](Self::wait)).
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// assert!(!tracker.reopen());
    /// tracker.close();
    /// assert!(tracker.reopen());
    /// assert!(!tracker.is_closed());
    /// ```
    pub fn reopen(&self) -> bool {
        self.state.fetch_and(!CLOSED, AcqRel) & CLOSED != 0
    }

    /// Whether the tracker is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// tracker.close();
    /// assert!(tracker.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// How many tokens and tracked futures exist right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let a = tracker.token();
    /// let b = a.clone();
    /// assert_eq!(tracker.len(), 2);
    /// drop((a, b));
    /// assert_eq!(tracker.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    /// Whether nothing is tracked right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let token = tracker.token();
    /// assert!(!tracker.is_empty());
    /// drop(token);
    /// assert!(tracker.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A token that counts as one tracked task until it is dropped, for work
    /// that is not one future (a thread, a callback, several futures).
    ///
    /// # Panics
    ///
    /// If more than `usize::MAX >> 3` tasks would be tracked at once (only
    /// possible by leaking tokens).
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let token = tracker.token();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || {
    ///         let _token = token; // tracked until this thread is done
    ///     });
    /// });
    /// assert!(tracker.is_empty());
    /// ```
    #[inline]
    pub fn token(&self) -> TaskTrackerToken<'_, L> {
        self.track();
        TaskTrackerToken { tracker: self }
    }

    /// Wraps `future` so that it counts as tracked while the wrapper exists:
    /// from this call until it is dropped, whether or not it was polled to
    /// completion. Spawn the wrapper on any executor.
    ///
    /// # Panics
    ///
    /// As [`token`](Self::token).
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as `future`; dropping the wrapper, completed or not,
    /// untracks it.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let job = tracker.track_future(async { "done" });
    /// assert_eq!(tracker.len(), 1); // tracked before it is ever polled
    /// assert_eq!(futures_lite::future::block_on(job), "done");
    /// assert!(tracker.is_empty());
    /// ```
    #[inline]
    pub fn track_future<F: Future>(&self, future: F) -> TrackFuture<'_, F, L> {
        TrackFuture {
            future,
            token: self.token(),
        }
    }

    /// Waits until the tracker is closed and nothing is tracked; ready at
    /// once if it is.
    ///
    /// A `wait()` that is pending completes once the tracker has been closed
    /// and empty at some moment after it was first polled. From that moment
    /// it is released: it completes when next polled even if the tracker was
    /// reopened, or new work tracked, in between (as tokio-util's does, and
    /// as [`channel`](crate::channel)'s `join()` does). A `wait()` first
    /// polled after such a reopen waits for the next drain; unlike
    /// tokio-util's, it is never completed by an earlier drain whose wake-up
    /// was still on its way.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it unregisters the waiter, and since a drain
    /// releases every waiter, there is no wake-up to pass on. It allocates
    /// nothing: its place in the queue lives inside the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    ///
    /// let tracker = sluicegate::TaskTracker::new();
    /// let token = tracker.token();
    /// let mut drained = Box::pin(tracker.wait());
    /// assert!(block_on(poll_once(&mut drained)).is_none()); // open, one task
    /// tracker.close();
    /// assert!(block_on(poll_once(&mut drained)).is_none()); // closed, one task
    /// drop(token); // releases the waiter
    /// block_on(drained);
    /// ```
    pub fn wait(&self) -> TaskTrackerWait<'_, L> {
        TaskTrackerWait {
            tracker: self,
            raw: RawWait::new(),
        }
    }

    /// Counts one more task.
    #[inline]
    fn track(&self) {
        // Nothing is published by tracking: `Relaxed`. It never makes the
        // tracker drained, so it needs no lock even while someone waits.
        let prev = self.state.fetch_add(ONE, Relaxed);
        if prev >> SHIFT >= MAX_TASKS {
            self.too_many_tasks();
        }
    }

    #[cold]
    #[inline(never)]
    fn too_many_tasks(&self) -> ! {
        self.state.fetch_sub(ONE, Relaxed);
        panic!("more than usize::MAX >> 3 tasks tracked by one TaskTracker");
    }

    /// Counts one task less; releases the waiters if that drains the
    /// tracker.
    #[inline]
    fn untrack(&self) {
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur == CLOSED | WAITERS | ONE {
                // The last task of a closed tracker that has waiters.
                return self.untrack_slow();
            }
            // `Release`: the task's work happens before a `wait()` that sees
            // the count this (or a later) decrement leaves.
            match self
                .state
                .compare_exchange_weak(cur, cur - ONE, Release, Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn untrack_slow(&self) {
        let mut batch = WakeBatch::new();
        let released = self.waiters.lock(|l| {
            // Under the lock, so no waiter queues between the drain and the
            // release (see `WAITERS`). New work may have been tracked since
            // our look, so this may no longer drain it.
            let prev = self.state.fetch_sub(ONE, AcqRel);
            drained(prev - ONE).then(|| self.open_generation(l, &mut batch))
        });
        if let Some((generation, more)) = released {
            self.wake_released(generation, batch, more);
        }
    }

    /// Under the lock, right after the tracker became drained: opens a new
    /// generation, which releases every waiter queued so far, and pops the
    /// first batch of them. Returns the generation and whether more may be
    /// left.
    fn open_generation(&self, l: &mut List<usize, usize>, batch: &mut WakeBatch) -> (usize, bool) {
        l.state = l.state.wrapping_add(1);
        let generation = l.state;
        (generation, self.release_batch(l, generation, batch))
    }

    /// Pops into `batch` the waiters older than `generation`, until the
    /// batch is full; returns whether more may be left. Clears `WAITERS`
    /// once the queue is empty.
    fn release_batch(
        &self,
        l: &mut List<usize, usize>,
        generation: usize,
        batch: &mut WakeBatch,
    ) -> bool {
        if l.state != generation {
            // A later drain took over the waiters that are left.
            return false;
        }
        while !batch.is_full() {
            // Waiters that queued after a reopen carry this generation and
            // stay for the next drain.
            match l.with_front(|queued_in| *queued_in != generation) {
                Some(true) => batch.push(l.pop_front().flatten()),
                Some(false) => return false,
                None => {
                    self.state.fetch_and(!WAITERS, AcqRel);
                    return false;
                }
            }
        }
        true
    }

    /// Wakes the first batch of a released generation, then the rest, batch
    /// by batch, with the lock released.
    fn wake_released(&self, generation: usize, mut batch: WakeBatch, more: bool) {
        // If a wake panics, the rest of the generation is still released
        // (and the batch's own drop wakes what it still holds).
        let resume = Defer::new(|| self.release_rest(generation));
        batch.wake_all();
        if more {
            self.release_rest(generation);
        }
        resume.cancel();
    }

    fn release_rest(&self, generation: usize) {
        let mut batch = WakeBatch::new();
        while self
            .waiters
            .lock(|l| self.release_batch(l, generation, &mut batch))
        {
            batch.wake_all();
        }
        batch.wake_all();
    }

    /// Under the lock, after a waiter left the queue on its own: clears
    /// `WAITERS` if nobody else waits.
    fn clear_waiters_if_idle(&self, l: &List<usize, usize>) {
        if l.is_empty() {
            self.state.fetch_and(!WAITERS, AcqRel);
        }
    }
}

impl Default for TaskTracker {
    /// A new, open tracker, as [`TaskTracker::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<L: ScopedRawMutex> fmt::Debug for TaskTracker<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        f.debug_struct("TaskTracker")
            .field("len", &(state >> SHIFT))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Tokens and tracked futures.

/// One tracked task of a [`TaskTracker`], borrowed; untracked when dropped.
///
/// Cloning it tracks one more task.
///
/// # Examples
///
/// ```
/// use sluicegate::{TaskTracker, TaskTrackerToken};
///
/// static TRACKER: TaskTracker = TaskTracker::new();
/// let token: TaskTrackerToken<'static> = TRACKER.token();
/// let again = token.clone();
/// assert_eq!(token.task_tracker().len(), 2);
/// drop((token, again));
/// assert!(TRACKER.is_empty());
/// ```
#[must_use = "dropping the token untracks its task at once"]
pub struct TaskTrackerToken<'a, L: ScopedRawMutex = DefaultRawMutex> {
    tracker: &'a TaskTracker<L>,
}

impl<'a, L: ScopedRawMutex> TaskTrackerToken<'a, L> {
    /// The tracker this token counts in.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let token = tracker.token();
    /// assert!(core::ptr::eq(token.task_tracker(), &tracker));
    /// ```
    pub fn task_tracker(&self) -> &'a TaskTracker<L> {
        self.tracker
    }
}

impl<L: ScopedRawMutex> Clone for TaskTrackerToken<'_, L> {
    /// Another token of the same tracker: one more tracked task.
    fn clone(&self) -> Self {
        self.tracker.token()
    }
}

impl<L: ScopedRawMutex> Drop for TaskTrackerToken<'_, L> {
    #[inline]
    fn drop(&mut self) {
        self.tracker.untrack();
    }
}

impl<L: ScopedRawMutex> fmt::Debug for TaskTrackerToken<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTrackerToken")
            .field("tracker", self.tracker)
            .finish()
    }
}

pin_project! {
    /// The future returned by [`TaskTracker::track_future`]: the wrapped
    /// future, tracked from its creation until it is dropped.
    ///
    /// Named after the method, as every future of the crate is (tokio-util
    /// calls its counterpart `TrackedFuture`).
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as the wrapped future. Dropping it, completed or not,
    /// untracks it.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{futures::TrackFuture, TaskTracker};
    ///
    /// let tracker = TaskTracker::new();
    /// let job: TrackFuture<'_, _> = tracker.track_future(async { 7 });
    /// drop(job); // never polled: untracked all the same
    /// assert!(tracker.is_empty());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct TrackFuture<'a, F, L: ScopedRawMutex = DefaultRawMutex> {
        #[pin]
        future: F,
        token: TaskTrackerToken<'a, L>,
    }
}

impl<'a, F, L: ScopedRawMutex> TrackFuture<'a, F, L> {
    /// The tracker this future counts in.
    ///
    /// # Examples
    ///
    /// ```
    /// let tracker = sluicegate::TaskTracker::new();
    /// let job = tracker.track_future(async {});
    /// assert_eq!(job.task_tracker().len(), 1);
    /// ```
    pub fn task_tracker(&self) -> &'a TaskTracker<L> {
        self.token.tracker
    }
}

impl<F: Future, L: ScopedRawMutex> Future for TrackFuture<'_, F, L> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

impl<F, L: ScopedRawMutex> fmt::Debug for TrackFuture<'_, F, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackFuture")
            .field("tracker", self.token.tracker)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------
// Waiting for the drain.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Queued,
    Done,
}

pin_project! {
    /// The state of one `wait()`, driven against the `&TaskTracker` its
    /// owner supplies on every call (always the same one).
    struct RawWait {
        #[pin]
        node: Node<usize>,
        phase: Phase,
    }
}

impl RawWait {
    fn new() -> Self {
        Self {
            node: Node::new(0),
            phase: Phase::Start,
        }
    }

    #[inline]
    fn poll_wait<L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        tracker: &TaskTracker<L>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let this = self.project();
        let ready = match *this.phase {
            // Lock-free: drained already.
            Phase::Start if drained(tracker.state.load(Acquire)) => true,
            // Only a drain pops waiters, and only to release them.
            Phase::Queued if this.node.popped() => true,
            Phase::Start | Phase::Queued => {
                return Self::poll_slow(this.node.into_ref(), this.phase, tracker, cx)
            }
            Phase::Done => panic!("`TaskTrackerWait` polled after completion"),
        };
        debug_assert!(ready);
        *this.phase = Phase::Done;
        Poll::Ready(())
    }

    fn poll_slow<L: ScopedRawMutex>(
        node: Pin<&Node<usize>>,
        phase: &mut Phase,
        tracker: &TaskTracker<L>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        // Cloned before the lock, and dropped after it if unused: a waker is
        // executor code, which must not run under the lock.
        let mut waker = (*phase == Phase::Start).then(|| cx.waker().clone());
        // The waker a new one displaces, also dropped after the lock.
        let mut displaced = None;
        let ready = tracker.waiters.lock(|l| {
            if *phase == Phase::Start {
                // Announce a waiter and look at the state in one step: a
                // drain ordered before it is seen here, one after it takes
                // this lock (see `WAITERS`).
                let prev = tracker.state.fetch_or(WAITERS, AcqRel);
                if drained(prev) {
                    tracker.clear_waiters_if_idle(l);
                    return true;
                }
                let generation = l.state;
                // SAFETY: the node is used with `tracker.waiters` only, and
                // `cancel` (run by the owner's drop) unlinks it.
                displaced = unsafe { l.push_back(node, generation, waker.take().unwrap()) };
                *phase = Phase::Queued;
                return false;
            }
            // SAFETY: the node is used with `tracker.waiters` only.
            let linked = unsafe { l.with_node(node, |_, linked| linked) };
            if !linked {
                // Popped by a drain (between our lock-free look and here).
                return true;
            }
            if drained(tracker.state.load(Acquire)) {
                // Drained, and the drain's release has not reached us yet.
                // SAFETY: as above.
                unsafe { l.remove(node) };
                tracker.clear_waiters_if_idle(l);
                return true;
            }
            // SAFETY: as above.
            displaced = unsafe { l.set_waker(node, cx.waker()) };
            false
        });
        drop((waker, displaced));
        if ready {
            *phase = Phase::Done;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Unregisters a queued waiter; used by the owner's drop.
    #[inline]
    fn cancel<L: ScopedRawMutex>(self: Pin<&mut Self>, tracker: &TaskTracker<L>) {
        let this = self.project();
        // A popped node is no longer touched by anyone: no lock needed.
        if *this.phase == Phase::Queued && !this.node.popped() {
            let node = this.node.into_ref();
            tracker.waiters.lock(|l| {
                // SAFETY: the node is used with `tracker.waiters` only.
                if unsafe { l.remove(node) } {
                    tracker.clear_waiters_if_idle(l);
                }
            });
        }
        *this.phase = Phase::Done;
    }
}

pin_project! {
    /// The future returned by [`TaskTracker::wait`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it unregisters the waiter; nothing else is affected, since
    /// a drain releases every waiter (dropped after being released but
    /// before being polled, it takes no other waiter's wake-up with it).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::futures::TaskTrackerWait;
    ///
    /// let tracker = sluicegate::TaskTracker::new();
    /// let mut wait: core::pin::Pin<Box<TaskTrackerWait<'_>>> = Box::pin(tracker.wait());
    /// assert!(block_on(poll_once(&mut wait)).is_none()); // not closed yet
    /// tracker.close();
    /// block_on(wait);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct TaskTrackerWait<'a, L: ScopedRawMutex = DefaultRawMutex> {
        tracker: &'a TaskTracker<L>,
        #[pin]
        raw: RawWait,
    }

    impl<L: ScopedRawMutex> PinnedDrop for TaskTrackerWait<'_, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.tracker);
        }
    }
}

impl<L: ScopedRawMutex> Future for TaskTrackerWait<'_, L> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        this.raw.poll_wait(this.tracker, cx)
    }
}

impl<L: ScopedRawMutex> fmt::Debug for TaskTrackerWait<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskTrackerWait")
            .field("phase", &self.raw.phase)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Owned forms.

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod owned {
    use super::*;

    impl<L: ScopedRawMutex> TaskTracker<L> {
        /// [`token`](Self::token) on an `Arc`: a `'static` token that keeps
        /// the tracker alive.
        ///
        /// # Panics
        ///
        /// As [`token`](Self::token).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// use sluicegate::TaskTracker;
        ///
        /// let tracker = Arc::new(TaskTracker::new());
        /// let token = tracker.clone().token_owned();
        /// std::thread::spawn(move || drop(token)).join().unwrap();
        /// assert!(tracker.is_empty());
        /// ```
        #[inline]
        pub fn token_owned(self: Arc<Self>) -> OwnedTaskTrackerToken<L> {
            self.track();
            OwnedTaskTrackerToken { tracker: self }
        }

        /// [`track_future`](Self::track_future) on an `Arc`: a `'static`
        /// future, ready to spawn, that keeps the tracker alive.
        ///
        /// # Panics
        ///
        /// As [`token`](Self::token).
        ///
        /// # Cancel safety
        ///
        /// As [`track_future`](Self::track_future).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// use sluicegate::TaskTracker;
        ///
        /// let tracker = Arc::new(TaskTracker::new());
        /// let job = tracker.clone().track_future_owned(async { 5 });
        /// let handle = std::thread::spawn(move || futures_lite::future::block_on(job));
        /// tracker.close();
        /// futures_lite::future::block_on(tracker.wait());
        /// assert_eq!(handle.join().unwrap(), 5);
        /// ```
        #[inline]
        pub fn track_future_owned<F: Future>(self: Arc<Self>, future: F) -> TrackFutureOwned<F, L> {
            TrackFutureOwned {
                future,
                token: self.token_owned(),
            }
        }
    }

    /// One tracked task of a [`TaskTracker`] in an `Arc`; untracked when
    /// dropped. Cloning it tracks one more task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sluicegate::{OwnedTaskTrackerToken, TaskTracker};
    ///
    /// let tracker = Arc::new(TaskTracker::new());
    /// let token: OwnedTaskTrackerToken = tracker.clone().token_owned();
    /// let again = token.clone();
    /// assert_eq!(token.task_tracker().len(), 2);
    /// drop((token, again));
    /// assert!(tracker.is_empty());
    /// ```
    #[must_use = "dropping the token untracks its task at once"]
    pub struct OwnedTaskTrackerToken<L: ScopedRawMutex = DefaultRawMutex> {
        tracker: Arc<TaskTracker<L>>,
    }

    impl<L: ScopedRawMutex> OwnedTaskTrackerToken<L> {
        /// The tracker this token counts in.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let tracker = Arc::new(sluicegate::TaskTracker::new());
        /// let token = tracker.clone().token_owned();
        /// assert!(Arc::ptr_eq(token.task_tracker(), &tracker));
        /// ```
        pub fn task_tracker(&self) -> &Arc<TaskTracker<L>> {
            &self.tracker
        }
    }

    impl<L: ScopedRawMutex> Clone for OwnedTaskTrackerToken<L> {
        /// Another token of the same tracker: one more tracked task.
        fn clone(&self) -> Self {
            self.tracker.clone().token_owned()
        }
    }

    impl<L: ScopedRawMutex> Drop for OwnedTaskTrackerToken<L> {
        #[inline]
        fn drop(&mut self) {
            self.tracker.untrack();
        }
    }

    impl<L: ScopedRawMutex> fmt::Debug for OwnedTaskTrackerToken<L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedTaskTrackerToken")
                .field("tracker", &*self.tracker)
                .finish()
        }
    }

    pin_project! {
        /// The future returned by [`TaskTracker::track_future_owned`]: the
        /// wrapped future, tracked from its creation until it is dropped.
        ///
        /// # Cancel safety
        ///
        /// As cancel safe as the wrapped future. Dropping it, completed or
        /// not, untracks it.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// use sluicegate::{futures::TrackFutureOwned, TaskTracker};
        ///
        /// let tracker = Arc::new(TaskTracker::new());
        /// let job: TrackFutureOwned<_> = tracker.clone().track_future_owned(async { 1 });
        /// assert_eq!(futures_lite::future::block_on(job), 1);
        /// assert!(tracker.is_empty());
        /// ```
        #[must_use = "futures do nothing unless polled"]
        pub struct TrackFutureOwned<F, L: ScopedRawMutex = DefaultRawMutex> {
            #[pin]
            future: F,
            token: OwnedTaskTrackerToken<L>,
        }
    }

    impl<F, L: ScopedRawMutex> TrackFutureOwned<F, L> {
        /// The tracker this future counts in.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let tracker = Arc::new(sluicegate::TaskTracker::new());
        /// let job = tracker.clone().track_future_owned(async {});
        /// assert_eq!(job.task_tracker().len(), 1);
        /// ```
        pub fn task_tracker(&self) -> &Arc<TaskTracker<L>> {
            &self.token.tracker
        }
    }

    impl<F: Future, L: ScopedRawMutex> Future for TrackFutureOwned<F, L> {
        type Output = F::Output;

        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            self.project().future.poll(cx)
        }
    }

    impl<F, L: ScopedRawMutex> fmt::Debug for TrackFutureOwned<F, L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("TrackFutureOwned")
                .field("tracker", &*self.token.tracker)
                .finish_non_exhaustive()
        }
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use owned::{OwnedTaskTrackerToken, TrackFutureOwned};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use core::pin::pin;
    use core::task::Waker;

    fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    fn waiters_flag(tracker: &TaskTracker) -> bool {
        tracker.state.load(Relaxed) & WAITERS != 0
    }

    #[test]
    fn the_waiters_flag_follows_the_queue() {
        let tracker = TaskTracker::new();
        let token = tracker.token();
        {
            let mut a = pin!(tracker.wait());
            let mut b = pin!(tracker.wait());
            assert!(poll(a.as_mut()).is_pending());
            assert!(waiters_flag(&tracker));
            assert!(poll(b.as_mut()).is_pending());
        }
        // Both dropped while queued: the last one out clears it, so tracking
        // goes back to the lock-free path.
        assert!(!waiters_flag(&tracker));
        let mut c = pin!(tracker.wait());
        assert!(poll(c.as_mut()).is_pending());
        tracker.close();
        drop(token);
        // Released: the drain cleared it.
        assert!(!waiters_flag(&tracker));
        assert!(poll(c.as_mut()).is_ready());
    }

    #[test]
    fn a_wait_that_finds_the_tracker_drained_under_the_lock_leaves_no_flag() {
        let tracker = TaskTracker::new();
        tracker.close();
        let mut w = pin!(tracker.wait());
        // Straight to the locked path, as if the tracker drained between
        // the lock-free look and the lock.
        let this = w.as_mut().project();
        let raw = this.raw.project();
        let mut cx = Context::from_waker(Waker::noop());
        let ready = RawWait::poll_slow(raw.node.into_ref(), raw.phase, &tracker, &mut cx);
        assert!(ready.is_ready());
        assert!(!waiters_flag(&tracker));
    }

    #[test]
    fn the_waiters_flag_sends_only_the_draining_untrack_through_the_lock() {
        let tracker = TaskTracker::new();
        let (a, b) = (tracker.token(), tracker.token());
        let mut w = pin!(tracker.wait());
        assert!(poll(w.as_mut()).is_pending());
        tracker.close();
        drop(a); // lock-free: one task is left
        assert_eq!(tracker.state.load(Relaxed), CLOSED | WAITERS | ONE);
        drop(b); // the draining one
        assert_eq!(tracker.state.load(Relaxed), CLOSED);
        assert!(poll(w.as_mut()).is_ready());
    }

    #[test]
    #[should_panic(expected = "tasks tracked")]
    fn tracking_past_the_limit_panics_without_wrapping_the_count() {
        let tracker = TaskTracker::new();
        tracker.state.store(MAX_TASKS << SHIFT, Relaxed);
        let _token = tracker.token();
    }
}
