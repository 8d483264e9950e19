//! [`AdaptiveLimiter`]: a concurrency limit that a [`LimitAlgorithm`]
//! moves, enforced by the crate's fair [`Semaphore`].

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use core::time::Duration;

use super::algorithm::{LimitAlgorithm, Sample, UnchangedBy};
use super::Outcome;
use crate::defer::Defer;
use crate::loom::atomic::{fence, AtomicUsize, Ordering::*};
use crate::raw_mutex::{ConstInit, DefaultRawMutex, Lock, ScopedRawMutex};
use crate::semaphore::{Acquire, Semaphore, SemaphorePermit};
use crate::time::{Clock, Timestamp};

/// A concurrency limit that finds itself: asyncio's "adaptive" pattern,
/// Netflix's concurrency-limits without a runtime.
///
/// [`acquire`](Self::acquire) waits for a slot, in FIFO order, and returns
/// a [`LimitToken`]. When the call ends, the token says how it went:
/// [`success`](LimitToken::success), [`dropped`](LimitToken::dropped) (the
/// server was too busy, or the call timed out), or nothing — a token
/// dropped without a verdict (a cancelled call) is *ignored*: it says
/// nothing about the server, so the algorithm never sees it. Each verdict
/// becomes a [`Sample`] (the call's RTT on the limiter's [`Clock`], the
/// calls in flight when it was admitted) for the [`LimitAlgorithm`]
/// ([`Aimd`](super::Aimd), [`Gradient2`](super::Gradient2),
/// [`Vegas`](super::Vegas), or your own), and the limit it returns takes
/// effect at once.
///
/// # Fairness
///
/// The slots are the permits of a fair [`Semaphore`], resized as the limit
/// moves: [`add_permits`](Semaphore::add_permits) when it grows, and
/// [`forget_permits`](Semaphore::forget_permits) when it shrinks, which
/// takes back free slots at once and the rest as calls end, so a shrink
/// below the calls in flight never cancels anything. Waiters are served
/// strictly FIFO.
///
/// # Cost
///
/// A token reads the clock twice (admission and verdict). A verdict takes
/// a short lock to run the algorithm, unless it is a success that the
/// algorithm has said changes nothing
/// ([`LimitAlgorithm::unchanged_by`]: for [`Aimd`](super::Aimd), a success
/// below half the limit and within its timeout; for
/// [`Fixed`](super::Fixed), every success): then it takes a few loads
/// beside the semaphore's own work. An ignored token takes no lock either.
/// The algorithm runs under the lock (keep a custom one short, and free of
/// panics); wake-ups from a grown limit happen after it is released.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{AdaptiveLimiter, Aimd};
/// use sluicegate::time::ManualClock;
///
/// let clock = ManualClock::new();
/// let limiter = AdaptiveLimiter::new(&clock, Aimd::new().limits(1, 100).initial_limit(4));
/// futures_lite::future::block_on(async {
///     let token = limiter.acquire().await;
///     assert_eq!(limiter.in_flight(), 1);
///     clock.advance(Duration::from_millis(20)); // the call
///     token.dropped(); // the server said "too busy"
/// });
/// assert_eq!(limiter.limit(), 3); // 4 × 0.9, rounded down
/// ```
pub struct AdaptiveLimiter<A, C: Clock, L: ScopedRawMutex = DefaultRawMutex> {
    slots: Semaphore<L>,
    core: Lock<Core<A>, L>,
    /// Mirrors `Core::limit`, stored under the lock, before the slots are
    /// resized to it. The calls in flight are the slots taken:
    /// `limit + owed − available`.
    limit: AtomicUsize,
    /// The algorithm's [`UnchangedBy`], published under the lock.
    quiet: Quiet,
    /// Tokens ended without a verdict (they take no lock either).
    ignored: AtomicUsize,
    clock: C,
}

