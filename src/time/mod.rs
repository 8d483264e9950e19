//! Time without a runtime: the [`Clock`], [`Sleeper`] and [`Timer`] traits,
//! [`timeout`]s, [`interval`]s, and [`ManualClock`], a virtual clock for
//! tests and simulations.
//!
//! Everything in sluicegate that needs time asks for it through these
//! traits, never from a runtime, so the same code runs on tokio, smol,
//! embassy or a test's virtual clock:
//!
//! - [`Clock`] says what time it is. Its [`Instant`](Clock::Instant) is any
//!   ordered, `Copy`, `Send + Sync` value with saturating [`Duration`]
//!   arithmetic ([`Timestamp`]): std's `Instant`, tokio's and embassy-time's
//!   `Instant`s, a `Duration` since some start, or plain `u64` nanosecond
//!   ticks.
//! - [`Sleeper`] sleeps for a duration: an associated sleep future and
//!   [`sleep`](Sleeper::sleep). That is all [`timeout`] needs.
//! - [`Timer`] is a sleeper that is also a clock, and so can
//!   [`sleep_until`](Timer::sleep_until) an instant: what [`interval`],
//!   [`timeout_at`] and retry ask for.
//!
//! A [`SendTimer`] is a timer that a task can take across threads: the one
//! bound for a library's spawned worker. A [`DynTimer`] erases any of them
//! behind one type (`alloc`), for structs that would rather not carry a
//! timer type parameter.
//!
//! Every API takes its timer or clock by value. `&T`, `Box<T>` and `Arc<T>`
//! are clocks, sleepers and timers whenever `T` is, so the caller chooses:
//! `timeout(&clock, …)` borrows, `interval(clock.clone(), …)` owns,
//! `Retry::new(policy, Arc::clone(&timer))` shares.
//!
//! | runtime | timer | feature |
//! |---|---|---|
//! | tokio | `TokioTimer` (`tokio::time`) | `tokio` |
//! | smol / async-io | `AsyncIoTimer` (async-io's `Timer`) | `smol` |
//! | embassy | `EmbassyTimer` (embassy-time) | `embassy` |
//! | tests, simulations | [`ManualClock`] | `alloc` |
//! | anything else | [`sleeper_fn`]`(\|d\| my_runtime::sleep(d))`, in a [`WithClock`] for a [`Timer`] | — |
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
//!
//! # Writing a runtime-agnostic library
//!
//! A library that times out, sleeps, ticks or retries takes its timer from
//! the application and never names a runtime. Depend on sluicegate without
//! its adapter features (`default-features = false` plus `alloc` or `std`,
//! as the library needs) and leave `tokio`, `smol` or `embassy` to the
//! binary, which picks the timer it passes in. The bounds to ask for:
//!
//! | the library | bound |
//! |---|---|
//! | only times out ([`timeout`]) | `S: Sleeper` |
//! | sleeps until deadlines, ticks ([`interval`]), retries ([`Retry`](crate::retry::Retry)) | `T: Timer` |
//! | only reads the time ([`CircuitBreaker`](crate::CircuitBreaker)) | `C: Clock` |
//! | spawns a task that holds the timer, on a multi-threaded executor | `T: SendTimer + 'static` |
//! | keeps a timer without a type parameter (`alloc`) | the type [`DynTimer`] |
//!
//! Take the timer by value and keep it; lend it to sluicegate as
//! `&self.timer` (a borrowed timer is a timer). Callers pass it owned,
//! borrowed, in an `Arc` or a `Box`, as suits them.
//!
//! A client that gives each attempt 2 s and makes at most 3, generic over
//! the timer, and driven here in virtual time by a [`ManualClock`]:
//!
//! ```
//! use std::future::Future;
//! use std::time::Duration;
//! use sluicegate::retry::{Backoff, Retry, RetryError, RetryPolicy};
//! use sluicegate::time::{timeout, Elapsed, ManualClock, Timer};
//!
//! pub struct Client<T> {
//!     timer: T,
//! }
//!
//! impl<T: Timer> Client<T> {
//!     pub fn new(timer: T) -> Self {
//!         Client { timer }
//!     }
//!
//!     /// Runs `request` until an attempt answers within 2 s, at most 3 times.
//!     pub async fn call<F, Fut>(&self, mut request: F) -> Result<Fut::Output, RetryError<Elapsed>>
//!     where
//!         F: FnMut() -> Fut,
//!         Fut: Future,
//!     {
//!         let policy = RetryPolicy::new(Backoff::exponential(Duration::from_millis(100)))
//!             .max_attempts(3);
//!         Retry::new(policy, &self.timer)
//!             .run(|| timeout(&self.timer, Duration::from_secs(2), request()))
//!             .await
//!     }
//! }
//!
//! // The library's own test: no runtime, no real waiting.
//! let clock = ManualClock::new();
//! let client = Client::new(clock.clone());
//! let mut attempts = 0;
//! let answer = futures_lite::future::block_on(clock.auto_advance(client.call(|| {
//!     attempts += 1;
//!     let hangs = attempts == 1;
//!     async move {
//!         if hangs {
//!             std::future::pending::<()>().await;
//!         }
//!         42
//!     }
//! })));
//! assert_eq!(answer, Ok(42));
//! assert_eq!(attempts, 2);
//! assert_eq!(clock.now(), Duration::from_millis(2100)); // a 2 s timeout, 100 ms of backoff
//!
//! fn spawnable<F: Future + Send>(_: &F) {}
//! spawnable(&client.call(|| async { 1 })); // ManualClock is a SendTimer
//! ```
//!
//! The binaries pass their runtime's timer, turning on the feature that
//! brings it: `Client::new(TokioTimer)` under tokio (feature `tokio`),
//! `Client::new(AsyncIoTimer)` under smol (feature `smol`),
//! `Client::new(EmbassyTimer)` under embassy (feature `embassy`; the binary
//! also picks embassy-time's driver). With `T: SendTimer`, the future of
//! `call` is `Send` (when the request's is), so a multi-threaded executor
//! can spawn it.
//!
//! The erased form keeps a [`DynTimer`] instead, and takes any
//! [`SendTimer`] at the edge:
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::time::{timeout, DynTimer, Elapsed, ManualClock, SendTimer};
//!
//! #[derive(Clone, Debug)]
//! pub struct Pinger {
//!     timer: DynTimer,
//! }
//!
//! impl Pinger {
//!     pub fn new(timer: impl SendTimer + 'static) -> Self {
//!         Pinger { timer: DynTimer::new(timer) }
//!     }
//!
//!     pub async fn ping(&self, reply: impl std::future::Future<Output = ()>) -> Result<(), Elapsed> {
//!         timeout(&self.timer, Duration::from_secs(1), reply).await
//!     }
//! }
//!
//! let clock = ManualClock::new();
//! let pinger = Pinger::new(clock.clone());
//! let r = futures_lite::future::block_on(clock.auto_advance(pinger.ping(std::future::pending())));
//! assert!(r.is_err());
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::time::Duration;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod dyn_timer;
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
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use dyn_timer::{DynSleep, DynTimer};
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
/// `Send + Sync`, so that an instant held across an `.await` never keeps a
/// task from moving between threads: every instant type is plain data.
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
pub trait Timestamp: Copy + Ord + fmt::Debug + Send + Sync {
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

