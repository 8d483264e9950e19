//! [`RateLimiter`]: GCRA on a [`Clock`], with fair async waiting.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use pin_project_lite::pin_project;

use super::gcra::{check_burst, decide, ExceedsBurst, Quota, TryAcquireError};
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::semaphore::{Acquire, Semaphore, SemaphorePermit};
use crate::time::{Clock, Timer, Timestamp};

/// A rate limiter: at most N cells per period, with bursts, on any
/// [`Clock`]: asyncio's "rate limit N/s", done with a rate and not with a
/// semaphore.
///
/// It runs the generic cell rate algorithm ([`Gcra`](super::Gcra)), as
/// governor does: one theoretical arrival time per limiter, moved on by a
/// compare-and-swap, so [`try_acquire`](Self::try_acquire) takes no lock.
/// [`acquire`](Self::acquire) waits on the clock's [`Timer`] until its
/// cells are due.
///
/// # Fairness
///
/// Waiters are served in FIFO order, cells counted: a later caller never
/// overtakes an earlier one (neither [`try_acquire`](Self::try_acquire) nor
/// a smaller request), so a large `n` is never starved by small ones. Only
/// the first waiter sleeps on the timer; the others queue on a fair
/// [`Semaphore`] of one permit behind it, and each takes its turn when the
/// one before it got its cells or gave up.
///
/// # Time
///
/// The limiter measures time from an origin: the clock's time at
/// [`new`](Self::new), or the instant given to [`new_at`](Self::new_at)
/// (which is `const`, so a limiter on a clock whose instants can be
/// written in a constant — `u64` ticks, embassy ticks — can live in a
/// `static`). A full burst is available from the origin on.
///
/// On targets with 64-bit atomics the arrival time is one `AtomicU64`;
/// elsewhere (thumbv7em, thumbv6m) it sits behind a lock of type `L` of its
/// own, so there `L` must also be [`ConstInit`](crate::raw_mutex::ConstInit)
/// (every lock of [`raw_mutex`](crate::raw_mutex) is).
///
/// # Examples
///
/// Ten requests a second, at most three at once, in virtual time:
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Quota, RateLimiter};
/// use sluicegate::time::ManualClock;
///
/// let clock = ManualClock::new();
/// let limiter = RateLimiter::new(clock.clone(), Quota::per_second(10).with_burst(3));
/// futures_lite::future::block_on(clock.auto_advance(async {
///     for _ in 0..5 {
///         limiter.acquire().await.unwrap();
///     }
/// }));
/// // Three at once, then one each 100 ms.
/// assert_eq!(clock.now(), Duration::from_millis(200));
/// ```
///
/// In a `static`, on a clock of `u64` nanosecond ticks:
///
/// ```
/// use sluicegate::limit::{Quota, RateLimiter};
/// use sluicegate::time::Clock;
///
/// struct Ticks;
/// impl Clock for Ticks {
///     type Instant = u64;
///     fn now(&self) -> u64 {
///         42 // a hardware counter, in nanoseconds
///     }
/// }
///
/// static SENSOR_READS: RateLimiter<Ticks> = RateLimiter::new_at(Ticks, Quota::per_second(2), 0);
/// assert!(SENSOR_READS.try_acquire_n(2).is_ok());
/// assert!(SENSOR_READS.try_acquire().is_err());
/// ```
pub struct RateLimiter<C: Clock, L: ScopedRawMutex = DefaultRawMutex> {
    tat: tat::Tat<L>,
    /// Cells asked for by acquires that have queued (waiting for the gate,
    /// or holding it): while it is not zero, the lock-free paths stay out.
    queued: AtomicUsize,
    /// One permit: whoever holds it is the first waiter, the only one that
    /// sleeps and the only one that takes cells while others queue.
    gate: Semaphore<L>,
    quota: Quota,
    clock: C,
    origin: C::Instant,
}

/// The theoretical arrival time, in nanoseconds since the origin.
#[cfg(target_has_atomic = "64")]
mod tat {
    use core::marker::PhantomData;

    use crate::loom::atomic::{AtomicU64, Ordering::*};

    /// On a cache line of its own: the word every `try_acquire` CASes
    /// should not share a line with `queued`, which they all read, or the
    /// read would pull the line away from the next CAS under contention.
    #[repr(align(128))]
    pub(super) struct Tat<L>(AtomicU64, PhantomData<fn() -> L>);

    impl<L> Tat<L> {
        crate::loom::loom_const_fn! {
            pub(super) const fn new() -> Tat<L> {
                Tat(AtomicU64::new(0), PhantomData)
            }
        }

        #[inline]
        pub(super) fn load(&self) -> u64 {
            self.0.load(Acquire)
        }

