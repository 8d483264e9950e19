//! The pool's futures: [`Get`], [`Drain`] and [`Maintain`].

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use pin_project_lite::pin_project;

use super::{Entry, Manager, ObjectInfo, Pool, PoolError, PoolGuard, Take, TimeoutKind};
use crate::loom::atomic::Ordering::Relaxed;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::semaphore::{Acquire, SemaphorePermit};
use crate::task::{TaskTrackerToken, TaskTrackerWait};
use crate::time::Timer;

pin_project! {
    /// Where a `get` is, past waiting for its slot.
    #[project = WorkProj]
    enum Work<C, R> {
        /// About to take an idle object, or to start creating one.
        Take,
        Create { #[pin] fut: C },
        Recycle { #[pin] fut: R },
        Done,
    }
}

pin_project! {
    /// The future returned by [`Pool::get`]: an object, as a [`PoolGuard`].
    ///
    /// It waits, FIFO, for a permit of the pool's semaphore (a free slot,
    /// or in an unmanaged pool an idle object), then takes the oldest idle
    /// object and has the manager recycle it, or creates one if none is
    /// idle. An object that fails its check or is too old is dropped, and
    /// it tries the next (a managed pool keeps its slot; an unmanaged one
    /// queues again, at the back).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe at every await, and [`Pool::status`] stays exact:
    ///
    /// - dropped while queued: it leaves the queue;
    /// - dropped after a slot or an object was handed to it, before it was
    ///   polled again: the slot (and so the object, still idle) goes to the
    ///   next waiter, who is woken;
    /// - dropped while creating: the create future is dropped, the slot
    ///   goes to the next waiter;
    /// - dropped while recycling: the object is dropped with the recycle
    ///   future (its state is unknown), and its slot is freed.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::futures::Get;
    /// use sluicegate::pool::Pool;
    ///
    /// let pool = Pool::unmanaged(1);
    /// pool.add("only").unwrap();
    /// let held = pool.try_get().unwrap();
    /// let mut first: core::pin::Pin<Box<Get<'_, &str>>> = Box::pin(pool.get());
    /// let mut second = Box::pin(pool.get());
    /// assert!(block_on(poll_once(&mut first)).is_none());
    /// assert!(block_on(poll_once(&mut second)).is_none());
    /// drop(held); // handed to `first`...
    /// drop(first); // ...which passes it on
    /// assert_eq!(*block_on(second).unwrap(), "only");
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Get<'a, T, M = super::Unmanaged, Tm = super::NoTimer, L = DefaultRawMutex>
    where
        M: Manager<T>,
        M: 'a,
        Tm: Timer,
        L: ScopedRawMutex,
    {
        pool: &'a Pool<T, M, Tm, L>,
        #[pin]
        acquire: Acquire<'a, L>,
        #[pin]
        work: Work<M::Create<'a>, M::Recycle<'a>>,
        // The timeout of the current step: waiting, creating or recycling.
        #[pin]
        sleep: Option<Tm::Sleep>,
        // Held from the hand-over of the slot until the object is handed
        // out (then forgotten: the guard gives it back).
        permit: Option<SemaphorePermit<'a, L>>,
        // Held while creating or recycling, so that a drain waits for it.
        token: Option<TaskTrackerToken<'a, L>>,
        // The timestamps of the object being recycled.
        info: Option<ObjectInfo<Tm::Instant>>,
        // Counted in `Pool::waiting`.
        queued: bool,
    }

    impl<T, M, Tm, L> PinnedDrop for Get<'_, T, M, Tm, L>
    where
        M: Manager<T>,
        Tm: Timer,
        L: ScopedRawMutex,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let pool = *this.pool;
            unqueue(pool, this.queued);
            match this.work.project() {
                WorkProj::Create { .. } => pool.store.with(|s| s.creating -= 1),
                WorkProj::Recycle { .. } => {
                    // The object goes with the recycle future.
                    pool.store.with(|s| s.size -= 1);
                    if !M::CREATES {
                        if let Some(permit) = this.permit.take() {
                            permit.forget();
                        }
                    }
                }
                WorkProj::Take | WorkProj::Done => {}
            }
            // The fields drop next: the acquire (giving back a slot handed
            // to it), the step's future, the permit (to the next waiter),
            // and the token.
        }
    }
}

