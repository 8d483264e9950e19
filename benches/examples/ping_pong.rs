//! A fixed number of notify/wait round trips between two tasks on tokio's
//! current-thread runtime, for profilers that count instructions
//! (`valgrind --tool=callgrind`) rather than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example ping_pong
//! valgrind --tool=callgrind target/release/examples/ping_pong condition 100000
//! ```
//!
//! Arguments: `<condition|notify> <round trips>`. Like the `condition` bench:
//! `condition` is sluicegate's `Condition` over async-lock's `Mutex` with a
//! turn flag, `notify` a pair of tokio `Notify`s. Prints the wall time per
//! round trip.

use std::sync::Arc;
use std::time::Instant;

fn condition(iters: u64) -> impl std::future::Future<Output = ()> {
    struct Shared {
        pong_turn: sluicegate::Mutex<bool>,
        cond: sluicegate::Condition,
    }
    let shared = Arc::new(Shared {
        pong_turn: sluicegate::Mutex::new(false),
        cond: sluicegate::Condition::new(),
    });
    let s = shared.clone();
    let pong = async move {
        let mut turn = s.pong_turn.lock().await;
        for _ in 0..iters {
            turn = s.cond.wait_until(turn, |pong_turn| *pong_turn).await;
            *turn = false;
            s.cond.notify_one();
        }
    };
    async move {
        let pong = tokio::spawn(pong);
        let mut turn = shared.pong_turn.lock().await;
        for _ in 0..iters {
            *turn = true;
            shared.cond.notify_one();
            turn = shared.cond.wait_while(turn, |pong_turn| *pong_turn).await;
        }
        drop(turn);
        pong.await.unwrap();
    }
}

fn notify(iters: u64) -> impl std::future::Future<Output = ()> {
    let (a, b) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let (a2, b2) = (a.clone(), b.clone());
    let pong = async move {
        for _ in 0..iters {
            b2.notified().await;
            a2.notify_one();
        }
    };
    async move {
        let pong = tokio::spawn(pong);
        for _ in 0..iters {
            b.notify_one();
            a.notified().await;
        }
        pong.await.unwrap();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: ping_pong <condition|notify> <round trips>";
    let which = args.get(1).expect(usage);
    let iters: u64 = args.get(2).expect(usage).parse().expect(usage);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = Instant::now();
    match which.as_str() {
        "condition" => rt.block_on(condition(iters)),
        "notify" => rt.block_on(notify(iters)),
        other => panic!("unknown contestant {other:?}; {usage}"),
    }
    println!(
        "{:.1} ns/round trip",
        start.elapsed().as_nanos() as f64 / iters as f64
    );
}
