//! A condition variable ([`Condition`]) for async-lock's [`Mutex`]:
//! asyncio's `Condition`.
//!
//! Needs the `alloc` feature and a target with pointer-sized CAS (as
//! async-lock does).

use core::fmt;
use core::future::Future;
use core::ops::DerefMut;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use alloc::sync::Arc;
use async_lock::{Mutex, MutexGuard, MutexGuardArc};
use pin_project_lite::pin_project;

use crate::loom::loom_const_fn;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::wait_list::{List, Node, WaitList, WakeBatch};

/// How a waiter was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notified {
    No,
    /// By `notify(n)` (or a forwarded notification): a unit owed to one
    /// waiter, passed on if this one is dropped before it returns.
    One,
    /// By `notify_all`: everyone registered was released, so there is
    /// nobody to pass it to.
    All,
}

/// A waiter's record.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    /// The list's generation when it registered.
    generation: u64,
    notified: Notified,
}

/// The list state.
struct Queue {
    /// A generation counter, bumped by a notify that has to release the list
    /// lock half-way (more than a [`WakeBatch`] of waiters): the waiters
    /// queued at its first pass have a generation at most the one it noted,
    /// later ones a greater one. 64 bits never wrap in practice.
    generation: u64,
    /// Such notifies in progress.
    notifying: usize,
    /// Notifications forwarded by waiters dropped while such a notify was in
    /// progress. Popping the front waiter then could pick one that notify is
    /// about to release anyway, and the notification would be lost: the last
    /// notify in progress pays them when it is done, to the waiters then at
    /// the front (as if each forward had come right after it).
    owed: usize,
}

type Waiters<L> = WaitList<Queue, Ticket, L>;

/// A condition variable for async-lock's [`Mutex`] (re-exported as
/// [`sluicegate::Mutex`](crate::Mutex)): asyncio's `Condition`.
///
/// A task holding the mutex calls [`wait`](Self::wait) with its guard: the
/// mutex is released while the task waits, and re-acquired before `wait`
/// returns the guard. Another task changes the shared state under the mutex
/// and calls [`notify_one`](Self::notify_one), [`notify`](Self::notify) or
/// [`notify_all`](Self::notify_all). As with every condition variable, the
/// waiter re-checks its predicate after waking, which
/// [`wait_while`](Self::wait_while) and [`wait_until`](Self::wait_until)
/// (asyncio's `wait_for`) do in a loop.
///
/// `Condition::new` is `const` and a condition needs no allocator of its own
/// (waiters live inside the waiting futures). It is not tied to one mutex,
/// but is normally used with one. `wait` accepts both the borrowed
/// [`MutexGuard`] and the owned [`MutexGuardArc`].
///
/// # Notifications are not stored
///
/// A notify reaches only the tasks waiting at that moment; with nobody
/// waiting it does nothing, exactly as in asyncio and `std::sync::Condvar`.
/// That is what a condition variable needs: the state lives under the mutex,
/// and a waiter that arrives later sees the changed state before it waits. A
/// permit-storing notify (tokio's `Notify::notify_one`) would instead let the
/// next `wait` through at once, even when the state it checks was consumed
/// meanwhile.
///
/// No wake-up is lost between the predicate check and the wait: the waiter
/// is registered (on the future's first poll) *before* its guard is
/// released, so any notify issued by a later holder of the mutex reaches it.
///
/// # Fairness
///
/// Waiters are notified in FIFO order: `notify(n)` releases the `n` tasks
/// that have waited longest. A notify counts the waiters queued when it
/// starts; `notify_all` releases exactly those, never a task that starts
/// waiting later. Re-acquiring the mutex afterwards follows async-lock's
/// `Mutex`, which is not strictly FIFO.
///
/// # Cancel safety
///
/// Dropping a [`ConditionWait`] never loses a notification: a waiter that was
/// released by `notify_one`/`notify(n)` and is dropped before it returns
/// (still queued for its re-poll, or while re-acquiring the mutex) passes its
/// notification on to the longest-waiting task, if any. If a notify is
/// releasing more waiters than it wakes under one lock at that moment, the
/// notification goes to the longest-waiting task once that notify is done,
/// so that it never lands on a waiter the notify releases anyway. A
/// notification from `notify_all` is not passed on: everyone waiting at the
/// time got one.
///
/// # Memory ordering
///
/// The mutex orders the shared state. A notify *happens before* the wake-up
/// it causes.
///
/// # Examples
///
/// ```
/// use sluicegate::{Condition, Mutex};
///
/// static READY: Mutex<bool> = Mutex::new(false);
/// static COND: Condition = Condition::new();
///
/// futures_lite::future::block_on(async {
///     let waiter = async {
///         let ready = COND.wait_until(READY.lock().await, |ready| *ready).await;
///         assert!(*ready);
///     };
///     let setter = async {
///         *READY.lock().await = true;
///         COND.notify_all();
///     };
///     futures_lite::future::zip(waiter, setter).await;
/// });
/// ```
pub struct Condition<L: ScopedRawMutex = DefaultRawMutex> {
    waiters: Waiters<L>,
}

