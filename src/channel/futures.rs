//! The channel's named futures and guards, shared by every flavour.

use core::fmt;
use core::future::Future;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
use alloc::vec::Vec;

use pin_project_lite::pin_project;

use super::chan::{write_value, Chan, RawClosed, RawJoin, RawRecv, RawSlot, RawStream, Wake};
use super::error::{RecvError, SendError};
use super::{Completion, Storage, Tracked};
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};

pin_project! {
    /// The future of `send`: waits for a free slot, then writes the value.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `Send` never enqueues its value (the value is
    /// dropped with the future). If it was dropped after a slot had been
    /// granted to it, that slot goes on to the next waiting sender. Use
    /// [`reserve`](super::Sender::reserve) to keep the value when the wait is
    /// cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// let send: sluicegate::channel::Send<'_, _, _, _> = tx.send(1);
    /// futures_lite::future::block_on(send).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Send<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawSlot,
        value: Option<T>,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for Send<'_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Send<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>, value: T) -> Self {
        Self {
            chan,
            raw: RawSlot::Idle,
            value: Some(value),
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Future for Send<'_, T, S, K, L> {
    type Output = Result<(), SendError<T>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let value = this.value;
        let chan = *this.chan;
        // The first poll tries the ring's fast path, which buffers the
        // value without the channel's lock while nobody waits.
        if this.raw.is_idle() && chan.send_fast(value) {
            this.raw.as_mut().finish();
            return Poll::Ready(Ok(()));
        }
        // Else the lock takes a free slot and writes the value (no node is
        // built), or queues. `poll_slot` runs the closure
        // from two places, so LLVM weighs whether to inline it; it must be,
        // or every send pays a call and spills (measured with callgrind).
        match this.raw.poll_slot(
            chan,
            cx,
            #[inline(always)]
            |l| {
                let v = value.take().expect("`Send` polled after completion");
                ((), write_value(l, chan, v))
            },
        ) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(())) => Poll::Ready(Err(SendError(
                value.take().expect("`Send` polled after completion"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Send<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("phase", &self.raw.phase())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of `reserve`: waits for a free slot and holds it as a
    /// [`Permit`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it loses nothing (it holds no value), and a slot
    /// granted to it before it was dropped goes on to the next waiting
    /// sender.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = sluicegate::channel::bounded::<u8>(1);
    /// let permit = futures_lite::future::block_on(tx.reserve()).unwrap();
    /// assert!(tx.try_send(1).is_err());
    /// drop(permit);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Reserve<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawSlot,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for Reserve<'_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Reserve<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self {
            chan,
            raw: RawSlot::Idle,
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Future for Reserve<'a, T, S, K, L> {
    type Output = Result<Permit<'a, T, S, K, L>, SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let chan = *this.chan;
        this.raw
            .poll_slot(chan, cx, |_| ((), Wake::NONE))
            .map(|res| res.map(|()| Permit { chan }).map_err(|()| SendError(())))
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Reserve<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserve")
            .field("phase", &self.raw.phase())
            .finish_non_exhaustive()
    }
}

/// A reserved slot: [`send`](Self::send) writes a value into it without
/// waiting. Dropping the permit unused gives the slot back (to the next
/// waiting sender, if any).
///
/// A permit obtained before a graceful `close()` stays usable: receivers
/// wait for outstanding permits before they report the channel drained.
/// After an immediate shutdown, a value sent through a permit is dropped.
///
/// # Examples
///
/// ```
/// let (tx, rx) = sluicegate::channel::bounded(1);
/// let permit = tx.try_reserve().unwrap();
/// assert!(tx.try_send(1).unwrap_err().is_full()); // the slot is taken
/// permit.send(2);
/// assert_eq!(rx.try_recv(), Ok(2));
/// ```
#[must_use = "dropping the permit gives the slot back at once"]
pub struct Permit<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
    chan: &'a Chan<T, S, K, L>,
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Permit<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self { chan }
    }

    /// Writes `value` into the reserved slot (or hands it straight to a
    /// waiting receiver). Never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(4);
    /// futures_lite::future::block_on(async {
    ///     tx.reserve().await.unwrap().send("hi");
    ///     assert_eq!(rx.recv().await, Ok("hi"));
    /// });
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        core::mem::forget(self);
        chan.send_reserved(value);
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Drop for Permit<'_, T, S, K, L> {
    fn drop(&mut self) {
        self.chan.release_reserved();
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Permit<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of `recv`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `Recv` never loses a value. If a value had
    /// already been handed to it when it was dropped (woken, not yet
    /// re-polled), the value goes on to the next waiting receiver, or back to
    /// the front of the queue (waking the waiting streams).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(1);
    /// tx.try_send('a').unwrap();
    /// assert_eq!(futures_lite::future::block_on(rx.recv()), Ok('a'));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Recv<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawRecv<T>,
        // Whether the value awaits a `task_done()` (false for `recv_task`).
        counted: bool,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for Recv<'_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Recv<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self {
            chan,
            raw: RawRecv::Idle,
            counted: true,
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Future for Recv<'_, T, S, K, L> {
    type Output = Result<T, RecvError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        this.raw.poll_recv(this.chan, cx, *this.counted)
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Recv<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("phase", &self.raw.phase())
            .finish_non_exhaustive()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pin_project! {
    /// The future of `recv_many`.
    ///
    /// # Cancel safety
    ///
    /// As [`Recv`]: values are only moved into the buffer in the poll that
    /// returns `Ready`, so a dropped `RecvMany` has taken nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded(4);
    /// tx.try_send(1).unwrap();
    /// let mut buf = Vec::new();
    /// assert_eq!(futures_lite::future::block_on(rx.recv_many(&mut buf, 4)), Ok(1));
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct RecvMany<'a, 'b, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawRecv<T>,
        buf: &'b mut Vec<T>,
        limit: usize,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for RecvMany<'_, '_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<'a, 'b, T, S: Storage, K: Completion, L: ScopedRawMutex> RecvMany<'a, 'b, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>, buf: &'b mut Vec<T>, limit: usize) -> Self {
        Self {
            chan,
            raw: RawRecv::Idle,
            buf,
            limit,
        }
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Future for RecvMany<'_, '_, T, S, K, L> {
    type Output = Result<usize, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(0));
        }
        let first = match this.raw.poll_recv(this.chan, cx, true) {
            Poll::Ready(Ok(value)) => value,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        this.buf.push(first);
        let more = this.chan.take_into(this.buf, *this.limit - 1);
        Poll::Ready(Ok(1 + more))
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for RecvMany<'_, '_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMany")
            .field("phase", &self.raw.phase())
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of `recv_task`: a [`Recv`] whose value comes wrapped in a
    /// [`Task`] guard.
    ///
    /// # Cancel safety
    ///
    /// As [`Recv`]; a value is only counted as received once this future
    /// returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(1);
    /// tx.try_send(1).unwrap();
    /// let task = futures_lite::future::block_on(rx.recv_task()).unwrap();
    /// assert_eq!(task.done(), 1);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct RecvTask<'a, T, S: Storage, L: ScopedRawMutex = DefaultRawMutex> {
        #[pin]
        recv: Recv<'a, T, S, Tracked, L>,
    }
}

impl<'a, T, S: Storage, L: ScopedRawMutex> RecvTask<'a, T, S, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, Tracked, L>) -> Self {
        Self {
            recv: Recv {
                chan,
                raw: RawRecv::Idle,
                counted: false,
            },
        }
    }
}

