//! The generic cell rate algorithm: [`Quota`], the pure [`Gcra`] machine,
//! and the errors both it and [`RateLimiter`](super::RateLimiter) return.

use core::fmt;
use core::time::Duration;

/// How much a rate limiter admits: one cell every [`interval`](Self::interval),
/// and up to [`burst`](Self::burst) cells at once after a quiet spell.
///
/// `Quota::per_second(10)` admits 10 cells a second, all 10 at once if
/// nobody asked for a second, and then one every 100 ms.
/// [`with_burst`](Self::with_burst) changes how many may come at once
/// without changing the rate. Every constructor is `const`.
///
/// The interval is kept in whole nanoseconds (rounded down), so the rate
/// is exact for periods that divide evenly, and a hair faster otherwise
/// (3 per second is one cell per 333,333,333 ns).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::Quota;
///
/// let q = Quota::per_second(10);
/// assert_eq!((q.interval(), q.burst()), (Duration::from_millis(100), 10));
/// let q = Quota::new(600, Duration::from_secs(60)).with_burst(5);
/// assert_eq!((q.interval(), q.burst()), (Duration::from_millis(100), 5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Nanoseconds between two cells (the emission interval), > 0.
    interval_ns: u64,
    /// Cells admitted at once, > 0; `burst * interval_ns` fits in a `u64`.
    burst: u32,
}

/// The most nanoseconds a quota may span (`burst × interval`): about 292
/// years, so that the limiter's clock arithmetic never overflows.
const MAX_SPAN_NS: u64 = u64::MAX >> 1;

impl Quota {
    /// `n` cells per `period`, with a burst of `n`.
    ///
    /// # Panics
    ///
    /// If `n` is 0, if `period / n` is under a nanosecond, or if the period
    /// is longer than about 292 years.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = sluicegate::limit::Quota::new(5, Duration::from_secs(1));
    /// assert_eq!(q.interval(), Duration::from_millis(200));
    /// ```
    pub const fn new(n: u32, period: Duration) -> Quota {
        assert!(
            n > 0,
            "Quota::new: a rate of 0 cells per period admits nothing"
        );
        let interval = period.as_nanos() / n as u128;
        assert!(
            interval > 0,
            "Quota::new: the period divided by n is under 1 ns, finer than the limiter measures"
        );
        Quota::check(interval, n)
    }

    /// `n` cells per second, with a burst of `n`.
    ///
    /// # Panics
    ///
    /// If `n` is 0, or over 1,000,000,000 (one per nanosecond).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = sluicegate::limit::Quota::per_second(4);
    /// assert_eq!(q.interval(), std::time::Duration::from_millis(250));
    /// ```
    pub const fn per_second(n: u32) -> Quota {
        Quota::new(n, Duration::from_secs(1))
    }

    /// `n` cells per minute, with a burst of `n`.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = sluicegate::limit::Quota::per_minute(6);
    /// assert_eq!(q.interval(), std::time::Duration::from_secs(10));
    /// ```
    pub const fn per_minute(n: u32) -> Quota {
        Quota::new(n, Duration::from_secs(60))
    }

    /// One cell every `interval`, with a burst of 1.
    ///
    /// # Panics
    ///
    /// If `interval` is under a nanosecond or over about 292 years.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let q = sluicegate::limit::Quota::with_interval(Duration::from_millis(50));
    /// assert_eq!((q.interval(), q.burst()), (Duration::from_millis(50), 1));
    /// ```
    pub const fn with_interval(interval: Duration) -> Quota {
        assert!(
            !interval.is_zero(),
            "Quota::with_interval: an interval of 0 is no limit"
        );
        Quota::check(interval.as_nanos(), 1)
    }

    /// The same rate, admitting up to `burst` cells at once.
    ///
    /// # Panics
    ///
    /// If `burst` is 0, or if `burst × interval` is longer than about 292
    /// years.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = sluicegate::limit::Quota::per_second(100).with_burst(1);
    /// assert_eq!(q.burst(), 1); // evenly spaced, 10 ms apart
    /// ```
    pub const fn with_burst(self, burst: u32) -> Quota {
        Quota::check(self.interval_ns as u128, burst)
    }

