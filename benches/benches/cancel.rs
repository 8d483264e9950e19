//! sluicegate's `CancellationToken` (and `RootToken`) against tokio-util's
//! `CancellationToken`, doing the same thing, in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench cancel
//! python3 benches/report.py        # the markdown table
//! ```
//!
//! Rows (nanoseconds per operation, lower is better); every future is
//! polled by hand with a no-op waker, no runtime:
//!
//! - `cancel_is_cancelled`: `is_cancelled()` on a live child token (a
//!   cancelled one is no different for either).
//! - `cancel_ready_cancelled`: `cancelled()` on an already-cancelled token,
//!   created and polled once (ready).
//! - `cancel_child_create_drop`: `child_token()` of a long-lived parent
//!   (which has another child, so its list is not empty), then dropping it.
//! - `cancel_fanout_10000`: `cancel()` of a token with 10,000 registered
//!   `cancelled()` futures (each created and polled once before the clock
//!   starts), until every waiter is woken; the figure is per cancel, and
//!   the futures are polled again (ready) and dropped after the clock
//!   stops.
//!
//! Contestants: `sluicegate` (`CancellationToken`), `sluicegate-root` (the
//! flat `RootToken`, where the row applies) and `tokio-util`.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use sluicegate::cancel::RootToken;
use sluicegate::CancellationToken;
use tokio_util::sync::CancellationToken as TokioToken;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;
type Row = fn(&mut Group<'_>);

const WAITERS: usize = 10_000;

fn is_cancelled(g: &mut Group<'_>) {
    let parent = CancellationToken::new();
    let token = parent.child_token();
    let token = black_box(&token);
    g.bench_function("sluicegate", |b| b.iter(|| token.is_cancelled()));
    let root = RootToken::new();
    let root = black_box(&root);
    g.bench_function("sluicegate-root", |b| b.iter(|| root.is_cancelled()));
    let parent = TokioToken::new();
    let token = parent.child_token();
    let token = black_box(&token);
    g.bench_function("tokio-util", |b| b.iter(|| token.is_cancelled()));
}

fn ready_cancelled(g: &mut Group<'_>) {
    let mut cx = Context::from_waker(Waker::noop());
    let token = CancellationToken::new();
    token.cancel();
    let token = black_box(&token);
    g.bench_function("sluicegate", |b| {
        b.iter(|| {
            let mut fut = std::pin::pin!(token.cancelled());
            assert!(fut.as_mut().poll(&mut cx).is_ready());
        })
    });
    let root = RootToken::new();
    root.cancel();
    let root = black_box(&root);
    g.bench_function("sluicegate-root", |b| {
        b.iter(|| {
            let mut fut = std::pin::pin!(root.cancelled());
            assert!(fut.as_mut().poll(&mut cx).is_ready());
        })
    });
    let token = TokioToken::new();
    token.cancel();
    let token = black_box(&token);
    g.bench_function("tokio-util", |b| {
        b.iter(|| {
            let mut fut = std::pin::pin!(token.cancelled());
            assert!(fut.as_mut().poll(&mut cx).is_ready());
        })
    });
}

fn child_create_drop(g: &mut Group<'_>) {
    let parent = CancellationToken::new();
    let _sibling = parent.child_token();
    let parent = black_box(&parent);
    g.bench_function("sluicegate", |b| {
        b.iter(|| drop(black_box(parent.child_token())))
    });
    static ROOT: RootToken = RootToken::new();
    let _sibling = ROOT.child_token();
    g.bench_function("sluicegate-root", |b| {
        b.iter(|| drop(black_box(ROOT.child_token())))
    });
    let parent = TokioToken::new();
    let _sibling = parent.child_token();
    let parent = black_box(&parent);
    g.bench_function("tokio-util", |b| {
        b.iter(|| drop(black_box(parent.child_token())))
    });
}

/// Times `cancel` of a token (made by `new_token`) with `WAITERS` futures
/// (made by `wait`) registered; returns the total over `iters` rounds.
///
/// The futures lie side by side in one allocation, for both contestants
/// alike, so the figure is not at the mercy of where 10,000 separate boxes
/// land.
fn fanout_rounds<'t, T: 't, F: Future<Output = ()> + 't>(
    iters: u64,
    new_token: impl Fn() -> T,
    wait: impl Fn(&'t T) -> F,
    cancel: impl Fn(&T),
) -> Duration {
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let token = new_token();
        // SAFETY: the futures borrow `token` only until `futs` is dropped,
        // at the end of this round, before `token` (declared first).
        let token_ref: &'t T = unsafe { &*(&token as *const T) };
        let mut futs: Box<[F]> = (0..WAITERS).map(|_| wait(token_ref)).collect();
        for f in futs.iter_mut() {
            // SAFETY: the boxed slice is never moved out of or reallocated;
            // its elements are dropped in place with it.
            let f = unsafe { Pin::new_unchecked(f) };
            assert!(f.poll(&mut cx).is_pending());
        }
        let start = Instant::now();
        cancel(black_box(&token));
        total += start.elapsed();
        for f in futs.iter_mut() {
            // SAFETY: as above.
            let f = unsafe { Pin::new_unchecked(f) };
            assert!(f.poll(&mut cx).is_ready());
        }
        drop(futs);
        drop(token);
    }
    total
}

fn fanout(g: &mut Group<'_>) {
    g.bench_function("sluicegate", |b| {
        b.iter_custom(|iters| {
            fanout_rounds(
                iters,
                CancellationToken::new,
                CancellationToken::cancelled,
                CancellationToken::cancel,
            )
        })
    });
    g.bench_function("sluicegate-root", |b| {
        b.iter_custom(|iters| {
            fanout_rounds(
                iters,
                RootToken::new,
                RootToken::cancelled,
                RootToken::cancel,
            )
        })
    });
    g.bench_function("tokio-util", |b| {
        b.iter_custom(|iters| {
            fanout_rounds(
                iters,
                TokioToken::new,
                TokioToken::cancelled,
                TokioToken::cancel,
            )
        })
    });
}

fn benches(c: &mut Criterion) {
    let rows: [(&str, Row); 3] = [
        ("cancel_is_cancelled", is_cancelled),
        ("cancel_ready_cancelled", ready_cancelled),
        ("cancel_child_create_drop", child_create_drop),
    ];
    for (name, row) in rows {
        let mut g = c.benchmark_group(name);
        row(&mut g);
        g.finish();
    }
    let mut g = c.benchmark_group("cancel_fanout_10000");
    g.sample_size(50).measurement_time(Duration::from_secs(5));
    fanout(&mut g);
    g.finish();
}

criterion_group! {
    name = cancel;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(cancel);
