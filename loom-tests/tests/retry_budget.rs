//! loom models of what runs of one stored `Retry` share across threads:
//! the `RetryBudget`'s token bucket (a lock-free update must never be
//! lost) and the fork counter of its `DefaultRng` (each run's clone must
//! get a stream of its own).

use std::sync::Arc;

use sluicegate::retry::{DefaultRng, RandomSource, RetryBudget};
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

/// Two threads clone one seeded `DefaultRng` at once (two runs of one
/// stored policy starting together): they get different streams, and
/// between them exactly the seed's first two, whichever order they came in.
#[test]
fn concurrent_clones_fork_the_seeds_first_two_streams() {
    model(|| {
        let first_of = |rng: &DefaultRng| rng.clone().next_u64();
        let expected = {
            let fresh = DefaultRng::from_seed(7);
            let (a, b) = (first_of(&fresh), first_of(&fresh));
            if a < b {
                (a, b)
            } else {
                (b, a)
            }
        };
        let shared = Arc::new(DefaultRng::from_seed(7));
        let s = shared.clone();
        let other = thread::spawn(move || first_of(&s));
        let mine = first_of(&shared);
        let theirs = other.join().unwrap();
        assert_ne!(mine, theirs, "two runs, one jitter stream");
        assert_eq!((mine.min(theirs), mine.max(theirs)), expected);
    });
}
