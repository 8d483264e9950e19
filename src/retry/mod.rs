//! Retry with backoff: asyncio's retry-with-exponential-backoff decorator.
//!
//! - [`Backoff`]: the delays between attempts, a pure iterator (constant,
//!   linear or exponential, capped, with [`Jitter`] from an injectable
//!   [`RandomSource`]).
//! - [`RetryPolicy`]: the backoff plus the limits: max attempts (the first
//!   call counts, as in gRPC's `maxAttempts`) and max elapsed time.
//! - [`RetryBudget`]: token-bucket throttling shared between calls.
//! - [`Retry`]: the async runner. `Retry::new(policy, timer).run(|| op())`
//!   returns the first success or the last error with the attempt count, as
//!   a [`RetryError`]. Build it once and keep it: `run` takes `&self`, and
//!   every run starts from a fresh copy of the policy's backoff.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::retry::{Backoff, Retry, RetryPolicy};
//! use sluicegate::time::ManualClock;
//!
//! let clock = ManualClock::new();
//! let mut calls = 0;
//! let policy = RetryPolicy::new(Backoff::exponential(Duration::from_millis(100))).max_attempts(4);
//! let result = futures_lite::future::block_on(clock.auto_advance(
//!     Retry::new(policy, &clock).run(|| {
//!         calls += 1;
//!         let n = calls;
//!         async move { if n < 3 { Err("flaky") } else { Ok(n) } }
//!     }),
//! ));
//! assert_eq!(result, Ok(3));
//! assert_eq!(clock.now(), Duration::from_millis(300)); // 100 ms + 200 ms of backoff
//! ```
#![forbid(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

use pin_project_lite::pin_project;

use crate::time::{Clock, Timer, Timestamp};

mod backoff;
mod budget;

pub use backoff::{Backoff, DefaultRng, Jitter, RandomSource, SplitMix64};
pub use budget::RetryBudget;

/// The backoff schedule and the limits of a retry loop.
///
/// `B` is any iterator of delays: a [`Backoff`], or e.g.
/// `[1, 2, 5].map(Duration::from_secs).into_iter()` (when it runs out, the
/// retries stop). A [`Retry`] keeps the policy and gives each run its own
/// clone of the backoff, so every run starts from the first delay.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::new(Backoff::exponential(Duration::from_millis(100)))
///     .max_attempts(5)
///     .max_elapsed(Duration::from_secs(10));
/// assert_eq!(policy.get_max_attempts(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy<B = Backoff> {
    backoff: B,
    max_attempts: u32,
    max_elapsed: Option<Duration>,
}

impl<B: Iterator<Item = Duration>> RetryPolicy<B> {
    /// The default number of attempts, the first call included.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

    /// A policy with `backoff`, at most
    /// [`DEFAULT_MAX_ATTEMPTS`](Self::DEFAULT_MAX_ATTEMPTS) attempts and no
    /// elapsed-time limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, RetryPolicy};
    /// let p = RetryPolicy::new(Backoff::constant(Duration::from_secs(1)));
    /// assert_eq!(p.get_max_attempts(), 3);
    /// ```
    pub fn new(backoff: B) -> Self {
        Self {
            backoff,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            max_elapsed: None,
        }
    }

