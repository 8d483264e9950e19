//! Deterministic tests of `TaskTracker`: every waiter and tracked future is
//! polled by hand with a counting waker, so each test pins exactly who is
//! woken, how often, and who completes. No executor and no threads (this
//! file also runs under miri).
mod common;

use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::poll::{polled, CountingWaker, Polled};
use common::traits::{assert_not_unpin, assert_send_sync, assert_unpin};
use sluicegate::futures::{TaskTrackerWait, TrackFuture};
use sluicegate::{TaskTracker, TaskTrackerToken};

/// More waiters than one wake batch (`WakeBatch::CAPACITY` is 16).
const MANY: usize = 40;

#[test]
fn tracker_token_and_futures_are_send_and_sync_and_wait_is_not_unpin() {
    assert_send_sync::<TaskTracker>();
    assert_send_sync::<TaskTrackerToken<'static>>();
    assert_send_sync::<TaskTrackerWait<'static>>();
    assert_send_sync::<TrackFuture<'static, std::future::Ready<()>>>();
    assert_send_sync::<sluicegate::OwnedTaskTrackerToken>();
    assert_unpin::<TaskTracker>();
    assert_unpin::<TaskTrackerToken<'static>>();
    // A tracked future is as `Unpin` as the future it wraps.
    assert_unpin::<TrackFuture<'static, std::future::Ready<()>>>();
    // The wait future holds the intrusive wait-list node.
    assert_not_unpin!(TaskTrackerWait<'static>);
}

fn waiters(tracker: &TaskTracker, n: usize) -> Vec<Polled<TaskTrackerWait<'_>>> {
    let mut ws: Vec<_> = (0..n).map(|_| polled(tracker.wait())).collect();
    for w in &mut ws {
        w.pending();
    }
    ws
}

#[test]
fn new_tracker_is_open_and_empty() {
    for tracker in [TaskTracker::new(), TaskTracker::default()] {
        assert!(!tracker.is_closed());
        assert!(tracker.is_empty());
        assert_eq!(tracker.len(), 0);
    }
}

#[test]
fn wait_on_a_closed_empty_tracker_is_ready_at_once() {
    let tracker = TaskTracker::new();
    tracker.close();
    let mut w = polled(tracker.wait());
    w.ready();
    assert_eq!(w.wakes(), 0);
    assert!(tracker.is_closed(), "waiting changes nothing");
}

