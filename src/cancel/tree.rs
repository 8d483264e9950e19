//! The cancellation tree: [`CancellationToken`] handles to `Arc`-shared
//! nodes, each embedding a [`Core`] and linked into its parent's core as an
//! intrusive entry.

use core::fmt;
use core::future::Future;
use core::mem;
use core::ptr::NonNull;

use super::{
    Cancelled, CancelledOwned, Core, RootToken, RunUntilCancelled, RunUntilCancelledOwned,
};
use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::{Arc, UnsafeCell};
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};

type NodePtr<C, L> = NonNull<TreeNode<C, L>>;

/// One token of the tree, shared by its handles (and by whatever holds a
/// reference for a while: a canceller, a child's `parent`).
///
/// # Invariants
///
/// - `handles` counts the [`CancellationToken`]s (and so the futures and
///   guards holding one); it only grows from a handle, so once it reaches
///   zero it stays there. The handle that takes it to zero *releases* the
///   node (see [`release`]) while it still holds its `Arc`.
/// - `parent` and `origin` are guarded by this node's own lock (`core`'s);
///   `origin` is written only before `core.cancelled` is set, so after a
///   load that sees the flag it may be read without the lock.
/// - `links` are guarded by the lock of the core whose [`ChildList`] the
///   node is linked into, which is the core of `parent` while it is linked.
///   A node is linked into a list at most once in its life: it may move to
///   another list (to the grandparent when its parent is released), always
///   under the locks of both lists and its own, but once unlinked it is
///   never linked again.
/// - A linked node is alive, with a strong count of at least one, held by a
///   handle or by a thread that will take the list's lock to unlink it
///   before letting go (a releaser, a child's `parent`). So a canceller
///   holding the parent's lock may take a strong count of its own on a
///   linked child.
/// - `next_work` is touched only by the canceller that popped the node off
///   its parent's list (there is one: a node is popped at most once).
/// - Locks are taken down the tree: a thread holding a node's lock blocks
///   only on a child's lock; going up (a child to its parent) it only
///   *tries*, so no two threads wait on each other.
pub(crate) struct TreeNode<C, L: ScopedRawMutex> {
    pub(super) core: Core<C, L>,
    handles: AtomicUsize,
    parent: UnsafeCell<Parent<C, L>>,
    origin: UnsafeCell<Origin<C, L>>,
    links: UnsafeCell<Links<C, L>>,
    next_work: UnsafeCell<Option<Arc<TreeNode<C, L>>>>,
}

// SAFETY: every cell is guarded as the type's invariants say (a lock, or
// exclusive ownership by one canceller); the raw pointers reach nodes and
// `'static` cores of the same `C` and `L`, shared across threads under the
// same rules. `C: Send + Sync` for the cause (moved in, dropped, and read by
// reference from any thread), `L: Send + Sync` for the locks.
unsafe impl<C: Send + Sync, L: ScopedRawMutex + Send + Sync> Send for TreeNode<C, L> {}
// SAFETY: as above.
unsafe impl<C: Send + Sync, L: ScopedRawMutex + Send + Sync> Sync for TreeNode<C, L> {}

/// Where a node hangs.
enum Parent<C, L: ScopedRawMutex> {
    /// A root made by `new()`, or a node that left the tree.
    None,
    /// A [`RootToken`]'s core, which lives for `'static` (only
    /// [`RootToken::child_token`], on `&'static self`, links a child to one).
    Root(NonNull<Core<C, L>>),
    Node(Arc<TreeNode<C, L>>),
}

impl<C, L: ScopedRawMutex> Parent<C, L> {
    #[inline]
    fn core(&self) -> Option<&Core<C, L>> {
        match self {
            Parent::None => None,
            // SAFETY: a root core with children is `'static` (see the variant).
            Parent::Root(core) => Some(unsafe { core.as_ref() }),
            Parent::Node(node) => Some(&node.core),
        }
    }