struct Core<A> {
    algorithm: A,
    /// The limit the semaphore has been resized to.
    limit: usize,
    dropped: usize,
    /// What `quiet` holds, kept here too so that an unchanged answer (the
    /// common case, and every one of `Gradient2`'s and `Vegas`'s) costs one
    /// comparison instead of converting it to the words and loading them
    /// (7 instructions more per locked verdict, measured).
    published: UnchangedBy,
}

/// An [`UnchangedBy`] behind a sequence lock, so that a verdict can read it
/// whole without taking the core lock.
///
/// Invariants: it is written only under the core lock (one writer at a
/// time); `seq` is odd while a write is under way, and moves on by two with
/// each write. A reader that sees the same even `seq` before and after its
/// loads read the words of one write (the writer's release fence after its
/// odd store, against the reader's acquire fence before its second load of
/// `seq`).
struct Quiet {
    seq: AtomicUsize,
    in_flight_below: AtomicUsize,
    /// `rtt_at_most` in nanoseconds (saturated at `u64::MAX`, 584 years,
    /// which can only cover less), split in two 32-bit halves so that it
    /// fits the words of any target.
    rtt_hi: AtomicUsize,
    rtt_lo: AtomicUsize,
}

impl Quiet {
    fn new(u: UnchangedBy) -> Self {
        let (hi, lo) = Self::halves(u.rtt_at_most());
        Self {
            seq: AtomicUsize::new(0),
            in_flight_below: AtomicUsize::new(u.in_flight_below()),
            rtt_hi: AtomicUsize::new(hi),
            rtt_lo: AtomicUsize::new(lo),
        }
    }

    fn halves(d: Duration) -> (usize, usize) {
        let ns = d
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()));
        ((ns >> 32) as usize, (ns as u32) as usize)
    }

    /// Only under the core lock, with what was published last: writes
    /// only if `u` differs.
    fn publish(&self, last: &mut UnchangedBy, u: UnchangedBy) {
        if *last == u {
            return;
        }
        *last = u;
        let (hi, lo) = Self::halves(u.rtt_at_most());
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Relaxed);
        fence(Release);
        self.in_flight_below.store(u.in_flight_below(), Relaxed);
        self.rtt_hi.store(hi, Relaxed);
        self.rtt_lo.store(lo, Relaxed);
        self.seq.store(seq.wrapping_add(2), Release);
    }

    /// Whether the last whole write covers a success with `in_flight`
    /// calls in flight at its admission and an RTT of `rtt_ns`; `false`
    /// while a write is under way. (A `false` from a torn read is still
    /// correct: it only sends the sample to the lock.)
    #[inline]
    fn covers(&self, in_flight: usize, rtt_ns: u64) -> bool {
        let seq = self.seq.load(Acquire);
        if in_flight >= self.in_flight_below.load(Relaxed) {
            return false;
        }
        let hi = self.rtt_hi.load(Relaxed) as u64;
        let lo = self.rtt_lo.load(Relaxed) as u64;
        fence(Acquire);
        seq % 2 == 0 && self.seq.load(Relaxed) == seq && rtt_ns <= (hi << 32 | lo)
    }
}

/// A snapshot of an [`AdaptiveLimiter`], for metrics.
///
/// Successes are not counted: a success that changes nothing takes no
/// lock, and an atomic count would cost it about a quarter of the plain
/// semaphore's acquire and release again. Count them beside your
/// [`success`](LimitToken::success) calls where you need them. A drop is
/// counted under the lock it takes anyway; a token dropped without a
/// verdict with one atomic add.
///
/// # Examples
///
/// ```
/// use sluicegate::limit::{AdaptiveLimiter, Fixed, LimiterMetrics};
/// use sluicegate::time::ManualClock;
///
/// let limiter = AdaptiveLimiter::new(ManualClock::new(), Fixed::new(2));
/// let a = limiter.try_acquire().unwrap();
/// drop(limiter.try_acquire().unwrap()); // ignored
/// let m: LimiterMetrics = limiter.metrics();
/// assert_eq!((m.limit, m.in_flight, m.ignored), (2, 1, 1));
/// a.dropped();
/// assert_eq!(limiter.metrics().dropped, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LimiterMetrics {
    /// The current limit.
    pub limit: usize,
    /// Calls in flight, as [`AdaptiveLimiter::in_flight`]: tokens out,
    /// and a waiter handed a slot that has not been polled since.
    pub in_flight: usize,
    /// Calls that ended with [`LimitToken::dropped`].
    pub dropped: usize,
    /// Tokens dropped without a verdict.
    pub ignored: usize,
}

