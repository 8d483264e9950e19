//! The asyncio patterns of `ASYNCIO-PATTERNS.md`, rewritten with sluicegate
//! and run on smol with simulated I/O (short timers). Prints a results table.
//!
//! `cargo run --release --example patterns`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::cell::Cell;
use std::collections::VecDeque;

use futures::future;
use sluicegate::breaker::{BreakerError, CircuitBreaker, State};
use sluicegate::cancel::CancellationToken;
use sluicegate::channel::{bounded, tracked};
use sluicegate::retry::{Backoff, Jitter, Retry, RetryPolicy, SplitMix64};
use sluicegate::task::TaskTracker;
use sluicegate::time::{interval, timeout, ManualClock, Sleeper};
use sluicegate::{Condition, Event, Mutex, Semaphore, TaskGroup};

/// One row of the results table.
struct Row {
    pattern: &'static str,
    sluicegate: &'static str,
    parameters: String,
    result: String,
    elapsed: Duration,
}

/// Simulated network I/O: a request that takes `ms` milliseconds.
async fn fake_request(ms: u64) -> u64 {
    smol::Timer::after(Duration::from_millis(ms)).await;
    ms
}

/// #2 `async with semaphore:` bounds how many requests run at once.
async fn bounded_concurrency(ex: &smol::Executor<'static>) -> Row {
    const REQUESTS: usize = 200;
    const PERMITS: usize = 20;
    let start = Instant::now();
    let sem = Arc::new(Semaphore::new(PERMITS));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let (sem, in_flight, peak) = (sem.clone(), in_flight.clone(), peak.clone());
            ex.spawn(async move {
                let _permit = sem.acquire().await.expect("never closed");
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                fake_request(5).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await;
    }
    Row {
        pattern: "2 Semaphore (bounded concurrency)",
        sluicegate: "Semaphore::acquire",
        parameters: format!("{REQUESTS} requests of 5 ms, {PERMITS} permits"),
        result: format!(
            "peak in flight {} (limit {PERMITS}), {} permits back",
            peak.load(Ordering::SeqCst),
            sem.available_permits()
        ),
        elapsed: start.elapsed(),
    }
}

/// #3 BoundedSemaphore: over-release raises in Python. Permits are RAII
/// guards here, so releasing more than was acquired cannot be written; extra
/// capacity is an explicit `add_permits`.
async fn bounded_semaphore() -> Row {
    let start = Instant::now();
    let sem = Semaphore::new(2);
    {
        let a = sem.acquire().await.unwrap();
        let b = sem.acquire().await.unwrap();
        drop((a, b)); // each guard returns exactly what it took
    }
    let mut many = sem.acquire_many(2).await.unwrap();
    let one = many.split(1).expect("holds two");
    drop(one);
    drop(many);
    Row {
        pattern: "3 BoundedSemaphore",
        sluicegate: "SemaphorePermit (RAII)",
        parameters: "2 permits, acquire/split/drop".into(),
        result: format!(
            "{} permits after every guard dropped (never more)",
            sem.available_permits()
        ),
        elapsed: start.elapsed(),
    }
}

/// #12 Event as a start signal: workers wait, one `set()` releases them all.
async fn start_signal(ex: &smol::Executor<'static>) -> Row {
    const WORKERS: usize = 50;
    let start = Instant::now();
    let go = Arc::new(Event::new());
    let started = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (go, started) = (go.clone(), started.clone());
            ex.spawn(async move {
                go.wait().await;
                started.fetch_add(1, Ordering::SeqCst);
                fake_request(1).await;
            })
        })
        .collect();
    fake_request(5).await; // workers are queued on the event by now
    let before = started.load(Ordering::SeqCst);
    go.set();
    for t in tasks {
        t.await;
    }
    Row {
        pattern: "12 Event (start signal)",
        sluicegate: "Event::set / wait",
        parameters: format!("{WORKERS} workers"),
        result: format!(
            "{before} started before set(), {} after",
            started.load(Ordering::SeqCst)
        ),
        elapsed: start.elapsed(),
    }
}

/// A service that answers after `latency` of virtual time and fails while
/// `down` is set.
async fn service(
    clock: &ManualClock,
    latency: Duration,
    down: bool,
) -> Result<&'static str, &'static str> {
    clock.sleep(latency).await;
    if down {
        Err("503")
    } else {
        Ok("200")
    }
}

