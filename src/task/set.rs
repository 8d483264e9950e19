//! The set of children a task group polls: one allocation per child, its
//! waker built from that allocation, and a ready queue the group drains.
//!
//! The only `unsafe` code of the group lives here; `group.rs` keeps
//! `#![forbid(unsafe_code)]` and uses the safe types below.
//!
//! # A child's allocation
//!
//! A child is one heap block, a [`Task<F>`]: a [`Header`] of four words and
//! the future itself, `F` concrete (children of one group are of many
//! types, so the header names the type's functions in a [`Vtable`]). The
//! header holds a reference count and the *queued* bit in one word, a link
//! (the ready queue's while the child is queued, a spawn queue's before it
//! starts, and otherwise a pointer to the group's ready queue, which its
//! wakers push to), the vtable, and one field only the group touches (the
//! spawn index until the child starts, then its slot in the set).
//!
//! Who may touch what:
//!
//! - **The future** is touched only by the group (the owner of the
//!   [`NewTask`], [`Unstarted`] or [`TaskSet`] that holds the child): polled,
//!   moved out before its first poll, or dropped in place. Never by a
//!   waker: wakers outlive the future (a child may hand its waker anywhere)
//!   and may run on any thread, while the future may borrow for `'a` and
//!   need not be `Send` (a local group's).
//! - **The block** lives while it has a reference: the group's (from
//!   creation until the future is dropped), one per [`Waker`] made from it,
//!   and the *queued* bit, which stands for the ready queue's. Whoever
//!   removes the last frees it; by then the future is gone, so freeing runs
//!   no code of `F`.
//!
//! # The ready queue
//!
//! Waking a child sets its queued bit; the waker that set it pushes the
//! child onto [`ReadyQueue`]'s stack (a lock-free push of one compare and
//! swap; a child is on it at most once, while its bit is set) and, if the
//! stack was empty, wakes the group. The group takes the whole stack in one
//! swap, reverses it (so children are polled in the order they were woken),
//! and clears each child's bit just before polling it, so that a wake-up
//! during the poll queues it again. When the set is dropped it closes the
//! stack (a sentinel no push gets past), so a waker that outlives the group
//! frees what it holds instead of queueing it.
//!
//! The group's own waker sits in a [`WakerSlot`]: the set registers it at
//! the start of each of the group's polls (nothing to do if it is the same
//! task's), and the push that finds the stack empty wakes it. No lock is
//! involved, so a child's waker may be woken on any thread (a local
//! group's lock could not be taken there).
//!
//! The queue lives in an `Arc` that the set holds, and that a block holds
//! too only if the group lets go of it while wakers still hold it: a child
//! whose wakers are gone by the time it finishes never touches that count.
//!
//! # Checks
//!
//! The unit tests below run under miri (`cargo miri test --lib`); the loom
//! models of the wake, poll and drop races are in
//! `loom-tests/tests/task_group.rs`; the group's hand-polled tests
//! (`tests/task_group_hand_polled.rs`, under miri in CI) go through all of
//! it.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::ops::ControlFlow;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::loom::atomic::{AtomicPtr, AtomicUsize, Ordering::*};
use crate::loom::{spin_loop, Arc, UnsafeCell};

/// The queued bit of [`Header::state`]: the child is on the ready stack (or
/// in the group's batch taken from it) and not yet polled since.
const QUEUED: usize = 1;
/// One reference in [`Header::state`] (the count sits above the bit).
const REF: usize = 2;
/// More references than this is a leak of wakers run wild: refuse to count
/// on (the count can then never wrap).
const MAX_STATE: usize = isize::MAX as usize;
/// [`Header::slot`] of a child that is done.
const DONE: usize = usize::MAX;
/// [`Header::slot`] of a child that is done and holds a count on its
/// group's ready queue (see [`Header`]).
const DONE_HOLDING_QUEUE: usize = usize::MAX - 1;

/// The ready stack's head once it is closed: an address no header has
/// (headers are aligned to more than 1).
fn closed() -> *mut () {
    ptr::without_provenance_mut(1)
}

/// The functions of one future type `F`, shared by every child of that
/// type: what the group needs to poll, drop and free a child it only knows
/// by its header.
struct Vtable {
    /// Polls the future; if it is ready, writes its output to the pointer
    /// (a `MaybeUninit<F::Output>`) and returns `true`.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>, NonNull<()>) -> bool,
    /// Drops the future in place.
    drop_future: unsafe fn(NonNull<Header>),
    /// Frees the block (its future already dropped or moved out).
    dealloc: unsafe fn(NonNull<Header>),
}

/// The part of a child's block that is the same for every future type.
///
/// # Invariants
///
/// - `state` is `refs * REF + queued`: `refs` counts the group's reference
///   (held while the future exists) and every [`Waker`] made from the block;
///   `queued` is [`QUEUED`] while the child is on its ready stack or in its
///   set's batch, and holds the block alive like a reference. The block is
///   freed by whoever takes `state` to 0, and only then: so never while the
///   future exists, never while queued.
/// - `next` is, before the child starts, the link of the spawn queue
///   ([`UnstartedQueue`]) that owns it, if any, touched by that queue's
///   owner alone (no waker exists yet). From the child's start on, it
///   points at the group's [`ReadyQueue`] whenever the child is not queued;
///   while it is queued it belongs to the queue (written by the pusher
///   that set the bit, then by the group once it took the stack), and
///   whoever clears the bit first puts the queue's pointer back.
/// - `slot` is touched only by the group while it holds its reference:
///   the spawn index before the child starts, the child's position in its
///   set's `slots` while it runs, then [`DONE`]. When the group lets go of
///   a block that wakers (or the queue) still hold, it sets
///   [`DONE_HOLDING_QUEUE`] and takes a count on the ready queue, which
///   whoever frees the block gives back: so the queue is alive while any
///   started block is (the set holds its own count while it holds blocks).
/// - `vtable` is that of the `F` the block was made with.
#[repr(C)]
struct Header {
    state: AtomicUsize,
    next: AtomicPtr<()>,
    vtable: &'static Vtable,
    slot: UnsafeCell<usize>,
}

/// A child's block: the header, then the future (`repr(C)`: a pointer to
/// the block is a pointer to its header).
#[repr(C)]
struct Task<F> {
    header: Header,
    /// Present from creation until dropped in place or moved out: by the
    /// group only (see the module docs).
    future: UnsafeCell<ManuallyDrop<F>>,
}

impl<F: Future> Task<F> {
    const VTABLE: Vtable = Vtable {
        poll: poll_future::<F>,
        drop_future: drop_future::<F>,
        dealloc: dealloc::<F>,
    };
}

/// # Safety
///
/// `ptr` is the header of a `Task<F>` whose future is present and pinned
/// (never moved again), polled by the group only, and `out` points at a
/// `MaybeUninit<F::Output>`.
unsafe fn poll_future<F: Future>(
    ptr: NonNull<Header>,
    cx: &mut Context<'_>,
    out: NonNull<()>,
) -> bool {
    let task = ptr.cast::<Task<F>>().as_ptr();
    // SAFETY: the caller's contract: the future is there, only the group
    // touches it, and it stays in place until dropped.
    let poll = unsafe {
        (*task)
            .future
            .with_mut(|fut| Pin::new_unchecked(&mut **fut).poll(cx))
    };
    match poll {
        Poll::Ready(output) => {
            // SAFETY: `out` is a `MaybeUninit<F::Output>` (caller's contract).
            unsafe { out.cast::<F::Output>().as_ptr().write(output) };
            true
        }
        Poll::Pending => false,
    }
}

