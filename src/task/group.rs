//! [`TaskGroup`] and [`LocalTaskGroup`]: asyncio's `TaskGroup` without an
//! executor.
//!
//! # Design
//!
//! A group is one future that polls its children itself, in a task set of
//! its own (`running`, see `set.rs`), so it needs no executor and no `std`.
//! Every child is one allocation, made at spawn: its future, its spawn
//! index, a link, and what its waker needs (a reference count, a queued
//! bit, the group's ready queue). The link threads not-yet-taken children
//! onto the spawn queue that handles push to (a FIFO under a short lock,
//! so a spawn allocates nothing while holding it); the group takes the
//! whole queue at once and appends it to `waiting`, through the same
//! links. Children wait in `waiting` until the concurrency limit has room
//! (in spawn order, and again with no allocation); a child starts with a
//! poll with its own waker, and a pending one stays in `running`, which
//! polls it again when that waker is woken (see `Driver::start`). Results
//! go into a slot per spawn index, so they come back in spawn order
//! whatever order the children finish in.
//!
//! With no handle left, nothing can spawn into a running group (a handle
//! is made only from the owner, which `join` consumes, or from another
//! handle), and the group skips its lock when it waits or completes.
//!
//! The group never holds its lock while it polls or drops a child, and
//! never calls user code under it (only `Waker::clone`), so a child may
//! spawn, and a child's `Drop` may spawn (and be refused), at any point.

#![forbid(unsafe_code)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;
use core::future::{Future, IntoFuture};
use core::marker::PhantomData;
use core::mem;
use core::ops::ControlFlow;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::set::{Drain, Holds, NewTask, TaskSet, Unstarted, UnstartedQueue};
use crate::cancel::CancellationToken;
use crate::loom::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use crate::raw_mutex::{DefaultRawMutex, Lock, ScopedRawMutex};

/// A child of a [`TaskGroup`], as the group stores it.
type SendDyn<'a, T, E> = dyn Future<Output = Result<T, E>> + Send + 'a;
/// A child of a [`LocalTaskGroup`], as the group stores it.
type LocalDyn<'a, T, E> = dyn Future<Output = Result<T, E>> + 'a;

/// At most this many passes over the ready children per poll of a group
/// that is winding down after a failure; then it yields to the executor
/// (its waker is woken) and goes on at the next poll. One is enough when
/// no child keeps waking itself; a few more let children whose clean-up
/// takes a poll or two finish in the same poll of the group.
const PASSES_PER_POLL: usize = 4;

/// What handles and the group share, under the lock.
struct State<D: ?Sized> {
    /// Whether spawns are accepted: until the group completes, fails fast
    /// or is dropped. Never set again once cleared.
    open: bool,
    /// Spawned through a handle, not yet taken by the group.
    spawned: UnstartedQueue<D>,
    /// The group's waker while it waits; a spawn takes it to wake it.
    waker: Option<Waker>,
}

/// The part of a group that its handles share.
///
/// # Invariants
///
/// - A child is pushed onto `state.spawned` only while `state.open`, and
///   whoever clears `open` takes the stack in the same critical section:
///   so no child is ever left on a closed group's stack.
/// - `spawned_hint` is set under the lock by every push and cleared under
///   it by every take. It lets the group skip the lock between polls of its
///   children when nothing was spawned; the group looks under the lock
///   before it waits or completes, so a stale `false` delays a child, never
///   loses it.
struct Shared<D: ?Sized, C, L: ScopedRawMutex> {
    state: Lock<State<D>, L>,
    spawned_hint: AtomicBool,
    /// The next spawn index. A handle takes one under the lock, once its
    /// spawn is accepted; the group's owner (which spawns only before the
    /// group runs, so before it can close) without it.
    next_index: AtomicUsize,
    /// How many handles exist. Handles are made only from a group that
    /// has not started (`handle()` needs the owner, which `join` consumes)
    /// or from another handle, so once a running group sees zero, no one
    /// can spawn into it any more: it skips the lock when it waits or
    /// completes. Each drop is a release, so the group sees every push of
    /// the handles that are gone.
    handles: AtomicUsize,
    token: CancellationToken<C, L>,
}

impl<D: ?Sized, C, L: ScopedRawMutex> Shared<D, C, L> {
    fn new(token: CancellationToken<C, L>, raw_mutex: L) -> Self {
        Self {
            state: Lock::new(
                State {
                    open: true,
                    spawned: UnstartedQueue::new(),
                    waker: None,
                },
                raw_mutex,
            ),
            spawned_hint: AtomicBool::new(false),
            next_index: AtomicUsize::new(0),
            handles: AtomicUsize::new(0),
            token,
        }
    }

    /// Queues `fut` for the group (waking it if it waits), or hands it
    /// back if the group is closed.
    fn try_spawn<F>(&self, fut: F) -> Result<usize, F>
    where
        D: Holds<F>,
        F: Future,
    {
        // Allocated before the lock is taken.
        let mut child = NewTask::<D, F>::new(fut, 0);
        let (index, waker) = self
            .state
            .with(|st| {
                if !st.open {
                    return Err(child);
                }
                let index = self.next_index.fetch_add(1, Relaxed);
                child.set_index(index);
                st.spawned.push_back(child.erase());
                self.spawned_hint.store(true, Relaxed);
                Ok((index, st.waker.take()))
            })
            .map_err(NewTask::into_future)?;
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(index)
    }

    /// Takes what handles spawned.
    fn take_spawned(&self) -> UnstartedQueue<D> {
        self.state.with(|st| {
            self.spawned_hint.store(false, Relaxed);
            mem::take(&mut st.spawned)
        })
    }

    /// Whether a running group can no longer be spawned into: no handle
    /// is left, and everything they spawned was taken (see `handles`).
    #[inline]
    fn unreachable(&self) -> bool {
        self.handles.load(Acquire) == 0 && !self.spawned_hint.load(Relaxed)
    }

    /// The group is about to wait: registers its waker, unless something
    /// was spawned meanwhile, which it gets instead.
    fn park(&self, waker: &Waker) -> Result<(), UnstartedQueue<D>> {
        if self.unreachable() {
            return Ok(());
        }
        let mut displaced = None;
        let parked = self.state.with(|st| {
            if !st.spawned.is_empty() {
                self.spawned_hint.store(false, Relaxed);
                return Err(mem::take(&mut st.spawned));
            }
            match &st.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => displaced = st.waker.replace(waker.clone()),
            }
            Ok(())
        });
        // A waker's drop is executor code: never under the lock.
        drop(displaced);
        parked
    }

    /// The group has no child left: closes it, unless something was
    /// spawned meanwhile, which it gets instead.
    fn try_finish(&self) -> Result<(), UnstartedQueue<D>> {
        if self.unreachable() {
            // Closed in effect: no handle is left to see it.
            return Ok(());
        }
        let mut waker = None;
        let finished = self.state.with(|st| {
            if !st.spawned.is_empty() {
                self.spawned_hint.store(false, Relaxed);
                return Err(mem::take(&mut st.spawned));
            }
            st.open = false;
            waker = st.waker.take();
            Ok(())
        });
        drop(waker);
        finished
    }

    /// Refuses every spawn from now on; returns the children queued and
    /// not taken, for the caller to drop with no lock held.
    fn close(&self) -> UnstartedQueue<D> {
        let mut waker = None;
        let queued = self.state.with(|st| {
            st.open = false;
            waker = st.waker.take();
            mem::take(&mut st.spawned)
        });
        drop(waker);
        queued
    }

    fn is_closed(&self) -> bool {
        self.state.with(|st| !st.open)
    }
}

