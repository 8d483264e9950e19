//! The channel, every shape (SPSC, MPSC, MPMC; capacities 1 to 4 chosen by
//! the schedule), every way in and out of its public API, with cancellations
//! and closes from either side mixed in. Values are [`Value`]s, so the end
//! of every schedule accounts for each one: received exactly once, or
//! returned to its sender in an error, or discarded by a shutdown that
//! reported it, never received unless its send succeeded, in order per
//! sender for every receiver.

use std::pin::pin;

use futures_lite::future::poll_once;
use futures_lite::StreamExt;
use sluicegate::channel::{bounded, Receiver, SendError, Sender, TryRecvError, TrySendError};
use sluicegate_shuttle_tests::ledger::{assert_fifo_per_sender, Ledger, Value};
use sluicegate_shuttle_tests::{check, choose, join_all, or_lose, spawn, yield_now};

/// Who closes the channel, and how, besides the last sender's drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// Nobody: the channel closes when the last sender is dropped.
    Drop,
    /// Sender 0 calls `close()` after its first value.
    BySender,
    /// Receiver 0 calls `close()` after its first receive.
    ByReceiver,
    /// Sender 0 calls `shutdown_immediate()` after its first value.
    ShutdownBySender,
    /// Receiver 0 calls `shutdown_immediate()` after its first receive.
    ShutdownByReceiver,
}

/// How a sender sends (one per value, in turn).
const SEND_WAYS: usize = 6;
/// How a receiver receives (one per turn of its loop, in turn).
const RECV_WAYS: usize = 6;

struct Shape {
    senders: usize,
    receivers: usize,
    per_sender: usize,
    close: Close,
    /// Whether senders use the cancelling ways too.
    cancel_sends: bool,
    /// Whether receivers use the cancelling ways too.
    cancel_recvs: bool,
    /// Whether senders send through permits (`reserve`, then
    /// `Permit::send`). A value sent through a permit after an immediate
    /// shutdown is dropped, as documented, and no shutdown counts it: the
    /// exact shutdown model leaves permits out.
    permits: bool,
}

/// Sends value `seq` of sender `id` in way `way`; records success in the
/// ledger. A value that is not sent is dropped here (in an error, or in the
/// cancelled future), which the ledger records.
async fn send_one(
    tx: &Sender<Value>,
    ledger: &std::sync::Arc<Ledger>,
    id: usize,
    seq: usize,
    way: usize,
) {
    let value = ledger.make(id, seq);
    let key = value.id();
    match way {
        // Awaited to the end.
        0 => {
            if tx.send(value).await.is_ok() {
                ledger.sent(key);
            }
        }
        // Without waiting, then awaited if the channel is full.
        1 => match tx.try_send(value) {
            Ok(()) => ledger.sent(key),
            Err(TrySendError::Full(value)) => {
                if tx.send(value).await.is_ok() {
                    ledger.sent(key);
                }
            }
            Err(TrySendError::Closed(_)) => {}
        },
        // A reserved slot, then the permit's send.
        2 => {
            if let Ok(permit) = tx.reserve().await {
                permit.send(value);
                ledger.sent(key);
            }
        }
        // Polled once by hand and dropped unless done: the value goes
        // with the future and must never be enqueued.
        3 => {
            let mut send = pin!(tx.send(value));
            if let Some(Ok(())) = poll_once(&mut send).await {
                ledger.sent(key);
            }
        }
        // Lost in a select against a yield: polled twice at most.
        4 => {
            if let Some(Ok(())) = or_lose(tx.send(value), yield_now()).await {
                ledger.sent(key);
            }
        }
        // A reservation given up (a granted permit dropped unused, or the
        // future dropped while queued), then an awaited send.
        _ => {
            {
                let mut reserve = pin!(tx.reserve());
                if let Some(Ok(permit)) = poll_once(&mut reserve).await {
                    drop(permit);
                }
            }
            match tx.send(value).await {
                Ok(()) => ledger.sent(key),
                Err(SendError(value)) => drop(value),
            }
        }
    }
}

async fn sender(
    tx: Sender<Value>,
    ledger: std::sync::Arc<Ledger>,
    id: usize,
    (per_sender, close, cancel, permits): (usize, Close, bool, bool),
) {
    let ways: Vec<usize> = (0..SEND_WAYS)
        .filter(|&way| (cancel || way < 3) && (permits || way != 2))
        .collect();
    for seq in 0..per_sender {
        send_one(&tx, &ledger, id, seq, ways[(id + seq) % ways.len()]).await;
        assert!(
            tx.len() <= tx.capacity(),
            "more values queued than the capacity"
        );
        if id == 0 && seq == 0 {
            match close {
                Close::BySender => {
                    tx.close();
                }
                Close::ShutdownBySender => ledger.discarded(tx.shutdown_immediate()),
                _ => {}
            }
        }
    }
}

