//! Proves with a counting global allocator what `cancel` allocates: a child
//! token is one allocation, freed when its last handle goes, so a parent
//! that creates and drops children for days holds no more than before;
//! waiting, cancelling and checking allocate nothing.
//!
//! Its own test binary, because it installs a `#[global_allocator]`.
//! Counts are per thread, so the test harness's own threads do not
//! interfere; futures are polled by hand, so no executor allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use sluicegate::cancel::{CancellationToken, RootToken};

struct CountingAlloc;

thread_local! {
    // Const-initialised and without a destructor, so touching them from the
    // allocator never allocates itself.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(allocations: usize, bytes: isize) {
    // `try_with` fails only during thread teardown; nothing is measured then.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + allocations));
    let _ = LIVE_BYTES.try_with(|n| n.set(n.get() + bytes));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; counting touches only
// thread-local `Cell`s.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// How many allocations this thread made while running `f`, and how many
/// bytes it holds more afterwards.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, isize) {
    let allocations = ALLOCATIONS.with(Cell::get);
    let bytes = LIVE_BYTES.with(Cell::get);
    let r = f();
    (
        r,
        ALLOCATIONS.with(Cell::get) - allocations,
        LIVE_BYTES.with(Cell::get) - bytes,
    )
}

/// A million in a test build; fewer under miri, which interprets each slowly.
const CHILDREN: usize = if cfg!(miri) { 1_000 } else { 1_000_000 };

