//! loom models of the channel's ending transitions racing the operations
//! they end: `close()` versus a `Permit` taken before it and versus the
//! cancel of a granted sender, an immediate shutdown versus a woken
//! receiver, a granted sender, a used `Permit` and `join()`, the last
//! sender's or receiver's drop versus waiters, and `force_send` versus a
//! receive and a granted or cancelled waiter. Each model is small (2–3
//! threads) and keeps exact accounting: every value is received, discarded
//! or handed back exactly once.

// The values are std `Arc`s, counted to prove each was dropped exactly once;
// loom only tracks its own `Arc`.
use std::sync::Arc;
use std::task::Poll;

use sluicegate::channel::{bounded, tracked, TryRecvError};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// A `Permit` taken before `close()` stays usable, and a receiver waiting
/// across the close waits for it: it gets the value, not the end.
#[test]
fn a_permit_taken_before_close_still_reaches_a_waiting_receiver() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let permit = tx.try_reserve().unwrap();
        let closer = {
            let tx = tx.clone();
            thread::spawn(move || assert!(tx.close()))
        };
        let receiver = thread::spawn(move || (block_on(rx.recv()), rx));
        permit.send(7);
        closer.join().unwrap();
        let (got, rx) = receiver.join().unwrap();
        assert_eq!(got, Ok(7));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert!(tx.try_send(8).unwrap_err().is_closed());
    });
}

/// A `send` was granted the slot a receive freed; it is cancelled while
/// another thread closes the channel, and a receiver waits. The granted
/// slot kept the channel from counting as drained, so whichever comes
/// last, the cancel or the close, must wake the receiver to see the end.
#[test]
fn a_granted_sender_cancelled_racing_close_ends_a_waiting_receiver() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let mut send = Polled::new(tx.send(1));
        assert!(send.poll().is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // grants the freed slot to `send`
        let mut recv = Polled::new(rx.recv());
        assert!(
            recv.poll().is_pending(),
            "the granted slot may still be used"
        );
        let closer = {
            let tx = tx.clone();
            thread::spawn(move || assert!(tx.close()))
        };
        drop(send);
        closer.join().unwrap();
        assert_eq!(recv.wakes(), 1, "the receiver was stranded");
        assert!(matches!(recv.poll(), Poll::Ready(Err(_))));
        assert_eq!(rx.len(), 0);
    });
}

/// A receiver was handed a value and woken; it is dropped while another
/// thread shuts the channel down at once. The value goes back to the
/// buffer and is discarded by the shutdown, or is discarded by the cancel
/// after it: exactly once either way, and `join()` is released.
#[test]
fn a_woken_receiver_dropped_racing_shutdown_immediate_discards_its_value_once() {
    model(|| {
        let token = Arc::new(());
        let (tx, rx) = tracked::<Arc<()>>(1);
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
        tx.try_send(token.clone()).unwrap();
        assert_eq!(recv.wakes(), 1);
        let shutter = thread::spawn(move || (tx.shutdown_immediate(), tx));
        drop(recv);
        let (discarded, tx) = shutter.join().unwrap();
        assert!(discarded <= 1);
        assert_eq!(Arc::strong_count(&token), 1, "the value was kept or leaked");
        assert_eq!(tx.unfinished_tasks(), 0);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        block_on(tx.join());
    });
}

/// A value handed to a woken receiver before an immediate shutdown still
/// goes to it when it is polled again, however the shutdown interleaves,
/// and it awaits its `task_done()`.
#[test]
fn a_woken_receiver_repolled_racing_shutdown_immediate_still_gets_its_value() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
        tx.try_send(5).unwrap();
        assert_eq!(recv.wakes(), 1);
        let shutter = thread::spawn(move || (tx.shutdown_immediate(), tx));
        assert_eq!(recv.poll(), Poll::Ready(Ok(5)));
        let (discarded, tx) = shutter.join().unwrap();
        assert_eq!(discarded, 0);
        assert_eq!(tx.unfinished_tasks(), 1);
        rx.task_done().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A `send` granted a slot (woken, not yet re-polled) races an immediate
