//! `TaskTracker` under real executors (every one of the rig, via
//! `common::run`): a graceful drain of spawned tracked tasks, drains that
//! race the last tasks and new waiters round after round, and waiters
//! cancelled mid-wait. Nothing here depends on scheduling order or timing.
mod common;

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;

use futures::future::{select, Either};
use futures_lite::future::yield_now;
use sluicegate::{Event, TaskTracker};

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn graceful_drain_waits_for_every_spawned_tracked_task() {
    const TASKS: usize = 64;
    common::run(|ex| async move {
        let tracker = Arc::new(TaskTracker::new());
        let go = Arc::new(Event::new());
        let done = Arc::new(AtomicUsize::new(0));
        for i in 0..TASKS {
            let (go, done) = (go.clone(), done.clone());
            // Detached: only the tracker says when they are finished.
            drop(ex.spawn(tracker.clone().track_future_owned(async move {
                go.wait().await;
                yields(i % 5).await;
                // Published by the untrack, seen after `wait()`.
                done.fetch_add(1, Relaxed);
            })));
        }
        assert_eq!(tracker.len(), TASKS, "{}", ex.name());
        // Stop accepting work, then drain.
        tracker.close();
        let waiter = {
            let tracker = tracker.clone();
            ex.spawn(async move { tracker.wait().await })
        };
        yields(3).await;
        assert_eq!(done.load(SeqCst), 0, "{}: ran before the signal", ex.name());
        go.set();
        tracker.wait().await;
        assert_eq!(done.load(Relaxed), TASKS, "{}", ex.name());
        assert!(tracker.is_empty());
        waiter.await;
    });
}

#[test]
fn a_static_tracker_tracks_borrowed_futures_and_tokens() {
    static TRACKER: TaskTracker = TaskTracker::new();
    const TASKS: usize = 16;
    common::run(|ex| async move {
        // The rig runs one executor after another: start each run open.
        TRACKER.reopen();
        let done = Arc::new(AtomicUsize::new(0));
        for i in 0..TASKS {
            let done = done.clone();
            if i % 2 == 0 {
                drop(ex.spawn(TRACKER.track_future(async move {
                    yields(i % 3).await;
                    done.fetch_add(1, Relaxed);
                })));
            } else {
                let token = TRACKER.token();
                drop(ex.spawn(async move {
                    yields(i % 3).await;
                    done.fetch_add(1, Relaxed);
                    drop(token);
                }));
            }
        }
        TRACKER.close();
        TRACKER.wait().await;
        assert_eq!(done.load(Relaxed), TASKS, "{}", ex.name());
    });
}

#[test]
fn drains_racing_the_last_tasks_and_new_waiters_never_hang() {
    const ROUNDS: usize = 40;
    const TASKS: usize = 6;
    const WAITERS: usize = 4;
    common::run(|ex| async move {
        let tracker = Arc::new(TaskTracker::new());
        for round in 0..ROUNDS {
            tracker.reopen();
            let done = Arc::new(AtomicUsize::new(0));
            for i in 0..TASKS {
                let done = done.clone();
                drop(ex.spawn(tracker.clone().track_future_owned(async move {
                    yields((i + round) % 4).await;
                    done.fetch_add(1, Relaxed);
                })));
            }
            let waiters: Vec<_> = (0..WAITERS)
                .map(|w| {
                    let (tracker, done) = (tracker.clone(), done.clone());
                    ex.spawn(async move {
                        yields((w + round) % 3).await;
                        tracker.wait().await;
                        // Every waiter of this round ran after the drain.
                        assert_eq!(done.load(Relaxed), TASKS);
                    })
                })
                .collect();
            yields(round % 3).await;
            tracker.close();
            for w in waiters {
                w.await;
            }
            assert!(tracker.is_empty(), "{}: round {round}", ex.name());
        }
    });
}

#[test]
fn waiters_cancelled_mid_wait_do_not_hold_up_the_others() {
    const WAITERS: usize = 24;
    common::run(|ex| async move {
        let tracker = Arc::new(TaskTracker::new());
        let token = tracker.clone().token_owned();
        let completed = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (tracker, completed) = (tracker.clone(), completed.clone());
                ex.spawn(async move {
                    let wait = pin!(tracker.wait());
                    if i % 2 == 0 {
                        // Gives up after a few yields: dropped while queued
                        // (or, racing the drain, after being released).
                        match select(wait, pin!(yields(i % 7 + 1))).await {
                            Either::Left(_) => {
                                completed.fetch_add(1, SeqCst);
                            }
                            Either::Right(_) => {}
                        }
                    } else {
                        wait.await;
                        completed.fetch_add(1, SeqCst);
                    }
                })
            })
            .collect();
        yields(2).await;
        tracker.close();
        drop(token);
        for join in joins {
            join.await;
        }
        // Every patient waiter completed; the impatient ones did if the
        // drain came first.
        assert!(completed.load(SeqCst) >= WAITERS / 2, "{}", ex.name());
        tracker.wait().await;
    });
}