    /// At most `attempts` calls in all, **the first one included** (gRPC's
    /// `maxAttempts`): `max_attempts(1)` never retries. `u32::MAX` is as
    /// good as unlimited.
    ///
    /// # Panics
    ///
    /// If `attempts` is 0: the first call always happens.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, RetryPolicy};
    /// let p = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(1);
    /// assert_eq!(p.get_max_attempts(), 1);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        assert!(
            attempts >= 1,
            "max_attempts must be at least 1: the first call counts"
        );
        self.max_attempts = attempts;
        self
    }

    /// Gives up rather than start an attempt more than `limit` after the
    /// first one started, measured on the [`Retry`]'s clock. A backoff
    /// delay that would end past the limit is not waited out.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, RetryPolicy};
    /// let p = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_elapsed(Duration::from_secs(30));
    /// assert_eq!(p.get_max_elapsed(), Some(Duration::from_secs(30)));
    /// ```
    pub fn max_elapsed(mut self, limit: Duration) -> Self {
        self.max_elapsed = Some(limit);
        self
    }

    /// The attempt limit, first call included.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = sluicegate::retry::RetryPolicy::new(sluicegate::retry::Backoff::constant(Duration::ZERO));
    /// assert_eq!(p.get_max_attempts(), 3);
    /// ```
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The elapsed-time limit, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let p = sluicegate::retry::RetryPolicy::new(sluicegate::retry::Backoff::constant(Duration::ZERO));
    /// assert_eq!(p.get_max_elapsed(), None);
    /// ```
    pub fn get_max_elapsed(&self) -> Option<Duration> {
        self.max_elapsed
    }

    /// The backoff schedule.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, RetryPolicy};
    /// let p = RetryPolicy::new(Backoff::constant(Duration::from_secs(1)));
    /// assert_eq!(p.backoff().get_max_delay(), Duration::from_secs(1));
    /// ```
    pub fn backoff(&self) -> &B {
        &self.backoff
    }
}

/// Why a [`Retry`] gave up.
///
/// # Examples
///
/// ```
/// use sluicegate::retry::StopReason;
/// assert_eq!(StopReason::MaxAttempts.to_string(), "attempt limit reached");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The `retry_if` predicate said the error is not worth retrying.
    NotRetryable,
    /// [`RetryPolicy::max_attempts`] attempts were made.
    MaxAttempts,
    /// The next attempt would start after [`RetryPolicy::max_elapsed`].
    MaxElapsed,
    /// The [`RetryBudget`] allows no retry now.
    BudgetExhausted,
    /// The backoff iterator ran out of delays.
    BackoffExhausted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotRetryable => "error is not retryable",
            Self::MaxAttempts => "attempt limit reached",
            Self::MaxElapsed => "time limit reached",
            Self::BudgetExhausted => "retry budget exhausted",
            Self::BackoffExhausted => "backoff schedule exhausted",
        })
    }
}

/// Error from [`Retry::run`]: the last attempt's error, how many attempts
/// were made, and why it stopped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
///
/// let no_wait = sluicegate::time::sleeper_fn(|_| std::future::ready(()));
/// let timer = sluicegate::time::WithClock::new(no_wait, sluicegate::time::ManualClock::new());
/// let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(2);
/// let err = futures_lite::future::block_on(
///     Retry::new(policy, timer).run(|| async { Err::<(), _>("down") }),
/// )
/// .unwrap_err();
/// assert_eq!(err.attempts(), 2);
/// assert_eq!(err.reason(), StopReason::MaxAttempts);
/// assert_eq!(err.into_inner(), "down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    error: E,
    attempts: u32,
    reason: StopReason,
}

impl<E> RetryError<E> {
    /// The last attempt's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(3);
    /// let err = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock).run(|| async { Err::<(), _>(String::from("refused")) }),
    /// ))
    /// .unwrap_err();
    /// let error: String = err.into_inner();
    /// assert_eq!(error, "refused");
    /// ```
    pub fn into_inner(self) -> E {
        self.error
    }

    /// The last attempt's error, by reference.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(3);
    /// let err = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock).run(|| async { Err::<(), _>(String::from("refused")) }),
    /// ))
    /// .unwrap_err();
    /// assert_eq!(err.error(), "refused");
    /// assert_eq!(err.to_string(), "gave up after 3 attempt(s), attempt limit reached: refused");
    /// ```
    pub fn error(&self) -> &E {
        &self.error
    }

