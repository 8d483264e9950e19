//! A fair, counting async semaphore ([`Semaphore`]).

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

// The state word: the available permits shifted left by `SHIFT`, plus flags.
const CLOSED: usize = 0b01;
/// Set whenever the wait list is non-empty or permits are owed to
/// [`Semaphore::forget_permits`] (changed only under the list's lock).
/// While it is set the permit count is zero and the lock-free paths stay
/// out, so every permit goes to the debt and the queue first.
///
/// It may also stay set for a while after the list empties: a single-permit
/// release that hands its permit to the last waiter leaves it, because under
/// contention the releaser usually queues again at once, and clearing and
/// re-setting it would cost two read-modify-writes per hand-off. A stale
/// flag is harmless: the count is still zero, and the next slow release
/// (any release while it is set) finds the list empty and clears it as it
/// adds its permits.
const WAITERS: usize = 0b10;
const SHIFT: u32 = 2;

/// A fair counting semaphore: asyncio's `Semaphore` and `BoundedSemaphore`.
///
/// A semaphore holds a number of permits. [`acquire`](Self::acquire) waits
/// until a permit is available and returns it as a [`SemaphorePermit`]; the
/// permit goes back to the semaphore when that guard is dropped. Because
/// permits are returned by `Drop` and not by a `release()` call, the
/// "released too many times" error of Python's `BoundedSemaphore` cannot
/// happen: code that wants more permits calls
/// [`add_permits`](Self::add_permits) explicitly, and
/// [`SemaphorePermit::forget`] removes them.
///
/// `Semaphore::new` is `const`, so a semaphore can live in a `static`; it
/// needs no allocator (waiters live inside the waiting futures). With the
/// `alloc` feature, [`acquire_owned`](Self::acquire_owned) and friends work
/// on an `Arc<Semaphore>` and return `'static` permits.
///
/// # Fairness
///
/// Waiters are served strictly in FIFO order, including requests for many
/// permits: released permits are handed to the longest waiter until it has
/// all it asked for, even if a later waiter asks for fewer. The lock-free
/// fast path only takes permits when nobody is queued, so a new caller never
/// barges past a waiter. [`try_acquire`](Self::try_acquire) fails while
/// anyone waits, even if permits are being handed over.
///
/// # Memory ordering
///
/// Returning a permit (dropping the guard, or `add_permits`) *happens
/// before* the acquisition that receives it completes: whatever a task wrote
/// before releasing is visible to the task that acquires next.
///
/// # Examples
///
/// ```
/// use sluicegate::Semaphore;
///
/// static LIMIT: Semaphore = Semaphore::new(2);
///
/// futures_lite::future::block_on(async {
///     let a = LIMIT.acquire().await.unwrap();
///     let _b = LIMIT.acquire().await.unwrap();
///     assert_eq!(LIMIT.available_permits(), 0);
///     assert!(LIMIT.try_acquire().is_err());
///     drop(a);
///     assert_eq!(LIMIT.available_permits(), 1);
/// });
/// ```
pub struct Semaphore<L: ScopedRawMutex = DefaultRawMutex> {
    state: AtomicUsize,
    /// Each node's data is the number of permits it still needs. The list
    /// state is the debt: permits [`forget_permits`](Self::forget_permits)
    /// still has to take from the next releases.
    waiters: WaitList<usize, usize, L>,
}

/// Error from [`Semaphore::acquire`]: the semaphore was closed.
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
/// let sem = sluicegate::Semaphore::new(0);
/// sem.close();
/// let err = block_on(sem.acquire()).unwrap_err();
/// assert_eq!(err.to_string(), "semaphore closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Error from [`Semaphore::try_acquire`].
///
/// # Examples
///
/// ```
/// use sluicegate::{Semaphore, TryAcquireError};
/// let sem = Semaphore::new(1);
/// let _held = sem.try_acquire().unwrap();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
/// sem.close();
/// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are available right now, or other tasks are
    /// waiting for them.
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("semaphore closed"),
            Self::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl core::error::Error for AcquireError {}
impl core::error::Error for TryAcquireError {}

#[inline]
fn check_request(n: usize) {
    assert!(
        n <= MAX_PERMITS,
        "requested {n} permits, more than Semaphore::MAX_PERMITS ({MAX_PERMITS})",
    );
}

