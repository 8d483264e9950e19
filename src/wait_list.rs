//! The one intrusive FIFO wait list behind every primitive that hands
//! something to one specific waiter.
//!
//! A waiting future embeds a [`Node`]; while it waits, the node is linked into
//! the primitive's [`WaitList`]. No allocation happens per wait, so the list
//! works without an allocator. The list, the primitive's own locked state `S`
//! and every linked node are guarded by one short critical section
//! ([`Lock`]); wakers are collected under it into a [`WakeBatch`] and called
//! after it is released, and a waker that a node's new one displaces is
//! handed back to be dropped after it is released too.

use core::marker::PhantomPinned;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::Waker;

use crate::loom::atomic::{AtomicBool, Ordering};
use crate::loom::UnsafeCell;
use crate::raw_mutex::{Lock, ScopedRawMutex};

type Link<T> = Option<NonNull<Node<T>>>;

/// A lock-guarded FIFO of [`Node`]s plus the primitive's locked state `S`.
///
/// # Invariants
///
/// - Every node reachable from `head` is alive and pinned: it is linked only
///   through [`List::push_back`], whose contract makes the node's owner
///   unlink it (with [`List::remove`]) before the node is dropped, and
///   pinning forbids moving it in between.
/// - A node is linked into at most one list, and only ever used with that
///   list (the contract of every `unsafe fn` here that takes a node).
/// - Every field of a node (links, waker, data) is read or written only while
///   this list's lock is held. The lock therefore orders all accesses, which
///   is what makes the raw pointers sound to follow.
/// - `NodeInner::linked` is true exactly when the node is reachable from
///   `head`; `head` and `tail` are both `None` or both `Some`.
pub(crate) struct WaitList<S, T, L> {
    lock: Lock<List<S, T>, L>,
}

/// The locked contents of a [`WaitList`]; only reachable inside
/// [`WaitList::lock`].
pub(crate) struct List<S, T> {
    /// The primitive's own state, guarded by the same lock as the list.
    pub(crate) state: S,
    head: Link<T>,
    tail: Link<T>,
}

// SAFETY: the raw pointers in a `List` point at nodes that are only touched
// while the list's lock is held (see `WaitList`'s invariants), so moving the
// list between threads is as safe as moving the `T`s and wakers it reaches.
unsafe impl<S: Send, T: Send> Send for List<S, T> {}

/// A waiter's slot in a [`WaitList`], embedded in the waiting future.
///
/// `!Unpin`: once linked, its address is held by the list.
pub(crate) struct Node<T> {
    /// Only accessed while the lock of the list this node is used with is held.
    inner: UnsafeCell<NodeInner<T>>,
    /// Cleared by [`List::push_back`]; set by [`List::pop_front`] as its very
    /// last access to the node. The owner may read it without the lock
    /// ([`Node::popped`]).
    popped: AtomicBool,
    _pin: PhantomPinned,
}

struct NodeInner<T> {
    prev: Link<T>,
    next: Link<T>,
    linked: bool,
    waker: Option<Waker>,
    data: T,
    /// The list the node was last pushed onto, to catch (in debug builds,
    /// and so under miri) a node used with another list, which would
    /// corrupt both.
    #[cfg(debug_assertions)]
    owner: *const (),
}

// SAFETY: a node's contents are only accessed under its list's lock, from
// whichever thread holds it; `T: Send` (and `Waker: Send`) make that sound.
unsafe impl<T: Send> Send for Node<T> {}
// SAFETY: `&Node` exposes nothing without the list's lock (all accessors are
// on the locked `List`), so shared references across threads are harmless.
unsafe impl<T: Send> Sync for Node<T> {}

impl<T> Node<T> {
    pub(crate) fn new(data: T) -> Self {
        Self {
            inner: UnsafeCell::new(NodeInner {
                prev: None,
                next: None,
                linked: false,
                waker: None,
                data,
                #[cfg(debug_assertions)]
                owner: core::ptr::null(),
            }),
            popped: AtomicBool::new(false),
            _pin: PhantomPinned,
        }
    }

    /// Whether [`List::pop_front`] unlinked this node since it was last
    /// pushed; needs no lock, so a woken waiter can learn it was popped
    /// without contending for the list.
    ///
    /// `true` stays true until the next push, and everything the popper did
    /// to the node under the lock (the data it wrote, taking the waker)
    /// happens before a load that sees it: from then on, no other thread
    /// touches the node, and its owner may drop it without taking the lock.
    #[inline]
    pub(crate) fn popped(&self) -> bool {
        self.popped.load(Ordering::Acquire)
    }
}

