//! A bounded multi-producer, multi-consumer channel with backpressure,
//! close-and-drain, and asyncio.Queue's `join()`/`task_done()`.
//!
//! # Flavours
//!
//! One implementation, generic over where the buffer lives and over whether
//! completion is tracked:
//!
//! | | buffer | handles | constructor | `Stream` / `Sink` |
//! |---|---|---|---|---|
//! | [`bounded`] / [`tracked`] (`alloc`) | allocated once, at creation | cloneable [`Sender`] / [`Receiver`], closing when the last of either side is dropped | `bounded(capacity)` | [`Receiver`] is a `Stream`; [`Sender::into_sink`] |
//! | [`Channel<T, N>`](Channel) | inline, `N` slots, no allocator | none: operations on `&self`, usable from a `static` | `const fn new()` | [`Channel::stream`], [`Channel::sink`] (pinned, allocation-free) |
//!
//! Completion tracking is a type parameter: [`Untracked`] (the default) has
//! no counters and no `join()`, so users who do not want it pay nothing;
//! [`Tracked`] adds `join()`, `task_done()`, `unfinished_tasks()` and
//! [`recv_task`](Receiver::recv_task), whose [`Task`] marks itself done when
//! dropped.
//!
//! # asyncio.Queue → sluicegate
//!
//! | asyncio | sluicegate |
//! |---|---|
//! | `Queue(maxsize)` | [`bounded(n)`](bounded), or [`tracked(n)`](tracked) for `join` |
//! | `await q.put(x)` / `await q.get()` | `tx.send(x).await?` / `rx.recv().await?` |
//! | `q.put_nowait(x)` / `q.get_nowait()` | `tx.try_send(x)` / `rx.try_recv()` |
//! | `q.task_done()` / `await q.join()` | `rx.task_done()?` or drop the [`Task`] / `tx.join().await` |
//! | `q.shutdown()` / `q.shutdown(immediate=True)` | `close()` / `shutdown_immediate()` |
//! | `q.qsize()`, `q.full()`, `q.empty()` | `len()`, `is_full()`, `is_empty()` |
//!
//! # Semantics
//!
//! - **Capacity is exact.** At most `capacity` values are queued (`len()`
//!   never exceeds it); a `send` on a full channel waits. Each value taken
//!   out frees exactly one slot, handed to exactly one waiting sender.
//!   Capacity 0 panics: a rendezvous channel is not supported.
//! - **FIFO.** Values come out in the order they went in. Waiting senders
//!   are granted slots, and waiting receivers are handed values, in the
//!   order they started waiting; `try_send`/`try_recv` never barge past a
//!   waiter.
//! - **Streams are weak waiters.** A `Stream` ([`Receiver`]'s, or
//!   [`Channel::stream`]) cannot tell when the `next()` future polling it is
//!   dropped, so it is never handed a value: a waiting stream is woken when
//!   a value is queued and takes it on its next poll. A value sent while a
//!   `recv` waits goes to that `recv`; one sent while only streams wait is
//!   queued and wakes them all, the first to poll taking it. A stream thus
//!   has no FIFO turn against `recv` calls, and one kept alive after its
//!   `next()` was dropped (having lost a `select!`) holds nothing back from
//!   other receivers or from close-and-drain.
//! - **Close and drain.** `close()` (from either side, or dropping every
//!   sender) makes sends fail; receivers still drain what is queued, then
//!   get [`RecvError`]. A [`Permit`] taken before the close stays usable,
//!   and receivers wait for it. Dropping every receiver, or
//!   `shutdown_immediate()`, also discards what is queued.
//! - **Completion tracking** ([`Tracked`]): every value sent counts as
//!   unfinished until it is received and marked done; `join()` completes
//!   when the count reaches zero. An immediate shutdown lowers the count by
//!   the values it discards, so `join()` returns (Python 3.13 semantics).
//!   `task_done()` marks values received with `recv`, `try_recv`,
//!   `recv_many` or the `Stream`, and fails with [`TaskDoneError`] when
//!   called more often than that; a [`Task`] from `recv_task` counts only
//!   itself, so mixing both forms cannot mark a value twice.
//!
//! # Cancel safety
//!
//! Every future is cancel safe, and each documents how. A dropped `send`
//! never enqueues its value; a slot granted to it goes to the next sender. A
//! dropped `recv` never loses a value: one handed to it before it was dropped
//! goes to the next receiver, or back to the front of the queue. A stream
//! is never handed a value, so dropping its `next()` future, before or
//! after the wake-up, or keeping the stream idle, holds nothing back.
//!
//! # Memory ordering
//!
//! Sending a value *happens before* receiving it: everything the sender
//! wrote before `send` is visible to the task that receives the value. An
//! operation goes either through the channel's lock or through the ring's
//! one-word lock (acquire on taking it, release on leaving it), and the
//! channel's lock takes the ring over with an acquire read-modify-write of
//! the same word, so every access to the buffer is ordered after the
//! previous one.
//!
//! # Design: one short lock, and a fast path while nobody waits
//!
//! The buffer, its counters, and the waiting senders, receivers and
//! `closed()`/`join()` waiters all live under one short critical section
//! (the crate's wait-list lock), and waiters are intrusive nodes inside the
//! waiting futures. Exact capacity with FIFO hand-off to specific waiters,
//! cancellation that passes values and slots on, and completion counts are
//! all decided there: each operation is a few instructions inside one
//! critical section, wake-ups happen after it is released, and a value
//! sent while a receiver waits is moved straight into that receiver.
//!
//! Beside it, the buffer has a fast path for the traffic that needs no
//! waiter at all (the `ring` module): a `send`, `try_send`, `recv` or
//! `try_recv` that finds its side *fast* takes the ring's one-word lock
//! (one compare-exchange), copies one value in or out and releases it with
//! a plain store: one atomic read-modify-write per operation instead of the
//! lock's two, and no wait-list work. A side is fast only while nothing on
//! it could need the wait lists: the channel's lock sets the two mode bits
//! on every exit from its critical section from what it just saw (no
//! waiting sender, receiver or stream; open for senders, not shut down for
//! receivers; a free slot for senders, a buffered value for receivers). Any
//! operation that might wait, close or hand a value on takes the channel's
//! lock, which first sets both bits (waiting out a fast operation in
//! progress), so a waiter always queues while no fast operation can slip
//! past it, and its queueing turns the fast path off until it is served:
//! the usual waiters-flag discipline (listen, recheck, wait). Channels with
//! completion tracking, an explicitly chosen lock (`*_with_raw_mutex`,
//! which may be a critical section shared with an interrupt handler) or
//! capacity 1 keep both bits set for good and never use it.
//!
//! Measured with callgrind on `benches/examples/channel_flow.rs` (tokio
//! current-thread, `u64`), the fast path and the cheaper default lock (see
//! `raw_mutex`) take a buffered SPSC message from 287 instructions to 186
//! at capacity 16 and from 225 to 108 at capacity 1024 (kanal: 158 and
//! 104). At capacity 1 every second send waits, so the fast path could not
//! pay: capacity-1 channels keep it off too, and what the mode word costs
//! them is a load and a test per lock (8 instructions per message, 0.6 %).
//! What is left of the gap at capacity 16 is the exact hand-off: a sender
//! woken for a freed slot writes its own value on its next poll, where
//! kanal and flume let the receiver take it. See `benches/README.md` for
//! the paired runs against flume and kanal.
//!
//! # Examples
//!
//! A worker pool: 4 workers pull jobs, results come back on a second channel.
//!
//! ```
//! use sluicegate::channel::bounded;
//!
//! futures_lite::future::block_on(async {
//!     let (jobs, queue) = bounded::<u32>(8);
//!     let (results, collected) = bounded::<u32>(8);
//!     let producer = async move {
//!         for job in 0..20 {
//!             jobs.send(job).await.unwrap();
//!         }
//!         // `jobs` drops here: workers drain the queue, then stop.
//!     };
//!     let workers = futures::future::join_all((0..4).map(|_| {
//!         let (queue, results) = (queue.clone(), results.clone());
//!         async move {
//!             while let Ok(job) = queue.recv().await {
//!                 results.send(job * 2).await.unwrap();
//!             }
//!         }
//!     }));
//!     drop((queue, results));
//!     let sum = async {
//!         let mut sum = 0;
//!         while let Ok(r) = collected.recv().await {
//!             sum += r;
//!         }
//!         sum
//!     };
//!     let (_, _, sum) = futures::join!(producer, workers, sum);
//!     assert_eq!(sum, 2 * (0..20).sum::<u32>());
//! });
//! ```

