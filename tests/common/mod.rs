//! The cross-executor test rig and hand-polling helpers shared by every
//! integration test.
//!
//! - [`run`] runs one async test body under smol, tokio current-thread, tokio
//!   multi-thread, embassy's `platform-std` executor and
//!   `futures::executor::block_on`, with a watchdog so a hang fails the test
//!   (naming the executor) instead of stalling the suite.
//! - [`Exec::spawn`] spawns onto whichever executor runs the body.
//! - [`poll`] has a counting waker for deterministic, hand-polled tests;
//!   [`hook`] a waker that runs code between two wake batches.
#![allow(dead_code, unreachable_pub)]

pub mod poll;
pub mod traits;

use std::future::Future;
use std::panic::{resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use futures::channel::oneshot;
use futures::FutureExt;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type Panic = Box<dyn std::any::Any + Send + 'static>;

/// How long one executor may take over one test body before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(60);

/// The executor a test body runs on: its name and a way to spawn onto it.
#[derive(Clone)]
pub struct Exec {
    name: &'static str,
    multi_thread: bool,
    spawn: Arc<dyn Fn(BoxFuture) + Send + Sync>,
}

impl Exec {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether spawned tasks may run in parallel with each other.
    pub fn is_multi_thread(&self) -> bool {
        self.multi_thread
    }

    /// Spawns `fut`; the returned future yields its output, and re-raises its
    /// panic if it panicked.
    pub fn spawn<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        let (tx, rx) = oneshot::channel::<Result<T, Panic>>();
        (self.spawn)(Box::pin(async move {
            let _ = tx.send(AssertUnwindSafe(fut).catch_unwind().await);
        }));
        let name = self.name;
        async move {
            match rx.await {
                Ok(Ok(value)) => value,
                Ok(Err(panic)) => resume_unwind(panic),
                Err(_) => panic!("task spawned on {name} was dropped before it finished"),
            }
        }
    }
}

/// Runs the body that `test` makes under every executor of the rig, one after
/// another. A panic names the executor; so does a hang (after [`WATCHDOG`]).
pub fn run<F, Fut>(test: F)
where
    F: Fn(Exec) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for (name, runner) in EXECUTORS {
        let (exec, body_runner) = runner();
        let body: BoxFuture = Box::pin(test(exec));
        let (tx, rx) = mpsc::channel::<Result<(), Panic>>();
        std::thread::Builder::new()
            .name(format!("rig-{name}"))
            .spawn(move || {
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| body_runner(body)));
                let _ = tx.send(result);
            })
            .expect("spawn rig thread");
        match rx.recv_timeout(WATCHDOG) {
            Ok(Ok(())) => {}
            Ok(Err(panic)) => {
                eprintln!("test body panicked under {name}");
                resume_unwind(panic)
            }
            Err(_) => panic!("test body hung under {name} (no result after {WATCHDOG:?})"),
        }
    }
}

/// Runs `body` to completion on a given executor.
type BodyRunner = Box<dyn FnOnce(BoxFuture) + Send>;

#[allow(clippy::type_complexity)]
const EXECUTORS: &[(&str, fn() -> (Exec, BodyRunner))] = &[
    ("smol", smol_exec),
    ("tokio-current-thread", tokio_current_thread),
    ("tokio-multi-thread", tokio_multi_thread),
    ("embassy", embassy_exec),
    ("futures-block_on", futures_block_on),
];

fn smol_exec() -> (Exec, BodyRunner) {
    // A shared executor run by the body's thread and one helper thread, so
    // spawned tasks can run in parallel.
    let ex = Arc::new(smol::Executor::<'static>::new());
    let spawn_ex = ex.clone();
    let exec = Exec {
        name: "smol",
        multi_thread: true,
        spawn: Arc::new(move |fut| spawn_ex.spawn(fut).detach()),
    };
    let runner: BodyRunner = Box::new(move |body| {
        let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
        let helper_ex = ex.clone();
        let helper = std::thread::spawn(move || {
            smol::block_on(helper_ex.run(async { stop_rx.recv().await.ok() }))
        });
        smol::block_on(ex.run(body));
        drop(stop_tx);
        helper.join().expect("smol helper thread");
    });
    (exec, runner)
}

fn tokio_current_thread() -> (Exec, BodyRunner) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let exec = Exec {
        name: "tokio-current-thread",
        multi_thread: false,
        spawn: Arc::new(move |fut| drop(handle.spawn(fut))),
    };
    (exec, Box::new(move |body| rt.block_on(body)))
}

fn tokio_multi_thread() -> (Exec, BodyRunner) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let exec = Exec {
        name: "tokio-multi-thread",
        multi_thread: true,
        spawn: Arc::new(move |fut| drop(handle.spawn(fut))),
    };
    (
        exec,
        Box::new(move |body| {
            // Run the body as a task so it too lives on the worker threads.
            let join = rt.spawn(body);
            if let Err(e) = rt.block_on(join) {
                resume_unwind(e.into_panic());
            }
        }),
    )
}

#[embassy_executor::task(pool_size = 256)]
async fn embassy_task(fut: BoxFuture) {
    fut.await
}

fn embassy_exec() -> (Exec, BodyRunner) {
    // Spawning needs the executor's spawner, which exists only once the
    // executor runs on its thread; tasks spawned before that are queued.
    let spawner: Arc<OnceLock<embassy_executor::SendSpawner>> = Arc::new(OnceLock::new());
    let (early_tx, early_rx) = mpsc::channel::<BoxFuture>();
    let early_tx = std::sync::Mutex::new(early_tx);
    let spawner_for_exec = spawner.clone();
    let exec = Exec {
        name: "embassy",
        multi_thread: false,
        spawn: Arc::new(move |fut| match spawner_for_exec.get() {
            Some(s) => s.spawn(embassy_task(fut).expect("embassy task pool exhausted")),
            None => early_tx.lock().unwrap().send(fut).unwrap(),
        }),
    };
    let runner: BodyRunner = Box::new(move |body| {
        let done = Arc::new(AtomicBool::new(false));
        let done_flag = done.clone();
        let (result_tx, result_rx) = mpsc::channel::<Result<(), Panic>>();
        let executor: &'static mut embassy_executor::Executor =
            Box::leak(Box::new(embassy_executor::Executor::new()));
        executor.run_until(
            |s| {
                let send = s.make_send();
                spawner.set(send).ok();
                while let Ok(fut) = early_rx.try_recv() {
                    send.spawn(embassy_task(fut).expect("embassy task pool exhausted"));
                }
                send.spawn(
                    embassy_task(Box::pin(async move {
                        let result = AssertUnwindSafe(body).catch_unwind().await;
                        done_flag.store(true, Ordering::SeqCst);
                        let _ = result_tx.send(result);
                    }))
                    .expect("embassy task pool exhausted"),
                );
            },
            || done.load(Ordering::SeqCst),
        );
        if let Ok(Err(panic)) = result_rx.recv() {
            resume_unwind(panic);
        }
    });
    (exec, runner)
}

fn futures_block_on() -> (Exec, BodyRunner) {
    static POOL: OnceLock<futures::executor::ThreadPool> = OnceLock::new();
    let pool = POOL
        .get_or_init(|| {
            futures::executor::ThreadPool::builder()
                .pool_size(2)
                .create()
                .unwrap()
        })
        .clone();
    let exec = Exec {
        name: "futures-block_on",
        multi_thread: true,
        spawn: Arc::new(move |fut| pool.spawn_ok(fut)),
    };
    (exec, Box::new(futures::executor::block_on))
}
