//! loom models of the channel's streams as weak waiters (issue 13 §1): a
//! stream's queued place is woken when a value is buffered but never handed
//! one. A value arriving while a stream waits races a `recv`, the stream's
//! own re-poll and its drop; a value arriving while an idle stream is first
//! in line reaches a polling stream behind it; and `join()` completes with
//! an idle stream alive. Each model is small (main thread and 1–2 others)
//! and pins one property; each deadlocks (loom reports it) or fails if a
//! value waits in the place of a stream nobody polls.

use std::task::Poll;

use futures_lite::StreamExt;
use sluicegate::channel::{bounded, tracked};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// A stream waits; one thread sends a value (and drops the last sender,
/// closing the channel) while another waits in `recv`, and the stream is
/// polled once more and then dropped. Whichever of the three is first, the
/// value ends with exactly one of the stream and the `recv`, and the `recv`
/// never hangs.
#[test]
fn a_value_sent_while_a_stream_waits_races_a_recv_and_the_streams_repoll_and_drop() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let mut srx = rx.clone();
        let mut next = Polled::new(srx.next());
        assert!(next.poll().is_pending());
        let sender = thread::spawn(move || {
            tx.try_send(5).unwrap();
            // The last sender: the channel closes.
        });
        let receiver = thread::spawn(move || block_on(rx.recv()).ok());
        let streamed = match next.poll() {
            Poll::Ready(v) => v,
            Poll::Pending => None,
        };
        drop(next);
        drop(srx);
        sender.join().unwrap();
        let received = receiver.join().unwrap();
        let got: Vec<u32> = streamed.into_iter().chain(received).collect();
        assert_eq!(got, [5], "lost or doubled");
    });
}

/// An idle stream (its `next()` dropped, the receiver kept) is first in
/// line; another stream waits in a second thread, queuing before or after
/// the send. The polling stream gets the value (woken by the send's sweep,
/// or finding it queued), and the idle one holds nothing.
#[test]
fn a_polling_stream_behind_an_idle_one_gets_the_value() {
    model(|| {
        let (tx, rx) = bounded::<u32>(1);
        let mut idle = rx.clone();
        {
            let mut next = Polled::new(idle.next());
            assert!(next.poll().is_pending());
        }
        let mut polling = rx;
        let consumer = thread::spawn(move || {
            let v = block_on(polling.next());
            (v, polling)
        });
        tx.try_send(5).unwrap();
        let (v, polling) = consumer.join().unwrap();
        assert_eq!(v, Some(5));
        assert!(polling.is_empty());
        drop(tx);
        drop(polling);
        drop(idle);
    });
}

/// `join()` waits while an idle stream is first in line and a worker's
/// `recv_task` queues before or after the send: the worker gets the value,
/// marks it done, and `join()` completes.
#[test]
fn join_completes_while_an_idle_stream_is_first_in_line() {
    model(|| {
        let (tx, rx) = tracked::<u32>(1);
        let mut idle = rx.clone();
        {
            let mut next = Polled::new(idle.next());
            assert!(next.poll().is_pending());
        }
        let worker = thread::spawn(move || {
            let task = block_on(rx.recv_task()).unwrap();
            assert_eq!(*task, 5);
            drop(task);
            rx
        });
        tx.try_send(5).unwrap();
        block_on(tx.join());
        let _rx = worker.join().unwrap();
        assert_eq!(tx.unfinished_tasks(), 0);
        drop(idle);
    });
}
