//! loom models of the channel: slot hand-off at capacity 1, close racing
//! send and recv, a cancelled woken receiver passing its value on, a
//! cancelled woken sender passing its slot on, a send going past the
//! stream place a dropped `next()` left behind (streams are weak waiters,
//! see `channel_stream.rs`),
//! `join()` racing the last `task_done()`, and a send racing the wake-ups
//! of the last `task_done()`. Each model is small (2–3
//! threads) and pins one property.

use std::task::Poll;

use sluicegate::channel::{bounded, tracked};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// Two senders race for the one slot while a receiver takes both values:
/// each freed slot goes to exactly one sender, nothing is lost or doubled,
/// and the capacity is never exceeded.
#[test]
fn hand_off_at_capacity_one() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let b = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let first = block_on(rx.recv()).unwrap();
        assert!(rx.len() <= 1);
        let second = block_on(rx.recv()).unwrap();
        a.join().unwrap();
        b.join().unwrap();
        let mut got = [first, second];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        assert!(rx.try_recv().is_err());
    });
}

/// `close()` races a send and a recv: the value is received exactly when
/// the send succeeded, and neither side hangs.
#[test]
fn close_races_send_and_recv() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let closer = tx.clone();
        let sender = thread::spawn(move || block_on(tx.send(7)).is_ok());
        let close = thread::spawn(move || {
            closer.close();
        });
        let received = block_on(rx.recv());
        let sent = sender.join().unwrap();
        close.join().unwrap();
        assert_eq!(received.is_ok(), sent);
        if sent {
            assert_eq!(received, Ok(7));
        }
        assert!(rx.try_recv().is_err());
    });
}

/// A receiver dropped while a send hands it a value (before or after the
/// hand-off) passes the value on: the other receiver gets it.
#[test]
fn cancelled_woken_receiver_passes_the_value_on() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let rx2 = rx.clone();
        let mut a = Polled::new(async move { rx2.recv().await });
        let mut b = Polled::new(async move { rx.recv().await });
        assert!(a.poll().is_pending());
        assert!(b.poll().is_pending());
        let sender = thread::spawn(move || {
            tx.try_send(5).unwrap();
            tx
        });
        drop(a);
        let _tx = sender.join().unwrap();
        assert_eq!(b.wakes(), 1);
        assert_eq!(b.poll(), Poll::Ready(Ok(5)));
    });
}

/// A `next()` that waited and was dropped leaves the receiver's stream
/// queued, ahead of another waiting receiver. A send races the receiver's
/// `try_recv`: a stream is never handed a value, so the value goes past the
/// stale place to the waiting receiver, which is woken exactly once, and
/// the `try_recv` finds nothing either way.
#[test]
fn a_send_goes_past_a_stale_stream_place_to_the_waiting_receiver() {
    use futures_lite::StreamExt;
    model(|| {
        let (tx, mut rx) = bounded::<u32>(1);
        let rx2 = rx.clone();
        {
            let mut next = Polled::new(rx.next());
            assert!(next.poll().is_pending());
        }
        let mut other = Polled::new(async move { rx2.recv().await });
        assert!(other.poll().is_pending());
        let sender = thread::spawn(move || {
            tx.try_send(5).unwrap();
            tx
        });
        assert!(rx.try_recv().is_err());
        let _tx = sender.join().unwrap();
        assert_eq!(other.wakes(), 1);
        assert_eq!(other.poll(), Poll::Ready(Ok(5)));
        assert!(rx.try_recv().is_err());
    });
}

/// A sender dropped while a receiver grants it the slot passes the slot on
/// to the next waiting sender.
#[test]
fn cancelled_woken_sender_passes_the_slot_on() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let tx2 = tx.clone();
        let mut a = Polled::new(async move { tx2.send(1).await });
        assert!(a.poll().is_pending());
        let mut b = Polled::new(async move { tx.send(2).await });
        assert!(b.poll().is_pending());
        let receiver = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        drop(a);
        let rx = receiver.join().unwrap();
        assert_eq!(b.wakes(), 1);
        assert!(b.poll().is_ready());
        assert_eq!(rx.try_recv(), Ok(2));
    });
}

/// `join()` races the `task_done()` that finishes the last value: it
/// completes (a lost wake-up would deadlock the model).
#[test]
fn join_races_the_last_task_done() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        let worker = thread::spawn(move || {
            rx.task_done().unwrap();
            rx
        });
        block_on(tx.join());
        let _rx = worker.join().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
    });
}

/// A `join()` waits; the last `task_done()` brings the count to zero while
/// another thread sends a new value. However the send interleaves with
/// `task_done` and its wake-ups, the join that was waiting when the count
/// reached zero completes (as asyncio's does), and is woken to see it.
#[test]
fn a_send_racing_the_wake_up_of_the_last_task_done_does_not_strand_join() {
    model(|| {
        let (tx, rx) = tracked::<u32>(2);
        let tx = std::sync::Arc::new(tx);
        tx.try_send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        let mut join = Polled::new(tx.join());
        assert!(join.poll().is_pending());
        let sender = {
            let tx = tx.clone();
            thread::spawn(move || {
                // Sends once the count is zero, so mostly between the zero
                // and the wake-ups.
                while tx.unfinished_tasks() != 0 {
                    thread::yield_now();
                }
                tx.try_send(2).unwrap();
            })
        };
        rx.task_done().unwrap();
        sender.join().unwrap();
        assert_eq!(join.wakes(), 1, "the waiting join was not woken");
        assert!(join.poll().is_ready());
    });
}
