//! Notify/wait ping-pong between two tasks on tokio's current-thread
//! runtime: sluicegate's `Condition` (over async-lock's `Mutex`) against
//! tokio's `Notify`, maitake-sync's `WaitQueue` and a hand-built
//! `event_listener::Event` + flag; and, for scale, the same turn flag under
//! async-lock's `Mutex` signalled with `Notify` (what one writes without a
//! condition variable).
//!
//! One iteration is one round trip: the pinger signals the ponger, the
//! ponger signals back. The contestants live in `common/condition_peers.rs`,
//! shared with `examples/ping_pong.rs`.
//!
//! `cargo bench -p sluicegate-benches --bench condition`

use std::future::Future;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::runtime::{Builder, Runtime};

#[path = "../common/condition_peers.rs"]
mod peers;

/// Runs `iters` round trips of one peer; returns the time they took.
type RoundTrips = fn(&Runtime, u64) -> Duration;

/// Runs `ping` on the runtime's main task and `pong` as a spawned task;
/// returns how long `ping` took.
fn round_trips(
    rt: &Runtime,
    ping: impl Future<Output = ()>,
    pong: impl Future<Output = ()> + Send + 'static,
) -> Duration {
    rt.block_on(async move {
        let pong = tokio::spawn(pong);
        let start = Instant::now();
        ping.await;
        let elapsed = start.elapsed();
        pong.await.unwrap();
        elapsed
    })
}

fn sluicegate_condition(rt: &Runtime, iters: u64) -> Duration {
    let (ping, pong) = peers::condition(iters);
    round_trips(rt, ping, pong)
}

fn tokio_notify(rt: &Runtime, iters: u64) -> Duration {
    let (ping, pong) = peers::notify(iters);
    round_trips(rt, ping, pong)
}

fn tokio_notify_and_mutex(rt: &Runtime, iters: u64) -> Duration {
    let (ping, pong) = peers::notify_mutex(iters);
    round_trips(rt, ping, pong)
}

fn maitake_wait_queue(rt: &Runtime, iters: u64) -> Duration {
    let (ping, pong) = peers::maitake(iters);
    round_trips(rt, ping, pong)
}

fn event_listener_flag(rt: &Runtime, iters: u64) -> Duration {
    let (ping, pong) = peers::event_listener_flag(iters);
    round_trips(rt, ping, pong)
}

fn ping_pong(c: &mut Criterion) {
    let rt = Builder::new_current_thread().build().unwrap();
    let mut group = c.benchmark_group("condition_ping_pong");
    group.throughput(Throughput::Elements(1));
    let peers: [(&str, RoundTrips); 5] = [
        ("sluicegate_Condition", sluicegate_condition),
        ("tokio_Notify", tokio_notify),
        ("tokio_Notify_and_Mutex", tokio_notify_and_mutex),
        ("maitake_WaitQueue", maitake_wait_queue),
        ("event_listener_Event_flag", event_listener_flag),
    ];
    for (name, run) in peers {
        group.bench_function(name, |b| b.iter_custom(|iters| run(&rt, iters)));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = ping_pong
}
criterion_main!(benches);
