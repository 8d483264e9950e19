//! The allocated flavour: [`bounded`]/[`tracked`] and their cloneable
//! [`Sender`] and [`Receiver`] handles, with `Stream` and `Sink`.

use core::fmt;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{Context, Poll};

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use futures_core::stream::FusedStream;
use futures_core::Stream;
use futures_sink::Sink;

use super::chan::{Chan, RawSlot, RawStream};
use super::error::{SendError, TaskDoneError, TryRecvError, TrySendError};
use super::futures::{Closed, Join, Permit, Recv, RecvMany, RecvTask, Reserve, Send, Task};
use super::{Completion, Heap, Tracked, Untracked};
use crate::defer::Defer;
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};

struct Shared<T, K: Completion, L: ScopedRawMutex> {
    chan: Chan<T, Heap, K, L>,
    senders: AtomicUsize,
    receivers: AtomicUsize,
}

/// `fast`: whether the ring's lock-free-of-`L` fast path may be used, which
/// only the default lock allows (see the channel's module docs).
fn with_capacity<T, K: Completion, L: ScopedRawMutex>(
    capacity: usize,
    raw_mutex: L,
    fast: bool,
) -> (Sender<T, K, L>, Receiver<T, K, L>) {
    assert!(
        capacity > 0,
        "channel capacity must be at least 1 (a capacity-0 rendezvous channel is not supported)"
    );
    // The one allocation of the buffer; it never grows. A failed
    // allocation panics (with the figure) instead of aborting.
    let mut slots: Vec<MaybeUninit<T>> = Vec::new();
    if slots.try_reserve_exact(capacity).is_err() {
        panic!(
            "channel capacity {capacity} is too large: a buffer of {capacity} slots \
             cannot be allocated (at most isize::MAX bytes, and what memory allows)"
        );
    }
    slots.resize_with(capacity, MaybeUninit::uninit);
    let buf: Box<[MaybeUninit<T>]> = slots.into_boxed_slice();
    let shared = Arc::new(Shared {
        chan: Chan::with_buffer(buf, raw_mutex, fast),
        senders: AtomicUsize::new(1),
        receivers: AtomicUsize::new(1),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            stream: None,
        },
    )
}

/// A bounded multi-producer, multi-consumer channel of `capacity` slots,
/// without completion tracking.
///
/// The buffer is allocated here, once. See the [module docs](super) for the
/// semantics.
///
/// # Panics
///
/// If `capacity` is 0 (a rendezvous channel is not supported), or if the
/// buffer cannot be allocated.
///
/// # Examples
///
/// ```
/// let (tx, rx) = sluicegate::channel::bounded(16);
/// futures_lite::future::block_on(async {
///     tx.send("job").await.unwrap();
///     assert_eq!(rx.recv().await, Ok("job"));
/// });
/// ```
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    with_capacity(capacity, DefaultRawMutex::new(), true)
}

/// [`bounded`], with the channel's wait lists guarded by `raw_mutex`
/// instead of the [`DefaultRawMutex`] (see [`raw_mutex`](crate::raw_mutex)).
///
/// # Panics
///
/// As [`bounded`].
///
/// # Examples
///
/// ```
/// use sluicegate::channel::bounded_with_raw_mutex;
/// use sluicegate::raw_mutex::SpinRawMutex;
///
/// let (tx, rx) = bounded_with_raw_mutex::<u32, _>(4, SpinRawMutex::new());
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn bounded_with_raw_mutex<T, L: ScopedRawMutex>(
    capacity: usize,
    raw_mutex: L,
) -> (Sender<T, Untracked, L>, Receiver<T, Untracked, L>) {
    with_capacity(capacity, raw_mutex, false)
}

