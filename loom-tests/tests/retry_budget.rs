//! loom model of `RetryBudget`: its token bucket is shared by calls on
//! many threads, and a lock-free update must never be lost.

use std::sync::Arc;

use sluicegate::retry::RetryBudget;
use sluicegate_loom_tests::{model, thread};

/// A success and two failures are recorded at once on two threads. Away
/// from both ends of the bucket the updates commute, so every order ends
/// with the same count; a lost update would show as another count.
#[test]
fn concurrent_records_lose_no_update() {
    model(|| {
        let budget = Arc::new(RetryBudget::new(3, 1.0));
        budget.record_failure(); // 3 → 2 tokens
        let b = budget.clone();
        let failing = thread::spawn(move || {
            b.record_failure();
            b.record_failure();
        });
        budget.record_success();
        failing.join().unwrap();
        assert_eq!(budget.tokens(), 1.0);
    });
}
