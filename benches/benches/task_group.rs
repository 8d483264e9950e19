//! sluicegate's `TaskGroup` against futures-util and futures-concurrency,
//! in one run.
//!
//! ```text
//! cargo bench -p sluicegate-benches --bench task_group
//! ```
//!
//! Rows (time per group of 10,000 children, built, driven to completion
//! and dropped; lower is better), all hand-polled with a no-op waker, no
//! runtime:
//!
//! - `group_10k_ready`: children ready at their first poll.
//! - `group_10k_woken_all`: children that wait for a signal each; the group
//!   is polled once (all pending), every signal fires in a random order
//!   (the same for every contestant), then the group is polled to
//!   completion.
//! - `group_10k_woken_each`: as above, but the group is polled after each
//!   signal, as an executor would (one wake-up, one poll).
//!
//! Contestants, each collecting every child's `Result<u32, ()>`:
//! `sluicegate` (`TaskGroup::join`: fail fast, values in spawn order),
//! `sluicegate-join_all` (collect all), `sluicegate-local`
//! (`LocalTaskGroup::join`); futures-util's `join_all` and `try_join_all`
//! (in order) and `FuturesUnordered` (completion order); futures-concurrency's
//! `Join` and `TryJoin` on a `Vec` (in order) and `FutureGroup` (completion
//! order). The peers take one concrete future type; a group boxes each
//! child (its children may be of any type, spawned from anywhere).

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use futures_concurrency::future::{FutureGroup, Join, TryJoin};
use futures_util::future::{join_all, try_join_all};
use futures_util::stream::{FuturesUnordered, Stream};
use futures_util::task::AtomicWaker;
use sluicegate::{LocalTaskGroup, TaskGroup};

const N: usize = 10_000;

type Out = Result<u32, ()>;

/// Polls `fut` with a no-op waker until it is ready.
fn drive<F: Future>(fut: Pin<&mut F>) -> F::Output {
    let mut fut = fut;
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A child's signal: a flag and the waker of whoever waits for it.
#[derive(Default)]
struct Signal {
    fired: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    fn wait(&self, value: u32) -> impl Future<Output = Out> + Send + '_ {
        poll_fn(move |cx| {
            if self.fired.load(Acquire) {
                return Poll::Ready(Ok(value));
            }
            self.waker.register(cx.waker());
            if self.fired.load(Acquire) {
                Poll::Ready(Ok(value))
            } else {
                Poll::Pending
            }
        })
    }

    fn fire(&self) {
        self.fired.store(true, Release);
        self.waker.wake();
    }
}

/// The same random permutation of `0..N` for every contestant (xorshift,
/// fixed seed).
fn random_order() -> Vec<usize> {
    let mut order: Vec<usize> = (0..N).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..N).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    order
}

/// How a row drives a contestant's future, given the children's signals.
#[derive(Clone, Copy)]
enum Drive {
    Ready,
    WokenAll,
    WokenEach,
}

impl Drive {
    fn run<F: Future>(self, fut: F, signals: &[Signal], order: &[usize]) -> F::Output {
        let mut fut = pin!(fut);
        match self {
            Drive::Ready => drive(fut),
            Drive::WokenAll => {
                assert!(poll_once(fut.as_mut()).is_pending());
                for &i in order {
                    signals[i].fire();
                }
                drive(fut)
            }
            Drive::WokenEach => {
                assert!(poll_once(fut.as_mut()).is_pending());
                let (last, rest) = order.split_last().unwrap();
                for &i in rest {
                    signals[i].fire();
                    assert!(poll_once(fut.as_mut()).is_pending());
                }
                signals[*last].fire();
                match poll_once(fut) {
                    Poll::Ready(out) => out,
                    Poll::Pending => panic!("not done after the last signal"),
                }
            }
        }
    }
}

/// Drains a stream of outputs (completion order) into a `Vec`.
fn collect_stream<S: Stream + Unpin>(mut stream: S) -> impl Future<Output = Vec<S::Item>> {
    let mut out = Vec::with_capacity(N);
    poll_fn(move |cx| loop {
        match Pin::new(&mut stream).poll_next(cx) {
            Poll::Ready(Some(item)) => out.push(item),
            Poll::Ready(None) => return Poll::Ready(std::mem::take(&mut out)),
            Poll::Pending => return Poll::Pending,
        }
    })
}

