//! The operations of the `cancel` bench, a fixed number of times, for
//! profilers that count instructions (`valgrind --tool=callgrind`) rather
//! than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example cancel_ops
//! valgrind --tool=callgrind --toggle-collect='cancel_ops::measured*' \
//!     target/release/examples/cancel_ops sluicegate fanout 20
//! ```
//!
//! Arguments: `<sluicegate|sluicegate-root|tokio-util>
//! <is-cancelled|ready|create-drop|fanout> <rounds>`. Only the functions
//! named `measured_*` do the measured work (a `fanout` round creates and
//! registers its 10,000 waiters outside them), so `--toggle-collect`
//! counts exactly that; divide by the rounds (for `fanout`, by rounds ×
//! 10,000 for a figure per waiter). Prints the wall time per operation.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use sluicegate::cancel::RootToken;
use sluicegate::CancellationToken;
use tokio_util::sync::CancellationToken as TokioToken;

const WAITERS: usize = 10_000;

/// One contestant: a token type and the operations of the bench.
trait Token: Sized {
    type Wait<'a>: Future<Output = ()>
    where
        Self: 'a;
    fn new() -> Self;
    fn is_cancelled(&self) -> bool;
    fn cancel(&self);
    fn wait(&self) -> Self::Wait<'_>;
    /// What a child of this token is (a `RootToken`'s children are
    /// `CancellationToken`s).
    type Child;
    fn child(&self) -> Self::Child;
}

impl Token for CancellationToken {
    type Wait<'a> = sluicegate::futures::Cancelled<'a>;
    fn new() -> Self {
        CancellationToken::new()
    }
    fn is_cancelled(&self) -> bool {
        self.is_cancelled()
    }
    fn cancel(&self) {
        self.cancel()
    }
    fn wait(&self) -> Self::Wait<'_> {
        self.cancelled()
    }
    type Child = Self;
    fn child(&self) -> Self {
        self.child_token()
    }
}

impl Token for &'static RootToken {
    type Wait<'a>
        = sluicegate::futures::Cancelled<'static>
    where
        Self: 'a;
    fn new() -> Self {
        Box::leak(Box::new(RootToken::new()))
    }
    fn is_cancelled(&self) -> bool {
        RootToken::is_cancelled(self)
    }
    fn cancel(&self) {
        RootToken::cancel(self)
    }
    fn wait(&self) -> Self::Wait<'_> {
        RootToken::cancelled(self)
    }
    type Child = CancellationToken;
    fn child(&self) -> CancellationToken {
        RootToken::child_token(self)
    }
}

impl Token for TokioToken {
    type Wait<'a> = tokio_util::sync::WaitForCancellationFuture<'a>;
    fn new() -> Self {
        TokioToken::new()
    }
    fn is_cancelled(&self) -> bool {
        self.is_cancelled()
    }
    fn cancel(&self) {
        self.cancel()
    }
    fn wait(&self) -> Self::Wait<'_> {
        self.cancelled()
    }
    type Child = Self;
    fn child(&self) -> Self {
        self.child_token()
    }
}

#[inline(never)]
fn measured_is_cancelled<T: Token>(token: &T, rounds: u64) -> usize {
    let mut n = 0;
    for _ in 0..rounds {
        n += usize::from(black_box(token).is_cancelled());
    }
    n
}

#[inline(never)]
fn measured_ready<T: Token>(token: &T, rounds: u64) {
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..rounds {
        let mut fut = std::pin::pin!(black_box(token).wait());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
    }
}

#[inline(never)]
fn measured_create_drop<T: Token>(parent: &T, rounds: u64) {
    for _ in 0..rounds {
        drop(black_box(black_box(parent).child()));
    }
}

#[inline(never)]
fn measured_cancel<T: Token>(token: &T) {
    token.cancel();
}

fn fanout<T: Token>(rounds: u64) -> Duration {
    let mut cx = Context::from_waker(Waker::noop());
    let mut total = Duration::ZERO;
    for _ in 0..rounds {
        let token = T::new();
        let mut futs: Box<[T::Wait<'_>]> = (0..WAITERS).map(|_| token.wait()).collect();
        for f in futs.iter_mut() {
            // SAFETY: the boxed slice is never moved out of or reallocated;
            // its elements are dropped in place with it.
            let f = unsafe { Pin::new_unchecked(f) };
            assert!(f.poll(&mut cx).is_pending());
        }
        let start = Instant::now();
        measured_cancel(&token);
        total += start.elapsed();
        for f in futs.iter_mut() {
            // SAFETY: as above.
            let f = unsafe { Pin::new_unchecked(f) };
            assert!(f.poll(&mut cx).is_ready());
        }
    }
    total
}

fn run<T: Token>(op: &str, rounds: u64) -> Duration {
    match op {
        "is-cancelled" => {
            let token = T::new();
            let start = Instant::now();
            black_box(measured_is_cancelled(&token, rounds));
            start.elapsed()
        }
        "ready" => {
            let token = T::new();
            token.cancel();
            let start = Instant::now();
            measured_ready(&token, rounds);
            start.elapsed()
        }
        "create-drop" => {
            let parent = T::new();
            let _sibling = parent.child();
            let start = Instant::now();
            measured_create_drop(&parent, rounds);
            start.elapsed()
        }
        "fanout" => fanout::<T>(rounds),
        _ => panic!("unknown operation {op}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: cancel_ops <sluicegate|sluicegate-root|tokio-util> \
                 <is-cancelled|ready|create-drop|fanout> <rounds>";
    let (which, op) = (args.get(1).expect(usage), args.get(2).expect(usage));
    let rounds: u64 = args.get(3).expect(usage).parse().expect(usage);
    let elapsed = match which.as_str() {
        "sluicegate" => run::<CancellationToken>(op, rounds),
        "sluicegate-root" => run::<&'static RootToken>(op, rounds),
        "tokio-util" => run::<TokioToken>(op, rounds),
        _ => panic!("{usage}"),
    };
    let per = elapsed.as_nanos() as f64 / rounds as f64;
    println!("{which} {op}: {per:.1} ns per operation ({rounds} rounds)");
}
