//! Rate limits without a runtime.
//!
//! asyncio code calls a semaphore a "rate limiter", but a semaphore of 10
//! lets through as many calls per second as finish: 10 if each takes a
//! second, 10,000 if each takes a millisecond. [`RateLimiter`] counts
//! starts against the clock, whatever the calls' length.
//!
//! As in the rest of the crate's resilience layer, the logic is pure and
//! sans-IO: [`Gcra`] and the concurrency-limit algorithms ([`Aimd`],
//! [`Gradient2`], [`Vegas`]) take time and samples as inputs and hold no
//! clock and no lock;
//! [`RateLimiter`] adds the sharing and the waiting on the crate's own
//! [`Clock`](crate::time::Clock), [`Timer`](crate::time::Timer) and fair
//! [`Semaphore`](crate::Semaphore). This module has no `unsafe`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use sluicegate::limit::{Quota, RateLimiter};
//! use sluicegate::time::ManualClock;
//!
//! let clock = ManualClock::new();
//! let api = RateLimiter::new(&clock, Quota::per_second(5).with_burst(1));
//! futures_lite::future::block_on(clock.auto_advance(async {
//!     for _ in 0..10 {
//!         api.acquire().await.unwrap();
//!     }
//! }));
//! assert_eq!(clock.now(), Duration::from_millis(1800)); // 10 starts, 200 ms apart
//! ```
#![forbid(unsafe_code)]

mod algorithm;
mod gcra;
mod rate;

pub use algorithm::{Aimd, Fixed, Gradient2, LimitAlgorithm, Sample, Vegas};
pub use gcra::{ExceedsBurst, Gcra, Quota, TryAcquireError};
pub use rate::{RateLimiter, RateLimiterAcquire};