impl Condition {
    loom_const_fn! {
        /// A new condition variable with no waiters, guarded by the
        /// [`DefaultRawMutex`] (see
        /// [`new_with_raw_mutex`](Condition::new_with_raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// static COND: sluicegate::Condition = sluicegate::Condition::new();
        /// assert_eq!(COND.notify_all(), 0);
        /// ```
        pub const fn new() -> Condition {
            Condition::new_with_raw_mutex(DefaultRawMutex::new())
        }
    }
}

impl<L: ScopedRawMutex> Condition<L> {
    loom_const_fn! {
        /// A new condition variable whose wait list is guarded by
        /// `raw_mutex` (see [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::SpinRawMutex;
        /// use sluicegate::Condition;
        ///
        /// static COND: Condition<SpinRawMutex> = Condition::new_with_raw_mutex(SpinRawMutex::new());
        /// assert_eq!(COND.notify_all(), 0);
        /// ```
        pub const fn new_with_raw_mutex(raw_mutex: L) -> Condition<L> {
            Condition {
                waiters: WaitList::new(Queue {
                    generation: 0,
                    notifying: 0,
                    owed: 0,
                }, raw_mutex),
            }
        }
    }

    /// Releases the mutex behind `guard`, waits for a notification, and
    /// re-acquires the same mutex; the future's output is the new guard.
    ///
    /// The task is registered as a waiter on the future's first poll, before
    /// the guard is released, so no notify from a later holder of the mutex
    /// can be missed. Like any condition variable, re-check the predicate
    /// afterwards (or use [`wait_while`](Self::wait_while)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropped before its first poll, it just drops the guard.
    /// Dropped while queued, it leaves the queue. Dropped after it was
    /// released by [`notify_one`](Self::notify_one) or
    /// [`notify`](Self::notify) but before it returned (waiting for its
    /// re-poll or re-acquiring the mutex), it passes that notification on to
    /// the longest waiter. It never holds the mutex except in the guard it
    /// returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let jobs = Mutex::new(Vec::new());
    /// let cond = Condition::new();
    /// futures_lite::future::block_on(async {
    ///     let consumer = async {
    ///         let mut guard = jobs.lock().await;
    ///         while guard.is_empty() {
    ///             guard = cond.wait(guard).await;
    ///         }
    ///         guard.pop().unwrap()
    ///     };
    ///     let producer = async {
    ///         jobs.lock().await.push(7);
    ///         cond.notify_one();
    ///     };
    ///     let (job, ()) = futures_lite::future::zip(consumer, producer).await;
    ///     assert_eq!(job, 7);
    /// });
    /// ```
    pub fn wait<G: ConditionGuard>(&self, guard: G) -> ConditionWait<'_, G, L> {
        ConditionWait {
            cond: self,
            node: Node::new(Ticket {
                generation: 0,
                notified: Notified::No,
            }),
            source: guard.source(),
            guard: Some(guard),
            relock: None,
            phase: Phase::Start,
        }
    }

    /// Waits while `condition` returns `true` for the guarded value, and
    /// returns the guard once it returns `false` (std's
    /// `Condvar::wait_while`).
    ///
    /// `condition` runs with the mutex held: first on the future's first
    /// poll, then after every wake-up.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait): a notification it was handed goes on to the
    /// next waiter if the future is dropped before it returns.
    ///
    /// # Panics
    ///
    /// A panic in `condition` propagates out of `poll`. The guard stays in the
    /// future, so the mutex is released when the future is dropped (as
    /// unwinding through the task that polls it does).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let count = Mutex::new(0);
    /// let cond = Condition::new();
    /// futures_lite::future::block_on(async {
    ///     let waiter = cond.wait_while(count.lock().await, |n| *n < 3);
    ///     let bumper = async {
    ///         for _ in 0..3 {
    ///             *count.lock().await += 1;
    ///             cond.notify_all();
    ///         }
    ///     };
    ///     let (n, ()) = futures_lite::future::zip(waiter, bumper).await;
    ///     assert_eq!(*n, 3);
    /// });
    /// ```
    pub fn wait_while<G, F>(&self, guard: G, condition: F) -> WaitWhile<'_, G, F, L>
    where
        G: ConditionGuard,
        F: FnMut(&mut G::Target) -> bool,
    {
        WaitWhile {
            wait: self.wait(guard),
            checked: false,
            condition,
            until: false,
        }
    }

    /// Waits until `predicate` returns `true` for the guarded value, and
    /// returns the guard (asyncio's `Condition.wait_for`).
    ///
    /// `predicate` runs with the mutex held: first on the future's first
    /// poll, then after every wake-up.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    ///
    /// A panic in `predicate` propagates out of `poll`. The guard stays in the
    /// future, so the mutex is released when the future is dropped (as
    /// unwinding through the task that polls it does).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let state = Mutex::new("starting");
    /// let cond = Condition::new();
    /// futures_lite::future::block_on(async {
    ///     let waiter = cond.wait_until(state.lock().await, |s| *s == "running");
    ///     let starter = async {
    ///         *state.lock().await = "running";
    ///         cond.notify_one();
    ///     };
    ///     let (s, ()) = futures_lite::future::zip(waiter, starter).await;
    ///     assert_eq!(*s, "running");
    /// });
    /// ```
    pub fn wait_until<G, F>(&self, guard: G, predicate: F) -> WaitUntil<'_, G, F, L>
    where
        G: ConditionGuard,
        F: FnMut(&mut G::Target) -> bool,
    {
        WaitUntil {
            inner: WaitWhile {
                wait: self.wait(guard),
                checked: false,
                condition: predicate,
                until: true,
            },
        }
    }

    /// Wakes the longest-waiting task, if any; returns whether there was one.
    ///
    /// With nobody waiting it does nothing: the notification is not stored.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = sluicegate::Condition::new();
    /// assert!(!cond.notify_one()); // nobody waits: nothing is stored
    /// ```
    pub fn notify_one(&self) -> bool {
        let waker = self.waiters.lock(|l| pop_notified(l, Notified::One));
        match waker {
            Some(waker) => {
                if let Some(waker) = waker {
                    waker.wake();
                }
                true
            }
            None => false,
        }
    }

    /// Wakes the `n` longest-waiting tasks (fewer if fewer wait); returns how
    /// many it woke.
    ///
    /// Only tasks already waiting when it is called count; the notification
    /// is not stored for later waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = sluicegate::Condition::new();
    /// assert_eq!(cond.notify(3), 0);
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        self.notify_queued(n, Notified::One)
    }

    /// Wakes every task waiting right now; returns how many it woke.
    ///
    /// Tasks that start waiting after the call has begun are not woken.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = sluicegate::Condition::new();
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify_queued(usize::MAX, Notified::All)
    }

    /// Releases up to `n` of the waiters queued when it starts, in batches.
    fn notify_queued(&self, n: usize, how: Notified) -> usize {
        let mut run = NotifyRun {
            cond: self,
            n,
            how,
            woken: 0,
            cutoff: None,
            done: false,
        };
        run.resume();
        run.woken
    }
}

