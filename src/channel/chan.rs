//! The one implementation behind every channel flavour: the ring buffer, the
//! waiting senders, receivers and `closed()`/`join()` waiters, all under one
//! short lock, and the state machines of the futures.
//!
//! # Accounting
//!
//! A channel of capacity `cap` has `cap` slots. Each slot is in exactly one
//! of four states:
//!
//! - holding a value in the ring buffer (`len`);
//! - holding a value moved into a woken receiver's node, which the receiver
//!   has not picked up yet (`handed`; only a `recv`-family receiver, never
//!   a stream);
//! - reserved: granted to a [`Permit`](super::Permit), or to a woken sender
//!   that has not written its value yet (`reserved`);
//! - free.
//!
//! `len + handed + reserved <= cap` always holds, so `len()` (which counts
//! `len + handed`) never exceeds the capacity, and a value given back by a
//! cancelled receiver always has a slot to return to.
//!
//! # Invariants (all under the lock)
//!
//! - Senders wait only while no slot is free: whenever a slot frees up and a
//!   sender waits, the slot is granted to the first one at once.
//! - Receivers wait only while the buffer is empty: a value sent while a
//!   receiver waits is moved straight into the first receiver's node.
//! - Streams wait only while the buffer is empty, too, but are never handed
//!   anything: a value that goes into the buffer wakes every waiting stream
//!   (see below).
//!
//! Together these make barging impossible: `try_send` finds no free slot while
//! senders wait, `try_recv` finds no value while receivers wait.
//!
//! # Streams are weak waiters
//!
//! A `Stream` cannot tell that the `next()` future polling it was dropped,
//! so the place its last `Pending` queued may belong to an owner that will
//! never poll again (a receiver kept around after losing a `select!`). A
//! value handed to such a place would be out of everybody's reach until the
//! stream is polled or dropped: `try_recv` would fail, a `recv` queued
//! behind it would wait, and close-and-drain would hang. So no value ever
//! waits in a place whose owner is not known to be polling for it: streams
//! queue in their own list, `streams`, and are only woken.
//!
//! - A value sent while a `recv` waits is handed to the first `recv`, as
//!   always; waiting streams are left alone (there is nothing for them).
//! - A value that goes into the buffer (no `recv` waits) wakes every waiting
//!   stream (one directly, several by a sweep). Each takes from the buffer
//!   on its next poll, or queues again if others were quicker. Waking only
//!   one would not do: it may be the idle one, and the streams behind it
//!   that are polling would sleep next to a value.
//! - A stream leaving (dropped, or woken and never polled again) has nothing
//!   to pass on: the value it was woken for is still in the buffer, and
//!   every other waiting stream was woken with it.
//!
//! This is how async-channel's streams work (they wait on an event and take
//! values themselves) and what flume calls a stream's "weak" waiter. It was
//! chosen over keeping streams in the receivers' list with a weak flag (the
//! same idea, closer to flume) because a separate list leaves the `recv`
//! hand-off untouched (no flag to test on the front node), wakes a stream
//! only when there is something in the buffer for it rather than for every
//! value handed past it, and keeps the streams in FIFO order among
//! themselves between values. What it costs: a stream has no FIFO turn
//! against `recv`s (a waiting `recv` is always served first, and a woken
//! stream can lose the value to a `try_recv` or a new `recv` before it
//! polls), and a value landing in the buffer wakes every waiting stream,
//! of which all but one find nothing when several race.
//!
//! On the `send` path the streams cost one test of an empty list: the
//! wake-up rides in [`Wake`]'s waker slot (the stream's own waker, or a
//! [`sweeper`] for several), so `deliver` never sets `Wake::sweep` and the
//! `send` futures compile without a sweep check. Measured with callgrind on
//! `benches/examples/channel_flow.rs`, a `sweep` flag here cost 5–6
//! instructions per message.

use core::fmt;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
use alloc::{boxed::Box, vec::Vec};

use pin_project_lite::pin_project;

use super::error::{RecvError, TryRecvError, TrySendError};
use super::ring::{Push, Ring, RingState, RX_SLOW, SLOW, TX_SLOW};
use super::{Buffer, Completion, Storage, Tracked};
use crate::defer::Defer;
use crate::raw_mutex::ScopedRawMutex;
use crate::wait_list::{List, Node, WaitList, WakeBatch};

/// `close()` was called (or every sender, or every receiver, is gone).
const CLOSED: u8 = 0b01;
/// An immediate shutdown: queued values are discarded, receivers fail at
/// once.
const DISCARD: u8 = 0b10;

/// The receivers' list: receivers wait in the list itself (their node holds
/// the value handed to them); the rest of the locked state is in [`Core`].
type Receivers<T, K> = List<Core<K>, Option<T>>;

/// What a holder of the channel's lock works on: the receivers' list (with
/// [`Core`] as its state, which `Deref` reaches) and the ring, which the
/// lock owns while it is held (see the `ring` module).
pub(crate) struct Locked<'a, T, S: Storage, K: Completion> {
    list: &'a mut Receivers<T, K>,
    /// The buffer and the counts that capacity is made of.
    pub(crate) ring: &'a mut RingState<T, S>,
}

impl<T, S: Storage, K: Completion> Deref for Locked<'_, T, S, K> {
    type Target = Receivers<T, K>;

    #[inline(always)]
    fn deref(&self) -> &Self::Target {
        self.list
    }
}

impl<T, S: Storage, K: Completion> DerefMut for Locked<'_, T, S, K> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.list
    }
}

impl<T, S: Storage, K: Completion> Locked<'_, T, S, K> {
    /// Nothing is left that a receiver could still get: closed with every
    /// slot empty (a reservation or a handed value may still turn into a
    /// value for a receiver), or shut down immediately.
    #[inline]
    fn drained(&self) -> bool {
        let c = &self.list.state;
        c.discards() || (c.is_closed() && self.ring.in_use() == 0)
    }
}

/// What every flavour shares: the lock, its state, the ring and the
/// capacity.
pub(crate) struct Chan<T, S: Storage, K: Completion, L: ScopedRawMutex> {
    waiters: WaitList<Core<K>, Option<T>, L>,
    ring: Ring<T, S>,
    cap: usize,
    /// The ring's fast path is off for good: an explicit lock, or
    /// completion tracking (see the `ring` module docs).
    pinned: bool,
}

