//! Deterministic tests of `TaskGroup` and `LocalTaskGroup`: the group's
//! future is polled by hand with a counting waker, and children are gated
//! by `Event`s, semaphores and hand-written futures, so each test pins
//! exactly which child runs, in which poll, and what is dropped when. No
//! executor and no threads (this file also runs under miri).
mod common;

use std::cell::RefCell;
use std::future::{pending, poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;
use std::task::Poll;

use common::poll::{polled, Polled};
use common::traits::{assert_not_send, assert_send, assert_send_sync, assert_unpin};
use futures_lite::future::yield_now;
use sluicegate::futures::{LocalTaskGroupJoin, TaskGroupJoin, TaskGroupJoinAll};
use sluicegate::task::{LocalTaskGroupHandle, TaskGroupHandle};
use sluicegate::{Event, LocalTaskGroup, Semaphore, TaskGroup};

/// Polls until ready, each time only if a wake-up asked for it (a bounded
/// number of times).
#[track_caller]
fn drive<F: Future>(join: &mut Polled<F>) -> F::Output {
    let mut polls = 0;
    loop {
        if let Poll::Ready(out) = join.poll() {
            return out;
        }
        polls += 1;
        assert!(polls < 1_000, "the group stopped making progress");
        assert!(join.wakes() >= polls, "pending with no wake-up coming");
    }
}

/// A log that children (and their drops) write to, in order.
#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Writes `entry` to the log when dropped.
struct OnDrop<'a>(&'a Log, &'static str);

impl Drop for OnDrop<'_> {
    fn drop(&mut self) {
        self.0.push(self.1);
    }
}

/// `fut`, counting every poll it gets in `polls`.
fn counted<'a, F: Future + Send + 'a>(
    polls: &'a AtomicUsize,
    fut: F,
) -> impl Future<Output = F::Output> + Send + 'a {
    let mut fut = Box::pin(fut);
    poll_fn(move |cx| {
        polls.fetch_add(1, SeqCst);
        fut.as_mut().poll(cx)
    })
}

