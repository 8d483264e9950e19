//! The allocation-free flavour: a channel whose buffer is inline, usable
//! from a `static`.

use core::fmt;

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
use alloc::vec::Vec;

use super::chan::Chan;
use super::error::{TaskDoneError, TryRecvError, TrySendError};
use super::futures::{
    Closed, Join, Permit, Recv, RecvStream, RecvTask, Reserve, Send, SendSinkRef, Task,
};
use super::{Completion, Inline, Tracked, Untracked};
use crate::loom::loom_const_fn;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};

/// A bounded MPMC channel with an inline buffer of `N` slots: no allocator,
/// `const` constructor, so it can live in a `static` (as embassy programs
/// need).
///
/// It is the same channel as [`bounded`](super::bounded) (one
/// implementation, generic over the storage) with the operations on `&self`
/// instead of on separate handles: every task that can see the channel can
/// send and receive. There are no handle counts, so it closes only through
/// [`close`](Self::close) or [`shutdown_immediate`](Self::shutdown_immediate).
/// `Channel<T, N, Tracked>` adds completion tracking (`join`/`task_done`).
///
/// # Panics
///
/// `N == 0` fails to compile in a `static` (and panics at run time
/// elsewhere): a rendezvous channel is not supported.
///
/// A channel in a `static` is never dropped, so values still queued in it
/// when the program ends are never dropped either (as with any `static`).
///
/// # Examples
///
/// ```
/// use sluicegate::channel::Channel;
///
/// static JOBS: Channel<u32, 4> = Channel::new();
///
/// futures_lite::future::block_on(async {
///     JOBS.send(1).await.unwrap();
///     JOBS.try_send(2).unwrap();
///     assert_eq!(JOBS.recv().await, Ok(1));
///     assert_eq!(JOBS.len(), 1);
/// });
/// ```
pub struct Channel<
    T,
    const N: usize,
    K: Completion = Untracked,
    L: ScopedRawMutex = DefaultRawMutex,
> {
    chan: Chan<T, Inline<N>, K, L>,
}

impl<T, const N: usize, K: Completion> Channel<T, N, K> {
    loom_const_fn! {
        /// An empty, open channel with `N` slots, guarded by the
        /// [`DefaultRawMutex`] (see
        /// [`new_with_raw_mutex`](Channel::new_with_raw_mutex)).
        ///
        /// # Panics
        ///
        /// If `N` is 0 (at compile time in a `const` or `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
        /// assert_eq!(ch.capacity(), 2);
        /// ```
        pub const fn new() -> Channel<T, N, K> {
            Channel { chan: Chan::new_inline(DefaultRawMutex::new(), true) }
        }
    }
}

impl<T, const N: usize, K: Completion, L: ScopedRawMutex> Channel<T, N, K, L> {
    loom_const_fn! {
        /// An empty, open channel with `N` slots whose wait lists are
        /// guarded by `raw_mutex` (see [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Panics
        ///
        /// If `N` is 0 (at compile time in a `const` or `static`).
        ///
        /// # Examples
        ///
        /// ```
        /// # #[cfg(feature = "critical-section")] {
        /// use sluicegate::channel::{Channel, Untracked};
        /// use sluicegate::raw_mutex::CriticalSectionRawMutex;
        ///
        /// // Fed by an interrupt handler, drained by a task.
        /// static SAMPLES: Channel<u16, 8, Untracked, CriticalSectionRawMutex> =
        ///     Channel::new_with_raw_mutex(CriticalSectionRawMutex::new());
        /// SAMPLES.try_send(512).unwrap();
        /// assert_eq!(SAMPLES.try_recv(), Ok(512));
        /// # }
        /// ```
        pub const fn new_with_raw_mutex(raw_mutex: L) -> Channel<T, N, K, L> {
            Channel { chan: Chan::new_inline(raw_mutex, false) }
        }
    }

    /// Sends `value`, waiting while the channel is full.
    ///
    /// # Errors
    ///
    /// [`SendError`](super::SendError), carrying the value back, if the
    /// channel is closed.
    ///
    /// # Cancel safety
    ///
    /// See [`Send`]: a dropped send never enqueues its value, and a slot
    /// granted to it goes on to the next sender.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// futures_lite::future::block_on(ch.send(3)).unwrap();
    /// assert_eq!(ch.try_recv(), Ok(3));
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T, Inline<N>, K, L> {
        Send::new(&self.chan, value)
    }