impl<'a, T, S: Storage, L: ScopedRawMutex> Future for RecvTask<'a, T, S, L> {
    type Output = Result<Task<'a, T, S, L>, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let chan = this.recv.chan;
        this.recv
            .poll(cx)
            .map(|res| res.map(|value| Task::new(chan, value)))
    }
}

impl<T, S: Storage, L: ScopedRawMutex> fmt::Debug for RecvTask<'_, T, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvTask")
            .field("phase", &self.recv.raw.phase())
            .finish_non_exhaustive()
    }
}

/// A received value of a tracked channel that marks itself done (asyncio's
/// `task_done()`) when it is dropped or when [`done`](Self::done) is called,
/// so the count cannot go wrong.
///
/// Dereferences to the value.
///
/// # Examples
///
/// ```
/// let (tx, rx) = sluicegate::channel::tracked(4);
/// futures_lite::future::block_on(async {
///     tx.send(21).await.unwrap();
///     let task = rx.recv_task().await.unwrap();
///     assert_eq!(*task * 2, 42);
///     assert_eq!(rx.unfinished_tasks(), 1);
///     drop(task); // marks it done
///     rx.join().await; // nothing unfinished
/// });
/// ```
#[must_use = "dropping the task marks it done at once"]
pub struct Task<'a, T, S: Storage, L: ScopedRawMutex = DefaultRawMutex> {
    chan: &'a Chan<T, S, Tracked, L>,
    value: Option<T>,
}

