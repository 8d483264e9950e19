//! The asyncio patterns of `ASYNCIO-PATTERNS.md`, rewritten with sluicegate
//! and run on smol with simulated I/O (short timers). Prints a results table.
//!
//! `cargo run --release --example patterns`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluicegate::{Event, Semaphore};

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

fn main() {
    let ex: &'static smol::Executor<'static> = Box::leak(Box::new(smol::Executor::new()));
    let rows = smol::block_on(ex.run(async {
        vec![
            bounded_concurrency(ex).await,
            bounded_semaphore().await,
            start_signal(ex).await,
        ]
    }));

    let w = [36, 24, 34, 56];
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