    /// Sends `value` if a slot is free and no sender is waiting.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the value.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// ch.try_send(1).unwrap();
    /// assert!(ch.try_send(2).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Waits for a free slot and reserves it.
    ///
    /// # Errors
    ///
    /// [`SendError`](super::SendError)`<()>` if the channel is closed
    /// before a slot is reserved, or shut down immediately before a slot
    /// granted while waiting was taken up (as [`Sender::reserve`]).
    ///
    /// [`Sender::reserve`]: super::Sender::reserve
    ///
    /// # Cancel safety
    ///
    /// See [`Reserve`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// let permit = futures_lite::future::block_on(ch.reserve()).unwrap();
    /// permit.send(9);
    /// assert_eq!(ch.try_recv(), Ok(9));
    /// ```
    pub fn reserve(&self) -> Reserve<'_, T, Inline<N>, K, L> {
        Reserve::new(&self.chan)
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
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// let p = ch.try_reserve().unwrap();
    /// assert!(ch.try_reserve().is_err());
    /// drop(p);
    /// assert!(ch.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T, Inline<N>, K, L>, TrySendError<()>> {
        self.chan.try_reserve().map(|()| Permit::new(&self.chan))
    }

    /// Sends `value` without waiting; when full, displaces the oldest value
    /// still in the buffer and returns it (drop-oldest overflow; as
    /// [`Sender::force_send`](super::Sender::force_send), a value already
    /// handed to a woken `recv` is not displaced).
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
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// assert_eq!(ch.force_send(1), Ok(None));
    /// assert_eq!(ch.force_send(2), Ok(Some(1)));
    /// assert_eq!(ch.try_recv(), Ok(2));
    /// ```
    pub fn force_send(&self, value: T) -> Result<Option<T>, TrySendError<T>> {
        self.chan.force_send(value)
    }

    /// Receives the oldest value, waiting while the channel is empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`](super::RecvError) once the channel is closed and
    /// drained (at once after an immediate shutdown).
    ///
    /// # Cancel safety
    ///
    /// See [`Recv`]: no value is ever lost.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// ch.try_send(4).unwrap();
    /// assert_eq!(futures_lite::future::block_on(ch.recv()), Ok(4));
    /// ```
    pub fn recv(&self) -> Recv<'_, T, Inline<N>, K, L> {
        Recv::new(&self.chan)
    }

    /// Receives the oldest value if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], or [`TryRecvError::Closed`] once closed and
    /// drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::channel::{Channel, TryRecvError};
    /// let ch = Channel::<u8, 1>::new();
    /// assert_eq!(ch.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv(true)
    }

    /// Waits for at least one value, then moves up to `limit` queued values
    /// into `buf`; returns how many (0 only for `limit == 0`).
    ///
    /// # Errors
    ///
    /// [`RecvError`](super::RecvError) once closed and drained, except for
    /// `limit == 0`, which returns `Ok(0)` at once (as tokio's does).
    ///
    /// # Cancel safety
    ///
    /// See [`RecvMany`](super::RecvMany).
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 4>::new();
    /// for i in 0..3 { ch.try_send(i).unwrap(); }
    /// let mut buf = Vec::new();
    /// assert_eq!(futures_lite::future::block_on(ch.recv_many(&mut buf, 8)), Ok(3));
    /// assert_eq!(buf, [0, 1, 2]);
    /// ```
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub fn recv_many<'a, 'b>(
        &'a self,
        buf: &'b mut Vec<T>,
        limit: usize,
    ) -> super::RecvMany<'a, 'b, T, Inline<N>, K, L> {
        super::RecvMany::new(&self.chan, buf, limit)
    }

    /// A [`Stream`](futures_core::Stream) of the values received from this
    /// channel, ending once it is closed and drained. Allocation-free: pin
    /// it (`core::pin::pin!`) before use.
    ///
    /// The stream waits as a weak waiter: woken when a value is queued,
    /// never handed one, so a stream kept after its `next()` future was
    /// dropped holds nothing back from other receivers (see [`RecvStream`]).
    ///
    /// # Cancel safety
    ///
    /// See [`RecvStream`]: a value is only taken in the poll that returns
    /// it, and none is ever handed to a stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
    /// ch.try_send(7).unwrap();
    /// let mut values = core::pin::pin!(ch.stream());
    /// assert_eq!(futures_lite::future::block_on(values.next()), Some(7));
    /// ```
    pub fn stream(&self) -> RecvStream<'_, T, Inline<N>, K, L> {
        RecvStream::new(&self.chan)
    }

    /// A [`Sink`](futures_sink::Sink) that sends into this channel
    /// (reserve in `poll_ready`, write in `start_send`). Closing the sink
    /// ends the sink, not the channel. Allocation-free: pin it
    /// (`core::pin::pin!`) before use.
    ///
    /// # Cancel safety
    ///
    /// See [`SendSinkRef`]: a reserved, unused slot is given back.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::SinkExt;
    /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
    /// let mut sink = core::pin::pin!(ch.sink());
    /// futures_lite::future::block_on(sink.send(7)).unwrap();
    /// assert_eq!(ch.try_recv(), Ok(7));
    /// ```
    pub fn sink(&self) -> SendSinkRef<'_, T, Inline<N>, K, L> {
        SendSinkRef::new(&self.chan)
    }

    /// Closes the channel gracefully (asyncio's `shutdown()`): sends fail
    /// from now on, receivers drain what is queued and then fail. Returns
    /// whether this call closed it.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
    /// ch.try_send(1).unwrap();
    /// assert!(ch.close());
    /// assert!(ch.try_send(2).unwrap_err().is_closed());
    /// assert_eq!(ch.try_recv(), Ok(1));
    /// assert!(ch.try_recv().is_err());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Closes the channel and discards every queued value (asyncio's
    /// `shutdown(immediate=True)`): receivers fail at once, and with
    /// completion tracking the unfinished count drops by the number
    /// discarded, so `join()` can return. Returns how many were discarded.
    /// A `recv` that a send already woke with a value still gets it:
    /// that value is no longer in the buffer, though `len()` counts it until
    /// it is picked up (asyncio would discard it and fail the getter). A
    /// stream is never handed a value: one it was woken for is discarded
    /// with the rest.
    ///
    /// The count is of the values in the buffer at the shutdown. It leaves
    /// out the value a woken `recv` holds (if that receive is dropped before
    /// it completes, the value is dropped with it) and any value sent later
    /// through a [`Permit`](crate::channel::Permit) reserved before the
    /// shutdown (dropped at once).
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
    /// ch.try_send(1).unwrap();
    /// assert_eq!(ch.shutdown_immediate(), 1);
    /// assert!(ch.try_recv().is_err());
    /// ```
    pub fn shutdown_immediate(&self) -> usize {
        self.chan.shutdown_immediate()
    }

    /// Waits until the channel is closed.
    ///
    /// # Cancel safety
    ///
    /// See [`Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// ch.close();
    /// futures_lite::future::block_on(ch.closed());
    /// ```
    pub fn closed(&self) -> Closed<'_, T, Inline<N>, K, L> {
        Closed::new(&self.chan)
    }

    /// Whether the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// assert!(!ch.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// How many values are queued (never more than the capacity).
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 2>::new();
    /// ch.try_send(1).unwrap();
    /// assert_eq!(ch.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is queued.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sluicegate::channel::Channel::<u8, 2>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether as many values are queued as the channel holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let ch = sluicegate::channel::Channel::<u8, 1>::new();
    /// ch.try_send(1).unwrap();
    /// assert!(ch.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The number of slots, `N`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::channel::Channel::<u8, 3>::new().capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }
}