/// Error from [`AdaptiveLimiter::try_acquire`]: every slot is taken, or
/// others are waiting for one.
///
/// # Examples
///
/// ```
/// use sluicegate::limit::{AdaptiveLimiter, Fixed, LimitReached};
/// use sluicegate::time::ManualClock;
///
/// let limiter = AdaptiveLimiter::new(ManualClock::new(), Fixed::new(1));
/// let _held = limiter.try_acquire().unwrap();
/// let err: LimitReached = limiter.try_acquire().unwrap_err();
/// assert_eq!(err.to_string(), "concurrency limit reached");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitReached(());

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("concurrency limit reached")
    }
}

impl core::error::Error for LimitReached {}

fn clamp_limit(limit: usize) -> usize {
    limit.clamp(1, Semaphore::MAX_PERMITS)
}

impl<A: LimitAlgorithm, C: Clock> AdaptiveLimiter<A, C> {
    /// A limiter run by `algorithm`, timing calls on `clock`, starting at
    /// the algorithm's limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Vegas};
    /// use sluicegate::time::StdClock;
    ///
    /// let limiter = AdaptiveLimiter::new(StdClock, Vegas::new());
    /// assert_eq!(limiter.limit(), 20);
    /// ```
    pub fn new(clock: C, algorithm: A) -> Self {
        Self::build(
            clock,
            algorithm,
            DefaultRawMutex::new(),
            DefaultRawMutex::new(),
        )
    }
}

impl<A: LimitAlgorithm, C: Clock, L: ScopedRawMutex> AdaptiveLimiter<A, C, L> {
    /// [`new`](AdaptiveLimiter::new) with the slots' queue behind
    /// `raw_mutex`, and the algorithm behind a second lock of the same
    /// type, made with [`ConstInit`] (see [`raw_mutex`](crate::raw_mutex)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::raw_mutex::LocalRawMutex;
    /// use sluicegate::time::ManualClock;
    ///
    /// // Every task on one executor: no synchronisation needed.
    /// let limiter = AdaptiveLimiter::new_with_raw_mutex(ManualClock::new(), Aimd::new(), LocalRawMutex::new());
    /// limiter.try_acquire().unwrap().success();
    /// ```
    pub fn new_with_raw_mutex(clock: C, algorithm: A, raw_mutex: L) -> Self
    where
        L: ConstInit,
    {
        Self::build(clock, algorithm, raw_mutex, L::INIT)
    }

    fn build(clock: C, algorithm: A, slots: L, core: L) -> Self {
        let limit = clamp_limit(algorithm.limit());
        let published = algorithm.unchanged_by();
        Self {
            quiet: Quiet::new(published),
            slots: Semaphore::new_with_raw_mutex(limit, slots),
            core: Lock::new(
                Core {
                    algorithm,
                    limit,
                    dropped: 0,
                    published,
                },
                core,
            ),
            limit: AtomicUsize::new(limit),
            ignored: AtomicUsize::new(0),
            clock,
        }
    }

