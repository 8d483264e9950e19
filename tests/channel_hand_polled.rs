//! Deterministic, hand-polled tests of the channel: every behaviour of
//! issue 3 §3, each cancel path in both forms (dropped while queued, dropped
//! after being woken but before the re-poll), close and shutdown, and
//! completion tracking. No executor, no timing.
mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::poll::{panicking_clone_waker, polled, Polled};
use futures::{SinkExt, StreamExt};
use sluicegate::channel::{
    bounded, tracked, Channel, SendError, Tracked, TryRecvError, TrySendError,
};

/// A value that counts how often it is dropped.
#[derive(Debug)]
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

fn drops() -> (Arc<AtomicUsize>, impl Fn(u32) -> Counted) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (count, move |v| Counted(v, c.clone()))
}

// ---------------------------------------------------------------------------
// Capacity is exact.

#[test]
fn len_never_exceeds_capacity_and_a_send_on_a_full_channel_waits() {
    let (tx, rx) = bounded(2);
    polled(tx.send(1)).ready().unwrap();
    polled(tx.send(2)).ready().unwrap();
    assert_eq!(tx.len(), 2);
    assert!(tx.is_full());
    let mut third = polled(tx.send(3));
    third.pending();
    assert_eq!(tx.len(), 2);
    assert_eq!(tx.try_send(4), Err(TrySendError::Full(4)));
    assert_eq!(rx.try_recv(), Ok(1));
    // The freed slot went to the waiting send, not to the try_send.
    assert!(third.woken());
    assert_eq!(tx.try_send(5), Err(TrySendError::Full(5)));
    third.ready().unwrap();
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn each_recv_frees_exactly_one_slot_for_exactly_one_waiting_sender() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut senders: Vec<_> = (1..=3).map(|i| polled(tx.send(i))).collect();
    for s in &mut senders {
        s.pending();
    }
    assert_eq!(rx.try_recv(), Ok(0));
    let woken: Vec<usize> = senders.iter().map(|s| s.wakes()).collect();
    assert_eq!(woken, [1, 0, 0]);
    // The other two stay queued however often they are polled.
    senders[1].pending();
    senders[2].pending();
    senders[0].ready().unwrap();
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(senders[1].wakes(), 1);
    assert_eq!(senders[2].wakes(), 0);
}

#[test]
fn permits_hold_slots_against_the_capacity() {
    let (tx, rx) = bounded::<u8>(2);
    let p1 = tx.try_reserve().unwrap();
    let p2 = tx.try_reserve().unwrap();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(tx.len(), 0, "reservations are not queued values");
    p1.send(7);
    drop(p2);
    assert_eq!(rx.try_recv(), Ok(7));
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
}

// ---------------------------------------------------------------------------
// Cancel safety: send.

#[test]
fn dropped_queued_send_never_enqueues_its_value() {
    let (count, v) = drops();
    let (tx, rx) = bounded(1);
    tx.try_send(v(0)).unwrap();
    let mut a = polled(tx.send(v(1)));
    let mut b = polled(tx.send(v(2)));
    a.pending();
    b.pending();
    drop(a);
    assert_eq!(count.load(Ordering::SeqCst), 1, "A's value dropped with it");
    assert_eq!(rx.try_recv().unwrap().0, 0);
    assert!(b.woken(), "the slot went to B");
    b.ready().unwrap();
    assert_eq!(rx.try_recv().unwrap().0, 2);
    assert_eq!(rx.try_recv().unwrap_err(), TryRecvError::Empty);
}

#[test]
fn dropped_woken_send_passes_its_slot_on() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut a = polled(tx.send(1));
    let mut b = polled(tx.send(2));
    a.pending();
    b.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(a.woken());
    assert!(!b.woken());
    drop(a); // granted a slot, never re-polled
    assert!(b.woken(), "the granted slot went on to B");
    b.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropped_woken_send_with_nobody_waiting_frees_the_slot() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut a = polled(tx.send(1));
    a.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    drop(a);
    tx.try_send(9).unwrap();
    assert_eq!(rx.try_recv(), Ok(9));
}

// ---------------------------------------------------------------------------
// Cancel safety: recv.

#[test]
fn dropped_queued_recv_loses_nothing() {
    let (tx, rx) = bounded(1);
    let mut a = polled(rx.recv());
    a.pending();
    drop(a);
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn dropped_woken_recv_passes_its_value_to_the_next_receiver() {
    let (tx, rx) = bounded(1);
    let mut a = polled(rx.recv());
    let mut b = polled(rx.recv());
    a.pending();
    b.pending();
    tx.try_send(1).unwrap();
    assert!(a.woken());
    assert!(!b.woken());
    drop(a); // handed the value, never re-polled
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(1));
}