    #[inline]
    fn is(&self, other: &Self) -> bool {
        match (self.core(), other.core()) {
            (Some(a), Some(b)) => core::ptr::eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }

    #[inline]
    fn clone(&self) -> Self {
        match self {
            Parent::None => Parent::None,
            Parent::Root(core) => Parent::Root(*core),
            Parent::Node(node) => Parent::Node(Arc::clone(node)),
        }
    }
}

/// Where the cause of a cancelled node lives: itself, or the ancestor (kept
/// alive here) whose cancellation reached it first.
enum Origin<C, L: ScopedRawMutex> {
    Own,
    /// A `'static` [`RootToken`]'s core.
    Root(NonNull<Core<C, L>>),
    /// A node whose origin is `Own`.
    Node(Arc<TreeNode<C, L>>),
}

impl<C, L: ScopedRawMutex> Origin<C, L> {
    #[inline]
    fn clone(&self) -> Self {
        match self {
            Origin::Own => Origin::Own,
            Origin::Root(core) => Origin::Root(*core),
            Origin::Node(node) => Origin::Node(Arc::clone(node)),
        }
    }
}

/// The origin of a cancellation in progress, as the canceller holds it.
pub(crate) enum OriginRef<'a, C, L: ScopedRawMutex> {
    /// A [`RootToken`]'s core: `'static` whenever it has descendants to
    /// hand this to (see [`Parent::Root`]).
    Root(&'a Core<C, L>),
    Node(&'a Arc<TreeNode<C, L>>),
}

impl<C, L: ScopedRawMutex> OriginRef<'_, C, L> {
    #[inline]
    fn to_owned(&self) -> Origin<C, L> {
        match self {
            OriginRef::Root(core) => Origin::Root(NonNull::from(*core)),
            OriginRef::Node(node) => Origin::Node(Arc::clone(node)),
        }
    }
}

struct Links<C, L: ScopedRawMutex> {
    prev: Option<NodePtr<C, L>>,
    next: Option<NodePtr<C, L>>,
    linked: bool,
}

/// Runs `f` on the links of the node behind `ptr`.
///
/// # Safety
///
/// The node is alive, and the caller holds the lock that guards its links
/// (or owns the node alone, before it is shared).
#[inline]
unsafe fn with_links<C, L: ScopedRawMutex, R>(
    ptr: NodePtr<C, L>,
    f: impl FnOnce(&mut Links<C, L>) -> R,
) -> R {
    // SAFETY: alive, and the lock held makes this the only access (caller).
    unsafe { ptr.as_ref().links.with_mut(|links| f(&mut *links)) }
}

/// A core's children: an intrusive doubly linked list through their
/// [`Links`], in the core's locked state (so `&mut` to it means that lock is
/// held). Every pointer in it came from `Arc::as_ptr` of the child's node.
pub(crate) struct ChildList<C, L: ScopedRawMutex> {
    head: Option<NodePtr<C, L>>,
}

// SAFETY: the pointers reach nodes that are `Send + Sync` under these
// bounds, and are followed only under the owning core's lock.
unsafe impl<C: Send + Sync, L: ScopedRawMutex + Send + Sync> Send for ChildList<C, L> {}

impl<C, L: ScopedRawMutex> ChildList<C, L> {
    pub(super) const fn new() -> Self {
        Self { head: None }
    }

    /// Links `node` at the front.
    ///
    /// # Safety
    ///
    /// The owning core's lock is held, `node` is alive and not linked, and
    /// its `parent` is the owning core (or will be before anyone can see
    /// otherwise).
    unsafe fn push(&mut self, node: NodePtr<C, L>) {
        let next = self.head;
        // SAFETY: alive, guarded by the held lock (caller).
        unsafe {
            with_links(node, |n| {
                debug_assert!(!n.linked, "a child linked twice");
                n.prev = None;
                n.next = next;
                n.linked = true;
            });
        }
        if let Some(next) = next {
            // SAFETY: linked here, hence alive (type invariants); lock held.
            unsafe { with_links(next, |n| n.prev = Some(node)) };
        }
        self.head = Some(node);
    }

