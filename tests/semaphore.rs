//! `Semaphore` under real executors (every one of the rig, via
//! `common::run`): many tasks contending, cancellation mid-wait, close, and
//! stress with exact accounting. On the multi-threaded executors the tasks
//! run in parallel. Nothing here depends on scheduling order or timing.
mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use futures::future::{select, Either};
use futures_lite::future::yield_now;
use sluicegate::Semaphore;

/// Yields to the executor `n` times: an executor-independent "timeout"
/// that lets other tasks run and makes a racing acquire lose sometimes.
async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// Tracks how many permits are held at once and the highest count seen.
#[derive(Default)]
struct Gauge {
    held: AtomicUsize,
    max: AtomicUsize,
}

impl Gauge {
    fn enter(&self, n: usize) {
        let now = self.held.fetch_add(n, SeqCst) + n;
        self.max.fetch_max(now, SeqCst);
    }

    fn leave(&self, n: usize) {
        self.held.fetch_sub(n, SeqCst);
    }

    fn max(&self) -> usize {
        self.max.load(SeqCst)
    }
}

/// Spawns `tasks` copies of `body(i)` and waits for all of them.
async fn spawn_all<F, Fut>(ex: &common::Exec, tasks: usize, body: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let joins: Vec<_> = (0..tasks).map(|i| ex.spawn(body(i))).collect();
    for join in joins {
        join.await;
    }
}

#[test]
fn concurrency_limit_is_never_exceeded() {
    const LIMIT: usize = 3;
    const TASKS: usize = 32;
    const ROUNDS: usize = 50;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(LIMIT));
        let gauge = Arc::new(Gauge::default());
        let done = Arc::new(AtomicUsize::new(0));
        spawn_all(&ex, TASKS, |_| {
            let (sem, gauge, done) = (sem.clone(), gauge.clone(), done.clone());
            async move {
                for _ in 0..ROUNDS {
                    let permit = sem.acquire().await.unwrap();
                    gauge.enter(1);
                    yield_now().await;
                    gauge.leave(1);
                    drop(permit);
                    done.fetch_add(1, SeqCst);
                }
            }
        })
        .await;
        let name = ex.name();
        assert!(gauge.max() <= LIMIT, "{name}: {} holders", gauge.max());
        assert!(gauge.max() >= 1, "{name}");
        assert_eq!(done.load(SeqCst), TASKS * ROUNDS, "{name}");
        assert_eq!(sem.available_permits(), LIMIT, "{name}");
    });
}

#[test]
fn multi_permit_requests_never_exceed_the_limit_and_lose_nothing() {
    const PERMITS: usize = 8;
    const TASKS: usize = 24;
    const ROUNDS: usize = 40;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let gauge = Arc::new(Gauge::default());
        let done = Arc::new(AtomicUsize::new(0));
        spawn_all(&ex, TASKS, |i| {
            let (sem, gauge, done) = (sem.clone(), gauge.clone(), done.clone());
            async move {
                for r in 0..ROUNDS {
                    // Mostly small requests, with now and then all permits
                    // at once: the big ones must not starve.
                    let n = if (i + r) % 11 == 0 {
                        PERMITS
                    } else {
                        1 + (i + r) % 3
                    };
                    let permit = sem.acquire_many(n).await.unwrap();
                    assert_eq!(permit.num_permits(), n);
                    gauge.enter(n);
                    yield_now().await;
                    gauge.leave(n);
                    drop(permit);
                    done.fetch_add(1, SeqCst);
                }
            }
        })
        .await;
        let name = ex.name();
        assert!(gauge.max() <= PERMITS, "{name}: {} held", gauge.max());
        assert_eq!(done.load(SeqCst), TASKS * ROUNDS, "{name}");
        assert_eq!(sem.available_permits(), PERMITS, "{name}");
    });
}

#[test]
fn acquires_cancelled_mid_wait_lose_no_permits() {
    const PERMITS: usize = 4;
    const TASKS: usize = 32;
    const ROUNDS: usize = 40;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let gauge = Arc::new(Gauge::default());
        let (won, lost) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        spawn_all(&ex, TASKS, |i| {
            let (sem, gauge) = (sem.clone(), gauge.clone());
            let (won, lost) = (won.clone(), lost.clone());
            async move {
                for r in 0..ROUNDS {
                    let n = 1 + (i + r) % 3;
                    // Race the acquire against a few yields; the loser is
                    // dropped, queued or already (partly) served.
                    let acquire = pin!(sem.acquire_many(n));
                    let give_up = pin!(yields((i * 7 + r) % 4));
                    match select(acquire, give_up).await {
                        Either::Left((permit, _)) => {
                            let permit = permit.unwrap();
                            gauge.enter(n);
                            yield_now().await;
                            gauge.leave(n);
                            drop(permit);
                            won.fetch_add(1, SeqCst);
                        }
                        Either::Right(((), _acquire)) => {
                            lost.fetch_add(1, SeqCst);
                        }
                    }
                }
            }
        })
        .await;
        let name = ex.name();
        assert!(gauge.max() <= PERMITS, "{name}: {} held", gauge.max());
        assert_eq!(
            won.load(SeqCst) + lost.load(SeqCst),
            TASKS * ROUNDS,
            "{name}"
        );
        assert_eq!(sem.available_permits(), PERMITS, "{name}: permits lost");
        // Every permit can still be taken at once: none is stuck in a
        // cancelled waiter.
        assert!(sem.try_acquire_many(PERMITS).is_ok(), "{name}");
    });
}