impl<'a, T, S: Storage, L: ScopedRawMutex> Task<'a, T, S, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, Tracked, L>, value: T) -> Self {
        Self {
            chan,
            value: Some(value),
        }
    }

    /// Marks the task done now and returns its value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(1);
    /// tx.try_send(5).unwrap();
    /// let task = rx.try_recv_task().unwrap();
    /// assert_eq!(task.done(), 5);
    /// assert_eq!(rx.unfinished_tasks(), 0);
    /// ```
    pub fn done(mut self) -> T {
        self.value.take().expect("a live `Task` holds its value")
    }
}

impl<T, S: Storage, L: ScopedRawMutex> Deref for Task<'_, T, S, L> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("a live `Task` holds its value")
    }
}

impl<T, S: Storage, L: ScopedRawMutex> DerefMut for Task<'_, T, S, L> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("a live `Task` holds its value")
    }
}

impl<T, S: Storage, L: ScopedRawMutex> Drop for Task<'_, T, S, L> {
    fn drop(&mut self) {
        self.chan.finish_task();
    }
}

impl<T: fmt::Debug, S: Storage, L: ScopedRawMutex> fmt::Debug for Task<'_, T, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Task").field(&self.value).finish()
    }
}

pin_project! {
    /// The future of `join`: completes once every value sent has been
    /// received and marked done.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `Join` just leaves the queue. Since the
    /// completion wakes every `join` at once, there is no wake-up to pass
    /// on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::tracked(1);
    /// tx.try_send(1).unwrap();
    /// drop(rx.try_recv_task().unwrap());
    /// futures_lite::future::block_on(tx.join());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Join<'a, T, S: Storage, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, Tracked, L>,
        #[pin]
        raw: RawJoin,
    }

    impl<T, S: Storage, L: ScopedRawMutex> PinnedDrop for Join<'_, T, S, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, L: ScopedRawMutex> Join<'a, T, S, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, Tracked, L>) -> Self {
        Self {
            chan,
            raw: RawJoin::new(),
        }
    }
}

impl<T, S: Storage, L: ScopedRawMutex> Future for Join<'_, T, S, L> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        this.raw.poll_join(this.chan, cx)
    }
}

impl<T, S: Storage, L: ScopedRawMutex> fmt::Debug for Join<'_, T, S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of `closed`: completes once the channel is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `Closed` just leaves the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = sluicegate::channel::bounded::<u8>(1);
    /// tx.close();
    /// futures_lite::future::block_on(rx.closed());
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Closed<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawClosed,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for Closed<'_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> Closed<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self {
            chan,
            raw: RawClosed::new(),
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Future for Closed<'_, T, S, K, L> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        this.raw.poll_closed(this.chan, cx)
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Closed<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").finish_non_exhaustive()
    }
}

pin_project! {
    /// A [`Stream`] over a channel borrowed by reference, made by
    /// [`Channel::stream`](super::Channel::stream): each item is one
    /// `recv()`, and the stream ends once the channel is closed and drained.
    ///
    /// It holds its wait-list node inline (no allocation), so it must be
    /// pinned before use (`core::pin::pin!`). Several streams (and plain
    /// `recv` calls) may share one channel; each value goes to one of them.
    ///
    /// A stream waits as a *weak* waiter: it is woken when a value is
    /// queued, and takes it itself on its next poll, but it is never handed
    /// a value. A value sent while a `recv` waits goes to that `recv`; one
    /// sent while only streams wait is queued and wakes every waiting stream,
    /// the first to poll taking it. So a stream has no FIFO turn against
    /// `recv` calls, but a stream kept alive after its `next()` future was
    /// dropped holds nothing back from anyone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a value is only taken in the poll that returns it, and
    /// nothing is ever handed to a stream. Dropping a `next()` future (before
    /// or after its wake-up) or the stream itself loses nothing: the value
    /// stays queued for any receiver, and every other waiting stream was
    /// woken for it too. The place a dropped `next()` left queued only ever
    /// costs a spurious wake-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use sluicegate::channel::Channel;
    ///
    /// static LINES: Channel<u32, 4> = Channel::new();
    ///
    /// futures_lite::future::block_on(async {
    ///     LINES.try_send(1).unwrap();
    ///     LINES.try_send(2).unwrap();
    ///     LINES.close();
    ///     let all: Vec<u32> = core::pin::pin!(LINES.stream()).collect().await;
    ///     assert_eq!(all, [1, 2]);
    /// });
    /// ```
    ///
    /// [`Stream`]: futures_core::Stream
    #[must_use = "streams do nothing unless polled"]
    pub struct RecvStream<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        raw: RawStream,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for RecvStream<'_, T, S, K, L> {
        #[inline]
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.raw.cancel(this.chan);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> RecvStream<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self {
            chan,
            raw: RawStream::new(),
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> futures_core::Stream
    for RecvStream<'_, T, S, K, L>
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        this.raw.poll_next(this.chan, cx)
    }
}

