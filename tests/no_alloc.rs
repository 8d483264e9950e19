//! Proves with a counting global allocator that the semaphore's, the
//! event's and the task tracker's hot paths allocate nothing: the
//! uncontended acquire/release, tracking and untracking, and a contended
//! wait (queued, woken by a release or a drain, completed), whose wait-list
//! node lives inside the future.
//!
//! Its own test binary, because it installs a `#[global_allocator]`. The
//! futures are polled by hand, so no executor allocates in between; the
//! waker is built before counting starts (cloning it only bumps a count).
//! Counts are per thread, so the test harness's own threads do not interfere.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use sluicegate::{Event, Semaphore, TaskTracker};

struct CountingAlloc;

thread_local! {
    // Const-initialised and without a destructor, so touching it from the
    // allocator never allocates itself.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with` fails only during thread teardown; nothing is measured then.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; counting touches only a
// thread-local `Cell`.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// How many allocations this thread made while running `f`.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// Fewer under miri, which interprets every allocation-free round slowly.
const ROUNDS: usize = if cfg!(miri) { 20 } else { 1000 };

#[test]
fn the_allocation_counter_sees_allocations() {
    // Guards against a counter that silently counts nothing.
    let n = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(n, 1);
}

#[test]
fn uncontended_acquire_and_release_allocate_nothing() {
    let sem = Semaphore::new(2);
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            drop(sem.try_acquire().unwrap());
            drop(sem.try_acquire_many(2).unwrap());
            let mut fut = pin!(sem.acquire());
            let Poll::Ready(Ok(permit)) = fut.as_mut().poll(&mut cx) else {
                panic!("uncontended acquire was not ready at once");
            };
            drop(permit);
        }
    });
    assert_eq!(n, 0, "allocations on the uncontended path");
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn uncontended_owned_acquire_and_release_allocate_nothing() {
    let sem = Arc::new(Semaphore::new(1));
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            drop(sem.clone().try_acquire_owned().unwrap());
            let mut fut = pin!(sem.clone().acquire_owned());
            let Poll::Ready(Ok(permit)) = fut.as_mut().poll(&mut cx) else {
                panic!("uncontended acquire was not ready at once");
            };
            drop(permit);
        }
    });
    assert_eq!(n, 0, "allocations on the uncontended owned path");
}

#[test]
fn contended_wait_allocates_nothing_per_wait() {
    let sem = Semaphore::new(1);
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            let holder = sem.try_acquire().unwrap();
            // Two queued waiters, one asking for more than is there.
            let mut first = pin!(sem.acquire());
            let mut second = pin!(sem.acquire_many(2));
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert!(second.as_mut().poll(&mut cx).is_pending());
            // Released permit handed to the queued waiter, which is woken.
            drop(holder);
            let Poll::Ready(Ok(permit)) = first.as_mut().poll(&mut cx) else {
                panic!("woken waiter was not ready");
            };
            // Partly served, then cancelled: its permit goes back.
            drop(permit);
            assert!(second.as_mut().poll(&mut cx).is_pending());
        }
    });
    assert_eq!(n, 0, "allocations per contended wait");
    // Only `first` is woken each round; `second` is never fully served.
    assert_eq!(counter.0.load(Ordering::SeqCst), ROUNDS);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn event_wait_and_set_allocate_nothing_per_wait() {
    let ev = Event::new();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            let mut a = pin!(ev.wait());
            let mut b = pin!(ev.wait());
            assert!(a.as_mut().poll(&mut cx).is_pending());
            assert!(b.as_mut().poll(&mut cx).is_pending());
            ev.set();
            assert!(a.as_mut().poll(&mut cx).is_ready());
            assert!(b.as_mut().poll(&mut cx).is_ready());
            assert!(pin!(ev.wait()).poll(&mut cx).is_ready());
            ev.clear();
        }
    });
    assert_eq!(n, 0, "allocations per event wait");
    assert_eq!(counter.0.load(Ordering::SeqCst), 2 * ROUNDS);
}

#[test]
fn task_tracker_tracking_and_waiting_allocate_nothing() {
    let tracker = TaskTracker::new();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let n = allocations_in(|| {
        for _ in 0..ROUNDS {
            tracker.reopen();
            let token = tracker.token();
            // `Ready` is `Unpin`, so the tracked future is too, and the
            // `drop(job)` below drops the future itself, not a pin of it.
            let mut job = tracker.track_future(std::future::ready(1));
            assert_eq!(Pin::new(&mut job).poll(&mut cx), Poll::Ready(1));
            // Two queued waiters, released by the last task's drop.
            let mut a = pin!(tracker.wait());
            let mut b = pin!(tracker.wait());
            assert!(a.as_mut().poll(&mut cx).is_pending());
            assert!(b.as_mut().poll(&mut cx).is_pending());
            tracker.close();
            drop(token);
            assert!(
                b.as_mut().poll(&mut cx).is_pending(),
                "the job is still tracked"
            );
            drop(job);
            assert!(a.as_mut().poll(&mut cx).is_ready());
            assert!(b.as_mut().poll(&mut cx).is_ready());
            assert!(pin!(tracker.wait()).poll(&mut cx).is_ready());
        }
    });
    assert_eq!(n, 0, "allocations per tracked task or wait");
    assert_eq!(counter.0.load(Ordering::SeqCst), 2 * ROUNDS);
}