        /// Replaces the value with `f(value)` unless `f` returns `Err`.
        #[inline]
        pub(super) fn update<E>(&self, mut f: impl FnMut(u64) -> Result<u64, E>) -> Result<(), E> {
            let mut cur = self.0.load(Acquire);
            loop {
                let new = f(cur)?;
                match self.0.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                    Ok(_) => return Ok(()),
                    Err(actual) => cur = actual,
                }
            }
        }
    }
}

#[cfg(not(target_has_atomic = "64"))]
mod tat {
    use crate::raw_mutex::{ConstInit, Lock, ScopedRawMutex};

    pub(super) struct Tat<L>(Lock<u64, L>);

    impl<L: ConstInit> Tat<L> {
        pub(super) const fn new() -> Tat<L> {
            Tat(Lock::new(0, L::INIT))
        }
    }

    impl<L: ScopedRawMutex> Tat<L> {
        pub(super) fn load(&self) -> u64 {
            self.0.with(|t| *t)
        }

        pub(super) fn update<E>(&self, f: impl FnOnce(u64) -> Result<u64, E>) -> Result<(), E> {
            self.0.with(|t| {
                *t = f(*t)?;
                Ok(())
            })
        }
    }
}

/// The bound on `L` for the constructors: any lock with 64-bit atomics,
/// one with a constant initialiser without them.
#[cfg(target_has_atomic = "64")]
macro_rules! rate_constructors {
    ($($item:tt)*) => {
        impl<C: Clock, L: ScopedRawMutex> RateLimiter<C, L> { $($item)* }
    };
}
#[cfg(not(target_has_atomic = "64"))]
macro_rules! rate_constructors {
    ($($item:tt)*) => {
        impl<C: Clock, L: ScopedRawMutex + crate::raw_mutex::ConstInit> RateLimiter<C, L> { $($item)* }
    };
}

impl<C: Clock> RateLimiter<C> {
    /// A limiter admitting `quota`, measuring time on `clock` from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::StdClock;
    ///
    /// let limiter = RateLimiter::new(StdClock, Quota::per_second(100));
    /// assert!(limiter.try_acquire().is_ok());
    /// ```
    pub fn new(clock: C, quota: Quota) -> Self {
        let origin = clock.now();
        Self::new_with_raw_mutex(clock, quota, origin, DefaultRawMutex::new())
    }

    crate::loom::loom_const_fn! {
        /// A limiter admitting `quota`, measuring time on `clock` from
        /// `origin` (a full burst is available from then on). `const`, for
        /// a `static` on a clock whose instants can be constants.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use sluicegate::limit::{Quota, RateLimiter};
        /// use sluicegate::time::ManualClock;
        ///
        /// let clock = ManualClock::new();
        /// clock.advance(Duration::from_secs(5));
        /// // Counted from 4 s: a second of credit, not five.
        /// let limiter = RateLimiter::new_at(&clock, Quota::per_second(1), Duration::from_secs(4));
        /// assert!(limiter.try_acquire().is_ok());
        /// assert!(limiter.try_acquire().is_err());
        /// ```
        pub const fn new_at(clock: C, quota: Quota, origin: C::Instant) -> RateLimiter<C> {
            RateLimiter::new_with_raw_mutex(clock, quota, origin, DefaultRawMutex::new())
        }
    }
}

rate_constructors! {
    crate::loom::loom_const_fn! {
        /// [`new_at`](RateLimiter::new_at) with the waiters' queue (and,
        /// without 64-bit atomics, the arrival time) behind locks of type
        /// `L` (see [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::limit::{Quota, RateLimiter};
        /// use sluicegate::raw_mutex::SpinRawMutex;
        /// use sluicegate::time::Clock;
        ///
        /// struct Ticks;
        /// impl Clock for Ticks {
        ///     type Instant = u64;
        ///     fn now(&self) -> u64 { 0 }
        /// }
        /// static LIMIT: RateLimiter<Ticks, SpinRawMutex> =
        ///     RateLimiter::new_with_raw_mutex(Ticks, Quota::per_second(5), 0, SpinRawMutex::new());
        /// assert!(LIMIT.try_acquire_n(5).is_ok());
        /// ```
        pub const fn new_with_raw_mutex(
            clock: C,
            quota: Quota,
            origin: C::Instant,
            raw_mutex: L,
        ) -> RateLimiter<C, L> {
            RateLimiter {
                tat: tat::Tat::new(),
                queued: AtomicUsize::new(0),
                gate: Semaphore::new_with_raw_mutex(1, raw_mutex),
                quota,
                clock,
                origin,
            }
        }
    }
}

impl<C: Clock, L: ScopedRawMutex> RateLimiter<C, L> {
    /// The quota.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    /// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(3));
    /// assert_eq!(limiter.quota().burst(), 3);
    /// ```
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    /// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(3));
    /// assert_eq!(limiter.clock().now(), std::time::Duration::ZERO);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Whether acquires are queued (waiting, or about to take their cells).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    /// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(3));
    /// assert!(!limiter.has_waiters());
    /// ```
    pub fn has_waiters(&self) -> bool {
        self.queued.load(Acquire) != 0
    }

