//! sluicegate's `TaskTracker` against tokio-util's, in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench task_tracker
//! ```
//!
//! Rows (nanoseconds per operation, lower is better), all hand-polled with
//! a no-op waker, no runtime:
//!
//! - `tracker_token`: a token created and dropped (track + untrack).
//! - `tracker_track_future`: a ready future wrapped by `track_future`,
//!   polled to completion, and dropped.
//! - `tracker_wait_drained`: `wait()` on a closed, empty tracker, created
//!   and polled once (ready).
//! - `tracker_drain_one_waiter`: the slow path: a token, a `wait()` polled
//!   (pending), `close()`, the token dropped (the drain wakes the waiter),
//!   the waiter polled (ready), `reopen()`.
//!
//! Contestants: `sluicegate` borrows the tracker (`&TaskTracker`, as a
//! `static` does); `sluicegate-owned` uses the `Arc` forms
//! (`token_owned`, `track_future_owned`), which clone the `Arc` as
//! tokio-util's handles always do; `tokio-util` is
//! `tokio_util::task::TaskTracker`.

use std::future::{ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sluicegate::TaskTracker;
use tokio_util::task::TaskTracker as TokioTracker;

fn token(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker_token");
    let ours = TaskTracker::new();
    let ours = black_box(&ours);
    g.bench_function("sluicegate", |b| b.iter(|| drop(black_box(ours.token()))));
    let owned = Arc::new(TaskTracker::new());
    g.bench_function("sluicegate-owned", |b| {
        b.iter(|| drop(black_box(owned.clone().token_owned())))
    });
    let theirs = TokioTracker::new();
    g.bench_function("tokio-util", |b| b.iter(|| drop(black_box(theirs.token()))));
    g.finish();
}

fn track_future(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker_track_future");
    let mut cx = Context::from_waker(Waker::noop());
    let ours = TaskTracker::new();
    let ours = black_box(&ours);
    g.bench_function("sluicegate", |b| {
        b.iter(|| {
            let fut = pin!(ours.track_future(ready(black_box(1u32))));
            assert!(fut.poll(&mut cx).is_ready());
        })
    });
    let owned = Arc::new(TaskTracker::new());
    g.bench_function("sluicegate-owned", |b| {
        b.iter(|| {
            let fut = pin!(owned.clone().track_future_owned(ready(black_box(1u32))));
            assert!(fut.poll(&mut cx).is_ready());
        })
    });
    let theirs = TokioTracker::new();
    g.bench_function("tokio-util", |b| {
        b.iter(|| {
            let fut = pin!(theirs.track_future(ready(black_box(1u32))));
            assert!(fut.poll(&mut cx).is_ready());
        })
    });
    g.finish();
}

fn wait_drained(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker_wait_drained");
    let mut cx = Context::from_waker(Waker::noop());
    let ours = TaskTracker::new();
    ours.close();
    let ours = black_box(&ours);
    g.bench_function("sluicegate", |b| {
        b.iter(|| assert!(pin!(ours.wait()).poll(&mut cx).is_ready()))
    });
    let theirs = TokioTracker::new();
    theirs.close();
    let theirs = black_box(&theirs);
    g.bench_function("tokio-util", |b| {
        b.iter(|| assert!(pin!(theirs.wait()).poll(&mut cx).is_ready()))
    });
    g.finish();
}

fn drain_one_waiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("tracker_drain_one_waiter");
    let mut cx = Context::from_waker(Waker::noop());
    let ours = TaskTracker::new();
    let ours = black_box(&ours);
    g.bench_function("sluicegate", |b| {
        b.iter(|| {
            let token = ours.token();
            let mut w = pin!(ours.wait());
            assert!(w.as_mut().poll(&mut cx).is_pending());
            ours.close();
            drop(token);
            assert!(w.as_mut().poll(&mut cx).is_ready());
            ours.reopen();
        })
    });
    let theirs = TokioTracker::new();
    let theirs = black_box(&theirs);
    g.bench_function("tokio-util", |b| {
        b.iter(|| {
            let token = theirs.token();
            let mut w = pin!(theirs.wait());
            assert!(w.as_mut().poll(&mut cx).is_pending());
            theirs.close();
            drop(token);
            assert!(w.as_mut().poll(&mut cx).is_ready());
            theirs.reopen();
        })
    });
    g.finish();
}

criterion_group! {
    name = task_tracker;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = token, track_future, wait_drained, drain_one_waiter
}
criterion_main!(task_tracker);
