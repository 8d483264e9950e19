//! [`TokioTimer`]: `tokio::time` as a [`Timer`].

use core::time::Duration;

use super::{Clock, Sleeper, Timer, Timestamp};

/// tokio's timer: [`Sleeper`] over `tokio::time::sleep`, [`Clock`] over
/// `tokio::time::Instant`, [`Timer`] over `tokio::time::sleep_until` (so paused test time, `tokio::time::pause`, is
/// honoured).
///
/// Feature `tokio`. As with `tokio::time` itself, its sleeps (and so
/// [`timeout`](super::timeout)s on it) must be created and polled inside a
/// tokio runtime with the time driver enabled (`enable_time`/`enable_all`);
/// otherwise tokio panics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout, TokioTimer};
///
/// let rt = tokio::runtime::Builder::new_current_thread()
///     .enable_time()
///     .start_paused(true)
///     .build()
///     .unwrap();
/// let r = rt.block_on(async {
///     timeout(TokioTimer, Duration::from_secs(5), std::future::pending::<()>()).await
/// });
/// assert!(r.is_err()); // paused time jumps ahead; no real wait
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TokioTimer;

impl Timestamp for tokio::time::Instant {
    #[inline]
    fn saturating_add(self, duration: Duration) -> Self {
        super::saturating_add_std(self, duration, tokio::time::Instant::checked_add)
    }

    #[inline]
    fn saturating_duration_since(self, earlier: Self) -> Duration {
        tokio::time::Instant::saturating_duration_since(&self, earlier)
    }
}

impl Clock for TokioTimer {
    type Instant = tokio::time::Instant;

    #[inline]
    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }
}

impl Sleeper for TokioTimer {
    type Sleep = tokio::time::Sleep;

    /// A duration too long to represent sleeps about 30 years (tokio's
    /// "far future").
    #[inline]
    fn sleep(&self, duration: Duration) -> tokio::time::Sleep {
        tokio::time::sleep(duration)
    }
}

impl Timer for TokioTimer {
    #[inline]
    fn sleep_until(&self, deadline: tokio::time::Instant) -> tokio::time::Sleep {
        tokio::time::sleep_until(deadline)
    }
}