    /// How many attempts were made, the first included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(3);
    /// let err = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock).run(|| async { Err::<(), _>(String::from("refused")) }),
    /// ))
    /// .unwrap_err();
    /// assert_eq!(err.attempts(), 3); // the first call and two retries
    /// assert_eq!(clock.now(), Duration::from_secs(2));
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why it gave up.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(3);
    /// let err = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock).run(|| async { Err::<(), _>(String::from("refused")) }),
    /// ))
    /// .unwrap_err();
    /// assert_eq!(err.reason(), StopReason::MaxAttempts);
    /// ```
    pub fn reason(&self) -> StopReason {
        self.reason
    }
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gave up after {} attempt(s), {}: {}",
            self.attempts, self.reason, self.error
        )
    }
}

impl<E: core::error::Error + 'static> core::error::Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Decides whether an error is worth retrying; see [`Retry::retry_if`].
/// Implemented by `Fn(&E) -> bool` closures and [`AnyError`].
///
/// It takes `&self`: one [`Retry`] may run many times at once, and they all
/// share it (keep state in a `Cell`, a `Mutex` or an atomic).
///
/// # Examples
///
/// ```
/// use sluicegate::retry::{AnyError, RetryIf};
/// let transient = |code: &u16| *code == 503;
/// assert!(transient.should_retry(&503));
/// assert!(!transient.should_retry(&404));
/// assert!(AnyError.should_retry(&404));
/// ```
pub trait RetryIf<E> {
    /// `true` to retry after `error`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::retry::RetryIf;
    /// struct Transient;
    /// impl RetryIf<std::io::Error> for Transient {
    ///     fn should_retry(&self, e: &std::io::Error) -> bool {
    ///         matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted)
    ///     }
    /// }
    /// assert!(Transient.should_retry(&std::io::ErrorKind::TimedOut.into()));
    /// ```
    fn should_retry(&self, error: &E) -> bool;
}

/// Every error: the default [`RetryIf`] of a [`Retry`] (retries every
/// error) and the default [`FailureClassifier`] of a
/// [`CircuitBreaker`](crate::CircuitBreaker) (counts every error as a
/// failure). One type for both, also re-exported as
/// [`breaker::AnyError`](crate::breaker::AnyError).
///
/// [`FailureClassifier`]: crate::breaker::FailureClassifier
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::FailureClassifier;
/// use sluicegate::retry::{AnyError, RetryIf};
/// assert!(RetryIf::<&str>::should_retry(&AnyError, &"permission denied"));
/// assert!(FailureClassifier::<&str>::is_failure(&mut AnyError, &"permission denied"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyError;

impl<E> RetryIf<E> for AnyError {
    #[inline]
    fn should_retry(&self, _: &E) -> bool {
        true
    }
}

impl<E, F: Fn(&E) -> bool> RetryIf<E> for F {
    #[inline]
    fn should_retry(&self, error: &E) -> bool {
        self(error)
    }
}

/// Observes each retry before its backoff wait; see [`Retry::on_retry`].
/// Implemented by `Fn(u32, &E, Duration)` closures and [`NoHook`].
///
/// It takes `&self`, as [`RetryIf`] does: concurrent runs of one [`Retry`]
/// share it.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
/// use sluicegate::retry::OnRetry;
/// let log = RefCell::new(Vec::new());
/// let hook = |attempt: u32, e: &&str, delay: Duration| log.borrow_mut().push(format!("{attempt}: {e}, {delay:?}"));
/// hook.on_retry(1, &"timeout", Duration::from_millis(100));
/// assert_eq!(*log.borrow(), ["1: timeout, 100ms"]);
/// ```
pub trait OnRetry<E> {
    /// Attempt `attempt` (1 = the first call) failed with `error`; the next
    /// attempt starts after `delay`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::time::Duration;
    /// use sluicegate::retry::OnRetry;
    /// #[derive(Default)]
    /// struct Waited(Cell<Duration>);
    /// impl<E> OnRetry<E> for Waited {
    ///     fn on_retry(&self, _: u32, _: &E, delay: Duration) {
    ///         self.0.set(self.0.get() + delay);
    ///     }
    /// }
    /// let total = Waited::default();
    /// total.on_retry(1, &"e", Duration::from_millis(100));
    /// total.on_retry(2, &"e", Duration::from_millis(200));
    /// assert_eq!(total.0.get(), Duration::from_millis(300));
    /// ```
    fn on_retry(&self, attempt: u32, error: &E, delay: Duration);
}