/// Takes a `get` off the waiting count.
#[inline]
fn unqueue<T, M, Tm, L>(pool: &Pool<T, M, Tm, L>, queued: &mut bool)
where
    Tm: Timer,
    L: ScopedRawMutex,
{
    if core::mem::take(queued) {
        pool.waiting.fetch_sub(1, Relaxed);
    }
}

/// Polls the step's timeout, if it has one; `true` once it ran out.
#[inline]
fn timed_out<S: Future<Output = ()>>(sleep: Pin<&mut Option<S>>, cx: &mut Context<'_>) -> bool {
    match sleep.as_pin_mut() {
        Some(sleep) => sleep.poll(cx).is_ready(),
        None => false,
    }
}

impl<'a, T, M, Tm, L> Get<'a, T, M, Tm, L>
where
    M: Manager<T> + 'a,
    Tm: Timer,
    L: ScopedRawMutex,
{
    #[inline]
    pub(super) fn new(pool: &'a Pool<T, M, Tm, L>) -> Self {
        Self {
            pool,
            acquire: pool.slots.acquire(),
            work: Work::Take,
            sleep: None,
            permit: None,
            token: None,
            info: None,
            queued: false,
        }
    }
}

impl<'a, T, M, Tm, L> Future for Get<'a, T, M, Tm, L>
where
    M: Manager<T> + 'a,
    Tm: Timer,
    L: ScopedRawMutex,
{
    type Output = Result<PoolGuard<'a, T, M, Tm, L>, PoolError<M::Error>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let pool: &'a Pool<T, M, Tm, L> = this.pool;
        if matches!(*this.work, Work::Done) {
            panic!("`Get` polled after completion");
        }
        loop {
            if this.permit.is_none() {
                match this.acquire.as_mut().poll(cx) {
                    Poll::Ready(Ok(permit)) => {
                        unqueue(pool, this.queued);
                        *this.permit = Some(permit);
                        this.sleep.set(None);
                    }
                    Poll::Ready(Err(_)) => {
                        unqueue(pool, this.queued);
                        this.work.set(Work::Done);
                        return Poll::Ready(Err(PoolError::Closed));
                    }
                    Poll::Pending => {
                        if !core::mem::replace(this.queued, true) {
                            pool.waiting.fetch_add(1, Relaxed);
                        }
                        let Some(limit) = pool.config.wait_timeout else {
                            return Poll::Pending;
                        };
                        if this.sleep.is_none() {
                            this.sleep.set(Some(pool.timer.sleep(limit)));
                        }
                        if !timed_out(this.sleep.as_mut(), cx) {
                            return Poll::Pending;
                        }
                        // Leave the queue now, passing on a slot handed
                        // over in the meantime.
                        this.acquire.set(pool.slots.acquire_many(0));
                        unqueue(pool, this.queued);
                        this.sleep.set(None);
                        this.work.set(Work::Done);
                        pool.store.with(|s| s.counts.wait_timeouts += 1);
                        return Poll::Ready(Err(PoolError::Timeout(TimeoutKind::Wait)));
                    }
                }
            }
            match this.work.as_mut().project() {
                WorkProj::Take => {
                    // Taken before the object leaves the store, so that a
                    // drain never sees it in neither place.
                    let token = pool.out.token();
                    let now = pool.now_if(pool.config.checks_age());
                    match pool.store.with(|s| s.take(now, &pool.config, M::CREATES)) {
                        Take::Object(entry) => {
                            *this.token = Some(token);
                            *this.info = Some(entry.info);
                            this.work.set(Work::Recycle {
                                fut: pool.manager.recycle(entry.object),
                            });
                            if let Some(limit) = pool.config.recycle_timeout {
                                this.sleep.set(Some(pool.timer.sleep(limit)));
                            }
                        }
                        Take::Create => {
                            *this.token = Some(token);
                            this.work.set(Work::Create {
                                fut: pool.manager.create(),
                            });
                            if let Some(limit) = pool.config.create_timeout {
                                this.sleep.set(Some(pool.timer.sleep(limit)));
                            }
                        }
                        Take::Expired(entry) => {
                            drop(token);
                            Self::lost(pool, &mut this.acquire, this.permit, this.token);
                            drop(entry);
                        }
                        Take::Empty => {
                            // Unmanaged, and the idle objects always cover
                            // the permits handed out, so this cannot happen;
                            // should it, queue again rather than spin.
                            drop(token);
                            debug_assert!(false, "an unmanaged pool's permit found no object");
                            *this.permit = None;
                            this.acquire.set(pool.slots.acquire());
                        }
                        Take::Closed => {
                            drop(token);
                            *this.permit = None;
                            this.work.set(Work::Done);
                            return Poll::Ready(Err(PoolError::Closed));
                        }
                    }
                }
                WorkProj::Create { fut } => {
                    let outcome = match fut.poll(cx) {
                        Poll::Ready(outcome) => Some(outcome),
                        Poll::Pending if timed_out(this.sleep.as_mut(), cx) => None,
                        Poll::Pending => return Poll::Pending,
                    };
                    // Drops the create future first if it timed out.
                    this.work.set(Work::Done);
                    this.sleep.set(None);
                    let object = match outcome {
                        Some(Ok(object)) => object,
                        failed => {
                            pool.store.with(|s| {
                                s.creating -= 1;
                                match failed {
                                    Some(_) => s.counts.create_failures += 1,
                                    None => s.counts.create_timeouts += 1,
                                }
                            });
                            *this.permit = None;
                            *this.token = None;
                            return Poll::Ready(Err(match failed {
                                Some(Err(e)) => PoolError::Create(e),
                                _ => PoolError::Timeout(TimeoutKind::Create),
                            }));
                        }
                    };
                    let created = pool.now_if(pool.config.timed);
                    let open = pool.store.with(|s| {
                        s.creating -= 1;
                        s.counts.created += 1;
                        s.size += usize::from(!s.closed);
                        !s.closed
                    });
                    if !open {
                        *this.permit = None;
                        *this.token = None;
                        drop(object);
                        return Poll::Ready(Err(PoolError::Closed));
                    }
                    let info = ObjectInfo {
                        created,
                        idle_since: None,
                    };
                    return Poll::Ready(Ok(Self::hand_out(
                        pool,
                        Entry { object, info },
                        this.permit,
                        this.token,
                    )));
                }
                WorkProj::Recycle { fut } => {
                    let outcome = match fut.poll(cx) {
                        Poll::Ready(outcome) => Some(outcome),
                        Poll::Pending if timed_out(this.sleep.as_mut(), cx) => None,
                        Poll::Pending => return Poll::Pending,
                    };
                    match outcome {
                        Some(Ok(object)) => {
                            this.work.set(Work::Done);
                            this.sleep.set(None);
                            let info = this.info.take().expect("recycling an object");
                            if pool.is_closed() {
                                pool.store.with(|s| s.size -= 1);
                                if let Some(permit) = this.permit.take() {
                                    if M::CREATES {
                                        drop(permit);
                                    } else {
                                        permit.forget();
                                    }
                                }
                                *this.token = None;
                                drop(object);
                                return Poll::Ready(Err(PoolError::Closed));
                            }
                            return Poll::Ready(Ok(Self::hand_out(
                                pool,
                                Entry { object, info },
                                this.permit,
                                this.token,
                            )));
                        }
                        failed => {
                            // Drops the recycle future (and a timed-out
                            // object with it), after the counts.
                            pool.store.with(|s| {
                                s.size -= 1;
                                match failed {
                                    Some(_) => s.counts.recycle_failures += 1,
                                    None => s.counts.recycle_timeouts += 1,
                                }
                            });
                            this.work.set(Work::Take);
                            this.sleep.set(None);
                            *this.info = None;
                            Self::lost(pool, &mut this.acquire, this.permit, this.token);
                            drop(failed);
                        }
                    }
                }
                WorkProj::Done => unreachable!("checked above"),
            }
        }
    }
}