/// A bounded channel with asyncio.Queue's completion tracking: `join()`
/// waits until every value sent has been received and marked done with
/// `task_done()` (or by dropping the [`Task`] from
/// [`recv_task`](Receiver::recv_task)).
///
/// # Panics
///
/// As [`bounded`].
///
/// # Examples
///
/// ```
/// let (tx, rx) = sluicegate::channel::tracked(4);
/// futures_lite::future::block_on(async {
///     tx.send(1).await.unwrap();
///     let v = rx.recv().await.unwrap();
///     rx.task_done().unwrap();
///     tx.join().await;
/// });
/// ```
pub fn tracked<T>(capacity: usize) -> (Sender<T, Tracked>, Receiver<T, Tracked>) {
    with_capacity(capacity, DefaultRawMutex::new(), true)
}

/// [`tracked`], with the channel's wait lists guarded by `raw_mutex`
/// instead of the [`DefaultRawMutex`] (see [`raw_mutex`](crate::raw_mutex)).
///
/// # Panics
///
/// As [`bounded`].
///
/// # Examples
///
/// ```
/// use sluicegate::channel::tracked_with_raw_mutex;
/// use sluicegate::raw_mutex::LocalRawMutex;
///
/// let (tx, rx) = tracked_with_raw_mutex::<u32, _>(4, LocalRawMutex::new());
/// tx.try_send(1).unwrap();
/// let task = rx.try_recv_task().unwrap();
/// assert_eq!(tx.unfinished_tasks(), 1);
/// drop(task);
/// assert_eq!(tx.unfinished_tasks(), 0);
/// ```
pub fn tracked_with_raw_mutex<T, L: ScopedRawMutex>(
    capacity: usize,
    raw_mutex: L,
) -> (Sender<T, Tracked, L>, Receiver<T, Tracked, L>) {
    with_capacity(capacity, raw_mutex, false)
}

/// The sending half of a [`bounded`] or [`tracked`] channel. Cloneable; the
/// channel closes when the last sender is dropped.
///
/// # Examples
///
/// ```
/// let (tx, rx) = sluicegate::channel::bounded(2);
/// let tx2 = tx.clone();
/// tx.try_send(1).unwrap();
/// tx2.try_send(2).unwrap();
/// assert_eq!(tx.sender_count(), 2);
/// ```
pub struct Sender<T, K: Completion = Untracked, L: ScopedRawMutex = DefaultRawMutex> {
    shared: Arc<Shared<T, K, L>>,
}

/// The receiving half of a [`bounded`] or [`tracked`] channel. Cloneable;
/// when the last receiver is dropped the channel shuts down immediately
/// (nobody can receive what is queued, so it is dropped at once, and `join()`
/// returns).
///
/// It is a [`Stream`] (and a `FusedStream`) that ends when the channel is
/// closed and drained. A `next()` that has to wait queues this receiver as
/// a *weak* waiter: it is woken when a value is queued and takes it itself
/// on its next poll, but no value is ever handed to it. A value sent while a
/// `recv` waits goes to that `recv`; one sent while only streams wait is
/// queued, and every waiting stream is woken, the first to poll taking it.
/// So a receiver kept alive after its `next()` future was dropped (it lost
/// a `select!`, say) holds nothing back: other receivers take what is sent,
/// and the channel closes and drains as usual. The price is that a stream
/// has no FIFO turn against `recv` calls, which are served first.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// let (tx, mut rx) = sluicegate::channel::bounded(4);
/// tx.try_send(1).unwrap();
/// tx.try_send(2).unwrap();
/// drop(tx);
/// let all: Vec<i32> = futures_lite::future::block_on(rx.collect());
/// assert_eq!(all, [1, 2]);
/// ```
pub struct Receiver<T, K: Completion = Untracked, L: ScopedRawMutex = DefaultRawMutex> {
    shared: Arc<Shared<T, K, L>>,
    /// The `Stream` implementation's place in the queue, allocated on the
    /// first `poll_next` and reused for every later one.
    stream: Option<Pin<Box<RawStream>>>,
}