/// A notify in progress. If a wake panics, its drop finishes the notify
/// while unwinding (the waiters it owes, and the forwards it must pay).
struct NotifyRun<'a, L: ScopedRawMutex> {
    cond: &'a Condition<L>,
    n: usize,
    how: Notified,
    woken: usize,
    /// Set when the first batch fills: waiters queued later are newer, and
    /// this notify counts in `notifying` until it is done.
    cutoff: Option<u64>,
    done: bool,
}

impl<L: ScopedRawMutex> NotifyRun<'_, L> {
    fn resume(&mut self) {
        let mut batch = WakeBatch::new();
        loop {
            let more = self.cond.waiters.lock(|l| {
                // Our own waiters. (Once done with them, a later round finds
                // none: `woken == n`, or the front waiter is newer.)
                while self.woken < self.n {
                    if batch.is_full() {
                        if self.cutoff.is_none() {
                            self.cutoff = Some(l.state.generation);
                            l.state.generation += 1;
                            l.state.notifying += 1;
                        }
                        return true;
                    }
                    let cutoff = self.cutoff;
                    let older = l.with_front(|t| cutoff.is_none_or(|c| t.generation <= c));
                    if older != Some(true) {
                        break;
                    }
                    batch.push(pop_notified(l, self.how).flatten());
                    self.woken += 1;
                }
                if self.cutoff.is_none() {
                    // Done under one lock: no forward can have waited on us.
                    return false;
                }
                if l.state.notifying == 1 {
                    // The last notify in progress pays the forwarded ones.
                    while l.state.owed > 0 {
                        if batch.is_full() {
                            return true;
                        }
                        l.state.owed -= 1;
                        match pop_notified(l, Notified::One) {
                            Some(waker) => batch.push(waker),
                            // Nobody waits: not stored, as for any notify.
                            None => l.state.owed = 0,
                        }
                    }
                }
                l.state.notifying -= 1;
                false
            });
            if !more {
                self.done = true;
            }
            batch.wake_all();
            if self.done {
                return;
            }
        }
    }
}