#[test]
fn dropped_woken_recv_puts_its_value_back_at_the_front() {
    let (tx, rx) = bounded(2);
    let mut a = polled(rx.recv());
    a.pending();
    tx.try_send(1).unwrap(); // handed to A
    tx.try_send(2).unwrap(); // buffered
    assert_eq!(tx.len(), 2);
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    drop(a);
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn picking_up_a_handed_value_frees_its_slot_for_a_waiting_sender() {
    let (tx, rx) = bounded(1);
    let mut r = polled(rx.recv());
    r.pending();
    tx.try_send(1).unwrap(); // handed to r: the one slot is in use
    let mut s = polled(tx.send(2));
    s.pending();
    assert_eq!(r.ready(), Ok(1));
    assert!(s.woken());
    s.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

// ---------------------------------------------------------------------------
// Cancel safety: reserve.

#[test]
fn dropped_queued_reserve_keeps_the_queue_moving() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut a = polled(tx.reserve());
    let mut b = polled(tx.send(2));
    a.pending();
    b.pending();
    drop(a);
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(b.woken());
    b.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn dropped_woken_reserve_passes_its_slot_on() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut a = polled(tx.reserve());
    let mut b = polled(tx.reserve());
    a.pending();
    b.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(a.woken());
    drop(a);
    assert!(b.woken());
    b.ready().unwrap().send(5);
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn unused_permit_passes_its_slot_to_the_next_sender() {
    let (tx, rx) = bounded(1);
    let permit = tx.try_reserve().unwrap();
    let mut s = polled(tx.send(1));
    s.pending();
    drop(permit);
    assert!(s.woken());
    s.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn permit_sends_straight_to_a_waiting_receiver() {
    let (tx, rx) = bounded(1);
    let mut r = polled(rx.recv());
    r.pending();
    let permit = polled(tx.reserve()).ready().unwrap();
    permit.send(3);
    assert!(r.woken());
    assert_eq!(r.ready(), Ok(3));
}

// ---------------------------------------------------------------------------
// Cancel safety: join.

#[test]
fn dropped_queued_join_leaves_the_others_waiting() {
    let (tx, rx) = tracked(1);
    tx.try_send(1).unwrap();
    let mut a = polled(tx.join());
    let mut b = polled(rx.join());
    a.pending();
    b.pending();
    drop(a);
    rx.try_recv().unwrap();
    b.pending();
    rx.task_done().unwrap();
    assert!(b.woken());
    b.ready();
}

#[test]
fn dropped_woken_join_does_not_take_the_wake_up_from_the_others() {
    let (tx, rx) = tracked(1);
    tx.try_send(1).unwrap();
    let mut a = polled(tx.join());
    let mut b = polled(tx.join());
    a.pending();
    b.pending();
    rx.try_recv().unwrap();
    rx.task_done().unwrap();
    assert!(a.woken() && b.woken(), "completion wakes every join");
    drop(a);
    b.ready();
}

#[test]
fn join_completes_once_the_count_reached_zero_even_if_values_follow() {
    // asyncio's join() waits on an Event that stays set for its waiters.
    let (tx, rx) = tracked(2);
    tx.try_send(1).unwrap();
    let mut j = polled(tx.join());
    j.pending();
    rx.try_recv().unwrap();
    rx.task_done().unwrap();
    tx.try_send(2).unwrap();
    j.ready();
    // A join that starts now waits for the new value.
    polled(tx.join()).pending();
}

#[test]
fn every_join_waiting_when_the_count_reached_zero_completes_even_if_a_send_lands_mid_wake_up() {
    // 17 joiners: the wake-ups go out in two batches, and the first joiner's
    // waker sends a value in between (as another thread could, or as a send
    // landing between `task_done` and its wake-ups does).
    let (tx, rx) = tracked::<u32>(4);
    let tx = Arc::new(tx);
    tx.try_send(1).unwrap();
    let sender = tx.clone();
    let mut first = common::poll::Polled::with_hook(tx.join(), move || {
        sender.try_send(2).unwrap();
    });
    first.pending();
    let mut rest: Vec<_> = (0..16).map(|_| polled(tx.join())).collect();
    for j in &mut rest {
        j.pending();
    }
    rx.try_recv().unwrap();
    rx.task_done().unwrap();
    assert!(first.hook_ran());
    assert_eq!(tx.unfinished_tasks(), 1, "the hook's value");
    first.ready();
    for (i, j) in rest.iter_mut().enumerate() {
        assert!(j.woken(), "join #{} of 17 was never woken", i + 2);
        j.ready();
    }
    // A join that starts now waits for the new value.
    polled(tx.join()).pending();
}

#[test]
fn a_woken_stream_holds_nothing_through_an_immediate_shutdown() {
    use futures::stream::FusedStream;
    // Heap flavour: the receiver's own stream.
    let (tx, mut rx) = tracked::<u32>(2);
    {
        let mut next = polled(rx.next());
        next.pending();
        tx.try_send(7).unwrap();
        assert!(next.woken()); // dropped before the re-poll: 7 stays queued
    }
    assert_eq!(tx.len(), 1);
    assert_eq!(tx.shutdown_immediate(), 1, "7 was queued, not handed over");
    assert!(rx.is_terminated());
    assert_eq!(polled(rx.next()).ready(), None);
    assert_eq!(tx.unfinished_tasks(), 0);
    polled(tx.join()).ready();
    // Inline flavour.
    let ch: Channel<u32, 2, Tracked> = Channel::new();
    let mut stream = std::pin::pin!(ch.stream());
    {
        let mut next = polled(stream.next());
        next.pending();
        ch.try_send(7).unwrap();
        assert!(next.woken());
    }
    assert_eq!(ch.shutdown_immediate(), 1);
    assert!(stream.is_terminated());
    assert_eq!(polled(stream.next()).ready(), None);
    polled(ch.join()).ready();
}

/// Panics when dropped if told to (unless already unwinding).
struct PanicOnDrop(bool);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if self.0 && !std::thread::panicking() {
            panic!("a value's drop panicked");
        }
    }
}

#[test]
fn a_panicking_value_drop_in_an_immediate_shutdown_still_wakes_every_waiter() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (tx, rx) = tracked::<PanicOnDrop>(2);
    tx.try_send(PanicOnDrop(true)).unwrap();
    tx.try_send(PanicOnDrop(true)).unwrap();
    let mut send = polled(tx.send(PanicOnDrop(false)));
    send.pending();
    let mut closed = polled(rx.closed());
    closed.pending();
    let mut join = polled(tx.join());
    join.pending();
    assert!(catch_unwind(AssertUnwindSafe(|| tx.shutdown_immediate())).is_err());
    assert!(send.woken() && closed.woken() && join.woken());
    assert_eq!((tx.len(), tx.unfinished_tasks()), (0, 0), "both discarded");
    join.ready();
    closed.ready();
    assert!(send.ready().is_err());
}

#[test]
fn a_panicking_value_drop_when_the_last_receiver_goes_still_releases_join() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (tx, rx) = tracked::<PanicOnDrop>(2);
    tx.try_send(PanicOnDrop(false)).unwrap();
    let received = rx.try_recv().unwrap(); // received, never marked done
    tx.try_send(PanicOnDrop(true)).unwrap();
    let mut join = polled(tx.join());
    join.pending();
    assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
    assert!(join.woken());
    join.ready();
    assert_eq!(tx.unfinished_tasks(), 0);
    drop(received);
}

#[test]
fn a_panicking_wake_in_a_close_spanning_several_batches_still_wakes_every_sender() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let (tx, rx) = bounded::<u32>(1);
    tx.try_send(0).unwrap();
    let mut senders = vec![common::poll::Polled::with_hook(tx.send(1), || {
        panic!("wake failed")
    })];
    for i in 2..=17 {
        senders.push(polled(tx.send(i)));
    }
    for s in &mut senders {
        s.pending();
    }
    assert!(catch_unwind(AssertUnwindSafe(|| rx.close())).is_err());
    assert!(senders.iter().all(|s| s.woken()), "the 17th was woken too");
    assert!(senders.iter_mut().all(|s| s.ready().is_err()));
}

// ---------------------------------------------------------------------------
// FIFO.

#[test]
fn values_come_out_in_fifo_order() {
    let (tx, rx) = bounded(4);
    for round in 0..5u32 {
        for i in 0..4 {
            tx.try_send(round * 4 + i).unwrap();
        }
        for i in 0..4 {
            assert_eq!(rx.try_recv(), Ok(round * 4 + i));
        }
    }
}

