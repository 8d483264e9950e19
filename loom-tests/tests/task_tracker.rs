//! loom models of `TaskTracker`: the last token dropped racing `wait()`,
//! `close()` racing `wait()`, the last token dropped racing `close()` with a
//! waiter queued, a `wait()`
//! dropped while the drain wakes it, and a reopen racing a drain (a waiter
//! that starts after the reopen is not released by the earlier drain).
use std::sync::Arc;
use std::task::Poll;

use sluicegate::TaskTracker;
use sluicegate_loom_tests::{block_on, model, thread, Polled};

#[test]
fn last_token_dropped_racing_wait_always_completes() {
    model(|| {
        let tracker = Arc::new(TaskTracker::new());
        let token = tracker.clone().token_owned();
        tracker.close();
        let dropper = thread::spawn(move || drop(token));
        // Hangs (loom reports a deadlock) if the drain's wake-up is lost.
        block_on(tracker.wait());
        dropper.join().unwrap();
        assert!(tracker.is_empty());
    });
}

#[test]
fn close_racing_wait_on_an_empty_tracker_always_completes() {
    model(|| {
        let tracker = Arc::new(TaskTracker::new());
        let t = tracker.clone();
        let closer = thread::spawn(move || assert!(t.close()));
        block_on(tracker.wait());
        closer.join().unwrap();
    });
}

#[test]
fn last_token_dropped_racing_close_releases_the_queued_waiter_once() {
    model(|| {
        let tracker = Arc::new(TaskTracker::new());
        let token = tracker.clone().token_owned();
        let t = tracker.clone();
        let mut waiter = Polled::new(async move { t.wait().await });
        assert!(waiter.poll().is_pending());
        let dropper = thread::spawn(move || drop(token));
        let t = tracker.clone();
        let closer = thread::spawn(move || assert!(t.close()));
        dropper.join().unwrap();
        closer.join().unwrap();
        assert_eq!(waiter.wakes(), 1);
        assert_eq!(waiter.poll(), Poll::Ready(()));
    });
}

#[test]
fn wait_dropped_while_the_drain_wakes_it_loses_nothing_for_the_other() {
    model(|| {
        let tracker = Arc::new(TaskTracker::new());
        let token = tracker.clone().token_owned();
        tracker.close();
        let (t1, t2) = (tracker.clone(), tracker.clone());
        let mut gone = Polled::new(async move { t1.wait().await });
        let mut stays = Polled::new(async move { t2.wait().await });
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        let dropper = thread::spawn(move || drop(gone));
        let drainer = thread::spawn(move || drop(token));
        dropper.join().unwrap();
        drainer.join().unwrap();
        assert_eq!(stays.wakes(), 1);
        assert_eq!(stays.poll(), Poll::Ready(()));
    });
}

#[test]
fn a_wait_started_after_a_reopen_is_not_released_by_a_racing_drain() {
    model(|| {
        let tracker = Arc::new(TaskTracker::new());
        let token = tracker.clone().token_owned();
        tracker.close();
        let t = tracker.clone();
        let mut early = Polled::new(async move { t.wait().await });
        assert!(early.poll().is_pending());
        let drainer = thread::spawn(move || drop(token));
        let t = tracker.clone();
        let reopener = thread::spawn(move || {
            t.reopen();
            let t2 = t.clone();
            let mut late = Polled::new(async move { t2.wait().await });
            // The tracker is open from the reopen on: never drained since.
            assert!(late.poll().is_pending());
            late
        });
        drainer.join().unwrap();
        let mut late = reopener.join().unwrap();
        assert_eq!(late.wakes(), 0);
        assert!(late.poll().is_pending());
        // The early waiter is released iff the drain came before the
        // reopen; either way it completes once the tracker drains again.
        tracker.close();
        assert_eq!(early.wakes(), 1);
        assert_eq!(early.poll(), Poll::Ready(()));
        assert_eq!(late.wakes(), 1);
        assert_eq!(late.poll(), Poll::Ready(()));
    });
}