    /// Unlinks a linked `node`.
    ///
    /// # Safety
    ///
    /// `node` is linked into this list, whose lock is held.
    unsafe fn unlink(&mut self, node: NodePtr<C, L>) {
        // SAFETY: linked here, so it and its neighbours are alive; lock held.
        unsafe {
            let (prev, next) = with_links(node, |n| {
                n.linked = false;
                (n.prev.take(), n.next.take())
            });
            match prev {
                Some(prev) => with_links(prev, |p| p.next = next),
                None => self.head = next,
            }
            if let Some(next) = next {
                with_links(next, |n| n.prev = prev);
            }
        }
    }

    /// Unlinks `node` if it is linked; returns whether it was.
    ///
    /// # Safety
    ///
    /// The owning core's lock is held, `node` is alive and its `parent` is
    /// the owning core (so if it is linked anywhere, it is linked here).
    unsafe fn remove(&mut self, node: NodePtr<C, L>) -> bool {
        // SAFETY: alive; its links are guarded by this list's lock (its
        // parent's), held (caller).
        let linked = unsafe { with_links(node, |n| n.linked) };
        if linked {
            // SAFETY: linked, and only into this list (caller).
            unsafe { self.unlink(node) };
        }
        linked
    }

    fn pop(&mut self) -> Option<NodePtr<C, L>> {
        let head = self.head?;
        // SAFETY: the head is linked here; `&mut self` means the lock is held.
        unsafe { self.unlink(head) };
        Some(head)
    }

    /// Moves every child onto `work`, each with a strong count of its own.
    pub(super) fn take_all(&mut self, work: &mut Work<C, L>) {
        while let Some(child) = self.pop() {
            // SAFETY: the pointer came from `Arc::as_ptr`, and the child was
            // linked a moment ago under the lock we still hold, so its strong
            // count is at least one and cannot drop to zero before we return
            // (type invariants of `TreeNode`).
            let child = unsafe {
                Arc::increment_strong_count(child.as_ptr());
                Arc::from_raw(child.as_ptr())
            };
            work.push(child);
        }
    }
}

impl<C, L: ScopedRawMutex> Drop for ChildList<C, L> {
    fn drop(&mut self) {
        // Each linked child holds its parent alive through its `parent`.
        debug_assert!(self.head.is_none(), "a core dropped with linked children");
    }
}

/// The nodes a cancellation still has to reach: a stack threaded through
/// their `next_work`, each entry holding a strong count.
pub(crate) struct Work<C, L: ScopedRawMutex> {
    head: Option<Arc<TreeNode<C, L>>>,
}

impl<C, L: ScopedRawMutex> Work<C, L> {
    #[inline]
    pub(super) fn new() -> Self {
        Self { head: None }
    }

    fn push(&mut self, node: Arc<TreeNode<C, L>>) {
        let below = self.head.take();
        // SAFETY: only the canceller that popped `node` touches `next_work`
        // (type invariant of `TreeNode`), and that is us.
        node.next_work.with_mut(|slot| unsafe { *slot = below });
        self.head = Some(node);
    }

