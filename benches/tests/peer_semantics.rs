//! Why the capacity-1 channel rows differ: what flume and kanal do with a
//! sender that waits on a full channel, pinned by hand-polled tests.
//!
//! Both let a receiver take the value out of a *waiting* send future (flume
//! pulls it into its queue, kanal hands it over directly). That saves the
//! sender a task switch per message, so at capacity 1 a consumer receives
//! two values per producer run; but the value is then delivered even if the
//! send future is dropped before it is polled again. sluicegate's issue
//! requires the opposite ("a dropped `send` future never enqueues its
//! value"; see `tests/channel_hand_polled.rs`), the same guarantee tokio's
//! `mpsc::Sender::send` documents, so its woken sender must run to write its
//! own value: two task switches per message at capacity 1.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn flume_delivers_the_value_of_a_send_future_dropped_while_waiting() {
    let (tx, rx) = flume::bounded::<u32>(1);
    tx.try_send(1).unwrap();
    let mut send = Box::pin(tx.send_async(2));
    assert!(poll_once(send.as_mut()).is_pending(), "channel is full");
    // Two values come out without the sender running again: the receiver
    // pulled the waiting sender's value into the queue.
    assert_eq!(rx.try_recv().unwrap(), 1);
    assert_eq!(rx.try_recv().unwrap(), 2);
    // The send future never returned `Ready`, yet its value was delivered.
    drop(send);
    assert!(rx.try_recv().is_err());
}

#[test]
fn sluicegate_does_not_deliver_the_value_of_a_send_future_dropped_while_waiting() {
    let (tx, rx) = sluicegate::channel::bounded::<u32>(1);
    tx.try_send(1).unwrap();
    let mut send = Box::pin(tx.send(2));
    assert!(poll_once(send.as_mut()).is_pending(), "channel is full");
    assert_eq!(rx.try_recv().unwrap(), 1);
    // The freed slot is the woken sender's to fill; until it runs, nothing.
    assert!(rx.try_recv().is_err());
    drop(send);
    assert!(rx.try_recv().is_err(), "a dropped send never enqueues");
}

#[test]
fn kanal_delivers_the_value_of_a_send_future_dropped_while_waiting() {
    let (tx, rx) = kanal::bounded_async::<u32>(1);
    tx.try_send(1).unwrap();
    let mut send = Box::pin(tx.send(2));
    assert!(poll_once(send.as_mut()).is_pending(), "channel is full");
    let mut recv = pin!(rx.recv());
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Ok(1)));
    let mut recv = pin!(rx.recv());
    assert_eq!(poll_once(recv.as_mut()), Poll::Ready(Ok(2)));
    drop(send);
    assert_eq!(rx.try_recv(), Ok(None));
}