/// The state guarded by the channel's lock (besides the ring, which it owns
/// while held).
pub(crate) struct Core<K: Completion> {
    flags: u8,
    /// Waiting `send`/`reserve` futures; the node data is "a slot was
    /// granted to me".
    senders: List<(), bool>,
    /// Waiting `closed()` futures.
    closers: List<(), ()>,
    /// Waiting streams: weak waiters, woken but never handed a value (see
    /// the module docs). The list's state is how many are linked.
    streams: List<usize, ()>,
    /// Completion tracking (a zero-sized no-op unless `K` is [`Tracked`]).
    track: K,
}

/// Wake-ups decided under the lock, performed after it is released.
#[must_use]
pub(crate) struct Wake {
    /// A waiter's waker, or a [`sweeper`] for several streams: either way,
    /// finish the `Wake` in the method that made it.
    waker: Option<Waker>,
    /// Some waiters became due all at once (close, drained, join): wake
    /// them in batches with [`Chan::sweep`]. (Several streams due at once
    /// come as a [`sweeper`] waker instead, keeping this 0 on the `send`
    /// path.) A full word rather than a
    /// `bool`: with a padded `bool` the compiler wrote the padding with
    /// overlapping partial stores and re-read it, stalling every operation
    /// on store forwarding (measured, x86-64).
    sweep: usize,
}

impl Wake {
    pub(crate) const NONE: Self = Self {
        waker: None,
        sweep: 0,
    };

    fn one(waker: Option<Waker>) -> Self {
        Self { waker, sweep: 0 }
    }

    fn sweep(sweep: bool) -> Self {
        Self {
            waker: None,
            sweep: usize::from(sweep),
        }
    }

    #[inline]
    pub(crate) fn finish<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self,
        chan: &Chan<T, S, K, L>,
    ) {
        if let Some(waker) = self.waker {
            waker.wake();
        }
        if self.sweep != 0 {
            chan.sweep();
        }
    }

    /// [`finish`](Self::finish) for a receive; `took`: it took a value. If
    /// a wake panics, that value is dropped with the unwind and never reaches
    /// its receiver; with completion tracking it then counts as done, as a
    /// discarded value does, so that `join()` stays reachable.
    #[inline]
    pub(crate) fn finish_recv<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self,
        chan: &Chan<T, S, K, L>,
        took: bool,
        counted: bool,
    ) {
        if took {
            let lost = Defer::new(|| chan.lose_taken(counted));
            self.finish(chan);
            lost.cancel();
        } else {
            self.finish(chan);
        }
    }
}

impl<K: Completion> Core<K> {
    #[inline]
    fn is_closed(&self) -> bool {
        self.flags & CLOSED != 0
    }

    #[inline]
    fn discards(&self) -> bool {
        self.flags & DISCARD != 0
    }

    #[inline]
    fn count_sent(&mut self) {
        if let Some(t) = self.track.tracker() {
            t.unfinished += 1;
        }
    }

    #[inline]
    fn count_received(&mut self, n: usize) {
        if let Some(t) = self.track.tracker() {
            t.received += n;
        }
    }

    /// `n` sent values will never be received; returns whether `join()`
    /// waiters became due.
    fn count_discarded(&mut self, n: usize) -> bool {
        self.track.tracker().is_some_and(|t| t.finish(n))
    }
}

/// A value went into the buffer: every waiting stream is due. One branch on
/// the `send` path; the wake-up goes through `Wake`'s waker slot (see
/// [`wake_streams`]), so `deliver` still never sets `sweep`, and the `send`
/// futures keep a `finish` without a sweep check.
#[inline(always)]
fn streams_due<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    l: &mut Locked<'_, T, S, K>,
    chan: &Chan<T, S, K, L>,
) -> Wake {
    if l.state.streams.is_empty() {
        Wake::NONE
    } else {
        Wake::one(wake_streams(l, chan))
    }
}

/// The one waker that wakes every waiting stream: the stream's own, popped,
/// when one waits; else [`sweeper`]`(chan)`, which sweeps them all (none is
/// popped here: a popped waker could not be dropped under the lock).
#[cold]
#[inline(never)]
fn wake_streams<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    l: &mut Locked<'_, T, S, K>,
    chan: &Chan<T, S, K, L>,
) -> Option<Waker> {
    let streams = &mut l.state.streams;
    debug_assert!(streams.state > 0, "streams linked, none counted");
    if streams.state == 1 {
        streams.state = 0;
        streams.pop_front().flatten()
    } else {
        // SAFETY: the caller wakes or drops the sweeper before it returns
        // from the `Chan` method that borrows `chan` (see `sweeper`).
        Some(unsafe { sweeper(chan) })
    }
}

/// A waker whose `wake` runs [`Chan::sweep`] on `chan`: how a `Wake` asks
/// for several waiters at once through its one waker slot.
///
/// # Safety
///
/// The waker holds `chan`'s address without its lifetime. The caller must
/// wake or drop it, and every clone of it, while `chan` is still borrowed:
/// in this module it only ever travels in a `Wake` that the `Chan` method
/// that made it finishes before returning, and it is never cloned.
unsafe fn sweeper<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    chan: &Chan<T, S, K, L>,
) -> Waker {
    fn vtable<T, S: Storage, K: Completion, L: ScopedRawMutex>() -> &'static RawWakerVTable {
        &RawWakerVTable::new(
            clone::<T, S, K, L>,
            wake::<T, S, K, L>,
            wake::<T, S, K, L>,
            drop,
        )
    }
    unsafe fn clone<T, S: Storage, K: Completion, L: ScopedRawMutex>(chan: *const ()) -> RawWaker {
        RawWaker::new(chan, vtable::<T, S, K, L>())
    }
    unsafe fn wake<T, S: Storage, K: Completion, L: ScopedRawMutex>(chan: *const ()) {
        // SAFETY: `chan` is alive (the contract of `sweeper`).
        unsafe { &*chan.cast::<Chan<T, S, K, L>>() }.sweep();
    }
    unsafe fn drop(_: *const ()) {}
    let raw = RawWaker::new(core::ptr::from_ref(chan).cast(), vtable::<T, S, K, L>());
    // SAFETY: the vtable's functions keep the `RawWaker` contract while
    // `chan` lives, which the caller guarantees for as long as the waker
    // (and any clone) exists; `clone` and `drop` touch nothing, and `wake`
    // only takes `&Chan`, which any thread may use.
    unsafe { Waker::from_raw(raw) }
}