/// #1 Queue-based worker pool: 20 workers pull 10,000 jobs from a bounded
/// queue; results and errors are both collected (errors are data). Dropping
/// the job sender is the sentinel: workers drain the queue, then stop.
async fn worker_pool() -> Row {
    const JOBS: u32 = 10_000;
    const WORKERS: usize = 20;
    let start = Instant::now();
    let (job_tx, job_rx) = bounded::<u32>(100);
    let (out_tx, out_rx) = bounded::<Result<u64, u32>>(100);
    let producer = async move {
        for job in 0..JOBS {
            job_tx
                .send(job)
                .await
                .expect("workers outlive the producer");
        }
    };
    let pool = future::join_all((0..WORKERS).map(|_| {
        let (job_rx, out_tx) = (job_rx.clone(), out_tx.clone());
        async move {
            while let Ok(job) = job_rx.recv().await {
                // Every 97th job fails.
                let outcome = if job % 97 == 0 {
                    Err(job)
                } else {
                    Ok(u64::from(job) * 2)
                };
                let _ = out_tx.send(outcome).await;
            }
        }
    }));
    drop((job_rx, out_tx));
    let collect = async move {
        let (mut ok, mut failed) = (0usize, 0usize);
        while let Ok(outcome) = out_rx.recv().await {
            match outcome {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
        }
        (ok, failed)
    };
    let ((), _, (ok, failed)) = futures::join!(producer, pool, collect);
    assert_eq!((ok, failed), (9_896, 104));
    Row {
        pattern: "1 Queue worker pool",
        sluicegate: "channel::bounded + workers",
        parameters: format!("{WORKERS} workers, {JOBS} jobs, queue 100"),
        result: format!("{ok} results + {failed} errors collected"),
        elapsed: start.elapsed(),
    }
}

/// #4 Backpressure queue: the producer puts with a 1 s timeout; an item that
/// cannot be queued in time is dropped and counted. Waiting for a *slot*
/// (`reserve`) rather than with the value means a timed-out item comes back.
fn backpressure_queue() -> Row {
    const ITEMS: u64 = 500;
    let start = Instant::now();
    let clock = ManualClock::new();
    let (produced, consumed, dropped) = futures_lite::future::block_on(clock.auto_advance(async {
        let (tx, rx) = bounded::<u64>(100);
        let (mut produced, mut dropped) = (0u64, 0u64);
        let producer = async {
            for item in 0..ITEMS {
                produced += 1;
                match timeout(&clock, Duration::from_secs(1), tx.reserve()).await {
                    Ok(Ok(permit)) => permit.send(item),
                    Ok(Err(_closed)) => break,
                    Err(_elapsed) => dropped += 1,
                }
                clock.sleep(Duration::from_millis(100)).await; // 10 items/s
            }
            tx.close();
        };
        let consumer = async {
            let mut consumed = 0u64;
            while rx.recv().await.is_ok() {
                consumed += 1;
                clock.sleep(Duration::from_millis(1500)).await; // a slow downstream
            }
            consumed
        };
        let ((), consumed) = futures::join!(producer, consumer);
        (produced, consumed, dropped)
    }));
    assert_eq!(
        produced,
        consumed + dropped,
        "every item consumed or counted as dropped"
    );
    assert!(dropped > 0);
    Row {
        pattern: "4 Backpressure queue",
        sluicegate: "reserve + time::timeout",
        parameters: "queue 100, put timeout 1 s (virtual)".into(),
        result: format!("produced {produced}, consumed {consumed}, dropped {dropped}"),
        elapsed: start.elapsed(),
    }
}

/// #5 and #6 Producer/consumer with `Queue(maxsize=5)` and `join()`, then the
/// 3.13 shutdowns: graceful `close()` lets consumers drain and stop;
/// `shutdown_immediate()` discards what is queued and releases `join()`.
async fn producer_consumer_join() -> Row {
    const ITEMS: u64 = 1_000;
    let start = Instant::now();
    let (tx, rx) = tracked::<u64>(5);
    let processed = std::sync::atomic::AtomicU64::new(0);
    let producer = async {
        for item in 1..=ITEMS {
            tx.send(item).await.expect("queue open");
        }
        tx.join().await; // every item received and done
        tx.close(); // consumers' recv now fails once drained
    };
    let consumers = future::join_all((0..3).map(|_| async {
        while let Ok(task) = rx.recv_task().await {
            processed.fetch_add(*task, Ordering::Relaxed);
            // `task` drops here: asyncio's `task_done()`.
        }
    }));
    futures::join!(producer, consumers);
    let sum = processed.into_inner();
    assert_eq!(sum, ITEMS * (ITEMS + 1) / 2);

    let (tx, rx) = tracked::<u32>(8);
    for i in 0..8 {
        tx.send(i).await.unwrap();
    }
    let discarded = rx.shutdown_immediate();
    tx.join().await; // released although nothing was processed
    Row {
        pattern: "5+6 Queue join() / shutdown",
        sluicegate: "channel::tracked, join, Task",
        parameters: format!("maxsize 5, 1 → 3 consumers, {ITEMS} items"),
        result: format!(
            "join() after all {ITEMS} done (sum {sum}); immediate shutdown discarded {discarded}"
        ),
        elapsed: start.elapsed(),
    }
}

/// #14 Condition: producer/consumer over a shared list (asyncio's example).
/// The list lives inside the mutex; `wait_until` takes the guard and hands it
/// back, so the state cannot be touched without the lock.
async fn condition_producer_consumer() -> Row {
    #[derive(Default)]
    struct Shared {
        items: VecDeque<u32>,
        done: bool,
    }
    async fn consumer(state: &Mutex<Shared>, cond: &Condition) -> Vec<u32> {
        let mut took = Vec::new();
        let mut guard = state.lock().await;
        loop {
            guard = cond
                .wait_until(guard, |s| !s.items.is_empty() || s.done)
                .await;
            match guard.items.pop_front() {
                Some(item) => took.push(item),
                None => return took,
            }
        }
    }
    async fn producer(state: &Mutex<Shared>, cond: &Condition) {
        for i in 0..100 {
            state.lock().await.items.push_back(i);
            cond.notify_one();
            futures_lite::future::yield_now().await;
        }
        state.lock().await.done = true;
        cond.notify_all();
    }
    let start = Instant::now();
    let state = Mutex::new(Shared::default());
    let cond = Condition::new();
    let (a, b, ()) = futures::future::join3(
        consumer(&state, &cond),
        consumer(&state, &cond),
        producer(&state, &cond),
    )
    .await;
    let mut all: Vec<u32> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>(), "every item exactly once");
    Row {
        pattern: "14 Condition (producer/consumer)",
        sluicegate: "Condition::wait_until + Mutex",
        parameters: "1 producer, 2 consumers, 100 items".into(),
        result: format!("consumers took {} + {}, each item once", a.len(), b.len()),
        elapsed: start.elapsed(),
    }
}

