//! The channel's buffer and its fast path: a value sent while nobody waits
//! goes into the ring under a spin lock of one compare-exchange and one
//! store, without the channel's wait-list lock.
//!
//! # The two modes of each side
//!
//! The ring has one atomic word, [`Ring::word`], holding a lock bit and two
//! mode bits, one per side:
//!
//! - **Fast** (its bit clear): a `send` (for `TX_SLOW`) or `recv` (for
//!   `RX_SLOW`) may take the ring lock (`LOCKED`) with one
//!   compare-exchange, push or pop, and unlock with one release store. It
//!   touches no waiter and wakes nobody, which is sound only because the
//!   channel keeps a side fast solely while nothing on it needs the wait
//!   list: no sender, receiver or stream waits, the channel is open (for
//!   sends) and not discarding (for receives). Senders also find a full
//!   ring full: capacity counts slots granted to waiting senders and values
//!   handed to receivers ([`RingState::reserved`] and
//!   [`RingState::handed`]), which the fast path reads under the ring lock
//!   too.
//! - **Slow** (its bit set): every operation of that side takes the
//!   channel's lock `L` and does what it did before this module existed:
//!   queueing, granting slots to waiting senders in order, handing values
//!   to waiting receivers, waking streams, closing and draining.
//!
//! The channel's lock owns the ring while *both* bits are set: a holder of
//! `L` first sets both ([`Ring::owned`]; one compare-exchange, which waits
//! out a fast operation in progress, or nothing when they are already set),
//! then works on the ring with plain accesses, and when it is done stores
//! the bits that the new state needs (a release store, or nothing when both
//! stay set). A fast operation that finds its bit set goes the slow way, so
//! the listen-recheck-wait discipline holds: a waiter queues under `L`
//! while its own operation owns the ring, and leaves the bits that send
//! every later operation of the other side to `L`, where it will be found.
//!
//! The mode bits are recomputed on every exit from `L` (see
//! `Chan::exit_mode`), with a little hysteresis: a side stays slow while
//! its fast path could not succeed anyway (the ring full for senders, empty
//! for receivers), so that a channel that keeps waiting never flips bits.
//!
//! # Why a spin lock here
//!
//! The ring lock is held for a copy of one value and a few counter updates:
//! no user code, no waker, no allocation. The channel's own lock `L`,
//! which a thread may hold across `Waker::clone` and list walks, stays
//! whatever the user chose (a parking lock by default with `std`); a holder of
//! `L` never holds the ring lock, it excludes fast operations with the mode
//! bits instead. A fast operation that finds the ring lock taken does not
//! spin: it goes the slow way. Only a holder of `L` spins, waiting for the
//! copy in progress to end, so at most one thread spins at a time.
//!
//! Spinning on a lock that an interrupted context holds deadlocks, so the
//! fast path is enabled only for channels built with the default lock
//! (`bounded`, `Channel::new`, ...), whose lock is a parking lock with
//! `std` (no interrupt handlers) or, without `std`, already a spin lock with
//! the same caveat. With `std`, a holder of `L` that has spun a while on a
//! fast operation in progress sleeps a microsecond between tries, so that
//! a preempted fast operation (say, of a lower real-time priority on the
//! same core) gets to run and finish. A channel built with an explicit lock (`*_with_raw_mutex`, say
//! a `CriticalSectionRawMutex` shared with an interrupt handler) keeps both
//! bits set for good and never spins; so does a [`Tracked`](super::Tracked)
//! channel, whose counts live under `L`, and a capacity-1 channel, where a
//! fast path turns itself off after every operation (see `Chan`'s
//! `pinned`).

