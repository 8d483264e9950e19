//! `cancel` under real executors (every one of the rig, via `common::run`):
//! a shutdown fanning out to spawned waiters in a tree, workers stopped by
//! `run_until_cancelled`, children created and dropped while a cancellation
//! runs, and racing causes. Nothing here depends on scheduling order or
//! timing: every assertion holds for any interleaving.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use futures_lite::future::yield_now;
use sluicegate::cancel::RootToken;
use sluicegate::CancellationToken;

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn a_cancel_from_a_spawned_task_wakes_every_spawned_waiter_in_the_subtree() {
    const WAITERS: usize = 32;
    common::run(|ex| async move {
        let root = CancellationToken::<&'static str>::with_cause_type();
        let woken = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WAITERS)
            .map(|i| {
                // Children, grandchildren and clones of the root, mixed.
                let token = match i % 3 {
                    0 => root.clone(),
                    1 => root.child_token(),
                    _ => root.child_token().child_token(),
                };
                let woken = woken.clone();
                ex.spawn(async move {
                    token.cancelled().await;
                    assert_eq!(token.cause(), Some(&"shutdown"));
                    woken.fetch_add(1, SeqCst);
                })
            })
            .collect();
        yields(3).await;
        assert_eq!(woken.load(SeqCst), 0, "{}: woken early", ex.name());
        let canceller = root.clone();
        ex.spawn(async move { assert!(canceller.cancel_with("shutdown")) })
            .await;
        for join in joins {
            join.await;
        }
        assert_eq!(woken.load(SeqCst), WAITERS, "{}", ex.name());
    });
}

#[test]
fn run_until_cancelled_stops_workers_whose_work_is_always_ready() {
    const WORKERS: usize = 8;
    common::run(|ex| async move {
        let token = CancellationToken::new();
        let rounds = Arc::new(AtomicUsize::new(0));
        let joins: Vec<_> = (0..WORKERS)
            .map(|_| {
                let token = token.child_token();
                let rounds = rounds.clone();
                ex.spawn(async move {
                    // Each round's work is ready at its first poll: only the
                    // cancellation winning the first poll ends the loop.
                    while let Some(()) = token
                        .run_until_cancelled(async {
                            yield_now().await;
                            rounds.fetch_add(1, SeqCst);
                        })
                        .await
                    {}
                    assert!(token.is_cancelled());
                })
            })
            .collect();
        while rounds.load(SeqCst) < WORKERS {
            yield_now().await;
        }
        token.cancel();
        for join in joins {
            join.await;
        }
    });
}

#[test]
fn children_created_and_dropped_while_a_cancel_runs_all_end_cancelled() {
    const TASKS: usize = 4;
    const CHILDREN: usize = 200;
    common::run(|ex| async move {
        let root = CancellationToken::<u32>::with_cause_type();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let joins: Vec<_> = (0..TASKS)
            .map(|t| {
                let parent = root.child_token();
                let kept = kept.clone();
                ex.spawn(async move {
                    let mut mine = Vec::new();
                    for i in 0..CHILDREN {
                        let child = parent.child_token();
                        let grandchild = child.child_token();
                        match i % 3 {
                            0 => mine.push(child),
                            1 => mine.push(grandchild), // its parent is dropped
                            _ => {}
                        }
                        if i % 16 == t {
                            yield_now().await;
                        }
                    }
                    kept.lock().unwrap().extend(mine);
                })
            })
            .collect();
        yields(2).await;
        root.cancel_with(1);
        for join in joins {
            join.await;
        }
        let kept = kept.lock().unwrap();
        let per_task = (0..CHILDREN).filter(|i| i % 3 != 2).count();
        assert_eq!(kept.len(), TASKS * per_task, "{}", ex.name());
        for token in kept.iter() {
            assert!(token.is_cancelled(), "{}", ex.name());
            assert_eq!(token.cause(), Some(&1), "{}", ex.name());
        }
    });
}

#[test]
fn racing_causes_from_many_tasks_record_exactly_one() {
    const TASKS: u32 = 16;
    common::run(|ex| async move {
        let token = CancellationToken::<u32>::with_cause_type();
        let child = token.child_token();
        let joins: Vec<_> = (0..TASKS)
            .map(|i| {
                let token = token.clone();
                ex.spawn(async move {
                    yield_now().await;
                    token.cancel_with(i).then_some(i)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for join in joins {
            winners.extend(join.await);
        }
        assert_eq!(winners.len(), 1, "{}: {winners:?}", ex.name());
        assert_eq!(token.cause(), Some(&winners[0]));
        assert_eq!(child.cause(), Some(&winners[0]));
    });
}

#[test]
fn middle_tokens_dropped_by_other_tasks_during_a_cancel_leave_no_leaf_behind() {
    const CHAINS: usize = 8;
    common::run(|ex| async move {
        let root = CancellationToken::new();
        let mut leaves = Vec::new();
        let mut joins = Vec::new();
        for _ in 0..CHAINS {
            let mid = root.child_token();
            let lower = mid.child_token();
            leaves.push(lower.child_token());
            joins.push(ex.spawn(async move {
                yield_now().await;
                drop(mid);
                yield_now().await;
                drop(lower);
            }));
        }
        let canceller = root.clone();
        let cancel = ex.spawn(async move {
            yield_now().await;
            canceller.cancel();
        });
        for join in joins {
            join.await;
        }
        cancel.await;
        let waits = leaves.iter().map(|leaf| leaf.cancelled());
        futures::future::join_all(waits).await;
    });
}

#[test]
fn owned_waiters_and_drop_guards_work_in_spawned_tasks() {
    common::run(|ex| async move {
        let token = CancellationToken::new();
        let waiter = ex.spawn(token.child_token().cancelled_owned());
        let guard = token.clone().drop_guard();
        let worker = ex.spawn(async move {
            let _guard = guard; // cancels however this task ends
            yield_now().await;
        });
        worker.await;
        waiter.await;
        assert!(token.is_cancelled());
    });
}

#[test]
fn a_static_root_shuts_down_tokens_spawned_below_it() {
    static SHUTDOWN: RootToken<&str> = RootToken::with_cause_type();
    // Each executor of the rig runs this body once, one after another; the
    // first run cancels the root, so later runs see children born
    // cancelled, which must work just as well.
    common::run(|ex| async move {
        let joins: Vec<_> = (0..8)
            .map(|_| {
                let token = SHUTDOWN.child_token();
                ex.spawn(async move {
                    token.cancelled().await;
                    assert_eq!(token.cause(), Some(&"SIGTERM"));
                })
            })
            .collect();
        yield_now().await;
        SHUTDOWN.cancel_with("SIGTERM");
        SHUTDOWN.cancelled().await;
        for join in joins {
            join.await;
        }
    });
}
