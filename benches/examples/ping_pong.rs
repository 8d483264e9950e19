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

use std::sync::atomic::{AtomicBool, Ordering};
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

fn notify_mutex(iters: u64) -> impl std::future::Future<Output = ()> {
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
    async move {
        let pong = tokio::spawn(pong);
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
        pong.await.unwrap();
    }
}

fn maitake(iters: u64) -> impl std::future::Future<Output = ()> {
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
    async move {
        let pong = tokio::spawn(pong);
        for _ in 0..iters {
            b.wake();
            a.wait().await.unwrap();
        }
        pong.await.unwrap();
    }
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

fn event_listener_flag(iters: u64) -> impl std::future::Future<Output = ()> {
    let (a, b) = (Arc::new(Flagged::default()), Arc::new(Flagged::default()));
    let (a2, b2) = (a.clone(), b.clone());
    let pong = async move {
        for _ in 0..iters {
            b2.wait().await;
            a2.signal();
        }
    };
    async move {
        let pong = tokio::spawn(pong);
        for _ in 0..iters {
            b.signal();
            a.wait().await;
        }
        pong.await.unwrap();
    }
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
        "condition" => rt.block_on(condition(iters)),
        "notify" => rt.block_on(notify(iters)),
        "notify-mutex" => rt.block_on(notify_mutex(iters)),
        "maitake" => rt.block_on(maitake(iters)),
        "event-listener" => rt.block_on(event_listener_flag(iters)),
        other => panic!("unknown contestant {other:?}; {usage}"),
    }
    println!(
        "{:.1} ns/round trip",
        start.elapsed().as_nanos() as f64 / iters as f64
    );
}
