//! The rows of the `task_group` bench, a fixed number of times, for
//! profilers that count instructions (`valgrind --tool=callgrind`) rather
//! than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example group_ops
//! valgrind --tool=callgrind --toggle-collect='group_ops::measured*' \
//!     target/release/examples/group_ops sluicegate woken-all 5
//! ```
//!
//! Arguments: `<contestant> <ready|woken-all|woken-each> <rounds>`, with
//! contestants `sluicegate`, `sluicegate-join_all`, `sluicegate-local`,
//! `FuturesUnordered`, `try_join_all`, `Join` and `TryJoin` (the last two
//! futures-concurrency's, on a `Vec`). A round is one iteration of the
//! bench: 10,000 children built, driven to completion and dropped, all
//! inside `measured_round` (resetting the signals is outside it), so
//! callgrind's total divided by rounds × 10,000 is the cost of a child.
//! Prints the wall time per child.

use std::hint::black_box;
use std::time::{Duration, Instant};

use futures_concurrency::future::{Join, TryJoin};
use futures_util::future::try_join_all;
use futures_util::stream::FuturesUnordered;
use sluicegate::{LocalTaskGroup, TaskGroup};

#[path = "../common/group_children.rs"]
mod group_children;
use group_children::{child, collect_stream, random_order, reset, signals, Drive, Signal, N};

#[inline(never)]
fn measured_round(which: &str, how: Drive, signals: &[Signal], order: &[usize]) -> usize {
    let children = (0..N).map(|i| child(signals, i, how));
    match which {
        "sluicegate" => {
            let mut group = TaskGroup::<u32, ()>::new();
            for c in children {
                group.spawn(c);
            }
            how.run(group.join(), signals, order).unwrap().len()
        }
        "sluicegate-join_all" => {
            let mut group = TaskGroup::<u32, ()>::new();
            for c in children {
                group.spawn(c);
            }
            how.run(group.join_all(), signals, order).len()
        }
        "sluicegate-local" => {
            let mut group = LocalTaskGroup::<u32, ()>::new();
            for c in children {
                group.spawn(c);
            }
            how.run(group.join(), signals, order).unwrap().len()
        }
        "FuturesUnordered" => {
            let set: FuturesUnordered<_> = children.collect();
            how.run(collect_stream(set), signals, order).len()
        }
        "try_join_all" => how
            .run(try_join_all(children), signals, order)
            .unwrap()
            .len(),
        "Join" => how
            .run(children.collect::<Vec<_>>().join(), signals, order)
            .len(),
        "TryJoin" => how
            .run(children.collect::<Vec<_>>().try_join(), signals, order)
            .unwrap()
            .len(),
        _ => panic!("unknown contestant {which}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: group_ops <sluicegate|sluicegate-join_all|sluicegate-local|\
                 FuturesUnordered|try_join_all|Join|TryJoin> <ready|woken-all|woken-each> <rounds>";
    let (which, how) = (args.get(1).expect(usage), args.get(2).expect(usage));
    let how = match how.as_str() {
        "ready" => Drive::Ready,
        "woken-all" => Drive::WokenAll,
        "woken-each" => Drive::WokenEach,
        _ => panic!("{usage}"),
    };
    let rounds: u32 = args.get(3).expect(usage).parse().expect(usage);
    let order = random_order();
    let signals = signals();
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        reset(&signals);
        let start = Instant::now();
        assert_eq!(black_box(measured_round(which, how, &signals, &order)), N);
        total += start.elapsed();
    }
    let per = total.as_nanos() as f64 / (f64::from(rounds) * N as f64);
    println!("{which}: {per:.1} ns per child ({rounds} rounds)");
}