    pub(super) fn pop(&mut self) -> Option<Arc<TreeNode<C, L>>> {
        let node = self.head.take()?;
        // SAFETY: as in `push`.
        self.head = node.next_work.with_mut(|slot| unsafe { (*slot).take() });
        Some(node)
    }
}

impl<C, L: ScopedRawMutex> Drop for Work<C, L> {
    fn drop(&mut self) {
        // One at a time, not by recursion through `next_work`.
        while self.pop().is_some() {}
    }
}

impl<C, L: ScopedRawMutex> TreeNode<C, L> {
    fn new(raw_mutex: L, parent: Parent<C, L>) -> Self {
        Self {
            core: Core::new(raw_mutex),
            handles: AtomicUsize::new(1),
            parent: UnsafeCell::new(parent),
            origin: UnsafeCell::new(Origin::Own),
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                linked: false,
            }),
            next_work: UnsafeCell::new(None),
        }
    }

    /// Cancels this node for an ancestor's cancellation, whose canceller
    /// popped it off its parent's list. Returns whether it was not
    /// cancelled yet; if so, the caller drains it.
    pub(super) fn cancel_from(&self, origin: &OriginRef<'_, C, L>) -> bool {
        let mut parent = Parent::None;
        let first = self.core.waiters.lock(|_| {
            // Off its parent's list for good: the reference is no more use.
            self.parent.with_mut(|p| {
                // SAFETY: `parent` is guarded by our lock, held.
                parent = mem::replace(unsafe { &mut *p }, Parent::None);
            });
            if self.core.cancelled.load(Relaxed) {
                // Its own cancellation came first, and its cause stays.
                return false;
            }
            // SAFETY: not cancelled and our lock is held: no reader yet, no
            // other writer.
            self.origin.with_mut(|o| unsafe { *o = origin.to_owned() });
            self.core.cancelled.store(true, Release);
            true
        });
        // Possibly the parent's last reference: dropped with no lock held.
        drop(parent);
        first
    }

    /// The cause of whichever cancellation reached this node first.
    fn cause(&self) -> Option<&C> {
        if !self.core.is_cancelled() {
            return None;
        }
        // SAFETY: written before the flag was set, never after (type
        // invariant), and we saw it set.
        let origin = self.origin.with(|o| unsafe { &*o });
        // SAFETY: the origin's cancellation happened before ours, which we
        // saw; a root origin is `'static`, a node origin is kept alive by
        // `self.origin`.
        unsafe {
            match origin {
                Origin::Own => self.core.cause_unchecked(),
                Origin::Root(core) => core.as_ref().cause_unchecked(),
                Origin::Node(node) => node.core.cause_unchecked(),
            }
        }
    }
}

/// The step after a first try at taking a node out of the tree.
enum Step<C, L: ScopedRawMutex> {
    Done,
    /// The parent's lock was taken: lock it first, then the node, if the
    /// node still hangs there (a reference, so it stays alive meanwhile).
    Wait(Parent<C, L>),
}

/// The last handle of `node` is gone: take it out of its parent's list and
/// move its children up to that parent (or, for a root, make them roots), so
/// that nothing in the tree refers to it any more.
///
/// The caller holds a strong count on `node` throughout.
fn release<C, L: ScopedRawMutex>(node: &TreeNode<C, L>) {
    let ptr = NonNull::from(node);
    loop {
        let mut parent_ref = Parent::None;
        let step = node.core.waiters.lock(|l| {
            // SAFETY: `parent` is guarded by our lock, held.
            let parent = node.parent.with_mut(|p| unsafe { &mut *p });
            let Some(parent_core) = parent.core() else {
                // No parent and not cancelled: a root, whose children become
                // roots. No parent and cancelled: a canceller took the node
                // off its parent's list, and drains (or drained) its children
                // itself: they are not ours to touch.
                if !node.core.cancelled.load(Relaxed) {
                    // SAFETY: our lock is held.
                    unsafe { orphan_children(&mut l.state) };
                }
                return Step::Done;
            };
            // Against the lock order (up the tree): only try. loom 0.7
            // models a `try_lock` pending while another thread takes the
            // lock as blocked (tokio-rs/loom#376), and so reports a deadlock
            // that cannot happen; under loom every release takes the path
            // below, which real builds take whenever this try fails.
            #[cfg(not(loom))]
            let left = parent_core.waiters.try_lock(|pl| {
                // SAFETY: both locks held; `parent` is the node's parent.
                unsafe { leave(ptr, &mut l.state, parent, &mut pl.state) }
            });
            #[cfg(loom)]
            let left: Option<()> = {
                let _ = parent_core;
                None
            };
            match left {
                Some(()) => {
                    parent_ref = mem::replace(parent, Parent::None);
                    Step::Done
                }
                None => Step::Wait(parent.clone()),
            }
        });
        // Possibly the parent's last reference: dropped with no lock held.
        drop(parent_ref);
        let Step::Wait(keep) = step else { return };
        let parent_core = keep.core().expect("only a parent is waited for");
        let mut parent_ref = Parent::None;
        let done = parent_core.waiters.lock(|pl| {
            node.core.waiters.lock(|l| {
                // SAFETY: `parent` is guarded by our lock, held.
                let parent = node.parent.with_mut(|p| unsafe { &mut *p });
                if !parent.is(&keep) {
                    // Moved up meanwhile: start again from the new parent.
                    return false;
                }
                // SAFETY: both locks held; `parent` is the node's parent.
                unsafe { leave(ptr, &mut l.state, parent, &mut pl.state) };
                parent_ref = mem::replace(parent, Parent::None);
                true
            })
        });
        drop(parent_ref);
        drop(keep);
        if done {
            return;
        }
    }
}

