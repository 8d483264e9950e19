//! `Pool` under real executors (every one of the rig, via `common::run`):
//! tasks sharing a small pool never hold one object at once, gets cancelled
//! at random awaits leave exact counts, and a close under load drains.
//! Nothing here depends on scheduling order or timing.
mod common;

use std::future::{ready, Ready};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use futures::future::{select, Either};
use futures_lite::future::yield_now;
use sluicegate::pool::{Manager, Pool, PoolError};

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// An object that knows whether a holder has it.
struct Conn {
    held: AtomicBool,
    live: Arc<AtomicUsize>,
}

impl Conn {
    /// Marks it held; panics if it already was (handed to two holders).
    fn take(&self) {
        assert!(!self.held.swap(true, SeqCst), "one object, two holders");
    }

    fn release(&self) {
        self.held.store(false, SeqCst);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.live.fetch_sub(1, SeqCst);
    }
}

struct Connector {
    live: Arc<AtomicUsize>,
}

impl Manager<Conn> for Connector {
    type Error = ();
    type Create<'a> = Ready<Result<Conn, ()>>;
    type Recycle<'a> = Ready<Result<Conn, ()>>;

    fn create(&self) -> Self::Create<'_> {
        self.live.fetch_add(1, SeqCst);
        ready(Ok(Conn {
            held: AtomicBool::new(false),
            live: self.live.clone(),
        }))
    }

    fn recycle(&self, conn: Conn) -> Self::Recycle<'_> {
        assert!(!conn.held.load(SeqCst), "recycling an object someone holds");
        ready(Ok(conn))
    }
}

fn pool(max: usize) -> (Arc<AtomicUsize>, Arc<Pool<Conn, Connector>>) {
    let live = Arc::new(AtomicUsize::new(0));
    let pool = Pool::new(Connector { live: live.clone() }, max);
    (live, Arc::new(pool))
}

#[test]
fn tasks_sharing_a_small_pool_never_hold_one_object_at_once() {
    const TASKS: usize = 32;
    const ROUNDS: usize = 40;
    common::run(|ex| async move {
        let (live, pool) = pool(4);
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let pool = pool.clone();
                ex.spawn(async move {
                    for r in 0..ROUNDS {
                        let conn = pool.get().await.unwrap();
                        conn.take();
                        yields((t + r) % 3).await;
                        conn.release();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let s = pool.status();
        let name = ex.name();
        assert!(s.created <= 4, "{name}: {s:?}");
        assert_eq!(
            (s.size, s.in_use, s.waiting, s.creating),
            (s.created as usize, 0, 0, 0),
            "{name}"
        );
        assert_eq!(s.created + s.reused, (TASKS * ROUNDS) as u64, "{name}");
        assert_eq!(live.load(SeqCst), s.size, "{name}");
    });
}

#[test]
fn gets_cancelled_at_random_awaits_leave_exact_counts() {
    const TASKS: usize = 24;
    const ROUNDS: usize = 40;
    common::run(|ex| async move {
        let (live, pool) = pool(3);
        let served = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (pool, served) = (pool.clone(), served.clone());
                ex.spawn(async move {
                    for r in 0..ROUNDS {
                        // Gives up after a few yields: dropped while queued,
                        // or after being handed an object but before its
                        // next poll.
                        let get = pin!(pool.get());
                        match select(get, pin!(yields((t * 7 + r) % 4))).await {
                            Either::Left((conn, _)) => {
                                let conn = conn.unwrap();
                                conn.take();
                                yield_now().await;
                                conn.release();
                                served.fetch_add(1, SeqCst);
                            }
                            Either::Right(((), _)) => {}
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let s = pool.status();
        let name = ex.name();
        assert!(s.size <= 3, "{name}: {s:?}");
        assert_eq!(
            (s.in_use, s.waiting, s.creating, s.idle),
            (0, 0, 0, s.size),
            "{name}"
        );
        assert_eq!(s.created + s.reused, served.load(SeqCst) as u64, "{name}");
        assert_eq!(live.load(SeqCst), s.size, "{name}");
        // Every slot is usable: nothing leaked a permit.
        let all: Vec<_> = futures::future::join_all((0..3).map(|_| pool.get())).await;
        assert!(all.iter().all(Result::is_ok), "{name}");
    });
}

#[test]
fn close_under_load_fails_the_waiters_and_the_drain_ends_with_nothing_left() {
    const TASKS: usize = 32;
    common::run(|ex| async move {
        let (live, pool) = pool(4);
        let closed = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (pool, closed) = (pool.clone(), closed.clone());
                ex.spawn(async move {
                    loop {
                        match pool.get().await {
                            Ok(conn) => {
                                conn.take();
                                // At least one yield: a loop whose `get` is
                                // always ready would never let the closer run.
                                yields(1 + t % 3).await;
                                conn.release();
                            }
                            Err(PoolError::Closed) => {
                                closed.fetch_add(1, SeqCst);
                                return;
                            }
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                })
            })
            .collect();
        yields(20).await;
        assert!(pool.close());
        pool.drain().await;
        for t in tasks {
            t.await;
        }
        let s = pool.status();
        assert_eq!(closed.load(SeqCst), TASKS, "{}", ex.name());
        assert_eq!(
            (s.size, s.idle, s.in_use, s.waiting),
            (0, 0, 0, 0),
            "{}",
            ex.name()
        );
        assert_eq!(live.load(SeqCst), 0, "{}", ex.name());
    });
}

#[test]
fn resizing_while_tasks_run_settles_at_the_new_size() {
    const TASKS: usize = 16;
    common::run(|ex| async move {
        let (live, pool) = pool(8);
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let pool = pool.clone();
                ex.spawn(async move {
                    for r in 0..30 {
                        let conn = pool.get().await.unwrap();
                        conn.take();
                        yields((t + r) % 2).await;
                        conn.release();
                    }
                })
            })
            .collect();
        yields(5).await;
        pool.resize(2);
        yields(5).await;
        pool.resize(3);
        for t in tasks {
            t.await;
        }
        let s = pool.status();
        assert!(s.size <= 3, "{}: {s:?}", ex.name());
        assert_eq!((s.in_use, s.waiting), (0, 0), "{}", ex.name());
        assert_eq!(live.load(SeqCst), s.size, "{}", ex.name());
        let all: Vec<_> = futures::future::join_all((0..3).map(|_| pool.get())).await;
        assert!(
            all.iter().all(Result::is_ok),
            "{}: a slot leaked",
            ex.name()
        );
    });
}
