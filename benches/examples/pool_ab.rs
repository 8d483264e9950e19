//! Interleaved A/B timing of the `pool` bench's tokio current-thread rows,
//! for a shared, noisy machine: the contestants of a row run one batch
//! each, in an order that rotates every round, for many rounds, and the
//! median of the per-round ratios is reported, so a drift of the machine's
//! speed hits every contestant alike. Also a fixed-work mode for
//! `valgrind --tool=callgrind`.
//!
//! ```text
//! cargo run --release -p sluicegate-benches --example pool_ab [rounds]
//! cargo build --profile bench -p sluicegate-benches --example pool_ab
//! valgrind --tool=callgrind --toggle-collect='pool_ab::measured*' \
//!     target/release/examples/pool_ab count sluicegate 256 16 20
//! ```
//!
//! Contestants as in `benches/pool.rs` (bb8, slowest on every row there,
//! is left out): sluicegate managed and unmanaged, deadpool managed and
//! unmanaged. A batch is one round of that bench's contended rows: `tasks`
//! tasks spawned on a current-thread runtime share a pool of `size`
//! objects and each does 64 cycles of get, yield while holding, return.
//! The uncontended row is one task doing 64 × 256 cycles without yielding.
//! `count` mode runs `rounds` batches of one contestant inside a function
//! named `measured_batches`; divide its instructions by `rounds × tasks ×
//! 64` for a figure per get+return (the runtime's scheduling included, the
//! same work for every contestant).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../common/pools.rs"]
mod pools;
use pools::{BenchPool, Conn, DpManager, DpUnmanaged, SgManager, SgUnmanaged};

const CYCLES: usize = 64;

type Sg = sluicegate::Pool<Conn, SgManager>;
type Dp = deadpool::managed::Pool<DpManager>;

const NAMES: [&str; 4] = [Sg::NAME, SgUnmanaged::NAME, Dp::NAME, DpUnmanaged::NAME];

/// The contestants, as one enum so a round can run them in turn.
enum Pool {
    Sg(Sg),
    SgUnmanaged(SgUnmanaged),
    Dp(Dp),
    DpUnmanaged(DpUnmanaged),
}

impl Pool {
    fn new(name: &str, size: usize) -> Self {
        match name {
            Sg::NAME => Self::Sg(Sg::with_size(size)),
            SgUnmanaged::NAME => Self::SgUnmanaged(SgUnmanaged::with_size(size)),
            Dp::NAME => Self::Dp(Dp::with_size(size)),
            DpUnmanaged::NAME => Self::DpUnmanaged(DpUnmanaged::with_size(size)),
            other => panic!("unknown contestant {other:?}: one of {NAMES:?}"),
        }
    }

    async fn cycle(&self, hold: bool) {
        match self {
            Self::Sg(p) => p.cycle(hold).await,
            Self::SgUnmanaged(p) => p.cycle(hold).await,
            Self::Dp(p) => p.cycle(hold).await,
            Self::DpUnmanaged(p) => p.cycle(hold).await,
        }
    }
}

/// One batch; returns nanoseconds per get+return. `tasks == 0` is the
/// uncontended row.
fn batch(rt: &tokio::runtime::Runtime, pool: &Arc<Pool>, tasks: usize) -> f64 {
    let start = Instant::now();
    let ops = rt.block_on(async {
        if tasks == 0 {
            for _ in 0..CYCLES * 256 {
                pool.cycle(false).await;
            }
            return CYCLES * 256;
        }
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
        tasks * CYCLES
    });
    start.elapsed().as_nanos() as f64 / ops as f64
}

#[inline(never)]
fn measured_batches(rt: &tokio::runtime::Runtime, pool: &Arc<Pool>, tasks: usize, rounds: usize) {
    for _ in 0..rounds {
        black_box(batch(rt, pool, tasks));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("count") {
        let arg = |i: usize| args.get(i).map(String::as_str);
        let name = arg(1).unwrap_or("sluicegate");
        let tasks: usize = arg(2).map_or(256, |a| a.parse().expect("tasks"));
        let size: usize = arg(3).map_or(16, |a| a.parse().expect("size"));
        let rounds: usize = arg(4).map_or(20, |a| a.parse().expect("rounds"));
        let rt = runtime();
        let pool = Arc::new(rt.block_on(async { Pool::new(name, size) }));
        batch(&rt, &pool, tasks); // objects created, runtime warm
        measured_batches(&rt, &pool, tasks, rounds);
        return;
    }
    let rounds: usize = args.first().map_or(41, |a| a.parse().expect("rounds"));
    let rt = runtime();
    println!("tokio current-thread, {rounds} rounds; median ns per get+return, and the median per-round ratio of each sluicegate form ÷ the faster deadpool form of that round\n");
    println!("| row | sluicegate | sluicegate unmanaged | deadpool | deadpool unmanaged | managed ÷ best peer | unmanaged ÷ best peer |");
    println!("|---|--:|--:|--:|--:|--:|--:|");
    for (tasks, size) in [(0, 16), (16, 4), (16, 16), (256, 4), (256, 16)] {
        let pools: Vec<Arc<Pool>> = NAMES
            .iter()
            .map(|n| Arc::new(rt.block_on(async { Pool::new(n, size) })))
            .collect();
        for p in &pools {
            batch(&rt, p, tasks); // warm-up: objects created
        }
        let mut times = vec![Vec::with_capacity(rounds); NAMES.len()];
        let mut ratios = [Vec::with_capacity(rounds), Vec::with_capacity(rounds)];
        for round in 0..rounds {
            let mut this = [0.0; 4];
            for k in 0..NAMES.len() {
                let i = (k + round) % NAMES.len();
                this[i] = batch(&rt, &pools[i], tasks);
            }
            let best_peer = this[2].min(this[3]);
            ratios[0].push(this[0] / best_peer);
            ratios[1].push(this[1] / best_peer);
            for (t, v) in times.iter_mut().zip(this) {
                t.push(v);
            }
        }
        let row = if tasks == 0 {
            "uncontended".to_string()
        } else {
            format!("{tasks} tasks, {size} objects")
        };
        let t: Vec<f64> = times.iter_mut().map(|v| median(v)).collect();
        println!(
            "| {row} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            t[0],
            t[1],
            t[2],
            t[3],
            median(&mut ratios[0]),
            median(&mut ratios[1])
        );
    }
}
