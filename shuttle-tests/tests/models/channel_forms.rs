//! The channel's other forms: the inline `Channel<T, N>` (no allocation,
//! `&self` operations, its pinned stream), and the tracked channel
//! (`join()`, `task_done()`, `recv_task()`), each with many tasks, with
//! the same exact account of every value as `channel.rs`, and for the
//! tracked channel of every unfinished task.

use std::pin::pin;
use std::sync::Arc;

use futures_lite::future::poll_once;
use futures_lite::StreamExt;
use sluicegate::channel::{
    tracked, Channel, Receiver, Sender, Tracked, TryRecvError, TrySendError,
};
use sluicegate_shuttle_tests::ledger::{assert_fifo_per_sender, Ledger, Value};
use sluicegate_shuttle_tests::{block_on, check, choose, join_all, or_lose, spawn, yield_now};

/// Sender `id` of an inline channel: values `0..per_sender`, each sent in
/// turn awaited, without waiting first, through a permit, or polled once
/// and dropped (`cancel`).
async fn inline_sender<const N: usize>(
    ch: &Channel<Value, N>,
    ledger: Arc<Ledger>,
    id: usize,
    per_sender: usize,
    cancel: bool,
) {
    let ways = if cancel { 4 } else { 3 };
    for seq in 0..per_sender {
        let value = ledger.make(id, seq);
        let key = value.id();
        let sent = match (id + seq) % ways {
            0 => ch.send(value).await.is_ok(),
            1 => match ch.try_send(value) {
                Ok(()) => true,
                Err(TrySendError::Full(value)) => ch.send(value).await.is_ok(),
                Err(TrySendError::Closed(_)) => false,
            },
            2 => match ch.reserve().await {
                Ok(permit) => {
                    permit.send(value);
                    true
                }
                Err(_) => false,
            },
            _ => matches!(poll_once(pin!(ch.send(value))).await, Some(Ok(()))),
        };
        if sent {
            ledger.sent(key);
        }
        assert!(ch.len() <= N);
    }
}

/// Receiver `id` of an inline channel, until closed and drained: `recv`,
/// `try_recv`, the pinned stream, or (`cancel`) a receive lost in a select.
async fn inline_receiver<const N: usize>(
    ch: &Channel<Value, N>,
    id: usize,
    cancel: bool,
    close_first: bool,
) -> Vec<(usize, usize)> {
    let ways = if cancel { 4 } else { 3 };
    let mut got = Vec::new();
    let mut turn = id;
    loop {
        let value = match turn % ways {
            0 => ch.recv().await.ok(),
            1 => match ch.try_recv() {
                Ok(v) => Some(v),
                Err(TryRecvError::Empty) => ch.recv().await.ok(),
                Err(TryRecvError::Closed) => None,
            },
            2 => pin!(ch.stream()).next().await,
            _ => match or_lose(ch.recv(), yield_now()).await {
                Some(v) => v.ok(),
                None => {
                    turn += 1;
                    continue;
                }
            },
        };
        turn += 1;
        let Some(value) = value else { break };
        got.push(value.receive());
        if close_first && got.len() == 1 {
            ch.close();
        }
    }
    got
}

/// An inline channel of capacity `N` (a leaked `'static`, one per
/// schedule): 8 senders, 8 receivers; the model closes it once the senders
/// are done, or (`receiver_closes`) receiver 0 does after its first value.
fn inline<const N: usize>(cancel: bool, receiver_closes: bool) {
    let ch: &'static Channel<Value, N> = Box::leak(Box::new(Channel::new()));
    let (senders, receivers, per_sender) = (8, 8, 3);
    let ledger = Ledger::new(senders, per_sender);
    let rx: Vec<_> = (0..receivers)
        .map(|id| {
            spawn(async move { inline_receiver(ch, id, cancel, receiver_closes && id == 0).await })
        })
        .collect();
    let tx: Vec<_> = (0..senders)
        .map(|id| {
            let ledger = ledger.clone();
            spawn(async move { inline_sender(ch, ledger, id, per_sender, cancel).await })
        })
        .collect();
    join_all(tx);
    ch.close();
    let mut received = join_all(rx);
    let mut rest = Vec::new();
    while let Ok(v) = ch.try_recv() {
        rest.push(v.receive());
    }
    assert_eq!(ch.try_recv().unwrap_err(), TryRecvError::Closed);
    received.push(rest);
    if !cancel {
        for got in &received {
            assert_fifo_per_sender(got);
        }
    }
    ledger.check(true);
    if !cancel && !receiver_closes {
        assert_eq!(ledger.sent_count(), senders * per_sender);
    }
}

fn inline_any_capacity(cancel: bool, receiver_closes: bool) {
    match 1 + choose(4) {
        1 => inline::<1>(cancel, receiver_closes),
        2 => inline::<2>(cancel, receiver_closes),
        3 => inline::<3>(cancel, receiver_closes),
        _ => inline::<4>(cancel, receiver_closes),
    }
}