/// Puts `value` into a slot the caller has already accounted for: into the
/// first waiting receiver's node, else at the back of the buffer (waking
/// the waiting streams, which are never handed a value).
#[inline]
fn deliver<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    l: &mut Locked<'_, T, S, K>,
    chan: &Chan<T, S, K, L>,
    value: T,
) -> Wake {
    l.state.count_sent();
    if l.is_empty() {
        l.ring.push_back(value);
        streams_due(l, chan)
    } else {
        let mut value = Some(value);
        l.with_front(|slot| *slot = value.take());
        l.ring.hand();
        Wake::one(l.pop_front().flatten())
    }
}

/// A slot became free: grant it to the first waiting sender. On a closed
/// channel nobody is granted anything any more (the close's sweep fails the
/// waiting senders), but the channel may have just drained.
#[inline]
fn slot_freed<T, S: Storage, K: Completion>(l: &mut Locked<'_, T, S, K>) -> Wake {
    let c = &mut l.list.state;
    if !c.senders.is_empty() && !c.is_closed() {
        c.senders.with_front(|granted| *granted = true);
        l.ring.reserve();
        Wake::one(c.senders.pop_front().flatten())
    } else {
        Wake::sweep(l.drained() && !(l.is_empty() && l.state.streams.is_empty()))
    }
}

/// A receiver takes the oldest buffered value. `Ok(None)`: nothing yet.
/// `counted`: whether the value awaits a `task_done()` (a [`Task`] guard
/// does its own counting).
///
/// [`Task`]: super::Task
#[inline]
fn take<T, S: Storage, K: Completion>(
    l: &mut Locked<'_, T, S, K>,
    counted: bool,
) -> (Result<Option<T>, RecvError>, Wake) {
    if l.state.discards() {
        return (Err(RecvError(())), Wake::NONE);
    }
    if let Some(value) = l.ring.pop_front() {
        if counted {
            l.state.count_received(1);
        }
        return (Ok(Some(value)), slot_freed(l));
    }
    if l.drained() {
        return (Err(RecvError(())), Wake::NONE);
    }
    (Ok(None), Wake::NONE)
}

/// A value handed to a receiver that was dropped before picking it up goes
/// on: to the next waiting receiver, else back to the front of the buffer
/// (it is older than anything buffered), waking the waiting streams. After
/// an immediate shutdown it is returned, to be dropped outside the lock.
fn pass_on<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    l: &mut Locked<'_, T, S, K>,
    chan: &Chan<T, S, K, L>,
    value: T,
) -> (Option<T>, Wake) {
    l.ring.unhand();
    if l.state.discards() {
        let joiners_due = l.state.count_discarded(1);
        let wake = slot_freed(l);
        return (
            Some(value),
            Wake {
                sweep: wake.sweep | usize::from(joiners_due),
                ..wake
            },
        );
    }
    if l.is_empty() {
        l.ring.push_front(value);
        (None, streams_due(l, chan))
    } else {
        let mut value = Some(value);
        l.with_front(|slot| *slot = value.take());
        l.ring.hand();
        (None, Wake::one(l.pop_front().flatten()))
    }
}

