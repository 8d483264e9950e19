//! The `limit` module against its peers, in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench limit
//! python3 benches/report.py   # or read target/criterion/limit_*/
//! ```
//!
//! Rows (nanoseconds per operation, lower is better):
//!
//! - `limit_rate_try_acquire_{std,quanta}`: one `try_acquire` that is
//!   admitted (a quota of one cell per nanosecond, burst 10^9, so it never
//!   refuses), single thread. `std`: both limiters read
//!   `std::time::Instant` (sluicegate's `StdClock`, governor's
//!   `MonotonicClock`); `quanta`: both read governor's default
//!   `QuantaClock` (sluicegate through a three-line `Clock` adapter). The
//!   clock is most of the cost, so each pair shares one.
//! - `limit_rate_try_acquire_2t_{std,quanta}`: the same from 2 threads at
//!   once on one limiter (the time per call, both threads' calls counted).
//! - `limit_rate_refused`: a `try_acquire` refused (too soon), computing
//!   the wait it reports.
//! - `limit_rate_acquire_wait`: the waiting path of `acquire`: the cell is
//!   one interval away, so the future queues (the gate semaphore), computes
//!   its deadline, sleeps on the timer and takes the cell. The timer here
//!   is a counter that jumps to the deadline, so only the limiter's own
//!   work is measured. governor's `until_ready` sleeps on a real timer
//!   (futures-timer), so it has no row here.
//! - `limit_adaptive_acquire_release_{cheap,std}`: one uncontended
//!   `acquire` (polled once, ready) and `success()`: the adaptive
//!   limiter with AIMD, against the plain `Semaphore`'s acquire + drop and
//!   against congestion-limiter (a tokio-bound port of Netflix's library:
//!   `try_acquire` + `release(Success)`, AIMD, on a current-thread tokio
//!   runtime). `cheap`: sluicegate's clock is a counter (the limiter's own
//!   cost); `std`: `StdClock`, two reads per call. congestion-limiter always
//!   reads tokio's `Instant` (std's).

use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sluicegate::limit::{AdaptiveLimiter, Aimd, Quota, RateLimiter};
use sluicegate::time::StdClock;
use sluicegate::Semaphore;

#[allow(dead_code)]
#[path = "../common/limit_clocks.rs"]
mod limit_clocks;
use limit_clocks::{governor_quota, now_or_never, open_quota, Jump, Quanta};

/// `iters` calls of `f`, half on each of two threads at once.
fn two_threads(iters: u64, f: &(dyn Fn() + Sync)) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..iters / 2 {
                    f();
                }
            });
        }
    });
    start.elapsed()
}

