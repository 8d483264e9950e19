//! A circuit breaker ([`CircuitBreaker`]): asyncio's circuit-breaker pattern.
//!
//! Closed, calls go through and failures are counted; after
//! `failure_threshold` consecutive failures (or a failure rate over a
//! window) the breaker opens and rejects calls without running them; after
//! the recovery timeout it lets trial calls through (half-open); enough
//! trial successes close it, any trial failure opens it again.
//!
//! The logic is a pure, sans-IO [`StateMachine`] (time and outcomes in,
//! decisions out); [`CircuitBreaker`] shares it between tasks and threads
//! behind a short lock, with a lock-free fast path for the closed state, and
//! adds RAII permits ([`BreakerPermit`]) and an async
//! [`call`](CircuitBreaker::call).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::breaker::{BreakerError, CircuitBreaker, Rejected, State};
//! use sluicegate::time::ManualClock;
//!
//! let clock = ManualClock::new();
//! let breaker = CircuitBreaker::new(clock.clone(), 3, Duration::from_secs(60));
//! futures_lite::future::block_on(async {
//!     for _ in 0..3 {
//!         let r = breaker.call(async { Err::<(), _>("timeout") }).await;
//!         assert_eq!(r, Err(BreakerError::Inner("timeout")));
//!     }
//!     assert_eq!(breaker.state(), State::Open);
//!     let r = breaker.call(async { Ok::<_, &str>(1) }).await; // does not run
//!     let open = Rejected::Open { retry_in: Duration::from_secs(60) };
//!     assert_eq!(r, Err(BreakerError::Rejected(open)));
//!
//!     clock.advance(Duration::from_secs(60));
//!     assert_eq!(breaker.call(async { Ok::<_, &str>(2) }).await, Ok(2)); // the trial
//!     assert_eq!(breaker.state(), State::Closed);
//! });
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use pin_project_lite::pin_project;

use crate::defer::Defer;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::raw_mutex::{DefaultRawMutex, Lock, ScopedRawMutex};
use crate::time::{timeout, Clock, Elapsed, Sleeper, Timeout};

mod machine;

pub use machine::{
    BreakerConfig, FailureRate, FixedRecovery, Rejected, State, StateChange, StateMachine, Ticket,
};

// The state word: generation << 2 | tag. Published under the lock after
// every change of the machine, read without it by the fast paths.
const TAG_MASK: usize = 0b11;
/// Closed, and a success changes nothing (no failure counted, no window).
const CLOSED_CLEAN: usize = 0;
/// Closed, and outcomes must be recorded under the lock.
const CLOSED_DIRTY: usize = 1;
const OPEN: usize = 2;
const HALF_OPEN: usize = 3;

fn generation_of(word: usize) -> usize {
    word >> 2
}

/// Error from [`CircuitBreaker::call`]: the breaker turned the call away
/// (with the same [`Rejected`] that [`try_acquire`](CircuitBreaker::try_acquire)
/// returns), or the operation ran and failed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerError, Rejected};
///
/// let open: BreakerError<&str> = BreakerError::Rejected(Rejected::Open { retry_in: Duration::from_secs(5) });
/// assert_eq!(open.to_string(), "circuit breaker is open (next trial in 5s)");
/// assert_eq!(open.retry_in(), Some(Duration::from_secs(5)));
/// assert_eq!(BreakerError::Inner("boom").into_inner(), Some("boom"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerError<E> {
    /// The breaker rejected the call; the operation did not run.
    Rejected(Rejected),
    /// The operation ran and failed with this error.
    Inner(E),
}

impl<E> BreakerError<E> {
    /// The operation's error, or `None` if the call was rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerError, Rejected};
    ///
    /// assert_eq!(BreakerError::Inner("boom").into_inner(), Some("boom"));
    /// let forced = BreakerError::<&str>::Rejected(Rejected::ForcedOpen);
    /// assert_eq!(forced.into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Inner(e) => Some(e),
            Self::Rejected(_) => None,
        }
    }

    /// Why the call was rejected, or `None` if the operation ran.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerError, Rejected};
    ///
    /// let full = BreakerError::<()>::Rejected(Rejected::HalfOpenFull);
    /// assert_eq!(full.rejected(), Some(Rejected::HalfOpenFull));
    /// assert_eq!(BreakerError::Inner(()).rejected(), None);
    /// ```
    pub fn rejected(&self) -> Option<Rejected> {
        match self {
            Self::Rejected(r) => Some(*r),
            Self::Inner(_) => None,
        }
    }

    /// Whether the call was rejected (the operation did not run).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!sluicegate::breaker::BreakerError::Inner(()).is_rejected());
    /// ```
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected(_))
    }

    /// [`Rejected::retry_in`] of a rejection; `None` for an operation's own
    /// error (and for rejections with no known time). Made to be a retry's
    /// `retry_after`: `Retry::new(..).retry_after(BreakerError::retry_in)`
    /// waits out an open breaker's recovery and otherwise follows the
    /// backoff.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerError, CircuitBreaker};
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(30));
    /// let mut calls = 0;
    /// let retry = Retry::new(RetryPolicy::new(Backoff::constant(Duration::from_secs(1))), &clock)
    ///     .retry_after(BreakerError::retry_in);
    /// let r = futures_lite::future::block_on(clock.auto_advance(retry.run(|| {
    ///     calls += 1;
    ///     let outcome = if calls == 1 { Err("down") } else { Ok(calls) };
    ///     breaker.call(async move { outcome })
    /// })));
    /// // The failure opened the breaker: waited 1 s (the backoff), got
    /// // "next trial in 29s", waited that, and the trial succeeded.
    /// assert_eq!(r, Ok(3));
    /// assert_eq!(clock.now(), Duration::from_secs(30));
    /// ```
    pub fn retry_in(&self) -> Option<Duration> {
        self.rejected().and_then(|r| r.retry_in())
    }
}