impl<T, K: Completion, L: ScopedRawMutex> Sender<T, K, L> {
    /// Sends `value`, waiting while the channel is full.
    ///
    /// # Errors
    ///
    /// [`SendError`], carrying the value back, if the channel is closed
    /// before the value is written. A slot granted while waiting is still
    /// used after a graceful `close()`, but not after
    /// `shutdown_immediate()`.
    ///
    /// # Cancel safety
    ///
    /// See [`Send`]: a dropped send never enqueues its value, and a slot
    /// granted to it goes on to the next sender. For a send that keeps its
    /// value when cancelled, [`reserve`](Self::reserve) first.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// futures_lite::future::block_on(tx.send(1)).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T, Heap, K, L> {
        Send::new(&self.shared.chan, value)
    }

    /// Sends `value` if a slot is free and no sender is waiting
    /// (asyncio's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert!(tx.try_send(2).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.shared.chan.try_send(value)
    }

    /// Waits for a free slot and reserves it; the [`Permit`] then sends
    /// without waiting.
    ///
    /// # Errors
    ///
    /// [`SendError`]`<()>` if the channel is closed before a slot is
    /// reserved. A slot granted while waiting stays reserved through a
    /// graceful `close()`, but not through `shutdown_immediate()`: then the
    /// reservation fails as a `send` would, even if it had been granted.
    ///
    /// # Cancel safety
    ///
    /// See [`Reserve`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// futures_lite::future::block_on(async {
    ///     let permit = tx.reserve().await.unwrap();
    ///     permit.send(5);
    ///     assert_eq!(rx.recv().await, Ok(5));
    /// });
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T, Heap, K, L> {
        Reserve::new(&self.shared.chan)
    }

    /// Reserves a slot if one is free and no sender is waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(1);
    /// let p = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().unwrap_err().is_full());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T, Heap, K, L>, TrySendError<()>> {
        self.shared
            .chan
            .try_reserve()
            .map(|()| Permit::new(&self.shared.chan))
    }

    /// Sends `value` without waiting; when the channel is full, displaces the
    /// oldest value still in the buffer and returns it (drop-oldest
    /// overflow). A value already handed to a woken `recv` is that
    /// receiver's and is not displaced, even if it is older (streams are
    /// never handed values: what a stream was woken for is still in the
    /// buffer). A displaced value counts as finished for completion
    /// tracking.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Closed`] if closed; [`TrySendError::Full`] only in the
    /// corner where every slot is reserved by a permit or handed to a woken
    /// receiver, so no queued value can be displaced.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// tx.force_send(1).unwrap();
    /// tx.force_send(2).unwrap();
    /// assert_eq!(tx.force_send(3), Ok(Some(1)));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    pub fn force_send(&self, value: T) -> Result<Option<T>, TrySendError<T>> {
        self.shared.chan.force_send(value)
    }

    /// Turns this sender into a [`Sink`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::SinkExt;
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// let mut sink = tx.into_sink();
    /// futures_lite::future::block_on(sink.send(7)).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// ```
    pub fn into_sink(self) -> SendSink<T, K, L> {
        SendSink {
            sender: Some(self),
            slot: None,
            permit: false,
        }
    }

    /// Closes the channel gracefully (asyncio's `shutdown()`): sends fail
    /// from now on, receivers drain what is queued and then fail. Returns
    /// whether this call closed it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(tx.try_send(2).unwrap_err().is_closed());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.chan.close()
    }

    /// Closes the channel and discards every queued value (asyncio's
    /// `shutdown(immediate=True)`); returns how many were discarded.
    /// Waiting receivers fail at once, except a `recv` that a send already
    /// woke with a value: that value is no longer in the buffer (though
    /// `len()` counts it until it is picked up), and the receiver still gets
    /// it (asyncio would discard it and fail the getter). A stream is never
    /// handed a value: one it was woken for is still in the buffer and is
    /// discarded with the rest, and the stream ends.
    ///
    /// The count is of the values in the buffer at the shutdown. It leaves
    /// out the value a woken `recv` holds (if that receive is dropped before
    /// it completes, the value is dropped with it) and any value sent later
    /// through a [`Permit`](crate::channel::Permit) reserved before the
    /// shutdown (dropped at once). With completion tracking both still count
    /// as done, so `join()` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.shutdown_immediate(), 1);
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn shutdown_immediate(&self) -> usize {
        self.shared.chan.shutdown_immediate()
    }

    /// Waits until the channel is closed (from either side).
    ///
    /// # Cancel safety
    ///
    /// See [`Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// drop(rx);
    /// futures_lite::future::block_on(tx.closed());
    /// ```
    pub fn closed(&self) -> Closed<'_, T, Heap, K, L> {
        Closed::new(&self.shared.chan)
    }

    /// Whether the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.chan.is_closed()
    }

    /// How many values are queued (never more than the capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.chan.len()
    }

    /// Whether no value is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(2);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether as many values are queued as the channel holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert!(tx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// The number of slots.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(8);
    /// assert_eq!(tx.capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.chan.capacity()
    }

    /// How many senders exist.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(1);
    /// assert_eq!(tx.sender_count(), 1);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Acquire)
    }

    /// How many receivers exist.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Acquire)
    }
}