/// A hook that does nothing: the default [`OnRetry`] of a [`Retry`] and the
/// default [`StateChangeHook`] of a [`CircuitBreaker`](crate::CircuitBreaker).
/// One type for both, also re-exported as
/// [`breaker::NoHook`](crate::breaker::NoHook).
///
/// [`StateChangeHook`]: crate::breaker::StateChangeHook
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::{State, StateChange, StateChangeHook};
/// use sluicegate::retry::{NoHook, OnRetry};
/// NoHook.on_retry(1, &"error", std::time::Duration::ZERO);
/// NoHook.on_state_change(StateChange { from: State::Open, to: State::HalfOpen });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl<E> OnRetry<E> for NoHook {
    #[inline]
    fn on_retry(&self, _: u32, _: &E, _: Duration) {}
}

impl<E, F: Fn(u32, &E, Duration)> OnRetry<E> for F {
    #[inline]
    fn on_retry(&self, attempt: u32, error: &E, delay: Duration) {
        self(attempt, error, delay)
    }
}

/// Lets an error ask for a specific delay (an HTTP `Retry-After`, gRPC's
/// pushback); see [`Retry::retry_after`]. Implemented by
/// `Fn(&E) -> Option<Duration>` closures and [`NoRetryAfter`]. It takes
/// `&self`, as [`RetryIf`] does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{NoRetryAfter, RetryAfter};
/// struct Throttled { retry_after_secs: u64 }
/// let header = |e: &Throttled| Some(Duration::from_secs(e.retry_after_secs));
/// assert_eq!(header.retry_after(&Throttled { retry_after_secs: 30 }), Some(Duration::from_secs(30)));
/// assert_eq!(NoRetryAfter.retry_after(&Throttled { retry_after_secs: 30 }), None);
/// ```
pub trait RetryAfter<E> {
    /// The delay `error` asks for, or `None` to follow the backoff.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::RetryAfter;
    /// let header = |e: &(u16, Option<u64>)| e.1.map(Duration::from_secs);
    /// assert_eq!(header.retry_after(&(429, Some(2))), Some(Duration::from_secs(2)));
    /// assert_eq!(header.retry_after(&(503, None)), None);
    /// ```
    fn retry_after(&self, error: &E) -> Option<Duration>;
}

/// Always follows the backoff: the default [`RetryAfter`].
///
/// # Examples
///
/// ```
/// use sluicegate::retry::{NoRetryAfter, RetryAfter};
/// assert_eq!(RetryAfter::<&str>::retry_after(&NoRetryAfter, &"busy"), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRetryAfter;

impl<E> RetryAfter<E> for NoRetryAfter {
    #[inline]
    fn retry_after(&self, _: &E) -> Option<Duration> {
        None
    }
}

impl<E, F: Fn(&E) -> Option<Duration>> RetryAfter<E> for F {
    #[inline]
    fn retry_after(&self, error: &E) -> Option<Duration> {
        self(error)
    }
}