#[test]
fn waiting_senders_are_served_in_fifo_order() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut senders: Vec<_> = (1..=3).map(|i| polled(tx.send(i))).collect();
    for s in &mut senders {
        s.pending();
    }
    for i in 0..3 {
        assert_eq!(rx.try_recv(), Ok(i as u32));
        // Only the next sender in line is woken.
        for (j, s) in senders.iter().enumerate() {
            assert_eq!(s.wakes(), usize::from(j <= i), "after recv {i}");
        }
        senders[i].ready().unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn waiting_receivers_are_served_in_fifo_order() {
    let (tx, rx) = bounded(4);
    let mut receivers: Vec<_> = (0..3).map(|_| polled(rx.recv())).collect();
    for r in &mut receivers {
        r.pending();
    }
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    // Each value is bound to its receiver, whatever order they re-poll in.
    assert_eq!(receivers[2].ready(), Ok(2));
    assert_eq!(receivers[0].ready(), Ok(0));
    assert_eq!(receivers[1].ready(), Ok(1));
}

#[test]
fn try_send_and_try_recv_never_barge_past_waiters() {
    let (tx, rx) = bounded(1);
    let mut r = polled(rx.recv());
    r.pending();
    tx.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "1 belongs to r");
    assert_eq!(r.ready(), Ok(1));

    tx.try_send(2).unwrap();
    let mut s = polled(tx.send(3));
    s.pending();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(
        tx.try_send(4),
        Err(TrySendError::Full(4)),
        "slot belongs to s"
    );
    assert!(tx.try_reserve().is_err());
    s.ready().unwrap();
}

// ---------------------------------------------------------------------------
// Values dropped exactly once.

