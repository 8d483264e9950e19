//! The children and drivers of the task-group rows, shared by
//! `benches/task_group.rs` and `examples/group_ops.rs` (included with
//! `#[path]`, as the other files here).

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::*};
use std::task::{Context, Poll, Waker};

use futures_util::stream::Stream;
use futures_util::task::AtomicWaker;

/// Children per group.
pub const N: usize = 10_000;

/// What every child yields.
pub type Out = Result<u32, ()>;

fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `fut` with a no-op waker until it is ready.
fn drive<F: Future>(mut fut: Pin<&mut F>) -> F::Output {
    loop {
        if let Poll::Ready(out) = poll_once(fut.as_mut()) {
            return out;
        }
    }
}

/// A child's signal: a flag and the waker of whoever waits for it.
#[derive(Default)]
pub struct Signal {
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

/// `N` unfired signals.
pub fn signals() -> Vec<Signal> {
    (0..N).map(|_| Signal::default()).collect()
}

/// Unfires every signal, for the next round.
pub fn reset(signals: &[Signal]) {
    for s in signals {
        s.fired.store(false, Relaxed);
    }
}

/// The same random permutation of `0..N` for every contestant (xorshift,
/// fixed seed).
pub fn random_order() -> Vec<usize> {
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
#[derive(Clone, Copy, PartialEq)]
pub enum Drive {
    /// Children ready at their first poll.
    Ready,
    /// Polled once, every signal fired, then polled to completion.
    WokenAll,
    /// Polled once, then once after each signal.
    WokenEach,
}

impl Drive {
    pub fn run<F: Future>(self, fut: F, signals: &[Signal], order: &[usize]) -> F::Output {
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

/// Child `i`: ready at once for `Drive::Ready`, else waiting for its signal.
pub fn child(signals: &[Signal], i: usize, how: Drive) -> impl Future<Output = Out> + Send + '_ {
    let ready = how == Drive::Ready;
    async move {
        if ready {
            Ok(black_box(i as u32))
        } else {
            signals[i].wait(i as u32).await
        }
    }
}

/// Drains a stream of outputs (completion order) into a `Vec`.
pub fn collect_stream<S: Stream + Unpin>(mut stream: S) -> impl Future<Output = Vec<S::Item>> {
    let mut out = Vec::with_capacity(N);
    poll_fn(move |cx| loop {
        match Pin::new(&mut stream).poll_next(cx) {
            Poll::Ready(Some(item)) => out.push(item),
            Poll::Ready(None) => return Poll::Ready(std::mem::take(&mut out)),
            Poll::Pending => return Poll::Pending,
        }
    })
}