/// Runs `f` on the node behind `ptr`.
///
/// # Safety
///
/// `ptr` points at a live node, and the lock of the list it is used with is
/// held by the caller.
unsafe fn with_inner<T, R>(ptr: NonNull<Node<T>>, f: impl FnOnce(&mut NodeInner<T>) -> R) -> R {
    // SAFETY: the node is alive (caller), and the held lock makes this the
    // only access to its cell.
    unsafe { ptr.as_ref().inner.with_mut(|inner| f(&mut *inner)) }
}

impl<S, T, L> WaitList<S, T, L> {
    crate::loom::loom_const_fn! {
        pub(crate) const fn new(state: S, raw: L) -> WaitList<S, T, L> {
            WaitList { lock: Lock::new(List::new(state), raw) }
        }
    }
}

impl<S, T, L: ScopedRawMutex> WaitList<S, T, L> {
    /// Runs `f` with the list locked.
    #[inline]
    pub(crate) fn lock<R>(&self, f: impl FnOnce(&mut List<S, T>) -> R) -> R {
        self.lock.with(f)
    }

    /// Runs `f` with the list locked if the lock is free now; `None` if it
    /// is taken. Never blocks, so a caller holding another list's lock may
    /// use it against the lock order of the two.
    #[inline]
    // Only the cancellation tree uses it, and not under loom.
    #[cfg_attr(
        any(loom, not(all(feature = "alloc", target_has_atomic = "ptr"))),
        allow(dead_code)
    )]
    pub(crate) fn try_lock<R>(&self, f: impl FnOnce(&mut List<S, T>) -> R) -> Option<R> {
        self.lock.try_with(f)
    }
}

