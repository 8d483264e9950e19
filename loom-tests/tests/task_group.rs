//! loom models of `TaskGroup`'s own shared state.
//!
//! The spawn queue that handles push to, the group closing it (on
//! completion, on a failure, on a drop), and the wake-up a spawn owes a
//! waiting group: the racing thread holds a handle, as a child's helper
//! task on another thread would. Every such model checks that a spawned
//! future is accounted for exactly once: run by the group, dropped by it,
//! or handed back refused, unpolled.
//!
//! The task set the children run in (`src/task/set.rs`): a child's waker
//! woken on another thread while the group polls, registers its own waker
//! or waits (the ready stack and the group's waker slot); woken while the
//! group is dropped (a push racing the stack's closing); and woken or
//! dropped elsewhere after the child finished (the block outliving the
//! group's hold, with its count on the ready queue); and the group polled
//! again with a new waker while a child's wake-up on another thread holds
//! the waker slot (the registration then wakes the new waker itself rather
//! than wait for that thread). loom's `Arc` is the ready queue's, so a
//! block left behind is reported as a leak.
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_lite::future::{or, yield_now};
use sluicegate::{Event, TaskGroup};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

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

/// A group of two children: child 0 waits on `a` and yields 1, child 1
/// waits on `b` and yields 2.
fn two_children_waiting_on_events() -> (Arc<Event>, Arc<Event>, TaskGroup<'static, u8, ()>) {
    let (a, b) = (Arc::new(Event::new()), Arc::new(Event::new()));
    let mut group = TaskGroup::<'static, u8, ()>::new();
    let (wait_a, wait_b) = (a.clone(), b.clone());
    group.spawn(async move {
        wait_a.wait().await;
        Ok(1)
    });
    group.spawn(async move {
        wait_b.wait().await;
        Ok(2)
    });
    (a, b, group)
}

#[test]
fn a_childs_waker_woken_on_another_thread_while_the_group_polls_is_never_lost() {
    model(|| {
        let (a, b, group) = two_children_waiting_on_events();
        // Each set wakes its child's waker on its own thread: a push onto
        // the ready stack, waking the group if the stack was empty, while
        // the group polls, takes the stack or registers its waker. A lost
        // wake-up leaves the group waiting forever (loom reports it).
        let setter = thread::spawn(move || a.set());
        b.set();
        assert_eq!(block_on(group.join()), Ok(vec![1, 2]));
        setter.join().unwrap();
    });
}

#[test]
fn a_childs_waker_woken_while_the_group_is_dropped_frees_the_child_once() {
    model(|| {
        let go = Arc::new(Event::new());
        let probe = Arc::new(Probe::default());
        let guard = DropCount(probe.clone());
        let wait = go.clone();
        let mut group = TaskGroup::<'static, (), ()>::new();
        group.spawn(async move {
            let _guard = guard;
            wait.wait().await;
            Ok(())
        });
        let mut join = Polled::new(group.join());
        assert!(join.poll().is_pending());
        // The wake-up's push races the set's drop, which closes the stack:
        // it lands on the stack the drop empties, or meets the closed one
        // and frees what it holds itself.
        let setter = thread::spawn(move || go.set());
        drop(join);
        setter.join().unwrap();
        assert_eq!(probe.drops(), 1);
    });
}

#[test]
fn a_childs_waker_woken_elsewhere_after_the_child_finished_frees_the_block_once() {
    model(|| {
        let (here, there) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let mut group = TaskGroup::<'static, u8, ()>::new();
        let (wait_here, wait_there) = (here.clone(), there.clone());
        // Registered with both events: one clone of its waker each.
        group.spawn(async move {
            or(
                async move {
                    wait_here.wait().await;
                    Ok(1)
                },
                async move {
                    wait_there.wait().await;
                    Ok(2)
                },
            )
            .await
        });
        // Sets `here` once child 0 has registered with both.
        group.spawn(async move {
            yield_now().await;
            here.set();
            Ok(0)
        });
        // The other thread takes its clone out of `there`'s list and wakes
        // it, maybe after child 0 finished through `here` and the group let
        // go of the block (which then counts on the ready queue until that
        // last waker is gone), maybe after the group is gone too.
        let setter = thread::spawn(move || there.set());
        let out = block_on(group.join()).unwrap();
        assert!(out == [1, 0] || out == [2, 0], "{out:?}");
        setter.join().unwrap();
    });
}

#[test]
fn two_childs_wakers_woken_on_two_threads_while_the_group_waits_are_never_lost() {
    model(|| {
        let (a, b, group) = two_children_waiting_on_events();
        // Two pushes from two threads: one may find the stack empty while
        // the other still owns the group's waker slot, waking the group for
        // its own push, which the group may already have taken: the owner's
        // wake-up, delivered once it lets go, must cover both.
        let setters = [
            thread::spawn(move || a.set()),
            thread::spawn(move || b.set()),
        ];
        assert_eq!(block_on(group.join()), Ok(vec![1, 2]));
        for setter in setters {
            setter.join().unwrap();
        }
    });
}

/// A waker that counts its wake-ups (a std atomic, which loom does not see:
/// read it only after joining the threads that may wake it).
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// [`model`], with at least three preemptions: the race below needs two to
/// reach (the setter before the group's second poll, then the group inside
/// the setter's hold of the slot) and one more to matter. With the suite's
/// two, loom finds no run where dropping the registration's own wake-up
/// loses one; with three it does.
fn model_three_preemptions<F: Fn() + Sync + Send + 'static>(f: F) {
    #[cfg(loom)]
    {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(builder.preemption_bound.map_or(3, |bound| bound.max(3)));
        builder.check(f);
    }
    #[cfg(not(loom))]
    model(f);
}

#[test]
fn a_group_polled_with_a_new_waker_while_a_wake_holds_its_slot_is_never_lost() {
    model_three_preemptions(|| {
        let (a, b, group) = two_children_waiting_on_events();
        let mut join = Box::pin(group.join());
        let (old, new) = (Arc::new(Wakes::default()), Arc::new(Wakes::default()));
        let (old_waker, new_waker) = (Waker::from(old.clone()), Waker::from(new.clone()));
        assert!(join
            .as_mut()
            .poll(&mut Context::from_waker(&old_waker))
            .is_pending());
        // Child 1's wake-up pushes it and, the stack being empty, wakes the
        // group through the slot (cloning the old waker under it), while
        // the group, polled again with a new waker (its task moved),
        // registers that one: before that wake, during it, or after it.
        // During it the slot is held, and the registration must neither
        // wait for the other thread nor leave the group to the old waker:
        // child 2's push, after the poll took the stack, would then wake
        // only the old one.
        let setter = thread::spawn(move || {
            a.set();
            b.set();
        });
        let polled = join.as_mut().poll(&mut Context::from_waker(&new_waker));
        setter.join().unwrap();
        if let Poll::Ready(out) = polled {
            // The poll took both pushes.
            assert_eq!(out, Ok(vec![1, 2]));
            return;
        }
        // A push came after the poll took the stack: the new waker must
        // hear of it.
        assert!(new.0.load(SeqCst) >= 1, "the new waker was never woken");
        assert_eq!(
            join.as_mut().poll(&mut Context::from_waker(&new_waker)),
            Poll::Ready(Ok(vec![1, 2]))
        );
    });
}
