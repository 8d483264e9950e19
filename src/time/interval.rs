//! [`interval`]: a stream of evenly spaced ticks, for periodic tasks.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::{saturating_mul, Timer, Timestamp};

/// What an [`Interval`] does when ticks were missed because its owner was
/// busy (or not polling) past a tick's deadline.
///
/// Say the period is 5 s, ticks are due at 0, 5, 10, 15 s, and the task is
/// busy from 5 s to 17 s:
///
/// | policy | ticks after the stall |
/// |---|---|
/// | `Skip` (default) | 5 (late, at 17), then 20, 25 … |
/// | `Burst` | 5, 10, 15 at once at 17, then 20, 25 … |
/// | `Delay` | 5 (late, at 17), then 22, 27 … |
///
/// # Which to choose
///
/// - **A rate limit: `Delay`.** When the ticks pace calls to something that
///   allows one call per period, two calls must never come closer than the
///   period. After a stall, `Delay` waits a full period after the late tick;
///   `Skip` would fire again as soon as the grid comes round (at 20, 3 s
///   after the late tick at 17) and `Burst` at once.
/// - **A metronome: `Burst`.** When each tick stands for one period that
///   must be accounted for (a sample per period, a refill of a token bucket,
///   a frame counter), the number of ticks must match the time that passed:
///   `Burst` fires the missed ones back to back, then keeps the original
///   grid.
/// - **A health check: `Skip`** (the default). A check reports how things
///   are now: three catch-up checks after a stall would all see the same
///   state and add load just when the system is slow. `Skip` runs one check
///   right away, then returns to the grid, so checks stay at predictable
///   times.
///
/// `Skip` is the default, unlike tokio's `Burst`, because the periodic task
/// of the asyncio patterns is a health check.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{interval, ManualClock, MissedTickBehavior};
///
/// /// When (in seconds) the ticks after a 17 s stall fire, every 5 s.
/// fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<u64> {
///     let clock = ManualClock::new();
///     let mut every = interval(&clock, Duration::from_secs(5));
///     every.set_missed_tick_behavior(behavior);
///     futures_lite::future::block_on(clock.auto_advance(async {
///         every.tick().await; // at 0 s
///         clock.advance(Duration::from_secs(17)); // busy until 17 s
///         let mut fired = Vec::new();
///         for _ in 0..4 {
///             every.tick().await;
///             fired.push(clock.now().as_secs());
///         }
///         fired
///     }))
/// }
///
/// // Rate limit: never two ticks closer than the period.
/// assert_eq!(ticks_after_a_stall(MissedTickBehavior::Delay), [17, 22, 27, 32]);
/// // Metronome: as many ticks as periods passed, then the old grid.
/// assert_eq!(ticks_after_a_stall(MissedTickBehavior::Burst), [17, 17, 17, 20]);
/// // Health check: one check now, then the old grid, nothing to catch up.
/// assert_eq!(ticks_after_a_stall(MissedTickBehavior::Skip), [17, 20, 25, 30]);
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Skip);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MissedTickBehavior {
    /// Fire every missed tick, one after another without waiting, then
    /// carry on with the original schedule. For a metronome: one tick per
    /// period, however late.
    Burst,
    /// Fire one late tick, then restart the schedule a full period after it.
    /// For a rate limit: ticks never come closer than the period.
    Delay,
    /// Fire one late tick, then carry on with the original schedule at the
    /// next deadline still in the future. For a health check: no pointless
    /// catch-up, and back on the schedule.
    #[default]
    Skip,
}

impl MissedTickBehavior {
    fn next_deadline<I: Timestamp>(self, scheduled: I, now: I, period: Duration) -> I {
        let on_schedule = scheduled.saturating_add(period);
        if now < on_schedule {
            return on_schedule;
        }
        match self {
            Self::Burst => on_schedule,
            Self::Delay => now.saturating_add(period),
            Self::Skip => {
                let behind = now.saturating_duration_since(scheduled).as_nanos();
                let periods = behind / period.as_nanos() + 1;
                scheduled.saturating_add(saturating_mul(period, periods))
            }
        }
    }
}

pin_project! {
    /// A stream of ticks `period` apart; see [`interval`].
    ///
    /// Each tick yields the instant it was scheduled for. Use
    /// [`tick`](Self::tick), or the [`Stream`] impl (it never ends). With a
    /// timer whose sleep future is `!Unpin` (tokio's), pin the interval
    /// before using it as a `Stream` (`core::pin::pin!`); `tick` needs no
    /// pinning. Dropping it drops the sleep in progress, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::StreamExt;
    /// use sluicegate::time::{interval, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let ticks: Vec<_> = futures_lite::future::block_on(
    ///     clock.auto_advance(interval(&clock, Duration::from_secs(1)).take(2).collect()),
    /// );
    /// assert_eq!(ticks, [Duration::ZERO, Duration::from_secs(1)]);
    /// ```
    pub struct Interval<T>
    where
        T: Timer,
    {
        timer: T,
        period: Duration,
        next: T::Instant,
        behavior: MissedTickBehavior,
        // The sleep of `poll_tick`, and the deadline it was made for: a
        // `reset` or a `tick()` in between moves `next`, and then the sleep
        // is stale.
        #[pin]
        sleep: Option<T::Sleep>,
        sleep_for: Option<T::Instant>,
    }
}

