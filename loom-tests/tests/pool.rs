//! loom models of `Pool`: a return racing a `get`, a `get` cancelled as it
//! is handed an object, `close()` racing a waiter and a return, and
//! `resize` racing returns (shrinking and growing). Each checks that no
//! wake-up is lost, no object goes to two holders, and the counts are
//! exact once the threads are joined.
use std::future::{ready, Ready};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;

use sluicegate::pool::{Manager, Pool, PoolError, PoolGuard, TryGetError};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// Numbers its objects in order of creation.
struct Numbered(AtomicUsize);

impl Manager<usize> for Numbered {
    type Error = ();
    type Create<'a> = Ready<Result<usize, ()>>;
    type Recycle<'a> = Ready<Result<usize, ()>>;

    fn create(&self) -> Self::Create<'_> {
        ready(Ok(self.0.fetch_add(1, SeqCst)))
    }

    fn recycle(&self, n: usize) -> Self::Recycle<'_> {
        ready(Ok(n))
    }
}

fn managed(max: usize) -> Arc<Pool<usize, Numbered>> {
    Arc::new(Pool::new(Numbered(AtomicUsize::new(0)), max))
}

/// A `get` that owns its handle on the pool, so another thread can take
/// it; it yields the object's number (the guard goes back at its end).
fn owned_get(
    pool: &Arc<Pool<usize>>,
) -> Polled<impl std::future::Future<Output = Result<usize, PoolError<std::convert::Infallible>>>> {
    let pool = pool.clone();
    Polled::new(async move { pool.get().await.map(|g| *g) })
}

#[test]
fn a_return_racing_a_get_always_reaches_it() {
    model(|| {
        let pool: Arc<Pool<usize>> = Arc::new(Pool::unmanaged(1));
        pool.add(7).unwrap();
        let held = pool.try_get().unwrap();
        let p = pool.clone();
        // Hangs (loom reports a deadlock) if the hand-off is lost.
        let getter = thread::spawn(move || block_on(async { *p.get().await.unwrap() }));
        drop(held);
        assert_eq!(getter.join().unwrap(), 7);
        let s = pool.status();
        assert_eq!((s.size, s.idle, s.in_use, s.waiting), (1, 1, 0, 0));
    });
}

#[test]
fn a_get_cancelled_as_it_is_handed_an_object_passes_it_to_the_next() {
    model(|| {
        let pool: Arc<Pool<usize>> = Arc::new(Pool::unmanaged(1));
        pool.add(7).unwrap();
        let held = pool.try_get().unwrap();
        let mut first = owned_get(&pool);
        let mut second = owned_get(&pool);
        assert!(first.poll().is_pending());
        assert!(second.poll().is_pending());
        let canceller = thread::spawn(move || drop(first));
        drop(held);
        canceller.join().unwrap();
        assert_eq!(second.wakes(), 1);
        assert_eq!(second.poll(), Poll::Ready(Ok(7)));
        let s = pool.status();
        assert_eq!((s.size, s.idle, s.waiting), (1, 1, 0));
    });
}

#[test]
fn close_racing_a_waiter_and_a_return_fails_the_waiter_and_drops_everything() {
    model(|| {
        let pool: Arc<Pool<usize>> = Arc::new(Pool::unmanaged(1));
        pool.add(7).unwrap();
        let held = pool.try_get().unwrap();
        let mut waiter = owned_get(&pool);
        assert!(waiter.poll().is_pending());
        let p = pool.clone();
        let closer = thread::spawn(move || assert!(p.close()));
        drop(held);
        closer.join().unwrap();
        // Closed before or after the hand-off: either way it fails.
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(Err(PoolError::Closed)));
        let s = pool.status();
        assert_eq!((s.size, s.idle, s.waiting), (0, 0, 0));
        block_on(pool.drain());
    });
}

#[test]
fn shrinking_racing_a_return_settles_at_the_new_size() {
    model(|| {
        let pool = managed(2);
        let a = pool.try_get();
        assert_eq!(a.unwrap_err(), TryGetError::Empty, "nothing made yet");
        let a = block_on(pool.get()).unwrap();
        let b = block_on(pool.get()).unwrap();
        let p = pool.clone();
        let resizer = thread::spawn(move || p.resize(1));
        drop(a);
        resizer.join().unwrap();
        drop(b);
        let s = pool.status();
        assert_eq!((s.size, s.idle, s.in_use, s.max_size), (1, 1, 0, 1));
        // Exactly one slot: a second get waits.
        let one = block_on(pool.get()).unwrap();
        let p = pool.clone();
        let mut two = Polled::new(async move { p.get().await.map(|g| *g) });
        assert!(two.poll().is_pending());
        drop(one);
        assert!(matches!(two.poll(), Poll::Ready(Ok(_))));
    });
}

#[test]
fn growing_racing_a_return_serves_both_waiters() {
    model(|| {
        let pool = managed(1);
        let held = block_on(pool.get()).unwrap();
        // Each keeps its object (detached), so the two cannot share one.
        let p = pool.clone();
        let mut first = Polled::new(async move { p.get().await.map(PoolGuard::detach) });
        let p = pool.clone();
        let mut second = Polled::new(async move { p.get().await.map(PoolGuard::detach) });
        assert!(first.poll().is_pending());
        assert!(second.poll().is_pending());
        let p = pool.clone();
        let resizer = thread::spawn(move || p.resize(2));
        drop(held);
        resizer.join().unwrap();
        assert_eq!((first.wakes(), second.wakes()), (1, 1));
        let (x, y) = match (first.poll(), second.poll()) {
            (Poll::Ready(Ok(x)), Poll::Ready(Ok(y))) => (x, y),
            other => panic!("{other:?}"),
        };
        assert_ne!(x, y, "two holders, two objects");
        let s = pool.status();
        assert_eq!((s.size, s.created, s.detached, s.waiting), (0, 2, 2, 0));
    });
}
