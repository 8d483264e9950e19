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

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_concurrency::future::{Join, TryJoin};
use futures_util::future::try_join_all;
use futures_util::stream::{FuturesUnordered, Stream};
use futures_util::task::AtomicWaker;
use sluicegate::{LocalTaskGroup, TaskGroup};

const N: usize = 10_000;

type Out = Result<u32, ()>;

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

/// The bench's permutation of `0..N` (xorshift, fixed seed).
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

#[derive(Clone, Copy, PartialEq)]
enum Drive {
    Ready,
    WokenAll,
    WokenEach,
}

fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

impl Drive {
    fn run<F: Future>(self, fut: F, signals: &[Signal], order: &[usize]) -> F::Output {
        let mut fut = pin!(fut);
        if self != Drive::Ready {
            assert!(poll_once(fut.as_mut()).is_pending());
            for &i in order {
                signals[i].fire();
                if self == Drive::WokenEach {
                    if let Poll::Ready(out) = poll_once(fut.as_mut()) {
                        return out;
                    }
                }
            }
        }
        loop {
            if let Poll::Ready(out) = poll_once(fut.as_mut()) {
                return out;
            }
        }
    }
}

fn child(signals: &[Signal], i: usize, how: Drive) -> impl Future<Output = Out> + Send + '_ {
    let ready = how == Drive::Ready;
    async move {
        if ready {
            Ok(black_box(i as u32))
        } else {
            signals[i].wait(i as u32).await
        }
    }
}

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
    let signals: Vec<Signal> = (0..N).map(|_| Signal::default()).collect();
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        for s in &signals {
            s.fired.store(false, Relaxed);
        }
        let start = Instant::now();
        assert_eq!(black_box(measured_round(which, how, &signals, &order)), N);
        total += start.elapsed();
    }
    let per = total.as_nanos() as f64 / (f64::from(rounds) * N as f64);
    println!("{which}: {per:.1} ns per child ({rounds} rounds)");
}
