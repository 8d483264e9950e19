//! Pattern code for `examples/patterns.rs` (issue 3 §4): the asyncio queue
//! patterns rewritten with `sluicegate::channel`. Every function is
//! executor-independent (plain futures, `futures::join!`/`join_all`), so the
//! example can drive them with any `block_on`.
//!
//! Checked by copying this file into an example with the `main` at the
//! bottom and running it (`cargo run --example channel_patterns`).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::{self, Either};
use sluicegate::channel::{bounded, tracked, SendError};

// ---------------------------------------------------------------------------
// Pattern 1: queue-based worker pool. N workers pull jobs from a bounded
// queue; each result or error is collected (errors are data, not fatal).
// Dropping the job sender is the "sentinel": every worker drains the queue,
// then its `recv` fails and it stops. No per-worker sentinel to get wrong.

/// A job that failed, with its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub job: u32,
    pub reason: &'static str,
}

/// The work: every 97th job fails.
async fn process(job: u32) -> Result<u64, JobError> {
    if job % 97 == 0 {
        Err(JobError {
            job,
            reason: "unlucky input",
        })
    } else {
        Ok(u64::from(job) * 2)
    }
}

/// 20 workers, 10,000 jobs in the asyncio article; returns (results, errors).
pub async fn worker_pool(jobs: u32, workers: usize) -> (Vec<u64>, Vec<JobError>) {
    let (job_tx, job_rx) = bounded::<u32>(100);
    let (out_tx, out_rx) = bounded::<Result<u64, JobError>>(100);

    let producer = async move {
        for job in 0..jobs {
            job_tx.send(job).await.expect("workers outlive the producer");
        }
        // `job_tx` drops here: the queue closes once drained.
    };
    let pool = future::join_all((0..workers).map(|_| {
        let (job_rx, out_tx) = (job_rx.clone(), out_tx.clone());
        async move {
            while let Ok(job) = job_rx.recv().await {
                let _ = out_tx.send(process(job).await).await;
            }
        }
    }));
    // Only the workers' clones stay alive.
    drop((job_rx, out_tx));
    let collect = async move {
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        while let Ok(outcome) = out_rx.recv().await {
            match outcome {
                Ok(r) => results.push(r),
                Err(e) => errors.push(e),
            }
        }
        (results, errors)
    };
    let ((), _, collected) = futures::join!(producer, pool, collect);
    collected
}

// ---------------------------------------------------------------------------
// Pattern 4: backpressure queue. The producer puts with a timeout; an item
// that cannot be queued in time is dropped and counted. Stats: produced,
// consumed, dropped.
//
// The deadline is any future that completes when time is up (a
// `tokio::time::sleep`, an `async_io::Timer`, an embassy `Timer`, ...).
// Once `sluicegate::time` lands, `send_with_deadline` becomes
// `sluicegate::time::timeout(timer, duration, tx.reserve())` and the timer
// argument turns into the crate's `Timer` trait; the logic stays the same.

/// Counters of the backpressure queue.
#[derive(Debug, Default)]
pub struct Stats {
    pub produced: AtomicU64,
    pub consumed: AtomicU64,
    pub dropped: AtomicU64,
}

/// Why a put with a deadline failed; the value comes back either way.
#[derive(Debug, PartialEq, Eq)]
pub enum PutError<T> {
    /// The deadline passed first (asyncio: `TimeoutError`).
    TimedOut(T),
    /// The queue was closed.
    Closed(T),
}

/// asyncio's `await asyncio.wait_for(q.put(item), timeout)`.
///
/// It waits for a *slot* (`reserve`), not with the value: if the deadline
/// wins, the value was never handed over and comes back to the caller, and
/// the slot this put may have been granted goes on to the next producer.
pub async fn send_with_deadline<T, D: Future<Output = ()>>(
    tx: &sluicegate::channel::Sender<T>,
    value: T,
    deadline: D,
) -> Result<(), PutError<T>> {
    let reserve = std::pin::pin!(tx.reserve());
    let deadline = std::pin::pin!(deadline);
    match future::select(reserve, deadline).await {
        Either::Left((Ok(permit), _)) => {
            permit.send(value);
            Ok(())
        }
        Either::Left((Err(SendError(())), _)) => Err(PutError::Closed(value)),
        Either::Right(((), _)) => Err(PutError::TimedOut(value)),
    }
}

