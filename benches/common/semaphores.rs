//! The semaphore contestants, shared by `benches/semaphore.rs` and
//! `examples/contended.rs` (included with `#[path]`; the peers are
//! dev-dependencies, which a library target could not use).

use std::future::Future;

/// The common surface of the contestants: make one, acquire one permit.
pub trait Sem: Send + Sync + 'static {
    /// The column name in the report.
    const NAME: &'static str;
    fn with_permits(permits: usize) -> Self;
    /// A future for one permit; its output holds the permit until dropped.
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_;
}

impl Sem for sluicegate::Semaphore {
    const NAME: &'static str = "sluicegate";
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_ {
        sluicegate::Semaphore::acquire(self)
    }
}

impl Sem for tokio::sync::Semaphore {
    const NAME: &'static str = "tokio";
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_ {
        tokio::sync::Semaphore::acquire(self)
    }
}

impl Sem for async_lock::Semaphore {
    const NAME: &'static str = "async-lock";
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_ {
        async_lock::Semaphore::acquire(self)
    }
}

impl Sem for maitake_sync::Semaphore {
    const NAME: &'static str = "maitake-sync";
    fn with_permits(permits: usize) -> Self {
        Self::new(permits)
    }
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_ {
        maitake_sync::Semaphore::acquire(self, 1)
    }
}

impl Sem for futures_intrusive::sync::Semaphore {
    const NAME: &'static str = "futures-intrusive";
    fn with_permits(permits: usize) -> Self {
        // `true`: the fair mode, comparable with the other fair semaphores.
        Self::new(true, permits)
    }
    fn acquire_one(&self) -> impl Future<Output: Send> + Send + '_ {
        futures_intrusive::sync::Semaphore::acquire(self, 1)
    }
}

/// Runs `f` with the contestant named `name` (its `Sem::NAME`).
pub fn with_contestant<R>(name: &str, f: impl Contestant<R>) -> R {
    match name {
        "sluicegate" => f.run::<sluicegate::Semaphore>(),
        "tokio" => f.run::<tokio::sync::Semaphore>(),
        "async-lock" => f.run::<async_lock::Semaphore>(),
        "maitake-sync" => f.run::<maitake_sync::Semaphore>(),
        "futures-intrusive" => f.run::<futures_intrusive::sync::Semaphore>(),
        other => panic!("unknown semaphore {other:?}"),
    }
}

/// A computation generic over the contestant (a generic closure).
pub trait Contestant<R> {
    fn run<S: Sem>(self) -> R;
}
