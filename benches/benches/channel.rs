//! The bounded channel against its peers, in one run: `async_channel`,
//! `flume`, `kanal` (async bounded) and `tokio::sync::mpsc` (single consumer
//! rows only), for SPSC, MPSC (4 producers) and MPMC (4×4), capacities 1, 16
//! and 1024, on tokio current-thread, tokio multi-thread (2 workers) and a
//! one-thread smol executor, with `u64` and 64-byte messages. Plus the
//! worker-pool workload (20 workers, 10,000 jobs) against the same work gated
//! by a `Semaphore` of 20.
//!
//! Each measured iteration moves `MESSAGES` values (spawning the tasks is
//! included and negligible); criterion reports elements/s. Filter with the
//! usual criterion arguments, e.g. `cargo bench -p sluicegate-benches --bench
//! channel -- 'spsc/cap16/tokio-ct'`. The README's table is made from
//! `target/criterion` by `benches/channel_table.py`.
//!
//! Why capacity 1 differs: `benches/tests/peer_semantics.rs`.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const MESSAGES: u64 = 20_000;

// ---------------------------------------------------------------------------
// Runtimes.

type Join = Pin<Box<dyn Future<Output = ()> + Send>>;

trait Runtime: Spawn<Join = Join> {
    const NAME: &'static str;
    fn block_on<F: Future>(&self, f: F) -> F::Output;
}

