//! Time without a runtime: a [`Clock`] trait, a [`Timer`] (sleeper) trait,
//! [`timeout`]s, [`interval`]s, and [`ManualClock`], a virtual clock for
//! tests and simulations.
//!
//! Everything in sluicegate that needs time asks for it through these two
//! traits, never from a runtime, so the same code runs on tokio, smol,
//! embassy or a test's virtual clock:
//!
//! - [`Clock`] says what time it is. Its [`Instant`](Clock::Instant) is any
//!   ordered, `Copy` value with saturating [`Duration`] arithmetic
//!   ([`Timestamp`]): std's `Instant`, tokio's and embassy-time's `Instant`s,
//!   a `Duration` since some start, or plain `u64` nanosecond ticks.
//! - [`Timer`] sleeps: an associated sleep future, [`sleep`](Timer::sleep)
//!   and, for timers that are also clocks, [`sleep_until`](Timer::sleep_until).
//!   Any closure `Fn(Duration) -> impl Future<Output = ()>` is a timer.
//!
//! | runtime | timer | feature |
//! |---|---|---|
//! | tokio | `TokioTimer` (`tokio::time`) | `tokio` |
//! | smol / async-io | `AsyncIoTimer` (async-io's `Timer`) | `smol` |
//! | embassy | `EmbassyTimer` (embassy-time) | `embassy` |
//! | tests, simulations | [`ManualClock`] | `alloc` |
//! | anything else | a closure `\|d\| my_runtime::sleep(d)`, plus [`WithClock`] for a clock | — |
//!
//! # Examples
//!
//! A timeout in virtual time: nothing sleeps for real.
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::time::{timeout, ManualClock};
//!
//! let clock = ManualClock::new();
//! let slow = std::future::pending::<()>();
//! let result = futures_lite::future::block_on(
//!     clock.auto_advance(timeout(&clock, Duration::from_secs(5), slow)),
//! );
//! assert!(result.is_err());
//! assert_eq!(clock.now(), Duration::from_secs(5));
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::time::Duration;

mod interval;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod manual;
mod timeout;

#[cfg(feature = "smol")]
mod async_io;
#[cfg(feature = "embassy")]
mod embassy;
#[cfg(feature = "tokio")]
mod tokio;

#[cfg(feature = "smol")]
pub use self::async_io::{AsyncIoSleep, AsyncIoTimer};
#[cfg(feature = "embassy")]
pub use self::embassy::EmbassyTimer;
#[cfg(feature = "tokio")]
pub use self::tokio::TokioTimer;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior, Tick};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use manual::{AutoAdvance, ManualClock, ManualSleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout, TimeoutExt};

/// A point in time of some [`Clock`]: ordered, `Copy`, with saturating
/// [`Duration`] arithmetic.
///
/// Implemented for `Duration` (time since some start, as [`ManualClock`]
/// uses it), `u64` (nanosecond ticks), std's `Instant` (with `std`), and
/// tokio's and embassy-time's `Instant`s (with their features).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::Timestamp;
///
/// let t: u64 = 1_000; // nanoseconds
/// assert_eq!(Timestamp::saturating_add(t, Duration::from_micros(1)), 2_000);
/// assert_eq!(Timestamp::saturating_add(u64::MAX, Duration::MAX), u64::MAX);
/// assert_eq!(t.saturating_duration_since(5_000), Duration::ZERO);
/// ```
pub trait Timestamp: Copy + Ord + fmt::Debug {
    /// `self + duration`, or the latest representable instant if that
    /// overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::Timestamp;
    /// let t = Duration::from_secs(1);
    /// assert_eq!(Timestamp::saturating_add(t, Duration::from_secs(1)), Duration::from_secs(2));
    /// assert_eq!(Timestamp::saturating_add(t, Duration::MAX), Duration::MAX);
    /// ```
    fn saturating_add(self, duration: Duration) -> Self;

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::Timestamp;
    /// assert_eq!(3_000u64.saturating_duration_since(1_000), Duration::from_micros(2));
    /// assert_eq!(1_000u64.saturating_duration_since(3_000), Duration::ZERO);
    /// ```
    fn saturating_duration_since(self, earlier: Self) -> Duration;
}

impl Timestamp for Duration {
    #[inline]
    fn saturating_add(self, duration: Duration) -> Self {
        Duration::saturating_add(self, duration)
    }

    #[inline]
    fn saturating_duration_since(self, earlier: Self) -> Duration {
        self.saturating_sub(earlier)
    }
}

