//! Executor-independent async coordination building blocks.
//!
//! sluicegate gives Rust the coordination patterns that asyncio users know by
//! heart — a semaphore to bound concurrency, an event as a start signal, and
//! (in later modules) a bounded queue with `join()`/`task_done()`, a
//! condition variable, timeouts, retry and a circuit breaker — written
//! against the `futures` traits only. The same code runs on smol, tokio,
//! embassy or a plain `block_on`, and with default features off it needs only
//! `core`.
//!
//! | asyncio | sluicegate |
//! |---|---|
//! | `asyncio.Semaphore(n)`, `async with sem:` | [`Semaphore::new`], `let _permit = sem.acquire().await?;` |
//! | `asyncio.BoundedSemaphore(n)` | [`Semaphore`]: permits are RAII guards, so over-release cannot happen |
//! | `asyncio.Event()`: `set`/`clear`/`is_set`/`wait` | [`Event`]: the same four |
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `std` | yes | wait lists are guarded by `std::sync::Mutex`; implies `alloc` |
//! | `alloc` | via `std` | owned forms on `Arc` (`acquire_owned`, …) |
//! | `portable-atomic` | no | atomics from `portable-atomic`, for targets without CAS such as `thumbv6m-none-eabi`; the binary chooses how portable-atomic provides CAS (a critical-section implementation or `unsafe-assume-single-core`) |
//! | `critical-section` | no | wait lists are guarded by a critical section (interrupt safe); takes precedence over `std`. Without `std` or `critical-section`, a spin lock is used |
//!
//! [`Semaphore`] and [`Event`] need no allocator: their waiters live inside
//! the waiting futures. The owned (`Arc`) forms need `alloc` and a target with
//! pointer-sized CAS.
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

mod lock;
mod loom;
mod wait_list;

pub mod channel;
pub mod event;
pub mod semaphore;

#[doc(inline)]
pub use event::Event;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
#[doc(inline)]
pub use semaphore::OwnedSemaphorePermit;
#[doc(inline)]
pub use semaphore::{AcquireError, Semaphore, SemaphorePermit, TryAcquireError};

/// The named futures of every primitive, in one place.
pub mod futures {
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::channel::RecvMany;
    pub use crate::channel::{Join, Recv, RecvTask, Reserve, Send, WaitClosed};
    pub use crate::event::EventWait;
    pub use crate::semaphore::Acquire;
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub use crate::semaphore::AcquireOwned;
}