#[test]
fn queued_values_are_dropped_exactly_once_with_the_channel() {
    let (count, v) = drops();
    {
        let (tx, rx) = bounded(4);
        for i in 0..3 {
            tx.try_send(v(i)).unwrap();
        }
        drop(rx.try_recv().unwrap());
        assert_eq!(count.load(Ordering::SeqCst), 1);
        drop(tx);
        // Closed but not drained: the two values wait for the receiver.
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
    assert_eq!(count.load(Ordering::SeqCst), 3);

    let (count, v) = drops();
    {
        let ch = Channel::<Counted, 3>::new();
        ch.try_send(v(0)).unwrap();
        ch.try_send(v(1)).unwrap();
        let mut r = polled(async {
            let _ = ch.recv().await;
        });
        r.ready();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn dropping_every_receiver_drops_queued_values_at_once_and_fails_senders() {
    let (count, v) = drops();
    let (tx, rx) = bounded(2);
    let rx2 = rx.clone();
    tx.try_send(v(0)).unwrap();
    tx.try_send(v(1)).unwrap();
    let mut waiting = polled(tx.send(v(2)));
    waiting.pending();
    drop(rx);
    assert_eq!(count.load(Ordering::SeqCst), 0);
    drop(rx2);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(waiting.woken());
    let SendError(back) = waiting.ready().unwrap_err();
    assert_eq!(back.0, 2);
    drop(waiting);
    assert!(tx.is_closed());
    drop(back);
    drop(tx);
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

// ---------------------------------------------------------------------------
// Close and drain.

#[test]
fn close_fails_senders_and_lets_receivers_drain() {
    let (tx, rx) = bounded(2);
    tx.try_send(1).unwrap();
    assert!(rx.close());
    assert!(!tx.close(), "already closed");
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(polled(tx.send(3)).ready(), Err(SendError(3)));
    assert!(polled(tx.reserve()).ready().is_err());
    assert_eq!(polled(rx.recv()).ready(), Ok(1));
    assert!(polled(rx.recv()).ready().is_err());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn close_wakes_waiting_senders_with_their_values() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut a = polled(tx.send(1));
    let mut b = polled(tx.reserve());
    a.pending();
    b.pending();
    tx.close();
    assert!(a.woken() && b.woken());
    assert_eq!(a.ready(), Err(SendError(1)));
    assert!(b.ready().is_err());
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn close_wakes_waiting_receivers_once_nothing_is_left() {
    let (tx, rx) = bounded::<u8>(1);
    let mut a = polled(rx.recv());
    let mut b = polled(rx.recv());
    a.pending();
    b.pending();
    drop(tx); // the last sender closes the channel
    assert!(a.woken() && b.woken());
    assert!(a.ready().is_err());
    assert!(b.ready().is_err());
}

#[test]
fn receivers_wait_for_outstanding_permits_after_close() {
    let (tx, rx) = bounded(2);
    let permit = tx.try_reserve().unwrap();
    let unused = tx.try_reserve().unwrap();
    tx.close();
    let mut r = polled(rx.recv());
    r.pending();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    permit.send(1);
    assert_eq!(r.ready(), Ok(1));
    let mut r2 = polled(rx.recv());
    r2.pending();
    drop(unused);
    assert!(
        r2.woken(),
        "the last outstanding permit drained the channel"
    );
    assert!(r2.ready().is_err());
}

#[test]
fn a_sender_granted_a_slot_before_close_still_delivers() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut s = polled(tx.send(1));
    s.pending();
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot to s
    tx.close();
    s.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_slot_freed_after_close_is_not_granted_to_a_waiting_sender() {
    let (tx, rx) = bounded(1);
    tx.try_send(0).unwrap();
    let mut s = polled(tx.send(1));
    s.pending();
    rx.close();
    assert!(s.woken());
    assert_eq!(rx.try_recv(), Ok(0)); // frees the slot after the close
    assert_eq!(s.ready(), Err(SendError(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn closed_future_completes_on_close_from_either_side() {
    let (tx, rx) = bounded::<u8>(1);
    let mut a = polled(tx.closed());
    let mut b = polled(rx.closed());
    a.pending();
    b.pending();
    let mut dropped = polled(tx.closed());
    dropped.pending();
    drop(dropped);
    rx.close();
    assert!(a.woken() && b.woken());
    a.ready();
    b.ready();
    polled(tx.closed()).ready();
}

// ---------------------------------------------------------------------------
// Shutdown (Python 3.13) and completion tracking.

#[test]
fn graceful_shutdown_lets_consumers_drain_then_fail() {
    let (tx, rx) = tracked(4);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    let mut join = polled(tx.join());
    join.pending();
    tx.close();
    let mut got = Vec::new();
    while let Ok(task) = rx.try_recv_task() {
        got.push(task.done());
    }
    assert_eq!(got, [0, 1, 2]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(join.woken());
    join.ready();
}

#[test]
fn immediate_shutdown_discards_queued_values_and_releases_join() {
    let (count, v) = drops();
    let (tx, rx) = tracked(4);
    for i in 0..3 {
        tx.try_send(v(i)).unwrap();
    }
    let in_hand = rx.try_recv().unwrap(); // received, not yet done
    let mut join = polled(tx.join());
    join.pending();
    let mut r = polled(rx.recv());
    assert_eq!(rx.shutdown_immediate(), 2);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(r.ready().is_err(), "receivers fail at once");
    assert_eq!(tx.unfinished_tasks(), 1);
    join.pending();
    drop(in_hand);
    rx.task_done().unwrap();
    assert!(join.woken());
    join.ready();
}

#[test]
fn a_receiver_woken_with_a_value_keeps_it_through_an_immediate_shutdown() {
    let (tx, rx) = tracked(2);
    let mut woken = polled(rx.recv());
    woken.pending();
    let mut idle = polled(rx.recv());
    idle.pending();
    tx.try_send(1).unwrap();
    assert!(woken.woken());
    // The value is in the woken receiver's hands, not queued.
    assert_eq!(tx.shutdown_immediate(), 0);
    assert!(idle.woken());
    assert!(
        idle.ready().is_err(),
        "nothing was handed to it: fails at once"
    );
    assert_eq!(woken.ready(), Ok(1));
    assert_eq!(tx.unfinished_tasks(), 1);
    rx.task_done().unwrap();
    polled(tx.join()).ready();
}

#[test]
fn task_done_more_often_than_received_is_an_error() {
    let (tx, rx) = tracked(2);
    assert!(rx.task_done().is_err());
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(rx.task_done().is_err(), "sent but not received");
    rx.try_recv().unwrap();
    rx.task_done().unwrap();
    assert!(rx.task_done().is_err());
    assert_eq!(rx.unfinished_tasks(), 1);
}

#[test]
fn task_guard_marks_done_on_drop_or_done() {
    let (tx, rx) = tracked(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let mut join = polled(tx.join());
    join.pending();
    let mut t1 = polled(rx.recv_task()).ready().unwrap();
    *t1 += 10;
    assert_eq!(*t1, 11);
    let t2 = rx.try_recv_task().unwrap();
    assert_eq!(tx.unfinished_tasks(), 2);
    drop(t1);
    assert_eq!(tx.unfinished_tasks(), 1);
    assert!(!join.woken());
    assert_eq!(t2.done(), 2);
    assert!(join.woken());
    join.ready();
    assert!(rx.task_done().is_err(), "the guards did the counting");
}

#[test]
fn dropped_woken_recv_task_passes_the_value_on_without_counting_it() {
    let (tx, rx) = tracked(1);
    let mut a = polled(rx.recv_task());
    let mut b = polled(rx.recv_task());
    a.pending();
    b.pending();
    tx.try_send(1).unwrap();
    drop(a);
    let task = b.ready().unwrap();
    assert!(rx.task_done().is_err(), "the guard holds the count");
    drop(task);
    polled(tx.join()).ready();
}

#[test]
fn dropping_every_receiver_releases_join() {
    let (tx, rx) = tracked(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    rx.try_recv().unwrap(); // received, never marked done
    let mut join = polled(tx.join());
    join.pending();
    drop(rx);
    assert!(join.woken());
    join.ready();
    assert_eq!(tx.unfinished_tasks(), 0);
}

#[test]
fn force_send_displaces_the_oldest_value() {
    let (tx, rx) = tracked(2);
    assert_eq!(tx.force_send(1), Ok(None));
    assert_eq!(tx.force_send(2), Ok(None));
    assert_eq!(tx.force_send(3), Ok(Some(1)));
    assert_eq!(
        tx.unfinished_tasks(),
        2,
        "the displaced value counts as finished"
    );
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    // Nothing to displace while every slot is reserved.
    let _p1 = tx.try_reserve().unwrap();
    let _p2 = tx.try_reserve().unwrap();
    assert_eq!(tx.force_send(4), Err(TrySendError::Full(4)));
    tx.close();
    assert_eq!(tx.force_send(5), Err(TrySendError::Closed(5)));
}

// ---------------------------------------------------------------------------
// Batches, Stream, Sink, the inline channel.

#[test]
fn recv_many_waits_for_one_then_takes_what_is_there() {
    let (tx, rx) = bounded(8);
    let mut buf = Vec::new();
    let mut r = polled(rx.recv_many(&mut buf, 3));
    r.pending();
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(r.ready(), Ok(3));
    drop(r);
    assert_eq!(buf, [0, 1, 2]);
    assert_eq!(polled(rx.recv_many(&mut buf, 0)).ready(), Ok(0));
    assert_eq!(polled(rx.recv_many(&mut buf, 10)).ready(), Ok(2));
    assert_eq!(buf, [0, 1, 2, 3, 4]);
    drop(tx);
    assert!(polled(rx.recv_many(&mut buf, 10)).ready().is_err());
}

#[test]
fn recv_many_grants_every_freed_slot_to_the_waiting_senders() {
    let (tx, rx) = bounded(20);
    for i in 0..20 {
        tx.try_send(i).unwrap();
    }
    let mut senders: Vec<_> = (20..40).map(|i| polled(tx.send(i))).collect();
    for s in &mut senders {
        s.pending();
    }
    let mut buf = Vec::new();
    assert_eq!(polled(rx.recv_many(&mut buf, 20)).ready(), Ok(20));
    assert!(senders.iter().all(|s| s.wakes() == 1), "all 20 granted");
    for s in &mut senders {
        s.ready().unwrap();
    }
    assert_eq!(rx.len(), 20);
}

#[test]
fn stream_yields_values_then_ends_when_closed_and_drained() {
    let (tx, mut rx) = bounded(2);
    let mut next = polled(rx.next());
    next.pending();
    tx.try_send(1).unwrap();
    assert_eq!(next.ready(), Some(1));
    drop(next);
    tx.try_send(2).unwrap();
    drop(tx);
    assert_eq!(polled(rx.next()).ready(), Some(2));
    assert_eq!(polled(rx.next()).ready(), None);
    assert_eq!(polled(rx.next()).ready(), None);
}

#[test]
fn a_receiver_dropped_while_its_stream_was_woken_loses_nothing() {
    let (tx, mut rx) = bounded(1);
    let other = rx.clone();
    {
        let mut next = polled(rx.next());
        next.pending();
    }
    // The stream's node stays queued after the `Next` future is dropped...
    tx.try_send(1).unwrap();
    // ...and is woken, but the value stays queued, for anyone.
    assert_eq!(other.len(), 1);
    drop(rx);
    assert_eq!(other.try_recv(), Ok(1));
}

#[test]
fn a_direct_receive_reaches_a_value_sent_while_a_dropped_next_left_the_stream_queued() {
    // One receiver, capacity 1: a value handed to the stale stream place
    // would be out of reach of `try_recv`, and a `recv` would then wait
    // behind it forever, with the sender blocked on the full channel. A
    // stream is never handed a value, so the value stays queued.
    let (tx, mut rx) = bounded(1);
    polled(rx.next()).pending();
    tx.try_send(1).unwrap();
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(2).unwrap();

    polled(rx.next()).ready();
    polled(rx.next()).pending();
    tx.try_send(3).unwrap();
    assert_eq!(polled(rx.recv()).ready(), Ok(3));
    let mut buf = Vec::new();
    polled(rx.next()).pending();
    tx.try_send(4).unwrap();
    assert_eq!(polled(rx.recv_many(&mut buf, 8)).ready(), Ok(1));
    assert_eq!(buf, [4]);
    assert!(rx.is_empty());
}

#[test]
fn a_value_goes_past_a_stale_stream_place_to_the_waiting_receiver() {
    let (tx, mut rx) = bounded(1);
    let other = rx.clone();
    polled(rx.next()).pending();
    let mut waiting = polled(other.recv());
    waiting.pending();
    tx.try_send(1).unwrap();
    // The stream was first in line, but a stream is never handed a value.
    assert_eq!(waiting.wakes(), 1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(waiting.ready(), Ok(1));
    // The stream, still queued, is woken for the next value and takes it.
    let mut next = polled(rx.next());
    next.pending();
    tx.try_send(2).unwrap();
    assert!(next.woken());
    assert_eq!(next.ready(), Some(2));
}

#[test]
fn a_stream_left_queued_by_a_direct_receive_loses_nothing_when_polled_or_dropped() {
    let (tx, mut rx) = bounded::<u32>(2);
    let other = rx.clone();
    polled(rx.next()).pending();
    // A direct receive leaves the stream's place alone; the next value is
    // buffered for anyone rather than handed to it.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(other.try_recv(), Ok(1));
    tx.try_send(2).unwrap();
    assert_eq!(polled(rx.next()).ready(), Some(2));
    // Queued, then dropped: nothing to pass on, nothing lost.
    polled(rx.next()).pending();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(rx);
    tx.try_send(3).unwrap();
    assert_eq!(other.try_recv(), Ok(3));
}

#[test]
fn streams_are_fused_once_the_channel_is_closed_and_drained() {
    use futures::stream::FusedStream;
    let (tx, mut rx) = bounded(1);
    tx.try_send(1).unwrap();
    tx.close();
    assert!(!rx.is_terminated(), "a value is still queued");
    assert_eq!(polled(rx.next()).ready(), Some(1));
    assert!(rx.is_terminated());
    assert_eq!(polled(rx.next()).ready(), None);

    let ch: Channel<u32, 1> = Channel::new();
    let mut stream = core::pin::pin!(ch.stream());
    assert!(!stream.is_terminated());
    ch.try_send(1).unwrap();
    ch.close();
    assert!(!stream.is_terminated());
    assert_eq!(polled(stream.next()).ready(), Some(1));
    assert!(stream.is_terminated());
}

#[test]
fn sink_reserves_then_sends_and_close_drops_the_sender() {
    let (tx, rx) = bounded(1);
    let mut sink = tx.into_sink();
    polled(sink.send(1)).ready().unwrap();
    let mut second = polled(sink.send(2));
    second.pending();
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(second.woken());
    second.ready().unwrap();
    drop(second);
    assert_eq!(rx.try_recv(), Ok(2));
    polled(sink.close()).ready().unwrap();
    assert!(sink.sender().is_none());
    assert!(rx.is_closed(), "the sink held the last sender");
    assert!(polled(sink.send(3)).ready().is_err());
}

#[test]
fn a_dropped_sink_gives_its_reserved_slot_back() {
    let (tx, rx) = bounded(1);
    let tx2 = tx.clone();
    let mut sink = tx.into_sink();
    polled(futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx)))
        .ready()
        .unwrap();
    assert!(tx2.try_send(1).is_err());
    drop(sink);
    tx2.try_send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn inline_stream_yields_values_then_ends_when_closed_and_drained() {
    let ch = Channel::<u32, 2>::new();
    let mut stream = std::pin::pin!(ch.stream());
    let mut next = polled(stream.next());
    next.pending();
    ch.try_send(1).unwrap();
    assert!(next.woken());
    assert_eq!(next.ready(), Some(1));
    drop(next);
    ch.try_send(2).unwrap();
    ch.close();
    assert_eq!(polled(stream.next()).ready(), Some(2));
    assert_eq!(polled(stream.next()).ready(), None);
    assert_eq!(polled(stream.next()).ready(), None);
}

#[test]
fn an_inline_stream_waits_between_next_calls_but_a_waiting_recv_is_served_first() {
    let ch = Channel::<u32, 1>::new();
    let mut stream = std::pin::pin!(ch.stream());
    polled(stream.next()).pending();
    // Queued behind the stream, whose `Next` future is gone.
    let mut later = polled(ch.recv());
    later.pending();
    ch.try_send(1).unwrap();
    assert!(later.woken(), "a stream is never handed a value");
    assert_eq!(later.ready(), Ok(1));
    // Still queued: a new `next()` only updates its waker, and is woken
    // for the next value.
    let mut next = polled(stream.next());
    next.pending();
    ch.try_send(2).unwrap();
    assert!(next.woken());
    assert_eq!(next.ready(), Some(2));
}

#[test]
fn a_dropped_queued_inline_stream_loses_nothing() {
    let ch = Channel::<u32, 1>::new();
    {
        let mut stream = std::pin::pin!(ch.stream());
        polled(stream.next()).pending();
    }
    ch.try_send(1).unwrap();
    assert_eq!(ch.try_recv(), Ok(1));
}

#[test]
fn an_inline_stream_dropped_around_a_send_loses_nothing() {
    let ch = Channel::<u32, 1>::new();
    let mut other = polled(ch.recv());
    {
        let mut stream = std::pin::pin!(ch.stream());
        polled(stream.next()).pending();
        other.pending();
        // The stream is first in line, but the value goes to the `recv`.
        ch.try_send(1).unwrap();
        assert!(other.woken());
    }
    assert_eq!(other.ready(), Ok(1));
    // Woken for a value with nobody else waiting, then dropped unpolled:
    // the value is still queued.
    {
        let mut stream = std::pin::pin!(ch.stream());
        let mut next = polled(stream.next());
        next.pending();
        ch.try_send(2).unwrap();
        assert!(next.woken());
    }
    assert_eq!(ch.len(), 1);
    assert_eq!(ch.try_recv(), Ok(2));
}

#[test]
fn inline_sink_reserves_then_sends_and_close_ends_only_the_sink() {
    let ch = Channel::<u32, 1>::new();
    let mut sink = std::pin::pin!(ch.sink());
    polled(sink.send(1)).ready().unwrap();
    let mut second = polled(sink.send(2));
    second.pending();
    assert_eq!(ch.try_recv(), Ok(1));
    assert!(second.woken());
    second.ready().unwrap();
    drop(second);
    assert_eq!(ch.try_recv(), Ok(2));
    polled(sink.close()).ready().unwrap();
    assert!(!ch.is_closed(), "closing the sink leaves the channel open");
    assert_eq!(polled(sink.send(3)).ready(), Err(SendError(())));
    ch.try_send(4).unwrap();
    assert_eq!(ch.try_recv(), Ok(4));
}

#[test]
fn an_inline_sink_gives_its_reserved_slot_back_when_closed_or_dropped() {
    let ch = Channel::<u32, 1>::new();
    {
        let mut sink = std::pin::pin!(ch.sink());
        polled(futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx)))
            .ready()
            .unwrap();
        assert!(ch.try_send(1).is_err(), "the slot is reserved");
    }
    ch.try_send(1).unwrap();
    assert_eq!(ch.try_recv(), Ok(1));
    let mut sink = std::pin::pin!(ch.sink());
    polled(futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx)))
        .ready()
        .unwrap();
    polled(sink.close()).ready().unwrap();
    ch.try_send(2).unwrap();
}

#[test]
fn a_dropped_queued_inline_sink_leaves_the_senders_queue() {
    let ch = Channel::<u32, 1>::new();
    ch.try_send(0).unwrap();
    let mut later = polled(ch.send(2));
    {
        let mut sink = std::pin::pin!(ch.sink());
        polled(futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx))).pending();
        later.pending();
    }
    assert_eq!(ch.try_recv(), Ok(0));
    assert!(later.woken(), "the freed slot went past the dropped sink");
    later.ready().unwrap();
    assert_eq!(ch.try_recv(), Ok(2));
}

#[test]
fn an_inline_sink_dropped_after_being_granted_a_slot_passes_it_on() {
    let ch = Channel::<u32, 1>::new();
    ch.try_send(0).unwrap();
    let mut later = polled(ch.send(2));
    {
        let mut sink = std::pin::pin!(ch.sink());
        let mut ready = polled(futures::future::poll_fn(|cx| sink.poll_ready_unpin(cx)));
        ready.pending();
        later.pending();
        assert_eq!(ch.try_recv(), Ok(0));
        assert!(ready.woken(), "granted to the sink, first in line");
        assert!(!later.woken());
    }
    assert!(later.woken(), "the granted slot passed on");
    later.ready().unwrap();
    assert_eq!(ch.try_recv(), Ok(2));
}

#[test]
#[should_panic(expected = "start_send called without a successful poll_ready")]
fn sink_start_send_without_poll_ready_panics() {
    let (tx, _rx) = bounded(1);
    let mut sink = tx.into_sink();
    let _ = sink.start_send_unpin(1);
}

#[test]
#[should_panic(expected = "start_send called without a successful poll_ready")]
fn inline_sink_start_send_without_poll_ready_panics() {
    let ch = Channel::<u32, 1>::new();
    let mut sink = std::pin::pin!(ch.sink());
    let _ = sink.start_send_unpin(1);
}

static STATIC_QUEUE: Channel<u32, 2, Tracked> = Channel::new();

#[test]
fn inline_channel_in_a_static_has_the_same_semantics() {
    let ch = &STATIC_QUEUE;
    assert_eq!(ch.capacity(), 2);
    ch.try_send(1).unwrap();
    polled(ch.send(2)).ready().unwrap();
    let mut third = polled(ch.send(3));
    third.pending();
    let mut join = polled(ch.join());
    join.pending();
    assert_eq!(ch.try_recv(), Ok(1));
    third.ready().unwrap();
    ch.task_done().unwrap();
    let t = polled(ch.recv_task()).ready().unwrap();
    assert_eq!(t.done(), 2);
    assert_eq!(ch.unfinished_tasks(), 1);
    assert!(ch.close());
    assert_eq!(ch.try_recv_task().unwrap().done(), 3);
    assert!(join.woken());
    join.ready();
    assert_eq!(ch.try_recv(), Err(TryRecvError::Closed));
}

#[test]
#[should_panic(expected = "channel capacity must be at least 1")]
fn capacity_zero_panics_with_the_reason() {
    let _ = bounded::<u8>(0);
}

#[test]
#[should_panic(expected = "channel capacity must be at least 1")]
fn inline_capacity_zero_panics_with_the_reason() {
    let _ = Channel::<u8, 0>::new();
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let (tx, rx) = bounded::<u8>(1);
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.send(1));
    send(&rx.recv());
    send(&tx.reserve());
    let (ttx, trx) = tracked::<u8>(1);
    send(&ttx.join());
    send(&trx.recv_task());
    send_sync(&Channel::<u8, 1, Tracked>::new());
    let sink = tx.clone().into_sink();
    send(&sink);
}

#[test]
fn counts_and_debug() {
    let (tx, rx) = bounded::<u8>(3);
    let tx2 = tx.clone();
    let rx2 = rx.clone();
    assert_eq!((tx.sender_count(), tx.receiver_count()), (2, 2));
    drop((tx2, rx2));
    assert_eq!((rx.sender_count(), rx.receiver_count()), (1, 1));
    assert!(format!("{tx:?}").contains("capacity: 3"));
    assert!(format!("{:?}", tx.send(1)).contains("Send"));
}

// ---------------------------------------------------------------------------
// A waker whose `clone` panics, on the first poll that must queue (it clones
// under the channel's lock): the future stays unqueued and the channel
// consistent.

#[test]
fn panicking_waker_clone_in_a_queuing_send_leaves_the_channel_consistent() {
    use std::future::Future;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::task::Context;
    let (tx, rx) = bounded(1);
    tx.try_send(1).unwrap();
    let bad = panicking_clone_waker();
    let mut send = Box::pin(tx.send(2));
    let poll = catch_unwind(AssertUnwindSafe(|| {
        send.as_mut().poll(&mut Context::from_waker(&bad))
    }));
    assert!(poll.is_err());
    drop(send);
    // Nothing queued: the freed slot goes to a fresh sender, not to a ghost.
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn panicking_waker_clone_in_a_queuing_recv_leaves_the_channel_consistent() {
    use std::future::Future;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::task::Context;
    let (tx, rx) = bounded::<u32>(1);
    let bad = panicking_clone_waker();
    let mut recv = Box::pin(rx.recv());
    let poll = catch_unwind(AssertUnwindSafe(|| {
        recv.as_mut().poll(&mut Context::from_waker(&bad))
    }));
    assert!(poll.is_err());
    drop(recv);
    // Nothing queued: a value sent now stays buffered for the next receiver.
    tx.try_send(7).unwrap();
    assert_eq!(tx.len(), 1);
    let mut again = polled(rx.recv());
    assert_eq!(again.ready(), Ok(7));
}

#[test]
fn a_panicking_wake_past_a_stream_place_still_closes_when_every_receiver_is_gone() {
    let (tx, mut rx) = bounded::<u32>(1);
    let rx2 = rx.clone();
    // rx's stream queues first; the `next()` future is dropped, the place stays.
    polled(rx.next()).pending();
    // rx2 queues second, in a task whose waker panics when woken.
    let mut waiting = Polled::with_hook(rx2.recv(), || panic!("wake failed"));
    waiting.pending();
    // 1 goes past the stream place to rx2's recv, whose wake panics.
    assert!(catch_unwind(AssertUnwindSafe(|| tx.try_send(1))).is_err());
    drop(rx);
    drop(waiting); // 1 goes back to the buffer
    drop(rx2);
    // Every receiver is gone: the channel must be closed (and the queued
    // value discarded), or a sender waits on the full channel forever.
    let mut send = polled(tx.send(2));
    assert!(
        tx.is_closed(),
        "every receiver dropped, yet not closed; receiver_count() = {}",
        tx.receiver_count()
    );
    assert!(send.ready().is_err());
}

#[test]
fn a_panicking_value_drop_while_the_last_receiver_drops_its_stream_place_still_releases_join() {
    let (tx, mut rx) = tracked::<PanicOnDrop>(2);
    tx.try_send(PanicOnDrop(false)).unwrap();
    let received = rx.try_recv().unwrap(); // received, never marked done
    polled(rx.next()).pending(); // the stream's place stays queued
    tx.try_send(PanicOnDrop(true)).unwrap(); // queued: streams hold nothing
    assert_eq!(tx.len(), 1);
    drop(received);
    let mut join = polled(tx.join());
    join.pending();
    // The last receiver goes with its stream place: the queued value is
    // discarded (its drop panics). As when nothing panics, join() must be
    // released, since no received value can be marked done any more.
    assert!(catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
    assert_eq!(
        (tx.unfinished_tasks(), tx.receiver_count()),
        (0, 0),
        "(unfinished, receivers) after the last receiver was dropped"
    );
    assert!(join.woken());
    join.ready();
}

#[test]
fn a_panicking_sender_wake_during_a_task_receive_does_not_lose_the_task() {
    let (tx, rx) = tracked::<u32>(1);
    tx.try_send(1).unwrap();
    // A sender waits for the slot; its task's waker panics when woken.
    let mut sender = Polled::with_hook(tx.send(2), || panic!("wake failed"));
    sender.pending();
    // Taking 1 grants the freed slot to that sender, whose wake panics.
    let got = catch_unwind(AssertUnwindSafe(|| {
        rx.try_recv_task().map(|task| task.done())
    }));
    assert!(got.is_err(), "the wake's panic reaches the receiver");
    drop(sender);
    // Drain whatever is left and mark it all done: join() must complete.
    while let Ok(task) = rx.try_recv_task() {
        drop(task);
    }
    assert!(rx.task_done().is_err(), "nothing received is unmarked");
    assert_eq!(
        tx.unfinished_tasks(),
        0,
        "1 left the channel and was dropped, but no Task existed to mark it done"
    );
    polled(tx.join()).ready();
}

#[test]
fn a_reserve_granted_before_an_immediate_shutdown_fails_like_a_send_does() {
    let (tx, rx) = bounded::<u32>(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let mut send = polled(tx.send(2));
    let mut reserve = polled(tx.reserve());
    send.pending();
    reserve.pending();
    // Two slots free up: one granted to each waiter, neither re-polled yet.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(send.woken() && reserve.woken());
    rx.shutdown_immediate();
    // The send fails and hands its value back...
    assert!(matches!(send.ready(), Err(SendError(2))));
    // ...but the reserve succeeds with a permit that silently drops what it
    // is given (a Sink's poll_ready/start_send likewise report success).
    assert!(
        reserve.ready().is_err(),
        "reserve() succeeded on a channel shut down immediately"
    );
}

// ---------------------------------------------------------------------------
// Idle streams (issue 13 §1): a stream whose `next()` future was dropped
// keeps a place in the queue, but that place is never handed a value. A
// value sent meanwhile stays within reach of every other receiver, and the
// channel still closes and drains.

#[test]
fn a_value_sent_while_an_idle_receiver_stream_waits_reaches_every_other_receiver() {
    let (tx, rx) = bounded::<u32>(1);
    let mut idle = rx.clone();
    polled(idle.next()).pending(); // the `Next` future is dropped, `idle` kept
    tx.try_send(7).unwrap();
    drop(tx);
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(7), "the idle stream holds the value");
    assert!(polled(rx.recv()).ready().is_err(), "closed and drained");
    assert_eq!(polled(idle.next()).ready(), None);

    // The same, received with a new `recv()`, and with `recv_many`.
    let (tx, rx) = bounded::<u32>(2);
    let mut idle = rx.clone();
    polled(idle.next()).pending();
    tx.try_send(7).unwrap();
    drop(tx);
    assert_eq!(polled(rx.recv()).ready(), Ok(7));
    assert!(polled(rx.recv()).ready().is_err());
    let (tx, rx) = bounded::<u32>(2);
    let mut idle = rx.clone();
    polled(idle.next()).pending();
    tx.try_send(7).unwrap();
    tx.try_send(8).unwrap();
    let mut buf = Vec::new();
    assert_eq!(polled(rx.recv_many(&mut buf, 4)).ready(), Ok(2));
    assert_eq!(buf, [7, 8]);
    drop(idle);
}

#[test]
fn a_recv_already_waiting_behind_an_idle_stream_is_handed_the_value() {
    let (tx, rx) = bounded::<u32>(1);
    let mut idle = rx.clone();
    polled(idle.next()).pending(); // first in line, and idle
    let mut waiting = polled(rx.recv());
    waiting.pending();
    tx.try_send(7).unwrap();
    assert!(waiting.woken(), "the value went past the idle stream");
    assert_eq!(waiting.ready(), Ok(7));
    drop(waiting);
    // Close and drain complete with the idle stream still alive.
    let mut last = polled(rx.recv());
    last.pending();
    drop(tx);
    assert!(last.woken());
    assert!(last.ready().is_err());
    assert_eq!(polled(idle.next()).ready(), None);
}

#[test]
fn an_idle_inline_stream_holds_no_value() {
    let ch = Channel::<u32, 1>::new();
    let mut idle = std::pin::pin!(ch.stream());
    polled(idle.next()).pending();
    ch.try_send(7).unwrap();
    ch.close();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch.try_recv(), Ok(7));
    assert!(polled(ch.recv()).ready().is_err());
    assert_eq!(polled(idle.next()).ready(), None);

    // A `recv` waiting behind it is handed the value at once.
    let ch = Channel::<u32, 1>::new();
    let mut idle = std::pin::pin!(ch.stream());
    polled(idle.next()).pending();
    let mut waiting = polled(ch.recv());
    waiting.pending();
    ch.try_send(7).unwrap();
    assert!(waiting.woken());
    assert_eq!(waiting.ready(), Ok(7));
    drop(waiting);
    let mut last = polled(ch.recv());
    last.pending();
    ch.close();
    assert!(last.woken() && last.ready().is_err());
    assert_eq!(polled(idle.next()).ready(), None);
}

#[test]
fn join_completes_while_an_idle_stream_waits_once_another_receiver_marks_the_value_done() {
    // Received with `recv_task`, already waiting behind the idle stream.
    let (tx, rx) = tracked::<u32>(2);
    let mut idle = rx.clone();
    polled(idle.next()).pending();
    let mut task = polled(rx.recv_task());
    task.pending();
    tx.try_send(7).unwrap();
    {
        let mut join = polled(tx.join());
        join.pending();
        assert!(task.woken());
        let t = task.ready().unwrap();
        assert_eq!(*t, 7);
        join.pending();
        drop(t);
        assert!(join.woken());
        join.ready();
    }
    // Received with `try_recv` and `task_done`, then closed and drained.
    tx.try_send(8).unwrap();
    {
        let mut join = polled(tx.join());
        join.pending();
        assert_eq!(tx.unfinished_tasks(), 1);
        assert_eq!(rx.try_recv(), Ok(8));
        rx.task_done().unwrap();
        assert!(join.woken());
        join.ready();
    }
    drop(task);
    drop(tx);
    assert!(polled(rx.recv()).ready().is_err());
    assert_eq!(polled(idle.next()).ready(), None);

    // The inline tracked flavour.
    let ch = Channel::<u32, 1, Tracked>::new();
    let mut idle = std::pin::pin!(ch.stream());
    polled(idle.next()).pending();
    ch.try_send(7).unwrap();
    let mut join = polled(ch.join());
    join.pending();
    drop(polled(ch.recv_task()).ready().unwrap());
    assert!(join.woken());
    join.ready();
    assert_eq!(ch.unfinished_tasks(), 0);
}

#[test]
fn every_polling_stream_makes_progress_while_an_idle_one_holds_nothing() {
    let (tx, rx) = bounded::<u32>(4);
    let mut idle = rx.clone();
    polled(idle.next()).pending(); // first in line, and idle
    let (mut a, mut b) = (rx.clone(), rx.clone());
    let mut next_a = polled(a.next());
    let mut next_b = polled(b.next());
    next_a.pending();
    next_b.pending();
    tx.try_send(1).unwrap();
    // Each waiting stream is woken; the first to poll takes the value.
    assert!(next_a.woken() && next_b.woken());
    assert_eq!(next_b.ready(), Some(1));
    next_a.pending(); // nothing left: it waits again
    drop(next_b);
    tx.try_send(2).unwrap();
    assert_eq!(next_a.wakes(), 2);
    assert_eq!(next_a.ready(), Some(2));
    drop(next_a);
    // A value arriving with no polling stream left waits for anyone.
    tx.try_send(3).unwrap();
    assert_eq!(polled(b.next()).ready(), Some(3));
    drop(tx);
    assert_eq!(polled(a.next()).ready(), None);
    assert_eq!(polled(idle.next()).ready(), None);

    // Inline streams.
    let ch = Channel::<u32, 4>::new();
    let mut idle = std::pin::pin!(ch.stream());
    polled(idle.next()).pending();
    let mut a = std::pin::pin!(ch.stream());
    let mut b = std::pin::pin!(ch.stream());
    let mut next_a = polled(a.next());
    next_a.pending();
    {
        let mut next_b = polled(b.next());
        next_b.pending();
        ch.try_send(1).unwrap();
        ch.try_send(2).unwrap();
        assert!(next_a.woken() && next_b.woken());
        assert_eq!(next_b.ready(), Some(1));
    }
    assert_eq!(next_a.ready(), Some(2));
    drop(next_a);
    assert!(ch.is_empty());
}

#[test]
fn a_stream_next_dropped_while_queued_loses_nothing() {
    let (tx, rx) = bounded::<u32>(1);
    let mut s = rx.clone();
    polled(s.next()).pending();
    let mut other = rx.clone();
    let mut other_next = polled(other.next());
    other_next.pending();
    tx.try_send(1).unwrap();
    // The polling stream gets it, whatever the idle one was.
    assert!(other_next.woken());
    assert_eq!(other_next.ready(), Some(1));
    drop(other_next);
    // With nobody else waiting, the value waits in the queue: for the idle
    // stream's own next poll, or for anyone.
    tx.try_send(2).unwrap();
    assert_eq!(polled(s.next()).ready(), Some(2));
    polled(s.next()).pending();
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    // The idle stream dropped while queued: nothing to pass on.
    polled(s.next()).pending();
    drop(s);
    tx.try_send(4).unwrap();
    assert_eq!(rx.try_recv(), Ok(4));
    assert!(rx.is_empty());
}

#[test]
fn a_stream_next_dropped_after_its_wake_up_loses_nothing_and_the_wake_up_passes_on() {
    let (tx, rx) = bounded::<u32>(1);
    let (mut s, mut t) = (rx.clone(), rx.clone());
    let mut next_s = polled(s.next());
    let mut next_t = polled(t.next());
    next_s.pending();
    next_t.pending();
    tx.try_send(1).unwrap();
    assert!(next_s.woken());
    drop(next_s); // woken, never polled again (it lost a select!, say)
                  // The other waiting stream was woken as well and takes the value.
    assert!(next_t.woken());
    assert_eq!(next_t.ready(), Some(1));
    drop(next_t);

    // A woken stream dropped whole: the value waits for the next receiver.
    let mut next_s = polled(s.next());
    next_s.pending();
    tx.try_send(2).unwrap();
    assert!(next_s.woken());
    drop(next_s);
    drop(s);
    assert_eq!(rx.len(), 1);
    let mut later = polled(t.next());
    assert_eq!(later.ready(), Some(2));
    drop(later);

    // A woken stream whose `next()` was dropped, with a `recv` arriving
    // later: the `recv` takes the value, the stream waits again.
    let mut next_t = polled(t.next());
    next_t.pending();
    tx.try_send(3).unwrap();
    drop(next_t);
    assert_eq!(polled(rx.recv()).ready(), Ok(3));
    polled(t.next()).pending();
    drop(tx);
    assert_eq!(polled(t.next()).ready(), None);

    // Inline: a woken stream's `next()` dropped; the other stream gets it.
    let ch = Channel::<u32, 1>::new();
    let mut s = std::pin::pin!(ch.stream());
    let mut t = std::pin::pin!(ch.stream());
    {
        let mut next_s = polled(s.next());
        next_s.pending();
        let mut next_t = polled(t.next());
        next_t.pending();
        ch.try_send(1).unwrap();
        assert!(next_s.woken() && next_t.woken());
        drop(next_s);
        assert_eq!(next_t.ready(), Some(1));
    }
    ch.try_send(2).unwrap();
    assert_eq!(polled(s.next()).ready(), Some(2));
}

#[test]
fn a_panicking_wake_of_one_waiting_stream_does_not_strand_the_others() {
    let (tx, rx) = bounded::<u32>(2);
    let (mut a, mut b, mut c) = (rx.clone(), rx.clone(), rx.clone());
    let mut first = Polled::with_hook(a.next(), || panic!("wake failed"));
    first.pending();
    let mut second = polled(b.next());
    second.pending();
    let mut third = polled(c.next());
    third.pending();
    // The send buffers the value and wakes all three; the first wake panics.
    assert!(catch_unwind(AssertUnwindSafe(|| tx.try_send(1))).is_err());
    assert_eq!(tx.len(), 1, "the value was queued before the wake-ups");
    assert!(second.woken() && third.woken());
    assert_eq!(third.ready(), Some(1));
    second.pending();
    tx.try_send(2).unwrap();
    assert_eq!(second.ready(), Some(2));
}