/// Whether a channel keeps the ring's fast path off for good: with a lock
/// the user chose (`fast` false: it may be shared with an interrupt
/// handler, see the `ring` module), with completion tracking (its counts
/// live under the channel's lock), and at capacity 1, where a fast send
/// fills the channel and a fast receive empties it, so each side's fast
/// path turns itself off after one operation and never pays for the mode
/// bits it would recompute on every exit from the lock (measured: 28
/// instructions per capacity-1 message).
const fn pinned(fast: bool, tracked: bool, cap: usize) -> bool {
    !fast || tracked || cap == 1
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> Chan<T, S, K, L> {
    /// A channel over `buf`, whose length is the capacity. `fast`: whether
    /// the ring's fast path may be used, which only the default lock allows
    /// (see the `ring` module docs).
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) fn with_buffer(mut buf: S::Buffer<T>, raw_mutex: L, fast: bool) -> Self {
        let cap = buf.slots().len();
        let pinned = pinned(fast, K::TRACKED, cap);
        Self {
            waiters: WaitList::new(Core::new(), raw_mutex),
            ring: Ring::new(RingState::new(buf, cap), pinned),
            cap,
            pinned,
        }
    }

    /// Runs `f` under the channel's lock, with the ring owned by it.
    #[inline]
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut Locked<'_, T, S, K>) -> R) -> R {
        self.waiters.lock(|list| {
            // SAFETY: this closure runs under the channel's lock.
            unsafe {
                self.ring.owned(|ring| {
                    let mut l = Locked { list, ring };
                    let r = f(&mut l);
                    (r, self.exit_mode(&l))
                })
            }
        })
    }

    /// The ring's mode bits after a critical section (see the `ring`
    /// module): a side goes fast only when nothing on it needs the lock,
    /// and stays slow while its fast path could not succeed anyway (so a
    /// channel that keeps waiting never flips them).
    #[inline]
    fn exit_mode(&self, l: &Locked<'_, T, S, K>) -> usize {
        if self.pinned {
            return SLOW;
        }
        // The lists first: a critical section that leaves a waiter queued
        // (most of those of a channel that waits) is decided by them alone.
        let c = &l.state;
        if !c.senders.is_empty() || !l.is_empty() || !c.streams.is_empty() {
            return SLOW;
        }
        let r = &l.ring;
        let mut mode = 0;
        if r.in_use() == self.cap {
            mode |= TX_SLOW;
        }
        if r.len == 0 {
            mode |= RX_SLOW;
        }
        if c.is_closed() {
            mode |= TX_SLOW;
        }
        if c.discards() {
            mode |= RX_SLOW;
        }
        mode
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Queued values: buffered, or handed to a receiver that has not picked
    /// them up yet.
    pub(crate) fn len(&self) -> usize {
        self.lock(|l| l.ring.queued())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock(|l| l.state.is_closed())
    }

    /// Whether a stream's every poll returns `None` from now on: closed with
    /// nothing left for a receiver, or shut down immediately. (A value
    /// handed to a woken `recv` before an immediate shutdown still goes to
    /// that `recv`, but a stream is never handed anything.)
    pub(crate) fn is_drained(&self) -> bool {
        self.lock(|l| l.drained())
    }

    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.ring.try_push(value) {
            Push::Done => Ok(()),
            Push::Full(value) => Err(TrySendError::Full(value)),
            Push::Slow(value) => self.try_send_slow(value),
        }
    }

    #[inline(never)]
    fn try_send_slow(&self, value: T) -> Result<(), TrySendError<T>> {
        let res = self.lock(|l| {
            if l.state.is_closed() {
                Err(TrySendError::Closed(value))
            } else if l.ring.free() == 0 {
                Err(TrySendError::Full(value))
            } else {
                Ok(deliver(l, self, value))
            }
        });
        res.map(|wake| wake.finish(self))
    }

    /// A `send` future's first poll, when the ring's fast path applies:
    /// buffers the value (moved out of `value`) without the channel's lock.
    /// `false`: the future must go the slow way, its value untouched (the
    /// lock decides then, and queues it if the channel is full).
    #[inline]
    pub(crate) fn send_fast(&self, value: &mut Option<T>) -> bool {
        self.ring.try_push_from(value)
    }

    /// A receive's fast path: the oldest buffered value, taken without the
    /// channel's lock. `None`: ask under the lock (nothing buffered, or a
    /// side that needs the lock).
    #[inline]
    pub(crate) fn recv_fast(&self) -> Option<T> {
        self.ring.try_pop()
    }

    pub(crate) fn try_reserve(&self) -> Result<(), TrySendError<()>> {
        self.lock(|l| {
            if l.state.is_closed() {
                Err(TrySendError::Closed(()))
            } else if l.ring.free() == 0 {
                Err(TrySendError::Full(()))
            } else {
                l.ring.reserve();
                Ok(())
            }
        })
    }

    /// Writes `value` into a slot reserved earlier. After an immediate
    /// shutdown the value is dropped instead.
    pub(crate) fn send_reserved(&self, value: T) {
        let (discarded, wake) = self.lock(|l| {
            l.ring.unreserve();
            if l.state.discards() {
                (Some(value), slot_freed(l))
            } else {
                (None, deliver(l, self, value))
            }
        });
        wake.finish(self);
        drop(discarded);
    }

    /// Gives back a slot reserved earlier, unused.
    pub(crate) fn release_reserved(&self) {
        self.lock(|l| {
            l.ring.unreserve();
            slot_freed(l)
        })
        .finish(self);
    }

    pub(crate) fn force_send(&self, value: T) -> Result<Option<T>, TrySendError<T>> {
        let res = self.lock(|l| {
            if l.state.is_closed() {
                Err(TrySendError::Closed(value))
            } else if l.ring.free() > 0 {
                Ok((None, deliver(l, self, value)))
            } else if let Some(oldest) = l.ring.pop_front() {
                // No receiver waits while values are buffered, so the new
                // value goes to the back; the unfinished count is unchanged.
                l.ring.push_back(value);
                Ok((Some(oldest), Wake::NONE))
            } else {
                // Every slot is reserved or handed to a receiver: nothing
                // queued can be displaced.
                Err(TrySendError::Full(value))
            }
        });
        res.map(|(displaced, wake)| {
            wake.finish(self);
            displaced
        })
    }

    pub(crate) fn try_recv(&self, counted: bool) -> Result<T, TryRecvError> {
        // A tracked channel never takes the fast path, so nothing taken
        // there needs counting.
        if let Some(value) = self.recv_fast() {
            return Ok(value);
        }
        self.try_recv_slow(counted)
    }

    #[inline(never)]
    fn try_recv_slow(&self, counted: bool) -> Result<T, TryRecvError> {
        let (res, wake) = self.lock(|l| take(l, counted));
        wake.finish_recv(self, matches!(res, Ok(Some(_))), counted);
        match res {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(TryRecvError::Empty),
            Err(_) => Err(TryRecvError::Closed),
        }
    }

    /// A value taken by a receive will never reach the receiver (see
    /// [`Wake::finish_recv`]): it is done. Had it been counted as received
    /// (awaiting `task_done()`) and that count was already used up by a
    /// `task_done()`, it is done already.
    #[cold]
    fn lose_taken(&self, counted: bool) {
        let due = self.lock(|l| match l.state.track.tracker() {
            Some(t) if counted && t.received == 0 => false,
            Some(t) => {
                if counted {
                    t.received -= 1;
                }
                t.unfinished != 0 && t.finish(1)
            }
            None => false,
        });
        if due {
            self.sweep();
        }
    }

    /// Moves up to `limit` buffered values into `buf` without allocating
    /// under the lock; returns how many.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) fn take_into(&self, buf: &mut Vec<T>, limit: usize) -> usize {
        let mut total = 0;
        // `buf` grows (outside the lock) with what the last look found
        // queued, not with the capacity: a large channel holding a few
        // values costs a few slots. The first look takes up to one batch.
        let mut queued = WakeBatch::CAPACITY;
        loop {
            let spare = buf.capacity() - buf.len();
            let room = (limit - total).min(queued.max(spare));
            if room == 0 {
                return total;
            }
            buf.reserve(room);
            // Each value taken may grant a slot to a sender: take at most a
            // batch's worth per lock, so every grant has a waker slot.
            let mut batch = WakeBatch::new();
            let mut sweep = false;
            let n = self.lock(|l| {
                if l.state.discards() {
                    return 0;
                }
                let mut n = 0;
                while n < room && !batch.is_full() {
                    let Some(value) = l.ring.pop_front() else {
                        break;
                    };
                    buf.push(value);
                    n += 1;
                    let wake = slot_freed(l);
                    batch.push(wake.waker);
                    sweep |= wake.sweep != 0;
                }
                l.state.count_received(n);
                queued = l.ring.len;
                n
            });
            batch.wake_all();
            if sweep {
                self.sweep();
            }
            total += n;
            if n == 0 {
                return total;
            }
        }
    }

    /// Closes the channel; returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let newly = self.lock(|l| {
            let was = l.state.is_closed();
            l.state.flags |= CLOSED;
            !was
        });
        if newly {
            self.sweep();
        }
        newly
    }

    /// Closes the channel and discards every buffered value (dropped outside
    /// the lock); returns how many were discarded.
    pub(crate) fn shutdown_immediate(&self) -> usize {
        self.lock(|l| l.state.flags |= CLOSED | DISCARD);
        // If a value's drop panics, the drain and the wake-ups go on.
        let finish = Defer::new(|| {
            self.shutdown_immediate();
        });
        let mut discarded = 0;
        loop {
            let value = self.lock(|l| {
                let value = l.ring.pop_front();
                if value.is_some() {
                    let _ = l.state.count_discarded(1);
                }
                value
            });
            match value {
                Some(value) => {
                    discarded += 1;
                    drop(value);
                }
                None => break,
            }
        }
        finish.cancel();
        self.sweep();
        discarded
    }

    /// The last receiver is gone: shut down immediately, and release
    /// `join()`, since no value received but not yet marked done can be
    /// marked any more.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) fn abandon(&self) {
        // Releases `join()` after the shutdown, even one a panicking drop of
        // a discarded value cut short.
        let _release = Defer::new(|| {
            let due = self.lock(|l| match l.state.track.tracker() {
                Some(t) => {
                    t.received = 0;
                    t.finish(t.unfinished)
                }
                None => false,
            });
            if due {
                self.sweep();
            }
        });
        self.shutdown_immediate();
    }

    /// Wakes, in batches, every waiter that is due: every stream while a
    /// value is buffered; on a closed channel every sender and `closed()`
    /// waiter, and every receiver and stream once nothing is left for them;
    /// with completion tracking, every `join()` waiter once no task is
    /// unfinished.
    #[cold]
    pub(crate) fn sweep(&self) {
        // If a wake panics, the sweep goes on: what was due is due.
        let resume = Defer::new(|| self.sweep());
        let mut batch = WakeBatch::new();
        loop {
            let more = self.lock(|l| loop {
                if batch.is_full() {
                    return true;
                }
                let drained = l.drained();
                let buffered = l.ring.len > 0;
                let c = &mut l.list.state;
                // Streams, once a value is buffered for them or nothing is
                // left to wait for.
                if buffered || drained {
                    if let Some(waker) = c.streams.pop_front() {
                        c.streams.state -= 1;
                        batch.push(waker);
                        continue;
                    }
                }
                if c.is_closed() {
                    if let Some(waker) = c.senders.pop_front() {
                        batch.push(waker);
                        continue;
                    }
                    if let Some(waker) = c.closers.pop_front() {
                        batch.push(waker);
                        continue;
                    }
                    if drained {
                        if let Some(waker) = l.pop_front() {
                            batch.push(waker);
                            continue;
                        }
                    }
                }
                if let Some(t) = l.state.track.tracker() {
                    // Every joiner that queued before the count last reached
                    // zero, whatever the count is now (joiners queue in
                    // order, so they are the front ones).
                    let zeros = t.zeros;
                    if t.joiners.with_front(|queued_at| *queued_at != zeros) == Some(true) {
                        batch.push(t.joiners.pop_front().flatten());
                        continue;
                    }
                }
                return false;
            });
            batch.wake_all();
            if !more {
                resume.cancel();
                return;
            }
        }
    }
}