/// #10 Timeout: `asyncio.wait_for(coro, 5)`; the slow call is dropped when
/// the deadline passes. Virtual time: finishes at once.
fn timeout_pattern() -> Row {
    let start = Instant::now();
    let clock = ManualClock::new();
    let (fast, slow) = futures_lite::future::block_on(clock.auto_advance(async {
        let fast = timeout(
            &clock,
            Duration::from_secs(5),
            service(&clock, Duration::from_secs(1), false),
        )
        .await;
        let slow = timeout(
            &clock,
            Duration::from_secs(5),
            service(&clock, Duration::from_secs(30), false),
        )
        .await;
        (fast, slow)
    }));
    assert_eq!(fast, Ok(Ok("200")));
    assert!(slow.is_err());
    Row {
        pattern: "10 Timeout (wait_for)",
        sluicegate: "time::timeout",
        parameters: "5 s limit; calls of 1 s and 30 s".into(),
        result: format!(
            "1 s call ok, 30 s call timed out at t = {:?} (virtual)",
            clock.now()
        ),
        elapsed: start.elapsed(),
    }
}

/// #11 Retry with exponential backoff against a service that fails its first
/// three calls: up to 5 attempts, 100 ms × 2ⁿ with full jitter, capped at 2 s.
fn retry_with_backoff() -> Row {
    let start = Instant::now();
    let clock = ManualClock::new();
    let calls = Cell::new(0);
    let policy = RetryPolicy::new(
        Backoff::exponential(Duration::from_millis(100))
            .max_delay(Duration::from_secs(2))
            .jitter(Jitter::Full)
            .rng(SplitMix64::new(7)), // seeded: the same run every time
    )
    .max_attempts(5);
    let result =
        futures_lite::future::block_on(clock.auto_advance(Retry::new(policy, &clock).run(|| {
            calls.set(calls.get() + 1);
            service(&clock, Duration::from_millis(20), calls.get() <= 3)
        })));
    assert_eq!(result, Ok("200"));
    Row {
        pattern: "11 Retry with exponential backoff",
        sluicegate: "retry::Retry + Backoff",
        parameters: "5 attempts, base 100 ms, full jitter".into(),
        result: format!(
            "ok after {} calls, t = {:?} (virtual)",
            calls.get(),
            clock.now()
        ),
        elapsed: start.elapsed(),
    }
}