    #[inline]
    fn now_ns(&self) -> u64 {
        self.clock.now().saturating_nanos_since(self.origin)
    }

    /// Takes one cell if it is due now and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::TooSoon`], with how long until it would be
    /// admitted (after the queued waiters).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::new(&clock, Quota::per_second(1));
    /// assert!(limiter.try_acquire().is_ok());
    /// let err = limiter.try_acquire().unwrap_err();
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    /// clock.advance(Duration::from_secs(1));
    /// assert!(limiter.try_acquire().is_ok());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<(), TryAcquireError> {
        self.try_acquire_n(1)
    }

    /// Takes `n` cells at once if they are due now and nobody is queued.
    /// `try_acquire_n(0)` always succeeds.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::ExceedsBurst`] if `n` is over the quota's burst
    /// (it never could succeed), else [`TryAcquireError::TooSoon`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Quota, RateLimiter, TryAcquireError};
    /// use sluicegate::time::ManualClock;
    ///
    /// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(4));
    /// assert!(limiter.try_acquire_n(3).is_ok());
    /// assert!(matches!(limiter.try_acquire_n(2), Err(TryAcquireError::TooSoon { .. })));
    /// assert!(matches!(limiter.try_acquire_n(5), Err(TryAcquireError::ExceedsBurst(_))));
    /// ```
    #[inline]
    pub fn try_acquire_n(&self, n: u32) -> Result<(), TryAcquireError> {
        check_burst(&self.quota, n)?;
        if n == 0 {
            return Ok(());
        }
        let now = self.now_ns();
        let queued = self.queued.load(Acquire);
        if queued != 0 {
            return Err(self.too_soon(now, queued, n));
        }
        self.tat
            .update(|tat| decide(&self.quota, tat, now, n))
            .map_err(|at| TryAcquireError::TooSoon {
                retry_after: Duration::from_nanos(at - now),
            })
    }

    /// The wait for `n` cells behind `queued` queued ones.
    #[cold]
    fn too_soon(&self, now: u64, queued: usize, n: u32) -> TryAcquireError {
        let cells = (queued as u64).saturating_add(u64::from(n));
        let at = self
            .tat
            .load()
            .max(now)
            .saturating_add(self.quota.interval_ns().saturating_mul(cells))
            .saturating_sub(self.quota.tolerance_ns());
        TryAcquireError::TooSoon {
            retry_after: Duration::from_nanos(at.saturating_sub(now)),
        }
    }

    /// Takes `n` cells for the gate holder (or a fast path): `Err` is when.
    #[inline]
    fn take(&self, now: u64, n: u32) -> Result<(), u64> {
        self.tat.update(|tat| decide(&self.quota, tat, now, n))
    }
}

impl<T: Timer, L: ScopedRawMutex> RateLimiter<T, L> {
    /// Waits until one cell is due and takes it.
    ///
    /// # Errors
    ///
    /// None for a single cell (the `Result` is that of
    /// [`acquire_n`](Self::acquire_n)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair: a dropped waiter has taken nothing, gives up
    /// its place, and passes the turn on to the waiter behind it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::new(&clock, Quota::per_second(2).with_burst(1));
    /// futures_lite::future::block_on(clock.auto_advance(async {
    ///     limiter.acquire().await.unwrap(); // at once
    ///     limiter.acquire().await.unwrap(); // 500 ms later
    /// }));
    /// assert_eq!(clock.now(), Duration::from_millis(500));
    /// ```
    #[inline]
    pub fn acquire(&self) -> RateLimiterAcquire<'_, T, L> {
        self.acquire_n(1)
    }

    /// Waits until `n` cells are due and takes them all at once.
    /// `acquire_n(0)` is ready at once.
    ///
    /// # Errors
    ///
    /// [`ExceedsBurst`] at once, without waiting, if `n` is over the
    /// quota's burst: such a request could never be admitted.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire): cells are taken only in the poll
    /// that returns `Ready`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::new(&clock, Quota::per_second(10));
    /// futures_lite::future::block_on(clock.auto_advance(async {
    ///     limiter.acquire_n(10).await.unwrap();
    ///     limiter.acquire_n(5).await.unwrap(); // 500 ms of refill
    ///     assert!(limiter.acquire_n(11).await.is_err()); // never: at once
    /// }));
    /// assert_eq!(clock.now(), Duration::from_millis(500));
    /// ```
    pub fn acquire_n(&self, n: u32) -> RateLimiterAcquire<'_, T, L> {
        RateLimiterAcquire {
            limiter: self,
            n,
            phase: Phase::Start,
            gate: None,
            permit: None,
            sleep: None,
            deadline: 0,
        }
    }
}