impl<S, T> List<S, T> {
    /// A list that lives inside another list's locked state, so that several
    /// FIFOs (a channel's senders and receivers) share one lock.
    ///
    /// Such a list is reachable only through `&mut` access to the outer
    /// list's state, i.e. only while the outer lock is held; that lock then
    /// plays the role of "this list's lock" in every invariant and contract
    /// of this module.
    pub(crate) const fn new(state: S) -> Self {
        Self {
            state,
            head: None,
            tail: None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Links `node` at the back with `data` and `waker`. Returns the waker
    /// the node still held from an earlier wait (left by [`List::remove`]),
    /// for the caller to drop once the lock is released: a waker's drop is
    /// executor code, which must not run under the lock.
    ///
    /// # Safety
    ///
    /// `node` is used with this list only, is not linked, and its owner
    /// calls [`List::remove`] (under this lock) before the node is dropped.
    #[must_use = "drop the displaced waker after releasing the lock"]
    pub(crate) unsafe fn push_back(
        &mut self,
        node: Pin<&Node<T>>,
        data: T,
        waker: Waker,
    ) -> Option<Waker> {
        let ptr = NonNull::from(node.get_ref());
        let tail = self.tail;
        // Only the owner reads it, and the owner is the one pushing.
        node.popped.store(false, Ordering::Relaxed);
        #[cfg(debug_assertions)]
        let owner = self.address();
        // SAFETY: `node` is alive (we hold a reference) and we hold the lock.
        let displaced = unsafe {
            with_inner(ptr, |n| {
                debug_assert!(!n.linked, "node linked twice");
                #[cfg(debug_assertions)]
                {
                    debug_assert!(
                        n.owner.is_null() || n.owner == owner,
                        "a node pushed onto a second list"
                    );
                    n.owner = owner;
                }
                n.prev = tail;
                n.next = None;
                n.linked = true;
                n.data = data;
                n.waker.replace(waker)
            })
        };
        match tail {
            // SAFETY: `tail` is linked, hence alive (type invariant); lock held.
            Some(t) => unsafe { with_inner(t, |t| t.next = Some(ptr)) },
            None => self.head = Some(ptr),
        }
        self.tail = Some(ptr);
        displaced
    }

    /// This list's address, recorded in the nodes pushed onto it (debug
    /// builds only).
    #[cfg(debug_assertions)]
    fn address(&self) -> *const () {
        (self as *const Self).cast()
    }

    /// Panics (in debug builds) if `ptr` was last pushed onto another list.
    ///
    /// # Safety
    ///
    /// `ptr` points at a live node, and the caller holds this list's lock.
    #[inline]
    unsafe fn debug_check_owner(&self, ptr: NonNull<Node<T>>) {
        #[cfg(debug_assertions)]
        {
            let owner = self.address();
            // SAFETY: alive, lock held (caller).
            let used_with = unsafe { with_inner(ptr, |n| n.owner) };
            assert!(
                used_with.is_null() || used_with == owner,
                "a node used with a list it was not pushed onto"
            );
        }
        #[cfg(not(debug_assertions))]
        let _ = ptr;
    }

    /// Unlinks `ptr` and mends the links around it.
    ///
    /// # Safety
    ///
    /// `ptr` is linked into *this* list (so it is alive, and so are its
    /// neighbours), and the caller holds this list's lock. Unlinking a node
    /// of another list would splice that list's neighbours into this one.
    unsafe fn unlink(&mut self, ptr: NonNull<Node<T>>) {
        // SAFETY: `ptr` is linked into this list, so it is alive, and we hold
        // the lock (caller); likewise its neighbours (type invariants).
        unsafe {
            let (prev, next) = with_inner(ptr, |n| {
                n.linked = false;
                (n.prev.take(), n.next.take())
            });
            match prev {
                Some(p) => with_inner(p, |p| p.next = next),
                None => self.head = next,
            }
            match next {
                Some(nx) => with_inner(nx, |nx| nx.prev = prev),
                None => self.tail = prev,
            }
        }
    }

    /// Unlinks `node` if it is linked; returns whether it was.
    ///
    /// # Safety
    ///
    /// `node` is used with this list only.
    pub(crate) unsafe fn remove(&mut self, node: Pin<&Node<T>>) -> bool {
        let ptr = NonNull::from(node.get_ref());
        // SAFETY: alive (we hold a reference); lock held; used with this list.
        let linked = unsafe {
            self.debug_check_owner(ptr);
            with_inner(ptr, |n| n.linked)
        };
        if linked {
            // SAFETY: linked, and used with this list only (caller), so
            // linked into this list; lock held.
            unsafe { self.unlink(ptr) };
        }
        linked
    }

    /// Runs `f` on `node`'s data; `f` also learns whether it is linked.
    ///
    /// # Safety
    ///
    /// `node` is used with this list only.
    pub(crate) unsafe fn with_node<R>(
        &mut self,
        node: Pin<&Node<T>>,
        f: impl FnOnce(&mut T, bool) -> R,
    ) -> R {
        let ptr = NonNull::from(node.get_ref());
        // SAFETY: alive (we hold a reference); lock held; used with this list.
        unsafe {
            self.debug_check_owner(ptr);
            with_inner(ptr, |n| f(&mut n.data, n.linked))
        }
    }

    /// Stores `waker` in a linked `node` unless it would wake the same task.
    /// Returns the waker it replaced, for the caller to drop once the lock
    /// is released (see [`List::push_back`]).
    ///
    /// # Safety
    ///
    /// `node` is used with this list only.
    #[must_use = "drop the displaced waker after releasing the lock"]
    pub(crate) unsafe fn set_waker(&mut self, node: Pin<&Node<T>>, waker: &Waker) -> Option<Waker> {
        let ptr = NonNull::from(node.get_ref());
        // SAFETY: alive (we hold a reference); lock held; used with this list.
        unsafe {
            self.debug_check_owner(ptr);
            with_inner(ptr, |n| match &mut n.waker {
                Some(w) if w.will_wake(waker) => None,
                slot => slot.replace(waker.clone()),
            })
        }
    }

    /// Runs `f` on the data of the first waiter, if any.
    pub(crate) fn with_front<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let head = self.head?;
        // SAFETY: `head` is linked, hence alive; lock held (type invariants).
        Some(unsafe { with_inner(head, |n| f(&mut n.data)) })
    }

    /// Unlinks the first waiter and returns its waker; `None` when empty.
    /// Marks the node [`Node::popped`].
    pub(crate) fn pop_front(&mut self) -> Option<Option<Waker>> {
        let head = self.head?;
        // SAFETY: the head is linked into this list; lock held (we have
        // `&mut` to the locked list).
        unsafe { self.unlink(head) };
        // SAFETY: `head` was linked a moment ago, so its owner has not dropped
        // it (it would have had to take this lock to unlink it, or to see
        // `popped`, set only below); lock held.
        let waker = unsafe { with_inner(head, |n| n.waker.take()) };
        // SAFETY: alive, as above. This store is our last access to the node:
        // once its owner sees it, the owner may drop the node without the lock.
        unsafe { head.as_ref().popped.store(true, Ordering::Release) };
        Some(waker)
    }
}

impl<S, T> List<S, T> {
    /// Unlinks waiters from the front until `batch` is full or the list is
    /// empty, moving their wakers into `batch`; returns whether waiters are
    /// left. The same as [`List::pop_front`] on each of them (each is marked
    /// [`Node::popped`]), but the links around them are mended once per
    /// batch instead of once per node, for a primitive that wakes everyone.
    pub(crate) fn pop_front_into<const N: usize>(&mut self, batch: &mut WakeBatch<N>) -> bool {
        let mut cur = self.head;
        // Filled through a local length, stored once at the end: nothing
        // below can panic, so the batch's invariant holds whenever it can be
        // observed.
        let mut len = batch.len;
        while let Some(node) = cur {
            if len == N {
                break;
            }
            // SAFETY: `node` is the head or was reached through the `next`
            // link of a node unlinked here a moment ago, which still pointed
            // into the list: it is linked, hence alive; lock held (we have
            // `&mut` to the locked list).
            let (next, waker) = unsafe {
                with_inner(node, |n| {
                    n.linked = false;
                    n.prev = None;
                    (n.next.take(), n.waker.take())
                })
            };
            if let Some(waker) = waker {
                batch.wakers[len].write(waker);
                len += 1;
            }
            // SAFETY: alive, as above. This store is our last access to the
            // node: once its owner sees it, the owner may drop it.
            unsafe { node.as_ref().popped.store(true, Ordering::Release) };
            cur = next;
        }
        batch.len = len;
        // Mend the links once: `cur` (if any) is the first node still linked.
        self.head = cur;
        match cur {
            // SAFETY: linked, hence alive; lock held.
            Some(first) => unsafe { with_inner(first, |n| n.prev = None) },
            None => self.tail = None,
        }
        cur.is_some()
    }
}

impl<S, T> Drop for List<S, T> {
    fn drop(&mut self) {
        // A waiting future borrows (or owns an `Arc` of) the primitive, so the
        // primitive cannot be dropped while a node is linked.
        debug_assert!(self.head.is_none(), "wait list dropped with linked waiters");
    }
}

impl<S, T, L> core::fmt::Debug for WaitList<S, T, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaitList").finish_non_exhaustive()
    }
}

