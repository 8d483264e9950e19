//! A fixed amount of contended semaphore work, for profilers that count
//! instructions (`valgrind --tool=callgrind`) rather than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example contended
//! valgrind --tool=callgrind target/release/examples/contended sluicegate 16 8 5
//! ```
//!
//! Arguments: `<sluicegate|futures-intrusive|tokio|maitake-sync|async-lock>
//! <tasks> <permits> <rounds>`.
//! Like the `sem_tokio-ct_*` rows of the `semaphore` bench: `tasks` tasks on
//! a tokio current-thread runtime each do 256 acquire/yield/release cycles.
//! Prints the wall time per acquire+release (the instruction count per
//! operation is callgrind's total divided by `tasks * 256 * rounds`).
//!
//! `benches/interleaved.py` runs it for every contestant in turn, many
//! times, and reports medians: a drift of the shared machine's speed then
//! hits every contestant alike.

use std::sync::Arc;
use std::time::Instant;

const CYCLES: usize = 256;

#[allow(dead_code)]
#[path = "../common/semaphores.rs"]
mod semaphores;
use semaphores::{Contestant, Sem};

fn run<S: Sem>(tasks: usize, permits: usize, rounds: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..rounds {
        let sem = Arc::new(S::with_permits(permits));
        rt.block_on(async {
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let sem = sem.clone();
                    tokio::spawn(async move {
                        for _ in 0..CYCLES {
                            let permit = sem.acquire_one().await;
                            tokio::task::yield_now().await;
                            drop(permit);
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }
    let ops = (rounds * tasks * CYCLES) as f64;
    println!("{:.1} ns/op", start.elapsed().as_nanos() as f64 / ops);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [which, tasks, permits, rounds] = &args[..] else {
        eprintln!(
            "usage: contended <sluicegate|futures-intrusive|tokio|maitake-sync|async-lock> \
             <tasks> <permits> <rounds>"
        );
        std::process::exit(2);
    };
    let (tasks, permits, rounds) = (
        tasks.parse().unwrap(),
        permits.parse().unwrap(),
        rounds.parse().unwrap(),
    );
    struct Run {
        tasks: usize,
        permits: usize,
        rounds: usize,
    }
    impl Contestant<()> for Run {
        fn run<S: Sem>(self) {
            run::<S>(self.tasks, self.permits, self.rounds)
        }
    }
    semaphores::with_contestant(
        which,
        Run {
            tasks,
            permits,
            rounds,
        },
    );
}
