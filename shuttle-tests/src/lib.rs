//! Helpers shared by the shuttle models in `tests/`.
//!
//! loom (`loom-tests/`) explores *every* interleaving, which limits its
//! models to two or three threads. shuttle samples schedules instead, so a
//! model can run 16 to 64 tasks: each model here runs under shuttle's
//! randomized scheduler and under its PCT scheduler (probabilistic
//! concurrency testing, which finds bugs of a small "depth" with a known
//! probability), and checks exact accounting at the end of every schedule.
//!
//! # Running
//!
//! ```text
//! RUSTFLAGS="--cfg shuttle" cargo test -p sluicegate-shuttle-tests --release --target-dir target/shuttle
//! ```
//!
//! sluicegate then takes shuttle's atomics and its mutex (the lock of every
//! wait list), so a schedule can switch tasks at each of them. Without
//! `--cfg shuttle`, [`check`] runs a model once, its tasks on real threads,
//! so the models are also plain tests.
//!
//! | variable | effect |
//! |---|---|
//! | `SHUTTLE_ITERATIONS` | schedules per scheduler and model (the default is each model's, sized for CI) |
//! | `SHUTTLE_RANDOM_SEED` | shuttle's own: the seed of both schedulers (default: a fixed seed per model, so runs repeat) |
//! | `SHUTTLE_REPLAY` | a failing schedule to replay instead of checking |
//!
//! # Replaying a failure
//!
//! When a model fails, shuttle prints the schedule that failed:
//!
//! ```text
//! failing schedule:
//! "
//! 91022ceac7d5bcb1a7fcc5...
//! "
//! pass that string to `shuttle::replay` to replay the failure
//! ```
//!
//! (It may print two: one when the task panics, one after the other tasks
//! have unwound; either replays.) Run that one model again with the string
//! in `SHUTTLE_REPLAY` (its line breaks may stay: whitespace is ignored); it
//! then runs exactly that schedule, once, and fails the same way, with the
//! same values (the models have no randomness but shuttle's, capacities and
//! other choices included, so a schedule decides everything):
//!
//! ```text
//! SHUTTLE_REPLAY="91022ceac7d5bcb1a7fcc5..." RUSTFLAGS="--cfg shuttle" \
//!     cargo test -p sluicegate-shuttle-tests --release --target-dir target/shuttle \
//!     --test models -- --exact channel::mpmc_with_cancellations_accounts_for_every_value
//! ```
//!
//! `SHUTTLE_CAPTURE_BACKTRACE=1` adds where each task was blocked.
#![allow(clippy::new_without_default)]

use std::future::Future;

/// Schedules per scheduler, from `SHUTTLE_ITERATIONS` or else `default`.
pub fn iterations(default: usize) -> usize {
    match std::env::var("SHUTTLE_ITERATIONS") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|e| panic!("SHUTTLE_ITERATIONS={s:?}: {e}")),
        Err(_) => default,
    }
}

/// The PCT scheduler's depth: bugs that need up to this many ordering
/// constraints between tasks are found with a probability bounded below.
pub const PCT_DEPTH: usize = 3;

/// Runs `model` under shuttle's random scheduler and then under its PCT
/// scheduler, `iterations(default_iterations)` schedules each, seeded from
/// `name` (or `SHUTTLE_RANDOM_SEED`). With `SHUTTLE_REPLAY` set, runs that
/// one schedule instead. Without `--cfg shuttle`, runs `model` once.
#[cfg(shuttle)]
pub fn check<F>(name: &str, default_iterations: usize, model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    use shuttle::scheduler::{PctScheduler, RandomScheduler, ReplayScheduler};
    use shuttle::{Config, Runner};

    let mut config = Config::new();
    // shuttle warns once that it treats every ordering as SeqCst: known
    // (loom checks the orderings), and the warning would only be noise.
    config.silence_warnings = true;
    if let Ok(schedule) = std::env::var("SHUTTLE_REPLAY") {
        // Stop at the first panic: the recorded schedule ends there, and
        // running the unwinding tasks on would only add a second panic
        // ("schedule ended early") after the one being replayed.
        config
            .ungraceful_shutdown_config
            .immediately_return_on_panic = true;
        Runner::new(ReplayScheduler::new_from_encoded(&schedule), config).run(model);
        return;
    }
    let n = iterations(default_iterations);
    let seed = seed(name);
    let model = std::sync::Arc::new(model);
    let m = model.clone();
    Runner::new(RandomScheduler::new_from_seed(seed, n), config.clone()).run(move || m());
    Runner::new(PctScheduler::new_from_seed(seed, PCT_DEPTH, n), config).run(move || model());
}