impl<'a, T, M, Tm, L> Get<'a, T, M, Tm, L>
where
    M: Manager<T> + 'a,
    Tm: Timer,
    L: ScopedRawMutex,
{
    /// The object this `get` held left the pool. Managed, it keeps its
    /// slot and tries again; unmanaged, the permit was that object's, so
    /// it retires it and queues again.
    fn lost(
        pool: &'a Pool<T, M, Tm, L>,
        acquire: &mut Pin<&mut Acquire<'a, L>>,
        permit: &mut Option<SemaphorePermit<'a, L>>,
        token: &mut Option<TaskTrackerToken<'a, L>>,
    ) {
        if !M::CREATES {
            if let Some(permit) = permit.take() {
                permit.forget();
            }
            *token = None;
            acquire.set(pool.slots.acquire());
        }
    }

    /// The guard of an object that leaves the pool; its permit is the
    /// guard's to give back.
    fn hand_out(
        pool: &'a Pool<T, M, Tm, L>,
        entry: Entry<T, Tm::Instant>,
        permit: &mut Option<SemaphorePermit<'a, L>>,
        token: &mut Option<TaskTrackerToken<'a, L>>,
    ) -> PoolGuard<'a, T, M, Tm, L> {
        if let Some(permit) = permit.take() {
            permit.forget();
        }
        let token = token.take().unwrap_or_else(|| pool.out.token());
        PoolGuard::new(pool, entry, token)
    }
}