/// #7 Circuit breaker: opens after 3 consecutive failures, rejects calls
/// without running them for 60 s, then one trial closes it again.
fn circuit_breaker() -> Row {
    let start = Instant::now();
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(&clock, 3, Duration::from_secs(60));
    let down = Cell::new(true);
    let ran = Cell::new(0);
    let call = || {
        let outcome = if down.get() { Err("503") } else { Ok("200") };
        let ran = &ran;
        async move {
            ran.set(ran.get() + 1);
            outcome
        }
    };
    let rejected = futures_lite::future::block_on(async {
        let mut rejected = 0;
        for _ in 0..5 {
            if let Err(BreakerError::Rejected(_)) = breaker.call(call()).await {
                rejected += 1;
            }
        }
        assert_eq!(breaker.state(), State::Open);
        clock.advance(Duration::from_secs(60));
        down.set(false);
        assert_eq!(breaker.call(call()).await, Ok("200"));
        assert_eq!(breaker.state(), State::Closed);
        rejected
    });
    Row {
        pattern: "7 Circuit breaker",
        sluicegate: "CircuitBreaker::call",
        parameters: "threshold 3, recovery 60 s (virtual)".into(),
        result: format!("{rejected} of 5 calls rejected unrun; trial after 60 s closed it"),
        elapsed: start.elapsed(),
    }
}

/// #2 done right: a rate is not a semaphore. asyncio's "semaphore rate
/// limiting" lets through as many calls per second as finish; a
/// `RateLimiter` counts starts: 10 per second, 5 at once after a quiet
/// spell. Virtual time.
fn rate_limit_per_second() -> Row {
    use sluicegate::limit::{Quota, RateLimiter};
    let start = Instant::now();
    let clock = ManualClock::new();
    let limiter = RateLimiter::new(&clock, Quota::per_second(10).with_burst(5));
    let starts = futures_lite::future::block_on(clock.auto_advance(async {
        let mut starts = Vec::new();
        for _ in 0..25 {
            limiter.acquire().await.unwrap();
            starts.push(clock.now());
        }
        starts
    }));
    assert_eq!(starts[4], Duration::ZERO);
    assert_eq!(starts[24], Duration::from_secs(2));
    Row {
        pattern: "2 Rate limit N/s (done right)",
        sluicegate: "limit::RateLimiter (GCRA)",
        parameters: "10/s, burst 5, 25 calls (virtual)".into(),
        result: "5 at once, then 1 per 100 ms: the 25th starts at 2.0 s".into(),
        elapsed: start.elapsed(),
    }
}

