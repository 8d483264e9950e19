//! The user's loom models: `RUSTFLAGS="--cfg loom" cargo test --release`.
//! Nothing in this crate's manifest mentions async-lock or event-listener:
//! sluicegate turns their loom support on itself under `cfg(loom)`.
#![cfg(loom)]

use std::sync::Arc;

use loom::future::block_on;
use loom::thread;
use sluicegate_downstream_loom::Jobs;

#[test]
fn every_job_finishes_and_done_is_set() {
    loom::model(|| {
        let jobs = Arc::new(Jobs::new(1, 2));
        let other = {
            let jobs = jobs.clone();
            thread::spawn(move || block_on(jobs.run(|| ())))
        };
        block_on(jobs.run(|| ()));
        other.join().unwrap();
        block_on(jobs.done.wait());
    });
}

#[test]
#[should_panic(expected = "lost an update")]
fn loom_finds_the_lost_update_in_run_racy() {
    // Two slots, so both jobs run at once: in some interleaving both read
    // the same count, and loom finds it.
    loom::model(|| {
        let jobs = Arc::new(Jobs::new(2, 2));
        let other = {
            let jobs = jobs.clone();
            thread::spawn(move || block_on(jobs.run_racy(|| ())))
        };
        block_on(jobs.run_racy(|| ()));
        other.join().unwrap();
        assert_eq!(jobs.finished(), 2, "lost an update");
    });
}