/// A stream of ticks, the first at once and then every `period`: asyncio's
/// `while True: ...; await asyncio.sleep(period)` loop, without drift.
///
/// Deadlines are absolute (`start + k × period`), so the time the loop body
/// takes does not push later ticks back. Missed ticks follow
/// [`MissedTickBehavior::Skip`] unless set otherwise (a rate limit wants
/// `Delay`, a metronome `Burst`: see [`MissedTickBehavior`]).
///
/// `timer` is taken by value: pass `&clock` to borrow a [`ManualClock`]
/// (`&T`, `Box<T>` and `Arc<T>` are timers whenever `T` is).
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{interval, ManualClock};
///
/// let clock = ManualClock::new();
/// let ticks = futures_lite::future::block_on(clock.auto_advance(async {
///     let mut every_5s = interval(&clock, Duration::from_secs(5));
///     let mut seen = Vec::new();
///     for _ in 0..3 {
///         seen.push(every_5s.tick().await);
///     }
///     seen
/// }));
/// assert_eq!(ticks, [0, 5, 10].map(Duration::from_secs));
/// ```
///
/// [`ManualClock`]: super::ManualClock
pub fn interval<T: Timer>(timer: T, period: Duration) -> Interval<T> {
    let start = timer.now();
    interval_at(timer, start, period)
}

/// Like [`interval`], with the first tick at `start` instead of now.
///
/// # Panics
///
/// If `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{interval_at, ManualClock};
///
/// let clock = ManualClock::new();
/// let mut ticks = interval_at(&clock, Duration::from_secs(2), Duration::from_secs(1));
/// let first = futures_lite::future::block_on(clock.auto_advance(ticks.tick()));
/// assert_eq!(first, Duration::from_secs(2));
/// ```
pub fn interval_at<T: Timer>(timer: T, start: T::Instant, period: Duration) -> Interval<T> {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        timer,
        period,
        next: start,
        behavior: MissedTickBehavior::default(),
        sleep: None,
        sleep_for: None,
    }
}

impl<T: Timer> Interval<T> {
    /// Waits for the next tick and returns the instant it was scheduled for.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no tick; the next call waits
    /// for the same deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{interval, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let mut ticks = interval(&clock, Duration::from_secs(1));
    /// assert_eq!(futures_lite::future::block_on(ticks.tick()), Duration::ZERO);
    /// ```
    pub fn tick(&mut self) -> Tick<'_, T> {
        Tick {
            interval: self,
            sleep: None,
            sleep_for: None,
        }
    }

    /// The time between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// let i = sluicegate::time::interval(&clock, Duration::from_secs(3));
    /// assert_eq!(i.period(), Duration::from_secs(3));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// When the next tick is due.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// let i = sluicegate::time::interval(&clock, Duration::from_secs(3));
    /// assert_eq!(i.next_deadline(), Duration::ZERO);
    /// ```
    pub fn next_deadline(&self) -> T::Instant {
        self.next
    }

    /// The policy for missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::time::MissedTickBehavior;
    /// let clock = sluicegate::time::ManualClock::new();
    /// let i = sluicegate::time::interval(&clock, Duration::from_secs(3));
    /// assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.behavior
    }

    /// Sets the policy for missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::time::MissedTickBehavior;
    /// let clock = sluicegate::time::ManualClock::new();
    /// let mut i = sluicegate::time::interval(&clock, Duration::from_secs(3));
    /// i.set_missed_tick_behavior(MissedTickBehavior::Burst);
    /// assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.behavior = behavior;
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// let mut i = sluicegate::time::interval(&clock, Duration::from_secs(3));
    /// clock.advance(Duration::from_secs(1));
    /// i.reset();
    /// assert_eq!(i.next_deadline(), Duration::from_secs(4));
    /// ```
    pub fn reset(&mut self) {
        self.next = self.timer.now().saturating_add(self.period);
        // Not pinned (`&mut self`): the old sleep can simply go.
        self.sleep = None;
        self.sleep_for = None;
    }

    /// Polls for the next tick; the [`Stream`] impl and [`Tick`] use it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use std::task::{Context, Poll, Waker};
    /// let clock = sluicegate::time::ManualClock::new();
    /// let mut i = core::pin::pin!(sluicegate::time::interval(&clock, Duration::from_secs(3)));
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(i.as_mut().poll_tick(&mut cx), Poll::Ready(Duration::ZERO));
    /// assert!(i.as_mut().poll_tick(&mut cx).is_pending());
    /// ```
    pub fn poll_tick(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Instant> {
        let this = self.project();
        let state = TickState {
            timer: this.timer,
            period: *this.period,
            next: this.next,
            behavior: *this.behavior,
        };
        state.poll(this.sleep, this.sleep_for, cx)
    }
}