impl<E> From<Rejected> for BreakerError<E> {
    fn from(r: Rejected) -> Self {
        Self::Rejected(r)
    }
}

impl<E: fmt::Display> fmt::Display for BreakerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(r) => r.fmt(f),
            Self::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for BreakerError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Inner(e) => Some(e),
            // Displayed as the rejection itself: no separate source.
            Self::Rejected(_) => None,
        }
    }
}

/// Decides whether an operation's error counts as a failure of the
/// service; see [`Call::failure_if`]. Errors that do not count
/// are recorded as successes: the service answered. Implemented by
/// `FnMut(&E) -> bool` closures and [`AnyError`].
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::{AnyError, FailureClassifier};
/// let mut server_errors = |status: &u16| *status >= 500;
/// assert!(server_errors.is_failure(&503));
/// assert!(!server_errors.is_failure(&404));
/// assert!(AnyError.is_failure(&404));
/// ```
pub trait FailureClassifier<E> {
    /// `true` if `error` counts as a failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::FailureClassifier;
    /// struct Timeouts;
    /// impl FailureClassifier<std::io::Error> for Timeouts {
    ///     fn is_failure(&mut self, e: &std::io::Error) -> bool {
    ///         e.kind() == std::io::ErrorKind::TimedOut
    ///     }
    /// }
    /// assert!(!Timeouts.is_failure(&std::io::ErrorKind::NotFound.into()));
    /// ```
    fn is_failure(&mut self, error: &E) -> bool;
}

/// The classifier of [`CircuitBreaker::call`]: every error counts as a
/// failure. The same type as [`retry::AnyError`](crate::retry::AnyError),
/// re-exported.
#[doc(no_inline)]
pub use crate::retry::AnyError;

impl<E> FailureClassifier<E> for AnyError {
    #[inline]
    fn is_failure(&mut self, _: &E) -> bool {
        true
    }
}

impl<E, F: FnMut(&E) -> bool> FailureClassifier<E> for F {
    #[inline]
    fn is_failure(&mut self, error: &E) -> bool {
        self(error)
    }
}

/// Called on every change of state; see
/// [`CircuitBreaker::on_state_change`]. Implemented by `Fn(StateChange)`
/// closures and [`NoHook`].
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::{State, StateChange, StateChangeHook};
/// let hook = |c: StateChange| assert_eq!(c.to, State::Open);
/// hook.on_state_change(StateChange { from: State::Closed, to: State::Open });
/// ```
pub trait StateChangeHook {
    /// The breaker went from `change.from` to `change.to`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use sluicegate::breaker::{State, StateChange, StateChangeHook};
    /// struct CountOpenings(AtomicUsize);
    /// impl StateChangeHook for CountOpenings {
    ///     fn on_state_change(&self, change: StateChange) {
    ///         if change.to == State::Open {
    ///             self.0.fetch_add(1, Ordering::Relaxed);
    ///         }
    ///     }
    /// }
    /// let hook = CountOpenings(AtomicUsize::new(0));
    /// hook.on_state_change(StateChange { from: State::HalfOpen, to: State::Open });
    /// assert_eq!(hook.0.load(Ordering::Relaxed), 1);
    /// ```
    fn on_state_change(&self, change: StateChange);
}

/// The default [`StateChangeHook`]: does nothing. The same type as
/// [`retry::NoHook`](crate::retry::NoHook), re-exported.
#[doc(no_inline)]
pub use crate::retry::NoHook;

impl StateChangeHook for NoHook {
    #[inline]
    fn on_state_change(&self, _: StateChange) {}
}

