//! [`ManualClock`]: virtual time for tests and simulations.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

use pin_project_lite::pin_project;

use super::{Clock, Sleeper, Timer};
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::raw_mutex::{DefaultRawMutex, Lock};

/// A virtual clock: time stands still until [`advance`](Self::advance)
/// moves it, and then every sleep that became due wakes, under any executor.
/// No thread, no real time.
///
/// Its [`Instant`](Clock::Instant) is a `Duration`: the virtual time since the
/// clock was made. Clones share the same time, so a test can hand one clone
/// to the code under test and advance another. It is a [`Timer`] too, so
/// the code under test can sleep on it (pass it by value, `&clock`, or in an
/// `Arc`).
///
/// Needs the `alloc` feature (sleepers are kept in a map) and a target with
/// pointer-sized atomics.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
/// use sluicegate::time::{ManualClock, Sleeper};
///
/// let clock = ManualClock::new();
/// let mut nap = Box::pin(clock.sleep(Duration::from_secs(60)));
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// assert!(nap.as_mut().poll(&mut cx).is_pending());
/// assert_eq!(clock.pending_sleeps(), 1);
///
/// clock.advance(Duration::from_secs(59));
/// assert!(nap.as_mut().poll(&mut cx).is_pending());
/// clock.advance(Duration::from_secs(1));
/// assert!(nap.as_mut().poll(&mut cx).is_ready());
/// assert_eq!(clock.now(), Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    shared: Arc<Shared>,
}

struct Shared {
    state: Lock<State>,
}

struct State {
    now: Duration,
    /// Registered sleeps by (deadline, id): the first entry is due first.
    sleepers: BTreeMap<(Duration, u64), Waker>,
    next_id: u64,
}