/// The engine of every group type: the children, started or waiting, and
/// the shared part.
struct Driver<D: ?Sized, T, E, C, L: ScopedRawMutex> {
    shared: Arc<Shared<D, C, L>>,
    /// Started children: each one is polled whenever it is woken.
    running: TaskSet<D>,
    /// Children not started yet, oldest first: spawned by the owner before
    /// the group runs, taken from handles, or held back by the limit. Not
    /// empty after `start` only while `running` is full.
    waiting: UnstartedQueue<D>,
    /// `usize::MAX` for none.
    limit: usize,
    cause: fn(&E) -> C,
    /// Set once the group completed: nothing is left to close or cancel.
    finished: bool,
    _output: PhantomData<fn() -> T>,
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> Driver<D, T, E, C, L> {
    fn new(token: CancellationToken<C, L>, raw_mutex: L, cause: fn(&E) -> C) -> Self {
        Self {
            shared: Arc::new(Shared::new(token, raw_mutex)),
            running: TaskSet::new(),
            waiting: UnstartedQueue::new(),
            limit: usize::MAX,
            cause,
            finished: false,
            _output: PhantomData,
        }
    }

    fn set_limit(&mut self, limit: usize) {
        assert!(limit > 0, "a task group's limit must be at least 1");
        self.limit = limit;
    }

    fn limit(&self) -> Option<usize> {
        (self.limit != usize::MAX).then_some(self.limit)
    }

    /// A spawn index for a child of the owner.
    #[inline]
    fn next_index(&mut self) -> usize {
        let next = &self.shared.next_index;
        // No handle: only the owner (`&mut` here) can take an index, and
        // the acquire sees those of every handle that is gone.
        if self.shared.handles.load(Acquire) == 0 {
            let index = next.load(Relaxed);
            next.store(index + 1, Relaxed);
            index
        } else {
            next.fetch_add(1, Relaxed)
        }
    }

    fn spawned(&self) -> usize {
        self.shared.next_index.load(Relaxed)
    }
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> Driver<D, T, E, C, L>
where
    D: Future<Output = Result<T, E>>,
{
    /// Queues a child to start (in spawn order).
    #[inline]
    fn admit(&mut self, child: Unstarted<D>) {
        self.waiting.push_back(child);
    }

    fn admit_all(&mut self, mut spawned: UnstartedQueue<D>) {
        self.waiting.append(&mut spawned);
    }

    /// Starts waiting children, oldest first, while the limit has room.
    ///
    /// A child starts with a poll, with its own waker; a pending one stays
    /// in `running`, a ready one is gone at once. Stops, the rest still
    /// waiting, if `on_output` says so.
    #[inline]
    fn start<R>(
        &mut self,
        on_output: &mut impl FnMut(usize, Result<T, E>) -> Option<R>,
    ) -> Option<R> {
        while self.running.len() < self.limit {
            let Some(child) = self.waiting.pop_front() else {
                break;
            };
            if let Poll::Ready((index, output)) = self.running.start(child) {
                if let Some(stop) = on_output(index, output) {
                    return Some(stop);
                }
            }
        }
        None
    }

    /// Drives the children, handing each output to `on_output`, until every
    /// child is done (`Ready(None)`, and the group is closed), `on_output`
    /// says stop (`Ready(Some(_))`, the children not started yet still
    /// waiting), or none is ready (`Pending`, with the waker registered for
    /// spawns too).
    fn poll_children<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_output: impl FnMut(usize, Result<T, E>) -> Option<R>,
    ) -> Poll<Option<R>> {
        // Before any child starts: a child's wake-up then always finds it.
        self.running.register(cx.waker());
        loop {
            if self.shared.spawned_hint.load(Relaxed) {
                let spawned = self.shared.take_spawned();
                self.admit_all(spawned);
            }
            if let Some(stop) = self.start(&mut on_output) {
                return Poll::Ready(Some(stop));
            }
            // Children still waiting for room, or spawns to take: a
            // finished child sends the group back to start them first.
            let waiting = !self.waiting.is_empty();
            let spawned = &self.shared.spawned_hint;
            let drained = self.running.drain(|index, output| {
                if let Some(stop) = on_output(index, output) {
                    ControlFlow::Break(Some(stop))
                } else if waiting || spawned.load(Relaxed) {
                    ControlFlow::Break(None)
                } else {
                    ControlFlow::Continue(())
                }
            });
            match drained {
                Drain::Break(Some(stop)) => return Poll::Ready(Some(stop)),
                Drain::Break(None) => {}
                Drain::Empty => {
                    // `start` left nothing waiting with `running` empty.
                    debug_assert!(self.waiting.is_empty(), "children waiting for room");
                    match self.shared.try_finish() {
                        Ok(()) => {
                            self.finished = true;
                            return Poll::Ready(None);
                        }
                        Err(spawned) => self.admit_all(spawned),
                    }
                }
                Drain::Idle | Drain::Yielded => {
                    if matches!(drained, Drain::Yielded) {
                        // More are queued: poll again, after the executor's
                        // other tasks.
                        cx.waker().wake_by_ref();
                    }
                    match self.shared.park(cx.waker()) {
                        Ok(()) => return Poll::Pending,
                        Err(spawned) => self.admit_all(spawned),
                    }
                }
            }
        }
    }
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> Drop for Driver<D, T, E, C, L> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped before completing: refuse spawns first, so that nothing
        // dropped below (user code) can queue more, then tell whatever
        // watches the token. `waiting` and `running` drop after this.
        let queued = self.shared.close();
        self.shared.token.cancel();
        drop(queued);
    }
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> fmt::Debug for Driver<D, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("running", &self.running.len())
            .field("waiting", &self.waiting.len())
            .field("limit", &self.limit())
            .field("is_cancelled", &self.shared.token.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// Puts `value` in its spawn-order slot.
#[inline]
fn put<V>(slots: &mut Vec<Option<V>>, index: usize, value: V) {
    if index >= slots.len() {
        slots.resize_with(index + 1, || None);
    }
    slots[index] = Some(value);
}

/// Every slot's value, in spawn order.
fn take_all<V>(slots: &mut Vec<Option<V>>) -> Vec<V> {
    mem::take(slots)
        .into_iter()
        .map(|slot| slot.expect("every child of a completed group has finished"))
        .collect()
}

/// A fail-fast group after its first error.
struct Failure<E> {
    /// The first error first, then the others in the order they came.
    errors: Vec<(usize, E)>,
    /// Children dropped unstarted so far.
    dropped: usize,
}

/// The fail-fast join: [`TaskGroup::join`] and [`LocalTaskGroup::join`].
struct FailFast<D: ?Sized, T, E, C, L: ScopedRawMutex> {
    driver: Driver<D, T, E, C, L>,
    values: Vec<Option<T>>,
    failure: Option<Failure<E>>,
    done: bool,
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> FailFast<D, T, E, C, L>
where
    D: Future<Output = Result<T, E>>,
{
    fn new(driver: Driver<D, T, E, C, L>) -> Self {
        Self {
            values: Vec::with_capacity(driver.spawned()),
            driver,
            failure: None,
            done: false,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, TaskGroupError<E>>> {
        assert!(!self.done, "a task group's join polled after completion");
        if self.failure.is_none() {
            let values = &mut self.values;
            let first = self.driver.poll_children(cx, |index, output| match output {
                Ok(value) => {
                    put(values, index, value);
                    None
                }
                Err(error) => Some((index, error)),
            });
            match first {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.done = true;
                    return Poll::Ready(Ok(take_all(&mut self.values)));
                }
                Poll::Ready(Some((index, error))) => self.fail(index, error),
            }
        }
        if self.wind_down(cx).is_pending() {
            return Poll::Pending;
        }
        let failure = self.failure.take().expect("failed");
        self.driver.finished = true;
        self.done = true;
        let dropped = failure.dropped + self.driver.running.clear();
        Poll::Ready(Err(TaskGroupError {
            errors: failure.errors,
            dropped,
        }))
    }

    /// The first error: closes the group to spawns, cancels its token with
    /// the cause, and drops the children that never started.
    fn fail(&mut self, index: usize, error: E) {
        let cause = (self.driver.cause)(&error);
        let queued = self.driver.shared.close();
        self.driver.shared.token.cancel_with(cause);
        let dropped = queued.len() + self.driver.waiting.len();
        drop(queued);
        self.driver.waiting.clear();
        // Their values are no use now.
        self.values = Vec::new();
        self.failure = Some(Failure {
            errors: alloc::vec![(index, error)],
            dropped,
        });
    }

    /// Polls the ready children, in passes, until a pass finds none ready
    /// and nothing woken meanwhile (`Ready`), or until the passes of this
    /// poll are used up (`Pending`, with the waker woken).
    fn wind_down(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let failure = self.failure.as_mut().expect("failed");
        self.driver.running.register(cx.waker());
        for _ in 0..PASSES_PER_POLL {
            let drained = self.driver.running.drain(|index, output| {
                // A value is too late to count: the group has failed.
                if let Err(error) = output {
                    failure.errors.push((index, error));
                }
                ControlFlow::<Infallible>::Continue(())
            });
            match drained {
                Drain::Empty | Drain::Idle => return Poll::Ready(()),
                Drain::Yielded => {}
                Drain::Break(never) => match never {},
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The collect-all join: [`TaskGroup::join_all`] and
/// [`LocalTaskGroup::join_all`].
struct CollectAll<D: ?Sized, T, E, C, L: ScopedRawMutex> {
    driver: Driver<D, T, E, C, L>,
    results: Vec<Option<Result<T, E>>>,
    done: bool,
}

impl<D: ?Sized, T, E, C, L: ScopedRawMutex> CollectAll<D, T, E, C, L>
where
    D: Future<Output = Result<T, E>>,
{
    fn new(driver: Driver<D, T, E, C, L>) -> Self {
        Self {
            results: Vec::with_capacity(driver.spawned()),
            driver,
            done: false,
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Vec<Result<T, E>>> {
        assert!(
            !self.done,
            "a task group's join_all polled after completion"
        );
        let results = &mut self.results;
        let polled = self.driver.poll_children(cx, |index, output| {
            put(results, index, output);
            None::<Infallible>
        });
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => {
                self.done = true;
                Poll::Ready(take_all(&mut self.results))
            }
        }
    }
}

/// Why a fail-fast [`join`](TaskGroup::join) failed: the first error, and
/// every other error a child returned before the group completed, as
/// Python's `ExceptionGroup` keeps them.
///
/// Each error comes with its child's spawn index (what `spawn` returned).
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<u32, &str>::new();
/// group.spawn(async { Ok(1) });
/// group.spawn(async { Err("disk full") });
/// let error = block_on(group.join()).unwrap_err();
/// assert_eq!(error.first(), &"disk full");
/// assert_eq!(error.first_index(), 1);
/// assert_eq!(error.len(), 1);
/// ```
pub struct TaskGroupError<E> {
    /// Never empty: the first error first.
    errors: Vec<(usize, E)>,
    dropped: usize,
}

impl<E> TaskGroupError<E> {
    /// The first error, the one that made the group fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), u8>::new();
    /// group.spawn(async { Err(7) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(*error.first(), 7);
    /// ```
    pub fn first(&self) -> &E {
        &self.errors[0].1
    }

    /// The spawn index of the child that failed first.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), u8>::new();
    /// group.spawn(async { Ok(()) });
    /// let failing = group.spawn(async { Err(7) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.first_index(), failing);
    /// ```
    pub fn first_index(&self) -> usize {
        self.errors[0].0
    }

    /// The errors that came after the first, while the group wound down
    /// (e.g. children that returned an error when they saw the
    /// cancellation), each with its child's spawn index, in the order they
    /// came.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::TaskGroup;
    ///
    /// let mut group = TaskGroup::<(), &str>::new();
    /// let token = group.token().clone();
    /// group.spawn(async move {
    ///     token.cancelled().await;
    ///     Err("stopped")
    /// });
    /// group.spawn(async { Err("failed") });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.first(), &"failed");
    /// assert_eq!(error.others(), &[(0, "stopped")]);
    /// ```
    pub fn others(&self) -> &[(usize, E)] {
        &self.errors[1..]
    }

    /// How many errors there are: the first and the others (at least one).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), u8>::new();
    /// group.spawn(async { Err(1) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.len(), 1);
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// How many children the group dropped unfinished: those still running
    /// at the end, and those never started (not reached yet, held back by
    /// the limit, or spawned through a handle and not yet taken).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), u8>::new();
    /// group.spawn(std::future::pending()); // never finishes
    /// group.spawn(async { Err(1) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.dropped(), 1);
    /// ```
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The first error, by value.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), String>::new();
    /// group.spawn(async { Err("no route".to_string()) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.into_first(), "no route");
    /// ```
    pub fn into_first(self) -> E {
        self.errors
            .into_iter()
            .next()
            .expect("a group error has a first error")
            .1
    }

    /// Every error with its child's spawn index: the first, then the
    /// others in the order they came.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), u8>::new();
    /// group.spawn(async { Err(1) });
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.into_errors(), vec![(0, 1)]);
    /// ```
    pub fn into_errors(self) -> Vec<(usize, E)> {
        self.errors
    }
}

impl<E: Clone> Clone for TaskGroupError<E> {
    fn clone(&self) -> Self {
        Self {
            errors: self.errors.clone(),
            dropped: self.dropped,
        }
    }
}

impl<E: PartialEq> PartialEq for TaskGroupError<E> {
    fn eq(&self, other: &Self) -> bool {
        self.errors == other.errors && self.dropped == other.dropped
    }
}

impl<E: Eq> Eq for TaskGroupError<E> {}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("errors", &self.errors)
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task group child {} failed: {}",
            self.first_index(),
            self.first()
        )?;
        match self.len() {
            1 => Ok(()),
            n => write!(
                f,
                " (and {} more error{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for TaskGroupError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(self.first())
    }
}

/// A spawn through a handle was refused: the group has completed, failed
/// fast, or been dropped. Gives the future back
/// ([`into_inner`](Self::into_inner)); it was never polled.
///
/// # Examples
///
/// ```
/// use sluicegate::TaskGroup;
///
/// let group = TaskGroup::<u32, ()>::new();
/// let handle = group.handle();
/// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![]));
/// let refused = handle.spawn(async { Ok(1) }).unwrap_err();
/// let fut = refused.into_inner(); // run it some other way
/// assert_eq!(futures_lite::future::block_on(fut), Ok(1));
/// ```
pub struct SpawnError<F>(F);

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<u8, ()>::new();
    /// let handle = group.handle();
    /// drop(group); // closes it
    /// let fut = handle.spawn(async { Ok(1) }).unwrap_err().into_inner();
    /// assert_eq!(futures_lite::future::block_on(fut), Ok(1));
    /// ```
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SpawnError(..)")
    }
}

impl<F> fmt::Display for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group takes no more children")
    }
}

impl<F> core::error::Error for SpawnError<F> {}

/// Runs child futures concurrently inside its own future: asyncio's
/// `TaskGroup`, on any executor (or none), with `no_std` + `alloc`.
///
/// Children return `Result<T, E>`. Add them with [`spawn`](Self::spawn)
/// (from the owner, before the group runs) or through a
/// [`handle`](Self::handle) (from anywhere, children included, while it
/// runs: asyncio's `tg.create_task` from inside a task). Then await the
/// group: [`join`](Self::join) (also `group.await`) or
/// [`join_all`](Self::join_all) drives every child and completes once all
/// are done, with their results **in spawn order**: `spawn` returns each
/// child's index. Nothing is spawned onto an executor: the children run
/// when, and only when, the group's future is polled, on the thread that
/// polls it.
///
/// # Policy
///
/// The join method is the policy, and its output type says which:
///
/// - [`join`](Self::join), **fail fast** (asyncio's `TaskGroup`): `Ok` with
///   every `T` if every child succeeds; at the first `Err` the group
///   cancels the rest and completes with a [`TaskGroupError`]: the first
///   error, and every other error a child returned before the group
///   completed (as `ExceptionGroup` keeps them).
/// - [`join_all`](Self::join_all), **collect all** (`asyncio.gather(...,
///   return_exceptions=True)`): every child runs to completion, and
///   every `Result` comes back, in spawn order.
///
/// # Failing fast: cooperatively, then by dropping
///
/// When a child returns its first `Err` (in the poll of the group that
/// sees it):
///
/// 1. The group closes: from now on a spawn is refused
///    ([`SpawnError`]), and the children not started yet (not reached yet,
///    held back by the limit, or spawned through a handle and not yet
///    taken) are dropped without ever being polled.
/// 2. The group's [`token`](Self::token) is cancelled with the cause (see
///    below), which wakes every child that watches it (its `cancelled()`,
///    a `child_token()`, `run_until_cancelled`).
/// 3. The group goes on polling the children that are ready (those the
///    cancellation woke among them), so each can stop cleanly and return;
///    their errors are collected, their values discarded.
/// 4. **Then**: at the end of the first pass over the ready children that
///    finds every remaining child pending, with no wake-up during the
///    pass, the group drops the children still running and completes.
///
/// Usually all four happen in the poll that saw the error. A child that
/// needs more than that (one that wakes itself on every poll, say) is
/// given a few passes per poll of the group; then the group yields to its
/// executor and goes on at its next poll. A child whose clean-up waits for
/// something outside the group (I/O, a timer) is dropped at step 4, in the
/// middle of it. For a grace period, use [`join_all`](Self::join_all) and
/// stop the children yourself: cancel the token, then await the group
/// under a [`time::timeout`].
///
/// # The cause
///
/// The token's cause is not the error itself: the group returns the
/// first error by value, and the token keeps its cause for as long as any
/// handle of it lives (children may still read it). So the cause is a
/// value made from the error: a clone of it with [`new`](TaskGroup::new)
/// (`E: Clone`, the token is a `CancellationToken<E>`), or whatever
/// [`with_cause`](Self::with_cause)'s function makes of `&E` (an error
/// kind, a string, `()`), for any `E`. Sharing one value through an `Arc<E>`
/// was the other choice; it would have made the group return an `Arc<E>`
/// instead of the `E` the child returned. If the token was already
/// cancelled (from outside), its cause stays.
///
/// # Limit
///
/// [`with_limit`](Self::with_limit) bounds how many children run at once:
/// the others wait, unstarted, in spawn order, and start as running ones
/// finish (a child starts when the group admits it: it is polled from
/// then on). A started child is polled whenever it is woken,
/// whatever the others do, so children may wait on one another, or share
/// a [`Semaphore`](crate::Semaphore) with a limit lower than the group's,
/// without deadlock. (futures-util's `buffer_unordered` stops polling its
/// in-flight futures while its consumer awaits something else,
/// rust-lang/futures-rs#2387; a group has no consumer in between.)
///
/// # Cost
///
/// A child is one allocation, made when it is spawned and freed when it
/// finishes (or, if a waker of it outlives it, when the last such waker is
/// dropped): its future, its spawn index, and what its waker needs. The
/// owner's spawn takes no lock; a handle's takes the group's lock for a
/// few pointer writes and allocates nothing under it.
///
/// # A panicking child
///
/// A child's panic is not caught: it propagates out of the poll of the
/// group's join (the executor's business, as for any future), and leaves
/// the join as it was at that point: still open to spawns, its token not
/// cancelled, the child that panicked still counted as running (it is not
/// polled again unless something wakes it), the other children untouched.
/// Dropping the join then drops every child left, after closing the group
/// and cancelling its token, as it would after any poll; nothing leaks.
///
/// # `Send` and local
///
/// `TaskGroup` takes `Send` children and is `Send` (for multi-thread
/// executors); its handles are `Send + Sync`. [`LocalTaskGroup`] has the
/// same API for children that are not `Send` (an `Rc`, a `RefCell` borrow
/// across an await), for single-thread executors (embassy, a local
/// executor, a plain `block_on`); it and its handles are not `Send`.
///
/// Children may borrow from the caller for `'a`: the group does not need
/// them to be `'static`, since it runs them itself.
///
/// `C` is the cause type of the token (`E` unless named), `L` the lock of
/// the token and of the spawn queue (see [`raw_mutex`](crate::raw_mutex)).
///
/// # Memory ordering
///
/// What a spawner did before a spawn that is accepted happens before the
/// child's first poll.
///
/// [`time::timeout`]: crate::time::timeout
///
/// # Examples
///
/// A group whose children report in spawn order; one of them spawns a
/// sibling:
///
/// ```
/// use futures_lite::future::block_on;
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<u32, String>::new();
/// let handle = group.handle();
/// group.spawn(async { Ok(1) });
/// group.spawn(async move {
///     // asyncio's `tg.create_task` from inside a task
///     handle.spawn(async { Ok(3) }).expect("the group is running");
///     Ok(2)
/// });
/// // awaiting the group joins it, failing fast
/// assert_eq!(block_on(async { group.await }), Ok(vec![1, 2, 3]));
/// ```
///
/// Failing fast: one child fails, its sibling sees the cancellation and
/// the cause:
///
/// ```
/// use futures_lite::future::block_on;
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<(), String>::new();
/// let token = group.token().clone();
/// group.spawn(async move {
///     token.cancelled().await;
///     assert_eq!(token.cause().map(String::as_str), Some("bad input"));
///     Ok(()) // stopped cleanly
/// });
/// group.spawn(async { Err("bad input".to_string()) });
/// let error = block_on(group.join()).unwrap_err();
/// assert_eq!(error.first(), "bad input");
/// ```
pub struct TaskGroup<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    driver: Driver<SendDyn<'a, T, E>, T, E, C, L>,
}

impl<'a, T, E: Clone> TaskGroup<'a, T, E> {
    /// A new, empty group with no limit, whose token's cause is a clone of
    /// the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<u8, &str>::new();
    /// group.spawn(async { Err("oops") });
    /// let token = group.token().clone();
    /// assert!(futures_lite::future::block_on(group.join()).is_err());
    /// assert_eq!(token.cause(), Some(&"oops"));
    /// ```
    pub fn new() -> Self {
        Self::with_cause(E::clone)
    }
}

impl<T, E: Clone> Default for TaskGroup<'_, T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, T, E, C> TaskGroup<'a, T, E, C> {
    /// A new, empty group with no limit, whose token's cause is
    /// `cause(&first_error)`: for an `E` that is not `Clone`, or a cause
    /// of another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::TaskGroup;
    ///
    /// struct NotClone(u16);
    ///
    /// let mut group = TaskGroup::<(), NotClone, u16>::with_cause(|e| e.0);
    /// group.spawn(async { Err(NotClone(503)) });
    /// let token = group.token().clone();
    /// let error = futures_lite::future::block_on(group.join()).unwrap_err();
    /// assert_eq!(error.first().0, 503);
    /// assert_eq!(token.cause(), Some(&503));
    /// ```
    pub fn with_cause(cause: fn(&E) -> C) -> Self {
        Self::with_token(CancellationToken::with_cause_type(), cause)
    }
}

impl<'a, T, E, C, L: ScopedRawMutex + Default> TaskGroup<'a, T, E, C, L> {
    /// A new, empty group with no limit whose token is `token`, cancelled
    /// with `cause(&first_error)` when the group fails: pass a
    /// [`child_token`](CancellationToken::child_token) of a token of yours
    /// so that cancelling yours reaches the children too (the group
    /// cancels the token it is given). The spawn queue gets an
    /// `L::default()` lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::{CancellationToken, TaskGroup};
    ///
    /// let shutdown = CancellationToken::<String>::with_cause_type();
    /// let mut group = TaskGroup::<(), String>::with_token(shutdown.child_token(), Clone::clone);
    /// let token = group.token().clone();
    /// group.spawn(async move {
    ///     token.cancelled().await; // a shutdown reaches the children
    ///     Ok(())
    /// });
    /// shutdown.cancel_with("SIGTERM".to_string());
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![()]));
    /// ```
    pub fn with_token(token: CancellationToken<C, L>, cause: fn(&E) -> C) -> Self {
        Self {
            driver: Driver::new(token, L::default(), cause),
        }
    }
}