fn rate_try_acquire(c: &mut Criterion) {
    {
        let mut g = c.benchmark_group("limit_rate_try_acquire_std");
        let ours = RateLimiter::new(StdClock, open_quota());
        g.bench_function("sluicegate", |b| {
            b.iter(|| black_box(&ours).try_acquire().unwrap())
        });
        let theirs = governor::RateLimiter::direct_with_clock(
            governor_quota(),
            governor::clock::MonotonicClock,
        );
        g.bench_function("governor", |b| {
            b.iter(|| black_box(&theirs).check().unwrap())
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("limit_rate_try_acquire_quanta");
        let ours = RateLimiter::new(Quanta::new(), open_quota());
        g.bench_function("sluicegate", |b| {
            b.iter(|| black_box(&ours).try_acquire().unwrap())
        });
        let theirs = governor::RateLimiter::direct(governor_quota());
        g.bench_function("governor", |b| {
            b.iter(|| black_box(&theirs).check().unwrap())
        });
        g.finish();
    }
}

fn rate_try_acquire_2t(c: &mut Criterion) {
    {
        let mut g = c.benchmark_group("limit_rate_try_acquire_2t_std");
        let ours = RateLimiter::new(StdClock, open_quota());
        g.bench_function("sluicegate", |b| {
            b.iter_custom(|n| {
                two_threads(n, &|| {
                    let _ = black_box(black_box(&ours).try_acquire());
                })
            })
        });
        let theirs = governor::RateLimiter::direct_with_clock(
            governor_quota(),
            governor::clock::MonotonicClock,
        );
        g.bench_function("governor", |b| {
            b.iter_custom(|n| {
                two_threads(n, &|| {
                    let _ = black_box(black_box(&theirs).check());
                })
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("limit_rate_try_acquire_2t_quanta");
        let ours = RateLimiter::new(Quanta::new(), open_quota());
        g.bench_function("sluicegate", |b| {
            b.iter_custom(|n| {
                two_threads(n, &|| {
                    let _ = black_box(black_box(&ours).try_acquire());
                })
            })
        });
        let theirs = governor::RateLimiter::direct(governor_quota());
        g.bench_function("governor", |b| {
            b.iter_custom(|n| {
                two_threads(n, &|| {
                    let _ = black_box(black_box(&theirs).check());
                })
            })
        });
        g.finish();
    }
}

fn rate_refused(c: &mut Criterion) {
    let mut g = c.benchmark_group("limit_rate_refused");
    let ours = RateLimiter::new(StdClock, Quota::per_minute(1));
    ours.try_acquire().unwrap();
    g.bench_function("sluicegate", |b| {
        b.iter(|| black_box(&ours).try_acquire().unwrap_err())
    });
    let theirs = governor::RateLimiter::direct_with_clock(
        governor::Quota::per_minute(NonZeroU32::new(1).unwrap()),
        governor::clock::MonotonicClock,
    );
    theirs.check().unwrap();
    g.bench_function("governor", |b| {
        b.iter(|| black_box(&theirs).check().unwrap_err())
    });
    g.finish();
}

fn rate_acquire_wait(c: &mut Criterion) {
    let mut g = c.benchmark_group("limit_rate_acquire_wait");
    let ours = RateLimiter::new(Jump::default(), Quota::per_second(1000).with_burst(1));
    g.bench_function("sluicegate", |b| {
        b.iter(|| now_or_never(black_box(&ours).acquire()).unwrap())
    });
    g.finish();
}

fn adaptive_acquire_release(c: &mut Criterion) {
    for (group, std_clock) in [
        ("limit_adaptive_acquire_release_cheap", false),
        ("limit_adaptive_acquire_release_std", true),
    ] {
        let mut g = c.benchmark_group(group);
        let sem = Semaphore::new(20);
        g.bench_function("semaphore", |b| {
            b.iter(|| drop(now_or_never(black_box(&sem).acquire()).unwrap()))
        });
        if std_clock {
            let ours = AdaptiveLimiter::new(StdClock, Aimd::new());
            g.bench_function("sluicegate", |b| {
                b.iter(|| now_or_never(black_box(&ours).acquire()).success())
            });
        } else {
            let ours = AdaptiveLimiter::new(Jump::default(), Aimd::new());
            g.bench_function("sluicegate", |b| {
                b.iter(|| now_or_never(black_box(&ours).acquire()).success())
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let theirs = Arc::new(congestion_limiter::limiter::DefaultLimiter::new(
            congestion_limiter::limits::Aimd::new_with_initial_limit(20),
        ));
        g.bench_function("congestion-limiter", |b| {
            b.iter_custom(|n| {
                use congestion_limiter::limiter::{Limiter as _, Outcome};
                let theirs = theirs.clone();
                rt.block_on(async move {
                    let start = Instant::now();
                    for _ in 0..n {
                        let t = black_box(&theirs).try_acquire().await.unwrap();
                        theirs.release(t, Some(Outcome::Success)).await;
                    }
                    start.elapsed()
                })
            })
        });
        g.finish();
    }
}

criterion_group!(
    benches,
    rate_try_acquire,
    rate_try_acquire_2t,
    rate_refused,
    rate_acquire_wait,
    adaptive_acquire_release
);
criterion_main!(benches);
