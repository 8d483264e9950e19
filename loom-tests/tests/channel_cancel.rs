//! loom models of the channel's cancel paths that `channel.rs` leaves out:
//! a `reserve()` (or its `Permit`) given up after the slot was granted, a
//! `recv_many` woken while sends go on, a `SendSink` dropped around the
//! grant of the slot it waits for, a receiver dropped while a send goes past
//! its stream's place, `closed()` and `join()` waiters dropped while
//! they are being woken, and the drop of the last [`Task`] racing `join()`.
//! Each model is small (2 threads) and pins one property.
//!
//! [`Task`]: sluicegate::channel::Task

use std::pin::Pin;
use std::task::Poll;

use futures_sink::Sink;
use sluicegate::channel::{bounded, tracked, SendError, SendSink, TryRecvError};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// A `reserve()` queued behind a full channel races the receive that grants
/// it the freed slot; its owner polls it once more and then gives it up
/// (dropping the `Permit` unused if it got one, else the future). Whichever
/// of the three cancel paths runs, the slot reaches the `send` queued
/// behind it, and the channel ends with exactly its one slot.
#[test]
fn a_reservation_given_up_around_its_grant_passes_the_slot_on() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let mut reserve = Polled::new(tx.reserve());
        let mut send = Polled::new(tx.send(2));
        assert!(reserve.poll().is_pending());
        assert!(send.poll().is_pending());
        let receiver = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        if let Poll::Ready(permit) = reserve.poll() {
            drop(permit.expect("the channel is open"));
        }
        drop(reserve);
        let rx = receiver.join().unwrap();
        assert_eq!(send.wakes(), 1, "the slot did not reach the waiting send");
        assert!(matches!(send.poll(), Poll::Ready(Ok(()))));
        drop(send);
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.try_send(3).expect("the one slot is free");
        assert!(tx.try_send(4).unwrap_err().is_full(), "a slot was doubled");
    });
}

/// Polls a sink's `poll_ready` once (with a fresh counting waker).
fn poll_ready(sink: &mut SendSink<u32>) -> Poll<Result<(), SendError<()>>> {
    Polled::new(futures_lite::future::poll_fn(|cx| {
        Pin::new(&mut *sink).poll_ready(cx)
    }))
    .poll()
}

/// A `SendSink` waits in `poll_ready` on a full channel and races the
/// receive that grants it the freed slot; its owner polls it once more and
/// drops it, with the slot reserved (`Ready`), granted but not yet seen,
/// or still queued. The slot reaches the `send` queued behind it, and the
/// channel ends with exactly its one slot.
#[test]
fn a_sink_dropped_around_its_grant_passes_the_slot_on() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let mut sink = tx.clone().into_sink();
        assert!(poll_ready(&mut sink).is_pending());
        let mut send = Polled::new(tx.send(2));
        assert!(send.poll().is_pending());
        let receiver = thread::spawn(move || {
            assert_eq!(rx.try_recv(), Ok(0));
            rx
        });
        assert!(!matches!(poll_ready(&mut sink), Poll::Ready(Err(_))));
        drop(sink);
        let rx = receiver.join().unwrap();
        assert_eq!(send.wakes(), 1, "the slot did not reach the waiting send");
        assert!(matches!(send.poll(), Poll::Ready(Ok(()))));
        drop(send);
        assert_eq!(rx.try_recv(), Ok(2));
        tx.try_send(3).expect("the one slot is free");
        assert!(tx.try_send(4).unwrap_err().is_full(), "a slot was doubled");
    });
}

