//! [`timeout`] and [`timeout_at`]: asyncio's `wait_for` / `timeout`.

use core::fmt;
use core::future::{Future, IntoFuture};
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use pin_project_lite::pin_project;

use super::{Sleeper, Timer};

/// Error from [`Timeout`]: the time ran out before the future completed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{sleeper_fn, timeout, Elapsed};
///
/// let never_sleeps = sleeper_fn(|_| std::future::ready(()));
/// let r = futures_lite::future::block_on(timeout(
///     never_sleeps,
///     Duration::ZERO,
///     std::future::pending::<()>(),
/// ));
/// assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl core::error::Error for Elapsed {}

pin_project! {
    /// The future returned by [`timeout`], [`timeout_at`] and
    /// [`TimeoutExt`]: the inner future's output, or [`Elapsed`].
    ///
    /// The inner future is polled before the timer, so a future that is
    /// ready when first polled is never reported as timed out.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops (cancels) both the inner future and the sleep. What
    /// that loses is whatever the inner future loses when dropped. The inner
    /// future lives as long as the `Timeout`: `.await` drops both as soon as
    /// it completes, with [`Elapsed`] or not, while a `Timeout` polled by hand
    /// keeps the inner future (and whatever it holds) until it is dropped or
    /// [`into_inner`](Self::into_inner) takes it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::{block_on, pending, poll_once};
    /// use sluicegate::time::{timeout, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let mut slow = Box::pin(timeout(&clock, Duration::from_secs(1), pending::<()>()));
    /// assert!(block_on(poll_once(&mut slow)).is_none());
    /// clock.advance(Duration::from_secs(1));
    /// assert!(block_on(slow).is_err());
    ///
    /// let quick = timeout(&clock, Duration::ZERO, async { 7 });
    /// assert_eq!(block_on(quick), Ok(7)); // ready at once: not timed out
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F, S> {
        #[pin]
        future: F,
        #[pin]
        sleep: S,
    }
}

impl<F, S> Timeout<F, S> {
    /// The inner future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let instant = sluicegate::time::sleeper_fn(|_| std::future::ready(()));
    /// let t = sluicegate::time::timeout(instant, Duration::ZERO, std::future::ready(3));
    /// let _inner: &std::future::Ready<i32> = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Gives the inner future back, cancelling the timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let instant = sluicegate::time::sleeper_fn(|_| std::future::ready(()));
    /// let t = sluicegate::time::timeout(instant, Duration::ZERO, std::future::ready(3));
    /// assert_eq!(futures_lite::future::block_on(t.into_inner()), 3);
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future, S: Future<Output = ()>> Future for Timeout<F, S> {
    type Output = Result<F::Output, Elapsed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match this.sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug, S> fmt::Debug for Timeout<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .finish_non_exhaustive()
    }
}

/// Runs `future` for at most `duration` (counted from this call): asyncio's
/// `wait_for(coro, timeout)`.
///
/// `sleeper` is taken by value: pass `&timer` to borrow one (`&T`,
/// `Box<T>` and `Arc<T>` are sleepers whenever `T` is). Only its sleep
/// future is kept.
///
/// # Errors
///
/// The returned future yields [`Elapsed`] if `duration` passes first; the
/// inner future is dropped with the [`Timeout`] (at once, with `.await`).
///
/// # Cancel safety
///
/// See [`Timeout`]: dropping it cancels the inner future.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout, ManualClock};
///
/// let clock = ManualClock::new();
/// futures_lite::future::block_on(async {
///     assert_eq!(timeout(&clock, Duration::from_secs(1), async { 5 }).await, Ok(5));
/// });
/// let slow = clock.auto_advance(timeout(&clock, Duration::from_secs(1), std::future::pending::<()>()));
/// assert!(futures_lite::future::block_on(slow).is_err());
/// ```
pub fn timeout<S, F>(sleeper: S, duration: Duration, future: F) -> Timeout<F::IntoFuture, S::Sleep>
where
    S: Sleeper,
    F: IntoFuture,
{
    Timeout {
        future: future.into_future(),
        sleep: sleeper.sleep(duration),
    }
}

/// Runs `future` until `deadline` at the latest.
///
/// `timer` is taken by value, as in [`timeout`]; the deadline is the
/// timer's own (its [`sleep_until`](Timer::sleep_until)).
///
/// # Errors
///
/// The returned future yields [`Elapsed`] if `deadline` passes first (at
/// once, if it has already passed and `future` is not ready).
///
/// # Cancel safety
///
/// See [`Timeout`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{timeout_at, ManualClock};
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(10));
/// let late = timeout_at(&clock, Duration::from_secs(5), std::future::pending::<()>());
/// assert!(futures_lite::future::block_on(late).is_err());
/// ```
pub fn timeout_at<T, F>(
    timer: T,
    deadline: T::Instant,
    future: F,
) -> Timeout<F::IntoFuture, T::Sleep>
where
    T: Timer,
    F: IntoFuture,
{
    Timeout {
        future: future.into_future(),
        sleep: timer.sleep_until(deadline),
    }
}

/// `fut.timeout(&timer, d)` and `fut.timeout_at(&timer, deadline)`: the
/// method spelling of [`timeout`] and [`timeout_at`], for any
/// [`IntoFuture`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{ManualClock, TimeoutExt};
///
/// let clock = ManualClock::new();
/// let r = futures_lite::future::block_on(async { 1 }.timeout(&clock, Duration::from_secs(1)));
/// assert_eq!(r, Ok(1));
/// ```
pub trait TimeoutExt: IntoFuture + Sized {
    /// See [`timeout`].
    ///
    /// # Errors
    ///
    /// The returned future yields [`Elapsed`] if `duration` passes first.
    ///
    /// # Cancel safety
    ///
    /// See [`Timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{sleeper_fn, TimeoutExt};
    /// let instant = sleeper_fn(|_| std::future::ready(()));
    /// let r = futures_lite::future::block_on(std::future::pending::<()>().timeout(instant, Duration::ZERO));
    /// assert!(r.is_err());
    /// ```
    fn timeout<S: Sleeper>(
        self,
        sleeper: S,
        duration: Duration,
    ) -> Timeout<Self::IntoFuture, S::Sleep> {
        timeout(sleeper, duration, self)
    }

    /// See [`timeout_at`].
    ///
    /// # Errors
    ///
    /// The returned future yields [`Elapsed`] if `deadline` passes first.
    ///
    /// # Cancel safety
    ///
    /// See [`Timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, TimeoutExt};
    /// let clock = ManualClock::new();
    /// let r = futures_lite::future::block_on(async { 2 }.timeout_at(&clock, Duration::ZERO));
    /// assert_eq!(r, Ok(2));
    /// ```
    fn timeout_at<T: Timer>(
        self,
        timer: T,
        deadline: T::Instant,
    ) -> Timeout<Self::IntoFuture, T::Sleep> {
        timeout_at(timer, deadline, self)
    }
}

impl<F: IntoFuture> TimeoutExt for F {}
