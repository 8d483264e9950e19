//! Lifecycles of work that the caller spawns: [`TaskTracker`] waits until
//! in-flight work has drained.
//!
//! Nothing here spawns. The caller runs tracked futures on whatever executor
//! it has (or polls them itself); the tracker only counts them and wakes
//! [`wait`](TaskTracker::wait) once it is closed and nothing is left.
//!
//! # Examples
//!
//! A graceful drain: stop taking work, then wait for what is in flight.
//!
//! ```
//! use futures_lite::future::{block_on, zip};
//! use sluicegate::task::TaskTracker;
//!
//! static TRACKER: TaskTracker = TaskTracker::new();
//!
//! let job = TRACKER.track_future(async { 21 * 2 });
//! TRACKER.close(); // no new work from here on
//! let (answer, ()) = block_on(zip(job, TRACKER.wait()));
//! assert_eq!(answer, 42);
//! assert!(TRACKER.is_empty());
//! ```

mod tracker;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use tracker::{OwnedTaskTrackerToken, TrackFutureOwned};
pub use tracker::{TaskTracker, TaskTrackerToken, TaskTrackerWait, TrackFuture};