impl<T, M, Tm, L> fmt::Debug for Get<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = match self.work {
            Work::Take if self.permit.is_none() => "waiting",
            Work::Take => "taking",
            Work::Create { .. } => "creating",
            Work::Recycle { .. } => "recycling",
            Work::Done => "done",
        };
        f.debug_struct("Get").field("step", &step).finish()
    }
}

pin_project! {
    /// The future returned by [`Pool::drain`]: ready once no object is out
    /// of the pool.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it only stops the waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::futures::Drain;
    /// let pool = sluicegate::pool::Pool::<u8>::unmanaged(1);
    /// let drained: Drain<'_> = pool.drain();
    /// futures_lite::future::block_on(drained); // nothing is out
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Drain<'a, L: ScopedRawMutex = DefaultRawMutex> {
        #[pin]
        wait: TaskTrackerWait<'a, L>,
    }
}

impl<'a, L: ScopedRawMutex> Drain<'a, L> {
    pub(super) fn new(wait: TaskTrackerWait<'a, L>) -> Self {
        Self { wait }
    }
}

impl<L: ScopedRawMutex> Future for Drain<'_, L> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().wait.poll(cx)
    }
}

impl<L: ScopedRawMutex> fmt::Debug for Drain<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain").finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`Pool::maintain`]: evicts expired idle
    /// objects every period, until the pool is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it stops the maintenance, nothing else.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::futures::Maintain;
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let pool = Pool::<u8, _, _>::builder(Unmanaged, 1).timer(clock.clone()).build();
    /// let upkeep: Maintain<'_, u8, Unmanaged, ManualClock> = pool.maintain(Duration::from_secs(1));
    /// pool.close();
    /// futures_lite::future::block_on(upkeep); // closed: done at once
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Maintain<'a, T, M, Tm, L = DefaultRawMutex>
    where
        Tm: Timer,
        L: ScopedRawMutex,
    {
        pool: &'a Pool<T, M, Tm, L>,
        period: Duration,
        #[pin]
        sleep: Tm::Sleep,
    }
}

impl<'a, T, M, Tm, L> Maintain<'a, T, M, Tm, L>
where
    Tm: Timer,
    L: ScopedRawMutex,
{
    pub(super) fn new(pool: &'a Pool<T, M, Tm, L>, period: Duration) -> Self {
        Self {
            pool,
            period,
            sleep: pool.timer.sleep(period),
        }
    }
}

impl<T, M, Tm, L> Future for Maintain<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            if this.pool.is_closed() {
                return Poll::Ready(());
            }
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.pool.evict_expired();
            this.sleep.set(this.pool.timer.sleep(*this.period));
        }
    }
}

impl<T, M, Tm, L> fmt::Debug for Maintain<'_, T, M, Tm, L>
where
    Tm: Timer,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Maintain")
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}
