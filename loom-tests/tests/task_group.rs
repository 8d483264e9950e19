//! loom models of `TaskGroup`'s own shared state: the spawn queue that
//! handles push to, the group closing it (on completion, on a failure, on
//! a drop), and the wake-up a spawn owes a waiting group. The children run
//! on the group's thread (futures-util's `FuturesUnordered` is not
//! loom-aware and needs no model: it is only touched there); the racing
//! thread holds a handle, as a child's helper task on another thread
//! would.
//!
//! Every model checks that a spawned future is accounted for exactly once:
//! run by the group, dropped by it, or handed back refused, unpolled.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use sluicegate::{Event, TaskGroup};
use sluicegate_loom_tests::{block_on, model, thread};

/// Counts the polls and the drops of a future that returns `out`.
#[derive(Default)]
struct Probe {
    polls: AtomicUsize,
    drops: AtomicUsize,
}

struct DropCount(Arc<Probe>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

impl Probe {
    /// A future that counts its polls (it is ready at the first) and its
    /// drop.
    fn future<T: Send + 'static>(
        self: &Arc<Self>,
        out: T,
    ) -> impl std::future::Future<Output = T> + Send + 'static {
        let guard = DropCount(self.clone());
        async move {
            guard.0.polls.fetch_add(1, SeqCst);
            out
        }
    }

    fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    fn drops(&self) -> usize {
        self.drops.load(SeqCst)
    }
}

#[test]
fn a_spawn_racing_a_siblings_failure_is_run_dropped_or_refused_exactly_once() {
    model(|| {
        let mut group = TaskGroup::<'static, (), &'static str>::new();
        let handle = group.handle();
        group.spawn(async { Err("failed") });
        let probe = Arc::new(Probe::default());
        let sibling = probe.future(Err("sibling"));
        let spawner = thread::spawn(move || match handle.spawn(sibling) {
            Ok(index) => {
                assert_eq!(index, 1);
                true
            }
            Err(refused) => {
                drop(refused.into_inner());
                false
            }
        });
        let error = block_on(group.join()).unwrap_err();
        let accepted = spawner.join().unwrap();
        assert_eq!(error.first(), &"failed");
        assert_eq!(probe.drops(), 1, "dropped exactly once");
        match (accepted, probe.polls()) {
            // Refused: handed back, never polled.
            (false, 0) => assert_eq!((error.len(), error.dropped()), (1, 0)),
            // Taken before the failure: it ran in the wind-down.
            (true, 1) => assert_eq!(error.others(), &[(1, "sibling")]),
            // Queued when the group failed: dropped unstarted.
            (true, 0) => assert_eq!((error.len(), error.dropped()), (1, 1)),
            other => panic!("impossible outcome {other:?}"),
        }
    });
}

#[test]
fn a_spawn_racing_the_groups_completion_is_in_the_results_or_refused() {
    model(|| {
        let mut group = TaskGroup::<'static, u8, ()>::new();
        let handle = group.handle();
        group.spawn(async { Ok(1) });
        let probe = Arc::new(Probe::default());
        let sibling = probe.future(Ok(2));
        let spawner = thread::spawn(move || match handle.spawn(sibling) {
            Ok(_) => true,
            Err(refused) => {
                drop(refused.into_inner());
                false
            }
        });
        let out = block_on(group.join()).unwrap();
        let accepted = spawner.join().unwrap();
        assert_eq!(probe.drops(), 1);
        if accepted {
            assert_eq!(out, [1, 2], "an accepted child is never left behind");
            assert_eq!(probe.polls(), 1);
        } else {
            assert_eq!(out, [1]);
            assert_eq!(probe.polls(), 0);
        }
    });
}

#[test]
fn a_spawn_into_a_waiting_group_always_wakes_it() {
    model(|| {
        let go = Arc::new(Event::new());
        let mut group = TaskGroup::<'static, u8, ()>::new();
        let handle = group.handle();
        // Child 0 waits for its sibling, which only the other thread adds:
        // if the spawn's wake-up were lost, the group would wait forever
        // (loom reports the deadlock).
        let wait = go.clone();
        group.spawn(async move {
            wait.wait().await;
            Ok(0)
        });
        let spawner = thread::spawn(move || {
            handle
                .spawn(async move {
                    go.set();
                    Ok(1)
                })
                .expect("child 0 keeps the group running")
        });
        assert_eq!(block_on(group.join()), Ok(vec![0, 1]));
        assert_eq!(spawner.join().unwrap(), 1);
    });
}

#[test]
fn a_spawn_racing_the_groups_drop_is_dropped_exactly_once_and_never_polled() {
    model(|| {
        let mut group = TaskGroup::<'static, (), ()>::new();
        let handle = group.handle();
        let token = group.token().clone();
        group.spawn(std::future::pending());
        let probe = Arc::new(Probe::default());
        let sibling = probe.future(Ok(()));
        let spawner = thread::spawn(move || {
            if let Err(refused) = handle.spawn(sibling) {
                drop(refused.into_inner());
            }
        });
        drop(group);
        spawner.join().unwrap();
        assert!(token.is_cancelled());
        assert_eq!((probe.polls(), probe.drops()), (0, 1));
    });
}
