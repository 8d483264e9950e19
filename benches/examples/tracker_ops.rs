//! The `Arc` rows of the `task_tracker` bench, a fixed number of times, for
//! profilers that count instructions rather than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example tracker_ops
//! valgrind --tool=callgrind --toggle-collect='tracker_ops::measured*' \
//!     target/release/examples/tracker_ops sluicegate-owned token 1000000
//! ```
//!
//! Arguments: `<contestant> <token|track_future> <iterations>`, with
//! contestants `sluicegate` (a borrowed tracker), `sluicegate-owned` (the
//! `Arc` forms, `token_owned` and `track_future_owned`, on a clone of the
//! `Arc`, as the bench does) and `tokio-util`. One iteration is one bench
//! iteration: a token made and dropped, or a tracked ready future made,
//! polled and dropped; callgrind's total divided by the iterations is the
//! cost of one. Prints the wall time per iteration.

use std::future::{ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Instant;

use sluicegate::TaskTracker;
use tokio_util::task::TaskTracker as TokioTracker;

#[inline(never)]
fn measured_token_ours(tracker: &TaskTracker, n: usize) {
    for _ in 0..n {
        drop(black_box(tracker.token()));
    }
}

#[inline(never)]
fn measured_token_owned(tracker: &Arc<TaskTracker>, n: usize) {
    for _ in 0..n {
        drop(black_box(tracker.clone().token_owned()));
    }
}

#[inline(never)]
fn measured_token_tokio(tracker: &TokioTracker, n: usize) {
    for _ in 0..n {
        drop(black_box(tracker.token()));
    }
}

#[inline(never)]
fn measured_track_ours(tracker: &TaskTracker, n: usize) {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        let fut = pin!(tracker.track_future(ready(black_box(1u32))));
        assert!(fut.poll(&mut cx).is_ready());
    }
}

#[inline(never)]
fn measured_track_owned(tracker: &Arc<TaskTracker>, n: usize) {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        let fut = pin!(tracker.clone().track_future_owned(ready(black_box(1u32))));
        assert!(fut.poll(&mut cx).is_ready());
    }
}

#[inline(never)]
fn measured_track_tokio(tracker: &TokioTracker, n: usize) {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        let fut = pin!(tracker.track_future(ready(black_box(1u32))));
        assert!(fut.poll(&mut cx).is_ready());
    }
}

fn main() {
    let usage = "usage: tracker_ops <sluicegate|sluicegate-owned|tokio-util> <token|track_future> <iterations>";
    let mut args = std::env::args().skip(1);
    let which = args.next().expect(usage);
    let row = args.next().expect(usage);
    let n: usize = args.next().expect(usage).parse().expect(usage);
    let ours = TaskTracker::new();
    let owned = Arc::new(TaskTracker::new());
    let theirs = TokioTracker::new();
    let start = Instant::now();
    match (which.as_str(), row.as_str()) {
        ("sluicegate", "token") => measured_token_ours(black_box(&ours), n),
        ("sluicegate-owned", "token") => measured_token_owned(black_box(&owned), n),
        ("tokio-util", "token") => measured_token_tokio(black_box(&theirs), n),
        ("sluicegate", "track_future") => measured_track_ours(black_box(&ours), n),
        ("sluicegate-owned", "track_future") => measured_track_owned(black_box(&owned), n),
        ("tokio-util", "track_future") => measured_track_tokio(black_box(&theirs), n),
        _ => panic!("{usage}"),
    }
    let per = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    println!("{which} {row}: {per:.2} ns per iteration ({n} iterations)");
}