#[test]
fn wait_on_an_open_empty_tracker_waits_for_close() {
    let tracker = TaskTracker::new();
    let mut w = polled(tracker.wait());
    w.pending();
    w.pending();
    assert_eq!(w.wakes(), 0);
    assert!(tracker.close());
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn wait_on_a_closed_tracker_waits_for_the_last_token() {
    let tracker = TaskTracker::new();
    let a = tracker.token();
    let b = tracker.token();
    tracker.close();
    let mut w = polled(tracker.wait());
    w.pending();
    drop(a);
    assert_eq!(w.wakes(), 0, "one task still in flight");
    w.pending();
    drop(b);
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn close_and_reopen_report_whether_they_changed_anything() {
    let tracker = TaskTracker::new();
    assert!(!tracker.reopen());
    assert!(tracker.close());
    assert!(!tracker.close());
    assert!(tracker.is_closed());
    assert!(tracker.reopen());
    assert!(!tracker.reopen());
    assert!(!tracker.is_closed());
}

#[test]
fn len_counts_tokens_clones_and_tracked_futures() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let clone = token.clone();
    let job = tracker.track_future(async {});
    assert_eq!(tracker.len(), 3);
    assert!(core::ptr::eq(clone.task_tracker(), &tracker));
    assert!(core::ptr::eq(job.task_tracker(), &tracker));
    drop(token);
    assert_eq!(tracker.len(), 2);
    drop((clone, job));
    assert!(tracker.is_empty());
}

#[test]
fn a_tracked_future_counts_from_creation_until_drop_even_after_completing() {
    let tracker = TaskTracker::new();
    tracker.close();
    let mut job = polled(tracker.track_future(async { 7 }));
    assert_eq!(tracker.len(), 1, "tracked before its first poll");
    let mut w = polled(tracker.wait());
    w.pending();
    assert_eq!(job.ready(), 7);
    assert_eq!(tracker.len(), 1, "completed, but not dropped");
    assert_eq!(w.wakes(), 0);
    drop(job);
    assert!(tracker.is_empty());
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn a_tracked_future_dropped_unfinished_is_untracked() {
    let tracker = TaskTracker::new();
    tracker.close();
    let mut job = polled(tracker.track_future(pending::<()>()));
    job.pending();
    let mut w = polled(tracker.wait());
    w.pending();
    drop(job);
    assert!(tracker.is_empty());
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn a_tracked_future_never_polled_is_untracked_on_drop() {
    let tracker = TaskTracker::new();
    let job = tracker.track_future(async {});
    assert_eq!(tracker.len(), 1);
    drop(job);
    assert!(tracker.is_empty());
}

#[test]
fn a_tracked_future_passes_its_wakes_and_output_through() {
    let tracker = TaskTracker::new();
    let inner = sluicegate::Event::new();
    let mut job = polled(tracker.track_future(async {
        inner.wait().await;
        "done"
    }));
    job.pending();
    inner.set();
    assert_eq!(job.wakes(), 1);
    assert_eq!(job.ready(), "done");
}

#[test]
fn closing_with_work_in_flight_releases_nobody() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let mut ws = waiters(&tracker, 3);
    tracker.close();
    assert!(ws.iter().all(|w| w.wakes() == 0));
    for w in &mut ws {
        w.pending();
    }
    drop(token);
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn the_last_token_dropped_on_an_open_tracker_releases_nobody() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let mut w = polled(tracker.wait());
    w.pending();
    drop(token);
    assert_eq!(w.wakes(), 0, "not closed");
    w.pending();
    tracker.close();
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn a_drain_wakes_more_waiters_than_a_wake_batch_exactly_once() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    tracker.close();
    let mut ws = waiters(&tracker, MANY);
    drop(token);
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn closing_an_empty_tracker_wakes_more_waiters_than_a_wake_batch() {
    let tracker = TaskTracker::new();
    let mut ws = waiters(&tracker, MANY);
    tracker.close();
    tracker.close();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn a_released_wait_completes_even_if_reopened_and_tracked_before_the_repoll() {
    let tracker = TaskTracker::new();
    let mut ws = waiters(&tracker, 3);
    tracker.close();
    // Before the waiters run: reopened, and new work started.
    tracker.reopen();
    let _busy = tracker.token();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn a_wait_that_starts_after_a_reopen_waits_for_the_next_drain() {
    let tracker = TaskTracker::new();
    let mut early = polled(tracker.wait());
    early.pending();
    tracker.close();
    tracker.reopen();
    let mut late = polled(tracker.wait());
    late.pending();
    early.ready();
    late.pending();
    assert_eq!(late.wakes(), 0);
    let token = tracker.token();
    tracker.close();
    assert_eq!(late.wakes(), 0, "closed, but not empty");
    drop(token);
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn repeated_close_reopen_cycles_release_each_generation_once() {
    let tracker = TaskTracker::new();
    let mut current = polled(tracker.wait());
    current.pending();
    for _ in 0..50 {
        tracker.close();
        tracker.reopen();
        let mut next = polled(tracker.wait());
        next.pending();
        assert_eq!(current.wakes(), 1);
        assert_eq!(next.wakes(), 0);
        current.ready();
        current = next;
    }
    tracker.close();
    current.ready();
}

#[test]
fn a_waiter_not_repolled_across_many_drains_is_woken_once_and_completes() {
    let tracker = TaskTracker::new();
    let mut w = polled(tracker.wait());
    w.pending();
    for _ in 0..10 {
        tracker.close();
        tracker.reopen();
        drop(tracker.token());
    }
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn a_waiter_dropped_while_queued_leaves_the_others_and_the_queue_intact() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    tracker.close();
    let mut ws = waiters(&tracker, 5);
    // The last, a middle and the first one.
    drop(ws.pop());
    drop(ws.remove(2));
    drop(ws.remove(0));
    drop(token);
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    // The queue is consistent afterwards: new waiters queue and wake.
    tracker.reopen();
    let mut again = waiters(&tracker, 2);
    tracker.close();
    for w in &mut again {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn every_waiter_dropped_while_queued_leaves_an_empty_queue() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    drop(waiters(&tracker, 4));
    tracker.close();
    drop(token);
    let mut w = polled(tracker.wait());
    w.ready();
    tracker.reopen();
    let mut w = polled(tracker.wait());
    w.pending();
    tracker.close();
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn a_waiter_dropped_after_its_wake_before_the_repoll_loses_nothing_for_the_others() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    tracker.close();
    let mut ws = waiters(&tracker, MANY);
    drop(token);
    // Woken, then dropped without being polled again: one from the first
    // batch, one from a later one.
    drop(ws.remove(30));
    drop(ws.remove(0));
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    // Nothing stuck: a later drain still releases new waiters.
    tracker.reopen();
    let mut late = polled(tracker.wait());
    late.pending();
    tracker.close();
    late.ready();
}

#[test]
fn a_never_polled_wait_dropped_changes_nothing() {
    let tracker = TaskTracker::new();
    drop(tracker.wait());
    let mut w = polled(tracker.wait());
    w.pending();
    tracker.close();
    w.ready();
}

#[test]
fn repoll_with_a_new_waker_moves_the_wake_up_to_it() {
    let tracker = TaskTracker::new();
    let first = Arc::new(CountingWaker::default());
    let second = Arc::new(CountingWaker::default());
    let (w1, w2) = (Waker::from(first.clone()), Waker::from(second.clone()));
    let mut fut = pin!(tracker.wait());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w1))
        .is_pending());
    assert!(fut
        .as_mut()
        .poll(&mut Context::from_waker(&w2))
        .is_pending());
    tracker.close();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert_eq!(
        fut.as_mut().poll(&mut Context::from_waker(&w2)),
        Poll::Ready(())
    );
}

#[test]
#[should_panic(expected = "polled after completion")]
fn wait_polled_after_completion_panics() {
    let tracker = TaskTracker::new();
    tracker.close();
    let mut w = polled(tracker.wait());
    w.ready();
    let _ = w.poll();
}

#[test]
fn debug_output_shows_the_state() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    let s = format!("{tracker:?}");
    assert!(s.contains("len: 1") && s.contains("closed: false"), "{s}");
    tracker.close();
    assert!(format!("{tracker:?}").contains("closed: true"));
    assert!(format!("{token:?}").contains("TaskTrackerToken"));
    assert!(format!("{:?}", tracker.wait()).contains("TaskTrackerWait"));
    assert!(format!("{:?}", tracker.track_future(async {})).contains("TrackFuture"));
}

// ---------------------------------------------------------------------------
// Interleavings inside one drain: the first waiter's wake-up runs between
// two wake batches (see `common::poll`).

#[test]
fn a_wait_queued_after_a_reopen_in_the_middle_of_a_drain_waits_for_the_next() {
    static TRACKER: TaskTracker = TaskTracker::new();
    let late = Arc::new(Mutex::new(None::<(Polled<TaskTrackerWait<'static>>, _)>));
    let late_in_hook = late.clone();
    let mut first = Polled::with_hook(TRACKER.wait(), move || {
        TRACKER.reopen();
        let busy = TRACKER.token();
        let mut w = polled(TRACKER.wait());
        w.pending();
        *late_in_hook.lock().unwrap() = Some((w, busy));
    });
    first.pending();
    let mut rest = waiters(&TRACKER, MANY);
    TRACKER.close();
    assert!(first.hook_ran());
    // Everyone queued before the drain is released, in every batch ...
    assert!(rest.iter().all(|w| w.wakes() == 1));
    first.ready();
    for w in &mut rest {
        w.ready();
    }
    // ... but not the waiter that came after the reopen.
    let (mut late, busy) = late.lock().unwrap().take().unwrap();
    assert_eq!(late.wakes(), 0);
    late.pending();
    TRACKER.close();
    assert_eq!(late.wakes(), 0, "closed, but the hook's task is in flight");
    drop(busy);
    assert_eq!(late.wakes(), 1);
    late.ready();
}

#[test]
fn a_second_drain_in_the_middle_of_a_drain_releases_everyone_once() {
    static TRACKER: TaskTracker = TaskTracker::new();
    let late = Arc::new(Mutex::new(None::<Polled<TaskTrackerWait<'static>>>));
    let late_in_hook = late.clone();
    let mut first = Polled::with_hook(TRACKER.wait(), move || {
        TRACKER.reopen();
        let mut w = polled(TRACKER.wait());
        w.pending();
        *late_in_hook.lock().unwrap() = Some(w);
        // This drain takes over the waiters the first one has not reached.
        TRACKER.close();
    });
    first.pending();
    let mut rest = waiters(&TRACKER, MANY);
    TRACKER.close();
    assert!(first.hook_ran());
    assert_eq!(first.wakes(), 1);
    assert!(rest.iter().all(|w| w.wakes() == 1));
    let mut late = late.lock().unwrap().take().unwrap();
    assert_eq!(late.wakes(), 1);
    first.ready();
    for w in &mut rest {
        w.ready();
    }
    late.ready();
}

#[test]
fn a_waiter_dropped_in_the_middle_of_a_drain_is_skipped() {
    static TRACKER: TaskTracker = TaskTracker::new();
    let victim = Arc::new(Mutex::new(None::<Polled<TaskTrackerWait<'static>>>));
    let victim_in_hook = victim.clone();
    let mut first = Polled::with_hook(TRACKER.wait(), move || {
        drop(victim_in_hook.lock().unwrap().take());
    });
    first.pending();
    let mut rest = waiters(&TRACKER, MANY);
    let mut v = polled(TRACKER.wait());
    v.pending();
    *victim.lock().unwrap() = Some(v);
    let mut after = polled(TRACKER.wait());
    after.pending();
    TRACKER.close();
    assert!(victim.lock().unwrap().is_none());
    assert!(rest.iter().all(|w| w.wakes() == 1));
    assert_eq!(after.wakes(), 1);
    first.ready();
    after.ready();
    for w in &mut rest {
        w.ready();
    }
}

#[test]
fn a_panicking_wake_in_a_drain_spanning_several_batches_still_releases_every_waiter() {
    let tracker = TaskTracker::new();
    let token = tracker.token();
    tracker.close();
    let mut ws = vec![Polled::with_hook(tracker.wait(), || panic!("wake failed"))];
    for _ in 1..=MANY {
        ws.push(polled(tracker.wait()));
    }
    for w in &mut ws {
        w.pending();
    }
    // The panic reaches whoever dropped the last token ...
    assert!(catch_unwind(AssertUnwindSafe(|| drop(token))).is_err());
    // ... after the count was settled and every waiter released.
    assert!(tracker.is_empty());
    assert!(ws.iter().all(|w| w.wakes() == 1));
    for w in &mut ws {
        w.ready();
    }
    // And the tracker still works.
    tracker.reopen();
    let mut again = polled(tracker.wait());
    again.pending();
    tracker.close();
    again.ready();
}

#[test]
fn a_panicking_waker_clone_leaves_the_tracker_consistent() {
    let bad = common::poll::panicking_clone_waker();
    let tracker = TaskTracker::new();
    let mut other = polled(tracker.wait());
    other.pending();
    let mut fut = Box::pin(tracker.wait());
    let poll = catch_unwind(AssertUnwindSafe(|| {
        fut.as_mut().poll(&mut Context::from_waker(&bad))
    }));
    assert!(poll.is_err());
    drop(fut);
    tracker.close();
    assert_eq!(other.wakes(), 1);
    other.ready();
}

// ---------------------------------------------------------------------------
// Owned forms.

#[test]
fn owned_tokens_and_futures_count_and_keep_the_tracker_alive() {
    let tracker = Arc::new(TaskTracker::new());
    let token = tracker.clone().token_owned();
    let clone = token.clone();
    let job = tracker.clone().track_future_owned(async { 3 });
    assert_eq!(tracker.len(), 3);
    assert_eq!(Arc::strong_count(&tracker), 4);
    assert!(Arc::ptr_eq(token.task_tracker(), &tracker));
    assert!(Arc::ptr_eq(job.task_tracker(), &tracker));
    tracker.close();
    let mut w = polled(tracker.wait());
    w.pending();
    drop((token, clone));
    assert_eq!(futures_lite::future::block_on(job), 3);
    assert_eq!(w.wakes(), 1);
    w.ready();
    assert_eq!(Arc::strong_count(&tracker), 1);
}

#[test]
fn an_owned_token_outlives_its_last_other_handle() {
    let tracker = Arc::new(TaskTracker::new());
    let token = tracker.clone().token_owned();
    let weak = Arc::downgrade(&tracker);
    drop(tracker);
    assert_eq!(weak.upgrade().map(|t| t.len()), Some(1));
    drop(token);
    assert!(weak.upgrade().is_none());
}