struct TickState<'a, T: Timer> {
    timer: &'a T,
    period: Duration,
    next: &'a mut T::Instant,
    behavior: MissedTickBehavior,
}

impl<T: Timer> TickState<'_, T> {
    /// `sleep` is the caller's sleep, made for the deadline `sleep_for`;
    /// one made for another deadline than `next` is replaced.
    fn poll(
        self,
        mut sleep: Pin<&mut Option<T::Sleep>>,
        sleep_for: &mut Option<T::Instant>,
        cx: &mut Context<'_>,
    ) -> Poll<T::Instant> {
        if sleep.is_some() && *sleep_for != Some(*self.next) {
            sleep.set(None);
        }
        if sleep.is_none() && self.timer.now() < *self.next {
            sleep.set(Some(self.timer.sleep_until(*self.next)));
            *sleep_for = Some(*self.next);
        }
        if let Some(s) = sleep.as_mut().as_pin_mut() {
            if s.poll(cx).is_pending() {
                return Poll::Pending;
            }
            sleep.set(None);
            *sleep_for = None;
        }
        let scheduled = *self.next;
        let now = self.timer.now();
        *self.next = self.behavior.next_deadline(scheduled, now, self.period);
        Poll::Ready(scheduled)
    }
}

impl<T: Timer> Stream for Interval<T> {
    type Item = T::Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T::Instant>> {
        self.poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<T: Timer + fmt::Debug> fmt::Debug for Interval<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("timer", &self.timer)
            .field("period", &self.period)
            .field("next", &self.next)
            .field("behavior", &self.behavior)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future returned by [`Interval::tick`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it loses no tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::time::{interval, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let mut ticks = interval(&clock, Duration::from_secs(1));
    /// assert_eq!(block_on(ticks.tick()), Duration::ZERO); // the first is immediate
    /// {
    ///     let mut tick = Box::pin(ticks.tick());
    ///     assert!(block_on(poll_once(&mut tick)).is_none());
    /// } // dropped while waiting: the tick is not lost
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(block_on(ticks.tick()), Duration::from_secs(1));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Tick<'a, T>
    where
        T: Timer,
    {
        interval: &'a mut Interval<T>,
        #[pin]
        sleep: Option<T::Sleep>,
        sleep_for: Option<T::Instant>,
    }
}

impl<T: Timer> Future for Tick<'_, T> {
    type Output = T::Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Instant> {
        let this = self.project();
        let interval = &mut **this.interval;
        let state = TickState {
            timer: &interval.timer,
            period: interval.period,
            next: &mut interval.next,
            behavior: interval.behavior,
        };
        state.poll(this.sleep, this.sleep_for, cx)
    }
}

impl<T: Timer> fmt::Debug for Tick<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tick")
            .field("next", &self.interval.next)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const P: Duration = Duration::from_secs(5);

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn on_time_ticks_follow_the_schedule_under_every_policy() {
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert_eq!(b.next_deadline(s(5), s(5), P), s(10), "{b:?}");
            assert_eq!(b.next_deadline(s(5), s(9), P), s(10), "{b:?}");
        }
    }

    #[test]
    fn late_ticks_follow_the_documented_table() {
        // Tick due at 5 s fires at 17 s.
        assert_eq!(
            MissedTickBehavior::Burst.next_deadline(s(5), s(17), P),
            s(10)
        );
        assert_eq!(
            MissedTickBehavior::Delay.next_deadline(s(5), s(17), P),
            s(22)
        );
        assert_eq!(
            MissedTickBehavior::Skip.next_deadline(s(5), s(17), P),
            s(20)
        );
        // Exactly on a later deadline: that deadline was missed too.
        assert_eq!(
            MissedTickBehavior::Skip.next_deadline(s(5), s(15), P),
            s(20)
        );
    }

    #[test]
    fn deadlines_saturate_at_the_end_of_time() {
        let end = Duration::MAX;
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert_eq!(b.next_deadline(end, end, P), end);
        }
        // Catching up from the start of time to its end: no overflow.
        let tiny = Duration::from_nanos(1);
        assert_eq!(MissedTickBehavior::Skip.next_deadline(s(0), end, tiny), end);
        assert_eq!(
            MissedTickBehavior::Delay.next_deadline(s(0), end, tiny),
            end
        );
        assert_eq!(
            MissedTickBehavior::Burst.next_deadline(s(0), end, tiny),
            tiny
        );
    }
}
