//! sluicegate's `Pool` against deadpool (managed and unmanaged) and bb8,
//! side by side in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench pool
//! python3 benches/report.py        # the markdown table
//! ```
//!
//! Rows (every figure is nanoseconds per get+return, lower is better):
//!
//! - `pool_uncontended`: one task on a tokio current-thread runtime gets an
//!   object and drops the guard, over and over (the pool always has one
//!   idle).
//! - `pool_<runtime>_t<tasks>_p<size>`: `tasks` tasks share a pool of `size`
//!   objects; each does [`CYCLES`] rounds of get, yield to the executor
//!   while holding the object, return. The time of a whole round (spawn,
//!   run, join) is divided by `tasks * CYCLES`. Runtimes: tokio
//!   current-thread and multi-thread (one worker per core).
//!
//! Every managed contestant checks (recycles) an object before each reuse
//! with a check that is ready at once: sluicegate's and deadpool's
//! `recycle`, bb8's `is_valid` (its `test_on_check_out` is on by default).
//! The objects exist before the timing starts (criterion's warm-up makes
//! them). sluicegate and deadpool hand a returned object to the oldest
//! waiter; bb8 lets a new `get` take it first.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};

/// Get/yield/return cycles per task in the contended rows.
const CYCLES: usize = 64;
const TASKS: [usize; 2] = [16, 256];
const SIZES: [usize; 2] = [4, 16];
/// Get+return pairs per timed batch of the uncontended row.
const BATCH: u32 = 1000;

#[allow(dead_code)]
#[path = "../common/pools.rs"]
mod pools;
use pools::{Bb8Manager, BenchPool, Conn, DpManager, DpUnmanaged, SgManager, SgUnmanaged};

// ---------------------------------------------------------------------------

fn runtimes() -> [(&'static str, tokio::runtime::Runtime); 2] {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    [
        (
            "tokio-ct",
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap(),
        ),
        (
            "tokio-mt",
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_time()
                .build()
                .unwrap(),
        ),
    ]
}

fn uncontended<P: BenchPool>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
) {
    let pool = rt.block_on(async { P::with_size(1) });
    group.bench_function(P::NAME, |b| {
        b.iter_custom(|batches| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..batches {
                    for _ in 0..BATCH {
                        pool.cycle(false).await;
                    }
                }
                start.elapsed() / BATCH
            })
        })
    });
}

fn contended<P: BenchPool>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    tasks: usize,
    size: usize,
) {
    let pool = Arc::new(rt.block_on(async { P::with_size(size) }));
    let ops = u32::try_from(tasks * CYCLES).unwrap();
    group.bench_function(P::NAME, |b| {
        b.iter_custom(|rounds| {
            let start = Instant::now();
            for _ in 0..rounds {
                rt.block_on(async {
                    let handles: Vec<_> = (0..tasks)
                        .map(|_| {
                            let pool = pool.clone();
                            tokio::spawn(async move {
                                for _ in 0..CYCLES {
                                    pool.cycle(true).await;
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.await.unwrap();
                    }
                });
            }
            // Per get+return, not per round.
            start.elapsed() / ops
        })
    });
}

macro_rules! for_each_pool {
    ($f:ident($($arg:expr),*)) => {
        $f::<sluicegate::Pool<Conn, SgManager>>($($arg),*);
        $f::<SgUnmanaged>($($arg),*);
        $f::<deadpool::managed::Pool<DpManager>>($($arg),*);
        $f::<DpUnmanaged>($($arg),*);
        $f::<bb8::Pool<Bb8Manager>>($($arg),*);
    };
}

fn benches(c: &mut Criterion) {
    let rts = runtimes();
    {
        let mut g = c.benchmark_group("pool_uncontended");
        for_each_pool!(uncontended(&mut g, &rts[0].1));
        g.finish();
    }
    for (rt_name, rt) in &rts {
        for tasks in TASKS {
            for size in SIZES {
                let mut g = c.benchmark_group(format!("pool_{rt_name}_t{tasks}_p{size}"));
                // Rounds take up to milliseconds: few, equal-sized samples.
                g.sample_size(10).sampling_mode(SamplingMode::Flat);
                for_each_pool!(contended(&mut g, rt, tasks, size));
                g.finish();
            }
        }
    }
}

criterion_group! {
    name = pool;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(pool);