/// Takes `node` off `siblings` (its parent's children) and moves its
/// `children` there, unless a canceller popped it first: then its children
/// stay for that canceller, which will drain them.
///
/// # Safety
///
/// The locks of the node and of its parent (`parent`, whose list
/// `siblings` is) are held; the caller holds a strong count on `node`.
unsafe fn leave<C, L: ScopedRawMutex>(
    node: NodePtr<C, L>,
    children: &mut ChildList<C, L>,
    parent: &Parent<C, L>,
    siblings: &mut ChildList<C, L>,
) {
    // SAFETY: the parent's lock is held and it is the node's parent (caller).
    if !unsafe { siblings.remove(node) } {
        return;
    }
    while let Some(child) = children.pop() {
        // SAFETY: the child was linked under the node's lock, held, so it is
        // alive (type invariants).
        let child_node = unsafe { child.as_ref() };
        // The child's `parent` is guarded by its own lock: down the tree.
        let old = child_node.core.waiters.lock(|_| {
            child_node
                .parent
                // SAFETY: the child's lock is held.
                .with_mut(|p| mem::replace(unsafe { &mut *p }, parent.clone()))
        });
        // A reference to the node, not its last: the caller holds one.
        drop(old);
        // SAFETY: the parent's lock is held, the child is alive and
        // unlinked, and its `parent` is now that core.
        unsafe { siblings.push(child) };
    }
}

/// Unlinks every child of a node that has no parent; each becomes a root.
///
/// # Safety
///
/// The lock of the node owning `children` is held, and the caller holds a
/// strong count on that node.
unsafe fn orphan_children<C, L: ScopedRawMutex>(children: &mut ChildList<C, L>) {
    while let Some(child) = children.pop() {
        // SAFETY: linked under the held lock a moment ago, so alive.
        let child_node = unsafe { child.as_ref() };
        let old = child_node.core.waiters.lock(|_| {
            child_node
                .parent
                // SAFETY: the child's lock is held.
                .with_mut(|p| mem::replace(unsafe { &mut *p }, Parent::None))
        });
        // A reference to the node, not its last: the caller holds one.
        drop(old);
    }
}

/// A new child of `parent`: linked into its list, or born cancelled with
/// the cause of whatever cancelled `parent`.
fn new_child<C, L: ScopedRawMutex + Default>(parent: Parent<C, L>) -> CancellationToken<C, L> {
    let parent_core = NonNull::from(parent.core().expect("a child has a parent"));
    let node = Arc::new(TreeNode::new(L::default(), parent));
    // From `as_ptr`, so that a canceller can take a strong count through it.
    // SAFETY: an `Arc`'s pointer is never null.
    let ptr = unsafe { NonNull::new_unchecked(Arc::as_ptr(&node).cast_mut()) };
    // SAFETY: the node holds its parent alive, a root core is `'static`.
    let parent_core = unsafe { parent_core.as_ref() };
    let linked = parent_core.waiters.lock(|pl| {
        // Set under this lock: if it is not set now, the canceller will find
        // the child linked.
        if parent_core.cancelled.load(Acquire) {
            return false;
        }
        // SAFETY: the parent's lock is held; the node is alive, not linked,
        // and its `parent` is this core.
        unsafe { pl.state.push(ptr) };
        true
    });
    if !linked {
        // Not shared yet: no lock needed for its cells.
        let parent = node
            .parent
            // SAFETY: no other reference to the node exists.
            .with_mut(|p| mem::replace(unsafe { &mut *p }, Parent::None));
        let origin = match &parent {
            Parent::None => unreachable!("a child has a parent"),
            Parent::Root(core) => Origin::Root(*core),
            Parent::Node(p) => {
                // SAFETY: we saw the parent cancelled under its lock, after
                // its origin was written, and it is never written again.
                match p.origin.with(|o| unsafe { &*o }) {
                    Origin::Own => Origin::Node(Arc::clone(p)),
                    inherited => inherited.clone(),
                }
            }
        };
        // SAFETY: no other reference to the node exists.
        node.origin.with_mut(|o| unsafe { *o = origin });
        node.core.cancelled.store(true, Release);
        drop(parent);
    }
    CancellationToken { node }
}