/// Nanosecond ticks.
impl Timestamp for u64 {
    #[inline]
    fn saturating_add(self, duration: Duration) -> Self {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        u64::saturating_add(self, nanos)
    }

    #[inline]
    fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.saturating_sub(earlier))
    }
}

#[cfg(feature = "std")]
impl Timestamp for std::time::Instant {
    #[inline]
    fn saturating_add(self, duration: Duration) -> Self {
        saturating_add_std(self, duration, std::time::Instant::checked_add)
    }

    #[inline]
    fn saturating_duration_since(self, earlier: Self) -> Duration {
        std::time::Instant::saturating_duration_since(&self, earlier)
    }
}

/// `instant + duration`, or (when that overflows) the latest instant this
/// platform can represent to within a nanosecond, found by halving the step.
/// std's `Instant` has no `MAX`, so this is how far "never" can be.
#[cfg(feature = "std")]
pub(crate) fn saturating_add_std<I: Copy>(
    instant: I,
    duration: Duration,
    checked_add: impl Fn(&I, Duration) -> Option<I>,
) -> I {
    if let Some(t) = checked_add(&instant, duration) {
        return t;
    }
    let mut base = instant;
    let mut step = duration;
    while !step.is_zero() {
        step /= 2;
        if let Some(t) = checked_add(&base, step) {
            base = t;
        }
    }
    base
}

/// A source of the current time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{Clock, ManualClock};
///
/// fn deadline_in<C: Clock>(clock: &C, d: Duration) -> C::Instant {
///     sluicegate::time::Timestamp::saturating_add(clock.now(), d)
/// }
///
/// let clock = ManualClock::new();
/// assert_eq!(deadline_in(&clock, Duration::from_secs(1)), Duration::from_secs(1));
/// ```
pub trait Clock {
    /// The clock's points in time.
    type Instant: Timestamp;

    /// The current time. Never goes backwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// let before = Clock::now(&clock);
    /// clock.advance(Duration::from_millis(5));
    /// assert_eq!(Clock::now(&clock) - before, Duration::from_millis(5));
    /// ```
    fn now(&self) -> Self::Instant;
}

impl<C: Clock + ?Sized> Clock for &C {
    type Instant = C::Instant;

    #[inline]
    fn now(&self) -> Self::Instant {
        (**self).now()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<C: Clock + ?Sized> Clock for alloc::sync::Arc<C> {
    type Instant = C::Instant;

    #[inline]
    fn now(&self) -> Self::Instant {
        (**self).now()
    }
}

/// Something that can sleep: a runtime's timer, a [`ManualClock`], or a
/// closure `Fn(Duration) -> impl Future<Output = ()>`.
///
/// A sleep future completes once its time has come; dropping it cancels the
/// sleep. A sleep of a duration too long to represent sleeps "forever".
///
/// # Examples
///
/// Any closure that returns a future is a timer (this one never sleeps):
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout, Timer};
///
/// let instant = |_: Duration| std::future::ready(());
/// futures_lite::future::block_on(instant.sleep(Duration::from_secs(3600)));
///
/// let r = futures_lite::future::block_on(timeout(&instant, Duration::from_secs(1), async { 7 }));
/// assert_eq!(r, Ok(7));
/// ```
pub trait Timer {
    /// The future returned by [`sleep`](Self::sleep) and
    /// [`sleep_until`](Self::sleep_until).
    type Sleep: Future<Output = ()>;

    /// Sleeps for `duration`, measured from this call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Timer};
    /// let clock = ManualClock::new();
    /// futures_lite::future::block_on(clock.auto_advance(clock.sleep(Duration::from_secs(3))));
    /// assert_eq!(clock.now(), Duration::from_secs(3));
    /// ```
    fn sleep(&self, duration: Duration) -> Self::Sleep;

    /// Sleeps until `deadline`; ready at once if it has passed.
    ///
    /// The default sleeps for the time from [`now`](Clock::now) to
    /// `deadline`; timers with deadlines of their own override it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Timer};
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_secs(10));
    /// futures_lite::future::block_on(clock.sleep_until(Duration::from_secs(4))); // past: at once
    /// futures_lite::future::block_on(clock.auto_advance(clock.sleep_until(Duration::from_secs(12))));
    /// assert_eq!(clock.now(), Duration::from_secs(12));
    /// ```
    fn sleep_until(&self, deadline: <Self as Clock>::Instant) -> Self::Sleep
    where
        Self: Clock,
    {
        let now = self.now();
        self.sleep(deadline.saturating_duration_since(now))
    }
}

