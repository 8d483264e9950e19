//! loom models of the channel's lock-free fast path (the ring in
//! `src/channel/ring.rs`): a send or receive that needs no waiter buffers or
//! takes a value under the ring's own one-word lock, without the channel's
//! lock, only while the mode bits say that side is fast. Whoever is about
//! to wait takes the channel's lock, which first sets both mode bits
//! (waiting out a fast operation in progress), re-checks the ring, and only
//! then queues: listen, recheck, wait. Each model races a fast operation
//! against the other side's decision to wait (or a close) and deadlocks
//! (loom reports it) or fails if a wake-up, a value or a slot is lost, or
//! the order or capacity is broken. Capacities are 2 or more: a
//! capacity-1 channel keeps the fast path off (`channel.rs` models it).

use std::task::Poll;

use futures_lite::StreamExt;
use sluicegate::channel::{bounded, TryRecvError, TrySendError};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// A receiver finds the channel empty and queues while a sender buffers a
/// value by the fast path: the receiver gets it (woken, or finding it on
/// its re-check), never waits forever, and the values come in order.
#[test]
fn a_fast_send_racing_a_receiver_that_queues_reaches_it() {
    model(|| {
        let (tx, rx) = bounded::<u32>(4);
        let sender = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert_eq!(block_on(rx.recv()), Ok(2));
        sender.join().unwrap();
        // Every sender is gone: closed and drained.
        assert!(block_on(rx.recv()).is_err());
    });
}

/// A sender finds both slots taken and queues while a receiver takes the
/// oldest value by the fast path: the freed slot reaches the waiting
/// sender (granted, or found on its re-check), so its value is delivered
/// after the others and nothing is lost or doubled. (Capacity 2: a
/// capacity-1 channel never uses the fast path.)
#[test]
fn a_fast_recv_racing_a_sender_that_queues_frees_its_slot() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(3)).unwrap());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(block_on(rx.recv()), Ok(2));
        assert_eq!(block_on(rx.recv()), Ok(3));
        sender.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// Two senders race for the ring lock with a receiver taking values as
/// they come, at a capacity they cannot exceed: each value arrives once,
/// each sender's values in its order, and `len` never passes the capacity.
#[test]
fn fast_senders_and_a_fast_receiver_share_the_ring_exactly() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.try_send(1).is_ok());
        let b = thread::spawn(move || {
            let first = tx2.try_send(10).is_ok();
            let second = tx2.try_send(11).is_ok();
            (first, second)
        });
        let mut got = Vec::new();
        if let Ok(v) = rx.try_recv() {
            got.push(v);
        }
        assert!(rx.len() <= 2);
        let sent_a = a.join().unwrap();
        let (sent_10, sent_11) = b.join().unwrap();
        while let Ok(v) = rx.try_recv() {
            got.push(v);
        }
        let mut want = Vec::new();
        if sent_a {
            want.push(1);
        }
        if sent_10 {
            want.push(10);
        }
        if sent_11 {
            want.push(11);
        }
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, want, "lost or doubled");
        // The second sender's values in its order.
        let tens: Vec<u32> = got.iter().copied().filter(|v| *v >= 10).collect();
        let mut tens_sorted = tens.clone();
        tens_sorted.sort_unstable();
        assert_eq!(tens, tens_sorted);
        // Two slots: at most one of three sends could find no room, and
        // only while the receiver had taken nothing yet.
        assert!(want.len() >= 2);
    });
}

/// `close()` races a fast `try_send`: the send succeeds exactly when its
/// value is received, and a send after the close sees it closed.
#[test]
fn close_racing_a_fast_send_is_exact() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let closer = tx.clone();
        let sender = thread::spawn(move || {
            let first = tx.try_send(7);
            let after = tx.try_send(8);
            (first.is_ok(), after)
        });
        let close = thread::spawn(move || closer.close());
        close.join().unwrap();
        let (sent, after) = sender.join().unwrap();
        if !sent {
            assert!(matches!(after, Err(TrySendError::Closed(8))));
        }
        let mut got = Vec::new();
        while let Ok(v) = block_on(rx.recv()) {
            got.push(v);
        }
        let mut want = Vec::new();
        if sent {
            want.push(7);
        }
        if after.is_ok() {
            want.push(8);
        }
        assert_eq!(got, want);
    });
}

/// A stream waits (a weak waiter, which turns the fast path off) while a
/// fast send races its registration: the stream is woken or finds the
/// value on its re-poll; the value is never stranded in the ring.
#[test]
fn a_fast_send_racing_a_stream_that_registers_wakes_it() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let mut srx = rx;
        let sender = thread::spawn(move || {
            tx.try_send(3).unwrap();
            tx
        });
        let mut next = Polled::new(srx.next());
        let first = next.poll();
        let _tx = sender.join().unwrap();
        let got = match first {
            Poll::Ready(v) => v,
            Poll::Pending => {
                assert_eq!(next.wakes(), 1, "a value buffered while the stream waited");
                match next.poll() {
                    Poll::Ready(v) => v,
                    Poll::Pending => panic!("woken, but the value is not there"),
                }
            }
        };
        assert_eq!(got, Some(3));
    });
}

/// An immediate shutdown from the receiving side races a fast send: the
/// value is either refused (closed) or taken in and then discarded; a
/// receive after the shutdown gets nothing.
#[test]
fn shutdown_immediate_racing_a_fast_send_leaves_nothing() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let sender = thread::spawn(move || tx.try_send(9));
        rx.shutdown_immediate();
        let sent = sender.join().unwrap();
        assert!(matches!(sent, Ok(()) | Err(TrySendError::Closed(9))));
        assert!(rx.try_recv().is_err());
        assert_eq!(rx.len(), 0);
    });
}