impl ManualClock {
    /// A clock at virtual time zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = sluicegate::time::ManualClock::new();
    /// assert_eq!(clock.now(), std::time::Duration::ZERO);
    /// ```
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Lock::new(
                    State {
                        now: Duration::ZERO,
                        sleepers: BTreeMap::new(),
                        next_id: 0,
                    },
                    DefaultRawMutex::new(),
                ),
            }),
        }
    }

    /// The current virtual time.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.now(), Duration::from_millis(1500));
    /// ```
    pub fn now(&self) -> Duration {
        self.shared.state.with(|s| s.now)
    }

    /// Moves time forward by `duration` (saturating) and wakes every sleep
    /// that became due. The wakers run after the clock's lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// clock.advance(Duration::from_secs(1));
    /// clock.advance(Duration::MAX);
    /// assert_eq!(clock.now(), Duration::MAX);
    /// ```
    pub fn advance(&self, duration: Duration) {
        self.move_to(|s| s.now.saturating_add(duration));
    }

    /// Moves time forward to `instant` and wakes every sleep that became
    /// due. Time never goes backwards: an `instant` in the past does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// clock.advance_to(Duration::from_secs(3));
    /// clock.advance_to(Duration::from_secs(1));
    /// assert_eq!(clock.now(), Duration::from_secs(3));
    /// ```
    pub fn advance_to(&self, instant: Duration) {
        self.move_to(|s| instant.max(s.now));
    }

    /// Moves time to the earliest pending sleep's deadline and wakes the
    /// sleeps due then. Returns the new time, or `None` (and leaves time
    /// alone) if nothing is sleeping.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use std::future::Future;
    /// use sluicegate::time::{ManualClock, Sleeper};
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.advance_to_next_deadline(), None);
    /// let mut nap = Box::pin(clock.sleep(Duration::from_secs(7)));
    /// let _ = nap.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// assert_eq!(clock.advance_to_next_deadline(), Some(Duration::from_secs(7)));
    /// ```
    pub fn advance_to_next_deadline(&self) -> Option<Duration> {
        let mut target = None;
        self.move_to(|s| match s.sleepers.keys().next() {
            Some(&(deadline, _)) => {
                let t = s.now.max(deadline);
                target = Some(t);
                t
            }
            None => s.now,
        });
        target
    }

    /// The deadline of the earliest pending (polled, not yet due) sleep.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let clock = sluicegate::time::ManualClock::new();
    /// assert_eq!(clock.next_deadline(), None);
    /// ```
    pub fn next_deadline(&self) -> Option<Duration> {
        self.shared
            .state
            .with(|s| s.sleepers.keys().next().map(|&(d, _)| d))
    }

    /// How many sleeps are registered: polled at least once, not yet due,
    /// not dropped. Tests use it to know that a task has gone to sleep.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = sluicegate::time::ManualClock::new();
    /// assert_eq!(clock.pending_sleeps(), 0);
    /// ```
    pub fn pending_sleeps(&self) -> usize {
        self.shared.state.with(|s| s.sleepers.len())
    }

    /// Wraps `future` so that whenever it is idle (returns `Pending` without
    /// having been woken meanwhile), the clock jumps to the next pending
    /// deadline: tokio's paused-time auto-advance, on any executor.
    ///
    /// It advances on behalf of every sleeper of this clock, not just the
    /// wrapped future's, without waiting for other tasks to run; use it
    /// where one future drives the simulation, and advance by hand when
    /// several tasks share the clock. When nothing sleeps it waits for an
    /// ordinary wake-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Sleeper};
    ///
    /// let clock = ManualClock::new();
    /// futures_lite::future::block_on(clock.auto_advance(async {
    ///     clock.sleep(Duration::from_secs(3600)).await;
    /// }));
    /// assert_eq!(clock.now(), Duration::from_secs(3600));
    /// ```
    pub fn auto_advance<F: Future>(&self, future: F) -> AutoAdvance<F> {
        AutoAdvance {
            clock: self.clone(),
            waker: Arc::new(FlagWaker {
                woken: AtomicBool::new(false),
                outer: Lock::new(None, DefaultRawMutex::new()),
            }),
            future,
        }
    }

    /// Sets the time to what `to` picks (never moving backwards), then
    /// wakes the sleeps now due, outside the lock.
    fn move_to(&self, to: impl FnOnce(&State) -> Duration) {
        let due = self.shared.state.with(|s| {
            s.now = s.now.max(to(s));
            let mut due = Vec::new();
            while let Some(entry) = s.sleepers.first_entry() {
                if entry.key().0 > s.now {
                    break;
                }
                due.push(entry.remove());
            }
            due
        });
        for waker in due {
            waker.wake();
        }
    }

    fn sleep_until_inner(&self, deadline: Duration) -> ManualSleep {
        ManualSleep {
            shared: self.shared.clone(),
            deadline,
            id: None,
        }
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (now, sleeping) = self.shared.state.with(|s| (s.now, s.sleepers.len()));
        f.debug_struct("ManualClock")
            .field("now", &now)
            .field("pending_sleeps", &sleeping)
            .finish()
    }
}

impl Clock for ManualClock {
    type Instant = Duration;

    #[inline]
    fn now(&self) -> Duration {
        ManualClock::now(self)
    }
}

impl Sleeper for ManualClock {
    type Sleep = ManualSleep;

    fn sleep(&self, duration: Duration) -> ManualSleep {
        self.sleep_until_inner(self.now().saturating_add(duration))
    }
}

impl Timer for ManualClock {
    // Its own deadline, not the default's "deadline minus now": that reads
    // the clock twice, and an `advance` in between would move the deadline.
    fn sleep_until(&self, deadline: Duration) -> ManualSleep {
        self.sleep_until_inner(deadline)
    }
}

/// The sleep future of [`ManualClock`]: ready once the clock's time reaches
/// its deadline.
///
/// It registers with the clock when first polled while not yet due (that
/// is what [`ManualClock::pending_sleeps`] counts) and unregisters when it
/// completes or is dropped.
///
/// # Cancel safety
///
/// Cancel safe: dropping it unregisters it; nothing else is affected.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_lite::future::{block_on, poll_once};
/// use sluicegate::time::{ManualClock, Sleeper};
///
/// let clock = ManualClock::new();
/// let mut sleep = Box::pin(clock.sleep(Duration::from_secs(5)));
/// assert!(block_on(poll_once(&mut sleep)).is_none());
/// assert_eq!(clock.pending_sleeps(), 1);
/// clock.advance(Duration::from_secs(5));
/// block_on(sleep);
/// assert_eq!(clock.pending_sleeps(), 0);
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ManualSleep {
    shared: Arc<Shared>,
    deadline: Duration,
    /// Set while registered in `sleepers` under `(deadline, id)`.
    id: Option<u64>,
}