/// shutdown: it either writes its value, which the shutdown then discards,
/// or fails and hands its value back. Never both, never neither.
#[test]
fn a_granted_sender_racing_shutdown_immediate_is_discarded_or_fails_once() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(0).unwrap();
        let mut send = Polled::new(tx.send(1));
        assert!(send.poll().is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // grants the freed slot to `send`
        assert_eq!(send.wakes(), 1);
        let shutter = {
            let rx = rx.clone();
            thread::spawn(move || rx.shutdown_immediate())
        };
        let sent = match send.poll() {
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(e)) => {
                assert_eq!(e.into_inner(), 1);
                false
            }
            Poll::Pending => panic!("a granted send must complete"),
        };
        let discarded = shutter.join().unwrap();
        assert_eq!(discarded, usize::from(sent));
        assert_eq!(rx.len(), 0);
        // Only the received 0 is left unfinished.
        assert_eq!(tx.unfinished_tasks(), 1);
        rx.task_done().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A `Permit` is used while another thread shuts the channel down at once,
/// and a receiver waits: the value reaches the receiver (sent first) or is
/// dropped (shutdown first), exactly once; the receiver is woken either
/// way, and the unfinished count matches.
#[test]
fn a_permit_used_racing_shutdown_immediate_is_received_or_dropped_once() {
    model(|| {
        let token = Arc::new(());
        let (tx, rx) = tracked::<Arc<()>>(1);
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
        let permit = tx.try_reserve().unwrap();
        let shutter = {
            let tx = tx.clone();
            thread::spawn(move || tx.shutdown_immediate())
        };
        permit.send(token.clone());
        assert_eq!(shutter.join().unwrap(), 0, "nothing was ever buffered");
        assert_eq!(recv.wakes(), 1, "the receiver was not woken");
        match recv.poll() {
            Poll::Ready(Ok(value)) => {
                assert_eq!(Arc::strong_count(&token), 2);
                drop(value);
                assert_eq!(tx.unfinished_tasks(), 1);
                rx.task_done().unwrap();
            }
            Poll::Ready(Err(_)) => {}
            Poll::Pending => panic!("the receiver was stranded"),
        }
        assert_eq!(Arc::strong_count(&token), 1, "the value was leaked");
        assert_eq!(tx.unfinished_tasks(), 0);
    });
}

/// A `join()` waits on one buffered value while an immediate shutdown
/// races a receive of it: whichever takes the value, `join()` is woken
/// exactly when the count reaches zero (by the discard, or by the
/// `task_done()` of the received value), not before.
#[test]
fn shutdown_immediate_racing_a_receive_releases_join_only_at_zero() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(1).unwrap();
        let mut join = Polled::new(tx.join());
        assert!(join.poll().is_pending());
        let shutter = {
            let tx = tx.clone();
            thread::spawn(move || tx.shutdown_immediate())
        };
        let received = rx.try_recv().is_ok();
        let discarded = shutter.join().unwrap();
        assert_eq!(discarded + usize::from(received), 1);
        if received {
            assert_eq!(join.wakes(), 0, "join released with a task unfinished");
            assert!(join.poll().is_pending());
            rx.task_done().unwrap();
        }
        assert_eq!(join.wakes(), 1, "join was not woken at zero");
        assert_eq!(join.poll(), Poll::Ready(()));
        assert_eq!(tx.unfinished_tasks(), 0);
    });
}