impl<'a, T, E, C, L: ScopedRawMutex> TaskGroup<'a, T, E, C, L> {
    /// The group, running at most `limit` children at once (see
    /// [Limit](Self#limit)).
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<(), ()>::new().with_limit(8);
    /// assert_eq!(group.limit(), Some(8));
    /// ```
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.driver.set_limit(limit);
        self
    }

    /// How many children may run at once; `None` for no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::TaskGroup::<(), ()>::new().limit(), None);
    /// ```
    pub fn limit(&self) -> Option<usize> {
        self.driver.limit()
    }

    /// Adds a child; returns its spawn index, where its result will be.
    /// The child does not run until the group is awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<&str, ()>::new();
    /// assert_eq!(group.spawn(async { Ok("first") }), 0);
    /// assert_eq!(group.spawn(async { Ok("second") }), 1);
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec!["first", "second"]));
    /// ```
    pub fn spawn<F>(&mut self, fut: F) -> usize
    where
        F: Future<Output = Result<T, E>> + Send + 'a,
    {
        let index = self.driver.next_index();
        self.driver.admit(NewTask::new(fut, index).erase());
        index
    }

    /// How many children were spawned so far, through handles too.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<(), ()>::new();
    /// group.spawn(async { Ok(()) });
    /// group.handle().spawn(async { Ok(()) }).unwrap();
    /// assert_eq!(group.spawned(), 2);
    /// ```
    pub fn spawned(&self) -> usize {
        self.driver.spawned()
    }

    /// A handle to spawn children through, from anywhere (children
    /// included) until the group completes. Cloneable, `Send + Sync`.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<u8, ()>::new();
    /// let handle = group.handle();
    /// let also = handle.clone();
    /// handle.spawn(async { Ok(1) }).unwrap();
    /// also.spawn(async { Ok(2) }).unwrap();
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1, 2]));
    /// ```
    pub fn handle(&self) -> TaskGroupHandle<'a, T, E, C, L> {
        TaskGroupHandle::new(self.driver.shared.clone())
    }

    /// The group's token: cancelled (with the cause) when a child fails
    /// under [`join`](Self::join), or when the group is dropped before it
    /// completes. Give children a clone or a
    /// [`child_token`](CancellationToken::child_token) to stop cleanly.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<(), ()>::new();
    /// let token = group.token().clone();
    /// drop(group);
    /// assert!(token.is_cancelled());
    /// ```
    pub fn token(&self) -> &CancellationToken<C, L> {
        &self.driver.shared.token
    }

    /// Drives every child, failing fast: `Ok` with every value in spawn
    /// order, or the [`TaskGroupError`] of the first failure (see
    /// [Failing fast](Self#failing-fast-cooperatively-then-by-dropping)).
    /// Awaiting the group itself does the same.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops every child, running or not (none is
    /// polled again), after closing the group to spawns and cancelling its
    /// token. What the children held is released by their own drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<u8, ()>::new();
    /// group.spawn(async { Ok(1) });
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1]));
    /// ```
    pub fn join(self) -> TaskGroupJoin<'a, T, E, C, L> {
        TaskGroupJoin {
            inner: FailFast::new(self.driver),
        }
    }

    /// Drives every child to completion and gives back every `Result`, in
    /// spawn order: `asyncio.gather(..., return_exceptions=True)`. No
    /// failure cancels anything.
    ///
    /// # Cancel safety
    ///
    /// As [`join`](Self::join): dropping the future drops every child,
    /// after closing the group to spawns and cancelling its token.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<u8, &str>::new();
    /// group.spawn(async { Ok(1) });
    /// group.spawn(async { Err("bad") });
    /// group.spawn(async { Ok(3) });
    /// let results = futures_lite::future::block_on(group.join_all());
    /// assert_eq!(results, vec![Ok(1), Err("bad"), Ok(3)]);
    /// ```
    pub fn join_all(self) -> TaskGroupJoinAll<'a, T, E, C, L> {
        TaskGroupJoinAll {
            inner: CollectAll::new(self.driver),
        }
    }
}