/// #18 Adaptive concurrency: 32 clients against a server that can take 8
/// calls at once and answers 503 past that. AIMD starts at 32 and backs
/// off on each 503, growing again while calls succeed: it finds the
/// capacity it was never told. Virtual time.
fn adaptive_concurrency() -> Row {
    use sluicegate::limit::{AdaptiveLimiter, Aimd};
    let start = Instant::now();
    let clock = ManualClock::new();
    let limiter = AdaptiveLimiter::new(&clock, Aimd::new().limits(1, 64).initial_limit(32));
    let at_server = Cell::new(0usize);
    let (ok, busy) = (Cell::new(0usize), Cell::new(0usize));
    let client = || async {
        for _ in 0..40 {
            let token = limiter.acquire().await;
            if at_server.get() >= 8 {
                busy.set(busy.get() + 1);
                token.dropped(); // 503: too busy
                continue;
            }
            at_server.set(at_server.get() + 1);
            clock.sleep(Duration::from_millis(10)).await;
            at_server.set(at_server.get() - 1);
            ok.set(ok.get() + 1);
            token.success();
        }
    };
    futures_lite::future::block_on(clock.auto_advance(future::join_all((0..32).map(|_| client()))));
    let limit = limiter.limit();
    assert!((4..=16).contains(&limit), "limit {limit}");
    Row {
        pattern: "18 Adaptive concurrency",
        sluicegate: "limit::AdaptiveLimiter (AIMD)",
        parameters: "32 clients, server takes 8, start at 32".into(),
        result: format!(
            "limit settled at {limit}; {} calls ok, {} answered 503",
            ok.get(),
            busy.get()
        ),
        elapsed: start.elapsed(),
    }
}

/// #15 Periodic task: a health check every 5 s, each bounded by a 1 s
/// timeout; the third one hangs and times out, the grid does not drift.
fn periodic_health_check() -> Row {
    let start = Instant::now();
    let clock = ManualClock::new();
    let healthy = futures_lite::future::block_on(clock.auto_advance(async {
        let mut every_5s = interval(&clock, Duration::from_secs(5));
        let mut healthy = 0;
        for round in 0..4 {
            every_5s.tick().await;
            let latency = if round == 2 {
                Duration::from_secs(10)
            } else {
                Duration::from_millis(50)
            };
            if timeout(
                &clock,
                Duration::from_secs(1),
                service(&clock, latency, false),
            )
            .await
            .is_ok()
            {
                healthy += 1;
            }
        }
        assert_eq!(every_5s.next_deadline(), Duration::from_secs(20));
        healthy
    }));
    Row {
        pattern: "15 Periodic task",
        sluicegate: "time::interval + timeout",
        parameters: "every 5 s, 1 s check timeout".into(),
        result: format!("{healthy} of 4 checks healthy, 1 timed out; ticks on the 5 s grid"),
        elapsed: start.elapsed(),
    }
}

/// #17 Graceful shutdown: on a signal, stop accepting work (the shutdown
/// token, cancelled with a cause), let the requests in flight finish within
/// a grace period (`TaskTracker::wait` under `time::timeout`), then cut off
/// the rest (a second token every request runs under). Virtual time;
/// `examples/shutdown.rs` does it with a real Ctrl-C on tokio and smol.
fn graceful_shutdown() -> Row {
    let start = Instant::now();
    let clock = ManualClock::new();
    let shutdown = CancellationToken::<&str>::with_cause_type();
    let hard_stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let (accepted, finished, cut_off) = (Cell::new(0), Cell::new(0), Cell::new(0));
    let ex = smol::LocalExecutor::new();
    let report = futures_lite::future::block_on(clock.auto_advance(ex.run(async {
        let server = async {
            let mut n = 0u64;
            // A request every 10 ms until the shutdown token is cancelled.
            while shutdown
                .run_until_cancelled(clock.sleep(Duration::from_millis(10)))
                .await
                .is_some()
            {
                n += 1;
                accepted.set(accepted.get() + 1);
                let work = Duration::from_millis(20 + (n * 37) % 400);
                let (clock, hard_stop, finished, cut_off) =
                    (&clock, &hard_stop, &finished, &cut_off);
                ex.spawn(tracker.track_future(async move {
                    match hard_stop.run_until_cancelled(clock.sleep(work)).await {
                        Some(()) => finished.set(finished.get() + 1),
                        None => cut_off.set(cut_off.get() + 1),
                    }
                }))
                .detach();
            }
            let in_flight = tracker.len();
            tracker.close();
            if timeout(&clock, Duration::from_millis(150), tracker.wait())
                .await
                .is_err()
            {
                hard_stop.cancel();
                tracker.wait().await;
            }
            in_flight
        };
        let signal = async {
            clock.sleep(Duration::from_millis(200)).await;
            shutdown.cancel_with("SIGTERM");
        };
        futures_lite::future::zip(server, signal).await.0
    })));
    assert_eq!(accepted.get(), finished.get() + cut_off.get());
    Row {
        pattern: "17 Graceful shutdown",
        sluicegate: "CancellationToken + TaskTracker",
        parameters: "a request / 10 ms, signal at 200 ms, grace 150 ms".into(),
        result: format!(
            "{:?}: {} accepted, {report} in flight; {} finished, {} cut off",
            shutdown.cause().expect("cancelled with a cause"),
            accepted.get(),
            finished.get(),
            cut_off.get()
        ),
        elapsed: start.elapsed(),
    }
}