    /// Waits for a slot, in FIFO order.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair, as [`Semaphore::acquire`]: a dropped waiter
    /// gives back the slot it may have been handed, and its turn passes on.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Gradient2};
    /// use sluicegate::time::ManualClock;
    ///
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Gradient2::new());
    /// let token = futures_lite::future::block_on(limiter.acquire());
    /// token.success();
    /// ```
    pub fn acquire(&self) -> AdaptiveLimiterAcquire<'_, A, C, L> {
        AdaptiveLimiterAcquire {
            limiter: self,
            inner: self.slots.acquire(),
        }
    }

    /// Takes a slot if one is free and nobody waits.
    ///
    /// # Errors
    ///
    /// [`LimitReached`] if every slot is taken or others are queued.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Fixed};
    /// use sluicegate::time::ManualClock;
    ///
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Fixed::new(1));
    /// let token = limiter.try_acquire().unwrap();
    /// assert!(limiter.try_acquire().is_err());
    /// token.success();
    /// assert!(limiter.try_acquire().is_ok());
    /// ```
    pub fn try_acquire(&self) -> Result<LimitToken<'_, A, C, L>, LimitReached> {
        match self.slots.try_acquire() {
            Ok(permit) => Ok(self.admit(permit)),
            Err(_) => Err(LimitReached(())),
        }
    }

    #[inline]
    fn admit<'a>(&'a self, permit: SemaphorePermit<'a, L>) -> LimitToken<'a, A, C, L> {
        // The slots taken, this one included: no count of our own to keep.
        // No debt is owed when a slot is handed out (it is paid first).
        let available = self.slots.available_permits();
        let in_flight = self.limit.load(Acquire).saturating_sub(available).max(1);
        // Before the permit is forgotten: a clock that panics leaves the
        // permit to give the slot back.
        let start = self.clock.now();
        // The token gives the slot back itself (`Semaphore::release`).
        core::mem::forget(permit);
        LimitToken {
            limiter: self,
            start,
            in_flight,
        }
    }

    /// The current limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// assert_eq!(AdaptiveLimiter::new(ManualClock::new(), Aimd::new()).limit(), 20);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit.load(Acquire)
    }

    /// Calls in flight: the slots taken, by tokens out and by a waiter
    /// handed a slot that has not been polled since.
    ///
    /// Exact while no limit change is under way; read during one, it may be
    /// off by that change.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
    /// let _t = limiter.try_acquire().unwrap();
    /// assert_eq!(limiter.in_flight(), 1);
    /// ```
    pub fn in_flight(&self) -> usize {
        self.slots_taken()
    }

    /// A snapshot of the limit, the calls in flight and the verdicts so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
    /// limiter.try_acquire().unwrap().dropped();
    /// let m = limiter.metrics();
    /// assert_eq!((m.limit, m.dropped), (20, 1)); // already at Netflix's minimum of 20
    /// ```
    pub fn metrics(&self) -> LimiterMetrics {
        let (limit, dropped) = self.core.with(|c| (c.limit, c.dropped));
        LimiterMetrics {
            limit,
            in_flight: self.in_flight(),
            dropped,
            ignored: self.ignored.load(Acquire),
        }
    }

    /// Runs `f` on the algorithm (under the limiter's lock: keep it short),
    /// e.g. to read [`Vegas::rtt_noload`](super::Vegas::rtt_noload).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Gradient2};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Gradient2::new());
    /// assert_eq!(limiter.with_algorithm(|g| g.long_rtt()), std::time::Duration::ZERO);
    /// ```
    pub fn with_algorithm<R>(&self, f: impl FnOnce(&A) -> R) -> R {
        self.core.with(|c| f(&c.algorithm))
    }

    /// The clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
    /// assert_eq!(limiter.clock().now(), std::time::Duration::ZERO);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Feeds one sample and resizes the slots to the new limit.
    fn record(&self, sample: Sample) {
        let (old, new) = self.core.with(|c| {
            let new = clamp_limit(c.algorithm.on_sample(sample));
            if sample.dropped {
                c.dropped += 1;
            }
            let old = core::mem::replace(&mut c.limit, new);
            // Published before the limit: a thread that reads the new limit
            // then finds the new answer too, so its own next verdict is
            // never judged by the state before one it has already seen.
            self.quiet
                .publish(&mut c.published, c.algorithm.unchanged_by());
            self.limit.store(new, Release);
            (old, new)
        });
        // Outside the lock: a grown limit wakes waiters. Adds and forgets
        // commute (an add pays a forget's debt first), so two releases
        // that resize in either order leave the same number of slots.
        if new > old {
            self.slots.add_permits(new - old);
        } else if new < old {
            self.slots.forget_permits(old - new);
        }
    }
}