impl<'a, T, E, C, L: ScopedRawMutex> IntoFuture for TaskGroup<'a, T, E, C, L> {
    type Output = Result<Vec<T>, TaskGroupError<E>>;
    type IntoFuture = TaskGroupJoin<'a, T, E, C, L>;

    /// [`join`](TaskGroup::join): awaiting a group fails fast.
    fn into_future(self) -> Self::IntoFuture {
        self.join()
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for TaskGroup<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

/// A handle to a [`TaskGroup`], to spawn children from anywhere (from
/// inside its children too) while it runs: returned by
/// [`TaskGroup::handle`].
///
/// Cloning gives another handle to the same group. A handle does not keep
/// the group running: the group completes once every child it was given
/// has finished, and refuses spawns from then on; to feed a group from a
/// producer loop, make the producer one of its children.
///
/// # Examples
///
/// ```
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<u32, ()>::new();
/// let handle = group.handle();
/// group.spawn(async move {
///     for n in 1..=3 {
///         handle.spawn(async move { Ok(n * 10) }).unwrap();
///     }
///     Ok(0)
/// });
/// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![0, 10, 20, 30]));
/// ```
pub struct TaskGroupHandle<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    shared: Arc<Shared<SendDyn<'a, T, E>, C, L>>,
}

impl<'a, T, E, C, L: ScopedRawMutex> TaskGroupHandle<'a, T, E, C, L> {
    fn new(shared: Arc<Shared<SendDyn<'a, T, E>, C, L>>) -> Self {
        shared.handles.fetch_add(1, Relaxed);
        Self { shared }
    }