impl<C: Clock, L: ScopedRawMutex> fmt::Debug for RateLimiter<C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("quota", &self.quota)
            .field("queued_cells", &self.queued.load(Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    /// Counted in `queued`; waiting for the gate.
    Queued,
    /// Counted in `queued`; holding the gate, sleeping until the cells are due.
    First,
    Done,
}

pin_project! {
    /// The future returned by [`RateLimiter::acquire`] and
    /// [`RateLimiter::acquire_n`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it, queued or first in line, sleeping or just woken, takes
    /// no cells; its turn passes at once to the next waiter, which is woken.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::limit::{Quota, RateLimiter};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::new(&clock, Quota::per_second(1));
    /// limiter.try_acquire().unwrap();
    /// let mut waiting = Box::pin(limiter.acquire());
    /// assert!(block_on(poll_once(&mut waiting)).is_none()); // queued, sleeping
    /// assert!(limiter.has_waiters());
    /// drop(waiting); // gives its place up
    /// assert!(!limiter.has_waiters());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct RateLimiterAcquire<'a, T: Timer, L: ScopedRawMutex = DefaultRawMutex> {
        limiter: &'a RateLimiter<T, L>,
        n: u32,
        phase: Phase,
        #[pin]
        gate: Option<Acquire<'a, L>>,
        // Held while first in line; dropping it passes the turn on.
        permit: Option<SemaphorePermit<'a, L>>,
        #[pin]
        sleep: Option<T::Sleep>,
        // The nanosecond deadline `sleep` sleeps until.
        deadline: u64,
    }

    impl<T: Timer, L: ScopedRawMutex> PinnedDrop for RateLimiterAcquire<'_, T, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if matches!(*this.phase, Phase::Queued | Phase::First) {
                this.limiter.queued.fetch_sub(*this.n as usize, AcqRel);
            }
            // The gate future (queued) or the permit (first) is dropped with
            // the fields, after this: either passes the turn on.
        }
    }
}

impl<'a, T: Timer, L: ScopedRawMutex> Future for RateLimiterAcquire<'a, T, L> {
    type Output = Result<(), ExceedsBurst>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let limiter = *this.limiter;
        let n = *this.n;
        loop {
            match *this.phase {
                Phase::Start => {
                    if let Err(e) = check_burst(&limiter.quota, n) {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Err(e));
                    }
                    if n == 0 {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Ok(()));
                    }
                    if limiter.queued.load(Acquire) == 0
                        && limiter.take(limiter.now_ns(), n).is_ok()
                    {
                        *this.phase = Phase::Done;
                        return Poll::Ready(Ok(()));
                    }
                    // From here on, later callers queue behind us.
                    limiter.queued.fetch_add(n as usize, AcqRel);
                    *this.phase = Phase::Queued;
                    this.gate.set(Some(limiter.gate.acquire()));
                }
                Phase::Queued => {
                    let gate = this.gate.as_mut().as_pin_mut().expect("queued on the gate");
                    let permit = match gate.poll(cx) {
                        Poll::Ready(Ok(permit)) => permit,
                        Poll::Ready(Err(_)) => unreachable!("the gate is never closed"),
                        Poll::Pending => return Poll::Pending,
                    };
                    // First in line until the permit is dropped.
                    *this.permit = Some(permit);
                    this.gate.set(None);
                    *this.phase = Phase::First;
                }
                Phase::First => {
                    let now = limiter.now_ns();
                    match limiter.take(now, n) {
                        Ok(()) => {
                            *this.phase = Phase::Done;
                            this.sleep.set(None);
                            limiter.queued.fetch_sub(n as usize, AcqRel);
                            // The next waiter's turn.
                            drop(this.permit.take());
                            return Poll::Ready(Ok(()));
                        }
                        Err(at) => {
                            if this.sleep.is_none() || *this.deadline != at {
                                *this.deadline = at;
                                let deadline =
                                    limiter.origin.saturating_add(Duration::from_nanos(at));
                                this.sleep.set(Some(limiter.clock.sleep_until(deadline)));
                            }
                            let sleep = this.sleep.as_mut().as_pin_mut().expect("sleep set");
                            if sleep.poll(cx).is_pending() {
                                return Poll::Pending;
                            }
                            // Due: take the cells (the clock said so; if it
                            // disagrees, sleep again).
                            this.sleep.set(None);
                        }
                    }
                }
                Phase::Done => panic!("`RateLimiterAcquire` polled after completion"),
            }
        }
    }
}

impl<T: Timer, L: ScopedRawMutex> fmt::Debug for RateLimiterAcquire<'_, T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiterAcquire")
            .field("cells", &self.n)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}