impl<L: ScopedRawMutex> Drop for NotifyRun<'_, L> {
    fn drop(&mut self) {
        if !self.done {
            self.resume();
        }
    }
}

/// Pops the longest waiter and marks it notified; `None` when nobody waits.
fn pop_notified(l: &mut List<Queue, Ticket>, how: Notified) -> Option<Option<Waker>> {
    l.with_front(|t| t.notified = how)?;
    l.pop_front()
}

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: ScopedRawMutex> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

mod sealed {
    use super::*;

    /// What [`ConditionWait`] needs from a guard: its mutex, and how to lock it again.
    pub trait Relock: Sized {
        /// What re-locks the mutex without the guard (`&Mutex` or `Arc`).
        type Source;
        /// The future re-acquiring the mutex.
        type Relock: Future<Output = Self>;

        fn source(&self) -> Self::Source;
        fn try_relock(source: &Self::Source) -> Option<Self>;
        fn relock(source: &Self::Source) -> Self::Relock;
    }
}

/// A mutex guard that [`Condition::wait`] can release and re-acquire:
/// async-lock's [`MutexGuard`] and [`MutexGuardArc`].
///
/// The trait is sealed; it exists so that one `wait` serves both guards.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sluicegate::{Condition, ConditionGuard, Mutex};
///
/// // One helper for borrowed and `Arc` guards alike.
/// async fn wait_for_zero<G: ConditionGuard<Target = u32>>(cond: &Condition, guard: G) -> G {
///     cond.wait_until(guard, |n| *n == 0).await
/// }
///
/// let cond = Condition::new();
/// let borrowed = Mutex::new(0);
/// let shared = Arc::new(Mutex::new(0));
/// futures_lite::future::block_on(async {
///     assert_eq!(*wait_for_zero(&cond, borrowed.lock().await).await, 0);
///     assert_eq!(*wait_for_zero(&cond, shared.lock_arc().await).await, 0);
/// });
/// ```
pub trait ConditionGuard: sealed::Relock + DerefMut {}

impl<'a, T: ?Sized> sealed::Relock for MutexGuard<'a, T> {
    type Source = &'a Mutex<T>;
    type Relock = async_lock::futures::Lock<'a, T>;

    fn source(&self) -> &'a Mutex<T> {
        MutexGuard::source(self)
    }

    fn try_relock(source: &&'a Mutex<T>) -> Option<Self> {
        source.try_lock()
    }

    fn relock(source: &&'a Mutex<T>) -> Self::Relock {
        source.lock()
    }
}

impl<T: ?Sized> ConditionGuard for MutexGuard<'_, T> {}

impl<T: ?Sized + Send> sealed::Relock for MutexGuardArc<T> {
    type Source = Arc<Mutex<T>>;
    type Relock = async_lock::futures::LockArc<T>;

    fn source(&self) -> Arc<Mutex<T>> {
        MutexGuardArc::source(self).clone()
    }

    fn try_relock(source: &Arc<Mutex<T>>) -> Option<Self> {
        source.try_lock_arc()
    }

    fn relock(source: &Arc<Mutex<T>>) -> Self::Relock {
        source.lock_arc()
    }
}

impl<T: ?Sized + Send> ConditionGuard for MutexGuardArc<T> {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Holding the guard; not registered yet.
    Start,
    /// Registered (the node may already be popped and marked notified).
    Queued,
    /// Notified (popped); re-acquiring the mutex.
    Relocking,
    Done,
}