    const fn check(interval_ns: u128, burst: u32) -> Quota {
        assert!(burst > 0, "Quota: a burst of 0 admits nothing");
        assert!(
            interval_ns * burst as u128 <= MAX_SPAN_NS as u128,
            "Quota: burst × interval exceeds the limit of about 292 years"
        );
        Quota {
            interval_ns: interval_ns as u64,
            burst,
        }
    }

    /// The time between two cells once the burst is spent.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = sluicegate::limit::Quota::per_minute(120);
    /// assert_eq!(q.interval(), std::time::Duration::from_millis(500));
    /// ```
    pub const fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns)
    }

    /// How many cells may be admitted at once; also the most one request
    /// may ask for.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::limit::Quota::per_second(7).burst(), 7);
    /// ```
    pub const fn burst(&self) -> u32 {
        self.burst
    }

    pub(crate) const fn interval_ns(&self) -> u64 {
        self.interval_ns
    }

    /// `burst × interval`: how far the theoretical arrival time may run
    /// ahead of now.
    pub(crate) const fn tolerance_ns(&self) -> u64 {
        self.interval_ns * self.burst as u64
    }
}

/// A request for more cells than the burst: it could never be admitted.
///
/// Returned at once, instead of a wait that would never end, by
/// [`RateLimiter::acquire_n`](super::RateLimiter::acquire_n) and inside
/// [`TryAcquireError::ExceedsBurst`].
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
/// use sluicegate::limit::{ExceedsBurst, Quota, RateLimiter};
/// use sluicegate::time::ManualClock;
///
/// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(3));
/// let err = block_on(limiter.acquire_n(4)).unwrap_err();
/// assert_eq!(err, ExceedsBurst { requested: 4, burst: 3 });
/// assert_eq!(err.to_string(), "asked for 4 cells at once, more than the burst of 3: never admitted");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExceedsBurst {
    /// The cells asked for.
    pub requested: u32,
    /// The quota's burst, the most one request can get.
    pub burst: u32,
}

impl fmt::Display for ExceedsBurst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "asked for {} cells at once, more than the burst of {}: never admitted",
            self.requested, self.burst
        )
    }
}

impl core::error::Error for ExceedsBurst {}

/// Error from [`RateLimiter::try_acquire`](super::RateLimiter::try_acquire)
/// and [`Gcra::try_take`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Quota, RateLimiter, TryAcquireError};
/// use sluicegate::time::ManualClock;
///
/// let limiter = RateLimiter::new(ManualClock::new(), Quota::per_second(2));
/// limiter.try_acquire_n(2).unwrap();
/// let err = limiter.try_acquire().unwrap_err();
/// assert_eq!(err, TryAcquireError::TooSoon { retry_after: Duration::from_millis(500) });
/// assert_eq!(err.retry_after(), Some(Duration::from_millis(500)));
/// assert_eq!(err.to_string(), "rate limited: retry after 500ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryAcquireError {
    /// Not enough cells now (or others are queued for them).
    TooSoon {
        /// How long from the moment of the call until the request would be
        /// admitted, if nobody else takes cells first (queued waiters
        /// included).
        retry_after: Duration,
    },
    /// More cells than the burst: never admitted.
    ExceedsBurst(ExceedsBurst),
}