use super::{Buffer, Storage};
use crate::defer::Defer;
use crate::loom::atomic::{
    AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use crate::loom::UnsafeCell;

/// A fast operation holds the ring.
const LOCKED: usize = 0b001;
/// Sends go through the channel's lock.
pub(super) const TX_SLOW: usize = 0b010;
/// Receives go through the channel's lock.
pub(super) const RX_SLOW: usize = 0b100;
/// Both sides slow: the holder of the channel's lock owns the ring.
pub(super) const SLOW: usize = TX_SLOW | RX_SLOW;

/// The buffer and the counts that capacity is made of.
///
/// # Invariants
///
/// - The `len` values from `head` on (wrapping at `cap`) are initialised;
///   every other slot is uninitialised.
/// - `len + held <= cap`, and `cap == buf.slots().len() > 0`.
/// - `handed <= held`.
pub(crate) struct RingState<T, S: Storage> {
    buf: S::Buffer<T>,
    cap: usize,
    /// Index of the oldest value.
    head: usize,
    /// Values in the buffer.
    pub(crate) len: usize,
    /// Slots taken outside the buffer: values moved into a woken
    /// receiver's node and not picked up yet (`handed`), and slots granted
    /// to permits or woken senders and not written yet (reserved). One sum,
    /// since capacity checks only need the sum.
    held: usize,
    /// Of `held`, the handed values (which `len()` counts as queued).
    handed: usize,
}

impl<T, S: Storage> RingState<T, S> {
    crate::loom::loom_const_fn! {
        pub(crate) const fn new(buf: S::Buffer<T>, cap: usize) -> RingState<T, S> {
            RingState { buf, cap, head: 0, len: 0, held: 0, handed: 0 }
        }
    }

    /// Slots that hold a value or are promised one.
    #[inline]
    pub(crate) fn in_use(&self) -> usize {
        self.len + self.held
    }

    /// Values queued: buffered, or handed to a receiver that has not
    /// picked them up yet.
    #[inline]
    pub(crate) fn queued(&self) -> usize {
        self.len + self.handed
    }

    /// Slots granted to permits or woken senders, not yet written.
    pub(crate) fn reserved(&self) -> usize {
        self.held - self.handed
    }

    /// A free slot is granted to a permit or a woken sender.
    #[inline]
    pub(crate) fn reserve(&mut self) {
        debug_assert!(self.in_use() < self.cap);
        self.held += 1;
    }

    /// A reserved slot is used, or given back.
    #[inline]
    pub(crate) fn unreserve(&mut self) {
        debug_assert!(self.reserved() > 0);
        self.held -= 1;
    }

    /// A value (in a slot already accounted for) is moved into a waiting
    /// receiver's node.
    #[inline]
    pub(crate) fn hand(&mut self) {
        self.held += 1;
        self.handed += 1;
    }

    /// A handed value left its receiver's node.
    #[inline]
    pub(crate) fn unhand(&mut self) {
        debug_assert!(self.handed > 0);
        self.held -= 1;
        self.handed -= 1;
    }

    #[inline]
    pub(crate) fn free(&self) -> usize {
        self.cap - self.in_use()
    }

    /// Puts `value` behind the newest. The caller has checked that a slot
    /// is free for it (`len < cap`).
    #[inline]
    pub(crate) fn push_back(&mut self, value: T) {
        debug_assert!(self.len < self.cap);
        let mut i = self.head + self.len;
        if i >= self.cap {
            i -= self.cap;
        }
        self.buf.slots()[i].write(value);
        self.len += 1;
    }

    /// Puts `value` before the oldest (a value given back by a cancelled
    /// receiver, older than anything buffered).
    pub(crate) fn push_front(&mut self, value: T) {
        debug_assert!(self.len < self.cap);
        self.head = if self.head == 0 {
            self.cap - 1
        } else {
            self.head - 1
        };
        self.buf.slots()[self.head].write(value);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let head = self.head;
        self.head = if head + 1 == self.cap { 0 } else { head + 1 };
        self.len -= 1;
        // SAFETY: `len` was positive, so the slot at the old `head` held the
        // oldest value (type invariant); moving `head` past it and counting
        // it out of `len` makes it uninitialised, so it is read only once.
        Some(unsafe { self.buf.slots()[head].assume_init_read() })
    }
}

impl<T, S: Storage> Drop for RingState<T, S> {
    fn drop(&mut self) {
        // If a value's drop panics, the others are still dropped (the
        // panic guard below, then the unwinding `drop_in_place`).
        struct Rest<T>(*mut [T]);
        impl<T> Drop for Rest<T> {
            fn drop(&mut self) {
                // SAFETY: built by `drop` below over the initialised slots
                // that wrapped past the end of the buffer (disjoint from
                // the first range), and dropped once, here.
                unsafe { core::ptr::drop_in_place(self.0) }
            }
        }
        let (head, len, cap) = (self.head, self.len, self.cap);
        self.len = 0;
        let to_end = len.min(cap - head);
        let (wrapped, from_head) = self.buf.slots().split_at_mut(head);
        // The two ranges are exactly the `len` initialised slots from
        // `head` on (type invariant), and `MaybeUninit<T>` has `T`'s
        // layout; `len` is already 0, so nothing reads them again.
        let first = core::ptr::from_mut(&mut from_head[..to_end]) as *mut [T];
        let rest = Rest(core::ptr::from_mut(&mut wrapped[..len - to_end]) as *mut [T]);
        // SAFETY: `first` holds initialised values only (see above), and
        // each is dropped once: `rest` is a disjoint range.
        unsafe { core::ptr::drop_in_place(first) };
        drop(rest);
    }
}

/// The ring and the word that says who may touch it.
///
/// # Invariants
///
/// - `state` is accessed only by (a) the thread that set `LOCKED` in `word`
///   with a compare-exchange from a value without it, until it clears it
///   with a release store; or (b) a holder of the channel's lock `L` after
///   it saw or set both `SLOW` bits, until it stores a word without one of
///   them (still holding `L`).
/// - `LOCKED` is only set while the bit of the side setting it is clear, so
///   never while both `SLOW` bits are set; the `SLOW` bits are only changed
///   by holders of `L`, and only while `LOCKED` is clear.
///
/// Together these make every access to `state` exclusive, and order each
/// one after the previous one: a fast operation's release store pairs with
/// the next compare-exchange's acquire, and two holders of `L` are ordered
/// by `L`.
pub(crate) struct Ring<T, S: Storage> {
    word: AtomicUsize,
    state: UnsafeCell<RingState<T, S>>,
}

// SAFETY: the ring moves values of `T` between threads (so `T: Send`), and
// its state is only accessed exclusively (type invariants), so sharing a
// `&Ring` is as safe as sending the values.
unsafe impl<T: Send, S: Storage> Sync for Ring<T, S> {}
// SAFETY: the ring owns its values; sending it sends them.
unsafe impl<T: Send, S: Storage> Send for Ring<T, S> {}

/// What a fast `send` did with its value.
pub(crate) enum Push<T> {
    /// Buffered.
    Done,
    /// The side is fast and the ring full: no slot for it, and, since
    /// nobody waits and the channel is open, no other outcome either.
    Full(T),
    /// The side is slow: ask under the channel's lock.
    Slow(T),
}

impl<T, S: Storage> Ring<T, S> {
    crate::loom::loom_const_fn! {
        /// A ring over `buf`, both sides slow if `pinned` (for good: only
        /// `Chan::exit_mode` clears the bits, and it never does then).
        pub(crate) const fn new(state: RingState<T, S>, pinned: bool) -> Ring<T, S> {
            Ring {
                word: AtomicUsize::new(if pinned { SLOW } else { 0 }),
                state: UnsafeCell::new(state),
            }
        }
    }

    /// Takes the ring lock for a fast operation of the side whose bit is
    /// `slow`; `None` if that side is slow or the ring lock is taken.
    /// Returns the guard that unlocks: it stores back the word as it was
    /// before `LOCKED` was set (release).
    ///
    /// A fast operation never spins: when another one holds the ring, it
    /// goes the slow way, through the channel's lock, whose holder waits
    /// the fast one out ([`take_over`](Self::take_over)). So at most one
    /// thread ever spins on the ring (the holder of `L`), and it waits for
    /// a copy that no lock, waker or allocation can hold up. (With two
    /// spinners, loom rightly finds a schedule that starves the holder.)
    /// A failed compare-exchange retries only while the word it returned
    /// shows the ring free and the side fast: the word changed, so some
    /// other operation made progress.
    #[inline(always)]
    fn lock_fast(&self, slow: usize) -> Option<Defer<impl FnOnce() + '_>> {
        let mut w = self.word.load(Relaxed);
        loop {
            if w & (slow | LOCKED) != 0 {
                return None;
            }
            match self
                .word
                .compare_exchange_weak(w, w | LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return Some(Defer::new(move || self.word.store(w, Release))),
                Err(now) => w = now,
            }
        }
    }

    /// [`try_push`](Self::try_push) for a value kept in the caller's
    /// `Option` (a `send` future's), moved out only when it is buffered:
    /// `true` if it was.
    #[inline]
    pub(crate) fn try_push_from(&self, value: &mut Option<T>) -> bool {
        let Some(_unlock) = self.lock_fast(TX_SLOW) else {
            return false;
        };
        self.state.with_mut(|state| {
            // SAFETY: `LOCKED` is ours (type invariant (a)).
            let state = unsafe { &mut *state };
            match value.take() {
                Some(v) if state.in_use() < state.cap => {
                    state.push_back(v);
                    true
                }
                v => {
                    *value = v;
                    false
                }
            }
        })
    }

    /// A `send` that needs no waiter: buffers `value` if the senders' side
    /// is fast and a slot is free.
    #[inline]
    pub(crate) fn try_push(&self, value: T) -> Push<T> {
        let Some(_unlock) = self.lock_fast(TX_SLOW) else {
            return Push::Slow(value);
        };
        self.state.with_mut(|state| {
            // SAFETY: `LOCKED` is ours (type invariant (a)).
            let state = unsafe { &mut *state };
            if state.in_use() < state.cap {
                state.push_back(value);
                Push::Done
            } else {
                Push::Full(value)
            }
        })
    }

    /// A `recv` that needs no waiter: the oldest value, if the receivers'
    /// side is fast and one is buffered. `None` means "ask under the
    /// channel's lock" (empty, closed, or slow).
    #[inline]
    pub(crate) fn try_pop(&self) -> Option<T> {
        let _unlock = self.lock_fast(RX_SLOW)?;
        self.state
            // SAFETY: `LOCKED` is ours (type invariant (a)).
            .with_mut(|state| unsafe { &mut *state }.pop_front())
    }

    /// Runs `f` on the ring for a holder of the channel's lock `L`, which
    /// owns it while both `SLOW` bits are set; `f` returns the bits the
    /// ring keeps afterwards (both if it panics).
    ///
    /// # Safety
    ///
    /// The caller holds the channel's lock `L`.
    #[inline]
    pub(crate) unsafe fn owned<R>(&self, f: impl FnOnce(&mut RingState<T, S>) -> (R, usize)) -> R {
        let w = self.word.load(Relaxed);
        // Both bits set (and so `LOCKED` clear): only holders of `L` change
        // the word then, and the last one is ordered before us by `L`.
        if w != SLOW {
            self.take_over(w);
        }
        let (r, mode) = self.state.with_mut(|state| {
            // SAFETY: both `SLOW` bits are set and we hold `L` (type
            // invariant (b)).
            f(unsafe { &mut *state })
        });
        debug_assert_eq!(mode & !SLOW, 0);
        if mode != SLOW {
            self.word.store(mode, Release);
        }
        r
    }

    /// Sets both `SLOW` bits, waiting out a fast operation in progress.
    /// Only with compare-exchanges, each of which returns the newest value
    /// of the word: a plain load may return an older one (loom explores
    /// that, and a spinner re-reading a stale `LOCKED` never ends its
    /// model).
    #[inline(never)]
    fn take_over(&self, w: usize) {
        let mut unlocked = w & !LOCKED;
        let mut spins = 0u32;
        loop {
            match self
                .word
                .compare_exchange_weak(unlocked, unlocked | SLOW, Acquire, Relaxed)
            {
                Ok(_) => return,
                Err(now) => {
                    if now & LOCKED != 0 {
                        spins = spins.saturating_add(1);
                        wait_a_little(spins);
                    }
                    unlocked = now & !LOCKED;
                }
            }
        }
    }
}

/// One step of [`Ring::take_over`]'s wait for a fast operation in progress.
/// The copy it waits for is a few instructions, so a spin hint first; with
/// `std`, once that has not been enough a hundred times the fast operation
/// was preempted, and a short sleep lets its thread run even if it has a
/// lower real-time priority on this core (a `yield_now` would not).
#[inline]
fn wait_a_little(spins: u32) {
    #[cfg(all(feature = "std", not(any(loom, shuttle))))]
    if spins > 100 {
        std::thread::sleep(core::time::Duration::from_micros(1));
        return;
    }
    let _ = spins;
    crate::loom::spin_loop();
}
