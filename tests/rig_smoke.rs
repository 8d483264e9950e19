//! The rig itself: every executor runs the body and spawned tasks.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn every_executor_runs_the_body_and_spawned_tasks() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    common::run(move |ex| {
        let r = r.clone();
        async move {
            let handles: Vec<_> = (0..8u64).map(|i| ex.spawn(async move { i * 2 })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await;
            }
            assert_eq!(sum, 56, "under {}", ex.name());
            r.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(runs.load(Ordering::SeqCst), 5);
}

#[test]
#[should_panic(expected = "boom")]
fn a_panicking_spawned_task_fails_the_test() {
    common::run(|ex| async move {
        ex.spawn(async { panic!("boom") }).await;
    });
}
