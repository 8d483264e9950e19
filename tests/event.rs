//! `Event` under real executors (every one of the rig, via `common::run`):
//! the start signal with many spawned waiters, set/clear racing waiters, and
//! waiters cancelled mid-wait. Nothing here depends on scheduling order or
//! timing.
mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;

use futures::future::{select, Either};
use futures_lite::future::yield_now;
use sluicegate::Event;

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn start_signal_releases_every_spawned_waiter() {
    const WAITERS: usize = 64;
    common::run(|ex| async move {
        let start = Arc::new(Event::new());
        let data = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (start, data, started) = (start.clone(), data.clone(), started.clone());
                ex.spawn(async move {
                    start.wait().await;
                    // `set()` publishes what was written before it.
                    assert_eq!(data.load(Relaxed), 42);
                    started.fetch_add(1, SeqCst);
                })
            })
            .collect();
        yields(3).await;
        assert_eq!(
            started.load(SeqCst),
            0,
            "{}: ran before the signal",
            ex.name()
        );
        data.store(42, Relaxed);
        start.set();
        for join in joins {
            join.await;
        }
        assert_eq!(started.load(SeqCst), WAITERS, "{}", ex.name());
        assert!(start.is_set());
    });
}

#[test]
fn set_and_clear_racing_waiters_never_hang() {
    const WAITERS: usize = 16;
    const WAITS: usize = 30;
    const TOGGLES: usize = 200;
    common::run(|ex| async move {
        let ev = Arc::new(Event::new());
        let passed = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (ev, passed) = (ev.clone(), passed.clone());
                ex.spawn(async move {
                    for w in 0..WAITS {
                        ev.wait().await;
                        passed.fetch_add(1, SeqCst);
                        yields((i + w) % 3).await;
                    }
                })
            })
            .collect();
        let toggler = {
            let ev = ev.clone();
            ex.spawn(async move {
                for t in 0..TOGGLES {
                    ev.set();
                    yields(t % 2).await;
                    ev.clear();
                    yield_now().await;
                }
                // Left set, so every waiter still waiting gets through.
                ev.set();
            })
        };
        toggler.await;
        for join in joins {
            join.await;
        }
        assert_eq!(passed.load(SeqCst), WAITERS * WAITS, "{}", ex.name());
    });
}

#[test]
fn waiters_cancelled_mid_wait_leave_nothing_behind() {
    const WAITERS: usize = 32;
    common::run(|ex| async move {
        let ev = Arc::new(Event::new());
        let (woken, gave_up) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (ev, woken, gave_up) = (ev.clone(), woken.clone(), gave_up.clone());
                ex.spawn(async move {
                    // Even waiters give up after a few yields.
                    let patience = if i % 2 == 0 { 1 + i % 4 } else { usize::MAX };
                    match select(pin!(ev.wait()), pin!(yields(patience))).await {
                        Either::Left(((), _)) => woken.fetch_add(1, SeqCst),
                        Either::Right(((), _)) => gave_up.fetch_add(1, SeqCst),
                    };
                })
            })
            .collect();
        yields(8).await;
        ev.set();
        for join in joins {
            join.await;
        }
        let name = ex.name();
        assert_eq!(woken.load(SeqCst) + gave_up.load(SeqCst), WAITERS, "{name}");
        assert!(woken.load(SeqCst) >= WAITERS / 2, "{name}");
        // The list is intact: a new round of waiters is released as usual.
        ev.clear();
        let again: Vec<_> = (0..8)
            .map(|_| {
                let ev = ev.clone();
                ex.spawn(async move { ev.wait().await })
            })
            .collect();
        yield_now().await;
        ev.set();
        for join in again {
            join.await;
        }
    });
}

#[test]
fn many_setters_and_waiters_in_parallel_all_finish() {
    const WAITERS: usize = 16;
    const SETTERS: usize = 4;
    common::run(|ex| async move {
        let ev = Arc::new(Event::new());
        let passed = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let (ev, passed) = (ev.clone(), passed.clone());
                ex.spawn(async move {
                    ev.wait().await;
                    passed.fetch_add(1, SeqCst);
                })
            })
            .collect();
        let setters: Vec<_> = (0..SETTERS)
            .map(|_| {
                let ev = ev.clone();
                ex.spawn(async move { ev.set() })
            })
            .collect();
        for join in setters {
            join.await;
        }
        for join in waiters {
            join.await;
        }
        assert_eq!(passed.load(SeqCst), WAITERS, "{}", ex.name());
    });
}