struct TokioCt(tokio::runtime::Runtime);
struct TokioMt(tokio::runtime::Runtime);
struct Smol(Arc<smol::Executor<'static>>);

impl Runtime for TokioCt {
    const NAME: &'static str = "tokio-ct";
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

impl Spawn for TokioCt {
    type Join = Join;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Join {
        let h = self.0.spawn(f);
        Box::pin(async move { h.await.unwrap() })
    }
}

impl Runtime for TokioMt {
    const NAME: &'static str = "tokio-mt";
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

impl Spawn for TokioMt {
    type Join = Join;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Join {
        let h = self.0.spawn(f);
        Box::pin(async move { h.await.unwrap() })
    }
}

impl Runtime for Smol {
    const NAME: &'static str = "smol";
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::block_on(self.0.run(f))
    }
}

impl Spawn for Smol {
    type Join = Join;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Join {
        Box::pin(self.0.spawn(f))
    }
}

fn tokio_ct() -> TokioCt {
    TokioCt(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
    )
}

fn tokio_mt() -> TokioMt {
    TokioMt(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    )
}

fn smol_rt() -> Smol {
    Smol(Arc::new(smol::Executor::new()))
}

#[allow(dead_code)]
#[path = "../common/channels.rs"]
mod channels;
use channels::{
    workload, AsyncChannel, Channel, Flume, Kanal, Message, Msg64, Sluice, Spawn, TokioMpsc,
};

#[derive(Clone, Copy)]
struct Shape {
    name: &'static str,
    producers: u64,
    consumers: usize,
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "spsc",
        producers: 1,
        consumers: 1,
    },
    Shape {
        name: "mpsc4",
        producers: 4,
        consumers: 1,
    },
    Shape {
        name: "mpmc4x4",
        producers: 4,
        consumers: 4,
    },
];

const CAPACITIES: [usize; 3] = [1, 16, 1024];

fn bench_one<C: Channel<M>, M: Message, R: Runtime>(
    c: &mut Criterion,
    rt: &R,
    shape: Shape,
    cap: usize,
) {
    if shape.consumers > 1 && !C::MPMC {
        return;
    }
    let group_name = format!("channel/{}/cap{}/{}/{}", shape.name, cap, R::NAME, M::NAME);
    let mut g = c.benchmark_group(group_name);
    g.throughput(Throughput::Elements(MESSAGES));
    g.bench_function(BenchmarkId::from_parameter(C::NAME), |b| {
        b.iter(|| {
            rt.block_on(workload::<C, M>(
                rt,
                shape.producers,
                shape.consumers,
                cap,
                MESSAGES,
            ))
        })
    });
    g.finish();
}

fn bench_row<M: Message, R: Runtime>(c: &mut Criterion, rt: &R, shape: Shape, cap: usize) {
    bench_one::<Sluice, M, R>(c, rt, shape, cap);
    bench_one::<Flume, M, R>(c, rt, shape, cap);
    bench_one::<Kanal, M, R>(c, rt, shape, cap);
    bench_one::<AsyncChannel, M, R>(c, rt, shape, cap);
    bench_one::<TokioMpsc, M, R>(c, rt, shape, cap);
}

fn bench_runtime<R: Runtime>(c: &mut Criterion, rt: &R) {
    for shape in SHAPES {
        for cap in CAPACITIES {
            bench_row::<u64, R>(c, rt, shape, cap);
            bench_row::<Msg64, R>(c, rt, shape, cap);
        }
    }
}

fn channels(c: &mut Criterion) {
    bench_runtime(c, &tokio_ct());
    bench_runtime(c, &tokio_mt());
    bench_runtime(c, &smol_rt());
}

// ---------------------------------------------------------------------------
// Worker pool: 20 workers pulling 10,000 jobs from a bounded queue, against
// 10,000 tasks gated by a Semaphore(20). Each job yields once (an await
// point, as a network call has) and does a little arithmetic.

const WORKERS: usize = 20;
const JOBS: u64 = 10_000;

async fn job(i: u64) -> u64 {
    smol::future::yield_now().await;
    black_box(i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

async fn queue_pool<R: Runtime>(rt: &R) {
    let (tx, rx) = sluicegate::channel::bounded::<u64>(100);
    let (res_tx, res_rx) = sluicegate::channel::bounded::<u64>(100);
    let mut joins = Vec::with_capacity(WORKERS + 1);
    for _ in 0..WORKERS {
        let (rx, res_tx) = (rx.clone(), res_tx.clone());
        joins.push(rt.spawn(async move {
            while let Ok(i) = rx.recv().await {
                res_tx.send(job(i).await).await.unwrap();
            }
        }));
    }
    drop((rx, res_tx));
    joins.push(rt.spawn(async move {
        for i in 0..JOBS {
            tx.send(i).await.unwrap();
        }
    }));
    let mut n = 0;
    while let Ok(r) = res_rx.recv().await {
        black_box(r);
        n += 1;
    }
    assert_eq!(n, JOBS);
    for j in joins {
        j.await;
    }
}

async fn semaphore_pool<R: Runtime>(rt: &R) {
    let sem = Arc::new(sluicegate::Semaphore::new(WORKERS));
    let (res_tx, res_rx) = sluicegate::channel::bounded::<u64>(100);
    let spawner = {
        let mut joins = Vec::with_capacity(JOBS as usize);
        for i in 0..JOBS {
            let (sem, res_tx) = (sem.clone(), res_tx.clone());
            joins.push(rt.spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                res_tx.send(job(i).await).await.unwrap();
            }));
        }
        joins
    };
    drop(res_tx);
    let mut n = 0;
    while let Ok(r) = res_rx.recv().await {
        black_box(r);
        n += 1;
    }
    assert_eq!(n, JOBS);
    for j in spawner {
        j.await;
    }
}

fn pool_runtime<R: Runtime>(c: &mut Criterion, rt: &R) {
    let mut g = c.benchmark_group(format!("worker_pool/{}", R::NAME));
    g.throughput(Throughput::Elements(JOBS));
    g.bench_function("queue", |b| b.iter(|| rt.block_on(queue_pool(rt))));
    g.bench_function("semaphore", |b| b.iter(|| rt.block_on(semaphore_pool(rt))));
    g.finish();
}

fn worker_pool(c: &mut Criterion) {
    pool_runtime(c, &tokio_ct());
    pool_runtime(c, &tokio_mt());
    pool_runtime(c, &smol_rt());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10);
    targets = channels, worker_pool
}
criterion_main!(benches);