/// The inline channel, capacity 1 to 4, 16 tasks: every value arrives
/// once, in order per sender, through `recv`, `try_recv` and the stream.
#[test]
fn inline_channel_delivers_every_value_once_in_order() {
    check("inline", 600, || inline_any_capacity(false, false));
}

/// The same with cancelled sends and receives, and a receiver closing it.
#[test]
fn inline_channel_with_cancellations_and_a_close_loses_nothing() {
    check("inline-cancel-close", 1000, || {
        inline_any_capacity(true, true)
    });
}

/// A receiver of a tracked channel: each value marked done in turn by
/// dropping its `Task`, by `Task::done`, or by `task_done()` after a plain
/// `recv`; some `recv_task`s polled once and dropped.
async fn tracked_receiver(
    rx: Receiver<Value, Tracked>,
    ledger: Arc<Ledger>,
    id: usize,
    shutdown: bool,
) -> Vec<(usize, usize)> {
    let mut got = Vec::new();
    let mut turn = id;
    loop {
        turn += 1;
        match turn % 4 {
            0 => match rx.recv_task().await {
                Ok(task) => got.push(task.done().receive()),
                Err(_) => break,
            },
            1 => match rx.recv().await {
                Ok(v) => {
                    got.push(v.receive());
                    yield_now().await;
                    rx.task_done().expect("one value received, one marked");
                }
                Err(_) => break,
            },
            2 => match poll_once(pin!(rx.recv_task())).await {
                Some(Ok(task)) => got.push(task.done().receive()),
                Some(Err(_)) => break,
                None => {}
            },
            // Held across a scheduling point before it is marked done.
            _ => match rx.recv_task().await {
                Ok(task) => {
                    yield_now().await;
                    got.push(task.done().receive());
                }
                Err(_) => break,
            },
        }
        if shutdown && id == 0 && got.len() == 1 {
            ledger.discarded(rx.shutdown_immediate());
        }
    }
    got
}

async fn tracked_sender(tx: Sender<Value, Tracked>, ledger: Arc<Ledger>, id: usize) {
    for seq in 0..3 {
        let value = ledger.make(id, seq);
        let key = value.id();
        // Every other value through a permit: one sent after a shutdown is
        // dropped, and must not stay unfinished.
        if (id + seq) % 2 == 1 {
            if let Ok(permit) = tx.reserve().await {
                permit.send(value);
                ledger.sent(key);
            }
        } else if tx.send(value).await.is_ok() {
            ledger.sent(key);
        }
    }
}

/// A tracked channel, capacity 1 to 4: 8 senders (`send` and permits), 8
/// receivers marking each value done in every way, 4 tasks waiting on
/// `join()` (2 on the sender's, 2 on the receiver's): every join returns,
/// and at the end nothing is unfinished. With `shutdown`, receiver 0 shuts
/// the channel down after its first value, and the discarded values count
/// as finished.
fn tracked_model(shutdown: bool) {
    let (tx, rx) = tracked::<Value>(1 + choose(4));
    let ledger = Ledger::new(8, 3);
    let receivers: Vec<_> = (0..8)
        .map(|id| spawn(tracked_receiver(rx.clone(), ledger.clone(), id, shutdown)))
        .collect();
    let joiners: Vec<_> = (0..4)
        .map(|id| {
            let (tx, rx) = (tx.clone(), rx.clone());
            spawn(async move {
                if id % 2 == 0 {
                    tx.join().await
                } else {
                    rx.join().await
                }
            })
        })
        .collect();
    let senders: Vec<_> = (0..8)
        .map(|id| spawn(tracked_sender(tx.clone(), ledger.clone(), id)))
        .collect();
    drop(tx);
    join_all(senders);
    // Receives are cancelled, so each receiver's order is no property here
    // (see `channel.rs`); the inline models check it.
    join_all(receivers);
    join_all(joiners);
    while let Ok(task) = rx.try_recv_task() {
        task.done().receive();
    }
    assert!(rx.is_closed());
    assert_eq!(rx.unfinished_tasks(), 0, "a value was never marked done");
    assert!(
        block_on(poll_once(rx.join())).is_some(),
        "join() waits with nothing unfinished"
    );
    ledger.check(!shutdown);
}

/// The tracked channel, 20 tasks: every value marked done exactly once,
/// every `join()` returns.
#[test]
fn tracked_channel_joins_once_every_value_is_done() {
    check("tracked", 1000, || tracked_model(false));
}

/// The same with an immediate shutdown by a receiver: what it discards
/// counts as done, and `join()` still returns.
#[test]
fn tracked_channel_shut_down_still_joins() {
    check("tracked-shutdown", 1000, || tracked_model(true));
}