/// The most permits a semaphore can hold available (see
/// [`Semaphore::MAX_PERMITS`]).
const MAX_PERMITS: usize = usize::MAX >> 3;

impl Semaphore {
    /// The most permits a semaphore can hold available: `usize::MAX >> 3`
    /// (whatever its lock).
    ///
    /// The bound applies to the available count, as in tokio. Permits held
    /// by guards come back on drop, so keep available plus held permits
    /// within it: a drop that would push the available count past it
    /// panics (see [`add_permits`](Self::add_permits)).
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    loom_const_fn! {
        /// A semaphore with `permits` permits, guarded by the
        /// [`DefaultRawMutex`] (use
        /// [`new_with_raw_mutex`](Semaphore::new_with_raw_mutex) to choose
        /// another lock).
        ///
        /// # Panics
        ///
        /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Examples
        ///
        /// ```
        /// let sem = sluicegate::Semaphore::new(3);
        /// assert_eq!(sem.available_permits(), 3);
        /// ```
        pub const fn new(permits: usize) -> Semaphore {
            Semaphore::new_with_raw_mutex(permits, DefaultRawMutex::new())
        }
    }
}

impl<L: ScopedRawMutex> Semaphore<L> {
    loom_const_fn! {
        /// A semaphore with `permits` permits whose wait list is guarded by
        /// `raw_mutex` (see [`raw_mutex`](crate::raw_mutex) for the choices).
        ///
        /// # Panics
        ///
        /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::SpinRawMutex;
        /// use sluicegate::Semaphore;
        ///
        /// static SLOTS: Semaphore<SpinRawMutex> =
        ///     Semaphore::new_with_raw_mutex(3, SpinRawMutex::new());
        /// assert_eq!(SLOTS.available_permits(), 3);
        /// ```
        pub const fn new_with_raw_mutex(permits: usize, raw_mutex: L) -> Semaphore<L> {
            assert!(permits <= MAX_PERMITS, "permits exceed Semaphore::MAX_PERMITS");
            Semaphore {
                state: AtomicUsize::new(permits << SHIFT),
                waiters: WaitList::new(0, raw_mutex),
            }
        }
    }

    /// The number of permits that can be acquired right now.
    ///
    /// Permits already handed to a queued waiter that still needs more are
    /// not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(2);
    /// let _p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    /// The available permits and the permits still owed to
    /// [`forget_permits`](Self::forget_permits), read together: a debt is
    /// only ever owed while `WAITERS` is set, and both change under the
    /// lock then.
    pub(crate) fn available_and_owed(&self) -> (usize, usize) {
        let cur = self.state.load(Acquire);
        if cur & WAITERS == 0 {
            return (cur >> SHIFT, 0);
        }
        self.waiters
            .lock(|l| (self.state.load(Acquire) >> SHIFT, l.state))
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before a permit is handed
    /// over.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, and fair: dropping the future gives back any permits it
    /// was handed (and passes the wake-up on to the next waiter), and it
    /// keeps the caller's place in the queue until it is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(1);
    /// futures_lite::future::block_on(async {
    ///     let permit = sem.acquire().await.unwrap();
    ///     assert_eq!(permit.num_permits(), 1);
    /// });
    /// ```
    #[inline]
    pub fn acquire(&self) -> Acquire<'_, L> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, all at once. `acquire_many(0)` is ready at once.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed before all `n` permits are
    /// handed over.
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`] (such a request could never
    /// complete).
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): permits handed to a dropped future,
    /// wholly or in part, go on to the next waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(5);
    /// futures_lite::future::block_on(async {
    ///     let permits = sem.acquire_many(3).await.unwrap();
    ///     assert_eq!(sem.available_permits(), 2);
    ///     drop(permits);
    ///     assert_eq!(sem.available_permits(), 5);
    /// });
    /// ```
    #[inline]
    pub fn acquire_many(&self, n: usize) -> Acquire<'_, L> {
        check_request(n);
        Acquire {
            sem: self,
            raw: RawAcquire::new(n),
        }
    }