/// A boxed state-change hook, for a breaker kept in a struct: its type is
/// `CircuitBreaker<Clock, BoxedHook>` whatever closure it holds.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sluicegate::breaker::{BoxedHook, CircuitBreaker, State};
/// use sluicegate::time::StdClock;
///
/// struct Client {
///     breaker: CircuitBreaker<StdClock, BoxedHook>,
/// }
///
/// let trips = Arc::new(AtomicUsize::new(0));
/// let counter = trips.clone();
/// let client = Client {
///     breaker: CircuitBreaker::new(StdClock, 1, Duration::from_secs(30)).on_state_change(
///         BoxedHook::new(move |change| {
///             if change.to == State::Open {
///                 counter.fetch_add(1, Ordering::Relaxed);
///             }
///         }),
///     ),
/// };
/// client.breaker.try_acquire().unwrap().failure();
/// assert_eq!(trips.load(Ordering::Relaxed), 1);
/// ```
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub struct BoxedHook(alloc::boxed::Box<dyn Fn(StateChange) + Send + Sync>);

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl BoxedHook {
    /// Boxes `hook`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BoxedHook, State, StateChange, StateChangeHook};
    /// let hook = BoxedHook::new(|change| println!("breaker: {change}"));
    /// hook.on_state_change(StateChange { from: State::Closed, to: State::Open });
    /// ```
    pub fn new(hook: impl Fn(StateChange) + Send + Sync + 'static) -> Self {
        Self(alloc::boxed::Box::new(hook))
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl StateChangeHook for BoxedHook {
    #[inline]
    fn on_state_change(&self, change: StateChange) {
        (self.0)(change)
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl fmt::Debug for BoxedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxedHook").finish_non_exhaustive()
    }
}

impl<F: Fn(StateChange)> StateChangeHook for F {
    #[inline]
    fn on_state_change(&self, change: StateChange) {
        self(change)
    }
}

/// A snapshot of a breaker's counters; see [`CircuitBreaker::metrics`].
///
/// Calls are counted when they finish, so a call still in flight is in no
/// counter yet; `calls == successes + failures + cancelled`. Counters wrap
/// on overflow.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerMetrics, CircuitBreaker};
/// use sluicegate::time::ManualClock;
///
/// let breaker = CircuitBreaker::new(ManualClock::new(), 5, Duration::from_secs(1));
/// let in_flight = breaker.try_acquire().unwrap();
/// drop(breaker.try_acquire().unwrap()); // cancelled
/// let m: BreakerMetrics = breaker.metrics();
/// assert_eq!((m.calls, m.cancelled), (1, 1)); // `in_flight` is not counted yet
/// in_flight.success();
/// let m = breaker.metrics();
/// assert_eq!(m.calls, m.successes + m.failures + m.cancelled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BreakerMetrics {
    /// The state (an open breaker past its recovery timeout reads
    /// half-open).
    pub state: State,
    /// Admitted calls that have finished: succeeded, failed or were dropped.
    pub calls: usize,
    /// Admitted calls that succeeded (or failed with an error the
    /// classifier does not count).
    pub successes: usize,
    /// Admitted calls that failed.
    pub failures: usize,
    /// Admitted calls dropped before they reported (cancelled).
    pub cancelled: usize,
    /// Calls rejected without running.
    pub rejections: usize,
}

/// A circuit breaker shared by reference across tasks and threads.
///
/// [`call`](Self::call) runs a future through it; [`try_acquire`](Self::try_acquire)
/// hands out an RAII [`BreakerPermit`] for code that reports the outcome
/// itself. The clock `C` only needs to tell the time (any [`Clock`]: a
/// runtime adapter, [`ManualClock`](crate::time::ManualClock), `StdClock`);
/// the breaker never sleeps.
///
/// The type parameters, most often named first: `C` the clock, `H` the
/// [state-change hook](Self::on_state_change) ([`NoHook`] unless set;
/// [`BoxedHook`] to store one without naming a closure type), `B` the
/// recovery schedule ([`FixedRecovery`] unless
/// [`with_config`](Self::with_config) is given another), `L` the lock of the
/// state machine ([`DefaultRawMutex`] unless
/// [`with_raw_mutex`](Self::with_raw_mutex) chose another). So a breaker
/// kept in a struct reads `CircuitBreaker<StdClock>`, or
/// `CircuitBreaker<StdClock, BoxedHook>` with a hook.
///
/// # Fast path
///
/// In the closed state, with no failure counted and no failure-rate window,
/// admitting a call and recording its success take no lock and read no
/// clock: two atomic loads and one counter increment. Failures,
/// half-open trials, the open state and the failure-rate window go through
/// the [`StateMachine`] under a short lock (no user code runs under it; the
/// state-change hook runs after it is released).
///
/// # Concurrency
///
/// Outcomes are applied in the order they reach the lock. A call admitted in
/// one state that reports after the breaker has changed state is counted in
/// the metrics but does not move the state machine (a slow call admitted
/// while closed cannot close a half-open breaker). The state-change hook may
/// run concurrently from several threads, so under contention two hook
/// calls can arrive out of order.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerConfig, CircuitBreaker, State};
/// use sluicegate::time::ManualClock;
///
/// let clock = ManualClock::new();
/// let breaker = CircuitBreaker::with_config(
///     &clock,
///     BreakerConfig::new().failure_threshold(2).half_open_max_calls(1),
///     core::iter::repeat(Duration::from_secs(30)),
/// );
/// breaker.try_acquire().unwrap().failure();
/// breaker.try_acquire().unwrap().failure();
/// assert!(breaker.try_acquire().is_err());
///
/// clock.advance(Duration::from_secs(30));
/// let trial = breaker.try_acquire().unwrap();
/// assert!(breaker.try_acquire().is_err()); // one trial at a time
/// drop(trial); // dropped: neither success nor failure, slot given back
/// breaker.try_acquire().unwrap().success();
/// assert_eq!(breaker.state(), State::Closed);
/// ```
pub struct CircuitBreaker<C: Clock, H = NoHook, B = FixedRecovery, L = DefaultRawMutex> {
    word: AtomicUsize,
    machine: Lock<StateMachine<C::Instant, B>, L>,
    clock: C,
    hook: H,
    successes: AtomicUsize,
    failures: AtomicUsize,
    cancelled: AtomicUsize,
    rejections: AtomicUsize,
}

impl<C: Clock> CircuitBreaker<C> {
    /// asyncio's breaker: opens after `failure_threshold` consecutive
    /// failures, for `recovery_timeout`, then admits one trial call.
    ///
    /// # Panics
    ///
    /// If `failure_threshold` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 3, Duration::from_secs(30));
    /// for _ in 0..2 {
    ///     breaker.try_acquire().unwrap().failure();
    /// }
    /// assert_eq!(breaker.state(), State::Closed); // two failures in a row: still closed
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.state(), State::Open);
    /// ```
    pub fn new(clock: C, failure_threshold: u32, recovery_timeout: Duration) -> Self {
        Self::with_config(
            clock,
            BreakerConfig::new().failure_threshold(failure_threshold),
            core::iter::repeat(recovery_timeout),
        )
    }
}

