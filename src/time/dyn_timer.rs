//! [`DynTimer`]: any [`SendTimer`] behind one type.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use super::{Clock, SendTimer, Sleeper, Timer, Timestamp, WithClock};

/// A type-erased [`Timer`]: any [`SendTimer`] behind one type, so a
/// library can store a timer without a type parameter on every struct.
///
/// Its [`Instant`](Clock::Instant) is a `Duration`: the time since the
/// `DynTimer` was made, by the erased timer's clock. Its sleeps are boxed
/// ([`DynSleep`]), one allocation per sleep. Deadline sleeps are the erased
/// timer's own ([`sleep_until`](Timer::sleep_until) with the deadline
/// turned back into its instant), so they keep their deadline as exactly as
/// that timer does.
///
/// Clones share the erased timer. `Send + Sync`, and a [`SendTimer`]
/// itself. Needs the `alloc` feature and pointer-sized atomics.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout, DynTimer, ManualClock};
///
/// // No type parameter for the timer.
/// struct Client {
///     timer: DynTimer,
/// }
///
/// let clock = ManualClock::new();
/// let client = Client { timer: DynTimer::new(clock.clone()) };
/// let r = futures_lite::future::block_on(clock.auto_advance(timeout(
///     &client.timer,
///     Duration::from_secs(5),
///     std::future::pending::<()>(),
/// )));
/// assert!(r.is_err());
/// assert_eq!(client.timer.now(), Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct DynTimer {
    inner: Arc<dyn Erased>,
}

/// What [`DynTimer`] asks of the timer it erases, with instants as time
/// since its start.
trait Erased: Send + Sync {
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> DynSleep;
    fn sleep_until(&self, deadline: Duration) -> DynSleep;
    fn type_name(&self) -> &'static str;
}

/// A timer and the instant its erased time counts from.
struct Anchored<T: Timer> {
    timer: T,
    start: T::Instant,
}

impl<T: SendTimer + 'static> Erased for Anchored<T> {
    fn now(&self) -> Duration {
        self.timer.now().saturating_duration_since(self.start)
    }

    fn sleep(&self, duration: Duration) -> DynSleep {
        DynSleep(Box::pin(self.timer.sleep(duration)))
    }

    fn sleep_until(&self, deadline: Duration) -> DynSleep {
        // Back to the timer's own instant: its absolute deadline, not a
        // duration from a "now" read again later.
        let deadline = self.start.saturating_add(deadline);
        DynSleep(Box::pin(self.timer.sleep_until(deadline)))
    }

    fn type_name(&self) -> &'static str {
        core::any::type_name::<T>()
    }
}

impl DynTimer {
    /// Erases `timer`; its time counts from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{DynTimer, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_secs(60));
    /// let timer = DynTimer::new(clock.clone());
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(timer.now(), Duration::from_secs(1));
    /// ```
    pub fn new<T: SendTimer + 'static>(timer: T) -> Self {
        let start = timer.now();
        Self {
            inner: Arc::new(Anchored { timer, start }),
        }
    }

    /// Erases a [`Sleeper`] paired with a [`Clock`] (a [`WithClock`]): for
    /// a runtime that sluicegate has no adapter for. Deadline sleeps are
    /// then sleeps for the time from the clock's now to the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{sleeper_fn, DynTimer, StdClock};
    ///
    /// // `my_runtime::sleep` stands in for whatever the runtime offers.
    /// let timer = DynTimer::with_clock(sleeper_fn(|_| std::future::ready(())), StdClock);
    /// futures_lite::future::block_on(timer.sleep(Duration::from_secs(3600))); // at once
    /// ```
    pub fn with_clock<S, C>(sleeper: S, clock: C) -> Self
    where
        S: Sleeper + Send + Sync + 'static,
        S::Sleep: Send,
        C: Clock + Send + Sync + 'static,
    {
        Self::new(WithClock::new(sleeper, clock))
    }

    /// The time since this timer was made (by the erased timer's clock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{DynTimer, ManualClock};
    /// let clock = ManualClock::new();
    /// let timer = DynTimer::new(clock.clone());
    /// clock.advance(Duration::from_millis(5));
    /// assert_eq!(timer.now(), Duration::from_millis(5));
    /// ```
    pub fn now(&self) -> Duration {
        self.inner.now()
    }

    /// Sleeps for `duration` on the erased timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{DynTimer, ManualClock};
    /// let clock = ManualClock::new();
    /// let timer = DynTimer::new(clock.clone());
    /// futures_lite::future::block_on(clock.auto_advance(timer.sleep(Duration::from_secs(3))));
    /// assert_eq!(timer.now(), Duration::from_secs(3));
    /// ```
    pub fn sleep(&self, duration: Duration) -> DynSleep {
        self.inner.sleep(duration)
    }

    /// Sleeps until `deadline` (time since this timer was made), on the
    /// erased timer's own deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{DynTimer, ManualClock};
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_secs(100));
    /// let timer = DynTimer::new(clock.clone());
    /// futures_lite::future::block_on(clock.auto_advance(timer.sleep_until(Duration::from_secs(3))));
    /// assert_eq!(clock.now(), Duration::from_secs(103));
    /// ```
    pub fn sleep_until(&self, deadline: Duration) -> DynSleep {
        self.inner.sleep_until(deadline)
    }
}

impl Clock for DynTimer {
    type Instant = Duration;

    #[inline]
    fn now(&self) -> Duration {
        DynTimer::now(self)
    }
}

impl Sleeper for DynTimer {
    type Sleep = DynSleep;

    #[inline]
    fn sleep(&self, duration: Duration) -> DynSleep {
        DynTimer::sleep(self, duration)
    }
}

impl Timer for DynTimer {
    #[inline]
    fn sleep_until(&self, deadline: Duration) -> DynSleep {
        DynTimer::sleep_until(self, deadline)
    }
}

impl fmt::Debug for DynTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The erased timer need not be `Debug` (a `sleeper_fn` is not): say
        // which type it is.
        f.debug_struct("DynTimer")
            .field("timer", &self.inner.type_name())
            .finish_non_exhaustive()
    }
}

/// The sleep future of [`DynTimer`]: the erased timer's sleep, boxed.
///
/// # Cancel safety
///
/// Dropping it drops the erased timer's sleep, and cancels it as that
/// sleep does (every sleep of sluicegate's timers is cancel safe).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_lite::future::{block_on, poll_once};
/// use sluicegate::time::{DynSleep, DynTimer, ManualClock};
///
/// let clock = ManualClock::new();
/// let timer = DynTimer::new(clock.clone());
/// let mut nap: DynSleep = timer.sleep(Duration::from_secs(5));
/// assert!(block_on(poll_once(&mut nap)).is_none());
/// clock.advance(Duration::from_secs(5));
/// block_on(nap);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct DynSleep(Pin<Box<dyn Future<Output = ()> + Send>>);

impl Future for DynSleep {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for DynSleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynSleep").finish_non_exhaustive()
    }
}