    /// [`saturating_duration_since`](Self::saturating_duration_since) in
    /// whole nanoseconds, saturating at `u64::MAX` (about 584 years).
    ///
    /// The default converts the `Duration`; `u64` ticks override it with a
    /// plain subtraction, which the rate limiter's hot path relies on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::Timestamp;
    /// assert_eq!(5_000u64.saturating_nanos_since(1_000), 4_000);
    /// assert_eq!(Duration::from_secs(1).saturating_nanos_since(Duration::ZERO), 1_000_000_000);
    /// assert_eq!(Duration::MAX.saturating_nanos_since(Duration::ZERO), u64::MAX);
    /// ```
    #[inline]
    fn saturating_nanos_since(self, earlier: Self) -> u64 {
        let d = self.saturating_duration_since(earlier);
        d.as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()))
    }
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

    #[inline]
    fn saturating_nanos_since(self, earlier: Self) -> u64 {
        self.saturating_sub(earlier)
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
/// `&C`, `Box<C>` and `Arc<C>` are clocks whenever `C` is.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{Clock, ManualClock};
///
/// fn deadline_in<C: Clock>(clock: C, d: Duration) -> C::Instant {
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

// A handle to a clock, sleeper or timer is one too: `&T`, `Box<T>` and
// `Arc<T>` forward to what they point to. APIs take their timer or clock by
// value, and the caller picks the handle.
macro_rules! forward_through_pointers {
    ($(#[$cfg:meta])* $ptr:ty, $t:ident) => {
        $(#[$cfg])*
        impl<$t: Clock + ?Sized> Clock for $ptr {
            type Instant = $t::Instant;

            #[inline]
            fn now(&self) -> Self::Instant {
                (**self).now()
            }
        }

        $(#[$cfg])*
        impl<$t: Sleeper + ?Sized> Sleeper for $ptr {
            type Sleep = $t::Sleep;

            #[inline]
            fn sleep(&self, duration: Duration) -> Self::Sleep {
                (**self).sleep(duration)
            }
        }

        $(#[$cfg])*
        impl<$t: Timer + ?Sized> Timer for $ptr {
            // Forwarded, not the default: the pointee may have deadlines of
            // its own, and "deadline minus now, then sleep from now" reads
            // the clock twice, so a clock moved in between (by another
            // thread) would move the deadline.
            #[inline]
            fn sleep_until(&self, deadline: Self::Instant) -> Self::Sleep {
                (**self).sleep_until(deadline)
            }
        }
    };
}

forward_through_pointers!(&T, T);
forward_through_pointers!(
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    alloc::boxed::Box<T>,
    T
);
forward_through_pointers!(
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    alloc::sync::Arc<T>,
    T
);

/// Something that can sleep for a [`Duration`]: a runtime's timer, a
/// [`ManualClock`], or a closure wrapped by [`sleeper_fn`].
///
/// A sleep future completes once its time has come; dropping it cancels the
/// sleep. A sleep of a duration too long to represent sleeps "forever".
///
/// A sleeper need not tell the time: that is enough for [`timeout`]. What
/// also needs a clock ([`interval`], [`timeout_at`], retry) asks for a
/// [`Timer`], a sleeper that is also a [`Clock`]. `&S`, `Box<S>` and
/// `Arc<S>` are sleepers whenever `S` is.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{sleeper_fn, timeout, Sleeper};
///
/// let instant = sleeper_fn(|_| std::future::ready(())); // never sleeps
/// futures_lite::future::block_on(instant.sleep(Duration::from_secs(3600)));
///
/// let r = futures_lite::future::block_on(timeout(&instant, Duration::from_secs(1), async { 7 }));
/// assert_eq!(r, Ok(7));
/// ```
pub trait Sleeper {
    /// The future returned by [`sleep`](Self::sleep) (and by
    /// [`Timer::sleep_until`]).
    type Sleep: Future<Output = ()>;

    /// Sleeps for `duration`, measured from this call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::time::{ManualClock, Sleeper};
    /// let clock = ManualClock::new();
    /// futures_lite::future::block_on(clock.auto_advance(clock.sleep(Duration::from_secs(3))));
    /// assert_eq!(clock.now(), Duration::from_secs(3));
    /// ```
    fn sleep(&self, duration: Duration) -> Self::Sleep;
}

/// A [`Sleeper`] that is also a [`Clock`], and so can sleep until an
/// instant of that clock: what [`interval`], [`timeout_at`] and retry ask
/// for, and the one bound a library generic over its runtime needs.
///
/// Every runtime adapter and [`ManualClock`] is one; so are `&T`, `Box<T>`
/// and `Arc<T>` whenever `T` is. A sleeper without a clock of its own (a
/// [`sleeper_fn`]) becomes one paired with a clock in [`WithClock`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{ManualClock, Timer};
///
/// // Generic code asks for one bound, and sleeps until absolute deadlines.
/// async fn at_the_top_of_the_minute<T: Timer<Instant = Duration>>(timer: T) {
///     let now = timer.now().as_secs();
///     timer.sleep_until(Duration::from_secs((now / 60 + 1) * 60)).await;
/// }
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(75));
/// futures_lite::future::block_on(clock.auto_advance(at_the_top_of_the_minute(&clock)));
/// assert_eq!(clock.now(), Duration::from_secs(120));
/// ```
pub trait Timer: Sleeper + Clock {
    /// Sleeps until `deadline`; ready at once if it has passed.
    ///
    /// The default sleeps for the time from [`now`](Clock::now) to
    /// `deadline`. A timer with deadlines of its own overrides it: the
    /// default reads the clock and then sleeps from a later "now", so the
    /// deadline can slip by the time in between.
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
    fn sleep_until(&self, deadline: Self::Instant) -> Self::Sleep {
        let now = self.now();
        self.sleep(deadline.saturating_duration_since(now))
    }
}

/// A [`Timer`] that a multi-threaded executor can move around: the timer is
/// `Send + Sync` and so are its sleeps (`Send`) and its instants (every
/// [`Timestamp`] is). Implemented for every such timer; a library names it
/// as the one bound of a worker it spawns, adding `'static` as the spawn
/// asks.
///
/// Sleeps are not required to be `Send` by [`Sleeper`] itself: a
/// single-threaded executor (wasm's, embassy's) may run a timer whose sleep
/// future is `!Send` (a browser timer holding JavaScript values is), and
/// such a timer works everywhere but in a spawned `Send` task.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
/// use sluicegate::time::{interval, ManualClock, SendTimer};
///
/// // What a library hands to `tokio::spawn`/`smol::spawn`: a `Send` future.
/// fn heartbeat<T: SendTimer + 'static>(timer: T) -> impl Future<Output = ()> + Send + 'static {
///     async move {
///         let mut every = interval(&timer, Duration::from_secs(5));
///         for _ in 0..3 {
///             every.tick().await;
///         }
///     }
/// }
///
/// let clock = ManualClock::new();
/// futures_lite::future::block_on(clock.auto_advance(heartbeat(clock.clone())));
/// assert_eq!(clock.now(), Duration::from_secs(10));
/// ```
pub trait SendTimer: Timer<Sleep: Send> + Send + Sync {}

impl<T> SendTimer for T
where
    T: Timer + Send + Sync + ?Sized,
    T::Sleep: Send,
{
}

/// A closure `Fn(Duration) -> impl Future<Output = ()>` as a [`Sleeper`]:
/// the way to plug in a runtime that sluicegate has no adapter for.
///
/// A closure is not a sleeper by itself: a blanket impl for closures would
/// make every missing bound read as "expected an `Fn(Duration)` closure".
/// To also tell the time (for [`interval`], retry, [`timeout_at`]), pair it
/// with a clock in [`WithClock`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{interval, sleeper_fn, timeout, ManualClock, Sleeper, WithClock};
///
/// // `my_runtime::sleep` stands in for whatever the runtime offers.
/// let clock = ManualClock::new();
/// let c = clock.clone();
/// let sleeper = sleeper_fn(move |d| c.sleep(d));
///
/// let r = futures_lite::future::block_on(clock.auto_advance(
///     timeout(&sleeper, Duration::from_secs(1), std::future::pending::<()>()),
/// ));
/// assert!(r.is_err());
///
/// // Ticks at 1 s (now) and 6 s.
/// let mut every = interval(WithClock::new(sleeper, clock.clone()), Duration::from_secs(5));
/// futures_lite::future::block_on(clock.auto_advance(async {
///     every.tick().await;
///     every.tick().await;
/// }));
/// assert_eq!(clock.now(), Duration::from_secs(6));
/// ```
pub fn sleeper_fn<F, Fut>(f: F) -> SleeperFn<F>
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    SleeperFn(f)
}

/// A closure as a [`Sleeper`]; see [`sleeper_fn`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{sleeper_fn, Sleeper, SleeperFn};
///
/// let s = sleeper_fn(|_: Duration| std::future::ready(()));
/// futures_lite::future::block_on(s.sleep(Duration::from_secs(1)));
/// let f = s.into_inner();
/// futures_lite::future::block_on(f(Duration::ZERO));
/// ```
#[derive(Clone, Copy, Default)]
pub struct SleeperFn<F>(F);

impl<F> SleeperFn<F> {
    /// The closure.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sluicegate::time::sleeper_fn(|_| std::future::ready(()));
    /// let _f = s.into_inner();
    /// ```
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F, Fut> Sleeper for SleeperFn<F>
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    type Sleep = Fut;

    #[inline]
    fn sleep(&self, duration: Duration) -> Fut {
        (self.0)(duration)
    }
}

impl<F> fmt::Debug for SleeperFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Closures have no `Debug`: say which one it is.
        f.debug_tuple("SleeperFn")
            .field(&core::any::type_name::<F>())
            .finish()
    }
}

/// A [`Sleeper`] paired with a [`Clock`]: a [`Timer`], for sleepers that have
/// no clock of their own ([`sleeper_fn`]), where a [`Timer`] is asked for
/// (retry, [`interval`], [`timeout_at`]).
///
/// Its [`sleep_until`](Timer::sleep_until) sleeps for the time from the
/// clock's now to the deadline, as a sleeper without deadlines can.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::time::{sleeper_fn, Clock, ManualClock, Timer, WithClock};
///
/// let clock = ManualClock::new();
/// let sleeper = sleeper_fn(|_| std::future::ready(()));
/// let timer = WithClock::new(sleeper, clock.clone());
/// clock.advance(Duration::from_secs(2));
/// assert_eq!(timer.now(), Duration::from_secs(2));
/// futures_lite::future::block_on(timer.sleep_until(Duration::from_secs(9)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WithClock<S, C> {
    sleeper: S,
    clock: C,
}

impl<S, C> WithClock<S, C> {
    /// Pairs `sleeper` with `clock`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sluicegate::time::WithClock::new(
    ///     sluicegate::time::sleeper_fn(|_| std::future::ready(())),
    ///     sluicegate::time::ManualClock::new(),
    /// );
    /// # let _ = t;
    /// ```
    pub const fn new(sleeper: S, clock: C) -> Self {
        Self { sleeper, clock }
    }

    /// Splits the pair.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = sluicegate::time::WithClock::new(1, 2);
    /// assert_eq!(t.into_parts(), (1, 2));
    /// ```
    pub fn into_parts(self) -> (S, C) {
        (self.sleeper, self.clock)
    }
}

impl<S, C: Clock> Clock for WithClock<S, C> {
    type Instant = C::Instant;

    #[inline]
    fn now(&self) -> C::Instant {
        self.clock.now()
    }
}

impl<S: Sleeper, C> Sleeper for WithClock<S, C> {
    type Sleep = S::Sleep;

    #[inline]
    fn sleep(&self, duration: Duration) -> S::Sleep {
        self.sleeper.sleep(duration)
    }
}

impl<S: Sleeper, C: Clock> Timer for WithClock<S, C> {}

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
