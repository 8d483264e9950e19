//! `TaskGroup` under real executors (every one of the rig, via
//! `common::run`): a worker pool as a group with a limit, a failing child
//! that cancels its siblings through their tokens (in the group and in
//! tasks spawned on the executor), spawns from another task while the group
//! runs, and the group's own future spawned onto the executor. Nothing here
//! depends on scheduling order or timing.
mod common;

use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use futures_lite::future::yield_now;
use sluicegate::{Event, TaskGroup, TaskTracker};

#[derive(Debug, Clone, PartialEq)]
enum JobError {
    Bad(usize),
    Stopped,
}

#[test]
fn a_worker_pool_group_with_a_limit_runs_every_job_in_spawn_order() {
    const JOBS: usize = 200;
    const WORKERS: usize = 8;
    common::run(|ex| async move {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut pool = TaskGroup::<usize, JobError>::new().with_limit(WORKERS);
        for job in 0..JOBS {
            let (ex, running, most) = (ex.clone(), &running, &most);
            pool.spawn(async move {
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                // The work itself runs as a task of the executor; the
                // group's child waits for it (a wake-up from another
                // thread on the multi-thread executors).
                let squared = ex
                    .spawn(async move {
                        yield_now().await;
                        job * job
                    })
                    .await;
                running.fetch_sub(1, SeqCst);
                Ok(squared)
            });
        }
        let squares = pool.await.expect("no job fails");
        assert_eq!(squares, (0..JOBS).map(|j| j * j).collect::<Vec<_>>());
        let most = most.load(SeqCst);
        assert!(most <= WORKERS, "{}: {most} jobs ran at once", ex.name());
        assert!(most > 1, "{}: the jobs ran concurrently", ex.name());
    });
}

#[test]
fn one_failing_child_cancels_its_siblings_through_their_tokens() {
    const SIBLINGS: usize = 16;
    common::run(|ex| async move {
        let started = AtomicUsize::new(0);
        let all_started = Event::new();
        let mut group = TaskGroup::<(), JobError>::new();
        for _ in 0..SIBLINGS {
            let token = group.token().child_token();
            let (started, all_started) = (&started, &all_started);
            group.spawn(async move {
                if started.fetch_add(1, SeqCst) + 1 == SIBLINGS {
                    all_started.set();
                }
                token.cancelled().await;
                assert_eq!(token.cause(), Some(&JobError::Bad(7)));
                Err(JobError::Stopped)
            });
        }
        let all_started = &all_started;
        group.spawn(async move {
            all_started.wait().await;
            Err(JobError::Bad(7))
        });
        let error = group.await.unwrap_err();
        assert_eq!(error.first(), &JobError::Bad(7), "{}", ex.name());
        assert_eq!(error.first_index(), SIBLINGS);
        // Each sibling was woken by the cancellation and stopped cleanly
        // before anything was dropped.
        assert_eq!(error.others().len(), SIBLINGS, "{}", ex.name());
        assert!(error.others().iter().all(|(_, e)| *e == JobError::Stopped));
        assert_eq!(error.dropped(), 0);
    });
}

#[test]
fn a_failure_reaches_executor_tasks_under_child_tokens_of_the_group() {
    const WORKERS: usize = 12;
    common::run(|ex| async move {
        let tracker = Arc::new(TaskTracker::new());
        let stopped = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let all_started = Arc::new(Event::new());
        let mut group = TaskGroup::<(), String>::new();
        for _ in 0..WORKERS {
            // Each child hands its work to an executor task with a child
            // token, and waits for it: the group drops the child, not the
            // task, which stops when it sees the cancellation.
            let token = group.token().child_token();
            let (ex, tracker, stopped) = (ex.clone(), tracker.clone(), stopped.clone());
            let (started, all_started) = (started.clone(), all_started.clone());
            group.spawn(async move {
                let worker = tracker.track_future_owned(async move {
                    if started.fetch_add(1, SeqCst) + 1 == WORKERS {
                        all_started.set();
                    }
                    let out = token.run_until_cancelled(pending::<()>()).await;
                    assert!(out.is_none());
                    assert_eq!(token.cause().map(String::as_str), Some("fatal"));
                    stopped.fetch_add(1, SeqCst);
                });
                ex.spawn(worker).await;
                Err("stopped".to_string())
            });
        }
        let all_started = all_started.clone();
        group.spawn(async move {
            all_started.wait().await;
            Err("fatal".to_string())
        });
        let error = group.await.unwrap_err();
        assert_eq!(error.first(), "fatal", "{}", ex.name());
        // A child whose task had not reported back by the end of the
        // wind-down was dropped; either way it is accounted for.
        assert_eq!(error.others().len() + error.dropped(), WORKERS);
        tracker.close();
        tracker.wait().await;
        assert_eq!(stopped.load(SeqCst), WORKERS, "{}", ex.name());
    });
}

#[test]
fn another_task_spawns_into_the_running_group_through_a_handle() {
    const SPAWNS: usize = 100;
    common::run(|ex| async move {
        let done = Arc::new(Event::new());
        let mut group = TaskGroup::<usize, ()>::new();
        let handle = group.handle();
        // Keeps the group running until the spawner is done.
        let keeper = done.clone();
        group.spawn(async move {
            keeper.wait().await;
            Ok(usize::MAX)
        });
        let spawner = ex.spawn(async move {
            for n in 0..SPAWNS {
                let index = handle
                    .spawn(async move {
                        yield_now().await;
                        Ok(n)
                    })
                    .expect("the group runs until `done`");
                assert_eq!(index, n + 1);
                if n % 10 == 0 {
                    yield_now().await;
                }
            }
            done.set();
        });
        let (out, ()) = futures::join!(group.join(), spawner);
        let out = out.unwrap();
        assert_eq!(out[0], usize::MAX, "{}", ex.name());
        assert_eq!(out[1..], (0..SPAWNS).collect::<Vec<_>>());
    });
}

#[test]
fn a_group_of_static_children_runs_as_an_executor_task() {
    common::run(|ex| async move {
        let mut group = TaskGroup::<'static, u32, ()>::new().with_limit(3);
        let handle = group.handle();
        for n in 0..10 {
            let handle = handle.clone();
            group.spawn(async move {
                yield_now().await;
                if n == 9 {
                    handle.spawn(async { Ok(100) }).unwrap();
                }
                Ok(n)
            });
        }
        let out = ex.spawn(group.join()).await.unwrap();
        assert_eq!(
            out,
            (0..10).chain([100]).collect::<Vec<_>>(),
            "{}",
            ex.name()
        );
        assert!(handle.is_closed());
    });
}