impl<T, L: ScopedRawMutex> Sender<T, Tracked, L> {
    /// Waits until every value ever sent has been received and marked done
    /// (asyncio's `Queue.join()`).
    ///
    /// # Cancel safety
    ///
    /// See [`Join`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(2);
    /// futures_lite::future::block_on(async {
    ///     tx.send(1).await.unwrap();
    ///     drop(rx.recv_task().await.unwrap()); // done
    ///     tx.join().await;
    /// });
    /// ```
    pub fn join(&self) -> Join<'_, T, Heap, L> {
        Join::new(&self.shared.chan)
    }

    /// Values sent but not yet marked done (asyncio's `unfinished_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::tracked(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.shared.chan.unfinished()
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Receiver<T, K, L> {
    /// Receives the oldest value, waiting while the channel is empty
    /// (asyncio's `get`).
    ///
    /// # Errors
    ///
    /// [`RecvError`](super::RecvError) once the channel is closed and
    /// drained (at once after an immediate shutdown).
    ///
    /// # Cancel safety
    ///
    /// See [`Recv`]: no value is ever lost, even when the future is dropped
    /// after a value was handed to it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(futures_lite::future::block_on(rx.recv()), Ok(1));
    /// ```
    pub fn recv(&self) -> Recv<'_, T, Heap, K, L> {
        Recv::new(&self.shared.chan)
    }

    /// Receives the oldest value if one is queued (asyncio's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], or [`TryRecvError::Closed`] once closed and
    /// drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::channel::{bounded, TryRecvError};
    /// let (_tx, rx) = bounded::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.shared.chan.try_recv(true)
    }

    /// Waits for at least one value, then moves up to `limit` queued values
    /// into `buf`; returns how many (0 only for `limit == 0`). `buf` is
    /// grown, if needed, before the channel's lock is taken.
    ///
    /// # Errors
    ///
    /// [`RecvError`](super::RecvError) once closed and drained, except for
    /// `limit == 0`, which returns `Ok(0)` at once (as tokio's does).
    ///
    /// # Cancel safety
    ///
    /// See [`RecvMany`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(8);
    /// for i in 0..5 { tx.try_send(i).unwrap(); }
    /// let mut buf = Vec::new();
    /// assert_eq!(futures_lite::future::block_on(rx.recv_many(&mut buf, 3)), Ok(3));
    /// assert_eq!(buf, [0, 1, 2]);
    /// ```
    pub fn recv_many<'a, 'b>(
        &'a self,
        buf: &'b mut Vec<T>,
        limit: usize,
    ) -> RecvMany<'a, 'b, T, Heap, K, L> {
        RecvMany::new(&self.shared.chan, buf, limit)
    }

    /// Closes the channel gracefully; see [`Sender::close`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// rx.close();
    /// assert!(tx.try_send(1).is_err());
    /// ```
    pub fn close(&self) -> bool {
        self.shared.chan.close()
    }

    /// Closes the channel and discards every queued value; see
    /// [`Sender::shutdown_immediate`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.shutdown_immediate(), 1);
    /// ```
    pub fn shutdown_immediate(&self) -> usize {
        self.shared.chan.shutdown_immediate()
    }

    /// Waits until the channel is closed (from either side).
    ///
    /// # Cancel safety
    ///
    /// See [`Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// drop(tx);
    /// futures_lite::future::block_on(rx.closed());
    /// ```
    pub fn closed(&self) -> Closed<'_, T, Heap, K, L> {
        Closed::new(&self.shared.chan)
    }

    /// Whether the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.chan.is_closed()
    }

    /// How many values are queued (never more than the capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.chan.len()
    }

    /// Whether no value is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sluicegate::channel::bounded::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether as many values are queued as the channel holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert!(rx.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// The number of slots.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sluicegate::channel::bounded::<u8>(8);
    /// assert_eq!(rx.capacity(), 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.chan.capacity()
    }

    /// How many senders exist.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// drop(tx);
    /// assert_eq!(rx.sender_count(), 0);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Acquire)
    }

    /// How many receivers exist.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// assert_eq!(rx.receiver_count(), 1);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Acquire)
    }
}