impl<C: Clock, B: Iterator<Item = Duration> + Clone> CircuitBreaker<C, NoHook, B> {
    /// A breaker with `config`, opening for the durations `recovery` yields
    /// (`core::iter::repeat(d)` for a fixed timeout, a
    /// [`Backoff`](crate::retry::Backoff) for longer waits after repeated
    /// trips).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, CircuitBreaker};
    /// use sluicegate::retry::Backoff;
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::with_config(
    ///     ManualClock::new(),
    ///     BreakerConfig::new().failure_threshold(3),
    ///     Backoff::exponential(Duration::from_secs(10)).max_delay(Duration::from_secs(300)),
    /// );
    /// # drop(breaker);
    /// ```
    pub fn with_config(clock: C, config: BreakerConfig, recovery: B) -> Self {
        let machine = StateMachine::new(config, recovery);
        Self {
            word: AtomicUsize::new(word_of(&machine)),
            machine: Lock::new(machine, DefaultRawMutex::new()),
            clock,
            hook: NoHook,
            successes: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            cancelled: AtomicUsize::new(0),
            rejections: AtomicUsize::new(0),
        }
    }

    /// Calls `hook` on every change of state (after the breaker's lock is
    /// released; see [Concurrency](Self#concurrency)). Set it before
    /// sharing the breaker. The hook's type becomes the breaker's second
    /// type parameter; to keep the breaker in a struct, box the hook with
    /// [`BoxedHook`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State, StateChange};
    /// use sluicegate::time::ManualClock;
    ///
    /// let log = Mutex::new(Vec::new());
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1))
    ///     .on_state_change(|c: StateChange| log.lock().unwrap().push(c.to));
    /// breaker.try_acquire().unwrap().failure();
    /// breaker.reset();
    /// assert_eq!(*log.lock().unwrap(), [State::Open, State::Closed]);
    /// ```
    pub fn on_state_change<H: StateChangeHook>(self, hook: H) -> CircuitBreaker<C, H, B> {
        CircuitBreaker {
            word: self.word,
            machine: self.machine,
            clock: self.clock,
            hook,
            successes: self.successes,
            failures: self.failures,
            cancelled: self.cancelled,
            rejections: self.rejections,
        }
    }
}

impl<C: Clock, H, B> CircuitBreaker<C, H, B> {
    /// Guards the breaker's state machine with `raw_mutex` instead of the
    /// [`DefaultRawMutex`] (see [`raw_mutex`](crate::raw_mutex)): a
    /// [`CriticalSectionRawMutex`](crate::raw_mutex::CriticalSectionRawMutex)
    /// for a breaker shared with an interrupt handler, a
    /// [`LocalRawMutex`](crate::raw_mutex::LocalRawMutex) for one used on a
    /// single thread. Call it before sharing the breaker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::CircuitBreaker;
    /// use sluicegate::raw_mutex::LocalRawMutex;
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1))
    ///     .with_raw_mutex(LocalRawMutex::new());
    /// breaker.try_acquire().unwrap().failure();
    /// assert!(breaker.try_acquire().is_err());
    /// ```
    pub fn with_raw_mutex<L: ScopedRawMutex>(self, raw_mutex: L) -> CircuitBreaker<C, H, B, L> {
        CircuitBreaker {
            word: self.word,
            machine: Lock::new(self.machine.into_inner(), raw_mutex),
            clock: self.clock,
            hook: self.hook,
            successes: self.successes,
            failures: self.failures,
            cancelled: self.cancelled,
            rejections: self.rejections,
        }
    }
}

fn word_of<I: crate::time::Timestamp, B: Iterator<Item = Duration> + Clone>(
    m: &StateMachine<I, B>,
) -> usize {
    let tag = match m.state() {
        State::Closed if m.closed_is_clean() => CLOSED_CLEAN,
        State::Closed => CLOSED_DIRTY,
        State::Open => OPEN,
        State::HalfOpen => HALF_OPEN,
    };
    m.generation() << 2 | tag
}

