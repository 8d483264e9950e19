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

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use futures_concurrency::future::{FutureGroup, Join, TryJoin};
use futures_util::future::{join_all, try_join_all};
use futures_util::stream::FuturesUnordered;
use sluicegate::{LocalTaskGroup, TaskGroup};

#[path = "../common/group_children.rs"]
mod group_children;
use group_children::{child, collect_stream, random_order, reset, signals, Drive, Signal, N};

fn row(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, how: Drive) {
    let order = random_order();
    let signals = signals();
    // The children: ready ones, or ones that wait for their signal.
    macro_rules! children {
        ($signals:expr) => {{
            let signals: &[Signal] = $signals;
            (0..N).map(move |i| child(signals, i, how))
        }};
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