/// Runs `model` once (shuttle samples schedules under `--cfg shuttle`).
#[cfg(not(shuttle))]
pub fn check<F>(_name: &str, _default_iterations: usize, model: F)
where
    F: Fn() + Send + Sync + 'static,
{
    model()
}

/// A fixed seed per model (FNV-1a of its name), so that CI runs repeat.
pub fn seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A spawned task: under shuttle a future on its executor, otherwise a
/// thread that drives the future.
pub struct Task<T> {
    #[cfg(shuttle)]
    handle: shuttle::future::JoinHandle<T>,
    #[cfg(not(shuttle))]
    handle: std::thread::JoinHandle<T>,
}

/// Spawns `fut` as a task of its own.
pub fn spawn<F>(fut: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    #[cfg(shuttle)]
    let handle = shuttle::future::spawn(fut);
    #[cfg(not(shuttle))]
    let handle = std::thread::spawn(move || futures_lite::future::block_on(fut));
    Task { handle }
}

impl<T> Task<T> {
    /// Waits for the task (from the model's main thread) and returns its
    /// output; a panic in the task fails the model.
    pub fn join(self) -> T {
        #[cfg(shuttle)]
        return shuttle::future::block_on(self.handle).expect("the task was not aborted");
        #[cfg(not(shuttle))]
        return self.handle.join().expect("the task panicked");
    }
}

impl<T: Send + 'static> Task<T> {
    /// Waits for the task from another task.
    pub async fn join_async(self) -> T {
        #[cfg(shuttle)]
        return self.handle.await.expect("the task was not aborted");
        // Each task is a thread of its own here: blocking it is waiting.
        #[cfg(not(shuttle))]
        return self.join();
    }
}

/// Joins every task, in order.
pub fn join_all<T>(tasks: Vec<Task<T>>) -> Vec<T> {
    tasks.into_iter().map(Task::join).collect()
}

/// Drives `fut` on the model's main thread.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    #[cfg(shuttle)]
    return shuttle::future::block_on(fut);
    #[cfg(not(shuttle))]
    return futures_lite::future::block_on(fut);
}

/// Lets other tasks run: a scheduling point under shuttle.
pub async fn yield_now() {
    #[cfg(shuttle)]
    shuttle::future::yield_now().await;
    #[cfg(not(shuttle))]
    futures_lite::future::yield_now().await;
}

/// A number in `0..n` chosen by the schedule: shuttle's data
/// non-determinism, recorded in the schedule and so replayed with it.
/// Without shuttle, `0..n` in turn.
pub fn choose(n: usize) -> usize {
    #[cfg(shuttle)]
    {
        use shuttle::rand::Rng;
        shuttle::rand::thread_rng().gen_range(0..n)
    }
    #[cfg(not(shuttle))]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % n
    }
}

/// Waits for `fut` unless `other` finishes first (both polled in turn, `fut`
/// first), as a `select!` does: `None` when `fut` lost and was dropped.
pub async fn or_lose<F: Future, G: Future<Output = ()>>(fut: F, other: G) -> Option<F::Output> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        other.await;
        None
    })
    .await
}

pub mod ledger;