/// # Safety
///
/// `ptr` is the header of a `Task<F>` whose future is present; the group
/// calls this once, and never touches the future again.
unsafe fn drop_future<F>(ptr: NonNull<Header>) {
    let task = ptr.cast::<Task<F>>().as_ptr();
    // SAFETY: the caller's contract: present, only the group touches it, and
    // it is not dropped twice.
    unsafe { (*task).future.with_mut(|fut| ManuallyDrop::drop(&mut *fut)) }
}

/// # Safety
///
/// `ptr` is the header of a `Task<F>` made by [`NewTask::new`] (a `Box`),
/// its future gone, and no one holds a reference to it any more (`state`
/// reached 0, or it was never shared).
unsafe fn dealloc<F>(ptr: NonNull<Header>) {
    // SAFETY: the block came from `Box::new` (see `NewTask::new`), with
    // this `F`; the future is `ManuallyDrop`, so this drops only the
    // header and frees the block.
    let task = unsafe { Box::from_raw(ptr.cast::<Task<F>>().as_ptr()) };
    // SAFETY: no one else holds the block: its fields are ours to read.
    let holds_queue = task.header.slot.with(|slot| unsafe { *slot }) == DONE_HOLDING_QUEUE;
    // Not queued (`state` is 0): `next` is the queue's pointer.
    let queue = task.header.next.load(Relaxed);
    drop(task);
    if holds_queue {
        // SAFETY: the block's own count on the queue (see `Header`), taken
        // with `Arc::increment_strong_count` on the pointer `Arc::as_ptr`
        // gave (the one `Arc::into_raw` gives), given back once.
        unsafe { Arc::decrement_strong_count(queue.cast::<ReadyQueue>().cast_const()) };
    }
}