impl Tracked {
    /// `n` unfinished values are done (marked done, or discarded); returns
    /// whether `join()` waiters became due.
    fn finish(&mut self, n: usize) -> bool {
        if n == 0 {
            return false;
        }
        self.unfinished -= n;
        if self.unfinished != 0 {
            return false;
        }
        self.zeros = self.zeros.wrapping_add(1);
        !self.joiners.is_empty()
    }
}

impl<T, S: Storage, L: ScopedRawMutex> Chan<T, S, Tracked, L> {
    pub(crate) fn unfinished(&self) -> usize {
        self.lock(|l| l.state.track.unfinished)
    }

    /// A [`Task`](super::Task) guard is done.
    pub(crate) fn finish_task(&self) {
        let due = self.lock(|l| l.state.track.finish(1));
        if due {
            self.sweep();
        }
    }

    /// Marks one received value done; `false` if none is outstanding.
    pub(crate) fn task_done(&self) -> bool {
        let res = self.lock(|l| {
            let t = &mut l.state.track;
            if t.received == 0 {
                return None;
            }
            t.received -= 1;
            Some(t.finish(1))
        });
        match res {
            Some(due) => {
                if due {
                    self.sweep();
                }
                true
            }
            None => false,
        }
    }
}

impl<T, S: Storage, K: Completion, L: ScopedRawMutex> fmt::Debug for Chan<T, S, K, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Read under the lock, format outside it.
        let (len, reserved, closed) = self.lock(|l| {
            let r = &l.ring;
            (r.queued(), r.reserved(), l.state.is_closed())
        });
        f.debug_struct("Channel")
            .field("len", &len)
            .field("capacity", &self.cap)
            .field("reserved", &reserved)
            .field("closed", &closed)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------
// State machines of the futures. Each is driven against the `Chan` its owner
// supplies on every call (always the same one).