/// A `next()` on a receiver's stream waited and was dropped, so the
/// stream's place stays queued ahead of another receiver; the receiver
/// itself is dropped while a send goes on. A stream's place is never handed
/// a value: the value reaches the other receiver, which is woken once.
#[test]
fn a_receiver_dropped_while_a_send_goes_past_its_stream_place_loses_nothing() {
    use futures_lite::StreamExt;
    model(|| {
        let (tx, mut rx) = bounded::<u32>(1);
        let rx2 = rx.clone();
        {
            let mut next = Polled::new(rx.next());
            assert!(next.poll().is_pending());
        }
        let mut other = Polled::new(rx2.recv());
        assert!(other.poll().is_pending());
        let sender = thread::spawn(move || {
            tx.try_send(5).unwrap();
            tx
        });
        drop(rx);
        let _tx = sender.join().unwrap();
        assert_eq!(other.wakes(), 1, "the handed value was not passed on");
        assert_eq!(other.poll(), Poll::Ready(Ok(5)));
        assert_eq!(rx2.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A `recv_many` waits; another thread sends two values while it is
/// polled again. Whether the first value was handed to it or not, it takes
/// the values in order, nothing is lost or doubled, and each value it took
/// awaits exactly one `task_done()`.
#[test]
fn a_woken_recv_many_takes_the_handed_value_and_what_follows_in_order() {
    model(|| {
        let (tx, rx) = tracked::<u32>(2);
        let mut buf = Vec::new();
        let mut many = Polled::new(rx.recv_many(&mut buf, 2));
        assert!(many.poll().is_pending());
        let sender = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
            tx
        });
        let first = many.poll();
        let tx = sender.join().unwrap();
        let taken = match first {
            Poll::Ready(res) => res,
            Poll::Pending => {
                assert_eq!(many.wakes(), 1, "the handed value's wake-up was lost");
                match many.poll() {
                    Poll::Ready(res) => res,
                    Poll::Pending => panic!("a woken recv_many found nothing"),
                }
            }
        };
        drop(many);
        assert_eq!(taken, Ok(buf.len()));
        while let Ok(v) = rx.try_recv() {
            buf.push(v);
        }
        assert_eq!(buf, [1, 2]);
        assert_eq!(tx.unfinished_tasks(), 2);
        rx.task_done().unwrap();
        rx.task_done().unwrap();
        assert!(rx.task_done().is_err(), "a value was counted twice");
        assert_eq!(tx.unfinished_tasks(), 0);
    });
}

/// `recv_many` on a full channel races a `send` that waits for the slot it
/// frees, and that sender is the last one, so its drop closes the channel:
/// the receiver gets both values in order, then the end, and the sender is
/// never left waiting.
#[test]
fn recv_many_frees_the_slot_of_the_last_sender_and_then_ends() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        tx.try_send(0).unwrap();
        let sender = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let mut buf = Vec::new();
        while block_on(rx.recv_many(&mut buf, 2)).is_ok() {
            assert!(buf.len() <= 2);
        }
        sender.join().unwrap();
        assert_eq!(buf, [0, 1]);
        assert!(rx.is_closed());
    });
}

/// A `closed()` waiter dropped while `close()` sweeps (before or after it
/// was unlinked and woken) does not cost another `closed()` waiter its
/// wake-up.
#[test]
fn a_closed_waiter_dropped_while_close_sweeps_does_not_strand_another() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let mut gone = Polled::new(rx.closed());
        let mut stays = Polled::new(tx.closed());
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        let closer = {
            let rx = rx.clone();
            thread::spawn(move || assert!(rx.close()))
        };
        drop(gone);
        closer.join().unwrap();
        assert_eq!(stays.wakes(), 1, "close() lost the wake-up");
        assert_eq!(stays.poll(), Poll::Ready(()));
    });
}

/// Two `join()`s wait; one is dropped while the last `task_done()` brings
/// the count to zero and wakes the joiners. A woken join passes nothing on
/// (every joiner is due), so the other must still be woken and complete.
#[test]
fn a_join_dropped_around_its_wake_up_does_not_strand_another() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        let mut gone = Polled::new(tx.join());
        let mut stays = Polled::new(tx.join());
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        let worker = thread::spawn(move || {
            rx.task_done().unwrap();
            // Kept alive: the last receiver's drop would release join too.
            rx
        });
        drop(gone);
        let _rx = worker.join().unwrap();
        assert_eq!(stays.wakes(), 1, "the other join was not woken");
        assert_eq!(stays.poll(), Poll::Ready(()));
        assert_eq!(tx.unfinished_tasks(), 0);
    });
}

/// `join()` races the drop of the last [`Task`] (which marks itself done
/// by its own path, not `task_done()`): it completes, and the task is not
/// also counted for `task_done()`.
///
/// [`Task`]: sluicegate::channel::Task
#[test]
fn join_races_the_drop_of_the_last_task() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        tx.try_send(1).unwrap();
        let worker = thread::spawn(move || {
            let task = rx.try_recv_task().unwrap();
            assert_eq!(*task, 1);
            drop(task);
            rx
        });
        block_on(tx.join());
        let rx = worker.join().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
        assert!(rx.task_done().is_err(), "a Task was counted for task_done");
    });
}