/// A cancellation token: a handle to one node of a cancellation tree, with
/// tokio-util's API and a cause.
///
/// Cloning gives another handle to the *same* token; [`child_token`] makes
/// a new token below it. Cancelling a token ([`cancel`], [`cancel_with`])
/// cancels it and its whole subtree, never its parent or siblings, and
/// wakes every [`cancelled`] waiter there. A child created from a cancelled
/// token is born cancelled. Dropping a token's last handle takes it out of
/// the tree (its children move up to its parent), so nothing grows with the
/// children that came and went.
///
/// `C` is the type of the cause (`()` unless named, see
/// [`with_cause_type`]); `L` the lock of each node's wait list (see
/// [`raw_mutex`](crate::raw_mutex)). Needs the `alloc` feature (one
/// allocation per token, none per clone or wait); [`RootToken`] is the
/// allocation-free flat form, and can be the `static` root of a tree.
///
/// [`child_token`]: Self::child_token
/// [`cancel`]: Self::cancel
/// [`cancel_with`]: Self::cancel_with
/// [`cancelled`]: Self::cancelled
/// [`with_cause_type`]: CancellationToken::with_cause_type
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
/// use sluicegate::CancellationToken;
///
/// let token = CancellationToken::new();
/// let worker = token.child_token();
/// let also = worker.clone();
/// token.cancel();
/// assert!(also.is_cancelled());
/// block_on(worker.cancelled());
/// ```
pub struct CancellationToken<C = (), L: ScopedRawMutex = DefaultRawMutex> {
    node: Arc<TreeNode<C, L>>,
}

impl CancellationToken {
    /// A new root token, not cancelled, with no cause type and the
    /// [`DefaultRawMutex`].
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> Self {
        Self::new_with_raw_mutex(DefaultRawMutex::new())
    }
}

impl<C> CancellationToken<C> {
    /// A new root token, not cancelled, whose cause is a `C`, with the
    /// [`DefaultRawMutex`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::CancellationToken;
    ///
    /// let token = CancellationToken::<String>::with_cause_type();
    /// token.cancel_with("deadline passed".to_string());
    /// assert_eq!(token.cause().map(String::as_str), Some("deadline passed"));
    /// ```
    pub fn with_cause_type() -> Self {
        Self::new_with_raw_mutex(DefaultRawMutex::new())
    }
}