    /// Adds a child to the running group (waking it if it waits); returns
    /// its spawn index. Refused once the group has completed, failed fast
    /// or been dropped: the [`SpawnError`] gives the future back, never
    /// polled.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the group takes no more children.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::TaskGroup::<u8, ()>::new();
    /// let handle = group.handle();
    /// assert_eq!(handle.spawn(async { Ok(1) }).unwrap(), 0);
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1]));
    /// assert!(handle.spawn(async { Ok(2) }).is_err()); // completed
    /// ```
    pub fn spawn<F>(&self, fut: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'a,
    {
        self.shared.try_spawn(fut).map_err(SpawnError)
    }

    /// Whether the group refuses spawns: it has completed, failed fast or
    /// been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<(), ()>::new();
    /// let handle = group.handle();
    /// assert!(!handle.is_closed());
    /// drop(group);
    /// assert!(handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The group's token (see [`TaskGroup::token`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<(), ()>::new();
    /// let handle = group.handle();
    /// assert!(!handle.token().is_cancelled());
    /// ```
    pub fn token(&self) -> &CancellationToken<C, L> {
        &self.shared.token
    }
}

impl<T, E, C, L: ScopedRawMutex> Clone for TaskGroupHandle<'_, T, E, C, L> {
    /// Another handle to the same group.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::TaskGroup::<(), ()>::new();
    /// let handle = group.handle();
    /// let other = handle.clone();
    /// drop(group);
    /// assert!(other.is_closed());
    /// ```
    fn clone(&self) -> Self {
        Self::new(self.shared.clone())
    }
}