pin_project! {
    /// The future returned by [`Condition::wait`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it never loses a notification: one handed to it by
    /// `notify_one`/`notify(n)` before it returned goes on to the
    /// longest-waiting task. It holds the mutex only in the guard it
    /// returns, so dropping it while re-acquiring releases nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let mutex = Mutex::new(());
    /// let cond = Condition::new();
    /// block_on(async {
    ///     let mut first = Box::pin(cond.wait(mutex.lock().await));
    ///     assert!(poll_once(&mut first).await.is_none()); // queued, mutex released
    ///     let mut second = Box::pin(cond.wait(mutex.lock().await));
    ///     assert!(poll_once(&mut second).await.is_none());
    ///     assert!(cond.notify_one()); // reaches `first`...
    ///     drop(first); // ...which passes it on
    ///     let _guard = second.await;
    /// });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct ConditionWait<'a, G: ConditionGuard, L: ScopedRawMutex = DefaultRawMutex> {
        cond: &'a Condition<L>,
        #[pin]
        node: Node<Ticket>,
        source: G::Source,
        guard: Option<G>,
        #[pin]
        relock: Option<G::Relock>,
        phase: Phase,
    }

    impl<G: ConditionGuard, L: ScopedRawMutex> PinnedDrop for ConditionWait<'_, G, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            // Completed (the usual case) or never registered: nothing to undo.
            if matches!(this.phase, Phase::Queued | Phase::Relocking) {
                this.leave();
            }
        }
    }
}

impl<G: ConditionGuard, L: ScopedRawMutex> ConditionWait<'_, G, L> {
    /// Dropped while registered: leaves the queue, or forwards a
    /// notification it was handed but did not consume.
    #[cold]
    fn leave(self: Pin<&mut Self>) {
        let this = self.project();
        let node = this.node.into_ref();
        let forwarded = this.cond.waiters.lock(|l| {
            let owes =
                // SAFETY: the node is used with `cond.waiters` only.
                unsafe { !l.remove(node) && l.with_node(node, |t, _| t.notified) == Notified::One };
            if !owes {
                None
            } else if l.state.notifying > 0 {
                // See `Queue::owed`.
                l.state.owed += 1;
                None
            } else {
                pop_notified(l, Notified::One).flatten()
            }
        });
        *this.phase = Phase::Done;
        if let Some(waker) = forwarded {
            waker.wake();
        }
    }

    /// Makes a completed wait wait again with `guard`, a guard of the same
    /// mutex (its source is kept).
    fn rearm(self: Pin<&mut Self>, guard: G) {
        let this = self.project();
        debug_assert_eq!(*this.phase, Phase::Done);
        *this.guard = Some(guard);
        *this.phase = Phase::Start;
    }
}

impl<G: ConditionGuard, L: ScopedRawMutex> Future for ConditionWait<'_, G, L> {
    type Output = G;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        // The usual wake-up, inline: a notifier popped the node (seen
        // without the list lock) and the mutex is free.
        if self.phase == Phase::Queued && self.node.popped() {
            let this = self.as_mut().project();
            if let Some(guard) = G::try_relock(this.source) {
                *this.phase = Phase::Done;
                return Poll::Ready(guard);
            }
        }
        self.poll_slow(cx)
    }
}

impl<G: ConditionGuard, L: ScopedRawMutex> ConditionWait<'_, G, L> {
    #[inline(never)]
    fn poll_slow(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        let mut this = self.project();
        let node = this.node.into_ref();
        let cond = *this.cond;
        match *this.phase {
            Phase::Start => {
                let guard = this.guard.take();
                // A waker left from an earlier round (a re-armed wait) is
                // dropped after the lock is released, like every waker.
                let _displaced = cond.waiters.lock(|l| {
                    let ticket = Ticket {
                        generation: l.state.generation,
                        notified: Notified::No,
                    };
                    // SAFETY: the node is used with `cond.waiters` only, and
                    // our drop unlinks it.
                    unsafe { l.push_back(node, ticket, cx.waker().clone()) }
                });
                *this.phase = Phase::Queued;
                // Released only now that we are queued: a notify from the
                // next holder of the mutex finds us.
                drop(guard);
                return Poll::Pending;
            }
            Phase::Queued => {
                // A notifier pops the node before waking us; seeing that
                // needs no lock, so the usual wake-up skips the list lock.
                if !node.popped() {
                    // Dropped after the lock is released, like every waker.
                    let mut displaced = None;
                    let linked = cond.waiters.lock(|l| {
                        // SAFETY: the node is used with `cond.waiters` only.
                        unsafe {
                            let (notified, linked) =
                                l.with_node(node, |t, linked| (t.notified, linked));
                            debug_assert_eq!(linked, notified == Notified::No);
                            if linked {
                                displaced = l.set_waker(node, cx.waker());
                            }
                            linked
                        }
                    });
                    if linked {
                        return Poll::Pending;
                    }
                }
                // Uncontended, the mutex is taken without a lock future.
                if let Some(guard) = G::try_relock(this.source) {
                    *this.phase = Phase::Done;
                    return Poll::Ready(guard);
                }
                *this.phase = Phase::Relocking;
                this.relock.set(Some(G::relock(this.source)));
            }
            Phase::Relocking => {}
            Phase::Done => panic!("`ConditionWait` polled after completion"),
        }
        let relock = this.relock.as_mut().as_pin_mut();
        let guard = core::task::ready!(relock.expect("relocking").poll(cx));
        *this.phase = Phase::Done;
        this.relock.set(None);
        Poll::Ready(guard)
    }
}