mod chan;
mod error;
mod futures;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod handles;
mod inline;
mod ring;

pub use self::error::{RecvError, SendError, TaskDoneError, TryRecvError, TrySendError};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use self::futures::RecvMany;
pub use self::futures::{
    Closed, Join, Permit, Recv, RecvStream, RecvTask, Reserve, Send, SendSinkRef, Task,
};
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use self::handles::{
    bounded, bounded_with_raw_mutex, tracked, tracked_with_raw_mutex, Receiver, SendSink, Sender,
};
pub use self::inline::Channel;

use crate::wait_list::List;

mod sealed {
    /// The ring buffer's slots (which of them hold a value is the ring's
    /// business: see `ring::RingState`).
    #[allow(unreachable_pub)]
    pub trait Buffer<T> {
        fn slots(&mut self) -> &mut [core::mem::MaybeUninit<T>];
    }

    #[allow(unreachable_pub)]
    pub trait Store {
        type Buffer<T>: Buffer<T>;
    }

    #[allow(unreachable_pub)]
    pub trait Track: Sized {
        const INIT: Self;
        /// Whether the counts need the channel's lock on every send and
        /// receive (which keeps the ring's fast path off).
        const TRACKED: bool;
        fn tracker(&mut self) -> Option<&mut super::Tracked>;
    }
}

