//! No allocation per `send`/`recv` in steady state: a counting global
//! allocator (its own test binary) watches send, recv, waits, hand-offs,
//! reserve, recv_many, the Stream and completion tracking.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use futures::{SinkExt, StreamExt};
use sluicegate::channel::{bounded, tracked, Channel};

struct Counting;

thread_local! {
    // Per thread, so the test harness's own threads do not interfere.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|a| a.set(a.get() + 1));
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

/// Polls `fut` once with a no-op waker (which does not allocate).
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn steady_state_send_and_recv_do_not_allocate() {
    let (tx, mut rx) = bounded::<u64>(4);
    let (ttx, trx) = tracked::<u64>(4);
    let inline = Channel::<u64, 4>::new();
    let mut batch = Vec::with_capacity(8);
    let mut round = |n: u64| {
        // Plain sends and receives through the futures.
        for i in 0..4 {
            assert!(poll_once(pin!(tx.send(n + i))).is_ready());
        }
        // A full channel: this send waits, a recv grants it the slot.
        {
            let mut waiting = pin!(tx.send(n + 4));
            assert!(poll_once(waiting.as_mut()).is_pending());
            assert!(matches!(poll_once(pin!(rx.recv())), Poll::Ready(Ok(_))));
            assert!(matches!(poll_once(waiting.as_mut()), Poll::Ready(Ok(()))));
        }
        // recv_many into a buffer with room.
        batch.clear();
        assert!(matches!(
            poll_once(pin!(rx.recv_many(&mut batch, 8))),
            Poll::Ready(Ok(4))
        ));
        // A waiting receiver is handed the value directly.
        {
            let mut r = pin!(rx.recv());
            assert!(poll_once(r.as_mut()).is_pending());
            tx.try_send(n).unwrap();
            assert!(matches!(poll_once(r.as_mut()), Poll::Ready(Ok(_))));
        }
        // reserve + permit, try_send/try_recv.
        let permit = match poll_once(pin!(tx.reserve())) {
            Poll::Ready(Ok(p)) => p,
            _ => panic!("reserve"),
        };
        permit.send(n);
        assert!(rx.try_recv().is_ok());
        // The Stream's node is allocated once per receiver, then reused.
        tx.try_send(n).unwrap();
        assert!(matches!(poll_once(pin!(rx.next())), Poll::Ready(Some(_))));
        assert!(poll_once(pin!(rx.next())).is_pending());
        tx.try_send(n).unwrap();
        assert!(matches!(poll_once(pin!(rx.next())), Poll::Ready(Some(_))));
        // Completion tracking.
        ttx.try_send(n).unwrap();
        let task = trx.try_recv_task().unwrap();
        {
            let mut join = pin!(ttx.join());
            assert!(poll_once(join.as_mut()).is_pending());
            drop(task);
            assert!(poll_once(join.as_mut()).is_ready());
        }
        // The inline channel, with its stream and sink (nodes inline).
        inline.try_send(n).unwrap();
        assert!(matches!(poll_once(pin!(inline.recv())), Poll::Ready(Ok(_))));
        {
            let mut stream = pin!(inline.stream());
            let mut sink = pin!(inline.sink());
            assert!(poll_once(pin!(stream.next())).is_pending());
            assert!(matches!(poll_once(pin!(sink.send(n))), Poll::Ready(Ok(()))));
            assert!(matches!(
                poll_once(pin!(stream.next())),
                Poll::Ready(Some(_))
            ));
        }
    };
    // Warm-up: the Stream's node and anything lazily allocated.
    let start = allocs();
    round(0);
    let before = allocs();
    assert!(
        before > start,
        "the counter sees the Stream's one allocation"
    );
    for n in 1..1_000 {
        round(n * 10);
    }
    assert_eq!(allocs() - before, 0, "allocations in steady state");
}