fn row(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, how: Drive) {
    let order = random_order();
    let signals: Vec<Signal> = (0..N).map(|_| Signal::default()).collect();
    let reset = |signals: &[Signal]| {
        for s in signals {
            s.fired.store(false, Relaxed);
        }
    };
    // The children: ready ones, or ones that wait for their signal.
    macro_rules! children {
        ($signals:expr) => {
            (0..N).map(|i| {
                let signals: &[Signal] = $signals;
                let ready = matches!(how, Drive::Ready);
                async move {
                    if ready {
                        Ok(black_box(i as u32))
                    } else {
                        signals[i].wait(i as u32).await
                    }
                }
            })
        };
    }

    g.bench_function("sluicegate", |b| {
        b.iter(|| {
            reset(&signals);
            let mut group = TaskGroup::<u32, ()>::new();
            for child in children!(&signals) {
                group.spawn(child);
            }
            let out = how.run(group.join(), &signals, &order).unwrap();
            assert_eq!(out.len(), N);
            black_box(out)
        })
    });
    g.bench_function("sluicegate-join_all", |b| {
        b.iter(|| {
            reset(&signals);
            let mut group = TaskGroup::<u32, ()>::new();
            for child in children!(&signals) {
                group.spawn(child);
            }
            black_box(how.run(group.join_all(), &signals, &order))
        })
    });
    g.bench_function("sluicegate-local", |b| {
        b.iter(|| {
            reset(&signals);
            let mut group = LocalTaskGroup::<u32, ()>::new();
            for child in children!(&signals) {
                group.spawn(child);
            }
            black_box(how.run(group.join(), &signals, &order).unwrap())
        })
    });
    g.bench_function("futures-util::join_all", |b| {
        b.iter(|| {
            reset(&signals);
            let fut = join_all(children!(&signals));
            black_box(how.run(fut, &signals, &order))
        })
    });
    g.bench_function("futures-util::try_join_all", |b| {
        b.iter(|| {
            reset(&signals);
            let fut = try_join_all(children!(&signals));
            black_box(how.run(fut, &signals, &order).unwrap())
        })
    });
    g.bench_function("futures-util::FuturesUnordered", |b| {
        b.iter(|| {
            reset(&signals);
            let set: FuturesUnordered<_> = children!(&signals).collect();
            black_box(how.run(collect_stream(set), &signals, &order))
        })
    });
    g.bench_function("futures-concurrency::Join", |b| {
        b.iter(|| {
            reset(&signals);
            let fut = children!(&signals).collect::<Vec<_>>().join();
            black_box(how.run(fut, &signals, &order))
        })
    });
    g.bench_function("futures-concurrency::TryJoin", |b| {
        b.iter(|| {
            reset(&signals);
            let fut = children!(&signals).collect::<Vec<_>>().try_join();
            black_box(how.run(fut, &signals, &order).unwrap())
        })
    });
    g.bench_function("futures-concurrency::FutureGroup", |b| {
        b.iter(|| {
            reset(&signals);
            let mut set = FutureGroup::with_capacity(N);
            for child in children!(&signals) {
                set.insert(child);
            }
            // `FutureGroup` is not `Unpin`: pin it in a box.
            black_box(how.run(collect_stream(Box::pin(set)), &signals, &order))
        })
    });
}

fn ready(c: &mut Criterion) {
    let mut g = c.benchmark_group("group_10k_ready");
    row(&mut g, Drive::Ready);
    g.finish();
}

fn woken_all(c: &mut Criterion) {
    let mut g = c.benchmark_group("group_10k_woken_all");
    row(&mut g, Drive::WokenAll);
    g.finish();
}

fn woken_each(c: &mut Criterion) {
    let mut g = c.benchmark_group("group_10k_woken_each");
    // futures-concurrency's joins scan every child on each poll: 10,000
    // polls of 10,000 children make an iteration slow.
    g.sample_size(10);
    row(&mut g, Drive::WokenEach);
    g.finish();
}

criterion_group! {
    name = task_group;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = ready, woken_all, woken_each
}
criterion_main!(task_group);
