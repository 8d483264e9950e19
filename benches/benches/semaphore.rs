//! sluicegate's `Semaphore` against its peers, side by side in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench semaphore
//! python3 benches/report.py        # the markdown table
//! ```
//!
//! Rows (every figure is nanoseconds per acquire+release, lower is better):
//!
//! - `sem_uncontended`: one `acquire()` future polled by hand with a no-op
//!   waker (always ready), then the permit dropped. No runtime involved.
//! - `sem_<runtime>_t<tasks>_p<permits>`: `tasks` tasks share a semaphore of
//!   `permits` permits; each does [`CYCLES`] rounds of acquire, yield to the
//!   executor while holding the permit, release. The time of a whole round
//!   (spawn, run, join) is divided by `tasks * CYCLES`. Runtimes: tokio
//!   current-thread, tokio multi-thread (one worker per core), and smol's
//!   `async_executor::Executor` driven on the bench thread.
//!
//! Fairness of the contestants (see the README's table notes): sluicegate, tokio,
//! maitake-sync and futures-intrusive (constructed with `is_fair = true`)
//! hand permits to waiters in FIFO order; async-lock's semaphore is not fair
//! (a released permit goes back to the counter and whoever polls first,
//! including a task that never waited, takes it).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};

#[allow(dead_code)]
#[path = "../common/semaphores.rs"]
mod semaphores;
use semaphores::Sem;

/// Acquire/yield/release cycles per task in the contended rows.
const CYCLES: usize = 256;
const TASKS: [usize; 3] = [2, 16, 256];
const PERMITS: [usize; 2] = [1, 8];

/// Polls one acquire by hand (it must be ready) and drops the permit.
fn uncontended<S: Sem>(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let sem = S::with_permits(1);
    let sem = black_box(&sem);
    let mut cx = Context::from_waker(Waker::noop());
    group.bench_function(S::NAME, |b| {
        b.iter(|| {
            let fut = pin!(sem.acquire_one());
            match fut.poll(&mut cx) {
                Poll::Ready(permit) => drop(black_box(permit)),
                Poll::Pending => unreachable!("uncontended acquire must be ready"),
            }
        })
    });
}

#[derive(Clone, Copy)]
enum Yield {
    /// `tokio::task::yield_now`: really goes to the back of the run queue
    /// (a self-wake would land in the multi-thread scheduler's LIFO slot).
    Tokio,
    /// A self-wake and `Pending`, as smol expects.
    Lite,
}

async fn yield_now(y: Yield) {
    match y {
        Yield::Tokio => tokio::task::yield_now().await,
        Yield::Lite => futures_lite::future::yield_now().await,
    }
}

async fn worker<S: Sem>(sem: Arc<S>, y: Yield) {
    for _ in 0..CYCLES {
        let permit = sem.acquire_one().await;
        yield_now(y).await;
        drop(permit);
    }
}

enum Runtime {
    TokioCurrent(tokio::runtime::Runtime),
    TokioMulti(tokio::runtime::Runtime),
    Smol(async_executor::Executor<'static>),
}

impl Runtime {
    fn all() -> [(&'static str, Runtime); 3] {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        [
            (
                "tokio-ct",
                Runtime::TokioCurrent(
                    tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap(),
                ),
            ),
            (
                "tokio-mt",
                Runtime::TokioMulti(
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(workers)
                        .build()
                        .unwrap(),
                ),
            ),
            ("smol", Runtime::Smol(async_executor::Executor::new())),
        ]
    }

    /// One round: spawn `tasks` workers on one semaphore and join them all.
    fn round<S: Sem>(&self, tasks: usize, permits: usize) {
        let sem = Arc::new(S::with_permits(permits));
        match self {
            Runtime::TokioCurrent(rt) | Runtime::TokioMulti(rt) => rt.block_on(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| tokio::spawn(worker(sem.clone(), Yield::Tokio)))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }),
            Runtime::Smol(ex) => futures_lite::future::block_on(ex.run(async {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| ex.spawn(worker(sem.clone(), Yield::Lite)))
                    .collect();
                for h in handles {
                    h.await;
                }
            })),
        }
    }
}

fn contended<S: Sem>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    tasks: usize,
    permits: usize,
) {
    let ops = u32::try_from(tasks * CYCLES).unwrap();
    group.bench_function(S::NAME, |b| {
        b.iter_custom(|rounds| {
            let start = Instant::now();
            for _ in 0..rounds {
                rt.round::<S>(tasks, permits);
            }
            // Per acquire+release, not per round.
            start.elapsed() / ops
        })
    });
}

macro_rules! for_each_sem {
    ($f:ident($($arg:expr),*)) => {
        $f::<sluicegate::Semaphore>($($arg),*);
        $f::<tokio::sync::Semaphore>($($arg),*);
        $f::<async_lock::Semaphore>($($arg),*);
        $f::<maitake_sync::Semaphore>($($arg),*);
        $f::<futures_intrusive::sync::Semaphore>($($arg),*);
    };
}

fn benches(c: &mut Criterion) {
    {
        let mut g = c.benchmark_group("sem_uncontended");
        for_each_sem!(uncontended(&mut g));
        g.finish();
    }
    for (rt_name, rt) in Runtime::all() {
        for tasks in TASKS {
            for permits in PERMITS {
                let mut g = c.benchmark_group(format!("sem_{rt_name}_t{tasks}_p{permits}"));
                // Rounds take up to milliseconds: few, equal-sized samples.
                g.sample_size(10).sampling_mode(SamplingMode::Flat);
                for_each_sem!(contended(&mut g, &rt, tasks, permits));
                g.finish();
            }
        }
    }
}

criterion_group! {
    name = semaphore;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(semaphore);
