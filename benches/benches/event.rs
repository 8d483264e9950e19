//! sluicegate's `Event` against `tokio::sync::Notify` doing the same hand-off.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench event
//! python3 benches/report.py        # the markdown table
//! ```
//!
//! Rows (nanoseconds per hand-off, lower is better):
//!
//! - `event_handoff`: no runtime. A waiter is polled by hand (pending, so it
//!   registers), the event is signalled (waking the no-op waker), the waiter
//!   is polled again (ready), the event is reset. sluicegate:
//!   `wait()` / `set()` / `wait()` ready / `clear()`; tokio: `notified()` /
//!   `notify_one()` / `notified()` ready (a consumed `notify_one` needs no
//!   reset).
//! - `event_pingpong_<runtime>`: two tasks bounce a signal through two
//!   events, [`ROUND_TRIPS`] times per round; the figure is per round trip
//!   (two hand-offs, two task switches). sluicegate: wait `ping`, `clear`
//!   it, `set` `pong`; tokio: `ping.notified()`, `pong.notify_one()`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
use sluicegate::Event;
use tokio::sync::Notify;

const ROUND_TRIPS: u32 = 1000;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn handoff(g: &mut Group<'_>) {
    let mut cx = Context::from_waker(Waker::noop());
    let ev = Event::new();
    let ev = black_box(&ev);
    g.bench_function("sluicegate", |b| {
        b.iter(|| {
            let mut w = pin!(ev.wait());
            assert!(w.as_mut().poll(&mut cx).is_pending());
            ev.set();
            assert!(w.as_mut().poll(&mut cx).is_ready());
            ev.clear();
        })
    });
    let notify = Notify::new();
    let notify = black_box(&notify);
    g.bench_function("tokio-notify", |b| {
        b.iter(|| {
            let mut w = pin!(notify.notified());
            assert!(w.as_mut().poll(&mut cx).is_pending());
            notify.notify_one();
            assert!(w.as_mut().poll(&mut cx).is_ready());
        })
    });
}

/// The two sides of a ping-pong over one kind of signal.
trait Signal: Send + Sync + Default + 'static {
    const NAME: &'static str;
    /// Waits for the signal and consumes it.
    fn take(&self) -> impl Future<Output = ()> + Send + '_;
    fn give(&self);
}

impl Signal for Event {
    const NAME: &'static str = "sluicegate";
    async fn take(&self) {
        self.wait().await;
        self.clear();
    }
    fn give(&self) {
        self.set();
    }
}

impl Signal for Notify {
    const NAME: &'static str = "tokio-notify";
    fn take(&self) -> impl Future<Output = ()> + Send + '_ {
        self.notified()
    }
    fn give(&self) {
        self.notify_one();
    }
}

enum Runtime {
    Tokio(tokio::runtime::Runtime),
    Smol(async_executor::Executor<'static>),
}

/// One round: `ROUND_TRIPS` ping-pongs between a spawned task and another.
fn round<S: Signal>(rt: &Runtime) {
    let pair = Arc::new((S::default(), S::default()));
    let ponger = {
        let pair = pair.clone();
        async move {
            for _ in 0..ROUND_TRIPS {
                pair.0.take().await;
                pair.1.give();
            }
        }
    };
    let pinger = async move {
        for _ in 0..ROUND_TRIPS {
            pair.0.give();
            pair.1.take().await;
        }
    };
    match rt {
        Runtime::Tokio(rt) => rt.block_on(async {
            let a = tokio::spawn(ponger);
            let b = tokio::spawn(pinger);
            a.await.unwrap();
            b.await.unwrap();
        }),
        Runtime::Smol(ex) => futures_lite::future::block_on(ex.run(async {
            let a = ex.spawn(ponger);
            let b = ex.spawn(pinger);
            a.await;
            b.await;
        })),
    }
}

fn pingpong<S: Signal>(g: &mut Group<'_>, rt: &Runtime) {
    g.bench_function(S::NAME, |b| {
        b.iter_custom(|rounds| {
            let start = Instant::now();
            for _ in 0..rounds {
                round::<S>(rt);
            }
            start.elapsed() / ROUND_TRIPS
        })
    });
}

fn benches(c: &mut Criterion) {
    {
        let mut g = c.benchmark_group("event_handoff");
        handoff(&mut g);
        g.finish();
    }
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtimes = [
        (
            "tokio-ct",
            Runtime::Tokio(
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "tokio-mt",
            Runtime::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .build()
                    .unwrap(),
            ),
        ),
        ("smol", Runtime::Smol(async_executor::Executor::new())),
    ];
    for (name, rt) in &runtimes {
        let mut g = c.benchmark_group(format!("event_pingpong_{name}"));
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
        pingpong::<Event>(&mut g, rt);
        pingpong::<Notify>(&mut g, rt);
        g.finish();
    }
}

criterion_group! {
    name = event;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(event);
