//! The overhead of the resilience wrappers on the happy path, against the
//! bare future, polled once with a no-op waker:
//!
//! - `breaker_closed`: `CircuitBreaker::call` around a ready `Ok` future
//!   (target: under 20 ns over bare), `try_acquire` + `success`, and the
//!   locked path taken when a failure-rate window is on.
//! - `timeout_ready`: `timeout` around a ready future, with a no-op
//!   `sleeper_fn` (the combinator alone), `ManualClock` and tokio's timer.
//!
//! Run: `cargo bench -p sluicegate-benches --bench resilience`.

use std::future::{pending, ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sluicegate::breaker::{BreakerConfig, CircuitBreaker};
use sluicegate::time::{sleeper_fn, timeout, ManualClock, StdClock, TokioTimer};

#[inline(always)]
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

fn breaker_closed(c: &mut Criterion) {
    let mut g = c.benchmark_group("breaker_closed");
    g.bench_function("bare", |b| {
        b.iter(|| poll_once(ready(Ok::<u64, ()>(black_box(1)))))
    });
    let breaker = CircuitBreaker::new(StdClock, 5, Duration::from_secs(60));
    g.bench_function("call", |b| {
        b.iter(|| poll_once(breaker.call(ready(Ok::<u64, ()>(black_box(1))))))
    });
    g.bench_function("try_acquire_success", |b| {
        b.iter(|| breaker.try_acquire().unwrap().success())
    });
    let windowed = CircuitBreaker::with_config(
        StdClock,
        BreakerConfig::new().failure_rate(50, 100, 20),
        core::iter::repeat(Duration::from_secs(60)),
    );
    g.bench_function("call_with_failure_rate_window", |b| {
        b.iter(|| poll_once(windowed.call(ready(Ok::<u64, ()>(black_box(1))))))
    });
    g.finish();
}

fn timeout_ready(c: &mut Criterion) {
    let mut g = c.benchmark_group("timeout_ready");
    let d = Duration::from_secs(5);
    g.bench_function("bare", |b| b.iter(|| poll_once(ready(black_box(1u64)))));
    let noop = sleeper_fn(|_| pending::<()>());
    g.bench_function("noop_timer", |b| {
        b.iter(|| poll_once(timeout(&noop, black_box(d), ready(black_box(1u64)))))
    });
    let clock = ManualClock::new();
    g.bench_function("manual_clock", |b| {
        b.iter(|| poll_once(timeout(&clock, black_box(d), ready(black_box(1u64)))))
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();
    g.bench_function("tokio_timer", |b| {
        b.iter(|| poll_once(timeout(TokioTimer, black_box(d), ready(black_box(1u64)))))
    });
    g.bench_function("tokio_time_timeout", |b| {
        b.iter(|| poll_once(tokio::time::timeout(black_box(d), ready(black_box(1u64)))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = breaker_closed, timeout_ready
}
criterion_main!(benches);