/// Drops one hold on a block (`amount` is [`REF`], or [`QUEUED`] when the
/// bit is set), and frees it if that was the last.
///
/// # Safety
///
/// The caller holds what it gives up, and touches the block no more. If
/// it gives up the bit, it put the queue's pointer back in `next`.
unsafe fn unhold(ptr: NonNull<Header>, amount: usize) {
    // SAFETY: the caller's hold keeps the block alive until this drop.
    let header = unsafe { ptr.as_ref() };
    // Release: what this holder did to the block happens before the free;
    // acquire: what every other holder did, too.
    if header.state.fetch_sub(amount, AcqRel) == amount {
        // SAFETY: that was the last hold: the future is gone (the group's
        // reference outlives it) and no one else can reach the block.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Drops the future of a child that was never polled, and frees it.
///
/// # Safety
///
/// The caller holds the group's reference, the only one there is (never
/// polled, so no waker of it was ever made), and touches the block no
/// more.
unsafe fn drop_unstarted(ptr: NonNull<Header>) {
    /// Frees the block last: when done or while unwinding, as a `Box`
    /// would.
    struct Free(NonNull<Header>);
    impl Drop for Free {
        fn drop(&mut self) {
            // SAFETY: the only reference, and the future is gone.
            unsafe { (self.0.as_ref().vtable.dealloc)(self.0) }
        }
    }
    // SAFETY: the only reference.
    unsafe { ptr.as_ref() }
        .slot
        // SAFETY: the only reference: the slot is ours. Not the spawn index
        // any more, which `dealloc` could take for `DONE_HOLDING_QUEUE`.
        .with_mut(|slot| unsafe { *slot = DONE });
    let free = Free(ptr);
    // SAFETY: the caller's contract: the only reference, future present.
    unsafe { (ptr.as_ref().vtable.drop_future)(ptr) };
    drop(free);
}

/// Drops the future of a started child, then the group's reference to it
/// (even if the drop panics, as a `Box` would).
///
/// # Safety
///
/// The caller is the set whose ready queue `queue` is (its count held),
/// holds the group's reference to the block with the future present, and
/// touches neither again. The block's `slot` is [`DONE`].
unsafe fn drop_started(ptr: NonNull<Header>, queue: NonNull<ReadyQueue>) {
    /// Drops the group's reference, last: when done or while unwinding.
    struct Release(NonNull<Header>, NonNull<ReadyQueue>);
    impl Drop for Release {
        fn drop(&mut self) {
            let Self(ptr, queue) = *self;
            // SAFETY: the group's reference, held until now.
            let header = unsafe { ptr.as_ref() };
            // Only the group's reference, and not queued: no one else can
            // reach the block (a reference is needed to make one), so it
            // needs no read-modify-write to free. Acquire: what the other
            // holders did before they let go happens before the free.
            if header.state.load(Acquire) == REF {
                // SAFETY: the last hold, and the future is gone.
                unsafe { (header.vtable.dealloc)(ptr) }
            } else {
                // Wakers (or the queue) still hold it, and may outlive the
                // group: the block takes a count on the queue they use.
                // SAFETY: the set holds a count, so the queue is alive; the
                // pointer is `Arc::as_ptr`'s, the one `Arc::into_raw`
                // gives.
                unsafe { Arc::increment_strong_count(queue.as_ptr().cast_const()) };
                header
                    .slot
                    // SAFETY: the group's field until its reference is
                    // dropped below, which publishes it to whoever frees the
                    // block.
                    .with_mut(|slot| unsafe { *slot = DONE_HOLDING_QUEUE });
                // SAFETY: the group's reference, given up here.
                unsafe { unhold(ptr, REF) }
            }
        }
    }
    let release = Release(ptr, queue);
    // SAFETY: the caller's contract: the future is present, and the group
    // drops it once.
    unsafe { (ptr.as_ref().vtable.drop_future)(ptr) };
    drop(release);
}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// A waker for the child; it holds no reference of its own, so it must not
/// be dropped (only cloned, or woken by reference).
///
/// # Safety
///
/// The child has started, and its block stays alive while the returned
/// waker is in use.
unsafe fn borrowed_waker(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    let raw = RawWaker::new(ptr.as_ptr().cast_const().cast(), &WAKER_VTABLE);
    // SAFETY: `WAKER_VTABLE`'s functions keep `RawWaker`'s contract for the
    // header of a started child (each clone holds a reference; see
    // `clone_waker`).
    ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
}

/// # Safety (of the four waker functions)
///
/// `data` is the header pointer of a started child's block, which the
/// waker (or the borrowed waker's lender) holds alive.
unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds the block alive.
    let header = unsafe { &*data.cast::<Header>() };
    // Relaxed, as `Arc::clone`: a new reference needs an existing one, whose
    // holder is what orders it.
    let prev = header.state.fetch_add(REF, Relaxed);
    assert!(
        prev <= MAX_STATE,
        "a task group child's waker cloned too often"
    );
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: this waker holds a reference; `schedule` gives it up.
    unsafe { schedule(NonNull::new_unchecked(data.cast_mut().cast()), true) }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker's own reference (or lender) keeps the block alive.
    unsafe { schedule(NonNull::new_unchecked(data.cast_mut().cast()), false) }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: this waker's reference, given up.
    unsafe { unhold(NonNull::new_unchecked(data.cast_mut().cast()), REF) }
}

/// Queues the child unless it is queued, waking the group if its ready
/// stack was empty; `owned`: the caller gives up one reference when done.
///
/// # Safety
///
/// The child has started. The caller holds a reference to the block (or,
/// for a borrowed waker, its lender does) until this returns; with
/// `owned`, it gives it up here.
unsafe fn schedule(ptr: NonNull<Header>, owned: bool) {
    // SAFETY: the caller's hold keeps the block alive through this call:
    // with `owned`, the reference is dropped only at the end.
    let header = unsafe { ptr.as_ref() };
    // Acquire-release: the group's poll after this wake-up sees what the
    // waker did before it; this sees the queue pointer the group put back
    // in `next` before it cleared the bit.
    let prev = if owned {
        // Queue it, or, if it is queued already, drop the reference in the
        // same step (the bit holds the block: it cannot be the last).
        let mut cur = header.state.load(Relaxed);
        loop {
            let new = if cur & QUEUED == 0 {
                cur | QUEUED
            } else {
                cur - REF
            };
            match header
                .state
                .compare_exchange_weak(cur, new, AcqRel, Relaxed)
            {
                Ok(prev) => break prev,
                Err(actual) => cur = actual,
            }
        }
    } else {
        header.state.fetch_or(QUEUED, AcqRel)
    };
    if prev & QUEUED != 0 {
        // Queued already: the group polls it after this anyway.
        return;
    }
    // This call set the bit: `next` is the queue's pointer, and the push is
    // this call's to make.
    let queue_ptr = header.next.load(Relaxed);
    // SAFETY: a started block keeps its queue alive (see `Header`), and the
    // caller's hold keeps the block alive until the end of this call.
    let queue = unsafe { &*queue_ptr.cast::<ReadyQueue>() };
    match queue.push(ptr) {
        Ok(was_empty) => {
            if was_empty {
                queue.waker.wake();
            }
        }
        Err(Closed) => {
            // The group is gone: no one will take it. Put the pointer back,
            // clear the bit, which held the block, and free it if nothing
            // else does (with `owned`, the reference below still does).
            // (The pointer as loaded: a reference's would only cover the
            // queue, not the `Arc` counts around it.)
            header.next.store(queue_ptr, Relaxed);
            // SAFETY: this call set the bit, so it is this call's to drop.
            unsafe { unhold(ptr, QUEUED) };
        }
    }
    if owned {
        // SAFETY: the waker's reference, given up last: until here it kept
        // the block, and so the queue, alive.
        unsafe { unhold(ptr, REF) };
    }
}

/// A push onto a closed ready stack: the group is gone.
#[derive(Debug)]
struct Closed;

/// A group's ready stack and the waker of the group's task.
///
/// # Invariants
///
/// - Every header on the stack (from `head` through `next` links) has its
///   queued bit set, and is on the stack once; the bit holds its block.
/// - `head` is null (empty), a header, or [`closed()`], after which it never
///   changes: the set closes it when dropped, and no push gets past it.
/// - Only the set takes from the stack.
struct ReadyQueue {
    head: AtomicPtr<()>,
    waker: WakerSlot,
}

impl ReadyQueue {
    fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
            waker: WakerSlot::new(),
        }
    }

    /// Pushes a child whose queued bit the caller set; `Ok(true)` if the
    /// stack was empty (the caller then wakes the group). On `Err`, the
    /// caller's `next` may have been overwritten.
    fn push(&self, ptr: NonNull<Header>) -> Result<bool, Closed> {
        // SAFETY: the caller holds the block (the bit it set holds it too).
        let header = unsafe { ptr.as_ref() };
        let mut head = self.head.load(Relaxed);
        loop {
            if head == closed() {
                return Err(Closed);
            }
            // The caller set the bit: `next` is its own until the push.
            header.next.store(head, Relaxed);
            // Release: `next` and what the waker did happen before the
            // group's take; acquire: a push onto an empty stack sees the
            // group's waker, registered before the take that emptied it.
            match self
                .head
                .compare_exchange_weak(head, ptr.as_ptr().cast(), AcqRel, Relaxed)
            {
                Ok(_) => return Ok(head.is_null()),
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes the whole stack, newest first (null if empty). The set's
    /// alone, while the stack is open.
    fn take(&self) -> *mut () {
        self.head.swap(ptr::null_mut(), AcqRel)
    }

    /// Closes the stack for good; returns what was on it.
    fn close(&self) -> *mut () {
        let head = self.head.swap(closed(), AcqRel);
        debug_assert!(head != closed(), "a ready queue closed twice");
        head
    }
}

/// The group task's waker: registered by the set, woken by whichever push
/// finds the ready stack empty, on any thread.
///
/// # Invariants
///
/// `state` is [`IDLE`]; [`REGISTERING`] (the set is writing `waker`; no one
/// else touches it), maybe with [`WAKING`] added by a wake that then left
/// the waking to the set; or [`WAKING`] (one wake, the *owner*, is cloning
/// `waker`, to wake the clone once it has let go; the set does not write
/// it meanwhile), maybe with [`AGAIN`] (a wake that came meanwhile, whose
/// push the owner's wake-up then covers). Only the set writes `waker`, and
/// only while it holds `REGISTERING`; an owner reads it while it holds
/// `WAKING`; the set may read it whenever it is not writing it (no other
/// writer exists).
///
/// # Progress
///
/// No one ever waits for another thread. A wake that finds the slot busy
/// leaves a mark (`AGAIN` on an owner, `WAKING` on a registration) and
/// returns; whoever holds the slot sees the mark as it lets go and
/// delivers the wake-up. A registration that finds an owner cloning the
/// old waker does not wait for it either (the owner may be preempted, or
/// on the same single core at a lower priority): it leaves the old waker
/// in place and wakes the new one itself, so the group is polled again
/// and registers then. Until then a push that finds the stack empty wakes
/// the old waker, but the group's next poll takes the stack after that
/// self-wake, so it sees those pushes anyway: every poll of the group
/// either registers its waker before it takes the stack, or has woken
/// that waker already.
struct WakerSlot {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

const IDLE: usize = 0;
const REGISTERING: usize = 1;
const WAKING: usize = 2;
const AGAIN: usize = 4;

// SAFETY: `waker` is only accessed as `WakerSlot`'s invariants say, which
// the state word orders; a `Waker` is `Send` and `Sync`.
unsafe impl Sync for WakerSlot {}
// SAFETY: as above; the slot owns at most one `Waker`, which is `Send`.
unsafe impl Send for WakerSlot {}

impl WakerSlot {
    fn new() -> Self {
        Self {
            state: AtomicUsize::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Makes `waker` the one a push wakes (the set's alone), such that a
    /// push the set's next look at the stack misses still wakes it.
    fn register(&self, waker: &Waker) {
        let same = self
            .waker
            // SAFETY: only the set writes the slot, and the set is here.
            .with(|slot| unsafe { (*slot).as_ref().is_some_and(|w| w.will_wake(waker)) });
        // The same task: nothing to do, whatever the state. A push the
        // next look misses finds the stack empty and wakes this waker.
        if same {
            return;
        }
        // Acquire: what an owner read of the slot is done. Strong: a
        // spurious failure would cost a needless wake-up.
        if self
            .state
            .compare_exchange(IDLE, REGISTERING, Acquire, Relaxed)
            .is_err()
        {
            // An owner is cloning the old waker (only the set registers, so
            // WAKING is what holds the slot). Not waiting for it (see
            // `WakerSlot`): the new waker is woken here, so the group is
            // polled again, registers then, and takes the stack after this
            // wake-up, seeing every push the old waker was woken for. (Only
            // when the group's task changed its waker, or the executor's
            // wakers do not recognise their own clones.)
            waker.wake_by_ref();
            // A hint, not a wait: under loom, lets the owner's thread run
            // before the group is polled again.
            spin_loop();
            return;
        }
        let old = self
            .waker
            // SAFETY: REGISTERING: the set alone touches the slot.
            .with_mut(|slot| unsafe { (*slot).replace(waker.clone()) });
        // Release: the new waker happens before any wake that sees IDLE.
        if self
            .state
            .compare_exchange(REGISTERING, IDLE, AcqRel, Acquire)
            .is_err()
        {
            // A wake came while registering (it added WAKING and left the
            // waking to this call). Acquire, as a read-modify-write: every
            // such wake's push is seen by the poll this wake-up brings.
            self.state.swap(IDLE, AcqRel);
            waker.wake_by_ref();
        }
        // A waker's drop is executor code: after the slot is given back.
        drop(old);
    }

    /// Wakes the registered waker: this call becomes the owner, or leaves
    /// the waking to the owner or to the set if it is registering one.
    fn wake(&self) {
        // Acquire-release on every path: whoever delivers the wake-up this
        // call owes sees its push first.
        let mut state = self.state.load(Relaxed);
        loop {
            let new = match state {
                IDLE => WAKING,
                // The owner lets go after this, and wakes after it lets go.
                _ if state & WAKING != 0 => state | AGAIN,
                // The set, registering, wakes its new waker.
                _ => state | WAKING,
            };
            match self
                .state
                .compare_exchange_weak(state, new, AcqRel, Relaxed)
            {
                Ok(IDLE) => break,
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        /// Lets go of WAKING if the clone panics, so that the set can
        /// register again.
        struct LetGo<'a>(&'a AtomicUsize);
        impl Drop for LetGo<'_> {
            fn drop(&mut self) {
                self.0.store(IDLE, Release);
            }
        }
        let let_go = LetGo(&self.state);
        // SAFETY: WAKING: no one writes the slot.
        let waker = self.waker.with(|slot| unsafe { (*slot).clone() });
        mem::forget(let_go);
        // Acquire, as a read-modify-write: the pushes of every wake that
        // came meanwhile (AGAIN) happen before the wake-up below.
        self.state.swap(IDLE, AcqRel);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes the registered waker out (the set's alone), unless a wake is
    /// using it (it then stays until the queue is freed).
    fn take(&self) -> Option<Waker> {
        if self
            .state
            .compare_exchange(IDLE, REGISTERING, Acquire, Acquire)
            .is_err()
        {
            return None;
        }
        // SAFETY: REGISTERING: the set alone touches the slot.
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        // A wake that came meanwhile has nothing left to wake: the group is
        // gone.
        self.state.store(IDLE, Release);
        waker
    }
}

/// Which future types `Self` (a `dyn Future` type a group stores its
/// children as) can hold: those that coerce to it.
///
/// # Safety
///
/// `F` has `Self`'s output type, is `Send` if `Self` is, and outlives
/// whatever `Self` does: the set polls an `F` where it expects a `Self`,
/// and moves it where a `Self` may go.
pub(crate) unsafe trait Holds<F>: Future {}

// SAFETY: the bounds are those of the coercion to `Self`.
unsafe impl<'a, O, F: Future<Output = O> + Send + 'a> Holds<F>
    for dyn Future<Output = O> + Send + 'a
{
}
// SAFETY: as above.
unsafe impl<'a, O, F: Future<Output = O> + 'a> Holds<F> for dyn Future<Output = O> + 'a {}

/// Marks what a child of `D` may be (its auto traits), owning nothing.
type Holder<D> = fn() -> Box<D>;

/// A child just made, its type still known: never polled, so its future
/// can still be moved out (a refused spawn gives it back).
///
/// # Invariants
///
/// `ptr` is a block made by [`NewTask::new`] with this `F`, its future
/// present and never polled, and this is its only reference (the
/// group's).
pub(crate) struct NewTask<D: ?Sized, F> {
    ptr: NonNull<Task<F>>,
    _holder: PhantomData<(F, Holder<D>)>,
}

impl<D: ?Sized + Holds<F>, F: Future> NewTask<D, F> {
    /// A child with future `fut` and spawn index `index`, in one
    /// allocation.
    #[inline]
    pub(crate) fn new(fut: F, index: usize) -> Self {
        let task = Box::new(Task {
            header: Header {
                state: AtomicUsize::new(REF),
                next: AtomicPtr::new(ptr::null_mut()),
                vtable: &Task::<F>::VTABLE,
                slot: UnsafeCell::new(index),
            },
            future: UnsafeCell::new(ManuallyDrop::new(fut)),
        });
        Self {
            ptr: NonNull::from(Box::leak(task)),
            _holder: PhantomData,
        }
    }
}

impl<D: ?Sized, F> NewTask<D, F> {
    /// Sets the spawn index.
    #[inline]
    pub(crate) fn set_index(&mut self, index: usize) {
        // SAFETY: the only reference, so no one else touches the header.
        unsafe { (*self.ptr.as_ptr()).header.slot.with_mut(|i| *i = index) }
    }

    /// The future back, never polled.
    pub(crate) fn into_future(self) -> F {
        let this = ManuallyDrop::new(self);
        let ptr = this.ptr;
        // SAFETY: present and never polled (so not pinned): it may move.
        // It is `ManuallyDrop`, so `dealloc` leaves the moved-out value be.
        let fut = unsafe {
            (*ptr.as_ptr())
                .future
                .with_mut(|fut| ManuallyDrop::take(&mut *fut))
        };
        // SAFETY: the only reference, and the future is gone. The slot is
        // not the spawn index any more, which `dealloc` could take for
        // `DONE_HOLDING_QUEUE`.
        unsafe {
            (*ptr.as_ptr()).header.slot.with_mut(|slot| *slot = DONE);
            dealloc::<F>(ptr.cast());
        }
        fut
    }

    /// The child, its type forgotten.
    #[inline]
    pub(crate) fn erase(self) -> Unstarted<D> {
        let this = ManuallyDrop::new(self);
        Unstarted {
            ptr: this.ptr.cast(),
            _holder: PhantomData,
        }
    }
}

impl<D: ?Sized, F> Drop for NewTask<D, F> {
    fn drop(&mut self) {
        // SAFETY: the only reference, future present, never polled.
        unsafe { drop_unstarted(self.ptr.cast()) }
    }
}

/// A child not started yet, its type forgotten (`D` says what it can be).
///
/// # Invariants
///
/// `ptr` is a block made by [`NewTask::new`] for an `F` that `D` holds,
/// its future present and never polled, its slot the spawn index; this is
/// its only reference (the group's).
pub(crate) struct Unstarted<D: ?Sized> {
    ptr: NonNull<Header>,
    _holder: PhantomData<Box<D>>,
}

// SAFETY: it owns the child's future, which `D: Send` makes `Send` (see
// `Holds`); the header is atomics and fields only its owner touches.
unsafe impl<D: ?Sized + Send> Send for Unstarted<D> {}

impl<D: ?Sized> Unstarted<D> {
    /// Lets go of the block without dropping it: the caller takes over the
    /// group's reference.
    fn into_raw(self) -> NonNull<Header> {
        ManuallyDrop::new(self).ptr
    }
}

impl<D: ?Sized> Drop for Unstarted<D> {
    fn drop(&mut self) {
        // SAFETY: the only reference, future present, never polled.
        unsafe { drop_unstarted(self.ptr) }
    }
}

/// Children not started yet, oldest first, linked through their own
/// headers: queueing one allocates nothing, and a whole queue is appended
/// in one step.
///
/// # Invariants
///
/// Every header reachable from `head` through `next` links is an
/// [`Unstarted`] that this queue owns (its `next` is the queue's link, null
/// at the last one, which `tail` points at), and `len` counts them; `head`
/// and `tail` are both `None` or both `Some`.
pub(crate) struct UnstartedQueue<D: ?Sized> {
    head: Option<NonNull<Header>>,
    tail: Option<NonNull<Header>>,
    len: usize,
    _holder: PhantomData<Box<D>>,
}

// SAFETY: it owns `Unstarted<D>`s, which are `Send` when `D` is.
unsafe impl<D: ?Sized + Send> Send for UnstartedQueue<D> {}

impl<D: ?Sized> UnstartedQueue<D> {
    pub(crate) const fn new() -> Self {
        Self {
            head: None,
            tail: None,
            len: 0,
            _holder: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push_back(&mut self, task: Unstarted<D>) {
        let ptr = task.into_raw();
        // SAFETY: the queue owns it now; unstarted, so no one else touches
        // `next`.
        unsafe { ptr.as_ref() }.next.store(ptr::null_mut(), Relaxed);
        self.link_back(ptr, ptr);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Unstarted<D>> {
        let ptr = self.head?;
        // SAFETY: owned by the queue (invariant).
        let next = unsafe { ptr.as_ref() }.next.load(Relaxed);
        self.head = NonNull::new(next.cast());
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        Some(Unstarted {
            ptr,
            _holder: PhantomData,
        })
    }

    /// Moves every child of `other` to the back of this queue.
    pub(crate) fn append(&mut self, other: &mut Self) {
        let (Some(head), Some(tail)) = (other.head.take(), other.tail.take()) else {
            return;
        };
        self.link_back(head, tail);
        self.len += mem::take(&mut other.len);
    }

    /// Links the chain `head..=tail` (its last `next` null) after this
    /// queue's last child; the count is the caller's.
    #[inline]
    fn link_back(&mut self, head: NonNull<Header>, tail: NonNull<Header>) {
        match self.tail {
            // SAFETY: the last one this queue owns.
            Some(last) => unsafe { last.as_ref() }
                .next
                .store(head.as_ptr().cast(), Relaxed),
            None => self.head = Some(head),
        }
        self.tail = Some(tail);
    }

    /// Drops every child.
    pub(crate) fn clear(&mut self) {
        while self.pop_front().is_some() {}
    }
}

impl<D: ?Sized> Default for UnstartedQueue<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: ?Sized> Drop for UnstartedQueue<D> {
    fn drop(&mut self) {
        // One at a time, and without recursion, however long the queue.
        self.clear();
    }
}

/// The children a group has started: each polled when its waker is woken.
///
/// # Invariants
///
/// - `slots` holds the group's reference to every running child (started,
///   future present): child `p` with spawn index `i` is
///   `Slot::Running(p, i)` at `slots[p.slot]`, and `len` counts them. The
///   free slots form a list from `free` ([`NO_SLOT`] ends it) through
///   `Slot::Free` links.
/// - `batch` is the part of the ready stack the set took and has not polled
///   yet, oldest first, linked through `next`: every header on it is queued
///   (the bit is the set's to clear), running or not.
/// - Every started child's ready queue is `queue`, on which the set holds
///   a count.
pub(crate) struct TaskSet<D: ?Sized> {
    queue: Arc<ReadyQueue>,
    slots: Vec<Slot>,
    free: usize,
    len: usize,
    batch: Option<NonNull<Header>>,
    _holder: PhantomData<Box<D>>,
}

/// An entry of [`TaskSet::slots`].
enum Slot {
    /// A running child and its spawn index.
    Running(NonNull<Header>, usize),
    /// The next free slot, or [`NO_SLOT`].
    Free(usize),
}

/// The end of [`TaskSet`]'s free list.
const NO_SLOT: usize = usize::MAX;

// SAFETY: it owns its children's futures, which `D: Send` makes `Send`;
// the rest is the queue (`Send` and `Sync`) and headers whose group-only
// fields move with it.
unsafe impl<D: ?Sized + Send> Send for TaskSet<D> {}

impl<D: ?Sized> TaskSet<D> {
    pub(crate) fn new() -> Self {
        Self {
            queue: Arc::new(ReadyQueue::new()),
            slots: Vec::new(),
            free: NO_SLOT,
            len: 0,
            batch: None,
            _holder: PhantomData,
        }
    }

    /// How many children are running.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The ready queue, as the children's `next` and [`drop_started`] take
    /// it.
    #[inline]
    fn queue_ptr(&self) -> NonNull<ReadyQueue> {
        // SAFETY: an `Arc`'s pointer is never null.
        unsafe { NonNull::new_unchecked(Arc::as_ptr(&self.queue).cast_mut()) }
    }

    /// Drops every running child; returns how many.
    pub(crate) fn clear(&mut self) -> usize {
        let dropped = self.len;
        let queue = self.queue_ptr();
        // Every slot goes: if a child's drop panics, the slots left are
        // still consistent (the free list is simply forgotten).
        self.free = NO_SLOT;
        while let Some(slot) = self.slots.pop() {
            if let Slot::Running(ptr, _) = slot {
                self.len -= 1;
                // SAFETY: a running child: the set holds its reference.
                unsafe { ptr.as_ref() }
                    .slot
                    // SAFETY: no one but the set touches `slot`.
                    .with_mut(|s| unsafe { *s = DONE });
                // SAFETY: the set's reference, future present; the slot is
                // gone from `slots`, so the set touches it no more.
                unsafe { drop_started(ptr, queue) };
            }
        }
        dropped
    }

    /// Files a running child with spawn index `index`.
    #[inline]
    fn insert(&mut self, ptr: NonNull<Header>, index: usize) {
        let slot = match self.free {
            NO_SLOT => {
                self.slots.push(Slot::Running(ptr, index));
                self.slots.len() - 1
            }
            slot => {
                match mem::replace(&mut self.slots[slot], Slot::Running(ptr, index)) {
                    Slot::Free(next) => self.free = next,
                    Slot::Running(..) => unreachable!("a free slot in use"),
                }
                slot
            }
        };
        self.len += 1;
        // SAFETY: the set holds the child.
        unsafe { ptr.as_ref() }
            .slot
            // SAFETY: `slot` is the set's field.
            .with_mut(|s| unsafe { *s = slot });
    }

    /// Takes a finished child out of `slots` and drops it; returns its
    /// spawn index.
    ///
    /// # Safety
    ///
    /// `ptr` is running in this set.
    #[inline]
    unsafe fn remove(&mut self, ptr: NonNull<Header>) -> usize {
        // SAFETY: running here: the set holds it.
        let slot = unsafe { ptr.as_ref() }
            .slot
            // SAFETY: the set owns `slot`.
            .with_mut(|s| unsafe { mem::replace(&mut *s, DONE) });
        let Slot::Running(_, index) = mem::replace(&mut self.slots[slot], Slot::Free(self.free))
        else {
            unreachable!("a running child in a free slot");
        };
        self.len -= 1;
        if self.len == 0 {
            // None left: start afresh (keeping the capacity).
            self.slots.clear();
            self.free = NO_SLOT;
        } else {
            self.free = slot;
        }
        // SAFETY: the set's reference, now out of `slots`.
        unsafe { drop_started(ptr, self.queue_ptr()) };
        index
    }

    /// Makes `waker` the one a wake-up of a child wakes. The group calls
    /// it at the start of each of its polls, before it starts or drains
    /// any child: so a wake-up that a drain's last look at the ready stack
    /// misses still reaches the group.
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        self.queue.waker.register(waker);
    }

    /// The next child to poll, oldest wake-up first, if one is queued;
    /// when the batch is used up it takes the stack.
    #[inline]
    fn next_queued(&mut self) -> Option<NonNull<Header>> {
        if self.batch.is_none() {
            // Newest first: reverse into the batch.
            let mut head = self.queue.take();
            let mut batch: *mut () = ptr::null_mut();
            while let Some(ptr) = NonNull::new(head.cast::<Header>()) {
                // SAFETY: queued (invariant of the stack): the bit holds it,
                // and `next` is the set's once taken.
                let header = unsafe { ptr.as_ref() };
                head = header.next.load(Relaxed);
                header.next.store(batch, Relaxed);
                batch = ptr.as_ptr().cast();
            }
            self.batch = NonNull::new(batch.cast());
        }
        let ptr = self.batch?;
        // SAFETY: queued: alive, and `next` is the set's.
        let header = unsafe { ptr.as_ref() };
        self.batch = NonNull::new(header.next.load(Relaxed).cast());
        // The link is read: put the queue's pointer back, for the wakers
        // once the bit is cleared.
        header.next.store(self.queue_ptr().as_ptr().cast(), Relaxed);
        Some(ptr)
    }
}

/// How [`TaskSet::drain`] stopped.
#[derive(Debug)]
pub(crate) enum Drain<B> {
    /// The callback broke with this.
    Break(B),
    /// No child is running (any still queued are done ones).
    Empty,
    /// No child is queued.
    Idle,
    /// It polled as many pending children as it may in one go, with more
    /// queued: the caller should yield (its waker is not woken).
    Yielded,
}

impl<D: ?Sized + Future> TaskSet<D> {
    /// Polls `ptr`, a started child the set holds, with its own waker.
    ///
    /// # Safety
    ///
    /// The set holds `ptr`'s group reference, with the future present, for
    /// a `D` that holds the child's type (so its output is `D::Output`),
    /// and its `next` is the set's queue unless it is queued.
    #[inline]
    unsafe fn poll_child(ptr: NonNull<Header>) -> Poll<D::Output> {
        // SAFETY: started, and the set's reference keeps the block alive
        // while the waker is lent.
        let waker = unsafe { borrowed_waker(ptr) };
        let mut cx = Context::from_waker(&waker);
        let mut out = MaybeUninit::<D::Output>::uninit();
        // SAFETY: alive (above).
        let vtable = unsafe { ptr.as_ref() }.vtable;
        // SAFETY: the future is present and pinned in its block, only the
        // group polls it, and its output type is `D::Output`.
        if unsafe { (vtable.poll)(ptr, &mut cx, NonNull::from(&mut out).cast()) } {
            // SAFETY: written by `poll`, which returned `true`.
            Poll::Ready(unsafe { out.assume_init() })
        } else {
            Poll::Pending
        }
    }

    /// Starts a child: polls it once, with its own waker; if it is pending,
    /// files it to be polled when woken. Gives the spawn index with the
    /// output.
    #[inline]
    pub(crate) fn start(&mut self, task: Unstarted<D>) -> Poll<(usize, D::Output)> {
        /// Drops a started child that has not been filed: if the poll
        /// panics, or once it is ready.
        struct Unfiled(NonNull<Header>, NonNull<ReadyQueue>);
        impl Drop for Unfiled {
            fn drop(&mut self) {
                // SAFETY: started, not filed: the group's reference is this
                // guard's, the future present, the slot DONE.
                unsafe { drop_started(self.0, self.1) }
            }
        }
        let ptr = task.into_raw();
        let queue = self.queue_ptr();
        // SAFETY: the group's reference is ours, so the header's fields are
        // too: the spawn index out, DONE in (not filed), and the queue's
        // pointer in `next` (no longer on a spawn queue) for its wakers.
        let index = unsafe {
            let header = ptr.as_ref();
            header.next.store(queue.as_ptr().cast(), Relaxed);
            header.slot.with_mut(|s| mem::replace(&mut *s, DONE))
        };
        let unfiled = Unfiled(ptr, queue);
        // SAFETY: the group's reference is the guard's, the future present;
        // `D` holds its type (`Unstarted`'s invariant); `next` is set.
        match unsafe { Self::poll_child(ptr) } {
            Poll::Ready(output) => {
                drop(unfiled);
                Poll::Ready((index, output))
            }
            Poll::Pending => {
                mem::forget(unfiled);
                self.insert(ptr, index);
                Poll::Pending
            }
        }
    }

    /// Polls the children woken since they were last polled, oldest
    /// wake-up first, handing each output (with the spawn index) to
    /// `on_ready`, until it breaks, no child is left, or none is queued
    /// (see [`Drain`]). The caller registered its waker first
    /// ([`register`](Self::register)).
    ///
    /// Polls each running child about once per call: after as many
    /// pending polls as there are running children, or once two children
    /// woke themselves while polled, it stops with [`Drain::Yielded`], so
    /// that a child that keeps waking itself cannot keep the caller from
    /// its other work.
    #[inline]
    pub(crate) fn drain<B>(
        &mut self,
        mut on_ready: impl FnMut(usize, D::Output) -> ControlFlow<B>,
    ) -> Drain<B> {
        let budget = self.len;
        let mut polled = 0;
        let mut woke_themselves = 0;
        loop {
            if self.len == 0 {
                // Whatever is still queued is done: its entries are dropped
                // later (here, or with the set).
                return Drain::Empty;
            }
            let Some(ptr) = self.next_queued() else {
                return Drain::Idle;
            };
            // SAFETY: queued: the bit holds the block.
            let header = unsafe { ptr.as_ref() };
            // SAFETY: `slot` is the set's.
            if header.slot.with(|s| unsafe { *s }) >= DONE_HOLDING_QUEUE {
                // Done since it was woken: drop the queue's hold (`next` is
                // back to the queue's pointer).
                // SAFETY: the bit is the set's to clear (`batch`).
                unsafe { unhold(ptr, QUEUED) };
                continue;
            }
            // Clear the bit before the poll, so that a wake-up during it
            // queues the child again. The set's reference holds the block.
            // Acquire: the poll sees what the wakers did before waking;
            // release: the next waker sees the queue's pointer in `next`.
            header.state.fetch_sub(QUEUED, AcqRel);
            // SAFETY: running: the set holds it, future present, `next` set.
            match unsafe { Self::poll_child(ptr) } {
                Poll::Ready(output) => {
                    // SAFETY: running in this set.
                    let index = unsafe { self.remove(ptr) };
                    if let ControlFlow::Break(b) = on_ready(index, output) {
                        return Drain::Break(b);
                    }
                }
                Poll::Pending => {
                    polled += 1;
                    if header.state.load(Relaxed) & QUEUED != 0 {
                        woke_themselves += 1;
                    }
                    if polled >= budget || woke_themselves >= 2 {
                        return Drain::Yielded;
                    }
                }
            }
        }
    }
}

impl<D: ?Sized> Drop for TaskSet<D> {
    fn drop(&mut self) {
        self.clear();
        // No push gets past this: a waker that outlives the set frees what
        // it holds itself.
        let stacked = self.queue.close();
        drop(self.queue.waker.take());
        let queue = self.queue_ptr().as_ptr().cast::<()>();
        // What is still queued, taken or not: drop the queue's holds.
        let batch = self.batch.take().map_or(ptr::null_mut(), NonNull::as_ptr);
        for mut next in [batch.cast::<()>(), stacked] {
            while let Some(ptr) = NonNull::new(next.cast::<Header>()) {
                // SAFETY: queued: the bit holds it, and `next` is the set's.
                let header = unsafe { ptr.as_ref() };
                next = header.next.load(Relaxed);
                header.next.store(queue, Relaxed);
                // SAFETY: the bit is the set's to clear (the queue's pointer
                // is back in `next`); the set touches the block no more.
                unsafe { unhold(ptr, QUEUED) };
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;
    use core::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::{Arc as StdArc, Mutex};
    use std::task::Wake;

    type Child = dyn Future<Output = u32> + Send;

    /// The group's waker: counts its wake-ups.
    #[derive(Default)]
    struct Group(StdAtomicUsize);

    impl Wake for Group {
        fn wake(self: StdArc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn group() -> (StdArc<Group>, Waker) {
        let group = StdArc::new(Group::default());
        (group.clone(), Waker::from(group))
    }

    /// What a test shares with one child: whether it may finish, the waker
    /// it left, how often it was polled, and whether it was dropped.
    #[derive(Default)]
    struct Probe {
        open: Mutex<bool>,
        waker: Mutex<Option<Waker>>,
        polls: StdAtomicUsize,
        drops: StdAtomicUsize,
    }

    impl Probe {
        fn new() -> StdArc<Self> {
            StdArc::default()
        }

        /// A child that finishes with `value` once opened, leaving a clone
        /// of its waker meanwhile.
        fn child(self: &StdArc<Self>, value: u32) -> impl Future<Output = u32> + Send + 'static {
            struct Guard(StdArc<Probe>);
            impl Drop for Guard {
                fn drop(&mut self) {
                    self.0.drops.fetch_add(1, SeqCst);
                }
            }
            let guard = Guard(self.clone());
            core::future::poll_fn(move |cx| {
                let probe = &guard.0;
                probe.polls.fetch_add(1, SeqCst);
                if *probe.open.lock().unwrap() {
                    Poll::Ready(value)
                } else {
                    *probe.waker.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
        }

        fn open(&self) {
            *self.open.lock().unwrap() = true;
        }

        /// Takes the waker the child left.
        fn waker(&self) -> Waker {
            self.waker.lock().unwrap().take().expect("a waker left")
        }

        fn polls(&self) -> usize {
            self.polls.load(SeqCst)
        }

        fn drops(&self) -> usize {
            self.drops.load(SeqCst)
        }
    }

    fn unstarted<F: Future<Output = u32> + Send + 'static>(
        fut: F,
        index: usize,
    ) -> Unstarted<Child> {
        NewTask::<Child, F>::new(fut, index).erase()
    }

    /// Drains `set`, collecting `(index, output)` in the order they came.
    fn drain_all(set: &mut TaskSet<Child>, waker: &Waker) -> (Vec<(usize, u32)>, Drain<()>) {
        let mut out = Vec::new();
        set.register(waker);
        let how = set.drain(|index, value| {
            out.push((index, value));
            ControlFlow::<()>::Continue(())
        });
        (out, how)
    }

    #[test]
    fn a_header_is_four_words_and_a_slot_two() {
        assert_eq!(mem::size_of::<Header>(), 4 * mem::size_of::<usize>());
        assert_eq!(mem::size_of::<Slot>(), 2 * mem::size_of::<usize>());
    }

    #[test]
    fn a_child_ready_at_its_first_poll_is_freed_at_once() {
        let mut set = TaskSet::<Child>::new();
        let probe = Probe::new();
        probe.open();
        let Poll::Ready((index, value)) = set.start(unstarted(probe.child(7), 3)) else {
            panic!("ready at once");
        };
        assert_eq!((index, value), (3, 7));
        assert_eq!((probe.polls(), probe.drops(), set.len()), (1, 1, 0));
    }

    #[test]
    fn woken_children_are_polled_in_wake_order_and_the_group_is_woken_once() {
        let (group, waker) = group();
        let mut set = TaskSet::<Child>::new();
        let probes: Vec<_> = (0..3).map(|_| Probe::new()).collect();
        for (i, probe) in probes.iter().enumerate() {
            assert!(set
                .start(unstarted(probe.child(i as u32 * 10), i))
                .is_pending());
        }
        assert_eq!(set.len(), 3);
        assert!(matches!(drain_all(&mut set, &waker), (out, Drain::Idle) if out.is_empty()));
        // Woken 2, then 0: by value, then by reference.
        for i in [2, 0] {
            probes[i].open();
        }
        probes[2].waker().wake();
        assert_eq!(group.0.load(SeqCst), 1, "the first push wakes the group");
        let second = probes[0].waker();
        second.wake_by_ref();
        second.wake_by_ref(); // queued already: nothing more
        assert_eq!(group.0.load(SeqCst), 1, "the stack was not empty");
        let (out, how) = drain_all(&mut set, &waker);
        assert_eq!(out, [(2, 20), (0, 0)]);
        assert!(matches!(how, Drain::Idle));
        assert_eq!(set.len(), 1);
        // The clone outlived its child: waking it now queues a done child,
        // which the next drain skips; dropping it frees the block.
        second.wake_by_ref();
        assert_eq!(group.0.load(SeqCst), 2);
        probes[1].open();
        probes[1].waker().wake();
        assert_eq!(drain_all(&mut set, &waker).0, [(1, 10)]);
        drop(second);
        assert!(probes.iter().all(|p| p.drops() == 1 && p.polls() == 2));
    }

    #[test]
    fn a_waker_that_outlives_the_set_queues_nothing_and_frees_the_block() {
        let (_, waker) = group();
        let mut set = TaskSet::<Child>::new();
        let (a, b) = (Probe::new(), Probe::new());
        assert!(set.start(unstarted(a.child(1), 0)).is_pending());
        assert!(set.start(unstarted(b.child(2), 1)).is_pending());
        let (a_waker, b_waker) = (a.waker(), b.waker());
        // `b` is queued when the set goes: its batch entry is dropped too.
        b_waker.wake_by_ref();
        assert!(matches!(drain_all(&mut set, &waker).1, Drain::Idle));
        b_waker.wake_by_ref();
        drop(set);
        assert_eq!(
            (a.drops(), b.drops()),
            (1, 1),
            "the set dropped both futures"
        );
        // The blocks live on in the wakers, which only free them.
        a_waker.wake_by_ref();
        let clone = a_waker.clone();
        a_waker.wake();
        b_waker.wake();
        clone.wake();
        assert_eq!((a.polls(), b.polls()), (1, 2));
    }

    #[test]
    fn a_waker_woken_on_another_thread_reaches_the_group() {
        let (group, waker) = group();
        let mut set = TaskSet::<Child>::new();
        let probe = Probe::new();
        assert!(set.start(unstarted(probe.child(5), 0)).is_pending());
        assert!(matches!(drain_all(&mut set, &waker).1, Drain::Idle));
        let (remote, done) = (probe.clone(), probe.waker());
        std::thread::spawn(move || {
            remote.open();
            done.wake();
        })
        .join()
        .unwrap();
        assert_eq!(group.0.load(SeqCst), 1);
        assert_eq!(drain_all(&mut set, &waker).0, [(0, 5)]);
        assert!(matches!(drain_all(&mut set, &waker).1, Drain::Empty));
    }

    #[test]
    fn a_child_that_keeps_waking_itself_makes_the_drain_yield() {
        let (_, waker) = group();
        let mut set = TaskSet::<Child>::new();
        let polls = StdArc::new(StdAtomicUsize::new(0));
        let counted = polls.clone();
        let spinner = core::future::poll_fn(move |cx| {
            if counted.fetch_add(1, SeqCst) == 10 {
                return Poll::Ready(0);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        assert!(set.start(unstarted(spinner, 0)).is_pending());
        let mut yields = 0;
        let out = loop {
            match drain_all(&mut set, &waker) {
                (_, Drain::Yielded) => yields += 1,
                (out, Drain::Empty) => break out,
                (_, other) => panic!("stopped with {other:?}"),
            }
        };
        assert_eq!(out, [(0, 0)]);
        assert_eq!(polls.load(SeqCst), 11);
        assert_eq!(yields, 9, "one pending poll per drain, with one child");
    }

    #[test]
    fn clear_drops_every_running_child_and_counts_them() {
        let mut set = TaskSet::<Child>::new();
        let probes: Vec<_> = (0..4).map(|_| Probe::new()).collect();
        for (i, probe) in probes.iter().enumerate() {
            assert!(set.start(unstarted(probe.child(0), i)).is_pending());
        }
        // One finishes first: its slot goes on the free list, then is reused.
        probes[1].open();
        probes[1].waker().wake();
        let (_, waker) = group();
        assert_eq!(drain_all(&mut set, &waker).0, [(1, 0)]);
        let late = Probe::new();
        assert!(set.start(unstarted(late.child(0), 4)).is_pending());
        assert_eq!(set.clear(), 4);
        assert_eq!(set.len(), 0);
        assert!(probes.iter().chain([&late]).all(|p| p.drops() == 1));
    }

    #[test]
    fn an_unstarted_child_is_dropped_unpolled_or_given_back() {
        let probe = Probe::new();
        drop(unstarted(probe.child(1), 0));
        assert_eq!((probe.polls(), probe.drops()), (0, 1));
        let probe = Probe::new();
        let mut task = NewTask::<Child, _>::new(probe.child(2), 0);
        task.set_index(9);
        let fut = task.into_future();
        assert_eq!(probe.drops(), 0, "moved out, not dropped");
        drop(fut);
        assert_eq!((probe.polls(), probe.drops()), (0, 1));
    }

    #[test]
    fn an_unstarted_queue_is_first_in_first_out_and_appends_in_one_step() {
        let mut set = TaskSet::<Child>::new();
        let (mut a, mut b) = (UnstartedQueue::new(), UnstartedQueue::new());
        let probes: Vec<_> = (0..5).map(|_| Probe::new()).collect();
        for (i, probe) in probes.iter().enumerate() {
            probe.open();
            let queue = if i < 2 { &mut a } else { &mut b };
            queue.push_back(unstarted(probe.child(i as u32), i));
        }
        a.append(&mut b);
        assert!(b.is_empty());
        assert_eq!(b.len(), 0);
        assert_eq!(a.len(), 5);
        let mut started = vec![];
        while let Some(task) = a.pop_front() {
            let Poll::Ready((index, _)) = set.start(task) else {
                panic!("ready at once");
            };
            started.push(index);
        }
        assert_eq!(started, [0, 1, 2, 3, 4]);
        // Dropped with children still queued: each dropped once, unpolled.
        let left = Probe::new();
        a.push_back(unstarted(left.child(0), 5));
        drop(a);
        assert_eq!((left.polls(), left.drops()), (0, 1));
    }

    #[test]
    fn a_child_panicking_at_its_first_poll_is_dropped_and_the_set_goes_on() {
        let mut set = TaskSet::<Child>::new();
        let dropped = StdArc::new(StdAtomicUsize::new(0));
        struct Count(StdArc<StdAtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let count = Count(dropped.clone());
        let panicking = core::future::poll_fn(move |cx| {
            let _keep = &count;
            // A waker clone outlives the panic: the block must too.
            cx.waker().wake_by_ref();
            panic!("child failed")
        });
        let task = unstarted(panicking, 0);
        let caught = catch_unwind(AssertUnwindSafe(|| set.start(task)));
        assert!(caught.is_err());
        assert_eq!(dropped.load(SeqCst), 1);
        assert_eq!(set.len(), 0);
        let probe = Probe::new();
        probe.open();
        assert!(set.start(unstarted(probe.child(1), 1)).is_ready());
    }

    #[test]
    fn a_child_panicking_when_polled_again_stays_in_the_set_until_dropped() {
        let (_, waker) = group();
        let mut set = TaskSet::<Child>::new();
        let probe = Probe::new();
        let mut first = true;
        let inner = probe.child(0);
        let mut inner = alloc::boxed::Box::pin(inner);
        let panicking = core::future::poll_fn(move |cx| {
            if core::mem::take(&mut first) {
                return inner.as_mut().poll(cx);
            }
            panic!("child failed")
        });
        assert!(set.start(unstarted(panicking, 0)).is_pending());
        probe.waker().wake();
        let caught = catch_unwind(AssertUnwindSafe(|| drain_all(&mut set, &waker)));
        assert!(caught.is_err());
        assert_eq!(set.len(), 1, "still running");
        assert_eq!(probe.drops(), 0);
        drop(set);
        assert_eq!(probe.drops(), 1);
    }

    #[test]
    fn children_borrowing_from_the_caller_run_in_a_local_set() {
        type Local<'a> = dyn Future<Output = usize> + 'a;
        let words = [String::from("alpha"), String::from("be")];
        let mut set = TaskSet::<Local<'_>>::new();
        let mut lens = vec![];
        for (i, word) in words.iter().enumerate() {
            let rc = std::rc::Rc::new(word.len());
            let task = NewTask::<Local<'_>, _>::new(async move { *rc }, i).erase();
            if let Poll::Ready(out) = set.start(task) {
                lens.push(out);
            }
        }
        assert_eq!(lens, [(0, 5), (1, 2)]);
    }

    /// A group waker that counts its wake-ups and, the first time it is
    /// cloned, registers `next` in `slot`: as if the group's task, polled
    /// again with a new waker on another core, registered it just while a
    /// push's wake cloned this one (the slot then held by that wake).
    struct Reentrant {
        slot: *const WakerSlot,
        next: Waker,
        registered: StdAtomicUsize,
        wakes: StdAtomicUsize,
    }

    static REENTRANT: RawWakerVTable =
        RawWakerVTable::new(reentrant_clone, reentrant_wake, reentrant_wake, |_| {});

    /// # Safety (of both)
    ///
    /// `data` is a `Reentrant` that outlives every waker made from it, and
    /// so does its `slot`.
    unsafe fn reentrant_clone(data: *const ()) -> RawWaker {
        // SAFETY: the contract above.
        let this = unsafe { &*data.cast::<Reentrant>() };
        if this.registered.fetch_add(1, SeqCst) == 0 {
            // SAFETY: the contract above.
            unsafe { &*this.slot }.register(&this.next);
        }
        RawWaker::new(data, &REENTRANT)
    }

    unsafe fn reentrant_wake(data: *const ()) {
        // SAFETY: the contract above.
        unsafe { &*data.cast::<Reentrant>() }
            .wakes
            .fetch_add(1, SeqCst);
    }

    #[test]
    fn a_registration_racing_a_wake_wakes_the_new_waker_itself_and_never_waits() {
        let slot = WakerSlot::new();
        let (next_group, next) = group();
        let old = Reentrant {
            slot: &slot,
            next: next.clone(),
            registered: StdAtomicUsize::new(0),
            wakes: StdAtomicUsize::new(0),
        };
        let old_waker =
            // SAFETY: `REENTRANT`'s functions keep `RawWaker`'s contract for
            // `old`, which outlives every waker made from it (all dropped
            // below).
            unsafe { Waker::from_raw(RawWaker::new((&raw const old).cast(), &REENTRANT)) };
        slot.register(&old_waker);
        assert_eq!(old.registered.load(SeqCst), 1, "the slot keeps a clone");
        // The wake owns the slot while it clones the old waker, which
        // registers the new one then: that registration cannot write the
        // slot, and must neither wait for the owner (it would wait for
        // itself here: a deadlock) nor drop the wake-up.
        slot.wake();
        assert_eq!(
            next_group.0.load(SeqCst),
            1,
            "the registration woke the new waker"
        );
        assert_eq!(old.wakes.load(SeqCst), 1, "the owner woke the old one");
        // Polled again, the group registers the new waker, now for good.
        slot.register(&next);
        slot.wake();
        assert_eq!(next_group.0.load(SeqCst), 2);
        assert_eq!(old.wakes.load(SeqCst), 1);
        drop(slot.take());
        drop(old_waker);
    }
}
