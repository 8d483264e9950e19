//! Lifecycles of work: [`TaskTracker`] waits until in-flight work that the
//! caller spawns has drained; [`TaskGroup`] (with `alloc`) runs child futures
//! itself, asyncio's `TaskGroup`.
//!
//! Nothing here spawns onto an executor. The caller runs tracked futures on
//! whatever executor it has (or polls them itself); the tracker only counts
//! them and wakes [`wait`](TaskTracker::wait) once it is closed and nothing
//! is left. A group polls its children inside its own future, so it needs
//! no executor either.
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

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod group;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod set;
mod tracker;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use group::{
    LocalTaskGroup, LocalTaskGroupHandle, LocalTaskGroupJoin, LocalTaskGroupJoinAll, SpawnError,
    TaskGroup, TaskGroupError, TaskGroupHandle, TaskGroupJoin, TaskGroupJoinAll,
};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use tracker::{OwnedTaskTrackerToken, TrackFutureOwned};
pub use tracker::{TaskTracker, TaskTrackerToken, TaskTrackerWait, TrackFuture};