    /// Takes one permit if one is available and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::Closed`] if closed, [`TryAcquireError::NoPermits`]
    /// if no permit is free or other tasks are queued for permits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_, L>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are available and nobody is waiting.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(4);
    /// let p = sem.try_acquire_many(3).unwrap();
    /// assert!(sem.try_acquire_many(2).is_err());
    /// ```
    #[inline]
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_, L>, TryAcquireError> {
        check_request(n);
        self.try_take(n).map(|()| SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Adds `n` permits, handing them to queued waiters first (FIFO).
    ///
    /// # Panics
    ///
    /// If the available permits would exceed [`Semaphore::MAX_PERMITS`].
    /// Only available permits are counted here: adding permits while others
    /// are held, so that available plus held exceed the limit, makes the
    /// drop of a held permit panic instead.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        check_request(n);
        self.release(n);
    }

    /// Closes the semaphore: every queued acquire fails with
    /// [`AcquireError`], and so does every later one. Permits already held
    /// stay valid and are returned as usual.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(0);
    /// sem.close();
    /// assert!(futures_lite::future::block_on(sem.acquire()).is_err());
    /// ```
    pub fn close(&self) {
        self.state.fetch_or(CLOSED, AcqRel);
        // If a wake panics, the drain goes on (after the batch's own drop).
        let finish = Defer::new(|| self.close());
        let mut batch = WakeBatch::new();
        loop {
            let more = self.waiters.lock(|l| {
                while !batch.is_full() {
                    match l.pop_front() {
                        Some(waker) => batch.push(waker),
                        None => {
                            if l.state == 0 {
                                self.state.fetch_and(!WAITERS, AcqRel);
                            }
                            return false;
                        }
                    }
                }
                true
            });
            batch.wake_all();
            if !more {
                finish.cancel();
                return;
            }
        }
    }

    /// Lock-free attempt to take `n` permits; never barges past waiters.
    #[inline]
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n > 0 && (cur & WAITERS != 0 || (cur >> SHIFT) < n) {
                return Err(TryAcquireError::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: lock-free when nobody waits, else through the
    /// queue.
    /// Gives `n` permits back (what dropping a guard of `n` does); for
    /// callers that forgot a guard and keep the count themselves.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Acquire);
        while cur & WAITERS == 0 {
            let new = Self::checked_add(cur, n);
            match self.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.release_slow(n);
    }

    fn checked_add(state: usize, n: usize) -> usize {
        let available = state >> SHIFT;
        assert!(
            n <= MAX_PERMITS - available.min(MAX_PERMITS),
            "adding {n} permits to {available} would exceed Semaphore::MAX_PERMITS ({})",
            MAX_PERMITS
        );
        state + (n << SHIFT)
    }

    #[inline]
    fn release_slow(&self, n: usize) {
        if n == 1 {
            self.release_one_slow();
        } else {
            self.release_many_slow(n);
        }
    }

    /// One permit back while someone waits: the common contended case, with
    /// at most one waiter to wake, so no batch (and a small frame).
    #[inline(never)]
    fn release_one_slow(&self) {
        let waker = self.waiters.lock(|l| {
            if l.state > 0 {
                // Owed to `forget_permits`: the permit goes for good.
                l.state -= 1;
                self.clear_waiters_if_idle(l);
                return None;
            }
            match l.with_front(|need| {
                *need -= 1;
                *need == 0
            }) {
                // The head still wants more; WAITERS stays set.
                Some(false) => None,
                // The permit completes the head. WAITERS stays set even if
                // the list is now empty (see `WAITERS`).
                Some(true) => l.pop_front().flatten(),
                // The list is empty (the last waiter cancelled after our
                // lock-free look, or the flag was left over from a hand-off
                // to the last waiter): the permit goes into the counter.
                None => {
                    self.add_to_counter_clearing_waiters(1);
                    None
                }
            }
        });
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// With the list empty and nothing owed (under its lock): clears
    /// WAITERS and adds `n` permits to the counter in one step.
    fn add_to_counter_clearing_waiters(&self, n: usize) {
        let mut cur = self.state.load(Acquire);
        loop {
            let new = Self::checked_add(cur & !WAITERS, n);
            match self.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn release_many_slow(&self, n: usize) {
        // If a wake panics, the permits not yet handed over still are.
        struct Finish<'a, L: ScopedRawMutex>(&'a Semaphore<L>, usize);
        impl<L: ScopedRawMutex> Drop for Finish<'_, L> {
            fn drop(&mut self) {
                let n = core::mem::take(&mut self.1);
                if n > 0 {
                    self.0.release_many_slow(n);
                }
            }
        }
        let mut finish = Finish(self, n);
        let n = &mut finish.1;
        let mut batch = WakeBatch::new();
        loop {
            let more = self.waiters.lock(|l| {
                // The debt of `forget_permits` is paid first.
                let pay = (*n).min(l.state);
                l.state -= pay;
                *n -= pay;
                if pay > 0 && *n == 0 {
                    self.clear_waiters_if_idle(l);
                    return false;
                }
                while *n > 0 && !batch.is_full() {
                    let Some(satisfied) = l.with_front(|need| {
                        let take = (*n).min(*need);
                        *need -= take;
                        *n -= take;
                        *need == 0
                    }) else {
                        break;
                    };
                    if satisfied {
                        batch.push(l.pop_front().flatten());
                    }
                }
                if l.is_empty() {
                    // Nobody left to hand permits to.
                    // Taken first: an overflow panic must not retry on unwind.
                    let rest = core::mem::take(n);
                    self.add_to_counter_clearing_waiters(rest);
                }
                *n > 0
            });
            batch.wake_all();
            if !more {
                return;
            }
        }
    }

    /// Called under the lock after a node was unlinked by its owner, or a
    /// debt paid off: clears WAITERS once nobody waits and nothing is owed.
    fn clear_waiters_if_idle(&self, l: &List<usize, usize>) {
        if l.is_empty() && l.state == 0 {
            self.state.fetch_and(!WAITERS, AcqRel);
        }
    }

    /// Removes `n` permits from the semaphore for good: the available ones
    /// at once, and the rest from the permits that come back later (held
    /// permits as they are dropped, [`add_permits`](Self::add_permits),
    /// permits given back by a cancelled acquire), before any waiter gets
    /// them. Returns how many it removed at once.
    ///
    /// This is how a limit shrinks while permits are held: to go from 10 to
    /// 6 permits, `forget_permits(4)`, whatever is in use at the moment.
    /// Until the debt is paid, no permit is available and waiters keep
    /// waiting; [`add_permits`](Self::add_permits) pays it off first, so a
    /// limit that grows back before the debt is paid nets out.
    ///
    /// tokio's `forget_permits` removes only the available permits; this
    /// one also takes the rest later, so the caller keeps no books. The
    /// return value is the same (the permits removed at once).
    ///
    /// # Panics
    ///
    /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(3);
    /// let held = sem.try_acquire_many(2).unwrap();
    /// // Shrink from 3 permits to 1 while 2 are in use.
    /// assert_eq!(sem.forget_permits(2), 1); // the free one, at once
    /// drop(held); // one of the two returning permits pays the rest
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        check_request(n);
        if n == 0 {
            return 0;
        }
        // Lock-free when there are enough permits and nobody waits.
        let mut cur = self.state.load(Acquire);
        while cur & WAITERS == 0 && cur >> SHIFT >= n {
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return n,
                Err(actual) => cur = actual,
            }
        }
        self.waiters.lock(|l| {
            // Releases that race us add to the counter only while WAITERS is
            // clear, so take the counter and raise the flag in one step.
            let mut cur = self.state.load(Acquire);
            loop {
                let take = (cur >> SHIFT).min(n);
                let mut new = cur - (take << SHIFT);
                if take < n {
                    new |= WAITERS;
                }
                match self.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                    Ok(_) => {
                        l.state = l.state.saturating_add(n - take);
                        return take;
                    }
                    Err(actual) => cur = actual,
                }
            }
        })
    }
}

impl<L: ScopedRawMutex> fmt::Debug for Semaphore<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Relaxed);
        // The queue itself, not the WAITERS flag, which can be left over.
        let waiters = self.waiters.lock(|l| !l.is_empty());
        f.debug_struct("Semaphore")
            .field("available_permits", &(state >> SHIFT))
            .field("closed", &(state & CLOSED != 0))
            .field("waiters", &waiters)
            .finish()
    }
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Self::new(0)
    }
}

