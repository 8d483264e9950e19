//! The contestants of the notify/wait ping-pong, shared by
//! `benches/condition.rs` and `examples/ping_pong.rs` (included with
//! `#[path]`; the peers are dev-dependencies, which a library target could
//! not use).
//!
//! Each returns `(ping, pong)` for `iters` round trips: `ping` runs on the
//! runtime's main task, `pong` is spawned. The `Condition` version also does
//! what a condition variable is for: each side re-checks a turn flag under
//! the mutex, so it pays two mutex lock/unlock pairs per round trip that the
//! bare signals (`Notify`, `WaitQueue`, `Event` + flag) do not; `Notify` +
//! `Mutex` pays three.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub fn condition(
    iters: u64,
) -> (
    impl Future<Output = ()>,
    impl Future<Output = ()> + Send + 'static,
) {
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
    let ping = async move {
        let mut turn = shared.pong_turn.lock().await;
        for _ in 0..iters {
            *turn = true;
            shared.cond.notify_one();
            turn = shared.cond.wait_while(turn, |pong_turn| *pong_turn).await;
        }
    };
    (ping, pong)
}

pub fn notify(
    iters: u64,
) -> (
    impl Future<Output = ()>,
    impl Future<Output = ()> + Send + 'static,
) {
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
    (ping, pong)
}

/// What one writes without a condition variable: the same turn flag under
/// async-lock's `Mutex`, signalled with tokio's permit-storing `Notify`.
pub fn notify_mutex(
    iters: u64,
) -> (
    impl Future<Output = ()>,
    impl Future<Output = ()> + Send + 'static,
) {
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
    (ping, pong)
}

pub fn maitake(
    iters: u64,
) -> (
    impl Future<Output = ()>,
    impl Future<Output = ()> + Send + 'static,
) {
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
    (ping, pong)
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

pub fn event_listener_flag(
    iters: u64,
) -> (
    impl Future<Output = ()>,
    impl Future<Output = ()> + Send + 'static,
) {
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
    (ping, pong)
}
