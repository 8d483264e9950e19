//! Executor-independent async coordination building blocks.
//!
//! sluicegate gives Rust the coordination patterns that asyncio users know by
//! heart — a semaphore to bound concurrency, an event as a start signal, a
//! bounded queue with `join()`/`task_done()`, a condition variable, timeouts,
//! retry with backoff and a circuit breaker — written against the `futures`
//! traits only. The same code runs on smol, tokio, embassy or a plain
//! `block_on`, and with default features off it needs only `core`.
//!
//! # Examples
//!
//! asyncio's worker pool: producers put jobs on a bounded queue, workers
//! take them and mark them done, and `join()` waits until every job is
//! finished. Here on a plain `block_on`; any executor would do.
//!
//! ```
//! use futures_lite::future::{block_on, zip};
//! use sluicegate::channel;
//!
//! let (jobs, queue) = channel::tracked::<u32>(4); // asyncio.Queue(maxsize=4)
//! let worker = async {
//!     let mut total = 0;
//!     while let Ok(job) = queue.recv_task().await {
//!         total += *job; // the job is marked done when `job` is dropped
//!     }
//!     total
//! };
//! let producer = async {
//!     for n in 1..=10 {
//!         jobs.send(n).await.unwrap(); // waits while the queue is full
//!     }
//!     jobs.join().await; // every job received and done
//!     jobs.close(); // the worker drains, then stops
//! };
//! let (total, ()) = block_on(zip(worker, producer));
//! assert_eq!(total, 55);
//! ```
//!
//! | asyncio | sluicegate |
//! |---|---|
//! | `asyncio.Semaphore(n)`, `async with sem:` | [`Semaphore::new`], `let _permit = sem.acquire().await?;` |
//! | `asyncio.BoundedSemaphore(n)` | [`Semaphore`]: permits are RAII guards, so over-release cannot happen; [`Semaphore::forget_permits`] shrinks it |
//! | `asyncio.Event()`: `set`/`clear`/`is_set`/`wait` | [`Event`]: the same four |
//! | `asyncio.Queue(maxsize)`: `put`/`get`/`put_nowait`/`get_nowait` | [`channel::bounded`]: `send`/`recv`/`try_send`/`try_recv` |
//! | `q.task_done()`, `await q.join()`, `q.shutdown()` | [`channel::tracked`]: `recv_task`/`task_done`, `join`, `close`/`shutdown_immediate` |
//! | `asyncio.Lock()`, `async with lock:` | `Mutex::new(value)`, `let guard = lock.lock().await;` (async-lock's, re-exported; the data lives inside) |
//! | `asyncio.Condition(lock)`: `async with cond: await cond.wait()` | [`Condition`] with a [`Mutex`]: `guard = cond.wait(guard).await;` |
//! | `await cond.wait_for(pred)` | `cond.wait_until(guard, pred).await` (or `wait_while`) |
//! | `cond.notify(n)`, `cond.notify_all()` | [`Condition::notify`], [`Condition::notify_all`] (also `notify_one`) |
//! | `asyncio.Barrier(n)`: `await barrier.wait()` | `Barrier::new(n)`, `barrier.wait().await.is_leader()` (async-lock's, re-exported; no `abort`/`reset`) |
//! | `asyncio.wait_for(coro, 5)`, `asyncio.timeout(5)` | [`time::timeout`] on any [`time::Sleeper`] |
//! | retry with exponential backoff | [`retry::Retry`] with a [`retry::Backoff`] |
//! | circuit breaker | [`CircuitBreaker`] |
//! | periodic task | [`time::interval`] |
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `std` | yes | [`raw_mutex::StdRawMutex`], and a parking [`raw_mutex::DefaultRawMutex`] (a spin lock without `std`); implies `alloc` |
//! | `alloc` | via `std` | owned forms on `Arc` (`acquire_owned`, …); the lock family (async-lock's `Mutex`, `RwLock`, `Barrier`, re-exported) and `Condition`, on targets with pointer-sized CAS |
//! | `portable-atomic` | no | atomics from `portable-atomic`, for targets without CAS such as `thumbv6m-none-eabi`; the binary chooses how portable-atomic provides CAS (a critical-section implementation or `unsafe-assume-single-core`) |
//! | `critical-section` | no | [`raw_mutex::CriticalSectionRawMutex`], for primitives shared with interrupt handlers; only primitives whose type names it use it |
//! | `tokio` | no | `time::TokioTimer` (`tokio::time`); implies `std` |
//! | `smol` | no | `time::AsyncIoTimer` (async-io, smol's reactor); implies `std` |
//! | `embassy` | no | `time::EmbassyTimer` (embassy-time; the binary picks driver and queue) |
//!
//! [`Semaphore`] and [`Event`] need no allocator: their waiters live inside
//! the waiting futures; neither do [`time`] (but `ManualClock`), [`retry`]
//! and [`breaker`]. The owned (`Arc`) forms, `ManualClock`, the lock family
//! and [`Condition`] need `alloc` and a target with pointer-sized CAS.
//!
//! # Choosing the lock
//!
//! Each primitive's wait list sits behind a short blocking lock, a type
//! parameter with a default: `Semaphore` is `Semaphore<DefaultRawMutex>`.
//! Embedded code picks another per primitive (`Semaphore::new_with_raw_mutex(n,
//! CriticalSectionRawMutex::new())` for one shared with an interrupt handler,
//! `LocalRawMutex` for tasks on one executor); no feature switches it for the
//! whole program. See [`raw_mutex`].
//!
//! # Cancellation
//!
//! Every future documents its cancel safety. Dropping a waiting future never
//! loses a permit or a wake-up: what it was handed goes on to the next
//! waiter.
#![no_std]
#![deny(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]
#![warn(
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core,
    clippy::undocumented_unsafe_blocks
)]
#![cfg_attr(test, allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc))]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod defer;
mod loom;
mod wait_list;