pin_project! {
    /// Waiting for a slot: the shared part of `send` and `reserve`.
    ///
    /// The wait-list node is only built once the owner's fast path failed
    /// and the future must wait: building a node in every future and then
    /// moving the future cost a store-forwarding stall per operation.
    #[project = RawSlotProj]
    pub(crate) enum RawSlot {
        Idle,
        Waiting { #[pin] node: Node<bool> },
        Done,
    }
}

impl RawSlot {
    pub(crate) fn phase(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting { .. } => "waiting",
            Self::Done => "done",
        }
    }

    /// Whether no poll has run yet (or a `Sink` reset it).
    #[inline(always)]
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self, Self::Idle)
    }

    /// Completes an idle state machine whose owner got its slot by the
    /// ring's fast path.
    #[inline(always)]
    pub(crate) fn finish(mut self: Pin<&mut Self>) {
        debug_assert!(self.is_idle());
        self.set(Self::Done);
    }

    /// Makes a completed state machine reusable (a `Sink` reuses one).
    fn reset(mut self: Pin<&mut Self>) {
        if matches!(*self, Self::Done) {
            self.set(Self::Idle);
        }
    }

    /// A `Sink`'s `poll_ready`, shared by both sinks: reserves a slot with
    /// this (reused) state machine and records it in `permit`.
    /// `Err(())`: the channel is closed.
    pub(crate) fn poll_sink_ready<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        mut self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        cx: &mut Context<'_>,
        permit: &mut bool,
    ) -> Poll<Result<(), ()>> {
        if *permit {
            return Poll::Ready(Ok(()));
        }
        self.as_mut().reset();
        let res = self.poll_slot(chan, cx, |_| ((), Wake::NONE));
        if let Poll::Ready(Ok(())) = res {
            *permit = true;
        }
        res
    }

    /// A `Sink`'s `start_send`: writes into the slot recorded in `permit`.
    #[track_caller]
    pub(crate) fn sink_send<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        chan: &Chan<T, S, K, L>,
        permit: &mut bool,
        item: T,
    ) {
        assert!(
            core::mem::take(permit),
            "Sink::start_send called without a successful poll_ready"
        );
        chan.send_reserved(item);
    }

    /// Ends a sink: gives back the slot recorded in `permit`, if any, and
    /// leaves the senders' queue.
    pub(crate) fn release_sink<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        permit: &mut bool,
    ) {
        if core::mem::take(permit) {
            chan.release_reserved();
        }
        self.cancel(chan);
    }

    /// Polls for a slot. Once one is held (counted in `reserved`), runs
    /// `on_slot` under the same lock. `Err(())`: the channel is closed.
    #[inline]
    pub(crate) fn poll_slot<T, S: Storage, K: Completion, R, L: ScopedRawMutex>(
        mut self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        cx: &mut Context<'_>,
        on_slot: impl FnOnce(&mut Locked<'_, T, S, K>) -> (R, Wake),
    ) -> Poll<Result<R, ()>> {
        if let Self::Done = *self {
            panic!("channel future polled after completion");
        }
        if let Self::Idle = *self {
            // First poll: one lock takes a free slot, or builds the node in
            // place and queues it (the node costs nothing on the fast path).
            // A fresh node holds no waker to displace; were it to, that one
            // is dropped after the lock too.
            let mut displaced = None;
            let (res, wake) = chan.lock(|l| {
                if l.state.is_closed() {
                    return (Poll::Ready(Err(())), Wake::NONE);
                }
                if l.ring.free() > 0 {
                    l.ring.reserve();
                    let (r, wake) = on_slot(l);
                    return (Poll::Ready(Ok(r)), wake);
                }
                // Cloned before the node exists: a panicking clone leaves
                // the state machine idle and nothing linked.
                let waker = cx.waker().clone();
                self.set(Self::Waiting {
                    node: Node::new(false),
                });
                let RawSlotProj::Waiting { node } = self.as_mut().project() else {
                    unreachable!()
                };
                // SAFETY: the node is used with `senders` only, and its
                // owner's drop (`cancel`) unlinks it.
                displaced = unsafe { l.state.senders.push_back(node.into_ref(), false, waker) };
                (Poll::Pending, Wake::NONE)
            });
            drop(displaced);
            if res.is_ready() {
                self.set(Self::Done);
            }
            wake.finish(chan);
            return res;
        }
        let RawSlotProj::Waiting { node } = self.as_mut().project() else {
            unreachable!()
        };
        let node = node.into_ref();
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        let (res, wake) = chan.lock(|l| {
            let c = &mut l.list.state;
            // SAFETY: the node is used with `senders` only.
            let (granted, linked) = unsafe {
                c.senders
                    .with_node(node, |granted, linked| (*granted, linked))
            };
            if granted && c.discards() {
                // Granted, but an immediate shutdown came before the slot
                // was used: fail as a `send` arriving now would (Python
                // 3.13 fails a woken putter too), and give the slot back.
                l.ring.unreserve();
                (Poll::Ready(Err(())), slot_freed(l))
            } else if granted {
                // A slot granted before a (graceful) close stays usable.
                let (r, wake) = on_slot(l);
                (Poll::Ready(Ok(r)), wake)
            } else if !linked || c.is_closed() {
                // Only a close unlinks a sender without granting it.
                // SAFETY: as above.
                unsafe { c.senders.remove(node) };
                (Poll::Ready(Err(())), Wake::NONE)
            } else {
                // SAFETY: as above.
                displaced = unsafe { c.senders.set_waker(node, cx.waker()) };
                (Poll::Pending, Wake::NONE)
            }
        });
        if res.is_ready() {
            // The node is unlinked: granted (popped), never linked, or
            // removed above.
            self.set(Self::Done);
        }
        wake.finish(chan);
        res
    }

    /// Leaves the queue; a slot granted but not used goes to the next
    /// sender. Inline: the usual drop (completed, or never queued) is one
    /// branch.
    #[inline]
    pub(crate) fn cancel<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        if let Self::Waiting { .. } = *self {
            self.leave(chan);
        }
    }

    #[inline(never)]
    fn leave<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        mut self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        let RawSlotProj::Waiting { node } = self.as_mut().project() else {
            return;
        };
        let node = node.into_ref();
        let wake = chan.lock(|l| {
            // SAFETY: the node is used with `senders` only.
            unsafe {
                if l.state.senders.remove(node) {
                    return Wake::NONE;
                }
                if !l.state.senders.with_node(node, |granted, _| *granted) {
                    return Wake::NONE;
                }
            }
            l.ring.unreserve();
            slot_freed(l)
        });
        // Unlinked above.
        self.set(Self::Done);
        wake.finish(chan);
    }
}

/// `on_slot` of a `send`: write the value into the slot just taken or
/// granted (never after an immediate shutdown: `poll_slot` fails then).
#[inline]
pub(crate) fn write_value<T, S: Storage, K: Completion, L: ScopedRawMutex>(
    l: &mut Locked<'_, T, S, K>,
    chan: &Chan<T, S, K, L>,
    value: T,
) -> Wake {
    debug_assert!(!l.state.discards());
    l.ring.unreserve();
    deliver(l, chan, value)
}

