//! Interleaved A/B timing of the `limit` bench's main rows, for a shared,
//! noisy machine: the contestants of a row run in alternating short
//! batches, many rounds, and the medians are compared, so a drift of the
//! machine's speed hits both alike.
//!
//! ```text
//! cargo run --release -p sluicegate-benches --example limit_ab [rounds]
//! ```
//!
//! Rows as in `benches/limit.rs`: `try_acquire` admitted, on 1 and 2
//! threads (std clock and governor's quanta clock, each pair on the same
//! clock), and the adaptive limiter's acquire and `success()` against the
//! plain `Semaphore`'s acquire and drop (with a counter clock, with
//! `StdClock` and with governor's quanta clock; and with Gradient2, whose
//! every verdict takes the lock, on the counter clock), and against congestion-limiter's `try_acquire` and
//! `release(Success)` (AIMD, on a current-thread tokio runtime, a whole
//! batch per `block_on`).

use std::hint::black_box;
use std::time::Instant;

use sluicegate::limit::{AdaptiveLimiter, Aimd, Gradient2, RateLimiter};
use sluicegate::time::StdClock;
use sluicegate::Semaphore;

const BATCH: u32 = 20_000;

#[allow(dead_code)]
#[path = "../common/limit_clocks.rs"]
mod limit_clocks;
use limit_clocks::{governor_quota, now_or_never, open_quota, Jump, Quanta};

/// Times a batch of `f` in one `block_on` of a current-thread runtime.
fn tokio_batch(
    rt: &tokio::runtime::Runtime,
    f: &dyn Fn() -> futures_lite::future::Boxed<()>,
) -> f64 {
    rt.block_on(async {
        let t = Instant::now();
        for _ in 0..BATCH {
            f().await;
        }
        t.elapsed().as_nanos() as f64 / f64::from(BATCH)
    })
}

fn batch(f: &dyn Fn()) -> f64 {
    let t = Instant::now();
    for _ in 0..BATCH {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

/// A batch split over 2 threads at once: ns per call, both threads' calls
/// counted.
fn batch_2t(f: &(dyn Fn() + Sync)) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..BATCH / 2 {
                    f();
                }
            });
        }
    });
    t.elapsed().as_nanos() as f64 / f64::from(BATCH)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ab(row: &str, rounds: usize, a: (&str, &dyn Fn()), b: (&str, &dyn Fn())) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ta.push(batch(a.1));
        tb.push(batch(b.1));
    }
    let (ma, mb) = (median(ta), median(tb));
    println!(
        "| {row} | {} {ma:.1} | {} {mb:.1} | {:.2} |",
        a.0,
        b.0,
        ma / mb
    );
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(301);
    let open = open_quota();
    let gov_quota = governor_quota();

    println!("median ns/op over {rounds} alternating batches of {BATCH}\n");
    println!("| row | sluicegate | peer | ratio |");
    println!("|---|---:|---:|---:|");

    let ours = RateLimiter::new(StdClock, open);
    let theirs =
        governor::RateLimiter::direct_with_clock(gov_quota, governor::clock::MonotonicClock);
    ab(
        "`try_acquire`, std clock",
        rounds,
        ("sluicegate", &|| {
            let _ = black_box(black_box(&ours).try_acquire());
        }),
        ("governor", &|| {
            let _ = black_box(black_box(&theirs).check());
        }),
    );

    let ours = RateLimiter::new(Quanta::new(), open);
    let theirs = governor::RateLimiter::direct(gov_quota);
    ab(
        "`try_acquire`, quanta clock",
        rounds,
        ("sluicegate", &|| {
            let _ = black_box(black_box(&ours).try_acquire());
        }),
        ("governor", &|| {
            let _ = black_box(black_box(&theirs).check());
        }),
    );

    for quanta in [false, true] {
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        let theirs_std =
            governor::RateLimiter::direct_with_clock(gov_quota, governor::clock::MonotonicClock);
        let theirs_q = governor::RateLimiter::direct(gov_quota);
        let ours_std = RateLimiter::new(StdClock, open);
        let ours_q = RateLimiter::new(Quanta::new(), open);
        for _ in 0..rounds / 3 {
            if quanta {
                ta.push(batch_2t(&|| {
                    let _ = black_box(black_box(&ours_q).try_acquire());
                }));
                tb.push(batch_2t(&|| {
                    let _ = black_box(black_box(&theirs_q).check());
                }));
            } else {
                ta.push(batch_2t(&|| {
                    let _ = black_box(black_box(&ours_std).try_acquire());
                }));
                tb.push(batch_2t(&|| {
                    let _ = black_box(black_box(&theirs_std).check());
                }));
            }
        }
        let (ma, mb) = (median(ta), median(tb));
        let clock = if quanta { "quanta" } else { "std" };
        println!(
            "| `try_acquire`, 2 threads, {clock} clock | sluicegate {ma:.1} | governor {mb:.1} | {:.2} |",
            ma / mb
        );
    }

    let sem = Semaphore::new(20);
    let against_semaphore = |row: &str, ours: &dyn Fn()| {
        ab(
            row,
            rounds,
            ("sluicegate", ours),
            ("semaphore", &|| {
                drop(now_or_never(black_box(&sem).acquire()).unwrap())
            }),
        );
    };
    let ours = AdaptiveLimiter::new(Jump::default(), Aimd::new());
    against_semaphore("adaptive acquire + `success()`, counter clock", &|| {
        now_or_never(black_box(&ours).acquire()).success()
    });
    let ours = AdaptiveLimiter::new(StdClock, Aimd::new());
    against_semaphore("adaptive acquire + `success()`, std clock", &|| {
        now_or_never(black_box(&ours).acquire()).success()
    });
    let ours = AdaptiveLimiter::new(Quanta::new(), Aimd::new());
    against_semaphore("adaptive acquire + `success()`, quanta clock", &|| {
        now_or_never(black_box(&ours).acquire()).success()
    });
    // Gradient2 moves its averages on every sample: every verdict takes
    // the lock (AIMD's rows above take it only when the limit moves).
    let ours = AdaptiveLimiter::new(Jump::default(), Gradient2::new());
    against_semaphore(
        "adaptive (Gradient2, every verdict locked) acquire + `success()`, counter clock",
        &|| now_or_never(black_box(&ours).acquire()).success(),
    );

    // congestion-limiter's API is async (async-trait: a boxed future per
    // call), so both sides run inside the runtime, a batch per block_on,
    // each call boxed alike.
    use congestion_limiter::limiter::{DefaultLimiter, Limiter as _, Outcome};
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let theirs = std::sync::Arc::new(DefaultLimiter::new(
        congestion_limiter::limits::Aimd::new_with_initial_limit(20),
    ));
    let ours = std::sync::Arc::new(AdaptiveLimiter::new(StdClock, Aimd::new()));
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ta.push(tokio_batch(&rt, &|| {
            let ours = ours.clone();
            Box::pin(async move { ours.acquire().await.success() })
        }));
        tb.push(tokio_batch(&rt, &|| {
            let theirs = theirs.clone();
            Box::pin(async move {
                let t = theirs.try_acquire().await.unwrap();
                theirs.release(t, Some(Outcome::Success)).await;
            })
        }));
    }
    let (ma, mb) = (median(ta), median(tb));
    println!(
        "| adaptive acquire + `success()`, std clock, in tokio, boxed | sluicegate {ma:.1} | congestion-limiter {mb:.1} | {:.2} |",
        ma / mb
    );
}