pub mod breaker;
pub mod cancel;
pub mod channel;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub mod condition;
pub mod event;
pub mod limit;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub mod pool;
pub mod raw_mutex;
pub mod retry;
pub mod semaphore;
pub mod task;
pub mod time;

/// The lock family comes from `async-lock`, re-exported so one import serves
/// [`Condition`] and the locks it works with.
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(no_inline)]
pub use async_lock::{
    Barrier, BarrierWaitResult, Mutex, MutexGuard, MutexGuardArc, RwLock, RwLockReadGuard,
    RwLockReadGuardArc, RwLockUpgradableReadGuard, RwLockUpgradableReadGuardArc, RwLockWriteGuard,
    RwLockWriteGuardArc,
};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use condition::{Condition, ConditionGuard};

#[doc(inline)]
pub use breaker::CircuitBreaker;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use cancel::CancellationToken;
#[doc(inline)]
pub use event::Event;
#[doc(inline)]
pub use limit::{AdaptiveLimiter, RateLimiter};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use pool::{Pool, PoolGuard};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use semaphore::OwnedSemaphorePermit;
#[doc(inline)]
pub use semaphore::{AcquireError, Semaphore, SemaphorePermit, TryAcquireError};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use task::OwnedTaskTrackerToken;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use task::{LocalTaskGroup, TaskGroup};
#[doc(inline)]
pub use task::{TaskTracker, TaskTrackerToken};

/// The named futures of every primitive, in one place.
///
/// A future is named after the method that returns it (`acquire` →
/// [`Acquire`](futures::Acquire), `recv_task` → [`RecvTask`](futures::RecvTask),
/// `Retry::run` → [`Run`](futures::Run)); where two types have a method of
/// the same name, the type's name comes first ([`EventWait`](futures::EventWait),
/// [`ConditionWait`](futures::ConditionWait)).
///
/// # Examples
///
/// A named future can be stored, e.g. to keep a place in a semaphore's
/// queue across calls:
///
/// ```
/// use core::pin::Pin;
/// use sluicegate::{futures::Acquire, Semaphore};
///
/// struct Client<'a> {
///     slot: Pin<Box<Acquire<'a>>>,
/// }
/// let sem = Semaphore::new(1);
/// let client = Client { slot: Box::pin(sem.acquire()) };
/// let permit = futures_lite::future::block_on(client.slot).unwrap();
/// assert_eq!(permit.num_permits(), 1);
/// ```
pub mod futures {
    pub use crate::breaker::{Call, CallTimeout};
    pub use crate::cancel::{Cancelled, RunUntilCancelled};
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::cancel::{CancelledOwned, RunUntilCancelledOwned};
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::channel::RecvMany;
    pub use crate::channel::{Closed, Join, Recv, RecvTask, Reserve, Send};
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::condition::{ConditionWait, WaitUntil, WaitWhile};
    pub use crate::event::EventWait;
    pub use crate::limit::{AdaptiveLimiterAcquire, RateLimiterAcquire};
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::pool::{Drain, Get, Maintain};
    pub use crate::retry::Run;
    pub use crate::semaphore::Acquire;
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::semaphore::AcquireOwned;
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::task::TrackFutureOwned;
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::task::{
        LocalTaskGroupJoin, LocalTaskGroupJoinAll, TaskGroupJoin, TaskGroupJoinAll,
    };
    pub use crate::task::{TaskTrackerWait, TrackFuture};
    pub use crate::time::{Tick, Timeout};
}