impl TryAcquireError {
    /// How long to wait before asking again; `None` for a request that can
    /// never succeed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{ExceedsBurst, TryAcquireError};
    /// let never = TryAcquireError::ExceedsBurst(ExceedsBurst { requested: 9, burst: 3 });
    /// assert_eq!(never.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::TooSoon { retry_after } => Some(*retry_after),
            Self::ExceedsBurst(_) => None,
        }
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooSoon { retry_after } => {
                write!(f, "rate limited: retry after {retry_after:?}")
            }
            Self::ExceedsBurst(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for TryAcquireError {}

impl From<ExceedsBurst> for TryAcquireError {
    fn from(e: ExceedsBurst) -> Self {
        Self::ExceedsBurst(e)
    }
}

/// The GCRA decision, on nanoseconds since the limiter's origin.
///
/// With `tat` the theoretical arrival time, `n` cells at `now` conform if
/// `max(tat, now) + n × interval − now ≤ burst × interval`. `Ok` is the new
/// `tat`; `Err` the earliest `now` at which they would conform. `n` is at
/// most the burst (checked by the callers), so a `tat` at or before `now`
/// always admits.
#[inline]
pub(crate) fn decide(quota: &Quota, tat: u64, now: u64, n: u32) -> Result<u64, u64> {
    let cost = quota.interval_ns() * u64::from(n);
    let tolerance = quota.tolerance_ns();
    let new_tat = tat.max(now).saturating_add(cost);
    if new_tat - now <= tolerance {
        Ok(new_tat)
    } else {
        Err(new_tat - tolerance)
    }
}

#[inline]
pub(crate) fn check_burst(quota: &Quota, n: u32) -> Result<(), ExceedsBurst> {
    if n > quota.burst {
        Err(ExceedsBurst {
            requested: n,
            burst: quota.burst,
        })
    } else {
        Ok(())
    }
}

/// A `Duration` as nanoseconds, saturating at `u64::MAX` (584 years).
#[inline]
pub(crate) fn nanos(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()))
}

/// The pure GCRA state machine behind [`RateLimiter`](super::RateLimiter):
/// no clock, no lock, no waiting. Feed it the time, it says yes or when.
///
/// It keeps one value, the theoretical arrival time (TAT) of the next cell,
/// as governor does: a request for `n` cells at `now` is admitted if the
/// TAT, moved on by `n` intervals, is at most `burst` intervals ahead of
/// `now`. Time is a `Duration` since any origin the caller picks.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Gcra, Quota, TryAcquireError};
///
/// let ms = Duration::from_millis;
/// let mut gcra = Gcra::new(Quota::per_second(10).with_burst(2));
/// assert!(gcra.try_take(ms(0), 2).is_ok()); // the burst
/// let err = gcra.try_take(ms(0), 1).unwrap_err();
/// assert_eq!(err, TryAcquireError::TooSoon { retry_after: ms(100) });
/// assert!(gcra.try_take(ms(100), 1).is_ok()); // then one per 100 ms
/// assert_eq!(gcra.ready_at(1), Some(ms(200)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcra {
    quota: Quota,
    tat: u64,
}

impl Gcra {
    /// A machine with a full burst available from time zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let gcra = sluicegate::limit::Gcra::new(sluicegate::limit::Quota::per_second(1));
    /// assert_eq!(gcra.ready_at(1), Some(std::time::Duration::ZERO));
    /// ```
    pub const fn new(quota: Quota) -> Gcra {
        Gcra { quota, tat: 0 }
    }

    /// The quota.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Gcra, Quota};
    /// assert_eq!(Gcra::new(Quota::per_second(3)).quota(), Quota::per_second(3));
    /// ```
    pub const fn quota(&self) -> Quota {
        self.quota
    }

    /// Admits `n` cells at `now` if they conform, moving the TAT on.
    /// `n == 0` is always admitted and changes nothing.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::TooSoon`] with the time until they would
    /// conform, or [`TryAcquireError::ExceedsBurst`] if `n` is over the
    /// burst.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Gcra, Quota};
    /// let mut gcra = Gcra::new(Quota::per_second(1));
    /// assert!(gcra.try_take(Duration::ZERO, 1).is_ok());
    /// assert!(gcra.try_take(Duration::from_millis(999), 1).is_err());
    /// assert!(gcra.try_take(Duration::from_secs(1), 1).is_ok());
    /// ```
    pub fn try_take(&mut self, now: Duration, n: u32) -> Result<(), TryAcquireError> {
        check_burst(&self.quota, n)?;
        if n == 0 {
            return Ok(());
        }
        let now = nanos(now);
        match decide(&self.quota, self.tat, now, n) {
            Ok(tat) => {
                self.tat = tat;
                Ok(())
            }
            Err(at) => Err(TryAcquireError::TooSoon {
                retry_after: Duration::from_nanos(at - now),
            }),
        }
    }