/// The retry runner: a [`RetryPolicy`], a timer to wait out the backoff on,
/// and optional hooks. Build it, then [`run`](Self::run) an operation.
///
/// Build it once and keep it (in a struct, say): [`run`](Self::run)
/// takes `&self`, so one `Retry` serves every request, several at once if
/// need be. Each run starts from its own clone of the policy's backoff (the
/// first delay again; a [`DefaultRng`] clone draws its own jitter), while the
/// hooks are built once and shared by every run, which is why they take
/// `&self` (`Fn` closures; keep counters in a `Cell`, a `Mutex` or an
/// atomic).
///
/// The timer must also be a [`Clock`] (for the elapsed-time limit): every
/// [`Timer`] is; pair a sleeper without a clock
/// ([`sleeper_fn`](crate::time::sleeper_fn)) with one through
/// [`WithClock`](crate::time::WithClock).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
/// use sluicegate::time::ManualClock;
///
/// #[derive(Debug, PartialEq)]
/// enum HttpError { Unavailable, NotFound }
///
/// let clock = ManualClock::new();
/// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(5);
/// let retries = std::cell::RefCell::new(Vec::new());
/// let err = futures_lite::future::block_on(clock.auto_advance(
///     Retry::new(policy, &clock)
///         .retry_if(|e: &HttpError| *e == HttpError::Unavailable)
///         .on_retry(|attempt, _: &HttpError, delay| retries.borrow_mut().push((attempt, delay)))
///         .run({
///             let mut n = 0;
///             move || {
///                 n += 1;
///                 let e = if n < 3 { HttpError::Unavailable } else { HttpError::NotFound };
///                 async move { Err::<(), _>(e) }
///             }
///         }),
/// ))
/// .unwrap_err();
/// assert_eq!(err.reason(), StopReason::NotRetryable);
/// assert_eq!(err.attempts(), 3);
/// assert_eq!(*retries.borrow(), [(1, Duration::from_secs(1)), (2, Duration::from_secs(1))]);
/// ```
///
/// Kept in a struct and run for every request:
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, Retry, RetryError, RetryPolicy};
/// use sluicegate::time::ManualClock;
///
/// struct Client {
///     retry: Retry<'static, Backoff, ManualClock, fn(&u16) -> bool>,
/// }
///
/// impl Client {
///     async fn get(&self, status: u16) -> Result<&'static str, RetryError<u16>> {
///         self.retry.run(|| async move { if status == 200 { Ok("body") } else { Err(status) } }).await
///     }
/// }
///
/// fn transient(status: &u16) -> bool {
///     *status == 503
/// }
/// let clock = ManualClock::new();
/// let policy = RetryPolicy::new(Backoff::exponential(Duration::from_secs(1))).max_attempts(3);
/// let client = Client { retry: Retry::new(policy, clock.clone()).retry_if(transient as fn(&u16) -> bool) };
/// futures_lite::future::block_on(clock.auto_advance(async {
///     assert_eq!(client.get(200).await, Ok("body"));
///     assert_eq!(client.get(503).await.unwrap_err().attempts(), 3);
///     assert_eq!(client.get(404).await.unwrap_err().attempts(), 1); // not transient
/// }));
/// assert_eq!(clock.now(), Duration::from_secs(1 + 2)); // the 503 run's backoff
/// ```
pub struct Retry<'b, B, T, If = AnyError, Hook = NoHook, After = NoRetryAfter> {
    policy: RetryPolicy<B>,
    timer: T,
    retry_if: If,
    on_retry: Hook,
    retry_after: After,
    budget: Option<&'b RetryBudget>,
}

impl<B, T> Retry<'static, B, T> {
    /// A runner for `policy` that waits on `timer`; retries every error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let retry = Retry::new(RetryPolicy::new(Backoff::constant(Duration::from_secs(1))), &clock);
    /// let mut calls = 0;
    /// let r = futures_lite::future::block_on(clock.auto_advance(retry.run(|| {
    ///     calls += 1;
    ///     let n = calls;
    ///     async move { if n == 1 { Err("reset") } else { Ok(n) } }
    /// })));
    /// assert_eq!(r, Ok(2));
    /// ```
    pub fn new(policy: RetryPolicy<B>, timer: T) -> Self {
        Self {
            policy,
            timer,
            retry_if: AnyError,
            on_retry: NoHook,
            retry_after: NoRetryAfter,
            budget: None,
        }
    }
}