/// Wakers collected under the lock, to be woken after it is released.
///
/// The slots are uninitialised until pushed, so a batch costs nothing to
/// create or drop beyond the wakers it holds (usually one). `N` is how many
/// it holds: each full batch costs one more round trip through the lock, so
/// a primitive that wakes everyone at once (a cancellation) may take a
/// bigger one than the default.
pub(crate) struct WakeBatch<const N: usize = DEFAULT_BATCH> {
    /// Invariant: exactly the slots `woken..len` hold a waker not yet woken.
    wakers: [MaybeUninit<Waker>; N],
    woken: usize,
    len: usize,
}

/// The capacity of a default [`WakeBatch`].
const DEFAULT_BATCH: usize = 16;

impl WakeBatch {
    /// The capacity of a default batch.
    #[cfg_attr(
        not(all(feature = "alloc", target_has_atomic = "ptr")),
        allow(dead_code)
    )]
    pub(crate) const CAPACITY: usize = DEFAULT_BATCH;

    /// An empty batch of the default capacity.
    #[inline]
    pub(crate) const fn new() -> Self {
        Self::empty()
    }
}

impl<const N: usize> WakeBatch<N> {
    /// An empty batch of `N` wakers (`WakeBatch::<N>::empty()`).
    #[inline]
    pub(crate) const fn empty() -> Self {
        Self {
            wakers: [const { MaybeUninit::uninit() }; N],
            woken: 0,
            len: 0,
        }
    }

    /// Adds a waker; the caller checks [`WakeBatch::is_full`] before pushing.
    #[inline]
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        debug_assert!(!self.is_full());
        if let Some(waker) = waker {
            self.wakers[self.len].write(waker);
            self.len += 1;
        }
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == N
    }

    /// Wakes every collected waker; call it with no lock held.
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        while self.woken < self.len {
            let i = self.woken;
            // Advance first: if `wake` panics, `Drop` goes on with the rest.
            self.woken += 1;
            // SAFETY: slot `i` is in `woken..len` (checked above), so it holds
            // a waker written by `push` and not read since; moving `woken`
            // past it means it is never read again.
            unsafe { self.wakers[i].assume_init_read() }.wake();
        }
        self.woken = 0;
        self.len = 0;
    }
}