    /// The earliest time at which `n` cells would be admitted (the past,
    /// or zero, if they would be now); `None` if `n` is over the burst.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Gcra, Quota};
    /// let mut gcra = Gcra::new(Quota::per_second(2));
    /// gcra.try_take(Duration::ZERO, 2).unwrap();
    /// assert_eq!(gcra.ready_at(2), Some(Duration::from_secs(1)));
    /// assert_eq!(gcra.ready_at(3), None);
    /// ```
    pub fn ready_at(&self, n: u32) -> Option<Duration> {
        check_burst(&self.quota, n).ok()?;
        let cost = self.quota.interval_ns() * u64::from(n);
        let at = self
            .tat
            .saturating_add(cost)
            .saturating_sub(self.quota.tolerance_ns());
        Some(Duration::from_nanos(at))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_fresh_machine_admits_the_whole_burst_then_one_per_interval() {
        let mut g = Gcra::new(Quota::per_second(10).with_burst(3));
        for _ in 0..3 {
            g.try_take(Duration::ZERO, 1).unwrap();
        }
        assert_eq!(
            g.try_take(Duration::ZERO, 1),
            Err(TryAcquireError::TooSoon {
                retry_after: 100 * MS
            })
        );
        g.try_take(100 * MS, 1).unwrap();
        assert!(g.try_take(199 * MS, 1).is_err());
        g.try_take(200 * MS, 1).unwrap();
    }

    #[test]
    fn a_quiet_spell_refills_no_more_than_the_burst() {
        let mut g = Gcra::new(Quota::per_second(10).with_burst(2));
        g.try_take(Duration::ZERO, 2).unwrap();
        let later = Duration::from_secs(3600);
        g.try_take(later, 2).unwrap();
        assert!(g.try_take(later, 1).is_err());
    }

    #[test]
    fn many_cells_wait_for_as_many_intervals() {
        let mut g = Gcra::new(Quota::per_second(4));
        g.try_take(Duration::ZERO, 4).unwrap();
        assert_eq!(
            g.try_take(Duration::ZERO, 3).unwrap_err().retry_after(),
            Some(750 * MS)
        );
        assert_eq!(g.ready_at(3), Some(750 * MS));
        g.try_take(750 * MS, 3).unwrap();
    }

    #[test]
    fn over_the_burst_is_an_error_not_a_wait() {
        let mut g = Gcra::new(Quota::per_second(4));
        assert_eq!(
            g.try_take(Duration::ZERO, 5),
            Err(TryAcquireError::ExceedsBurst(ExceedsBurst {
                requested: 5,
                burst: 4
            }))
        );
        assert_eq!(g.ready_at(5), None);
        // Nothing was taken.
        g.try_take(Duration::ZERO, 4).unwrap();
    }

    #[test]
    fn zero_cells_are_free() {
        let mut g = Gcra::new(Quota::per_second(1));
        g.try_take(Duration::ZERO, 1).unwrap();
        g.try_take(Duration::ZERO, 0).unwrap();
        assert_eq!(g.ready_at(1), Some(Duration::from_secs(1)));
    }

    #[test]
    fn uneven_periods_round_the_interval_down() {
        let q = Quota::per_second(3);
        assert_eq!(q.interval(), Duration::from_nanos(333_333_333));
    }

    #[test]
    #[should_panic(expected = "a rate of 0")]
    fn a_zero_rate_panics() {
        let _ = Quota::per_second(0);
    }

    #[test]
    #[should_panic(expected = "a burst of 0")]
    fn a_zero_burst_panics() {
        let _ = Quota::per_second(1).with_burst(0);
    }

    #[test]
    #[should_panic(expected = "under 1 ns")]
    fn a_rate_finer_than_a_nanosecond_panics() {
        let _ = Quota::new(2, Duration::from_nanos(1));
    }

    #[test]
    #[should_panic(expected = "292 years")]
    fn a_span_past_the_clock_arithmetic_panics() {
        let _ = Quota::with_interval(Duration::from_secs(u64::MAX / 4)).with_burst(u32::MAX);
    }

    #[test]
    fn nanos_saturate() {
        assert_eq!(nanos(Duration::MAX), u64::MAX);
        assert_eq!(nanos(Duration::new(1, 5)), 1_000_000_005);
    }
}