impl<A, C: Clock, L: ScopedRawMutex> AdaptiveLimiter<A, C, L> {
    fn slots_taken(&self) -> usize {
        let (available, owed) = self.slots.available_and_owed();
        (self.limit.load(Acquire) + owed).saturating_sub(available)
    }
}

impl<A, C: Clock, L: ScopedRawMutex> fmt::Debug for AdaptiveLimiter<A, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveLimiter")
            .field("limit", &self.limit.load(Relaxed))
            .field("in_flight", &self.slots_taken())
            .finish_non_exhaustive()
    }
}

/// An admitted call's slot in an [`AdaptiveLimiter`]; say how the call
/// went when it ends.
///
/// [`success`](Self::success) and [`dropped`](Self::dropped) feed the
/// call's RTT to the limiter's algorithm; dropping the token without a
/// verdict (a cancelled call) counts as *ignored* and feeds nothing. The
/// slot is given back either way.
///
/// # Examples
///
/// ```
/// use sluicegate::limit::{AdaptiveLimiter, Aimd, Outcome};
/// use sluicegate::time::ManualClock;
///
/// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
/// fn call() -> Result<(), &'static str> { Err("503") }
/// let token = limiter.try_acquire().unwrap();
/// match call() {
///     Ok(()) => token.success(),
///     Err("503") => token.dropped(), // overloaded: back off
///     Err(_) => token.record(Outcome::Ignored), // says nothing about load
/// }
/// assert_eq!(limiter.metrics().dropped, 1);
/// ```
#[must_use = "dropping the token at once ends the call as ignored"]
pub struct LimitToken<'a, A: LimitAlgorithm, C: Clock, L: ScopedRawMutex = DefaultRawMutex> {
    /// The token holds one of the limiter's slots (a permit of its
    /// semaphore, forgotten at admission): `finish` gives it back, once,
    /// as the token is consumed or dropped.
    limiter: &'a AdaptiveLimiter<A, C, L>,
    start: C::Instant,
    in_flight: usize,
}