/// One receive in way `way`: `Some(ids)` taken (maybe none, after a
/// cancellation), `None` once the channel is closed and drained.
async fn recv_one(rx: &mut Receiver<Value>, way: usize) -> Option<Vec<(usize, usize)>> {
    match way {
        0 => rx.recv().await.ok().map(|v| vec![v.receive()]),
        // Without waiting, then awaited if empty.
        1 => match rx.try_recv() {
            Ok(v) => Some(vec![v.receive()]),
            Err(TryRecvError::Empty) => rx.recv().await.ok().map(|v| vec![v.receive()]),
            Err(TryRecvError::Closed) => None,
        },
        // The stream.
        2 => rx.next().await.map(|v| vec![v.receive()]),
        // Up to two at once.
        3 => {
            let mut buf = Vec::new();
            rx.recv_many(&mut buf, 2).await.ok()?;
            Some(buf.into_iter().map(Value::receive).collect())
        }
        // Polled once by hand and dropped unless done: a value handed to
        // it must go on to another receiver.
        4 => {
            let mut recv = pin!(rx.recv());
            match poll_once(&mut recv).await {
                Some(Ok(v)) => Some(vec![v.receive()]),
                Some(Err(_)) => None,
                None => Some(Vec::new()),
            }
        }
        // Lost in a select against a yield.
        _ => match or_lose(rx.recv(), yield_now()).await {
            Some(Ok(v)) => Some(vec![v.receive()]),
            Some(Err(_)) => None,
            None => Some(Vec::new()),
        },
    }
}

async fn receiver(
    mut rx: Receiver<Value>,
    ledger: std::sync::Arc<Ledger>,
    id: usize,
    close: Close,
    cancel: bool,
) -> Vec<(usize, usize)> {
    let ways = if cancel { RECV_WAYS } else { 4 };
    let mut got = Vec::new();
    let mut turn = id;
    while let Some(ids) = recv_one(&mut rx, turn % ways).await {
        turn += 1;
        assert!(
            rx.len() <= rx.capacity(),
            "more values queued than the capacity"
        );
        let first = got.is_empty() && !ids.is_empty();
        got.extend(ids);
        if id == 0 && first {
            match close {
                Close::ByReceiver => {
                    rx.close();
                }
                Close::ShutdownByReceiver => ledger.discarded(rx.shutdown_immediate()),
                _ => {}
            }
        }
    }
    got
}

/// One schedule of `shape`: spawn, join, drain, account.
fn run(shape: &Shape) {
    let capacity = 1 + choose(4);
    let (tx, rx) = bounded::<Value>(capacity);
    let ledger = Ledger::new(shape.senders, shape.per_sender);
    let receivers: Vec<_> = (0..shape.receivers)
        .map(|id| {
            spawn(receiver(
                rx.clone(),
                ledger.clone(),
                id,
                shape.close,
                shape.cancel_recvs,
            ))
        })
        .collect();
    let senders: Vec<_> = (0..shape.senders)
        .map(|id| {
            spawn(sender(
                tx.clone(),
                ledger.clone(),
                id,
                (
                    shape.per_sender,
                    shape.close,
                    shape.cancel_sends,
                    shape.permits,
                ),
            ))
        })
        .collect();
    // The model keeps a receiver, so that no value is discarded by the
    // drop of the last one, and drains it at the end; the channel closes
    // when the last sender task ends.
    drop(tx);
    join_all(senders);
    let mut received = join_all(receivers);
    assert!(rx.is_closed(), "every sender is gone");
    let mut rest = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(v) => rest.push(v.receive()),
            Err(TryRecvError::Closed) => break,
            Err(TryRecvError::Empty) => {
                panic!("a closed channel reported Empty, with len {}", rx.len())
            }
        }
    }
    assert_eq!(rx.len(), 0);
    received.push(rest);
    if !shape.cancel_recvs {
        // A value handed to a receive that is then dropped goes back to the
        // front of the queue, after a newer one may have been taken: only
        // without such cancellations does each receiver see each sender's
        // values in order.
        for got in &received {
            assert_fifo_per_sender(got);
        }
    }
    // A value handed to a woken receive before a shutdown is that
    // receiver's, not the shutdown's: if the receive is then dropped, the
    // value is discarded without being counted in what the shutdown
    // reported; so is one sent through a permit after the shutdown.
    ledger.check(!shape.cancel_recvs && !shape.permits);
    if shape.close == Close::Drop && !shape.cancel_sends {
        // Nothing closed early and nothing cancelled: every value got through.
        assert_eq!(ledger.sent_count(), shape.senders * shape.per_sender);
    }
}