/// Terminated once the channel is closed and drained.
impl<T, S: Storage, K: Completion, L: ScopedRawMutex> futures_core::stream::FusedStream
    for RecvStream<'_, T, S, K, L>
{
    fn is_terminated(&self) -> bool {
        self.chan.is_drained()
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for RecvStream<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvStream")
            .field("phase", &self.raw.phase())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// A [`Sink`] into a channel borrowed by reference, made by
    /// [`Channel::sink`](super::Channel::sink).
    ///
    /// `poll_ready` reserves a slot (waiting while the channel is full),
    /// `start_send` writes into it, `poll_flush` has nothing to do, and
    /// `poll_close` gives up a reserved slot and ends this sink (later
    /// sends fail). Closing the sink does not close the channel, which
    /// other tasks may still use: call
    /// [`Channel::close`](super::Channel::close) for that.
    ///
    /// Like [`RecvStream`] it holds its node inline and must be pinned.
    ///
    /// # Cancel safety
    ///
    /// A slot reserved by `poll_ready` and never used is given back when
    /// the sink is dropped or closed; a reservation still waiting leaves the
    /// queue (and a slot granted to it goes on to the next sender).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::{SinkExt, StreamExt};
    /// use sluicegate::channel::Channel;
    ///
    /// let ch = Channel::<u32, 4>::new();
    /// futures_lite::future::block_on(async {
    ///     let mut sink = core::pin::pin!(ch.sink());
    ///     sink.send_all(&mut futures::stream::iter([1, 2, 3]).map(Ok)).await.unwrap();
    ///     sink.close().await.unwrap();
    ///     assert!(sink.send(4).await.is_err(), "the sink is closed");
    ///     ch.close();
    ///     assert_eq!(core::pin::pin!(ch.stream()).collect::<Vec<_>>().await, [1, 2, 3]);
    /// });
    /// ```
    ///
    /// [`Sink`]: futures_sink::Sink
    #[must_use = "sinks do nothing unless polled"]
    pub struct SendSinkRef<'a, T, S: Storage, K: Completion, L: ScopedRawMutex = DefaultRawMutex> {
        chan: &'a Chan<T, S, K, L>,
        #[pin]
        slot: RawSlot,
        // Whether `poll_ready` reserved a slot not yet used.
        permit: bool,
        // Whether `poll_close` ran.
        closed: bool,
    }

    impl<T, S: Storage, K: Completion, L: ScopedRawMutex> PinnedDrop for SendSinkRef<'_, T, S, K, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            this.slot.release_sink(this.chan, this.permit);
        }
    }
}

impl<'a, T, S: Storage, K: Completion, L: ScopedRawMutex> SendSinkRef<'a, T, S, K, L> {
    pub(crate) fn new(chan: &'a Chan<T, S, K, L>) -> Self {
        Self {
            chan,
            slot: RawSlot::Idle,
            permit: false,
            closed: false,
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> futures_sink::Sink<T>
    for SendSinkRef<'_, T, S, K, L>
{
    type Error = SendError<()>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.project();
        if *this.closed {
            return Poll::Ready(Err(SendError(())));
        }
        this.slot
            .poll_sink_ready(this.chan, cx, this.permit)
            .map_err(|()| SendError(()))
    }

    /// # Panics
    ///
    /// If `poll_ready` did not return `Ready(Ok(()))` first.
    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.project();
        RawSlot::sink_send(this.chan, this.permit, item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.project();
        this.slot.release_sink(this.chan, this.permit);
        *this.closed = true;
        Poll::Ready(Ok(()))
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for SendSinkRef<'_, T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSinkRef")
            .field("phase", &self.slot.phase())
            .field("reserved", &self.permit)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}