impl<C, L: ScopedRawMutex> CancellationToken<C, L> {
    /// A new root token, not cancelled, whose wait list is guarded by
    /// `raw_mutex`; its children get an `L::default()` each.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::raw_mutex::LocalRawMutex;
    /// use sluicegate::CancellationToken;
    ///
    /// // One thread only: no synchronisation (and not `Send`).
    /// let token: CancellationToken<(), _> = CancellationToken::new_with_raw_mutex(LocalRawMutex::new());
    /// token.child_token().cancel();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new_with_raw_mutex(raw_mutex: L) -> Self {
        Self {
            node: Arc::new(TreeNode::new(raw_mutex, Parent::None)),
        }
    }

    #[inline]
    pub(crate) fn core(&self) -> &Core<C, L> {
        &self.node.core
    }

    /// Whether the token is cancelled: one atomic load, no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.node.core.is_cancelled()
    }

    /// Cancels the token and its whole subtree (with no cause), waking
    /// every waiter there. Cancelling a cancelled token does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = sluicegate::CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// child.cancel();
    /// assert!(child.is_cancelled());
    /// assert!(!parent.is_cancelled()); // never upwards
    /// ```
    pub fn cancel(&self) {
        self.cancel_inner(None);
    }

    /// Cancels the token as [`cancel`](Self::cancel) does, recording `cause`
    /// as the reason. Returns `true` if this call cancelled it; `false` if
    /// it was cancelled already (by itself or by an ancestor), and then
    /// `cause` is dropped: the first cancellation's cause stays.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::CancellationToken;
    ///
    /// let parent = CancellationToken::<&str>::with_cause_type();
    /// let child = parent.child_token();
    /// assert!(parent.cancel_with("parent first"));
    /// assert!(!child.cancel_with("child later")); // reached by its parent's
    /// assert_eq!(child.cause(), Some(&"parent first"));
    /// ```
    pub fn cancel_with(&self, cause: C) -> bool {
        self.cancel_inner(Some(cause))
    }

    fn cancel_inner(&self, cause: Option<C>) -> bool {
        self.node.core.cancel(cause, OriginRef::Node(&self.node))
    }

    /// Why the token was cancelled: the cause of whichever cancellation
    /// reached it first, its own or an ancestor's; `None` if it is not
    /// cancelled or that cancellation was a [`cancel`](Self::cancel) without
    /// a cause.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::CancellationToken;
    ///
    /// let parent = CancellationToken::<&str>::with_cause_type();
    /// let child = parent.child_token();
    /// assert!(child.cancel_with("own"));
    /// parent.cancel_with("ancestor");
    /// assert_eq!(child.cause(), Some(&"own")); // it was cancelled first
    /// ```
    #[inline]
    pub fn cause(&self) -> Option<&C> {
        self.node.cause()
    }

    /// Waits until the token is cancelled; ready at once if it is.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped waiter leaves nothing behind, and since a
    /// cancellation wakes every waiter there is no wake-up to pass on.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// token.cancel();
    /// futures_lite::future::block_on(token.cancelled());
    /// ```
    pub fn cancelled(&self) -> Cancelled<'_, C, L> {
        Cancelled::new(&self.node.core)
    }

    /// [`cancelled`](Self::cancelled) holding this handle instead of a
    /// borrow, so the future is `'static`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`cancelled`](Self::cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// let wait = token.clone().cancelled_owned();
    /// token.cancel();
    /// futures_lite::future::block_on(wait);
    /// ```
    pub fn cancelled_owned(self) -> CancelledOwned<C, L> {
        CancelledOwned::new(self)
    }

    /// A new token below this one: cancelled when this one is (or at once,
    /// born cancelled with this one's cause, if this one already is), while
    /// cancelling it leaves this one alone.
    ///
    /// # Examples
    ///
    /// ```
    /// let parent = sluicegate::CancellationToken::new();
    /// let child = parent.child_token();
    /// parent.cancel();
    /// assert!(child.is_cancelled());
    /// assert!(parent.child_token().is_cancelled()); // born cancelled
    /// ```
    pub fn child_token(&self) -> Self
    where
        L: Default,
    {
        new_child(Parent::Node(Arc::clone(&self.node)))
    }

    /// A guard that cancels the token when dropped, unless
    /// [`disarm`](DropGuard::disarm)ed.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// let guard = token.clone().drop_guard();
    /// drop(guard);
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard<C, L> {
        DropGuard { token: Some(self) }
    }

    /// Runs `fut` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`, and `fut` is dropped). If the token is already
    /// cancelled at the first poll, `fut` is never polled; after that, a
    /// `fut` that completes wins even if the token is cancelled by then (see
    /// [`RunUntilCancelled`] for why).
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as `fut`: dropping the returned future drops `fut`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, pending};
    ///
    /// let token = sluicegate::CancellationToken::new();
    /// assert_eq!(block_on(token.run_until_cancelled(async { 1 })), Some(1));
    /// token.cancel();
    /// assert_eq!(block_on(token.run_until_cancelled(pending::<()>())), None);
    /// ```
    pub fn run_until_cancelled<F: Future>(&self, fut: F) -> RunUntilCancelled<'_, F, C, L> {
        RunUntilCancelled::new(&self.node.core, fut)
    }

    /// [`run_until_cancelled`](Self::run_until_cancelled) holding this
    /// handle instead of a borrow, so the future is `'static` when `fut`
    /// is.
    ///
    /// # Cancel safety
    ///
    /// As cancel safe as `fut`: dropping the returned future drops `fut`.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// let run = token.clone().run_until_cancelled_owned(async { "done" });
    /// assert_eq!(futures_lite::future::block_on(run), Some("done"));
    /// ```
    pub fn run_until_cancelled_owned<F: Future>(self, fut: F) -> RunUntilCancelledOwned<F, C, L> {
        RunUntilCancelledOwned::new(self, fut)
    }
}

