//! The adaptive limiter's acquire and `success()`, and the plain
//! semaphore's acquire and drop, a fixed number of times, for profilers
//! that count instructions (`valgrind --tool=callgrind`).
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example limit_ops
//! valgrind --tool=callgrind --toggle-collect='limit_ops::measured*' \
//!     target/release/examples/limit_ops adaptive 100000
//! ```
//!
//! Arguments: `<semaphore|adaptive|adaptive-ignored|adaptive-locked>
//! <rounds>` (`adaptive` is AIMD, whose idle successes skip the lock;
//! `adaptive-locked` is Gradient2, whose every verdict takes it). The clock
//! is one relaxed load (as the `cheap` rows of the `limit` bench), so only
//! the limiter's own work is counted; divide by the rounds for a figure per
//! call. Prints the wall time per call.

use std::hint::black_box;
use std::time::Instant;

use sluicegate::limit::{AdaptiveLimiter, Aimd, Gradient2, LimitAlgorithm};
use sluicegate::Semaphore;

#[allow(dead_code)]
#[path = "../common/limit_clocks.rs"]
mod limit_clocks;
use limit_clocks::{now_or_never, Jump};

#[inline(never)]
fn measured_semaphore(sem: &Semaphore, rounds: u64) {
    for _ in 0..rounds {
        drop(now_or_never(black_box(sem).acquire()));
    }
}

#[inline(never)]
fn measured_adaptive<A: LimitAlgorithm>(limiter: &AdaptiveLimiter<A, Jump>, rounds: u64) {
    for _ in 0..rounds {
        now_or_never(black_box(limiter).acquire()).success();
    }
}

#[inline(never)]
fn measured_adaptive_ignored(limiter: &AdaptiveLimiter<Aimd, Jump>, rounds: u64) {
    for _ in 0..rounds {
        drop(now_or_never(black_box(limiter).acquire()));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "adaptive".into());
    let rounds: u64 = args.next().map_or(100_000, |r| r.parse().expect("rounds"));
    let sem = Semaphore::new(20);
    let limiter = AdaptiveLimiter::new(Jump::default(), Aimd::new());
    let locked = AdaptiveLimiter::new(Jump::default(), Gradient2::new());
    let start = Instant::now();
    match which.as_str() {
        "semaphore" => measured_semaphore(&sem, rounds),
        "adaptive" => measured_adaptive(&limiter, rounds),
        "adaptive-ignored" => measured_adaptive_ignored(&limiter, rounds),
        "adaptive-locked" => measured_adaptive(&locked, rounds),
        other => panic!(
            "unknown contestant {other:?}: semaphore, adaptive, adaptive-ignored or adaptive-locked"
        ),
    }
    let ns = start.elapsed().as_nanos() as f64 / rounds as f64;
    println!("{which}: {ns:.1} ns per call");
}