impl<A: LimitAlgorithm, C: Clock, L: ScopedRawMutex> LimitToken<'_, A, C, L> {
    /// The call succeeded: its RTT is a sample.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new().limits(1, 50));
    /// let tokens: Vec<_> = (0..20).map(|_| limiter.try_acquire().unwrap()).collect();
    /// tokens.into_iter().for_each(|t| t.success()); // busy and fine: grow
    /// assert!(limiter.limit() > 20);
    /// ```
    pub fn success(self) {
        self.record(Outcome::Success);
    }

    /// The server shed the call (overloaded, or it timed out): a sample
    /// that tells the algorithm to back off.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new().limits(1, 50));
    /// limiter.try_acquire().unwrap().dropped();
    /// assert_eq!(limiter.limit(), 18);
    /// ```
    pub fn dropped(self) {
        self.record(Outcome::Failure);
    }

    /// Ends the call with `outcome`: [`Outcome::Success`] is
    /// [`success`](Self::success), [`Outcome::Failure`] is
    /// [`dropped`](Self::dropped), [`Outcome::Ignored`] feeds nothing (as
    /// dropping the token does).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd, Outcome};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
    /// limiter.try_acquire().unwrap().record(Outcome::Ignored);
    /// assert_eq!(limiter.metrics().ignored, 1);
    /// ```
    pub fn record(self, outcome: Outcome) {
        // `finish` instead of `Drop`, which would finish it a second time.
        core::mem::ManuallyDrop::new(self).finish(outcome);
    }

    /// The calls in flight when this one was admitted, itself included:
    /// the slots taken just after its own (see
    /// [`AdaptiveLimiter::in_flight`]), read without a lock. Exact when
    /// nothing raced the admission; under concurrent admissions and
    /// verdicts, a close estimate (never below 1). An admission while a
    /// limit change is being applied to the slots reads low by a shrink
    /// (or high by a growth) still under way.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{AdaptiveLimiter, Aimd};
    /// use sluicegate::time::ManualClock;
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Aimd::new());
    /// let _a = limiter.try_acquire().unwrap();
    /// assert_eq!(limiter.try_acquire().unwrap().in_flight_at_start(), 2);
    /// ```
    pub fn in_flight_at_start(&self) -> usize {
        self.in_flight
    }

    /// Records `outcome` and gives the slot back. Called exactly once per
    /// token: by `record` (with `Drop` skipped) or by `Drop`.
    fn finish(&self, outcome: Outcome) {
        let limiter = self.limiter;
        // The slot goes back after the verdict, so that a shrink the
        // verdict causes is paid for by this very slot; and also if the
        // algorithm panics.
        let _release = Defer::new(|| limiter.slots.release(1));
        match outcome {
            Outcome::Ignored => {
                limiter.ignored.fetch_add(1, Relaxed);
            }
            Outcome::Success | Outcome::Failure => {
                let rtt_ns = limiter.clock.now().saturating_nanos_since(self.start);
                // A success that changes nothing: no lock, no sample.
                if outcome != Outcome::Success || !limiter.quiet.covers(self.in_flight, rtt_ns) {
                    limiter.record(Sample {
                        rtt: Duration::from_nanos(rtt_ns),
                        in_flight: self.in_flight,
                        dropped: outcome == Outcome::Failure,
                    });
                }
            }
        }
    }
}

impl<A: LimitAlgorithm, C: Clock, L: ScopedRawMutex> Drop for LimitToken<'_, A, C, L> {
    fn drop(&mut self) {
        self.finish(Outcome::Ignored);
    }
}

impl<A: LimitAlgorithm, C: Clock, L: ScopedRawMutex> fmt::Debug for LimitToken<'_, A, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LimitToken")
            .field("in_flight_at_start", &self.in_flight)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`AdaptiveLimiter::acquire`].
    ///
    /// # Cancel safety
    ///
    /// As the semaphore's [`Acquire`](crate::futures::Acquire): dropping
    /// it, queued or after being handed a slot, gives the slot back and
    /// wakes the next waiter. No token was made, so nothing is counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::limit::{AdaptiveLimiter, Fixed};
    /// use sluicegate::time::ManualClock;
    ///
    /// let limiter = AdaptiveLimiter::new(ManualClock::new(), Fixed::new(1));
    /// let held = limiter.try_acquire().unwrap();
    /// let mut waiting = Box::pin(limiter.acquire());
    /// assert!(block_on(poll_once(&mut waiting)).is_none()); // queued
    /// held.success(); // the slot is handed to `waiting`
    /// let token = block_on(waiting);
    /// assert_eq!(token.in_flight_at_start(), 1);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct AdaptiveLimiterAcquire<'a, A, C: Clock, L: ScopedRawMutex = DefaultRawMutex> {
        limiter: &'a AdaptiveLimiter<A, C, L>,
        #[pin]
        inner: Acquire<'a, L>,
    }
}

impl<'a, A: LimitAlgorithm, C: Clock, L: ScopedRawMutex> Future
    for AdaptiveLimiterAcquire<'a, A, C, L>
{
    type Output = LimitToken<'a, A, C, L>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(Ok(permit)) => Poll::Ready(this.limiter.admit(permit)),
            Poll::Ready(Err(_)) => unreachable!("the limiter never closes its semaphore"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<A, C: Clock, L: ScopedRawMutex> fmt::Debug for AdaptiveLimiterAcquire<'_, A, C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveLimiterAcquire")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}