impl<const N: usize> Drop for WakeBatch<N> {
    fn drop(&mut self) {
        // A batch dropped by a panic still passes its wake-ups on.
        self.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::raw_mutex::DefaultRawMutex;
    use core::pin::pin;
    use std::vec::Vec;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    fn order(list: &WaitList<(), u32, DefaultRawMutex>) -> Vec<u32> {
        let mut out = Vec::new();
        list.lock(|l| {
            let mut cur = l.head;
            while let Some(p) = cur {
                // SAFETY: linked nodes are alive and we hold the lock.
                cur = unsafe {
                    with_inner(p, |n| {
                        out.push(n.data);
                        n.next
                    })
                };
            }
        });
        out
    }

    #[test]
    fn push_pop_remove_keep_fifo_order() {
        let list: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let a = pin!(Node::new(0));
        let b = pin!(Node::new(0));
        let c = pin!(Node::new(0));
        // SAFETY: each node is used with `list` only and removed before the end.
        unsafe {
            list.lock(|l| {
                assert!(l.push_back(a.as_ref(), 1, noop()).is_none());
                assert!(l.push_back(b.as_ref(), 2, noop()).is_none());
                assert!(l.push_back(c.as_ref(), 3, noop()).is_none());
            });
        }
        assert_eq!(order(&list), [1, 2, 3]);
        // SAFETY: `b` is used with `list` only.
        assert!(unsafe { list.lock(|l| l.remove(b.as_ref())) });
        assert_eq!(order(&list), [1, 3]);
        // SAFETY: as above; a second removal is a no-op.
        assert!(!unsafe { list.lock(|l| l.remove(b.as_ref())) });
        assert_eq!(list.lock(|l| l.with_front(|d| *d)), Some(1));
        assert!(list.lock(|l| l.pop_front()).is_some());
        assert_eq!(order(&list), [3]);
        // SAFETY: `c` is used with `list` only.
        unsafe {
            assert!(list.lock(|l| l.with_node(c.as_ref(), |d, linked| {
                *d = 7;
                linked
            })));
            assert!(list.lock(|l| l.remove(c.as_ref())));
            // SAFETY: `a` was popped; removing it again is a no-op.
            assert!(!list.lock(|l| l.remove(a.as_ref())));
        }
        assert!(list.lock(|l| l.is_empty()));
        assert!(list.lock(|l| l.pop_front()).is_none());
    }

    #[test]
    fn popped_is_set_by_pop_front_only_and_cleared_by_push() {
        let list: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let a = pin!(Node::new(0));
        let b = pin!(Node::new(0));
        // SAFETY: each node is used with `list` only and removed before the end.
        unsafe {
            list.lock(|l| {
                assert!(l.push_back(a.as_ref(), 1, noop()).is_none());
                assert!(l.push_back(b.as_ref(), 2, noop()).is_none());
            });
            assert!(list.lock(|l| l.remove(b.as_ref())));
        }
        assert!(!b.popped(), "a removed node is not popped");
        assert!(!a.popped());
        assert!(list.lock(|l| l.pop_front()).is_some());
        assert!(a.popped());
        // SAFETY: as above; `a` is unlinked and pushed again.
        unsafe {
            assert!(
                list.lock(|l| l.push_back(a.as_ref(), 3, noop())).is_none(),
                "pop_front took the waker"
            );
            assert!(!a.popped(), "a push clears it");
            assert!(list.lock(|l| l.remove(a.as_ref())));
        }
    }

    #[test]
    fn a_displaced_waker_is_handed_back_not_dropped_under_the_lock() {
        use std::sync::Arc;
        struct Task;
        impl std::task::Wake for Task {
            fn wake(self: Arc<Self>) {}
        }
        let (first, second) = (Arc::new(Task), Arc::new(Task));
        let list: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let a = pin!(Node::new(0));
        // SAFETY: `a` is used with `list` only and removed before the end.
        unsafe {
            assert!(list
                .lock(|l| l.push_back(a.as_ref(), 1, first.clone().into()))
                .is_none());
            // The same task: nothing replaced.
            let same: Waker = first.clone().into();
            assert!(list.lock(|l| l.set_waker(a.as_ref(), &same)).is_none());
            drop(same);
            // Another task: the old waker comes back, still alive.
            let w: Waker = second.clone().into();
            let old = list.lock(|l| l.set_waker(a.as_ref(), &w));
            assert!(old
                .as_ref()
                .is_some_and(|o| o.will_wake(&first.clone().into())));
            drop((old, w));
            assert_eq!(Arc::strong_count(&first), 1);
            // A removed node keeps its waker until it is pushed again.
            assert!(list.lock(|l| l.remove(a.as_ref())));
            assert_eq!(Arc::strong_count(&second), 2);
            let old = list.lock(|l| l.push_back(a.as_ref(), 2, first.clone().into()));
            assert!(old.is_some());
            drop(old);
            assert_eq!(Arc::strong_count(&second), 1);
            assert!(list.lock(|l| l.remove(a.as_ref())));
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    fn a_node_used_with_another_list_is_caught_in_debug_builds() {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        let first: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let second: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let node = pin!(Node::new(0));
        // SAFETY: `node` is used with `first` and removed before the end.
        unsafe {
            assert!(first
                .lock(|l| l.push_back(node.as_ref(), 1, noop()))
                .is_none())
        };
        // A contract breach on purpose: the owner check runs before the
        // node or either list is touched, and stops it.
        let caught = |f: &dyn Fn(&mut List<(), u32>)| {
            catch_unwind(AssertUnwindSafe(|| second.lock(|l| f(l)))).is_err()
        };
        assert!(caught(&|l| {
            // SAFETY: none (see above); the check panics first.
            unsafe { l.remove(node.as_ref()) };
        }));
        // SAFETY: as above.
        assert!(caught(&|l| unsafe {
            l.with_node(node.as_ref(), |_, _| ())
        }));
        // SAFETY: as above.
        assert!(caught(&|l| drop(unsafe {
            l.set_waker(node.as_ref(), &noop())
        })));
        assert_eq!(order(&first), [1]);
        assert!(second.lock(|l| l.is_empty()));
        // SAFETY: `node` is used with `first`.
        assert!(unsafe { first.lock(|l| l.remove(node.as_ref())) });
    }

    #[test]
    fn pop_front_into_unlinks_a_batch_and_leaves_the_rest_linked() {
        let list: WaitList<(), u32, DefaultRawMutex> = WaitList::new((), DefaultRawMutex::new());
        let nodes: Vec<_> = (0..7).map(|_| std::boxed::Box::pin(Node::new(0))).collect();
        // SAFETY: each node is used with `list` only, and is unlinked (popped
        // or removed) before the end.
        unsafe {
            list.lock(|l| {
                for (i, n) in nodes.iter().enumerate() {
                    assert!(l.push_back(n.as_ref(), i as u32, noop()).is_none());
                }
            });
        }
        let mut batch = WakeBatch::<3>::empty();
        assert!(list.lock(|l| l.pop_front_into(&mut batch)));
        assert!(batch.is_full());
        batch.wake_all();
        assert!(nodes[..3].iter().all(|n| n.popped()));
        assert!(!nodes[3].popped());
        assert_eq!(order(&list), [3, 4, 5, 6]);
        // The links of what is left still hold: remove from the middle and
        // from the new front, then drain the rest.
        // SAFETY: as above.
        unsafe {
            assert!(list.lock(|l| l.remove(nodes[5].as_ref())));
            assert!(list.lock(|l| l.remove(nodes[3].as_ref())));
        }
        assert_eq!(order(&list), [4, 6]);
        assert!(!list.lock(|l| l.pop_front_into(&mut batch)));
        batch.wake_all();
        assert!(list.lock(|l| l.is_empty()));
        assert!(nodes[4].popped() && nodes[6].popped());
        assert!(!list.lock(|l| l.pop_front_into(&mut batch)), "empty");
        // SAFETY: as above; a new push after the drain links normally.
        unsafe {
            assert!(list
                .lock(|l| l.push_back(nodes[0].as_ref(), 9, noop()))
                .is_none());
            assert_eq!(order(&list), [9]);
            assert!(list.lock(|l| l.remove(nodes[0].as_ref())));
        }
    }

    #[test]
    fn wake_batch_wakes_everything_it_holds() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut batch = WakeBatch::new();
        while !batch.is_full() {
            batch.push(Some(Waker::from(count.clone())));
        }
        batch.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), WakeBatch::CAPACITY);
        batch.push(Some(Waker::from(count.clone())));
        drop(batch);
        assert_eq!(count.0.load(Ordering::SeqCst), WakeBatch::CAPACITY + 1);
    }
}