impl<T, L: ScopedRawMutex> Receiver<T, Tracked, L> {
    /// Marks one received value done (asyncio's `task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more often than values were received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(1);
    /// tx.try_send(1).unwrap();
    /// rx.try_recv().unwrap();
    /// assert!(rx.task_done().is_ok());
    /// assert!(rx.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.shared.chan.task_done() {
            Ok(())
        } else {
            Err(TaskDoneError(()))
        }
    }

    /// Receives the oldest value as a [`Task`] that marks itself done when
    /// dropped (or through [`Task::done`]).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    ///
    /// # Cancel safety
    ///
    /// See [`RecvTask`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(1);
    /// tx.try_send(3).unwrap();
    /// let task = futures_lite::future::block_on(rx.recv_task()).unwrap();
    /// assert_eq!(task.done(), 3);
    /// ```
    pub fn recv_task(&self) -> RecvTask<'_, T, Heap, L> {
        RecvTask::new(&self.shared.chan)
    }

    /// Receives the oldest value as a [`Task`], if one is queued.
    ///
    /// # Errors
    ///
    /// As [`try_recv`](Self::try_recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sluicegate::channel::tracked::<u8>(1);
    /// assert!(rx.try_recv_task().is_err());
    /// ```
    pub fn try_recv_task(&self) -> Result<Task<'_, T, Heap, L>, TryRecvError> {
        self.shared
            .chan
            .try_recv(false)
            .map(|value| Task::new(&self.shared.chan, value))
    }

    /// Waits until every value ever sent has been received and marked done;
    /// see [`Sender::join`].
    ///
    /// # Cancel safety
    ///
    /// See [`Join`].
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = sluicegate::channel::tracked::<u8>(1);
    /// futures_lite::future::block_on(rx.join()); // nothing was sent
    /// ```
    pub fn join(&self) -> Join<'_, T, Heap, L> {
        Join::new(&self.shared.chan)
    }

    /// Values sent but not yet marked done (asyncio's `unfinished_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(2);
    /// tx.try_send(1).unwrap();
    /// rx.try_recv().unwrap();
    /// assert_eq!(rx.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.shared.chan.unfinished()
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Clone for Sender<T, K, L> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Relaxed);
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Drop for Sender<T, K, L> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, AcqRel) == 1 {
            self.shared.chan.close();
        }
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Clone for Receiver<T, K, L> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Relaxed);
        Self {
            shared: self.shared.clone(),
            stream: None,
        }
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Drop for Receiver<T, K, L> {
    fn drop(&mut self) {
        let shared = &self.shared;
        // This receiver is counted gone even if leaving its stream's place
        // panics, or the channel would never see its last receiver leave.
        // (Leaving wakes nobody and drops no value, since a stream holds
        // none; the guard keeps the count right should that change.)
        let _leave = Defer::new(|| {
            if shared.receivers.fetch_sub(1, AcqRel) == 1 {
                shared.chan.abandon();
            }
        });
        if let Some(raw) = self.stream.as_mut() {
            raw.as_mut().cancel(&shared.chan);
        }
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Stream for Receiver<T, K, L> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        let raw = this
            .stream
            .get_or_insert_with(|| Box::pin(RawStream::new()));
        raw.as_mut().poll_next(&this.shared.chan, cx)
    }
}