impl<C, H, B, L> CircuitBreaker<C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    /// Runs `f` on the machine under the lock, republishes the state word,
    /// and reports a change of state to the hook once the lock is released.
    fn with_machine<R>(&self, f: impl FnOnce(&mut StateMachine<C::Instant, B>) -> R) -> R {
        let (result, change) = self.locked(f);
        self.report_change(change);
        result
    }

    /// [`with_machine`](Self::with_machine) without calling the hook: the
    /// caller reports the change once what it got is safe from a panicking
    /// hook.
    fn locked<R>(
        &self,
        f: impl FnOnce(&mut StateMachine<C::Instant, B>) -> R,
    ) -> (R, Option<StateChange>) {
        // If `f` panics (a user's recovery schedule), the lock is released
        // by then: publish what the machine holds, so that the lock-free
        // paths do not go on from a stale word.
        let republish = Defer::new(|| self.machine.with(|m| self.word.store(word_of(m), Release)));
        let locked = self.machine.with(|m| {
            let (generation, from) = (m.generation(), m.state());
            let result = f(m);
            self.word.store(word_of(m), Release);
            let to = m.state();
            let change =
                (m.generation() != generation && from != to).then_some(StateChange { from, to });
            (result, change)
        });
        republish.cancel();
        locked
    }

    fn report_change(&self, change: Option<StateChange>) {
        if let Some(change) = change {
            self.hook.on_state_change(change);
        }
    }

    /// Asks to run a call now. Keep the permit while the call runs, then
    /// report with [`BreakerPermit::success`] or
    /// [`failure`](BreakerPermit::failure); dropping it reports nothing
    /// (and gives a half-open trial slot back).
    ///
    /// # Errors
    ///
    /// [`Rejected`] if the breaker is open (or forced open), or half-open
    /// with every trial slot taken: the same value that
    /// [`call`](Self::call) wraps in [`BreakerError::Rejected`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, Rejected};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(30));
    /// breaker.try_acquire().unwrap().failure();
    /// clock.advance(Duration::from_secs(10));
    /// let rejected = breaker.try_acquire().unwrap_err();
    /// assert_eq!(rejected, Rejected::Open { retry_in: Duration::from_secs(20) });
    /// assert_eq!(rejected.to_string(), "circuit breaker is open (next trial in 20s)");
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Result<BreakerPermit<'_, C, H, B, L>, Rejected> {
        let word = self.word.load(Acquire);
        let ticket = if word & TAG_MASK <= CLOSED_DIRTY {
            // Closed: admitting changes nothing in the machine.
            Ticket {
                generation: generation_of(word),
                trial: false,
            }
        } else {
            return self.acquire_slow();
        };
        Ok(BreakerPermit {
            breaker: self,
            ticket: Some(ticket),
        })
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self) -> Result<BreakerPermit<'_, C, H, B, L>, Rejected> {
        let now = self.clock.now();
        let (result, change) = self.locked(|m| m.on_request(now));
        // The permit exists before the hook runs: if the hook panics, the
        // permit's drop gives back the trial slot the transition admitted.
        let result = result.map(|ticket| BreakerPermit {
            breaker: self,
            ticket: Some(ticket),
        });
        if result.is_err() {
            self.rejections.fetch_add(1, Relaxed);
        }
        self.report_change(change);
        result
    }

    #[inline]
    fn report_success(&self, ticket: Ticket) {
        self.successes.fetch_add(1, Relaxed);
        if !ticket.trial {
            let word = self.word.load(Acquire);
            // Clean closed state: nothing to record. Another generation:
            // a late report, which the machine would ignore.
            if word & TAG_MASK == CLOSED_CLEAN || generation_of(word) != ticket.generation {
                return;
            }
        }
        self.success_slow(ticket);
    }

    #[cold]
    #[inline(never)]
    fn success_slow(&self, ticket: Ticket) {
        self.with_machine(|m| m.on_success(ticket));
    }

    #[cold]
    #[inline(never)]
    fn report_failure(&self, ticket: Ticket) {
        self.failures.fetch_add(1, Relaxed);
        if !ticket.trial && generation_of(self.word.load(Acquire)) != ticket.generation {
            return;
        }
        let now = self.clock.now();
        self.with_machine(|m| m.on_failure(ticket, now));
    }

    #[cold]
    #[inline(never)]
    fn report_cancel(&self, ticket: Ticket) {
        self.cancelled.fetch_add(1, Relaxed);
        // Only a trial holds anything (its slot).
        if ticket.trial {
            self.with_machine(|m| m.on_cancel(ticket));
        }
    }

    /// Runs `future` through the breaker, counting every error as a
    /// failure; [`failure_if`](Call::failure_if) on the returned future
    /// picks which errors count instead. The future is not polled at all
    /// when the call is rejected.
    ///
    /// # Errors
    ///
    /// [`BreakerError::Rejected`] if the breaker turned the call away (why,
    /// in the [`Rejected`]), [`BreakerError::Inner`] with the operation's
    /// own error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops the operation; the call counts as
    /// neither success nor failure, and a half-open trial gives its slot
    /// back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1));
    /// futures_lite::future::block_on(async {
    ///     assert_eq!(breaker.call(async { Ok::<_, ()>(5) }).await, Ok(5));
    ///     assert!(breaker.call(async { Err::<(), _>("down") }).await.is_err());
    ///     let ran = std::cell::Cell::new(false);
    ///     let r = breaker.call(async { ran.set(true); Ok::<_, &str>(()) }).await;
    ///     assert!(r.unwrap_err().is_rejected());
    ///     assert!(!ran.get()); // an open breaker runs nothing
    /// });
    /// assert_eq!(breaker.state(), State::Open);
    /// ```
    ///
    /// # With a timeout
    ///
    /// `breaker.call(timeout(timer, d, op()))` compiles, but the breaker
    /// then sees a `Result<Result<T, E>, Elapsed>`: only the timeout is an
    /// error to it, and `op`'s own errors count as successes. Flatten the
    /// two into one `Result` inside the call, or let
    /// [`call_timeout`](Self::call_timeout) do it:
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerError, CircuitBreaker};
    /// use sluicegate::time::{timeout, ManualClock};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum ApiError { Down, TimedOut }
    /// async fn op() -> Result<(), ApiError> { Err(ApiError::Down) }
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 5, Duration::from_secs(60));
    /// let second = Duration::from_secs(1);
    /// futures_lite::future::block_on(async {
    ///     // Wrong: `Ok(Err(Down))` is a success to the breaker.
    ///     let nested = breaker.call(timeout(&clock, second, op())).await;
    ///     assert_eq!(nested, Ok(Err(ApiError::Down)));
    ///     assert_eq!(breaker.metrics().failures, 0);
    ///
    ///     // Right: one `Result`, so both errors count.
    ///     let flat = breaker
    ///         .call(async { timeout(&clock, second, op()).await.unwrap_or(Err(ApiError::TimedOut)) })
    ///         .await;
    ///     assert_eq!(flat, Err(BreakerError::Inner(ApiError::Down)));
    ///     assert_eq!(breaker.metrics().failures, 1);
    /// });
    /// ```
    pub fn call<F, T, E>(&self, future: F) -> Call<'_, C, H, B, L, F::IntoFuture, AnyError>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        Call {
            admission: Admission {
                breaker: self,
                phase: Phase::Start,
            },
            future: future.into_future(),
            classifier: AnyError,
        }
    }

    /// Runs `future` through the breaker with a time limit of `duration`
    /// (counted from this call, as [`timeout`]'s is), and counts both
    /// `future`'s own errors and the timeout as failures: the timeout
    /// becomes an `E` through `From<Elapsed>`. See [`call`](Self::call) for
    /// why `call(timeout(..))` does not do that; as on `call`,
    /// [`failure_if`](CallTimeout::failure_if) picks which errors count.
    ///
    /// # Errors
    ///
    /// [`BreakerError::Rejected`] if the breaker turned the call away,
    /// [`BreakerError::Inner`] with the operation's own error or
    /// `E::from(Elapsed)` if the time ran out first.
    ///
    /// # Cancel safety
    ///
    /// As [`call`](Self::call); the timeout's sleep is dropped with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerError, CircuitBreaker, State};
    /// use sluicegate::time::{Elapsed, ManualClock};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum ApiError { Down, TimedOut }
    /// impl From<Elapsed> for ApiError {
    ///     fn from(_: Elapsed) -> Self { ApiError::TimedOut }
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 2, Duration::from_secs(60));
    /// let second = Duration::from_secs(1);
    /// let down = breaker.call_timeout(&clock, second, async { Err::<(), _>(ApiError::Down) });
    /// assert_eq!(futures_lite::future::block_on(down), Err(BreakerError::Inner(ApiError::Down)));
    /// let hangs = breaker.call_timeout(&clock, second, std::future::pending::<Result<(), ApiError>>());
    /// let r = futures_lite::future::block_on(clock.auto_advance(hangs));
    /// assert_eq!(r, Err(BreakerError::Inner(ApiError::TimedOut)));
    /// assert_eq!(breaker.state(), State::Open); // two failures
    /// ```
    pub fn call_timeout<Tm, F, T, E>(
        &self,
        timer: Tm,
        duration: Duration,
        future: F,
    ) -> CallTimeout<'_, C, H, B, L, F::IntoFuture, Tm::Sleep, AnyError>
    where
        Tm: Sleeper,
        F: IntoFuture<Output = Result<T, E>>,
        E: From<Elapsed>,
    {
        CallTimeout {
            call: self.call(Flatten {
                timeout: timeout(timer, duration, future),
            }),
        }
    }

    /// The current state. An open breaker whose recovery timeout has ended
    /// moves to half-open here (as the next call would make it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(30));
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.state(), State::Open);
    /// clock.advance(Duration::from_secs(30));
    /// assert_eq!(breaker.state(), State::HalfOpen);
    /// ```
    pub fn state(&self) -> State {
        match self.word.load(Acquire) & TAG_MASK {
            CLOSED_CLEAN | CLOSED_DIRTY => State::Closed,
            HALF_OPEN => State::HalfOpen,
            _ => {
                let now = self.clock.now();
                self.with_machine(|m| m.state_at(now))
            }
        }
    }

    /// A snapshot of the counters and the state.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().success();
    /// breaker.try_acquire().unwrap().failure();
    /// assert!(breaker.try_acquire().is_err());
    /// let m = breaker.metrics();
    /// assert_eq!((m.calls, m.successes, m.failures, m.rejections), (2, 1, 1, 1));
    /// assert_eq!(m.state, State::Open);
    /// ```
    pub fn metrics(&self) -> BreakerMetrics {
        let successes = self.successes.load(Relaxed);
        let failures = self.failures.load(Relaxed);
        let cancelled = self.cancelled.load(Relaxed);
        BreakerMetrics {
            state: self.state(),
            calls: successes.wrapping_add(failures).wrapping_add(cancelled),
            successes,
            failures,
            cancelled,
            rejections: self.rejections.load(Relaxed),
        }
    }

    /// Opens the breaker until [`reset`](Self::reset): every call is
    /// rejected with [`Rejected::ForcedOpen`] (which has no
    /// [`retry_in`](Rejected::retry_in)), and no trial is made.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, Rejected, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 3, Duration::from_secs(1));
    /// breaker.force_open();
    /// clock.advance(Duration::from_secs(3600));
    /// assert_eq!(breaker.try_acquire().unwrap_err(), Rejected::ForcedOpen);
    /// breaker.reset();
    /// assert_eq!(breaker.state(), State::Closed);
    /// ```
    pub fn force_open(&self) {
        self.with_machine(StateMachine::force_open);
    }

    /// Closes the breaker and clears its history (failure counts, window,
    /// recovery schedule); calls admitted before report into the void. The
    /// metrics counters are kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(30));
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.state(), State::Open);
    /// breaker.reset();
    /// assert_eq!(breaker.state(), State::Closed);
    /// assert_eq!(breaker.metrics().failures, 1); // the counters stay
    /// ```
    pub fn reset(&self) {
        self.with_machine(StateMachine::reset);
    }

    /// The breaker's clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::CircuitBreaker;
    /// use sluicegate::time::ManualClock;
    /// let b = CircuitBreaker::new(ManualClock::new(), 1, std::time::Duration::ZERO);
    /// assert_eq!(b.clock().now(), std::time::Duration::ZERO);
    /// ```
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<C: Clock + fmt::Debug, H, B, L> fmt::Debug for CircuitBreaker<C, H, B, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Relaxed);
        let state = match word & TAG_MASK {
            CLOSED_CLEAN | CLOSED_DIRTY => State::Closed,
            OPEN => State::Open,
            _ => State::HalfOpen,
        };
        f.debug_struct("CircuitBreaker")
            .field("state", &state)
            .field("clock", &self.clock)
            .field("successes", &self.successes.load(Relaxed))
            .field("failures", &self.failures.load(Relaxed))
            .field("rejections", &self.rejections.load(Relaxed))
            .finish_non_exhaustive()
    }
}