// ---------------------------------------------------------------------------
// The acquire state machine, shared by the borrowed and the owned future.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Queued,
    Done,
}

pin_project! {
    /// The state of one acquisition, driven against a `&Semaphore` that its
    /// owner supplies on every call (always the same one).
    struct RawAcquire {
        #[pin]
        node: Node<usize>,
        n: usize,
        phase: Phase,
    }
}

impl RawAcquire {
    #[inline]
    fn new(n: usize) -> Self {
        Self {
            node: Node::new(n),
            n,
            phase: Phase::Start,
        }
    }

    /// The uncontended case inline (it is the whole cost of an uncontended
    /// acquire, and the callers live in other crates); the rest out of line.
    #[inline]
    fn poll_acquire<L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        sem: &Semaphore<L>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        if self.phase == Phase::Start {
            let res = match sem.try_take(self.n) {
                Ok(()) => Ok(()),
                Err(TryAcquireError::Closed) => Err(AcquireError(())),
                Err(TryAcquireError::NoPermits) => return self.poll_acquire_slow(sem, cx),
            };
            *self.project().phase = Phase::Done;
            return Poll::Ready(res);
        }
        // Re-polled after a release handed over every permit: popped while
        // the semaphore is open (only `close` pops an unsatisfied waiter, and
        // it sets CLOSED before it pops). No lock needed.
        if self.phase == Phase::Queued
            && self.node.popped()
            && sem.state.load(Acquire) & CLOSED == 0
        {
            *self.project().phase = Phase::Done;
            return Poll::Ready(Ok(()));
        }
        self.poll_acquire_slow(sem, cx)
    }

    fn poll_acquire_slow<L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        sem: &Semaphore<L>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let this = self.project();
        let node = this.node.into_ref();
        let n = *this.n;
        match *this.phase {
            Phase::Start => {
                // `poll_acquire` tried the lock-free path already.
                // Cloned before the lock: a panicking clone between taking
                // permits and linking the node would lose those permits.
                // Taken only when linked; otherwise dropped after the lock.
                let mut waker = Some(cx.waker().clone());
                // A node holds no waker before its first push; were it to,
                // that one too is dropped after the lock.
                let mut displaced = None;
                let res = sem.waiters.lock(|l| {
                    // Take what is there and announce a waiter in one step;
                    // releases that raced us are in `cur`.
                    let mut cur = sem.state.load(Acquire);
                    loop {
                        if cur & CLOSED != 0 {
                            return Poll::Ready(Err(AcquireError(())));
                        }
                        let take = (cur >> SHIFT).min(n);
                        let new = if take == n {
                            cur - (n << SHIFT)
                        } else {
                            (cur - (take << SHIFT)) | WAITERS
                        };
                        // With WAITERS already set there is nothing to take
                        // and nothing to announce: skip the read-modify-write
                        // (WAITERS only changes under the lock we hold).
                        let swapped = if new == cur {
                            Ok(cur)
                        } else {
                            sem.state.compare_exchange_weak(cur, new, AcqRel, Acquire)
                        };
                        match swapped {
                            Ok(_) if take == n => return Poll::Ready(Ok(())),
                            Ok(_) => {
                                displaced =
                                    // SAFETY: the node is used with
                                    // `sem.waiters` only; `Acquire*`'s drop
                                    // unlinks it.
                                    unsafe { l.push_back(node, n - take, waker.take().unwrap()) };
                                return Poll::Pending;
                            }
                            Err(actual) => cur = actual,
                        }
                    }
                });
                *this.phase = if res.is_pending() {
                    Phase::Queued
                } else {
                    Phase::Done
                };
                res
            }
            Phase::Queued => {
                // `poll_acquire` handled the lock-free "popped while open"
                // case; whatever is left needs the lock.
                // Dropped after the lock is released, like every waker.
                let mut displaced = None;
                let (res, give_back) = sem.waiters.lock(|l| {
                    let (need, linked) =
                        // SAFETY: the node is used with `sem.waiters` only.
                        unsafe { l.with_node(node, |need, linked| (*need, linked)) };
                    if need == 0 {
                        debug_assert!(!linked);
                        return (Poll::Ready(Ok(())), 0);
                    }
                    if sem.state.load(Acquire) & CLOSED != 0 {
                        // SAFETY: as above.
                        if unsafe { l.remove(node) } {
                            sem.clear_waiters_if_idle(l);
                        }
                        return (Poll::Ready(Err(AcquireError(()))), n - need);
                    }
                    // SAFETY: as above.
                    displaced = unsafe { l.set_waker(node, cx.waker()) };
                    (Poll::Pending, 0)
                });
                if res.is_ready() {
                    *this.phase = Phase::Done;
                }
                sem.release(give_back);
                res
            }
            Phase::Done => panic!("`Acquire` polled after completion"),
        }
    }

    /// Gives back whatever a queued acquisition was handed; used by `Drop`.
    #[inline]
    fn cancel<L: ScopedRawMutex>(self: Pin<&mut Self>, sem: &Semaphore<L>) {
        if self.phase == Phase::Queued {
            self.cancel_queued(sem);
        }
    }

    fn cancel_queued<L: ScopedRawMutex>(self: Pin<&mut Self>, sem: &Semaphore<L>) {
        let this = self.project();
        *this.phase = Phase::Done;
        let node = this.node.into_ref();
        let n = *this.n;
        let assigned = sem.waiters.lock(|l| {
            // SAFETY: the node is used with `sem.waiters` only.
            unsafe {
                if l.remove(node) {
                    sem.clear_waiters_if_idle(l);
                }
                l.with_node(node, |need, _| n - *need)
            }
        });
        // Whole or partial hand-offs go on to the next waiters.
        sem.release(assigned);
    }
}