impl<T, E, C, L: ScopedRawMutex> Drop for TaskGroupHandle<'_, T, E, C, L> {
    fn drop(&mut self) {
        // Publishes this handle's spawns to a group that sees zero.
        self.shared.handles.fetch_sub(1, Release);
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for TaskGroupHandle<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The future returned by [`TaskGroup::join`] (and by awaiting a
/// [`TaskGroup`]): drives every child and fails fast.
///
/// # Cancel safety
///
/// Dropping it drops every child, running or not (none is polled again),
/// after closing the group to spawns and cancelling its token.
///
/// # Examples
///
/// ```
/// use sluicegate::futures::TaskGroupJoin;
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<u8, ()>::new();
/// group.spawn(async { Ok(1) });
/// let join: TaskGroupJoin<'_, u8, ()> = group.join();
/// assert_eq!(futures_lite::future::block_on(join), Ok(vec![1]));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TaskGroupJoin<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    inner: FailFast<SendDyn<'a, T, E>, T, E, C, L>,
}

// Nothing in it is pinned: the children are pinned in their own boxes.
impl<T, E, C, L: ScopedRawMutex> Unpin for TaskGroupJoin<'_, T, E, C, L> {}

impl<T, E, C, L: ScopedRawMutex> Future for TaskGroupJoin<'_, T, E, C, L> {
    type Output = Result<Vec<T>, TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll(cx)
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for TaskGroupJoin<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupJoin")
            .field("group", &self.inner.driver)
            .field("failed", &self.inner.failure.is_some())
            .finish()
    }
}