fn model(name: &'static str, iterations: usize, shape: Shape) {
    check(name, iterations, move || run(&shape));
}

const fn shape(senders: usize, receivers: usize, per_sender: usize, close: Close) -> Shape {
    Shape {
        senders,
        receivers,
        per_sender,
        close,
        cancel_sends: false,
        cancel_recvs: false,
        permits: true,
    }
}

impl Shape {
    /// Senders use the cancelling ways too.
    const fn cancel_sends(self) -> Self {
        Self {
            cancel_sends: true,
            ..self
        }
    }

    /// Receivers use the cancelling ways too.
    const fn cancel_recvs(self) -> Self {
        Self {
            cancel_recvs: true,
            ..self
        }
    }

    /// Senders never send through a permit.
    const fn no_permits(self) -> Self {
        Self {
            permits: false,
            ..self
        }
    }
}

/// One sender, one receiver, every way of sending and receiving, nothing
/// cancelled or closed early: every value arrives once, in order.
#[test]
fn spsc_delivers_every_value_once_in_order() {
    model("spsc", 3000, shape(1, 1, 12, Close::Drop));
}

/// The same with sends polled once and dropped, lost in a select, and
/// reservations given up: a cancelled send never enqueues its value, the
/// rest still arrive once and in order.
#[test]
fn spsc_cancelled_sends_never_enqueue_and_the_rest_arrive_in_order() {
    model(
        "spsc-cancel-send",
        3000,
        shape(1, 1, 12, Close::Drop).cancel_sends(),
    );
}

/// Receives cancelled too (polled once and dropped, lost in a select): a
/// value handed to a dropped receive is received later, exactly once.
#[test]
fn spsc_cancelled_receives_lose_and_duplicate_nothing() {
    model(
        "spsc-cancel-both",
        3000,
        shape(1, 1, 12, Close::Drop).cancel_sends().cancel_recvs(),
    );
}

/// 16 senders into one receiver, sends cancelled too: in order per sender.
#[test]
fn mpsc_sixteen_senders_deliver_once_in_order_per_sender() {
    model("mpsc", 1000, shape(16, 1, 3, Close::Drop).cancel_sends());
}

/// 16 senders and 16 receivers, sends cancelled: every receiver sees each
/// sender's values in order.
#[test]
fn mpmc_thirty_two_tasks_deliver_once_in_order_per_sender() {
    model("mpmc", 1000, shape(16, 16, 3, Close::Drop).cancel_sends());
}

/// 16 senders and 16 receivers, sends and receives cancelled.
#[test]
fn mpmc_with_cancellations_accounts_for_every_value() {
    model(
        "mpmc-cancel",
        1000,
        shape(16, 16, 3, Close::Drop).cancel_sends().cancel_recvs(),
    );
}

/// 32 senders and 32 receivers (64 tasks), one value each, sends and
/// receives cancelled.
#[test]
fn mpmc_sixty_four_tasks_account_for_every_value() {
    model(
        "mpmc-64",
        1000,
        shape(32, 32, 1, Close::Drop).cancel_sends().cancel_recvs(),
    );
}

/// A sender closes the channel early while sends, receives and
/// cancellations are under way: sends after it fail with their value,
/// receivers drain what was queued, in order per sender.
#[test]
fn closed_by_a_sender_drains_in_order_and_fails_later_sends() {
    model(
        "close-sender",
        1000,
        shape(12, 12, 3, Close::BySender).cancel_sends(),
    );
}

/// A receiver closes the channel early, receives cancelled too.
#[test]
fn closed_by_a_receiver_drains_and_fails_later_sends() {
    model(
        "close-receiver",
        1000,
        shape(12, 12, 3, Close::ByReceiver)
            .cancel_sends()
            .cancel_recvs(),
    );
}

/// A sender shuts the channel down at once: what it discards is exactly
/// what it reports, and no value is both discarded and received.
#[test]
fn shutdown_by_a_sender_discards_exactly_what_it_reports() {
    model(
        "shutdown-sender",
        1000,
        shape(12, 12, 3, Close::ShutdownBySender)
            .cancel_sends()
            .no_permits(),
    );
}

/// A receiver shuts the channel down at once, receives cancelled and
/// permits used too: a value handed to a receive that is then dropped, or
/// sent through a permit after the shutdown, is discarded on top of what
/// the shutdown reported, and nothing else is lost.
#[test]
fn shutdown_by_a_receiver_loses_nothing_but_what_it_discards() {
    model(
        "shutdown-receiver",
        1000,
        shape(12, 12, 3, Close::ShutdownByReceiver)
            .cancel_sends()
            .cancel_recvs(),
    );
}
