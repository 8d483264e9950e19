//! Notify/wait ping-pong between two tasks on tokio's current-thread
//! runtime: sluicegate's `Condition` (over async-lock's `Mutex`) against
//! tokio's `Notify`, maitake-sync's `WaitQueue` and a hand-built
//! `event_listener::Event` + flag; and, for scale, the same turn flag under
//! async-lock's `Mutex` signalled with `Notify` (what one writes without a
//! condition variable).
//!
//! One iteration is one round trip: the pinger signals the ponger, the
//! ponger signals back. The `Condition` version also does what a condition
//! variable is for: each side re-checks a turn flag under the mutex, so it
//! pays two mutex lock/unlock pairs per round trip that the bare signals
//! (`Notify`, `WaitQueue`, `Event` + flag) do not; `Notify` + `Mutex` pays
//! three.
//!
//! `cargo bench -p sluicegate-benches --bench condition`

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokio::runtime::{Builder, Runtime};

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
    struct Shared {
        /// Whether it is the ponger's turn.
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
    let s = shared;
    let ping = async move {
        let mut turn = s.pong_turn.lock().await;
        for _ in 0..iters {
            *turn = true;
            s.cond.notify_one();
            turn = s.cond.wait_while(turn, |pong_turn| *pong_turn).await;
        }
    };
    round_trips(rt, ping, pong)
}

fn tokio_notify(rt: &Runtime, iters: u64) -> Duration {
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
    let ping = async move {
        for _ in 0..iters {
            b.notify_one();
            a.notified().await;
        }
    };
    round_trips(rt, ping, pong)
}

/// What one writes without a condition variable: the same turn flag under
/// async-lock's `Mutex`, signalled with tokio's permit-storing `Notify`.
fn tokio_notify_and_mutex(rt: &Runtime, iters: u64) -> Duration {
    let turn = Arc::new(sluicegate::Mutex::new(false));
    let (a, b) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let (turn2, a2, b2) = (turn.clone(), a.clone(), b.clone());
    let pong = async move {
        for _ in 0..iters {
            loop {
                b2.notified().await;
                let mut pong_turn = turn2.lock().await;
                if *pong_turn {
                    *pong_turn = false;
                    break;
                }
            }
            a2.notify_one();
        }
    };
    let ping = async move {
        for _ in 0..iters {
            *turn.lock().await = true;
            b.notify_one();
            loop {
                a.notified().await;
                if !*turn.lock().await {
                    break;
                }
            }
        }
    };
    round_trips(rt, ping, pong)
}

fn maitake_wait_queue(rt: &Runtime, iters: u64) -> Duration {
    let (a, b) = (
        Arc::new(maitake_sync::WaitQueue::new()),
        Arc::new(maitake_sync::WaitQueue::new()),
    );
    let (a2, b2) = (a.clone(), b.clone());
    let pong = async move {
        for _ in 0..iters {
            b2.wait().await.unwrap();
            a2.wake();
        }
    };
    let ping = async move {
        for _ in 0..iters {
            b.wake();
            a.wait().await.unwrap();
        }
    };
    round_trips(rt, ping, pong)
}

/// The eventcount way: a flag plus an `event_listener::Event`.
#[derive(Default)]
struct Flagged {
    flag: AtomicBool,
    event: event_listener::Event,
}

impl Flagged {
    fn signal(&self) {
        self.flag.store(true, Ordering::Release);
        self.event.notify(1);
    }

    async fn wait(&self) {
        loop {
            if self.flag.swap(false, Ordering::AcqRel) {
                return;
            }
            let listener = self.event.listen();
            if self.flag.swap(false, Ordering::AcqRel) {
                return;
            }
            listener.await;
        }
    }
}

fn event_listener_flag(rt: &Runtime, iters: u64) -> Duration {
    let (a, b) = (Arc::new(Flagged::default()), Arc::new(Flagged::default()));
    let (a2, b2) = (a.clone(), b.clone());
    let pong = async move {
        for _ in 0..iters {
            b2.wait().await;
            a2.signal();
        }
    };
    let ping = async move {
        for _ in 0..iters {
            b.signal();
            a.wait().await;
        }
    };
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