/// #8 `gather(..., return_exceptions=True)`: every request runs to the
/// end; results and errors come back in order, then are split.
async fn gather_return_exceptions() -> Row {
    const REQUESTS: u64 = 12;
    let start = Instant::now();
    let mut group = TaskGroup::<u64, String>::new();
    for n in 0..REQUESTS {
        group.spawn(async move {
            let ms = fake_request(1 + n % 4).await;
            if n % 5 == 3 {
                Err(format!("request {n} failed"))
            } else {
                Ok(ms)
            }
        });
    }
    let results = group.join_all().await;
    let failed: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].is_err())
        .collect();
    Row {
        pattern: "8 gather(return_exceptions=True)",
        sluicegate: "TaskGroup::join_all",
        parameters: format!("{REQUESTS} requests, 1 in 5 fails"),
        result: format!(
            "{} ok, failed at {failed:?}, in spawn order",
            results.len() - failed.len()
        ),
        elapsed: start.elapsed(),
    }
}

/// #9 TaskGroup: one request fails; the group cancels its siblings through
/// their tokens (with the error as the cause) instead of waiting for them.
async fn task_group() -> Row {
    const SIBLINGS: usize = 5;
    let start = Instant::now();
    let mut group = TaskGroup::<u64, String>::new();
    for _ in 0..SIBLINGS {
        let token = group.token().child_token();
        group.spawn(async move {
            match token.run_until_cancelled(fake_request(500)).await {
                Some(ms) => Ok(ms),
                None => Err(format!(
                    "stopped: {}",
                    token.cause().map_or("?", String::as_str)
                )),
            }
        });
    }
    group.spawn(async {
        fake_request(5).await;
        Err("backend down".to_string())
    });
    let error = group.await.expect_err("one child fails");
    Row {
        pattern: "9 TaskGroup (fail fast)",
        sluicegate: "TaskGroup::join + token()",
        parameters: format!("{SIBLINGS} requests of 500 ms, 1 fails at 5 ms"),
        result: format!(
            "'{}'; {} siblings stopped via their tokens",
            error.first(),
            error.others().len()
        ),
        elapsed: start.elapsed(),
    }
}

/// #21 Bounded batch processing: 100 items, at most 10 in flight, results
/// in input order.
async fn bounded_batch() -> Row {
    const ITEMS: u64 = 100;
    const LIMIT: usize = 10;
    let start = Instant::now();
    let in_flight = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let mut group = TaskGroup::<u64, ()>::new().with_limit(LIMIT);
    for item in 0..ITEMS {
        let (in_flight, peak) = (&in_flight, &peak);
        group.spawn(async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            fake_request(2).await;
            in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(item * 2)
        });
    }
    let doubled = group.await.expect("no item fails");
    assert!(doubled.iter().copied().eq((0..ITEMS).map(|i| i * 2)));
    Row {
        pattern: "21 Bounded batch processing",
        sluicegate: "TaskGroup::with_limit",
        parameters: format!("{ITEMS} items of 2 ms, limit {LIMIT}"),
        result: format!(
            "peak in flight {} (limit {LIMIT}), {} results in order",
            peak.load(Ordering::SeqCst),
            doubled.len()
        ),
        elapsed: start.elapsed(),
    }
}

