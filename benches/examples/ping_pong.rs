//! A fixed number of notify/wait round trips between two tasks on tokio's
//! current-thread runtime, for profilers that count instructions
//! (`valgrind --tool=callgrind`) rather than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example ping_pong
//! valgrind --tool=callgrind target/release/examples/ping_pong condition 100000
//! ```
//!
//! Arguments: `<condition|notify|notify-mutex|maitake|event-listener>
//! <round trips>`, the contestants of the `condition` bench: sluicegate's
//! `Condition` over async-lock's `Mutex` with a turn flag; a pair of tokio
//! `Notify`s; the same turn flag under async-lock's `Mutex` signalled with
//! `Notify`s; a pair of maitake-sync `WaitQueue`s; an `event_listener::Event`
//! plus flag. Prints the wall time per round trip.

use std::future::Future;
use std::time::Instant;

#[path = "../common/condition_peers.rs"]
mod peers;

/// Runs `ping` on the runtime's main task and `pong` as a spawned task.
async fn round_trips(
    (ping, pong): (
        impl Future<Output = ()>,
        impl Future<Output = ()> + Send + 'static,
    ),
) {
    let pong = tokio::spawn(pong);
    ping.await;
    pong.await.unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage =
        "usage: ping_pong <condition|notify|notify-mutex|maitake|event-listener> <round trips>";
    let which = args.get(1).expect(usage);
    let iters: u64 = args.get(2).expect(usage).parse().expect(usage);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = Instant::now();
    match which.as_str() {
        "condition" => rt.block_on(round_trips(peers::condition(iters))),
        "notify" => rt.block_on(round_trips(peers::notify(iters))),
        "notify-mutex" => rt.block_on(round_trips(peers::notify_mutex(iters))),
        "maitake" => rt.block_on(round_trips(peers::maitake(iters))),
        "event-listener" => rt.block_on(round_trips(peers::event_listener_flag(iters))),
        other => panic!("unknown contestant {other:?}; {usage}"),
    }
    println!(
        "{:.1} ns/round trip",
        start.elapsed().as_nanos() as f64 / iters as f64
    );
}