pin_project! {
    /// Waiting for a value: `recv` and friends. Like [`RawSlot`], the node
    /// is only built once the fast path failed.
    #[project = RawRecvProj]
    pub(crate) enum RawRecv<T> {
        Idle,
        Waiting { #[pin] node: Node<Option<T>> },
        Done,
    }
}

impl<T> RawRecv<T> {
    pub(crate) fn phase(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Waiting { .. } => "waiting",
            Self::Done => "done",
        }
    }

    /// Polls for a value. `counted`: whether the value awaits a
    /// `task_done()` (see `take`).
    #[inline]
    pub(crate) fn poll_recv<S: Storage, K: Completion, L: ScopedRawMutex>(
        mut self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        cx: &mut Context<'_>,
        counted: bool,
    ) -> Poll<Result<T, RecvError>> {
        if let Self::Done = *self {
            panic!("channel future polled after completion");
        }
        if let Self::Idle = *self {
            // First poll: the ring's fast path takes a buffered value
            // without the lock (never on a tracked channel, so there is
            // nothing to count); else one lock takes a buffered value, or
            // builds the node in place and queues it (the node costs
            // nothing on the fast path). A fresh node holds no waker to
            // displace; were it to, that one is dropped after the lock too.
            if let Some(value) = chan.recv_fast() {
                self.set(Self::Done);
                return Poll::Ready(Ok(value));
            }
            let mut displaced = None;
            let (res, wake) = chan.lock(|l| {
                let (res, wake) = take(l, counted);
                match res {
                    Ok(Some(value)) => (Poll::Ready(Ok(value)), wake),
                    Err(e) => (Poll::Ready(Err(e)), wake),
                    Ok(None) => {
                        // Cloned before the node exists: a panicking clone
                        // leaves the state machine idle and nothing linked.
                        let waker = cx.waker().clone();
                        self.set(Self::Waiting {
                            node: Node::new(None),
                        });
                        let RawRecvProj::Waiting { node } = self.as_mut().project() else {
                            unreachable!()
                        };
                        // SAFETY: the node is used with the receivers' list
                        // only, and its owner's drop (`cancel`) unlinks it.
                        displaced = unsafe { l.push_back(node.into_ref(), None, waker) };
                        (Poll::Pending, wake)
                    }
                }
            });
            drop(displaced);
            if res.is_ready() {
                self.set(Self::Done);
            }
            wake.finish_recv(chan, matches!(res, Poll::Ready(Ok(_))), counted);
            return res;
        }
        let RawRecvProj::Waiting { node } = self.as_mut().project() else {
            unreachable!()
        };
        let node = node.into_ref();
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        // Takes a buffered value, or requeues the node.
        let take_or_queue = |l: &mut Locked<'_, T, S, K>, displaced: &mut Option<Waker>| {
            let (res, wake) = take(l, counted);
            match res {
                Ok(Some(value)) => (Poll::Ready(Ok(value)), wake),
                Err(e) => (Poll::Ready(Err(e)), wake),
                Ok(None) => {
                    // SAFETY: the node is used with the receivers' list only,
                    // and its owner's drop (`cancel`) unlinks it.
                    *displaced = unsafe { l.push_back(node, None, cx.waker().clone()) };
                    (Poll::Pending, wake)
                }
            }
        };
        let (res, wake) = chan.lock(|l| {
            // SAFETY: the node is used with the receivers' list only.
            let (value, linked) = unsafe { l.with_node(node, |v, linked| (v.take(), linked)) };
            if let Some(value) = value {
                l.ring.unhand();
                if counted {
                    l.state.count_received(1);
                }
                (Poll::Ready(Ok(value)), slot_freed(l))
            } else if !linked {
                // Woken by a sweep: look again.
                take_or_queue(l, &mut displaced)
            } else if l.drained() {
                // SAFETY: as above.
                unsafe { l.remove(node) };
                (Poll::Ready(Err(RecvError(()))), Wake::NONE)
            } else {
                // SAFETY: as above.
                displaced = unsafe { l.set_waker(node, cx.waker()) };
                (Poll::Pending, Wake::NONE)
            }
        });
        if res.is_ready() {
            // The node is unlinked: popped with a value, never linked, or
            // removed above.
            self.set(Self::Done);
        }
        wake.finish_recv(chan, matches!(res, Poll::Ready(Ok(_))), counted);
        res
    }

    /// Leaves the queue; a value handed over but not picked up goes on to
    /// the next receiver (or back to the buffer).
    #[inline]
    pub(crate) fn cancel<S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        if let Self::Waiting { .. } = *self {
            self.leave(chan);
        }
    }

    #[inline(never)]
    fn leave<S: Storage, K: Completion, L: ScopedRawMutex>(
        mut self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        let RawRecvProj::Waiting { node } = self.as_mut().project() else {
            return;
        };
        let node = node.into_ref();
        let (discarded, wake) = chan.lock(|l| {
            // SAFETY: the node is used with the receivers' list only.
            unsafe {
                if l.remove(node) {
                    return (None, Wake::NONE);
                }
                match l.with_node(node, |v, _| v.take()) {
                    Some(value) => pass_on(l, chan, value),
                    None => (None, Wake::NONE),
                }
            }
        });
        // Unlinked above.
        self.set(Self::Done);
        wake.finish(chan);
        drop(discarded);
    }
}

pin_project! {
    /// A `Stream`'s pending receive, shared by both streams and reused by
    /// every `poll_next`: a weak place in the channel's `streams` list,
    /// which is woken when a value is buffered but never handed one (see
    /// the module docs). The node is built with the stream, which lives
    /// long enough for that to cost nothing per item.
    pub(crate) struct RawStream {
        #[pin]
        node: Node<()>,
        // Whether the node may be linked: set when it is pushed, cleared
        // when its owner unlinks it. A wake-up unlinks it without telling
        // the owner, so `true` only means "ask under the lock".
        queued: bool,
    }
}

impl RawStream {
    pub(crate) fn new() -> Self {
        Self {
            node: Node::new(()),
            queued: false,
        }
    }