pin_project! {
    /// The future returned by [`Semaphore::acquire`] and
    /// [`Semaphore::acquire_many`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it gives back every permit it was handed, wholly or in part,
    /// to the next waiters, and wakes them.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// let sem = sluicegate::Semaphore::new(1);
    /// let held = sem.try_acquire().unwrap();
    /// let mut waiting = Box::pin(sem.acquire());
    /// assert!(block_on(poll_once(&mut waiting)).is_none()); // queued
    /// drop(held); // the permit is handed to `waiting`
    /// drop(waiting); // ... which gives it back
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Acquire<'a, L: ScopedRawMutex = DefaultRawMutex> {
        sem: &'a Semaphore<L>,
        #[pin]
        raw: RawAcquire,
    }

    impl<L: ScopedRawMutex> PinnedDrop for Acquire<'_, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.sem);
        }
    }
}

impl<'a, L: ScopedRawMutex> Future for Acquire<'a, L> {
    type Output = Result<SemaphorePermit<'a, L>, AcquireError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let sem = *this.sem;
        let n = this.raw.n;
        this.raw
            .poll_acquire(sem, cx)
            .map(|res| res.map(|()| SemaphorePermit { sem, permits: n }))
    }
}

impl<L: ScopedRawMutex> fmt::Debug for Acquire<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.raw.n)
            .field("phase", &self.raw.phase)
            .finish()
    }
}

