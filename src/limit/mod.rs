//! Rate limits and adaptive concurrency limits, without a runtime.
//!
//! Three tools bound three different things; pick by what the other side
//! can take:
//!
//! | the other side can take | tool | bounds |
//! |---|---|---|
//! | at most N calls at once, and you know N | [`Semaphore`](crate::Semaphore) | calls in flight |
//! | at most N calls per second (an API quota, a sensor's sample rate) | [`RateLimiter`] | calls started per period |
//! | an unknown, changing amount (a server under load) | [`AdaptiveLimiter`] | calls in flight, at a limit it finds from latency and errors |
//!
//! asyncio code calls a semaphore a "rate limiter", but a semaphore of 10
//! lets through as many calls per second as finish: 10 if each takes a
//! second, 10,000 if each takes a millisecond. [`RateLimiter`] counts
//! starts against the clock, whatever the calls' length.
//!
//! # Design
//!
//! As in the rest of the crate's resilience layer, the logic is pure and
//! sans-IO: [`Gcra`] (the rate limiter's algorithm) and the
//! [`LimitAlgorithm`]s ([`Aimd`], [`Gradient2`], [`Vegas`], [`Fixed`]) take
//! time and samples as inputs and hold no clock and no lock, so they are
//! unit- and property-tested alone. The limiters add the sharing and the
//! waiting on the crate's own [`Clock`](crate::time::Clock),
//! [`Timer`](crate::time::Timer) and fair [`Semaphore`](crate::Semaphore):
//! this module has no `unsafe`.
//!
//! [`Outcome`] is the verdict vocabulary shared with the
//! [circuit breaker](crate::breaker): success, failure, or ignored (a
//! cancelled call says nothing about the server).
//!
//! # Examples
//!
//! Five calls a second to a quota-bound API, and an adaptive limit on a
//! server of unknown capacity, both in virtual time:
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::limit::{AdaptiveLimiter, Gradient2, Quota, RateLimiter};
//! use sluicegate::time::ManualClock;
//!
//! let clock = ManualClock::new();
//! let api = RateLimiter::new(&clock, Quota::per_second(5).with_burst(1));
//! let server = AdaptiveLimiter::new(&clock, Gradient2::new());
//! futures_lite::future::block_on(clock.auto_advance(async {
//!     for _ in 0..10 {
//!         api.acquire().await.unwrap();
//!         let token = server.acquire().await;
//!         token.success();
//!     }
//! }));
//! assert_eq!(clock.now(), Duration::from_millis(1800)); // 10 starts, 200 ms apart
//! ```
#![forbid(unsafe_code)]

mod adaptive;
mod algorithm;
mod gcra;
mod rate;

pub use adaptive::{
    AdaptiveLimiter, AdaptiveLimiterAcquire, LimitReached, LimitToken, LimiterMetrics,
};
pub use algorithm::{Aimd, Fixed, Gradient2, LimitAlgorithm, Sample, UnchangedBy, Vegas};
pub use gcra::{ExceedsBurst, Gcra, Quota, TryAcquireError};
pub use rate::{RateLimiter, RateLimiterAcquire};

/// How a call went: the verdict vocabulary of the
/// [circuit breaker](crate::breaker::BreakerPermit::record) and the
/// [adaptive limiter](LimitToken::record).
///
/// A cancelled call is [`Ignored`](Self::Ignored), not a failure: it says
/// nothing about the server. Dropping a breaker permit or a limit token
/// without a verdict records exactly that.
///
/// # Examples
///
/// ```
/// use sluicegate::limit::Outcome;
///
/// fn verdict(r: &Result<u32, &str>) -> Outcome {
///     match r {
///         Ok(_) => Outcome::Success,
///         Err("cancelled") => Outcome::Ignored,
///         Err(_) => Outcome::Failure,
///     }
/// }
/// assert_eq!(verdict(&Err("503")), Outcome::Failure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// The call failed in a way that counts against the other side: for the
    /// breaker, an error; for the adaptive limiter, a drop (overloaded, or
    /// timed out).
    Failure,
    /// The call says nothing about the other side (it was cancelled, or
    /// failed for a reason of the caller's own).
    Ignored,
}