impl<G: ConditionGuard, L: ScopedRawMutex> fmt::Debug for ConditionWait<'_, G, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait")
            .field("phase", &self.phase)
            .finish()
    }
}

pin_project! {
    /// The future returned by [`Condition::wait_while`].
    ///
    /// # Cancel safety
    ///
    /// As [`ConditionWait`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let queue = Mutex::new(Vec::<u32>::new());
    /// let cond = Condition::new();
    /// block_on(async {
    ///     let mut wait = Box::pin(cond.wait_while(queue.lock().await, |q| q.is_empty()));
    ///     assert!(poll_once(&mut wait).await.is_none());
    ///     cond.notify_one(); // a spurious wake-up: the queue is still empty
    ///     assert!(poll_once(&mut wait).await.is_none());
    ///     queue.lock().await.push(1);
    ///     cond.notify_one();
    ///     assert_eq!(*wait.await, [1]);
    /// });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct WaitWhile<'a, G: ConditionGuard, F, L: ScopedRawMutex = DefaultRawMutex> {
        // Re-armed with the returned guard after each wake-up, so one pinned
        // node serves every round.
        #[pin]
        wait: ConditionWait<'a, G, L>,
        // Whether `condition` already ran on the guard `wait` holds.
        checked: bool,
        condition: F,
        // `wait_until`: stop when `condition` is true instead.
        until: bool,
    }
}

impl<G, F, L> Future for WaitWhile<'_, G, F, L>
where
    G: ConditionGuard,
    L: ScopedRawMutex,
    F: FnMut(&mut G::Target) -> bool,
{
    type Output = G;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        let mut this = self.project();
        loop {
            if !*this.checked {
                let wait = this.wait.as_mut().project();
                let guard = wait
                    .guard
                    .as_mut()
                    .expect("`WaitWhile`/`WaitUntil` polled after completion");
                if (this.condition)(guard) == *this.until {
                    *wait.phase = Phase::Done;
                    return Poll::Ready(wait.guard.take().expect("checked above"));
                }
                *this.checked = true;
            }
            let guard = core::task::ready!(this.wait.as_mut().poll(cx));
            this.wait.as_mut().rearm(guard);
            *this.checked = false;
        }
    }
}

impl<G: ConditionGuard, F, L: ScopedRawMutex> fmt::Debug for WaitWhile<'_, G, F, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitWhile")
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`Condition::wait_until`].
    ///
    /// # Cancel safety
    ///
    /// As [`ConditionWait`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::{Condition, Mutex};
    ///
    /// let count = Mutex::new(0);
    /// let cond = Condition::new();
    /// block_on(async {
    ///     let mut wait = Box::pin(cond.wait_until(count.lock().await, |n| *n >= 2));
    ///     for _ in 0..2 {
    ///         assert!(poll_once(&mut wait).await.is_none());
    ///         *count.lock().await += 1;
    ///         cond.notify_all();
    ///     }
    ///     assert_eq!(*wait.await, 2);
    /// });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct WaitUntil<'a, G: ConditionGuard, F, L: ScopedRawMutex = DefaultRawMutex> {
        #[pin]
        inner: WaitWhile<'a, G, F, L>,
    }
}

impl<G, F, L> Future for WaitUntil<'_, G, F, L>
where
    G: ConditionGuard,
    L: ScopedRawMutex,
    F: FnMut(&mut G::Target) -> bool,
{
    type Output = G;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<G> {
        self.project().inner.poll(cx)
    }
}

impl<G: ConditionGuard, F, L: ScopedRawMutex> fmt::Debug for WaitUntil<'_, G, F, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitUntil")
            .field("wait", &self.inner.wait)
            .finish_non_exhaustive()
    }
}