/// Permits borrowed from a [`Semaphore`]; returned to it on drop.
///
/// # Panics
///
/// Dropping it panics if returning its permits would take the semaphore's
/// available count past [`Semaphore::MAX_PERMITS`] (possible only after
/// [`add_permits`](Semaphore::add_permits) filled it up to the limit).
///
/// # Examples
///
/// ```
/// let sem = sluicegate::Semaphore::new(3);
/// let mut p = sem.try_acquire_many(3).unwrap();
/// let one = p.split(1).unwrap();
/// assert_eq!((p.num_permits(), one.num_permits()), (2, 1));
/// drop(one);
/// assert_eq!(sem.available_permits(), 1);
/// p.forget();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "dropping the permit returns it to the semaphore at once"]
pub struct SemaphorePermit<'a, L: ScopedRawMutex = DefaultRawMutex> {
    sem: &'a Semaphore<L>,
    permits: usize,
}

impl<'a, L: ScopedRawMutex> SemaphorePermit<'a, L> {
    /// How many permits this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(5);
    /// assert_eq!(sem.try_acquire_many(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits belong to.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(2);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(core::ptr::eq(p.semaphore(), &sem));
    /// assert_eq!(p.semaphore().available_permits(), 1);
    /// ```
    pub fn semaphore(&self) -> &'a Semaphore<L> {
        self.sem
    }

    /// Drops the guard without returning its permits: the semaphore has that
    /// many fewer from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(3);
    /// sem.try_acquire_many(2).unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Splits `n` permits off into a new guard; `None` if this one holds
    /// fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(3);
    /// let mut p = sem.try_acquire_many(3).unwrap();
    /// let two = p.split(2).unwrap();
    /// assert!(p.split(2).is_none());
    /// drop(two);
    /// assert_eq!((p.num_permits(), sem.available_permits()), (1, 2));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(Self {
            sem: self.sem,
            permits: n,
        })
    }

    /// Moves `other`'s permits into this guard.
    ///
    /// # Panics
    ///
    /// If `other` belongs to a different semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = sluicegate::Semaphore::new(3);
    /// let mut p = sem.try_acquire().unwrap();
    /// p.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!((p.num_permits(), sem.available_permits()), (3, 0));
    /// ```
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            core::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphores"
        );
        self.permits += core::mem::take(&mut other.permits);
    }
}

