//! [`EmbassyTimer`]: embassy-time as a [`Timer`] and [`Clock`].

use core::time::Duration;

use embassy_time::{Instant, TICK_HZ};

use super::{Clock, Sleeper, Timer, Timestamp};

/// embassy's timer: [`Sleeper`] and [`Timer`] over `embassy_time::Timer`,
/// [`Clock`] over `embassy_time::Instant`.
///
/// Feature `embassy`. sluicegate picks no time driver and no timer queue:
/// the binary chooses them through embassy-time's (and the executor's)
/// features, as for any embassy-time user. Durations are converted to ticks
/// rounding up, and saturate at `Instant::MAX` (which never comes).
///
/// # Examples
///
/// ```no_run
/// use core::time::Duration;
/// use sluicegate::time::{timeout, EmbassyTimer};
///
/// # async fn f() {
/// let r = timeout(EmbassyTimer, Duration::from_millis(10), async { 1 }).await;
/// assert_eq!(r, Ok(1));
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EmbassyTimer;

/// Ticks for `duration`, rounding up, saturating at `u64::MAX`.
#[inline]
fn ticks(duration: Duration) -> u64 {
    let ticks = (duration.as_nanos() * u128::from(TICK_HZ)).div_ceil(1_000_000_000);
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

impl Timestamp for Instant {
    #[inline]
    fn saturating_add(self, duration: Duration) -> Self {
        Instant::from_ticks(self.as_ticks().saturating_add(ticks(duration)))
    }

    #[inline]
    fn saturating_duration_since(self, earlier: Self) -> Duration {
        let t = self.as_ticks().saturating_sub(earlier.as_ticks());
        let nanos = u128::from(t) * 1_000_000_000 / u128::from(TICK_HZ);
        super::duration_from_nanos_u128(nanos)
    }
}

impl Clock for EmbassyTimer {
    type Instant = Instant;

    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl Sleeper for EmbassyTimer {
    type Sleep = embassy_time::Timer;

    #[inline]
    fn sleep(&self, duration: Duration) -> embassy_time::Timer {
        embassy_time::Timer::at(Timestamp::saturating_add(Instant::now(), duration))
    }
}

impl Timer for EmbassyTimer {
    #[inline]
    fn sleep_until(&self, deadline: Instant) -> embassy_time::Timer {
        embassy_time::Timer::at(deadline)
    }
}