#[test]
fn groups_handles_and_joins_are_send_local_ones_are_not() {
    assert_send::<TaskGroup<'static, u32, String>>();
    assert_send::<TaskGroupJoin<'static, u32, String>>();
    assert_send::<TaskGroupJoinAll<'static, u32, String>>();
    assert_send_sync::<TaskGroupHandle<'static, u32, String>>();
    // Nothing in a join is pinned: the children are, in their own boxes.
    assert_unpin::<TaskGroupJoin<'static, std::marker::PhantomPinned, ()>>();
    assert_unpin::<LocalTaskGroupJoin<'static, u32, ()>>();
    assert_not_send!(LocalTaskGroup<'static, u32, String>);
    assert_not_send!(LocalTaskGroupHandle<'static, u32, String>);
    assert_not_send!(LocalTaskGroupJoin<'static, u32, String>);
}

#[test]
fn a_group_with_no_children_completes_at_once() {
    let group = TaskGroup::<u8, ()>::new();
    let token = group.token().clone();
    let mut join = polled(group.join());
    assert_eq!(join.ready(), Ok(vec![]));
    assert!(!token.is_cancelled(), "completing cancels nothing");
    let mut all = polled(TaskGroup::<u8, ()>::new().join_all());
    assert_eq!(all.ready(), vec![]);
}

#[test]
fn results_come_back_in_spawn_order_whatever_order_children_finish() {
    let gates: Vec<Event> = (0..5).map(|_| Event::new()).collect();
    let mut group = TaskGroup::<usize, ()>::new();
    for (i, gate) in gates.iter().enumerate() {
        assert_eq!(
            group.spawn(async move {
                gate.wait().await;
                Ok(i * 10)
            }),
            i
        );
    }
    let mut join = polled(group.join());
    join.pending();
    // Finish them backwards, one poll each; the group completes with 0.
    for gate in gates[1..].iter().rev() {
        gate.set();
        join.pending();
    }
    gates[0].set();
    assert_eq!(join.ready(), Ok(vec![0, 10, 20, 30, 40]));
}

#[test]
fn join_all_gives_every_result_and_error_in_spawn_order_and_cancels_nothing() {
    let gate = Event::new();
    let mut group = TaskGroup::<u32, String>::new();
    let token = group.token().clone();
    group.spawn(async {
        gate.wait().await;
        Ok(1)
    });
    group.spawn(async { Err("two".to_string()) });
    group.spawn(async { Ok(3) });
    let mut all = polled(group.join_all());
    all.pending();
    assert!(
        !token.is_cancelled(),
        "an error cancels nothing under join_all"
    );
    let before = all.wakes();
    gate.set();
    assert_eq!(all.wakes(), before + 1);
    assert_eq!(all.ready(), vec![Ok(1), Err("two".to_string()), Ok(3)]);
    assert!(!token.is_cancelled());
}

#[test]
fn join_all_keeps_taking_spawns_after_an_error() {
    let mut group = TaskGroup::<u32, u32>::new();
    let handle = group.handle();
    group.spawn(async { Err(1) });
    group.spawn(async move {
        yield_now().await; // after the error
        handle
            .spawn(async { Ok(3) })
            .expect("collect-all never closes early");
        Ok(2)
    });
    assert_eq!(
        drive(&mut polled(group.join_all())),
        vec![Err(1), Ok(2), Ok(3)]
    );
}

#[test]
fn a_child_spawns_a_sibling_that_runs_in_the_same_poll() {
    let mut group = TaskGroup::<&str, ()>::new();
    let handle = group.handle();
    group.spawn(async move {
        let index = handle.spawn(async { Ok("sibling") }).unwrap();
        assert_eq!(index, 1);
        Ok("parent")
    });
    let mut join = polled(group.join());
    assert_eq!(join.ready(), Ok(vec!["parent", "sibling"]));
    assert_eq!(join.wakes(), 0, "taken before the group waited");
}

#[test]
fn spawn_order_counts_owner_and_handle_spawns_alike() {
    let mut group = TaskGroup::<&str, ()>::new();
    let handle = group.handle();
    assert_eq!(group.spawn(async { Ok("a") }), 0);
    assert_eq!(handle.spawn(async { Ok("b") }).unwrap(), 1);
    assert_eq!(group.spawn(async { Ok("c") }), 2);
    assert_eq!(handle.spawn(async { Ok("d") }).unwrap(), 3);
    assert_eq!(group.spawned(), 4);
    assert_eq!(polled(group.join()).ready(), Ok(vec!["a", "b", "c", "d"]));
}

#[test]
fn many_handle_spawns_come_back_in_spawn_order_under_a_limit() {
    const N: usize = 300;
    let order = Log::default();
    let group = TaskGroup::<usize, ()>::new().with_limit(7);
    let handle = group.handle();
    for i in 0..N {
        let order = &order;
        handle
            .spawn(async move {
                order.push(i.to_string());
                yield_now().await;
                Ok(i)
            })
            .unwrap();
    }
    let out = drive(&mut polled(group.join()));
    assert_eq!(out, Ok((0..N).collect::<Vec<_>>()));
    // The limit starts waiting children oldest first.
    let started: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    assert_eq!(order.entries(), started);
}

#[test]
fn a_spawn_from_outside_wakes_the_waiting_group() {
    let gate = Event::new();
    let mut group = TaskGroup::<u8, ()>::new();
    let handle = group.handle();
    group.spawn(async {
        gate.wait().await;
        Ok(1)
    });
    let mut join = polled(group.join());
    join.pending();
    let before = join.wakes();
    handle.spawn(async { Ok(2) }).unwrap();
    assert_eq!(join.wakes(), before + 1, "the spawn woke the group");
    handle.spawn(async { Ok(3) }).unwrap();
    assert_eq!(
        join.wakes(),
        before + 1,
        "one wake-up until the group polls again"
    );
    join.pending(); // runs 2 and 3; 1 still waits
    gate.set();
    assert_eq!(join.ready(), Ok(vec![1, 2, 3]));
}

#[test]
fn spawns_are_refused_once_the_group_completed_and_give_the_future_back() {
    let polls = AtomicUsize::new(0);
    let group = TaskGroup::<u8, ()>::new();
    let handle = group.handle();
    assert!(!handle.is_closed());
    assert_eq!(polled(group.join()).ready(), Ok(vec![]));
    assert!(handle.is_closed());
    let refused = handle.spawn(counted(&polls, async { Ok(7) })).unwrap_err();
    assert_eq!(polls.load(SeqCst), 0, "never polled");
    assert_eq!(polled(refused.into_inner()).ready(), Ok(7));
}

#[test]
fn spawns_are_refused_once_the_group_is_dropped() {
    let group = TaskGroup::<u8, ()>::new();
    let handle = group.handle();
    drop(group);
    assert!(handle.is_closed());
    assert!(handle.spawn(async { Ok(1) }).is_err());

    let group = TaskGroup::<u8, ()>::new();
    let handle = group.handle();
    let mut join = polled(group.join_all());
    drop(join.poll()); // empty: completes
    drop(join);
    assert!(handle.spawn(async { Ok(1) }).is_err());
}

#[test]
fn fail_fast_cancels_cooperatively_then_drops_the_rest() {
    let log = Log::default();
    let go = Event::new();
    let mut group = TaskGroup::<(), String>::new();
    let token = group.token().clone();
    let child_token = group.token().child_token();
    let log_ref = &log;
    // 0 watches the group's token and stops cleanly, with an error of its own.
    group.spawn(async move {
        token.cancelled().await;
        log_ref.push(format!("0 saw the cancel, cause {:?}", token.cause()));
        Err("0 stopped".to_string())
    });
    // 1 runs under a child token and stops with Ok.
    group.spawn(async move {
        let out = child_token.run_until_cancelled(pending::<()>()).await;
        assert!(out.is_none());
        log_ref.push("1 saw the cancel");
        Ok(())
    });
    // 2 ignores the token: it is dropped.
    let guard = OnDrop(&log, "2 dropped");
    group.spawn(async move {
        let _guard = guard;
        pending::<()>().await;
        Ok(())
    });
    // 3 fails once `go` is set.
    let go_ref = &go;
    group.spawn(async move {
        go_ref.wait().await;
        Err("3 failed".to_string())
    });
    let token = group.token().clone();
    let mut join = polled(group.join());
    join.pending();
    assert!(log.entries().is_empty());
    go.set();
    let error = join.ready().unwrap_err();
    assert_eq!(
        log.entries(),
        [
            "0 saw the cancel, cause Some(\"3 failed\")",
            "1 saw the cancel",
            "2 dropped"
        ],
        "cooperative first, then the drop, in the same poll"
    );
    assert_eq!(error.first(), "3 failed");
    assert_eq!(error.first_index(), 3);
    assert_eq!(error.others(), &[(0, "0 stopped".to_string())]);
    assert_eq!(error.len(), 2);
    assert_eq!(error.dropped(), 1);
    assert_eq!(token.cause().map(String::as_str), Some("3 failed"));
    assert_eq!(
        error.to_string(),
        "task group child 3 failed: 3 failed (and 1 more error)"
    );
}

#[test]
fn a_child_whose_clean_up_takes_another_poll_finishes_before_the_drop() {
    let mut group = TaskGroup::<(), &str>::new();
    let token = group.token().clone();
    group.spawn(async move {
        token.cancelled().await;
        yield_now().await; // a clean-up step that yields once
        yield_now().await; // and once more
        Err("cleaned up")
    });
    group.spawn(async { Err("failed") });
    let mut join = polled(group.join());
    let error = join.ready().unwrap_err();
    assert_eq!(error.others(), &[(0, "cleaned up")]);
    assert_eq!(error.dropped(), 0);
}

#[test]
fn a_child_that_wakes_itself_forever_after_the_failure_delays_the_group_not_the_poll() {
    let spins = AtomicUsize::new(0);
    let stop_at = 30;
    let mut group = TaskGroup::<(), &str>::new();
    // Ignores the token and wakes itself on every poll, `stop_at` times.
    group.spawn(poll_fn(|cx| {
        if spins.fetch_add(1, SeqCst) + 1 < stop_at {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }));
    group.spawn(async { Err("failed") });
    let mut join = polled(group.join());
    join.pending();
    let after_first = spins.load(SeqCst);
    assert!(after_first < stop_at, "the poll returned to the executor");
    assert!(join.wakes() >= 1, "and asked to be polled again");
    let mut polls = 1;
    let error = loop {
        polls += 1;
        let before = spins.load(SeqCst);
        match join.poll() {
            Poll::Ready(out) => break out.unwrap_err(),
            Poll::Pending => assert!(spins.load(SeqCst) > before, "each poll makes progress"),
        }
    };
    assert!(polls > 2, "the wind-down spanned several polls");
    assert_eq!(spins.load(SeqCst), stop_at, "it finished, not dropped");
    assert_eq!((error.first(), error.dropped()), (&"failed", 0));
}

#[test]
fn children_not_started_are_dropped_unpolled_when_the_group_fails() {
    let polls = AtomicUsize::new(0);
    let log = Log::default();
    let gate = Event::new();
    let mut group = TaskGroup::<(), &str>::new().with_limit(2);
    group.spawn(async {
        gate.wait().await;
        Err("failed")
    });
    group.spawn(pending());
    for name in ["2 dropped", "3 dropped", "4 dropped"] {
        let guard = OnDrop(&log, name);
        group.spawn(counted(&polls, async move {
            let _guard = guard;
            Ok(())
        }));
    }
    let mut join = polled(group.join());
    join.pending();
    gate.set();
    let error = join.ready().unwrap_err();
    assert_eq!(polls.load(SeqCst), 0, "waiting children never ran");
    assert_eq!(log.entries(), ["2 dropped", "3 dropped", "4 dropped"]);
    assert_eq!(error.dropped(), 4, "three waiting, one running");
}

#[test]
fn children_the_group_had_not_reached_are_dropped_unpolled_when_an_earlier_one_fails() {
    // Children start in spawn order, each with a poll: the first fails at
    // once, so the group never reaches the others.
    let polls = AtomicUsize::new(0);
    let mut group = TaskGroup::<(), &str>::new();
    group.spawn(async { Err("failed at once") });
    for _ in 0..3 {
        group.spawn(counted(&polls, async { Ok(()) }));
    }
    let error = polled(group.join()).ready().unwrap_err();
    assert_eq!(polls.load(SeqCst), 0);
    assert_eq!((error.len(), error.dropped()), (1, 3));
}

#[test]
fn a_sibling_spawned_before_another_child_fails_is_dropped_unpolled() {
    let polls = AtomicUsize::new(0);
    let mut group = TaskGroup::<(), &str>::new();
    let handle = group.handle();
    let polls_ref = &polls;
    // 0 spawns a sibling, in the same poll in which 1 fails (0 is polled first).
    group.spawn(async move {
        handle
            .spawn(counted(polls_ref, async { Ok(()) }))
            .expect("not failed yet");
        pending().await
    });
    group.spawn(async { Err("failed") });
    let error = polled(group.join()).ready().unwrap_err();
    assert_eq!(polls.load(SeqCst), 0, "the queued sibling never ran");
    assert_eq!(error.dropped(), 2, "the sibling, and child 0");
}

#[test]
fn a_child_spawning_a_sibling_after_another_failed_is_refused() {
    let mut group = TaskGroup::<&str, &str>::new();
    let handle = group.handle();
    let token = group.token().clone();
    group.spawn(async move {
        token.cancelled().await;
        // Cleaning up, it tries to start more work: refused, given back.
        let refused = handle.spawn(async { Ok("late") }).unwrap_err();
        drop(refused.into_inner());
        assert!(handle.is_closed());
        Ok("stopped")
    });
    group.spawn(async { Err("failed") });
    let error = polled(group.join()).ready().unwrap_err();
    assert_eq!(
        (error.first(), error.len(), error.dropped()),
        (&"failed", 1, 0)
    );
}

#[test]
fn the_cause_is_a_clone_of_the_first_error_or_what_with_cause_makes_of_it() {
    let mut group = TaskGroup::<(), (u16, &str)>::new();
    let token = group.token().clone();
    group.spawn(async { Err((503, "unavailable")) });
    assert!(polled(group.join()).ready().is_err());
    assert_eq!(token.cause(), Some(&(503, "unavailable")));

    struct Opaque(u16);
    let mut group = TaskGroup::<(), Opaque, u16>::with_cause(|e| e.0);
    let token = group.token().clone();
    group.spawn(async { Err(Opaque(404)) });
    assert_eq!(polled(group.join()).ready().unwrap_err().first().0, 404);
    assert_eq!(token.cause(), Some(&404));
}

#[test]
fn a_cause_set_from_outside_before_the_failure_stays() {
    let gate = Event::new();
    let mut group = TaskGroup::<(), &str>::new();
    let token = group.token().clone();
    group.spawn(async {
        gate.wait().await;
        Err("late failure")
    });
    let mut join = polled(group.join());
    join.pending();
    assert!(token.cancel_with("shutdown"));
    gate.set();
    let error = join.ready().unwrap_err();
    assert_eq!(error.first(), &"late failure");
    assert_eq!(token.cause(), Some(&"shutdown"));
}

#[test]
fn the_limit_bounds_running_children_and_never_starves_ones_sharing_a_semaphore() {
    // futures-rs#2387: children that hold a permit across an await while
    // others wait for it. With fewer permits (1) than the group's limit (3)
    // and more children (8), every started child must keep being polled.
    const CHILDREN: usize = 8;
    const LIMIT: usize = 3;
    let sem = Semaphore::new(1);
    let gate = Event::new();
    let running = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let mut group = TaskGroup::<usize, ()>::new().with_limit(LIMIT);
    for i in 0..CHILDREN {
        let (sem, gate, running, most) = (&sem, &gate, &running, &most);
        group.spawn(async move {
            let now = running.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            let _permit = sem.acquire().await.unwrap();
            gate.wait().await; // holds the permit across an await
            yield_now().await;
            running.fetch_sub(1, SeqCst);
            Ok(i)
        });
    }
    let mut join = polled(group.join());
    join.pending();
    assert_eq!(
        running.load(SeqCst),
        LIMIT,
        "three started: one holds the permit"
    );
    gate.set();
    let out = drive(&mut join);
    assert_eq!(out, Ok((0..CHILDREN).collect::<Vec<_>>()));
    assert_eq!(most.load(SeqCst), LIMIT);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn dropping_the_join_while_children_wait_drops_them_closes_and_cancels() {
    let log = Log::default();
    let gate = Event::new();
    let mut group = TaskGroup::<(), ()>::new();
    let handle = group.handle();
    let token = group.token().clone();
    for name in ["0 dropped", "1 dropped"] {
        let guard = OnDrop(&log, name);
        let gate = &gate;
        group.spawn(async move {
            let _guard = guard;
            gate.wait().await;
            Ok(())
        });
    }
    let mut join = polled(group.join());
    join.pending();
    drop(join);
    let mut dropped = log.entries();
    dropped.sort();
    assert_eq!(dropped, ["0 dropped", "1 dropped"]);
    assert!(token.is_cancelled(), "the group was cancelled");
    assert_eq!(token.cause(), None);
    assert!(handle.spawn(async { Ok(()) }).is_err());
    gate.set(); // no one left to wake
}

#[test]
fn dropping_the_join_after_a_child_woke_but_before_the_repoll_loses_nothing() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut group = TaskGroup::<(), ()>::new();
    group.spawn(async {
        let _permit = sem.acquire().await.unwrap();
        Ok(())
    });
    let mut join = polled(group.join());
    join.pending(); // the child queues on the semaphore
    let mut next = polled(sem.acquire());
    next.pending(); // behind it
    let before = join.wakes();
    drop(held); // the permit is handed to the child, which is woken
    assert_eq!(join.wakes(), before + 1);
    assert_eq!(next.wakes(), 0);
    drop(join); // before the group polls it again
                // The child's dropped acquire passed its permit on.
    assert_eq!(next.wakes(), 1);
    let permit = next.ready().unwrap();
    assert_eq!(permit.num_permits(), 1);
}

#[test]
fn dropping_a_group_never_joined_drops_its_children_unpolled() {
    let polls = AtomicUsize::new(0);
    let mut group = TaskGroup::<(), ()>::new().with_limit(1);
    let handle = group.handle();
    group.spawn(counted(&polls, async { Ok(()) }));
    group.spawn(counted(&polls, async { Ok(()) }));
    handle.spawn(counted(&polls, async { Ok(()) })).unwrap();
    let token = group.token().clone();
    drop(group);
    assert_eq!(polls.load(SeqCst), 0);
    assert!(token.is_cancelled());
}

#[test]
fn dropping_a_group_with_a_long_spawn_queue_does_not_recurse() {
    // Queued children are linked through their own nodes: dropping the
    // queue must not drop the chain by recursion.
    let n = if cfg!(miri) { 2_000 } else { 200_000 };
    let group = TaskGroup::<(), ()>::new();
    let handle = group.handle();
    for _ in 0..n {
        handle.spawn(async { Ok(()) }).unwrap();
    }
    drop(group);
    assert!(handle.is_closed());
}

/// Counts the drops of the futures it is moved into.
#[derive(Default)]
struct Drops(AtomicUsize);

struct DropCounted<'a>(&'a Drops);

impl Drop for DropCounted<'_> {
    fn drop(&mut self) {
        self.0 .0.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_panicking_child_panics_the_groups_poll_and_dropping_the_join_drops_the_others() {
    // The panic propagates out of the poll of the join, which is left as it
    // was: still open to spawns, its token not cancelled, the child that
    // panicked still among the running ones (it is not polled again unless
    // woken), the others untouched. Dropping the join then drops every
    // child left, as after any other poll; nothing leaks (miri checks).
    let drops = Drops::default();
    let log = Log::default();
    let gate = Event::new();
    let mut group = TaskGroup::<u8, ()>::new();
    let handle = group.handle();
    let token = group.token().clone();
    let (drops_ref, gate_ref) = (&drops, &gate);
    group.spawn(async move {
        let _counted = DropCounted(drops_ref);
        gate_ref.wait().await;
        Ok(0)
    });
    group.spawn(async move {
        let _counted = DropCounted(drops_ref);
        gate_ref.wait().await;
        panic!("child 1 failed")
    });
    let guard = OnDrop(&log, "2 dropped");
    group.spawn(async move {
        let _counted = DropCounted(drops_ref);
        let _guard = guard;
        pending::<()>().await;
        Ok(2)
    });
    let mut join = polled(group.join());
    join.pending();
    gate.set(); // 0 finishes, then 1 panics, in the next poll
    let panic = catch_unwind(AssertUnwindSafe(|| join.poll())).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"child 1 failed"));
    assert_eq!(
        drops.0.load(SeqCst),
        2,
        "0 finished; 1's state unwound with its panic"
    );
    assert!(log.entries().is_empty(), "2 untouched");
    assert!(!token.is_cancelled());
    assert!(!handle.is_closed());
    // Polled again, it goes on with the others (2 still waits).
    join.pending();
    drop(join);
    assert_eq!(log.entries(), ["2 dropped"]);
    assert_eq!(drops.0.load(SeqCst), 3, "every child dropped once");
    assert!(token.is_cancelled());
    assert!(handle.spawn(async { Ok(3) }).is_err());
}

#[test]
fn a_child_panicking_at_its_first_poll_leaves_the_children_not_started_unpolled() {
    let polls = AtomicUsize::new(0);
    let drops = Drops::default();
    let mut group = TaskGroup::<(), ()>::with_cause(|_| ()).with_limit(2);
    let drops_ref = &drops;
    group.spawn(async move {
        let _counted = DropCounted(drops_ref);
        pending::<()>().await;
        Ok(())
    });
    group.spawn(async move {
        let _counted = DropCounted(drops_ref);
        panic!("child 1 failed at once")
    });
    for _ in 0..2 {
        let counted_drop = DropCounted(drops_ref);
        group.spawn(counted(&polls, async move {
            let _counted = counted_drop;
            Ok(())
        }));
    }
    let mut join = polled(group.join_all());
    let panic = catch_unwind(AssertUnwindSafe(|| join.poll())).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"child 1 failed at once")
    );
    assert_eq!(drops.0.load(SeqCst), 1, "1 dropped as its panic unwound");
    drop(join);
    assert_eq!(polls.load(SeqCst), 0, "2 and 3 never started");
    assert_eq!(drops.0.load(SeqCst), 4, "every child dropped once");
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_a_join_after_it_completed_panics() {
    let mut join = polled(TaskGroup::<(), ()>::new().join());
    assert_eq!(join.ready(), Ok(vec![]));
    let _ = join.poll();
}

#[test]
#[should_panic(expected = "at least 1")]
fn a_limit_of_zero_panics() {
    let _ = TaskGroup::<(), ()>::new().with_limit(0);
}

#[test]
fn children_borrow_from_the_caller() {
    let words = vec!["alpha".to_string(), "beta".to_string()];
    let mut group = TaskGroup::<usize, ()>::new();
    for word in &words {
        group.spawn(async move { Ok(word.len()) });
    }
    assert_eq!(polled(group.join()).ready(), Ok(vec![5, 4]));
}

#[test]
fn a_local_group_runs_children_that_are_not_send_and_fails_fast_the_same() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut group = LocalTaskGroup::<u32, &str>::new();
    let handle = group.handle();
    let token = group.token().clone();
    {
        let seen = seen.clone();
        group.spawn(async move {
            handle.spawn(async { Ok(2) }).unwrap();
            token.cancelled().await;
            seen.borrow_mut().push(token.cause().copied());
            Ok(1)
        });
    }
    group.spawn(async {
        yield_now().await;
        Err("boom")
    });
    let error = drive(&mut polled(group.join())).unwrap_err();
    assert_eq!(error.first(), &"boom");
    assert_eq!(*seen.borrow(), [Some("boom")]);

    let mut group = LocalTaskGroup::<Rc<u32>, ()>::new();
    group.spawn(async { Ok(Rc::new(1)) });
    let out = polled(group.join_all()).ready();
    assert_eq!(*out[0].as_ref().unwrap().as_ref(), 1);
}