/// Permission to run one call, from [`CircuitBreaker::try_acquire`].
///
/// Report the outcome with [`success`](Self::success) or
/// [`failure`](Self::failure). Dropping it without reporting counts as
/// neither (the call was cancelled) and gives a half-open trial slot back.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::CircuitBreaker;
/// use sluicegate::time::ManualClock;
///
/// let breaker = CircuitBreaker::new(ManualClock::new(), 3, Duration::from_secs(1));
/// let permit = breaker.try_acquire().unwrap();
/// fn ping() -> Result<(), ()> { Ok(()) } // the call the permit guards
/// match ping() {
///     Ok(()) => permit.success(),
///     Err(()) => permit.failure(),
/// }
/// assert_eq!(breaker.metrics().calls, 1);
/// ```
#[must_use = "dropping the permit reports the call as cancelled"]
pub struct BreakerPermit<'a, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    breaker: &'a CircuitBreaker<C, H, B, L>,
    ticket: Option<Ticket>,
}

impl<C, H, B, L> BreakerPermit<'_, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    /// Reports that the call succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().failure();
    /// clock.advance(Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().success(); // the trial closes it
    /// assert_eq!(breaker.state(), State::Closed);
    /// ```
    #[inline]
    pub fn success(mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.report_success(ticket);
        }
    }

    /// Reports that the call failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 2, Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.state(), State::Closed);
    /// breaker.try_acquire().unwrap().failure();
    /// assert_eq!(breaker.state(), State::Open);
    /// ```
    pub fn failure(mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.report_failure(ticket);
        }
    }

    /// Reports the call's [`Outcome`](crate::limit::Outcome), the verdict
    /// vocabulary shared with the adaptive limiter's
    /// [`LimitToken::record`](crate::limit::LimitToken::record):
    /// `Success` is [`success`](Self::success), `Failure` is
    /// [`failure`](Self::failure), and `Ignored` is what dropping the
    /// permit does (neither; a half-open trial slot is given back).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::limit::Outcome;
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().record(Outcome::Ignored); // cancelled
    /// assert_eq!(breaker.state(), State::Closed);
    /// breaker.try_acquire().unwrap().record(Outcome::Failure);
    /// assert_eq!(breaker.state(), State::Open);
    /// ```
    pub fn record(self, outcome: crate::limit::Outcome) {
        use crate::limit::Outcome;
        match outcome {
            Outcome::Success => self.success(),
            Outcome::Failure => self.failure(),
            Outcome::Ignored => drop(self),
        }
    }

    /// Whether this call is a half-open trial.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::CircuitBreaker;
    /// use sluicegate::time::ManualClock;
    /// let b = CircuitBreaker::new(ManualClock::new(), 1, std::time::Duration::ZERO);
    /// assert!(!b.try_acquire().unwrap().is_trial());
    /// ```
    pub fn is_trial(&self) -> bool {
        self.ticket.as_ref().is_some_and(Ticket::is_trial)
    }
}