impl<T, const N: usize, L: ScopedRawMutex> Channel<T, N, Tracked, L> {
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
    /// use sluicegate::channel::{Channel, Tracked};
    /// let ch = Channel::<u8, 2, Tracked>::new();
    /// ch.try_send(1).unwrap();
    /// let v = ch.try_recv().unwrap();
    /// ch.task_done().unwrap();
    /// futures_lite::future::block_on(ch.join());
    /// ```
    pub fn join(&self) -> Join<'_, T, Inline<N>, L> {
        Join::new(&self.chan)
    }

    /// Marks one received value done (asyncio's `task_done()`).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more often than values were received.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::channel::{Channel, Tracked};
    /// let ch = Channel::<u8, 2, Tracked>::new();
    /// assert!(ch.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        if self.chan.task_done() {
            Ok(())
        } else {
            Err(TaskDoneError(()))
        }
    }

    /// Receives the oldest value as a [`Task`] that marks itself done when
    /// dropped.
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
    /// use sluicegate::channel::{Channel, Tracked};
    /// let ch = Channel::<u8, 2, Tracked>::new();
    /// ch.try_send(1).unwrap();
    /// let task = futures_lite::future::block_on(ch.recv_task()).unwrap();
    /// assert_eq!(*task, 1);
    /// ```
    pub fn recv_task(&self) -> RecvTask<'_, T, Inline<N>, L> {
        RecvTask::new(&self.chan)
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
    /// use sluicegate::channel::{Channel, Tracked};
    /// let ch = Channel::<u8, 2, Tracked>::new();
    /// assert!(ch.try_recv_task().is_err());
    /// ```
    pub fn try_recv_task(&self) -> Result<Task<'_, T, Inline<N>, L>, TryRecvError> {
        self.chan
            .try_recv(false)
            .map(|value| Task::new(&self.chan, value))
    }

    /// Values sent but not yet marked done (asyncio's `unfinished_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::channel::{Channel, Tracked};
    /// let ch = Channel::<u8, 2, Tracked>::new();
    /// ch.try_send(1).unwrap();
    /// assert_eq!(ch.unfinished_tasks(), 1);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.chan.unfinished()
    }
}

impl<T, const N: usize, K: Completion> Default for Channel<T, N, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize, K: Completion, L: ScopedRawMutex> fmt::Debug for Channel<T, N, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.chan.fmt(f)
    }
}