/// The future returned by [`TaskGroup::join_all`]: drives every child to
/// completion and gives back every `Result`, in spawn order.
///
/// # Cancel safety
///
/// Dropping it drops every child, running or not (none is polled again),
/// after closing the group to spawns and cancelling its token.
///
/// # Examples
///
/// ```
/// use sluicegate::futures::TaskGroupJoinAll;
/// use sluicegate::TaskGroup;
///
/// let mut group = TaskGroup::<u8, ()>::new();
/// group.spawn(async { Err(()) });
/// let join: TaskGroupJoinAll<'_, u8, ()> = group.join_all();
/// assert_eq!(futures_lite::future::block_on(join), vec![Err(())]);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TaskGroupJoinAll<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    inner: CollectAll<SendDyn<'a, T, E>, T, E, C, L>,
}

// Nothing in it is pinned: the children are pinned in their own boxes.
impl<T, E, C, L: ScopedRawMutex> Unpin for TaskGroupJoinAll<'_, T, E, C, L> {}

impl<T, E, C, L: ScopedRawMutex> Future for TaskGroupJoinAll<'_, T, E, C, L> {
    type Output = Vec<Result<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll(cx)
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for TaskGroupJoinAll<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupJoinAll")
            .field("group", &self.inner.driver)
            .finish()
    }
}

/// [`TaskGroup`] for children that are not `Send`: the same API and
/// behaviour, for single-thread executors (embassy, a local executor, a
/// plain `block_on`). It and its handles are not `Send`.
///
/// With every child on one thread, the spawn queue's lock can be
/// [`LocalRawMutex`](crate::raw_mutex::LocalRawMutex): give
/// [`with_token`](Self::with_token) a token made with it.
///
/// # Examples
///
/// Children sharing an `Rc<RefCell<_>>`:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// use sluicegate::LocalTaskGroup;
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let mut group = LocalTaskGroup::<usize, ()>::new();
/// for n in 0..3 {
///     let log = log.clone();
///     group.spawn(async move {
///         log.borrow_mut().push(n);
///         Ok(n * n)
///     });
/// }
/// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![0, 1, 4]));
/// assert_eq!(log.borrow().len(), 3);
/// ```
pub struct LocalTaskGroup<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    driver: Driver<LocalDyn<'a, T, E>, T, E, C, L>,
}

impl<'a, T, E: Clone> LocalTaskGroup<'a, T, E> {
    /// A new, empty group with no limit, whose token's cause is a clone of
    /// the first error (see [`TaskGroup::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::LocalTaskGroup::<(), &str>::new();
    /// group.spawn(async { Err("oops") });
    /// assert_eq!(futures_lite::future::block_on(group.join()).unwrap_err().into_first(), "oops");
    /// ```
    pub fn new() -> Self {
        Self::with_cause(E::clone)
    }
}

impl<T, E: Clone> Default for LocalTaskGroup<'_, T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, T, E, C> LocalTaskGroup<'a, T, E, C> {
    /// A new, empty group with no limit, whose token's cause is
    /// `cause(&first_error)` (see [`TaskGroup::with_cause`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), std::rc::Rc<str>, ()>::with_cause(|_| ());
    /// assert!(!group.token().is_cancelled());
    /// ```
    pub fn with_cause(cause: fn(&E) -> C) -> Self {
        Self::with_token(CancellationToken::with_cause_type(), cause)
    }
}

impl<'a, T, E, C, L: ScopedRawMutex + Default> LocalTaskGroup<'a, T, E, C, L> {
    /// A new, empty group with no limit whose token is `token` (see
    /// [`TaskGroup::with_token`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::raw_mutex::LocalRawMutex;
    /// use sluicegate::{CancellationToken, LocalTaskGroup};
    ///
    /// // One thread: no synchronisation for the token or the spawn queue.
    /// let token = CancellationToken::<(), _>::new_with_raw_mutex(LocalRawMutex::new());
    /// let mut group = LocalTaskGroup::<u8, (), (), LocalRawMutex>::with_token(token, |_| ());
    /// group.spawn(async { Ok(1) });
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1]));
    /// ```
    pub fn with_token(token: CancellationToken<C, L>, cause: fn(&E) -> C) -> Self {
        Self {
            driver: Driver::new(token, L::default(), cause),
        }
    }
}

impl<'a, T, E, C, L: ScopedRawMutex> LocalTaskGroup<'a, T, E, C, L> {
    /// The group, running at most `limit` children at once (see
    /// [`TaskGroup::with_limit`]).
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), ()>::new().with_limit(2);
    /// assert_eq!(group.limit(), Some(2));
    /// ```
    #[must_use]
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.driver.set_limit(limit);
        self
    }

    /// How many children may run at once; `None` for no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::LocalTaskGroup::<(), ()>::new().limit(), None);
    /// ```
    pub fn limit(&self) -> Option<usize> {
        self.driver.limit()
    }

    /// Adds a child; returns its spawn index (see [`TaskGroup::spawn`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let shared = std::rc::Rc::new(5);
    /// let mut group = sluicegate::LocalTaskGroup::<i32, ()>::new();
    /// group.spawn(async move { Ok(*shared) });
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![5]));
    /// ```
    pub fn spawn<F>(&mut self, fut: F) -> usize
    where
        F: Future<Output = Result<T, E>> + 'a,
    {
        let index = self.driver.next_index();
        self.driver.admit(NewTask::new(fut, index).erase());
        index
    }

    /// How many children were spawned so far, through handles too.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::LocalTaskGroup::<(), ()>::new();
    /// group.spawn(async { Ok(()) });
    /// assert_eq!(group.spawned(), 1);
    /// ```
    pub fn spawned(&self) -> usize {
        self.driver.spawned()
    }

    /// A handle to spawn children through (see [`TaskGroup::handle`]); not
    /// `Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::LocalTaskGroup::<u8, ()>::new();
    /// let handle = group.handle();
    /// group.spawn(async move {
    ///     handle.spawn(async { Ok(2) }).unwrap();
    ///     Ok(1)
    /// });
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1, 2]));
    /// ```
    pub fn handle(&self) -> LocalTaskGroupHandle<'a, T, E, C, L> {
        LocalTaskGroupHandle::new(self.driver.shared.clone())
    }

    /// The group's token (see [`TaskGroup::token`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), ()>::new();
    /// assert!(!group.token().is_cancelled());
    /// ```
    pub fn token(&self) -> &CancellationToken<C, L> {
        &self.driver.shared.token
    }

    /// Drives every child, failing fast (see [`TaskGroup::join`]).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops every child, running or not, after closing
    /// the group to spawns and cancelling its token.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::LocalTaskGroup::<u8, ()>::new();
    /// group.spawn(async { Ok(1) });
    /// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1]));
    /// ```
    pub fn join(self) -> LocalTaskGroupJoin<'a, T, E, C, L> {
        LocalTaskGroupJoin {
            inner: FailFast::new(self.driver),
        }
    }

    /// Drives every child to completion and gives back every `Result`, in
    /// spawn order (see [`TaskGroup::join_all`]).
    ///
    /// # Cancel safety
    ///
    /// As [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut group = sluicegate::LocalTaskGroup::<u8, u8>::new();
    /// group.spawn(async { Err(1) });
    /// group.spawn(async { Ok(2) });
    /// assert_eq!(futures_lite::future::block_on(group.join_all()), vec![Err(1), Ok(2)]);
    /// ```
    pub fn join_all(self) -> LocalTaskGroupJoinAll<'a, T, E, C, L> {
        LocalTaskGroupJoinAll {
            inner: CollectAll::new(self.driver),
        }
    }
}