    pub(crate) fn phase(&self) -> &'static str {
        if self.queued {
            "queued"
        } else {
            "idle"
        }
    }

    /// A `Stream`'s `poll_next`: takes the oldest buffered value, or
    /// (re)queues the node; `None` once closed and drained. A stream is
    /// polled again after every wake-up and at any other time (`select!`),
    /// so it simply looks at the buffer each time.
    pub(crate) fn poll_next<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<T>> {
        let this = self.project();
        let node = this.node.into_ref();
        let queued = this.queued;
        // Woken (popped): the node is nobody's but ours again.
        if *queued && node.popped() {
            *queued = false;
        }
        // Not queued: the ring's fast path may take a value without the
        // lock (never on a tracked channel, so there is nothing to count).
        if !*queued {
            if let Some(value) = chan.recv_fast() {
                return Poll::Ready(Some(value));
            }
        }
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        let (res, wake) = chan.lock(|l| {
            let (res, wake) = take(l, true);
            let res = match res {
                Ok(Some(value)) => Some(value),
                Err(_) => None,
                Ok(None) => {
                    let streams = &mut l.state.streams;
                    // SAFETY: the node is used with `streams` only, and its
                    // owner's drop (`cancel`) unlinks it.
                    unsafe {
                        if *queued && streams.with_node(node, |(), linked| linked) {
                            displaced = streams.set_waker(node, cx.waker());
                        } else {
                            // Cloned before the node is linked: a panicking
                            // clone leaves it unlinked.
                            let waker = cx.waker().clone();
                            displaced = streams.push_back(node, (), waker);
                            streams.state += 1;
                            *queued = true;
                        }
                    }
                    return (Poll::Pending, wake);
                }
            };
            if *queued {
                *queued = false;
                // Polled without a wake-up (or before the sweep reached it):
                // leave the queue. SAFETY: as above.
                if unsafe { l.state.streams.remove(node) } {
                    l.state.streams.state -= 1;
                }
            }
            (Poll::Ready(res), wake)
        });
        wake.finish_recv(chan, matches!(res, Poll::Ready(Some(_))), true);
        drop(displaced);
        res
    }

    /// Leaves the queue. A stream holds nothing, so nothing is passed on:
    /// a value it was woken for is still in the buffer, and every other
    /// waiting stream was woken with it.
    pub(crate) fn cancel<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        let this = self.project();
        let node = this.node.into_ref();
        // Once popped by a wake-up, nobody touches the node again: no lock.
        if core::mem::take(this.queued) && !node.popped() {
            chan.lock(|l| {
                // SAFETY: the node is used with `streams` only.
                if unsafe { l.state.streams.remove(node) } {
                    l.state.streams.state -= 1;
                }
            });
        }
    }
}

pin_project! {
    /// Waiting for `close()`.
    pub(crate) struct RawClosed {
        #[pin]
        node: Node<()>,
        queued: bool,
    }
}

impl RawClosed {
    pub(crate) fn new() -> Self {
        Self {
            node: Node::new(()),
            queued: false,
        }
    }

    pub(crate) fn poll_closed<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let this = self.project();
        let node = this.node.into_ref();
        let queued = this.queued;
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        chan.lock(|l| {
            let c = &mut l.state;
            if c.is_closed() {
                if *queued {
                    // SAFETY: the node is used with `closers` only.
                    unsafe { c.closers.remove(node) };
                    *queued = false;
                }
                return Poll::Ready(());
            }
            if *queued {
                // Not closed, so the node is still linked (only a sweep of a
                // closed channel unlinks it).
                // SAFETY: as above.
                displaced = unsafe { c.closers.set_waker(node, cx.waker()) };
            } else {
                // SAFETY: as above; the owner's drop (`cancel`) unlinks it.
                displaced = unsafe { c.closers.push_back(node, (), cx.waker().clone()) };
                *queued = true;
            }
            Poll::Pending
        })
    }

    pub(crate) fn cancel<T, S: Storage, K: Completion, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, K, L>,
    ) {
        let this = self.project();
        if *this.queued {
            let node = this.node.into_ref();
            // SAFETY: the node is used with `closers` only.
            chan.lock(|l| unsafe { l.state.closers.remove(node) });
        }
    }
}

pin_project! {
    /// Waiting until every value sent has been marked done.
    pub(crate) struct RawJoin {
        #[pin]
        node: Node<usize>,
        queued: bool,
    }
}

impl RawJoin {
    pub(crate) fn new() -> Self {
        Self {
            node: Node::new(0),
            queued: false,
        }
    }

    pub(crate) fn poll_join<T, S: Storage, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, Tracked, L>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let this = self.project();
        let node = this.node.into_ref();
        let queued = this.queued;
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        chan.lock(|l| {
            let t = &mut l.state.track;
            if *queued {
                let (queued_at, linked) =
                    // SAFETY: the node is used with `joiners` only.
                    unsafe { t.joiners.with_node(node, |z, linked| (*z, linked)) };
                // Like asyncio: once the count reached zero after we started
                // waiting, we are done, even if new values arrived since.
                if queued_at != t.zeros {
                    if linked {
                        // SAFETY: as above.
                        unsafe { t.joiners.remove(node) };
                    }
                    *queued = false;
                    return Poll::Ready(());
                }
                // SAFETY: as above.
                displaced = unsafe { t.joiners.set_waker(node, cx.waker()) };
                return Poll::Pending;
            }
            if t.unfinished == 0 {
                return Poll::Ready(());
            }
            // SAFETY: as above; the owner's drop (`cancel`) unlinks it.
            displaced = unsafe { t.joiners.push_back(node, t.zeros, cx.waker().clone()) };
            *queued = true;
            Poll::Pending
        })
    }

    pub(crate) fn cancel<T, S: Storage, L: ScopedRawMutex>(
        self: Pin<&mut Self>,
        chan: &Chan<T, S, Tracked, L>,
    ) {
        let this = self.project();
        if *this.queued {
            *this.queued = false;
            let node = this.node.into_ref();
            // A woken join passes nothing on: `task_done` wakes every joiner.
            // SAFETY: the node is used with `joiners` only.
            chan.lock(|l| unsafe { l.state.track.joiners.remove(node) });
        }
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<T> Buffer<T> for Box<[MaybeUninit<T>]> {
    #[inline(always)]
    fn slots(&mut self) -> &mut [MaybeUninit<T>] {
        self
    }
}

impl<T, const N: usize> Buffer<T> for [MaybeUninit<T>; N] {
    #[inline(always)]
    fn slots(&mut self) -> &mut [MaybeUninit<T>] {
        self
    }
}

impl<K: Completion> Core<K> {
    const fn new() -> Self {
        Core {
            flags: 0,
            senders: List::new(()),
            closers: List::new(()),
            streams: List::new(0),
            track: K::INIT,
        }
    }
}

impl<T, const N: usize, K: Completion, L: ScopedRawMutex> Chan<T, super::Inline<N>, K, L> {
    crate::loom::loom_const_fn! {
        /// An inline channel; `fast` as for `with_buffer`.
        pub(crate) const fn new_inline(raw_mutex: L, fast: bool) -> Chan<T, super::Inline<N>, K, L> {
            assert!(N > 0, "channel capacity must be at least 1 (a capacity-0 rendezvous channel is not supported)");
            let pinned = pinned(fast, K::TRACKED, N);
            Chan {
                waiters: WaitList::new(Core::new(), raw_mutex),
                ring: Ring::new(RingState::new([const { MaybeUninit::uninit() }; N], N), pinned),
                cap: N,
                pinned,
            }
        }
    }
}