#[test]
fn the_counter_sees_allocations_and_frees() {
    // Guards against a counter that silently counts nothing.
    let ((), n, held) = measure(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!((n, held), (1, 0));
    let (b, n, held) = measure(|| std::hint::black_box(Box::new(7u64)));
    assert_eq!((n, held), (1, 8));
    drop(b);
}

#[test]
fn a_million_children_created_and_dropped_leave_the_parent_as_it_was() {
    let parent = CancellationToken::new();
    // A long-lived sibling, so the parent's list is never trivially empty.
    let sibling = parent.child_token();
    let ((), allocations, held) = measure(|| {
        for _ in 0..CHILDREN {
            drop(std::hint::black_box(parent.child_token()));
        }
    });
    assert_eq!(allocations, CHILDREN, "one allocation per child");
    assert_eq!(held, 0, "bytes still held after every child was dropped");
    // The parent still works: the sibling is reached.
    parent.cancel();
    assert!(sibling.is_cancelled());
}

#[test]
fn children_with_clones_and_grandchildren_leave_nothing_behind() {
    let parent = CancellationToken::new();
    let ((), _, held) = measure(|| {
        for _ in 0..CHILDREN / 100 {
            let child = parent.child_token();
            let clone = child.clone();
            let grandchild = clone.child_token();
            drop(child);
            drop(grandchild);
            drop(clone);
        }
    });
    assert_eq!(held, 0);
}

#[test]
fn a_chain_of_tokens_each_replaced_by_its_child_stays_one_token_long() {
    let root = CancellationToken::new();
    let mut current = root.child_token();
    let (_, _, one_link) = measure(|| current.child_token());
    let ((), _, held) = measure(|| {
        for _ in 0..CHILDREN / 10 {
            // The old token's children move up to `root`, and it is freed.
            current = current.child_token();
        }
    });
    assert_eq!(held, 0, "a chain grows by {one_link} bytes a link if kept");
    root.cancel();
    assert!(current.is_cancelled());
}

#[test]
fn dropping_a_middle_token_frees_it_while_its_children_live_on() {
    let root = CancellationToken::new();
    let ((mid, leaf), _, with_mid) = measure(|| {
        let mid = root.child_token();
        let leaf = mid.child_token();
        (mid, leaf)
    });
    let ((), _, freed) = measure(|| drop(mid));
    assert!(
        freed < 0 && -freed < with_mid,
        "the middle node alone is freed"
    );
    root.cancel();
    assert!(leaf.is_cancelled());
}

#[test]
fn children_of_a_static_root_cost_one_allocation_each_and_the_root_none() {
    static ROOT: RootToken = RootToken::new();
    let (child, allocations, _) = measure(|| ROOT.child_token());
    assert_eq!(
        allocations, 1,
        "the child's node; the root allocates nothing"
    );
    let ((), _, held) = measure(|| {
        for _ in 0..CHILDREN / 10 {
            drop(ROOT.child_token());
        }
    });
    assert_eq!(held, 0);
    ROOT.cancel();
    assert!(child.is_cancelled());
}

#[test]
fn waiting_cancelling_and_checking_allocate_nothing() {
    let token = CancellationToken::new();
    let child = token.child_token();
    let root = RootToken::new();
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let ((), allocations, _) = measure(|| {
        let mut a = pin!(token.cancelled());
        let mut b = pin!(child.cancelled());
        let mut c = pin!(root.cancelled());
        let mut d = pin!(token.run_until_cancelled(std::future::pending::<()>()));
        assert!(a.as_mut().poll(&mut cx).is_pending());
        assert!(b.as_mut().poll(&mut cx).is_pending());
        assert!(c.as_mut().poll(&mut cx).is_pending());
        assert!(d.as_mut().poll(&mut cx).is_pending());
        assert!(!token.is_cancelled() && !child.is_cancelled());
        let clone = token.clone();
        drop(clone);
        token.cancel();
        root.cancel();
        assert!(a.as_mut().poll(&mut cx).is_ready());
        assert!(b.as_mut().poll(&mut cx).is_ready());
        assert!(c.as_mut().poll(&mut cx).is_ready());
        assert_eq!(d.as_mut().poll(&mut cx), Poll::Ready(None));
        // Born cancelled: the child's node, nothing else.
    });
    assert_eq!(allocations, 0);
    let (born, allocations, _) = measure(|| token.child_token());
    assert_eq!(allocations, 1);
    assert!(born.is_cancelled());
}

/// A small deterministic generator, so the churn below replays exactly.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn threads_churning_a_tree_while_it_is_cancelled_free_every_node() {
    use std::sync::Mutex;
    const THREADS: u64 = 4;
    const SLOTS: usize = 64;
    const ROUNDS: usize = if cfg!(miri) { 50 } else { 100_000 };
    let root = CancellationToken::new();
    // Allocated before anything is measured; taking and putting tokens
    // allocates nothing.
    let slots: Vec<Mutex<Option<CancellationToken>>> = (0..SLOTS)
        .map(|_| Mutex::new(Some(root.child_token())))
        .collect();
    let cancel_at = ROUNDS / 2;
    let start = std::sync::Barrier::new(THREADS as usize);
    let net = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (root, slots, start) = (&root, &slots, &start);
                s.spawn(move || {
                    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (t + 1));
                    start.wait(); // all at once, so they contend
                    let ((), _, held) = measure(|| {
                        for round in 0..ROUNDS {
                            if t == 0 && round == cancel_at {
                                root.cancel();
                            }
                            let i = rng.below(SLOTS);
                            let Some(token) = slots[i].lock().unwrap().take() else {
                                continue;
                            };
                            // A child of the token, of the root, or a clone:
                            // the token itself is dropped here, often with
                            // children living on in other slots.
                            let next = match rng.below(3) {
                                0 => token.child_token(),
                                1 => root.child_token(),
                                _ => token.clone(),
                            };
                            let j = rng.below(SLOTS);
                            let mut slot = slots[j].lock().unwrap();
                            let displaced = slot.replace(next);
                            drop(slot);
                            drop(displaced);
                            drop(token);
                        }
                    });
                    held
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .sum::<isize>()
    });
    assert!(root.is_cancelled());
    let (tokens, _, after) = measure(|| {
        let tokens: Vec<_> = slots
            .into_iter()
            .filter_map(|s| s.into_inner().unwrap())
            .collect();
        assert!(tokens.iter().all(CancellationToken::is_cancelled));
        let n = tokens.len();
        drop(tokens);
        n
    });
    // What the workers still held at the end is freed above; the slots'
    // own vector was allocated before measuring and is freed there too.
    let slot_vec = (SLOTS * std::mem::size_of::<Mutex<Option<CancellationToken>>>()) as isize;
    let initial_children = SLOTS as isize * node_size();
    assert!(tokens <= SLOTS);
    assert_eq!(
        net + after,
        -(slot_vec + initial_children),
        "every node made during the churn is freed, and the initial ones too"
    );
}

/// The bytes of one child token's node.
fn node_size() -> isize {
    let root = CancellationToken::new();
    let (child, _, bytes) = measure(|| root.child_token());
    drop(child);
    bytes
}