impl<'b, B, T, If, Hook, After> Retry<'b, B, T, If, Hook, After> {
    /// Retries only errors for which `predicate` returns `true`; others
    /// end the run at once with [`StopReason::NotRetryable`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(5);
    /// let err = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock)
    ///         .retry_if(|status: &u16| *status >= 500)
    ///         .run(|| async { Err::<(), u16>(404) }),
    /// ))
    /// .unwrap_err();
    /// assert_eq!((err.attempts(), err.reason()), (1, StopReason::NotRetryable));
    /// ```
    pub fn retry_if<P>(self, predicate: P) -> Retry<'b, B, T, P, Hook, After> {
        Retry {
            policy: self.policy,
            timer: self.timer,
            retry_if: predicate,
            on_retry: self.on_retry,
            retry_after: self.retry_after,
            budget: self.budget,
        }
    }

    /// Calls `hook(attempt, &error, delay)` before each backoff wait
    /// (`attempt` is the number of the attempt that failed, 1 for the first
    /// call). For logging and metrics.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(5);
    /// let log = std::cell::RefCell::new(Vec::new());
    /// let _ = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy.max_attempts(3), &clock)
    ///         .on_retry(|attempt, e: &&str, delay| log.borrow_mut().push(format!("#{attempt} {e}, next in {delay:?}")))
    ///         .run(|| async { Err::<(), _>("timeout") }),
    /// ));
    /// assert_eq!(*log.borrow(), ["#1 timeout, next in 1s", "#2 timeout, next in 1s"]);
    /// ```
    pub fn on_retry<H>(self, hook: H) -> Retry<'b, B, T, If, H, After> {
        Retry {
            policy: self.policy,
            timer: self.timer,
            retry_if: self.retry_if,
            on_retry: hook,
            retry_after: self.retry_after,
            budget: self.budget,
        }
    }

    /// Lets an error pick the delay before the next attempt: when
    /// `delay_for(&error)` returns `Some(d)`, the run waits `d` instead of
    /// the backoff's delay (the backoff still advances). `d` is not capped by
    /// the backoff's maximum (the server knows best), but the elapsed-time
    /// limit still applies.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy};
    /// use sluicegate::time::ManualClock;
    ///
    /// struct Busy { retry_after: Duration }
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_millis(10))).max_attempts(2);
    /// let _ = futures_lite::future::block_on(clock.auto_advance(
    ///     Retry::new(policy, &clock)
    ///         .retry_after(|e: &Busy| Some(e.retry_after))
    ///         .run(|| async { Err::<(), _>(Busy { retry_after: Duration::from_secs(30) }) }),
    /// ));
    /// assert_eq!(clock.now(), Duration::from_secs(30));
    /// ```
    pub fn retry_after<A>(self, delay_for: A) -> Retry<'b, B, T, If, Hook, A> {
        Retry {
            policy: self.policy,
            timer: self.timer,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            retry_after: delay_for,
            budget: self.budget,
        }
    }

    /// Throttles retries with a shared [`RetryBudget`]: each retryable
    /// failure takes a token, each success refills, and a retry happens only
    /// while the budget allows it (else [`StopReason::BudgetExhausted`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryBudget, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// static BUDGET: RetryBudget = RetryBudget::new(2, 0.1);
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::ZERO)).max_attempts(10);
    /// let err = futures_lite::future::block_on(
    ///     Retry::new(policy, &clock).budget(&BUDGET).run(|| async { Err::<(), _>(()) }),
    /// )
    /// .unwrap_err();
    /// assert_eq!(err.reason(), StopReason::BudgetExhausted);
    /// assert_eq!(err.attempts(), 1); // 2 tokens - 1 = 1: not more than half
    /// ```
    pub fn budget<'c>(self, budget: &'c RetryBudget) -> Retry<'c, B, T, If, Hook, After> {
        Retry {
            policy: self.policy,
            timer: self.timer,
            retry_if: self.retry_if,
            on_retry: self.on_retry,
            retry_after: self.retry_after,
            budget: Some(budget),
        }
    }

    /// Runs `op` until it succeeds or the policy gives up. `op` is called
    /// once per attempt; its future runs to completion before the next
    /// backoff wait.
    ///
    /// Takes `&self`: call it again for the next operation, or for several
    /// at once. Each run waits out its own clone of the policy's backoff,
    /// from the first delay; the elapsed-time limit counts from the run's
    /// first attempt; a [`budget`](Self::budget) is shared by every run.
    ///
    /// # Errors
    ///
    /// [`RetryError`] with the last attempt's error, the number of attempts
    /// and the [`StopReason`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future drops the attempt in flight, or stops
    /// the backoff wait; no further attempt is made.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy, StopReason};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_attempts(5);
    /// let mut attempts = 0;
    /// let r = futures_lite::future::block_on(clock.auto_advance(Retry::new(policy, &clock).run(|| {
    ///     attempts += 1; // `op` is called once per attempt
    ///     async { Err::<(), _>("unavailable") }
    /// })));
    /// assert_eq!(r.unwrap_err().reason(), StopReason::MaxAttempts);
    /// assert_eq!(attempts, 5);
    /// ```
    pub fn run<Op, Fut, O, E>(&self, op: Op) -> Run<'_, B, T, If, Hook, After, Op, Fut>
    where
        T: Timer + Clock,
        B: Iterator<Item = Duration> + Clone,
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<O, E>>,
        If: RetryIf<E>,
        Hook: OnRetry<E>,
        After: RetryAfter<E>,
    {
        Run {
            retry: self,
            backoff: self.policy.backoff.clone(),
            op,
            attempts: 0,
            start: None,
            state: State::Idle,
        }
    }
}