impl<C, H, B, L> Drop for BreakerPermit<'_, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    #[inline]
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.breaker.report_cancel(ticket);
        }
    }
}

impl<C, H, B, L> fmt::Debug for BreakerPermit<'_, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreakerPermit")
            .field("trial", &self.is_trial())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`CircuitBreaker::call`]; before it is first
    /// polled, [`failure_if`](Self::failure_if) sets which errors count as
    /// failures.
    ///
    /// It asks the breaker for admission when first polled; a rejected call
    /// completes at once without polling the operation.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the operation; the call counts as neither success
    /// nor failure, and a half-open trial gives its slot back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::{block_on, pending, poll_once};
    /// use sluicegate::breaker::CircuitBreaker;
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(1));
    /// breaker.try_acquire().unwrap().failure();
    /// clock.advance(Duration::from_secs(1));
    /// let mut trial = Box::pin(breaker.call(pending::<Result<(), ()>>()));
    /// assert!(block_on(poll_once(&mut trial)).is_none()); // admitted as the one trial
    /// assert!(breaker.try_acquire().is_err());
    /// drop(trial); // cancelled: the trial slot is free again
    /// assert!(breaker.try_acquire().unwrap().is_trial());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Call<'a, C, H, B, L, F, P>
    where
        C: Clock,
        B: Iterator<Item = Duration>,
        B: Clone,
        H: StateChangeHook,
        L: ScopedRawMutex,
    {
        // First, so that a cancel is reported before the operation is dropped.
        admission: Admission<'a, C, H, B, L>,
        #[pin]
        future: F,
        classifier: P,
    }
}

impl<'a, C, H, B, L, F, P> Call<'a, C, H, B, L, F, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    /// Counts as failures only the errors for which `classifier` returns
    /// `true` (a closure `Fn(&E) -> bool`, or any [`FailureClassifier`]);
    /// the others are recorded as successes (a "not found" still shows the
    /// service is up). The caller gets every error back either way.
    ///
    /// A builder on the call, so the operation and the classifier cannot
    /// be swapped by mistake.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerError, CircuitBreaker, State};
    /// use sluicegate::time::ManualClock;
    ///
    /// let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1));
    /// let server_error = |status: &u16| *status >= 500;
    /// futures_lite::future::block_on(async {
    ///     let r = breaker.call(async { Err::<(), u16>(404) }).failure_if(server_error).await;
    ///     assert_eq!(r, Err(BreakerError::Inner(404)));
    ///     assert_eq!(breaker.state(), State::Closed); // a 404 is not the service failing
    ///     let _ = breaker.call(async { Err::<(), u16>(503) }).failure_if(server_error).await;
    ///     assert_eq!(breaker.state(), State::Open);
    /// });
    /// ```
    ///
    /// The classifier goes on the call, not in it: handing `call` the
    /// classifier does not compile, since a closure is not a future.
    ///
    /// ```compile_fail
    /// # use std::time::Duration;
    /// # use sluicegate::breaker::CircuitBreaker;
    /// # use sluicegate::time::ManualClock;
    /// # let breaker = CircuitBreaker::new(ManualClock::new(), 1, Duration::from_secs(1));
    /// let _ = breaker.call(|status: &u16| *status >= 500).failure_if(async { Err::<(), u16>(503) });
    /// ```
    pub fn failure_if<Q>(self, classifier: Q) -> Call<'a, C, H, B, L, F, Q> {
        Call {
            admission: self.admission,
            future: self.future,
            classifier,
        }
    }
}

