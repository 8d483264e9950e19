//! loom models of the channel's fast path around values that go back or
//! are dropped: a value handed to a waiting receiver that is then dropped
//! goes back to the front of the ring while fast operations run on another
//! thread; a channel dropped with wrapped-around values after fast
//! operations drops each exactly once; a sender that queued on a full ring
//! and is cancelled while a fast receive frees a slot leaks no slot.

use std::sync::Arc;
use std::task::Poll;

use sluicegate::channel::bounded;
use sluicegate_loom_tests::{model, thread, Polled};

/// A value handed to a waiting receiver that is then dropped goes back to
/// the front of the ring while a fast send pushes at the back.
#[test]
fn cancelled_receiver_push_front_races_fast_send() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let tx2 = tx.clone();
        let mut fut = Polled::new(rx.recv());
        assert!(fut.poll().is_pending());
        tx.try_send(1).unwrap();
        let b = thread::spawn(move || tx2.try_send(2).is_ok());
        drop(fut);
        let sent = b.join().unwrap();
        assert!(sent, "a slot was free");
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(rx.try_recv().is_err());
    });
}

/// Same, with a concurrent fast receiver: nothing lost or doubled.
#[test]
fn cancelled_receiver_push_front_races_fast_send_and_recv() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        let rx2 = rx.clone();
        let mut fut = Polled::new(rx.recv());
        assert!(fut.poll().is_pending());
        tx.try_send(1).unwrap();
        let b = thread::spawn(move || {
            let s = tx.try_send(2).is_ok();
            let r = rx2.try_recv().ok();
            (s, r)
        });
        drop(fut);
        let (sent, got_b) = b.join().unwrap();
        assert!(sent);
        let mut got: Vec<u32> = got_b.into_iter().collect();
        while let Ok(v) = rx.try_recv() {
            got.push(v);
        }
        got.sort_unstable();
        assert_eq!(got, vec![1, 2]);
    });
}

/// Values left in a wrapped ring after fast operations on another thread
/// are each dropped once with the channel.
#[test]
fn drop_with_wrapped_values_after_fast_ops() {
    model(|| {
        let token = Arc::new(());
        let (tx, rx) = bounded::<Arc<()>>(3);
        let t = token.clone();
        let tx2 = tx.clone();
        let b = thread::spawn(move || {
            tx2.try_send(t.clone()).unwrap();
            tx2.try_send(t.clone()).unwrap();
        });
        let _ = rx.try_recv();
        b.join().unwrap();
        let _ = rx.try_recv();
        tx.try_send(token.clone()).unwrap();
        tx.try_send(token.clone()).unwrap();
        let _ = rx.try_recv();
        drop(tx);
        drop(rx);
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

/// A fast receive races a sender that queues on a full ring, then the
/// sender is cancelled: its slot never leaks.
#[test]
fn fast_recv_racing_a_sender_then_cancel() {
    model(|| {
        let (tx, rx) = bounded::<u32>(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        let rx2 = rx.clone();
        let b = thread::spawn(move || rx2.try_recv().ok());
        let mut s = Polled::new(tx.send(3));
        let first = s.poll();
        let got = b.join().unwrap();
        drop(s);
        let mut rest = Vec::new();
        while let Ok(v) = rx.try_recv() {
            rest.push(v);
        }
        let sent3 = matches!(first, Poll::Ready(Ok(())));
        let mut all: Vec<u32> = got.into_iter().chain(rest).collect();
        all.sort_unstable();
        let mut want = vec![1, 2];
        if sent3 {
            want.push(3);
        }
        assert_eq!(all, want);
        // Full capacity is available again.
        tx.try_send(10).unwrap();
        tx.try_send(11).unwrap();
        assert!(tx.try_send(12).is_err());
    });
}