/// A producer that outruns its consumer: queue size 100 in the article, put
/// timeout 1 s; `make_deadline` builds one deadline per put.
pub async fn backpressure_queue<D, F>(items: u64, queue_size: usize, make_deadline: F) -> Stats
where
    D: Future<Output = ()>,
    F: Fn() -> D,
{
    let stats = Stats::default();
    let (tx, rx) = bounded::<u64>(queue_size);
    let producer = async {
        for item in 0..items {
            stats.produced.fetch_add(1, Ordering::Relaxed);
            match send_with_deadline(&tx, item, make_deadline()).await {
                Ok(()) => {}
                Err(PutError::TimedOut(_dropped)) => {
                    stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(PutError::Closed(_)) => break,
            }
        }
        tx.close();
    };
    let consumer = async {
        while let Ok(_item) = rx.recv().await {
            stats.consumed.fetch_add(1, Ordering::Relaxed);
            // A slow consumer (three await points per item): the producer
            // fills the queue and its puts start to time out.
            for _ in 0..3 {
                futures_lite::future::yield_now().await;
            }
        }
    };
    futures::join!(producer, consumer);
    stats
}

// ---------------------------------------------------------------------------
// Pattern 5: producer/consumer with `Queue(maxsize)` and `join()`. The
// producer waits while the queue is full; consumers mark each item done by
// dropping its `Task`; `join()` returns once every item was processed.
// Pattern 6 (Python 3.13 shutdown) closes the pipeline afterwards: graceful
// `close()` lets consumers drain, `shutdown_immediate()` discards.

/// maxsize 5, 1 producer, 3 consumers in the article; returns the sum of
/// what the consumers processed.
pub async fn producer_consumer_join(items: u64, consumers: usize) -> u64 {
    let (tx, rx) = tracked::<u64>(5);
    let processed = AtomicU64::new(0);

    let producer = async {
        for item in 1..=items {
            tx.send(item).await.expect("queue open");
        }
        // asyncio: `await queue.join()`; every item received *and* done.
        tx.join().await;
        assert_eq!(tx.unfinished_tasks(), 0);
        // asyncio 3.13: `queue.shutdown()`; consumers' `get` now fails.
        tx.close();
    };
    let workers = future::join_all((0..consumers).map(|_| async {
        while let Ok(task) = rx.recv_task().await {
            processed.fetch_add(*task, Ordering::Relaxed);
            // `task` drops here: asyncio's `queue.task_done()`.
        }
    }));
    futures::join!(producer, workers);
    processed.into_inner()
}

/// Python 3.13 `shutdown(immediate=True)`: queued items are discarded and
/// `join()` is released even though they were never processed.
pub async fn immediate_shutdown_releases_join() -> usize {
    let (tx, rx) = tracked::<u32>(8);
    for i in 0..8 {
        tx.send(i).await.unwrap();
    }
    let discarded = rx.shutdown_immediate();
    tx.join().await; // returns: nothing unfinished is left
    assert!(rx.recv().await.is_err());
    discarded
}

/// For checking this file as an example: runs every pattern once.
#[allow(dead_code)]
fn main() {
    futures::executor::block_on(async {
        let (results, errors) = worker_pool(10_000, 20).await;
        assert_eq!(results.len() + errors.len(), 10_000);
        assert_eq!(errors.len(), 104); // 0, 97, ..., 9991
        println!(
            "worker pool: {} results, {} errors",
            results.len(),
            errors.len()
        );

        // A deadline that passes after one yield stands in for a timer: a
        // put that still finds the queue full by then is dropped.
        let stats = backpressure_queue(1_000, 10, futures_lite::future::yield_now).await;
        let (p, c, d) = (
            stats.produced.into_inner(),
            stats.consumed.into_inner(),
            stats.dropped.into_inner(),
        );
        assert_eq!(p, c + d);
        assert!(d > 0, "the slow consumer made the producer drop items");
        println!("backpressure: produced {p}, consumed {c}, dropped {d}");

        let sum = producer_consumer_join(100, 3).await;
        assert_eq!(sum, 5050);
        println!("producer/consumer with join(): processed sum {sum}");

        assert_eq!(immediate_shutdown_releases_join().await, 8);
        println!("immediate shutdown: join() released");
    });
}