impl ManualSleep {
    /// The virtual time at which this sleep completes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Sleeper};
    /// let clock = ManualClock::new();
    /// assert_eq!(clock.sleep(Duration::from_secs(2)).deadline(), Duration::from_secs(2));
    /// ```
    pub fn deadline(&self) -> Duration {
        self.deadline
    }
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let deadline = this.deadline;
        let id = &mut this.id;
        // A waker this poll replaces, dropped once the lock is released (a
        // waker's drop is executor code and may call back into the clock).
        let mut displaced = None;
        let poll = this.shared.state.with(|s| {
            if s.now >= deadline {
                // The time step that made it due also removed its entry.
                *id = None;
                return Poll::Ready(());
            }
            match *id {
                Some(known) => {
                    // Not due, so still registered: only `move_to` removes
                    // entries, and only due ones.
                    if let Some(w) = s.sleepers.get_mut(&(deadline, known)) {
                        if !w.will_wake(cx.waker()) {
                            displaced = Some(core::mem::replace(w, cx.waker().clone()));
                        }
                    }
                }
                None => {
                    let new = s.next_id;
                    s.next_id += 1;
                    s.sleepers.insert((deadline, new), cx.waker().clone());
                    *id = Some(new);
                }
            }
            Poll::Pending
        });
        drop(displaced);
        poll
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let key = (self.deadline, id);
            self.shared.state.with(|s| s.sleepers.remove(&key));
        }
    }
}

impl fmt::Debug for ManualSleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualSleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.id.is_some())
            .finish()
    }
}

/// The waker [`AutoAdvance`] polls its future with: it records that it was
/// woken and passes the wake-up on to the executor's waker.
struct FlagWaker {
    woken: AtomicBool,
    outer: Lock<Option<Waker>>,
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, SeqCst);
        if let Some(w) = self.outer.with(|o| o.clone()) {
            w.wake();
        }
    }
}

pin_project! {
    /// The future returned by [`ManualClock::auto_advance`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the inner future; the clock keeps the time it has
    /// reached.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Sleeper};
    ///
    /// let clock = ManualClock::new();
    /// // No real time passes: each time the inner future stalls on a sleep,
    /// // the clock jumps to the next deadline.
    /// futures_lite::future::block_on(clock.auto_advance(async {
    ///     clock.sleep(Duration::from_secs(60)).await;
    ///     clock.sleep(Duration::from_secs(30)).await;
    /// }));
    /// assert_eq!(clock.now(), Duration::from_secs(90));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct AutoAdvance<F> {
        clock: ManualClock,
        waker: Arc<FlagWaker>,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for AutoAdvance<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        // The replaced waker is dropped after the lock is released: its drop
        // may wake the inner future, which takes this lock again.
        let displaced = this.waker.outer.with(|o| match o {
            Some(w) if w.will_wake(cx.waker()) => None,
            slot => slot.replace(cx.waker().clone()),
        });
        drop(displaced);
        let waker = Waker::from(this.waker.clone());
        let mut inner_cx = Context::from_waker(&waker);
        loop {
            this.waker.woken.store(false, SeqCst);
            if let Poll::Ready(v) = this.future.as_mut().poll(&mut inner_cx) {
                return Poll::Ready(v);
            }
            // Woken while it was being polled: it has more to do now.
            if this.waker.woken.load(SeqCst) {
                continue;
            }
            if this.clock.advance_to_next_deadline().is_none() {
                return Poll::Pending;
            }
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for AutoAdvance<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoAdvance")
            .field("clock", &self.clock)
            .field("future", &self.future)
            .finish()
    }
}