impl<'a, T, E, C, L: ScopedRawMutex> IntoFuture for LocalTaskGroup<'a, T, E, C, L> {
    type Output = Result<Vec<T>, TaskGroupError<E>>;
    type IntoFuture = LocalTaskGroupJoin<'a, T, E, C, L>;

    /// [`join`](LocalTaskGroup::join): awaiting a group fails fast.
    fn into_future(self) -> Self::IntoFuture {
        self.join()
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for LocalTaskGroup<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

/// A handle to a [`LocalTaskGroup`]: [`TaskGroupHandle`] for children
/// that are not `Send`.
///
/// # Examples
///
/// ```
/// let group = sluicegate::LocalTaskGroup::<u8, ()>::new();
/// let handle = group.handle();
/// handle.spawn(async { Ok(1) }).unwrap();
/// assert_eq!(futures_lite::future::block_on(group.join()), Ok(vec![1]));
/// ```
pub struct LocalTaskGroupHandle<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    shared: Arc<Shared<LocalDyn<'a, T, E>, C, L>>,
}

impl<'a, T, E, C, L: ScopedRawMutex> LocalTaskGroupHandle<'a, T, E, C, L> {
    fn new(shared: Arc<Shared<LocalDyn<'a, T, E>, C, L>>) -> Self {
        shared.handles.fetch_add(1, Relaxed);
        Self { shared }
    }

    /// Adds a child to the running group (see [`TaskGroupHandle::spawn`]).
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the group takes no more children.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<u8, ()>::new();
    /// let handle = group.handle();
    /// drop(group);
    /// assert!(handle.spawn(async { Ok(1) }).is_err());
    /// ```
    pub fn spawn<F>(&self, fut: F) -> Result<usize, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + 'a,
    {
        self.shared.try_spawn(fut).map_err(SpawnError)
    }

    /// Whether the group refuses spawns (see
    /// [`TaskGroupHandle::is_closed`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), ()>::new();
    /// let handle = group.handle();
    /// assert!(!handle.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// The group's token (see [`TaskGroup::token`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), ()>::new();
    /// assert!(!group.handle().token().is_cancelled());
    /// ```
    pub fn token(&self) -> &CancellationToken<C, L> {
        &self.shared.token
    }
}

impl<T, E, C, L: ScopedRawMutex> Clone for LocalTaskGroupHandle<'_, T, E, C, L> {
    /// Another handle to the same group.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = sluicegate::LocalTaskGroup::<(), ()>::new();
    /// let handle = group.handle().clone();
    /// assert!(!handle.is_closed());
    /// ```
    fn clone(&self) -> Self {
        Self::new(self.shared.clone())
    }
}

impl<T, E, C, L: ScopedRawMutex> Drop for LocalTaskGroupHandle<'_, T, E, C, L> {
    fn drop(&mut self) {
        // Publishes this handle's spawns to a group that sees zero.
        self.shared.handles.fetch_sub(1, Release);
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for LocalTaskGroupHandle<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalTaskGroupHandle")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The future returned by [`LocalTaskGroup::join`]: [`TaskGroupJoin`] for
/// children that are not `Send`.
///
/// # Cancel safety
///
/// Dropping it drops every child, running or not (none is polled again),
/// after closing the group to spawns and cancelling its token.
///
/// # Examples
///
/// ```
/// use sluicegate::futures::LocalTaskGroupJoin;
///
/// let group = sluicegate::LocalTaskGroup::<u8, ()>::new();
/// let join: LocalTaskGroupJoin<'_, u8, ()> = group.join();
/// assert_eq!(futures_lite::future::block_on(join), Ok(vec![]));
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct LocalTaskGroupJoin<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    inner: FailFast<LocalDyn<'a, T, E>, T, E, C, L>,
}

// Nothing in it is pinned: the children are pinned in their own boxes.
impl<T, E, C, L: ScopedRawMutex> Unpin for LocalTaskGroupJoin<'_, T, E, C, L> {}

impl<T, E, C, L: ScopedRawMutex> Future for LocalTaskGroupJoin<'_, T, E, C, L> {
    type Output = Result<Vec<T>, TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll(cx)
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for LocalTaskGroupJoin<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalTaskGroupJoin")
            .field("group", &self.inner.driver)
            .field("failed", &self.inner.failure.is_some())
            .finish()
    }
}

/// The future returned by [`LocalTaskGroup::join_all`]:
/// [`TaskGroupJoinAll`] for children that are not `Send`.
///
/// # Cancel safety
///
/// Dropping it drops every child, running or not (none is polled again),
/// after closing the group to spawns and cancelling its token.
///
/// # Examples
///
/// ```
/// use sluicegate::futures::LocalTaskGroupJoinAll;
///
/// let group = sluicegate::LocalTaskGroup::<u8, ()>::new();
/// let join: LocalTaskGroupJoinAll<'_, u8, ()> = group.join_all();
/// assert_eq!(futures_lite::future::block_on(join), vec![]);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct LocalTaskGroupJoinAll<'a, T, E, C = E, L: ScopedRawMutex = DefaultRawMutex> {
    inner: CollectAll<LocalDyn<'a, T, E>, T, E, C, L>,
}

// Nothing in it is pinned: the children are pinned in their own boxes.
impl<T, E, C, L: ScopedRawMutex> Unpin for LocalTaskGroupJoinAll<'_, T, E, C, L> {}

impl<T, E, C, L: ScopedRawMutex> Future for LocalTaskGroupJoinAll<'_, T, E, C, L> {
    type Output = Vec<Result<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.poll(cx)
    }
}

impl<T, E, C, L: ScopedRawMutex> fmt::Debug for LocalTaskGroupJoinAll<'_, T, E, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalTaskGroupJoinAll")
            .field("group", &self.inner.driver)
            .finish()
    }
}
