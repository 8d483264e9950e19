//! [`AsyncIoTimer`]: async-io's `Timer` (smol's reactor) as a [`Timer`].

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::time::Instant;

use super::{Clock, Sleeper, Timer};

/// smol's timer: [`Sleeper`] and [`Timer`] over `async_io::Timer`,
/// [`Clock`] over `std::time::Instant`.
///
/// Feature `smol`. Works under any executor: async-io's reactor runs on
/// whichever thread blocks in `async_io::block_on` (smol's), or on its own
/// fallback thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout, AsyncIoTimer};
///
/// // async-io drives its timers on its own thread: any executor will do.
/// let never = std::future::pending::<()>();
/// let r = futures_lite::future::block_on(timeout(AsyncIoTimer, Duration::ZERO, never));
/// assert!(r.is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AsyncIoTimer;

impl Clock for AsyncIoTimer {
    type Instant = Instant;

    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }
}

impl Sleeper for AsyncIoTimer {
    type Sleep = AsyncIoSleep;

    /// A duration too long to represent never completes.
    #[inline]
    fn sleep(&self, duration: Duration) -> AsyncIoSleep {
        AsyncIoSleep(async_io::Timer::after(duration))
    }
}

impl Timer for AsyncIoTimer {
    #[inline]
    fn sleep_until(&self, deadline: Instant) -> AsyncIoSleep {
        AsyncIoSleep(async_io::Timer::at(deadline))
    }
}

/// The sleep future of [`AsyncIoTimer`]: an `async_io::Timer` whose output
/// is `()`.
///
/// # Cancel safety
///
/// Cancel safe: dropping it deregisters the timer from the reactor.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use sluicegate::time::{AsyncIoTimer, Sleeper};
///
/// let start = Instant::now();
/// let sleep: sluicegate::time::AsyncIoSleep = AsyncIoTimer.sleep(Duration::from_millis(1));
/// futures_lite::future::block_on(sleep);
/// assert!(start.elapsed() >= Duration::from_millis(1));
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct AsyncIoSleep(async_io::Timer);

impl AsyncIoSleep {
    /// The underlying async-io timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::time::{AsyncIoTimer, Sleeper};
    /// let timer: async_io::Timer = AsyncIoTimer.sleep(std::time::Duration::ZERO).into_inner();
    /// # drop(timer);
    /// ```
    pub fn into_inner(self) -> async_io::Timer {
        self.0
    }
}

impl Future for AsyncIoSleep {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}