impl<L: ScopedRawMutex> Drop for SemaphorePermit<'_, L> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl<L: ScopedRawMutex> fmt::Debug for SemaphorePermit<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Owned forms.

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod owned {
    use super::*;

    impl<L: ScopedRawMutex> Semaphore<L> {
        /// [`acquire`](Self::acquire) on an `Arc`, returning a `'static`
        /// permit that keeps the semaphore alive.
        ///
        /// # Errors
        ///
        /// [`AcquireError`] if the semaphore is closed first.
        ///
        /// # Cancel safety
        ///
        /// As [`acquire`](Self::acquire).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(1));
        /// let permit = futures_lite::future::block_on(sem.clone().acquire_owned()).unwrap();
        /// assert_eq!(sem.available_permits(), 0);
        /// drop(permit);
        /// assert_eq!(sem.available_permits(), 1);
        /// ```
        pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned<L> {
            self.acquire_many_owned(1)
        }

        /// [`acquire_many`](Self::acquire_many) on an `Arc`.
        ///
        /// # Errors
        ///
        /// [`AcquireError`] if the semaphore is closed first.
        ///
        /// # Panics
        ///
        /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Cancel safety
        ///
        /// As [`acquire`](Self::acquire).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(3));
        /// let p = futures_lite::future::block_on(sem.clone().acquire_many_owned(2)).unwrap();
        /// assert_eq!(p.num_permits(), 2);
        /// ```
        pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned<L> {
            check_request(n);
            AcquireOwned {
                sem: self,
                raw: RawAcquire::new(n),
            }
        }

        /// [`try_acquire`](Self::try_acquire) on an `Arc`.
        ///
        /// # Errors
        ///
        /// As [`try_acquire`](Self::try_acquire).
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(1));
        /// let p = sem.clone().try_acquire_owned().unwrap();
        /// assert!(sem.clone().try_acquire_owned().is_err());
        /// ```
        pub fn try_acquire_owned(
            self: Arc<Self>,
        ) -> Result<OwnedSemaphorePermit<L>, TryAcquireError> {
            self.try_acquire_many_owned(1)
        }

        /// [`try_acquire_many`](Self::try_acquire_many) on an `Arc`.
        ///
        /// # Errors
        ///
        /// As [`try_acquire`](Self::try_acquire).
        ///
        /// # Panics
        ///
        /// If `n` exceeds [`Semaphore::MAX_PERMITS`].
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(2));
        /// assert_eq!(sem.clone().try_acquire_many_owned(2).unwrap().num_permits(), 2);
        /// ```
        pub fn try_acquire_many_owned(
            self: Arc<Self>,
            n: usize,
        ) -> Result<OwnedSemaphorePermit<L>, TryAcquireError> {
            check_request(n);
            self.try_take(n)?;
            Ok(OwnedSemaphorePermit {
                sem: self,
                permits: n,
            })
        }
    }

    pin_project! {
        /// The future returned by [`Semaphore::acquire_owned`] and
        /// [`Semaphore::acquire_many_owned`].
        ///
        /// # Cancel safety
        ///
        /// As [`Acquire`].
        ///
        /// # Examples
        ///
        /// ```
        /// use futures_lite::future::block_on;
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(1));
        /// let fut: sluicegate::futures::AcquireOwned = sem.clone().acquire_owned();
        /// let permit = block_on(fut).unwrap();
        /// assert_eq!(sem.available_permits(), 0);
        /// drop(permit);
        /// assert_eq!(sem.available_permits(), 1);
        /// ```
        #[must_use = "futures do nothing unless polled"]
        pub struct AcquireOwned<L: ScopedRawMutex = DefaultRawMutex> {
            sem: Arc<Semaphore<L>>,
            #[pin]
            raw: RawAcquire,
        }

        impl<L: ScopedRawMutex> PinnedDrop for AcquireOwned<L> {
            #[inline]
            fn drop(this: Pin<&mut Self>) {
                let this = this.project();
                this.raw.cancel(this.sem);
            }
        }
    }

    impl<L: ScopedRawMutex> Future for AcquireOwned<L> {
        type Output = Result<OwnedSemaphorePermit<L>, AcquireError>;

        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            let n = this.raw.n;
            match this.raw.poll_acquire(this.sem, cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(OwnedSemaphorePermit {
                    sem: this.sem.clone(),
                    permits: n,
                })),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        }
    }

    impl<L: ScopedRawMutex> fmt::Debug for AcquireOwned<L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("AcquireOwned")
                .field("permits", &self.raw.n)
                .field("phase", &self.raw.phase)
                .finish()
        }
    }

    /// Permits owned through an `Arc<Semaphore>`; returned to it on drop.
    ///
    /// # Panics
    ///
    /// As [`SemaphorePermit`]: dropping it panics if returning its permits
    /// would take the available count past [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(sluicegate::Semaphore::new(2));
    /// let mut p = sem.clone().try_acquire_many_owned(2).unwrap();
    /// let q = p.split(1).unwrap();
    /// p.merge(q);
    /// assert_eq!(p.num_permits(), 2);
    /// ```
    #[must_use = "dropping the permit returns it to the semaphore at once"]
    pub struct OwnedSemaphorePermit<L: ScopedRawMutex = DefaultRawMutex> {
        sem: Arc<Semaphore<L>>,
        permits: usize,
    }

    impl<L: ScopedRawMutex> OwnedSemaphorePermit<L> {
        /// How many permits this guard holds.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(5));
        /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
        /// ```
        pub fn num_permits(&self) -> usize {
            self.permits
        }

        /// The semaphore the permits belong to.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(2));
        /// let p = sem.clone().try_acquire_owned().unwrap();
        /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
        /// ```
        pub fn semaphore(&self) -> &Arc<Semaphore<L>> {
            &self.sem
        }

        /// Drops the guard without returning its permits.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(3));
        /// sem.clone().try_acquire_many_owned(2).unwrap().forget();
        /// assert_eq!(sem.available_permits(), 1);
        /// ```
        pub fn forget(mut self) {
            self.permits = 0;
        }

        /// Splits `n` permits off into a new guard; `None` if this one holds
        /// fewer than `n`.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(3));
        /// let mut p = sem.clone().try_acquire_many_owned(3).unwrap();
        /// let two = p.split(2).unwrap();
        /// assert!(p.split(2).is_none());
        /// drop(two);
        /// assert_eq!((p.num_permits(), sem.available_permits()), (1, 2));
        /// ```
        pub fn split(&mut self, n: usize) -> Option<Self> {
            self.permits = self.permits.checked_sub(n)?;
            Some(Self {
                sem: self.sem.clone(),
                permits: n,
            })
        }

        /// Moves `other`'s permits into this guard.
        ///
        /// # Panics
        ///
        /// If `other` belongs to a different semaphore.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::sync::Arc;
        /// let sem = Arc::new(sluicegate::Semaphore::new(3));
        /// let mut p = sem.clone().try_acquire_owned().unwrap();
        /// p.merge(sem.clone().try_acquire_many_owned(2).unwrap());
        /// assert_eq!((p.num_permits(), sem.available_permits()), (3, 0));
        /// ```
        pub fn merge(&mut self, mut other: Self) {
            assert!(
                Arc::ptr_eq(&self.sem, &other.sem),
                "merging permits from different semaphores"
            );
            self.permits += core::mem::take(&mut other.permits);
        }
    }

    impl<L: ScopedRawMutex> Drop for OwnedSemaphorePermit<L> {
        #[inline]
        fn drop(&mut self) {
            self.sem.release(self.permits);
        }
    }

    impl<L: ScopedRawMutex> fmt::Debug for OwnedSemaphorePermit<L> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("OwnedSemaphorePermit")
                .field("permits", &self.permits)
                .finish()
        }
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use owned::{AcquireOwned, OwnedSemaphorePermit};