use self::sealed::Buffer;

/// Where a channel's buffer lives: [`Heap`] or [`Inline<N>`](Inline).
/// Sealed; it appears in the futures' type parameters.
///
/// # Examples
///
/// ```
/// use sluicegate::channel::{Completion, Recv, Storage};
/// // Code generic over every flavour of channel future.
/// fn pending<T, S: Storage, K: Completion>(_recv: &Recv<'_, T, S, K>) {}
/// let (_tx, rx) = sluicegate::channel::bounded::<u8>(1);
/// pending(&rx.recv());
/// ```
pub trait Storage: sealed::Store {}

/// The buffer of a [`bounded`]/[`tracked`] channel, allocated once at
/// creation.
///
/// # Examples
///
/// ```
/// let (tx, _rx) = sluicegate::channel::bounded::<u8>(1);
/// let _send: sluicegate::channel::Send<'_, u8, sluicegate::channel::Heap, _> = tx.send(1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Heap(());

/// The buffer of a [`Channel<T, N>`](Channel): `N` slots inline.
///
/// # Examples
///
/// ```
/// use sluicegate::channel::{Channel, Inline, Recv, Untracked};
/// let ch = Channel::<u8, 2>::new();
/// let _recv: Recv<'_, u8, Inline<2>, Untracked> = ch.recv();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Inline<const N: usize>(());

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl sealed::Store for Heap {
    type Buffer<T> = alloc::boxed::Box<[core::mem::MaybeUninit<T>]>;
}
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl Storage for Heap {}

impl<const N: usize> sealed::Store for Inline<N> {
    type Buffer<T> = [core::mem::MaybeUninit<T>; N];
}
impl<const N: usize> Storage for Inline<N> {}

/// Whether a channel tracks completion: [`Untracked`] or [`Tracked`].
/// Sealed.
///
/// # Examples
///
/// ```
/// use sluicegate::channel::{Completion, Sender};
/// // Works with tracked and untracked senders alike.
/// fn offer<T, K: Completion>(tx: &Sender<T, K>, value: T) -> bool {
///     tx.try_send(value).is_ok()
/// }
/// let (tx, _rx) = sluicegate::channel::tracked(1);
/// assert!(offer(&tx, 1));
/// ```
pub trait Completion: sealed::Track {}

/// No completion tracking (the default): no counters, no `join()`.
///
/// # Examples
///
/// ```
/// let (_tx, _rx): (sluicegate::channel::Sender<u8, sluicegate::channel::Untracked>, _) =
///     sluicegate::channel::bounded(1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Untracked(());

impl sealed::Track for Untracked {
    const INIT: Self = Untracked(());
    const TRACKED: bool = false;

    #[inline(always)]
    fn tracker(&mut self) -> Option<&mut Tracked> {
        None
    }
}
impl Completion for Untracked {}

/// Completion tracking, as asyncio.Queue does it: `join()` waits until every
/// value sent has been received and marked done.
///
/// Used as a type parameter ([`tracked`], `Channel<T, N, Tracked>`); it holds
/// the channel's counters and `join()` waiters, and cannot be built by hand.
///
/// # Examples
///
/// ```
/// use sluicegate::channel::{Channel, Tracked};
/// static QUEUE: Channel<u32, 8, Tracked> = Channel::new();
/// QUEUE.try_send(1).unwrap();
/// assert_eq!(QUEUE.unfinished_tasks(), 1);
/// ```
pub struct Tracked {
    /// Values sent and not yet marked done (or discarded).
    unfinished: usize,
    /// Values received and not yet marked done.
    received: usize,
    /// How many times `unfinished` fell to zero (wrapping). Counted in the
    /// critical section that reaches zero, so that a `join()` waiting then
    /// is done even if a send lands before its wake-up is delivered.
    zeros: usize,
    /// Waiting `join()` futures; the node data is `zeros` when it queued,
    /// so it is done once `zeros` moved on.
    joiners: List<(), usize>,
}

impl sealed::Track for Tracked {
    const INIT: Self = Tracked {
        unfinished: 0,
        received: 0,
        zeros: 0,
        joiners: List::new(()),
    };
    const TRACKED: bool = true;

    #[inline(always)]
    fn tracker(&mut self) -> Option<&mut Tracked> {
        Some(self)
    }
}
impl Completion for Tracked {}

impl core::fmt::Debug for Tracked {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracked")
            .field("unfinished", &self.unfinished)
            .field("received", &self.received)
            .finish()
    }
}