/// Two senders are dropped on two threads, one after sending a value,
/// while the receiver waits: exactly one drop closes the channel, and the
/// receiver gets the value, then the end (a lost close would deadlock).
#[test]
fn the_last_sender_dropped_racing_a_waiting_receiver_ends_it_after_the_drain() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.try_send(1).unwrap());
        let b = thread::spawn(move || drop(tx2));
        assert_eq!(block_on(rx.recv()), Ok(1));
        assert!(block_on(rx.recv()).is_err());
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(rx.sender_count(), 0);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A `closed()` registers while two threads drop the two senders: it is
/// ready at once or woken, never stranded.
#[test]
fn the_last_sender_dropped_racing_closed_never_loses_the_wake_up() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let tx2 = tx.clone();
        let a = thread::spawn(move || drop(tx));
        let b = thread::spawn(move || drop(tx2));
        let mut closed = Polled::new(rx.closed());
        let first = closed.poll();
        a.join().unwrap();
        b.join().unwrap();
        if first.is_pending() {
            assert_eq!(closed.wakes(), 1, "the close lost the wake-up");
            assert_eq!(closed.poll(), Poll::Ready(()));
        }
        assert!(rx.is_closed());
    });
}

/// The last receiver is dropped while a sender waits on the full channel
/// and `join()` waits with one value received but not done and one
/// buffered: the sender fails, the buffered value is discarded, and
/// `join()` completes, since nobody can mark anything done any more.
#[test]
fn the_last_receiver_dropped_releases_join_and_a_waiting_sender() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(0).unwrap();
        assert_eq!(rx.try_recv(), Ok(0));
        tx.try_send(1).unwrap();
        let sender = {
            let tx = tx.clone();
            thread::spawn(move || block_on(tx.send(2)).map_err(|e| e.into_inner()))
        };
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.join());
        assert_eq!(sender.join().unwrap(), Err(2));
        dropper.join().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
        assert!(tx.is_closed());
        assert_eq!(tx.len(), 0);
    });
}

/// `force_send(2)` races a receive from the full channel and the write of
/// the `send(1)` that receive grants the freed slot to: it displaces the
/// oldest value, or finds nothing it may displace (the slot is reserved)
/// and fails. Every value is received, displaced or handed back exactly
/// once, and the capacity holds.
#[test]
fn force_send_racing_a_receive_and_a_granted_sender_loses_and_doubles_nothing() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let mut send = Polled::new(tx.send(1));
        assert!(send.poll().is_pending());
        let forcer = {
            let tx = tx.clone();
            thread::spawn(move || tx.force_send(2))
        };
        let mut all = vec![rx.try_recv().expect("the channel is never empty here")];
        assert!(matches!(send.poll(), Poll::Ready(Ok(()))));
        match forcer.join().unwrap() {
            Ok(displaced) => all.push(displaced.expect("no slot was ever free")),
            Err(e) => {
                assert!(e.is_full());
                all.push(e.into_inner());
            }
        }
        assert_eq!(rx.len(), 1);
        all.push(rx.try_recv().unwrap());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2]);
    });
}

/// A receiver was handed a value and woken; it is dropped (passing the
/// value back to the front of the buffer) while `force_send(1)` runs: the
/// force either finds the slot handed and fails, or displaces the value
/// passed back. Nothing is lost or doubled, and the capacity holds.
#[test]
fn force_send_racing_the_cancel_of_a_woken_receiver_loses_and_doubles_nothing() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let mut recv = Polled::new(rx.recv());
        assert!(recv.poll().is_pending());
        tx.try_send(0).unwrap();
        assert_eq!(recv.wakes(), 1);
        let forcer = thread::spawn(move || (tx.force_send(1), tx));
        drop(recv);
        let (forced, _tx) = forcer.join().unwrap();
        let mut all = vec![match forced {
            Ok(displaced) => displaced.expect("no slot was ever free"),
            Err(e) => {
                assert!(e.is_full());
                e.into_inner()
            }
        }];
        assert_eq!(rx.len(), 1);
        all.push(rx.try_recv().unwrap());
        all.sort_unstable();
        assert_eq!(all, [0, 1]);
    });
}