pin_project! {
    /// The future returned by [`CircuitBreaker::call_timeout`]: a [`Call`]
    /// of the operation under a timeout, the two errors made one.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the operation and the timeout's sleep; the call
    /// counts as neither success nor failure, and a half-open trial gives
    /// its slot back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, BreakerError};
    /// use sluicegate::futures::CallTimeout;
    /// use sluicegate::time::{Elapsed, ManualClock};
    ///
    /// #[derive(Debug, PartialEq)]
    /// struct TimedOut;
    /// impl From<Elapsed> for TimedOut {
    ///     fn from(_: Elapsed) -> Self { TimedOut }
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(60));
    /// let call: CallTimeout<'_, _, _, _, _, _, _, _> =
    ///     breaker.call_timeout(&clock, Duration::from_secs(1), std::future::pending::<Result<(), TimedOut>>());
    /// let r = futures_lite::future::block_on(clock.auto_advance(call));
    /// assert_eq!(r, Err(BreakerError::Inner(TimedOut)));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct CallTimeout<'a, C, H, B, L, F, S, P>
    where
        C: Clock,
        B: Iterator<Item = Duration>,
        B: Clone,
        H: StateChangeHook,
        L: ScopedRawMutex,
    {
        #[pin]
        call: Call<'a, C, H, B, L, Flatten<Timeout<F, S>>, P>,
    }
}

impl<'a, C, H, B, L, F, S, P> CallTimeout<'a, C, H, B, L, F, S, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    /// As [`Call::failure_if`]: counts as failures only the errors (the
    /// timeout's included, once made an `E`) for which `classifier`
    /// returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{CircuitBreaker, State};
    /// use sluicegate::time::{Elapsed, ManualClock};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum ApiError { NotFound, TimedOut }
    /// impl From<Elapsed> for ApiError {
    ///     fn from(_: Elapsed) -> Self { ApiError::TimedOut }
    /// }
    ///
    /// let clock = ManualClock::new();
    /// let breaker = CircuitBreaker::new(&clock, 1, Duration::from_secs(60));
    /// let r = futures_lite::future::block_on(
    ///     breaker
    ///         .call_timeout(&clock, Duration::from_secs(1), async { Err::<(), _>(ApiError::NotFound) })
    ///         .failure_if(|e: &ApiError| *e == ApiError::TimedOut),
    /// );
    /// assert!(r.is_err());
    /// assert_eq!(breaker.state(), State::Closed); // a "not found" is no failure
    /// ```
    pub fn failure_if<Q>(self, classifier: Q) -> CallTimeout<'a, C, H, B, L, F, S, Q> {
        CallTimeout {
            call: self.call.failure_if(classifier),
        }
    }
}

impl<C, H, B, L, F, S, P, T, E> Future for CallTimeout<'_, C, H, B, L, F, S, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
    F: Future<Output = Result<T, E>>,
    S: Future<Output = ()>,
    E: From<Elapsed>,
    P: FailureClassifier<E>,
{
    type Output = Result<T, BreakerError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().call.poll(cx)
    }
}

impl<C, H, B, L, F, S, P> fmt::Debug for CallTimeout<'_, C, H, B, L, F, S, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallTimeout")
            .field("call", &self.call)
            .finish()
    }
}

pin_project! {
    /// A timed-out operation's two errors made one `E`.
    struct Flatten<Fut> {
        #[pin]
        timeout: Fut,
    }
}

impl<Fut, T, E> Future for Flatten<Fut>
where
    Fut: Future<Output = Result<Result<T, E>, Elapsed>>,
    E: From<Elapsed>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .timeout
            .poll(cx)
            .map(|r| r.unwrap_or_else(|elapsed| Err(E::from(elapsed))))
    }
}

/// A [`Call`]'s place with the breaker: not yet admitted, running with its
/// ticket (the permit, without a second copy of the breaker reference), or
/// finished. Dropped while running, it reports the call cancelled; as a
/// field rather than `Call`'s own drop, so `failure_if` can move `Call`'s
/// fields.
struct Admission<'a, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    breaker: &'a CircuitBreaker<C, H, B, L>,
    phase: Phase,
}

impl<C, H, B, L> Drop for Admission<'_, C, H, B, L>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    fn drop(&mut self) {
        if let Phase::Running(ticket) = core::mem::replace(&mut self.phase, Phase::Done) {
            self.breaker.report_cancel(ticket);
        }
    }
}

/// Where a [`Call`] is.
#[derive(Debug)]
enum Phase {
    Start,
    Running(Ticket),
    Done,
}

impl<C, H, B, L, F, P, T, E> Future for Call<'_, C, H, B, L, F, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
    F: Future<Output = Result<T, E>>,
    P: FailureClassifier<E>,
{
    type Output = Result<T, BreakerError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let admission = this.admission;
        if let Phase::Start = admission.phase {
            match admission.breaker.try_acquire() {
                Ok(mut permit) => {
                    let ticket = permit.ticket.take().expect("a new permit holds its ticket");
                    admission.phase = Phase::Running(ticket);
                }
                Err(rejected) => {
                    admission.phase = Phase::Done;
                    return Poll::Ready(Err(rejected.into()));
                }
            }
        }
        if let Phase::Done = admission.phase {
            panic!("`Call` polled after completion");
        }
        let result = match this.future.poll(cx) {
            Poll::Ready(r) => r,
            Poll::Pending => return Poll::Pending,
        };
        // Classified while the ticket is still in `phase`: if the classifier
        // panics, the admission's drop reports a cancel and the trial slot
        // comes back.
        let failed = matches!(&result, Err(e) if this.classifier.is_failure(e));
        let Phase::Running(ticket) = core::mem::replace(&mut admission.phase, Phase::Done) else {
            unreachable!("checked above");
        };
        if failed {
            admission.breaker.report_failure(ticket);
        } else {
            admission.breaker.report_success(ticket);
        }
        Poll::Ready(result.map_err(BreakerError::Inner))
    }
}

impl<C, H, B, L, F, P> fmt::Debug for Call<'_, C, H, B, L, F, P>
where
    C: Clock,
    B: Iterator<Item = Duration> + Clone,
    H: StateChangeHook,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("phase", &self.admission.phase)
            .finish_non_exhaustive()
    }
}
