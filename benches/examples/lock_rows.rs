//! The sluicegate side of every bench row that takes a primitive's
//! wait-list lock and has no callgrind driver of its own (`contended`,
//! `ping_pong`, `cancel_ops`, `tracker_ops` and `channel_flow` are the
//! others), a fixed number of times, for profilers that count instructions.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example lock_rows
//! valgrind --tool=callgrind target/release/examples/lock_rows event-handoff 100000
//! ```
//!
//! Arguments: `<row> <n>`; `lock_rows list` prints the rows. The figure per
//! operation is (instructions at `2n` − instructions at `n`) / `n`, which
//! cancels start-up and runtime construction; `benches/callgrind_rows.py`
//! does that for every row and driver. Prints the wall time per operation.

use std::future::{ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use sluicegate::breaker::{BreakerConfig, CircuitBreaker};
use sluicegate::task::TaskTracker;
use sluicegate::time::{timeout, ManualClock, StdClock};
use sluicegate::{Event, Semaphore};

const ROWS: &[&str] = &[
    "sem-uncontended",
    "event-handoff",
    "event-pingpong",
    "tracker-wait-drained",
    "tracker-drain-one-waiter",
    "breaker-call",
    "breaker-try-acquire",
    "breaker-window",
    "timeout-manual-clock",
    "pool-queue",
    "pool-semaphore",
];

#[inline(always)]
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let mut f = pin!(f);
    f.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// `semaphore` bench, `sem_uncontended`: one ready acquire, polled by hand.
fn sem_uncontended(n: u64) {
    let sem = Semaphore::new(1);
    let sem = black_box(&sem);
    for _ in 0..n {
        match poll_once(sem.acquire()) {
            Poll::Ready(permit) => drop(black_box(permit)),
            Poll::Pending => unreachable!(),
        }
    }
}

/// `event` bench, `event_handoff`: set → wake → clear, polled by hand.
fn event_handoff(n: u64) {
    let mut cx = Context::from_waker(Waker::noop());
    let ev = Event::new();
    let ev = black_box(&ev);
    for _ in 0..n {
        let mut w = pin!(ev.wait());
        assert!(w.as_mut().poll(&mut cx).is_pending());
        ev.set();
        assert!(w.as_mut().poll(&mut cx).is_ready());
        ev.clear();
    }
}

/// `event` bench, `event_pingpong_tokio-ct`: two tasks, `n` round trips.
fn event_pingpong(n: u64) {
    let pair = Arc::new((Event::new(), Event::new()));
    let ponger = {
        let pair = pair.clone();
        async move {
            for _ in 0..n {
                pair.0.wait().await;
                pair.0.clear();
                pair.1.set();
            }
        }
    };
    let pinger = async move {
        for _ in 0..n {
            pair.0.set();
            pair.1.wait().await;
            pair.1.clear();
        }
    };
    current_thread().block_on(async {
        let a = tokio::spawn(ponger);
        let b = tokio::spawn(pinger);
        a.await.unwrap();
        b.await.unwrap();
    });
}

/// `task_tracker` bench rows.
fn tracker(row: &str, n: u64) {
    let mut cx = Context::from_waker(Waker::noop());
    let tracker = TaskTracker::new();
    let tracker = black_box(&tracker);
    match row {
        "tracker-wait-drained" => {
            tracker.close();
            for _ in 0..n {
                assert!(pin!(tracker.wait()).poll(&mut cx).is_ready());
            }
        }
        "tracker-drain-one-waiter" => {
            for _ in 0..n {
                let token = tracker.token();
                let mut w = pin!(tracker.wait());
                assert!(w.as_mut().poll(&mut cx).is_pending());
                tracker.close();
                drop(token);
                assert!(w.as_mut().poll(&mut cx).is_ready());
                tracker.reopen();
            }
        }
        _ => unreachable!(),
    }
}

/// `resilience` bench, `breaker_closed` rows, and `timeout_ready`'s
/// `manual_clock` row (`ManualClock` keeps its sleepers behind the lock).
fn resilience(row: &str, n: u64) {
    let breaker = CircuitBreaker::new(StdClock, 5, Duration::from_secs(60));
    let windowed = CircuitBreaker::with_config(
        StdClock,
        BreakerConfig::new().failure_rate(50, 100, 20),
        core::iter::repeat(Duration::from_secs(60)),
    );
    let clock = ManualClock::new();
    let d = Duration::from_secs(5);
    for _ in 0..n {
        match row {
            "breaker-call" => {
                let _ = black_box(poll_once(breaker.call(ready(Ok::<u64, ()>(black_box(1))))));
            }
            "breaker-try-acquire" => breaker.try_acquire().unwrap().success(),
            "breaker-window" => {
                let _ = black_box(poll_once(windowed.call(ready(Ok::<u64, ()>(black_box(1))))));
            }
            "timeout-manual-clock" => {
                let _ = black_box(poll_once(timeout(
                    &clock,
                    black_box(d),
                    ready(black_box(1u64)),
                )));
            }
            _ => unreachable!(),
        }
    }
}

async fn job(i: u64) -> u64 {
    smol::future::yield_now().await;
    black_box(i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

/// `channel` bench, `worker_pool/tokio-ct`: 20 workers pulling `n` jobs
/// from a bounded queue (`pool-queue`), or `n` tasks gated by a
/// `Semaphore(20)` (`pool-semaphore`).
fn pool(row: &str, n: u64) {
    const WORKERS: usize = 20;
    current_thread().block_on(async {
        let (res_tx, res_rx) = sluicegate::channel::bounded::<u64>(100);
        let mut joins = Vec::new();
        if row == "pool-queue" {
            let (tx, rx) = sluicegate::channel::bounded::<u64>(100);
            for _ in 0..WORKERS {
                let (rx, res_tx) = (rx.clone(), res_tx.clone());
                joins.push(tokio::spawn(async move {
                    while let Ok(i) = rx.recv().await {
                        res_tx.send(job(i).await).await.unwrap();
                    }
                }));
            }
            joins.push(tokio::spawn(async move {
                for i in 0..n {
                    tx.send(i).await.unwrap();
                }
            }));
        } else {
            let sem = Arc::new(Semaphore::new(WORKERS));
            for i in 0..n {
                let (sem, res_tx) = (sem.clone(), res_tx.clone());
                joins.push(tokio::spawn(async move {
                    let _permit = sem.acquire().await.unwrap();
                    res_tx.send(job(i).await).await.unwrap();
                }));
            }
        }
        drop(res_tx);
        let mut got = 0;
        while let Ok(r) = res_rx.recv().await {
            black_box(r);
            got += 1;
        }
        assert_eq!(got, n);
        for j in joins {
            j.await.unwrap();
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: lock_rows <row> <n> (lock_rows list: the rows)";
    let row = args.first().expect(usage).as_str();
    if row == "list" {
        for r in ROWS {
            println!("{r}");
        }
        return;
    }
    assert!(ROWS.contains(&row), "unknown row {row:?}; {usage}");
    let n: u64 = args.get(1).expect(usage).parse().expect(usage);
    let start = Instant::now();
    match row {
        "sem-uncontended" => sem_uncontended(n),
        "event-handoff" => event_handoff(n),
        "event-pingpong" => event_pingpong(n),
        r if r.starts_with("tracker-") => tracker(r, n),
        r if r.starts_with("breaker-") || r.starts_with("timeout-") => resilience(r, n),
        r => pool(r, n),
    }
    println!(
        "{:.1} ns/operation",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