impl<C, L: ScopedRawMutex> Clone for CancellationToken<C, L> {
    /// Another handle to the same token.
    ///
    /// # Examples
    ///
    /// ```
    /// let token = sluicegate::CancellationToken::new();
    /// let other = token.clone();
    /// other.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    fn clone(&self) -> Self {
        self.node.handles.fetch_add(1, Relaxed);
        Self {
            node: Arc::clone(&self.node),
        }
    }
}

impl<C, L: ScopedRawMutex> Drop for CancellationToken<C, L> {
    fn drop(&mut self) {
        if self.node.handles.fetch_sub(1, AcqRel) == 1 {
            release(&self.node);
        }
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl<C, L: ScopedRawMutex> fmt::Debug for CancellationToken<C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

impl<C, L: ScopedRawMutex> RootToken<C, L> {
    /// A new [`CancellationToken`] below this `static` root: cancelled when
    /// the root is (born cancelled, with its cause, if it already is).
    /// Needs the `alloc` feature; the root itself allocates nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::cancel::RootToken;
    ///
    /// static SHUTDOWN: RootToken<&str> = RootToken::with_cause_type();
    ///
    /// let request = SHUTDOWN.child_token();
    /// SHUTDOWN.cancel_with("SIGTERM");
    /// assert_eq!(request.cause(), Some(&"SIGTERM"));
    /// ```
    pub fn child_token(&'static self) -> CancellationToken<C, L>
    where
        L: Default,
    {
        new_child(Parent::Root(NonNull::from(&self.core)))
    }
}

/// Cancels its token when dropped, unless [`disarm`](Self::disarm)ed:
/// returned by [`CancellationToken::drop_guard`].
///
/// # Examples
///
/// ```
/// let token = sluicegate::CancellationToken::new();
/// {
///     let _guard = token.clone().drop_guard();
///     // ... work that cancels the token however it ends, panics included
/// }
/// assert!(token.is_cancelled());
/// ```
#[must_use = "the token is cancelled as soon as the guard is dropped"]
pub struct DropGuard<C = (), L: ScopedRawMutex = DefaultRawMutex> {
    /// `None` only once disarmed.
    token: Option<CancellationToken<C, L>>,
}

impl<C, L: ScopedRawMutex> DropGuard<C, L> {
    /// Gives the token back without cancelling it.
    ///
    /// # Examples
    ///
    /// ```
    /// let guard = sluicegate::CancellationToken::new().drop_guard();
    /// let token = guard.disarm();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn disarm(mut self) -> CancellationToken<C, L> {
        self.token
            .take()
            .expect("a guard holds its token until dropped")
    }
}

impl<C, L: ScopedRawMutex> Drop for DropGuard<C, L> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.cancel();
        }
    }
}

impl<C, L: ScopedRawMutex> fmt::Debug for DropGuard<C, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropGuard")
            .field("token", &self.token)
            .finish()
    }
}