impl<F, Fut> Timer for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    type Sleep = Fut;

    #[inline]
    fn sleep(&self, duration: Duration) -> Fut {
        self(duration)
    }
}

/// A [`Timer`] paired with a [`Clock`], for timers that have no clock of
/// their own (closures), where a [`Clock`] is asked for (retry's elapsed-time
/// limit, [`interval`], [`timeout_at`]).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{Clock, ManualClock, Timer, WithClock};
///
/// let clock = ManualClock::new();
/// let sleeper = |_: Duration| std::future::ready(());
/// let timer = WithClock::new(sleeper, clock.clone());
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(timer.now(), Duration::from_secs(2));
/// futures_lite::future::block_on(timer.sleep_until(Duration::from_secs(9)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WithClock<T, C> {
    timer: T,
    clock: C,
}

impl<T, C> WithClock<T, C> {
    /// Pairs `timer` with `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sluicegate::time::WithClock::new(
    ///     |_: std::time::Duration| std::future::ready(()),
    ///     sluicegate::time::ManualClock::new(),
    /// );
    /// # let _ = t;
    /// ```
    pub const fn new(timer: T, clock: C) -> Self {
        Self { timer, clock }
    }

    /// Splits the pair.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sluicegate::time::WithClock::new(1, 2);
    /// assert_eq!(t.into_parts(), (1, 2));
    /// ```
    pub fn into_parts(self) -> (T, C) {
        (self.timer, self.clock)
    }
}

impl<T, C: Clock> Clock for WithClock<T, C> {
    type Instant = C::Instant;

    #[inline]
    fn now(&self) -> C::Instant {
        self.clock.now()
    }
}

impl<T: Timer, C> Timer for WithClock<T, C> {
    type Sleep = T::Sleep;

    #[inline]
    fn sleep(&self, duration: Duration) -> T::Sleep {
        self.timer.sleep(duration)
    }
}

/// The system's monotonic clock, `std::time::Instant::now()`.
///
/// # Examples
///
/// ```
/// use sluicegate::time::{Clock, StdClock};
///
/// let a = StdClock.now();
/// assert!(StdClock.now() >= a);
/// ```
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StdClock;

#[cfg(feature = "std")]
impl Clock for StdClock {
    type Instant = std::time::Instant;

    #[inline]
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

/// `period * n`, saturating at `Duration::MAX`.
pub(crate) fn saturating_mul(period: Duration, n: u128) -> Duration {
    duration_from_nanos_u128(period.as_nanos().saturating_mul(n))
}

/// A `Duration` of `nanos` nanoseconds, saturating at `Duration::MAX`.
pub(crate) fn duration_from_nanos_u128(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    match u64::try_from(nanos / NANOS_PER_SEC) {
        Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn u64_ticks_saturate_both_ways() {
        assert_eq!(Timestamp::saturating_add(5u64, Duration::from_nanos(7)), 12);
        assert_eq!(
            Timestamp::saturating_add(u64::MAX - 1, Duration::from_secs(1)),
            u64::MAX
        );
        assert_eq!(Timestamp::saturating_add(0u64, Duration::MAX), u64::MAX);
        assert_eq!(3u64.saturating_duration_since(10), Duration::ZERO);
        assert_eq!(10u64.saturating_duration_since(3), Duration::from_nanos(7));
    }

    #[test]
    #[cfg(feature = "std")]
    fn std_instant_saturates_instead_of_panicking() {
        let now = std::time::Instant::now();
        let far = Timestamp::saturating_add(now, Duration::MAX);
        assert!(far > now);
        // Saturated: adding more does not move it (by more than rounding).
        let further = Timestamp::saturating_add(far, Duration::from_secs(1));
        assert!(further.saturating_duration_since(far) <= Duration::from_secs(1));
        assert_eq!(
            Timestamp::saturating_duration_since(now, far),
            Duration::ZERO
        );
    }

    #[test]
    fn duration_helpers_saturate() {
        assert_eq!(
            saturating_mul(Duration::from_secs(2), 3),
            Duration::from_secs(6)
        );
        assert_eq!(saturating_mul(Duration::MAX, 2), Duration::MAX);
        assert_eq!(duration_from_nanos_u128(u128::MAX), Duration::MAX);
        assert_eq!(
            duration_from_nanos_u128(1_500_000_000),
            Duration::from_millis(1500)
        );
    }
}