/// #20 Connection pool: asyncio's `ConnectionPool(max_connections=10)`
/// (`async with pool as conn:`). 50 requests over 10 pooled connections,
/// made lazily (a 20 ms connect) and checked with a 1 ms ping before each
/// reuse; every 25th ping finds the connection broken, and the pool replaces
/// it. Virtual time.
fn connection_pool() -> Row {
    use sluicegate::pool::{Manager, Pool};
    use std::future::Future;
    use std::pin::Pin;

    struct SimConn {
        queries: u32,
    }
    struct Connector {
        clock: ManualClock,
        pings: Cell<u32>,
    }
    type Step<'a> = Pin<Box<dyn Future<Output = Result<SimConn, &'static str>> + 'a>>;
    impl Manager<SimConn> for Connector {
        type Error = &'static str;
        type Create<'a> = Step<'a>;
        type Recycle<'a> = Step<'a>;
        fn create(&self) -> Step<'_> {
            Box::pin(async move {
                self.clock.sleep(Duration::from_millis(20)).await; // connect
                Ok(SimConn { queries: 0 })
            })
        }
        fn recycle(&self, conn: SimConn) -> Step<'_> {
            Box::pin(async move {
                self.clock.sleep(Duration::from_millis(1)).await; // ping
                self.pings.set(self.pings.get() + 1);
                if self.pings.get() % 25 == 0 {
                    return Err("connection reset");
                }
                Ok(conn)
            })
        }
    }

    let start = Instant::now();
    let clock = ManualClock::new();
    let connector = Connector {
        clock: clock.clone(),
        pings: Cell::new(0),
    };
    let pool = Pool::builder(connector, 10)
        .timer(clock.clone())
        .wait_timeout(Duration::from_secs(5))
        .build();
    let (peak, queries) = (Cell::new(0), Cell::new(0));
    let ex = smol::LocalExecutor::new();
    futures_lite::future::block_on(clock.auto_advance(ex.run(async {
        let requests: Vec<_> = (0..50u64)
            .map(|n| {
                let (pool, clock, peak, queries) = (&pool, &clock, &peak, &queries);
                ex.spawn(async move {
                    // `async with pool as conn:`
                    let mut conn = pool.get().await.expect("a connection within 5 s");
                    peak.set(peak.get().max(pool.status().in_use));
                    clock.sleep(Duration::from_millis(10 + n * 7 % 40)).await; // the query
                    conn.queries += 1;
                    queries.set(queries.get() + 1);
                }) // the connection goes back here
            })
            .collect();
        for r in requests {
            r.await;
        }
    })));
    let s = pool.status();
    assert_eq!(s.created + s.reused, 50 + s.recycle_failures);
    assert_eq!(queries.get(), 50);
    assert!(peak.get() <= 10);
    Row {
        pattern: "20 Connection pool",
        sluicegate: "pool::Pool + Manager",
        parameters: "max_connections=10, 50 requests".into(),
        result: format!(
            "{} created, {} recycled ({} broken), {} reused; peak {} in use",
            s.created,
            pool.manager().pings.get(),
            s.recycle_failures,
            s.reused - s.recycle_failures,
            peak.get()
        ),
        elapsed: start.elapsed(),
    }
}

fn main() {
    let ex: &'static smol::Executor<'static> = Box::leak(Box::new(smol::Executor::new()));
    let mut rows = smol::block_on(ex.run(async {
        vec![
            worker_pool().await,
            producer_consumer_join().await,
            bounded_concurrency(ex).await,
            bounded_semaphore().await,
            start_signal(ex).await,
            condition_producer_consumer().await,
            gather_return_exceptions().await,
            task_group().await,
            bounded_batch().await,
        ]
    }));
    rows.extend([
        backpressure_queue(),
        timeout_pattern(),
        retry_with_backoff(),
        circuit_breaker(),
        rate_limit_per_second(),
        adaptive_concurrency(),
        periodic_health_check(),
        graceful_shutdown(),
        connection_pool(),
    ]);

    let w = [36, 32, 50, 66];
    println!(
        "{:<w0$} | {:<w1$} | {:<w2$} | {:<w3$} | time",
        "asyncio pattern",
        "sluicegate",
        "parameters",
        "result",
        w0 = w[0],
        w1 = w[1],
        w2 = w[2],
        w3 = w[3]
    );
    println!("{}", "-".repeat(w.iter().sum::<usize>() + 20));
    for r in rows {
        println!(
            "{:<w0$} | {:<w1$} | {:<w2$} | {:<w3$} | {:>7.1} ms",
            r.pattern,
            r.sluicegate,
            r.parameters,
            r.result,
            r.elapsed.as_secs_f64() * 1e3,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        );
    }
}