impl<B: fmt::Debug, T: fmt::Debug, If, Hook, After> fmt::Debug
    for Retry<'_, B, T, If, Hook, After>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("timer", &self.timer)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

pin_project! {
    #[project = StateProj]
    enum State<Fut, S> {
        Idle,
        Running { #[pin] attempt: Fut },
        Sleeping { #[pin] sleep: S },
        Done,
    }
}

pin_project! {
    /// The future returned by [`Retry::run`]. It borrows the [`Retry`], so
    /// one kept in a binding (or a struct) can start many runs.
    ///
    /// # Cancel safety
    ///
    /// Dropping it drops the attempt in flight (or the backoff wait); no
    /// further attempt is made. One poll starts at most one attempt: when an
    /// attempt fails at once and its backoff sleep is over at once (a zero
    /// delay), it yields to the executor before the next one, so that an
    /// enclosing `timeout` or `select!` gets its turn.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::{block_on, poll_once};
    /// use sluicegate::retry::{Backoff, Retry, RetryPolicy};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(10)));
    /// let mut attempts = 0;
    /// let retry = Retry::new(policy, &clock);
    /// let mut run = Box::pin(retry.run(|| {
    ///     attempts += 1;
    ///     async { Err::<(), _>("down") }
    /// }));
    /// assert!(block_on(poll_once(&mut run)).is_none()); // first attempt failed; backing off
    /// drop(run); // cancelled during the backoff wait: no further attempt
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(attempts, 1);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Run<'a, B, T, If, Hook, After, Op, Fut>
    where
        T: Timer,
        T: Clock,
    {
        // One lifetime for the borrow and the budget: `Retry` is covariant
        // in its budget's lifetime, so `&'a Retry<'b, ..>` shortens to this.
        retry: &'a Retry<'a, B, T, If, Hook, After>,
        // This run's own schedule, cloned from the policy's.
        backoff: B,
        op: Op,
        attempts: u32,
        start: Option<T::Instant>,
        #[pin]
        state: State<Fut, T::Sleep>,
    }
}

/// What to do after a failed attempt.
enum Next {
    Retry(Duration),
    Stop(StopReason),
}

impl<B, T, If, Hook, After> Retry<'_, B, T, If, Hook, After>
where
    T: Timer + Clock,
    B: Iterator<Item = Duration>,
{
    fn decide<E>(&self, backoff: &mut B, error: &E, attempts: u32, start: T::Instant) -> Next
    where
        If: RetryIf<E>,
        After: RetryAfter<E>,
    {
        if !self.retry_if.should_retry(error) {
            return Next::Stop(StopReason::NotRetryable);
        }
        if let Some(budget) = self.budget {
            budget.record_failure();
        }
        if attempts >= self.policy.max_attempts {
            return Next::Stop(StopReason::MaxAttempts);
        }
        let Some(delay) = backoff.next() else {
            return Next::Stop(StopReason::BackoffExhausted);
        };
        let delay = self.retry_after.retry_after(error).unwrap_or(delay);
        if let Some(limit) = self.policy.max_elapsed {
            let elapsed = self.timer.now().saturating_duration_since(start);
            if elapsed.saturating_add(delay) > limit {
                return Next::Stop(StopReason::MaxElapsed);
            }
        }
        if let Some(budget) = self.budget {
            if !budget.can_retry() {
                return Next::Stop(StopReason::BudgetExhausted);
            }
        }
        Next::Retry(delay)
    }
}

impl<B, T, If, Hook, After, Op, Fut, O, E> Future for Run<'_, B, T, If, Hook, After, Op, Fut>
where
    T: Timer + Clock,
    B: Iterator<Item = Duration>,
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<O, E>>,
    If: RetryIf<E>,
    Hook: OnRetry<E>,
    After: RetryAfter<E>,
{
    type Output = Result<O, RetryError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let mut started = false;
        loop {
            match this.state.as_mut().project() {
                StateProj::Idle => {
                    if started {
                        // Yield between attempts that never waited.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    started = true;
                    if this.start.is_none() {
                        *this.start = Some(this.retry.timer.now());
                    }
                    *this.attempts = this.attempts.saturating_add(1);
                    let attempt = (this.op)();
                    this.state.set(State::Running { attempt });
                }
                StateProj::Running { attempt } => {
                    let result = match attempt.poll(cx) {
                        Poll::Ready(r) => r,
                        Poll::Pending => return Poll::Pending,
                    };
                    let error = match result {
                        Ok(value) => {
                            if let Some(budget) = this.retry.budget {
                                budget.record_success();
                            }
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(value));
                        }
                        Err(e) => e,
                    };
                    let start = this.start.expect("set before the first attempt");
                    match this
                        .retry
                        .decide(this.backoff, &error, *this.attempts, start)
                    {
                        Next::Retry(delay) => {
                            this.retry.on_retry.on_retry(*this.attempts, &error, delay);
                            let sleep = this.retry.timer.sleep(delay);
                            this.state.set(State::Sleeping { sleep });
                        }
                        Next::Stop(reason) => {
                            this.state.set(State::Done);
                            return Poll::Ready(Err(RetryError {
                                error,
                                attempts: *this.attempts,
                                reason,
                            }));
                        }
                    }
                }
                StateProj::Sleeping { sleep } => {
                    if sleep.poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.state.set(State::Idle);
                }
                StateProj::Done => panic!("`retry::Run` polled after completion"),
            }
        }
    }
}

impl<B, T, If, Hook, After, Op, Fut> fmt::Debug for Run<'_, B, T, If, Hook, After, Op, Fut>
where
    T: Timer + Clock,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Running { .. } => "running",
            State::Sleeping { .. } => "sleeping",
            State::Done => "done",
        };
        f.debug_struct("Run")
            .field("attempts", &self.attempts)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