#[test]
fn dropping_waiting_tasks_passes_the_permits_on() {
    const WAITERS: usize = 16;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(0));
        // Half the waiters give up after a while; the rest must still get
        // every permit handed out.
        let done = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (sem, done) = (sem.clone(), done.clone());
                ex.spawn(async move {
                    let acquire = pin!(sem.acquire_many(2));
                    if i % 2 == 0 {
                        let give_up = pin!(yields(3));
                        if let Either::Left((permit, _)) = select(acquire, give_up).await {
                            permit.unwrap().forget();
                            done.fetch_add(2, SeqCst);
                        }
                    } else {
                        acquire.await.unwrap().forget();
                        done.fetch_add(2, SeqCst);
                    }
                })
            })
            .collect();
        // Enough for every waiter, quitters included (each wants two); feed
        // them in small steps so some arrive while waiters give up.
        for _ in 0..2 * WAITERS {
            sem.add_permits(1);
            yield_now().await;
        }
        for join in joins {
            join.await;
        }
        // What the quitters did not take is still there.
        assert_eq!(
            done.load(SeqCst) + sem.available_permits(),
            2 * WAITERS,
            "{}",
            ex.name()
        );
    });
}

#[test]
fn close_fails_every_waiting_task() {
    const WAITERS: usize = 16;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                let sem = sem.clone();
                ex.spawn(async move { sem.acquire_many(1 + i % 2).await.map(|p| p.forget()) })
            })
            .collect();
        yields(5).await;
        sem.close();
        for join in joins {
            assert!(join.await.is_err(), "{}", ex.name());
        }
        drop(held);
        assert_eq!(sem.available_permits(), 1, "{}", ex.name());
        assert!(sem.acquire().await.is_err());
    });
}

#[test]
fn close_racing_acquires_loses_no_permits() {
    const PERMITS: usize = 3;
    const TASKS: usize = 16;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let joins: Vec<_> = (0..TASKS)
            .map(|i| {
                let (sem, ok, failed) = (sem.clone(), ok.clone(), failed.clone());
                ex.spawn(async move {
                    loop {
                        match sem.acquire_many(1 + i % PERMITS).await {
                            Ok(permit) => {
                                ok.fetch_add(1, SeqCst);
                                yield_now().await;
                                drop(permit);
                            }
                            Err(_) => {
                                failed.fetch_add(1, SeqCst);
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        yields(20).await;
        sem.close();
        for join in joins {
            join.await;
        }
        assert_eq!(failed.load(SeqCst), TASKS, "{}", ex.name());
        assert_eq!(sem.available_permits(), PERMITS, "{}", ex.name());
    });
}

#[test]
fn owned_permits_bound_spawned_work() {
    const LIMIT: usize = 4;
    const JOBS: usize = 64;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(LIMIT));
        let gauge = Arc::new(Gauge::default());
        let mut joins = Vec::new();
        for _ in 0..JOBS {
            // asyncio's `async with sem:` around a spawned job: take the
            // permit first, then move it into the task.
            let permit = sem.clone().acquire_owned().await.unwrap();
            let gauge = gauge.clone();
            joins.push(ex.spawn(async move {
                gauge.enter(1);
                yields(2).await;
                gauge.leave(1);
                drop(permit);
            }));
        }
        for join in joins {
            join.await;
        }
        assert!(gauge.max() <= LIMIT, "{}", ex.name());
        assert_eq!(sem.available_permits(), LIMIT, "{}", ex.name());
        assert_eq!(Arc::strong_count(&sem), 1, "{}", ex.name());
    });
}

#[test]
fn stress_mixed_operations_keep_exact_accounting() {
    const PERMITS: usize = 6;
    const TASKS: usize = 32;
    const ROUNDS: usize = 100;
    common::run(|ex| async move {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let gauge = Arc::new(Gauge::default());
        let ops = Arc::new(AtomicUsize::new(0));
        spawn_all(&ex, TASKS, |i| {
            let (sem, gauge, ops) = (sem.clone(), gauge.clone(), ops.clone());
            async move {
                for r in 0..ROUNDS {
                    let n = 1 + (i * 3 + r) % 3;
                    match (i + r) % 5 {
                        // Plain acquire.
                        0 | 1 => {
                            let p = sem.acquire_many(n).await.unwrap();
                            gauge.enter(n);
                            yield_now().await;
                            gauge.leave(n);
                            drop(p);
                        }
                        // try_acquire; may fail while others queue.
                        2 => {
                            if let Ok(p) = sem.try_acquire_many(n) {
                                gauge.enter(n);
                                gauge.leave(n);
                                drop(p);
                            }
                        }
                        // Owned acquire, split into single permits that
                        // go back one by one.
                        3 => {
                            let mut p = sem.clone().acquire_many_owned(n).await.unwrap();
                            gauge.enter(n);
                            while p.num_permits() > 1 {
                                let one = p.split(1).unwrap();
                                gauge.leave(1);
                                drop(one);
                                yield_now().await;
                            }
                            gauge.leave(1);
                            drop(p);
                        }
                        // Acquire raced against yields (cancellation);
                        // then forget a permit and add it back.
                        _ => {
                            let acquire = pin!(sem.acquire_many(n));
                            if let Either::Left((p, _)) = select(acquire, pin!(yields(r % 3))).await
                            {
                                let mut p = p.unwrap();
                                gauge.enter(n);
                                let one = p.split(1).unwrap();
                                gauge.leave(n);
                                one.forget();
                                drop(p);
                                sem.add_permits(1);
                            }
                        }
                    }
                    ops.fetch_add(1, SeqCst);
                }
            }
        })
        .await;
        let name = ex.name();
        assert!(gauge.max() <= PERMITS, "{name}: {} held", gauge.max());
        assert_eq!(ops.load(SeqCst), TASKS * ROUNDS, "{name}");
        assert_eq!(sem.available_permits(), PERMITS, "{name}");
        assert!(sem.try_acquire_many(PERMITS).is_ok(), "{name}");
    });
}