/// Terminated once the channel is closed and drained: `poll_next` has
/// returned, or would return, `None`, and always will.
impl<T, K: Completion, L: ScopedRawMutex> FusedStream for Receiver<T, K, L> {
    fn is_terminated(&self) -> bool {
        self.shared.chan.is_drained()
    }
}

impl<T, K: Completion, L: ScopedRawMutex> fmt::Debug for Sender<T, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("channel", &self.shared.chan)
            .finish()
    }
}

impl<T, K: Completion, L: ScopedRawMutex> fmt::Debug for Receiver<T, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("channel", &self.shared.chan)
            .finish()
    }
}

/// A [`Sender`] as a [`Sink`], made by [`Sender::into_sink`].
///
/// `poll_ready` reserves a slot (waiting while the channel is full),
/// `start_send` writes into it, `poll_flush` has nothing to do, and
/// `poll_close` gives up any reserved slot and drops the sender (closing the
/// channel if it was the last one).
///
/// # Cancel safety
///
/// A slot reserved by `poll_ready` and never used is given back when the
/// sink is dropped or closed.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// let (tx, rx) = sluicegate::channel::bounded(4);
/// futures_lite::future::block_on(async {
///     let mut sink = tx.into_sink();
///     sink.send_all(&mut futures::stream::iter([1, 2, 3]).map(Ok)).await.unwrap();
///     sink.close().await.unwrap();
///     assert_eq!(rx.collect::<Vec<_>>().await, [1, 2, 3]);
/// });
/// ```
pub struct SendSink<T, K: Completion = Untracked, L: ScopedRawMutex = DefaultRawMutex> {
    sender: Option<Sender<T, K, L>>,
    /// The pending reservation, allocated on the first wait and reused.
    slot: Option<Pin<Box<RawSlot>>>,
    /// Whether `poll_ready` reserved a slot not yet used.
    permit: bool,
}

impl<T, K: Completion, L: ScopedRawMutex> SendSink<T, K, L> {
    /// The sender, unless the sink was closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(1);
    /// let sink = tx.into_sink();
    /// assert_eq!(sink.sender().unwrap().capacity(), 1);
    /// ```
    pub fn sender(&self) -> Option<&Sender<T, K, L>> {
        self.sender.as_ref()
    }

    fn release(&mut self) {
        if let (Some(sender), Some(slot)) = (&self.sender, self.slot.as_mut()) {
            slot.as_mut()
                .release_sink(&sender.shared.chan, &mut self.permit);
        }
        // Without a slot state machine `poll_ready` never ran: nothing is
        // reserved.
        debug_assert!(!self.permit);
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Sink<T> for SendSink<T, K, L> {
    type Error = SendError<()>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        let Some(sender) = &this.sender else {
            return Poll::Ready(Err(SendError(())));
        };
        let slot = this.slot.get_or_insert_with(|| Box::pin(RawSlot::Idle));
        slot.as_mut()
            .poll_sink_ready(&sender.shared.chan, cx, &mut this.permit)
            .map_err(|()| SendError(()))
    }

    /// # Panics
    ///
    /// If `poll_ready` did not return `Ready(Ok(()))` first.
    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        let Some(sender) = this.sender.as_ref() else {
            panic!("Sink::start_send called without a successful poll_ready");
        };
        RawSlot::sink_send(&sender.shared.chan, &mut this.permit, item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        this.release();
        this.sender = None;
        Poll::Ready(Ok(()))
    }
}

impl<T, K: Completion, L: ScopedRawMutex> Drop for SendSink<T, K, L> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<T, K: Completion, L: ScopedRawMutex> fmt::Debug for SendSink<T, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSink")
            .field("sender", &self.sender)
            .field("reserved", &self.permit)
            .finish()
    }
}
