//! `Condition` under every executor of the rig.
mod common;

use std::collections::VecDeque;
use std::sync::Arc;

use futures::future::{select, Either};
use sluicegate::{Condition, Mutex};

/// A shared list guarded by a mutex, with asyncio's producer/consumer
/// condition: consumers wait until an item (or the end) is there.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condition,
}

#[derive(Default)]
struct State {
    items: VecDeque<u64>,
    done: bool,
}

/// Takes items until the producer is done and the list is empty; returns
/// how many it took and their sum.
async fn consume(shared: &Shared) -> (u64, u64) {
    let (mut count, mut sum) = (0, 0);
    loop {
        let mut state = shared
            .changed
            .wait_until(shared.state.lock().await, |s| !s.items.is_empty() || s.done)
            .await;
        match state.items.pop_front() {
            Some(item) => {
                count += 1;
                sum += item;
            }
            None => return (count, sum),
        }
    }
}

#[test]
fn asyncio_producer_consumer_with_condition_delivers_every_item_once() {
    common::run(|ex| async move {
        let shared = Arc::new(Shared::default());
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                ex.spawn(async move { consume(&shared).await })
            })
            .collect();
        for item in 1..=100u64 {
            shared.state.lock().await.items.push_back(item);
            shared.changed.notify_one();
        }
        shared.state.lock().await.done = true;
        shared.changed.notify_all();
        let (mut count, mut sum) = (0, 0);
        for c in consumers {
            let (n, s) = c.await;
            count += n;
            sum += s;
        }
        assert_eq!((count, sum), (100, 5050), "under {}", ex.name());
    });
}

const CAPACITY: usize = 8;

/// A bounded queue on one mutex and two conditions, the textbook way.
#[derive(Default)]
struct Bounded {
    state: Mutex<State>,
    not_empty: Condition,
    not_full: Condition,
}

async fn put(q: &Bounded, item: u64) {
    let mut state = q
        .not_full
        .wait_while(q.state.lock().await, |s| s.items.len() >= CAPACITY)
        .await;
    state.items.push_back(item);
    drop(state);
    q.not_empty.notify_one();
}

async fn take(q: &Bounded) -> Option<u64> {
    let mut state = q
        .not_empty
        .wait_while(q.state.lock().await, |s| s.items.is_empty() && !s.done)
        .await;
    let item = state.items.pop_front();
    drop(state);
    if item.is_some() {
        q.not_full.notify_one();
    }
    item
}

#[test]
fn producers_and_consumers_on_a_bounded_queue_keep_exact_accounting() {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u64 = 2_000;
    common::run(|ex| async move {
        let q = Arc::new(Bounded::default());
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let q = q.clone();
                ex.spawn(async move {
                    let (mut count, mut sum) = (0u64, 0u64);
                    while let Some(item) = take(&q).await {
                        count += 1;
                        sum += item;
                    }
                    (count, sum)
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let q = q.clone();
                ex.spawn(async move {
                    for i in 0..PER_PRODUCER {
                        put(&q, p * PER_PRODUCER + i).await;
                    }
                })
            })
            .collect();
        for p in producers {
            p.await;
        }
        q.state.lock().await.done = true;
        q.not_empty.notify_all();
        let (mut count, mut sum) = (0, 0);
        for c in consumers {
            let (n, s) = c.await;
            count += n;
            sum += s;
        }
        let total = PRODUCERS * PER_PRODUCER;
        assert_eq!(count, total, "under {}", ex.name());
        assert_eq!(sum, total * (total - 1) / 2, "under {}", ex.name());
        assert!(q.state.lock().await.items.is_empty());
    });
}

/// Consumers that keep abandoning their waits (racing each against a
/// yield, so waits are dropped queued, notified, or re-acquiring) still take
/// every item exactly once. Forwarding itself is pinned deterministically in
/// `condition_hand_polled.rs` and by the loom models.
#[test]
fn consumers_abandoning_waits_at_random_keep_exact_accounting() {
    const ITEMS: u64 = 2_000;
    common::run(|ex| async move {
        let shared = Arc::new(Shared::default());
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let shared = shared.clone();
                ex.spawn(async move {
                    let (mut count, mut sum) = (0u64, 0u64);
                    loop {
                        let wait = shared.changed.wait_until(shared.state.lock().await, |s| {
                            !s.items.is_empty() || s.done
                        });
                        let yielded = futures_lite::future::yield_now();
                        let mut state = match select(Box::pin(wait), Box::pin(yielded)).await {
                            Either::Left((state, _)) => state,
                            Either::Right(((), _)) => continue,
                        };
                        match state.items.pop_front() {
                            Some(item) => {
                                count += 1;
                                sum += item;
                            }
                            None => return (count, sum),
                        }
                    }
                })
            })
            .collect();
        for item in 0..ITEMS {
            shared.state.lock().await.items.push_back(item);
            shared.changed.notify_one();
            if item % 16 == 0 {
                futures_lite::future::yield_now().await;
            }
        }
        shared.state.lock().await.done = true;
        shared.changed.notify_all();
        let (mut count, mut sum) = (0, 0);
        for c in consumers {
            let (n, s) = c.await;
            count += n;
            sum += s;
        }
        assert_eq!(
            (count, sum),
            (ITEMS, ITEMS * (ITEMS - 1) / 2),
            "under {}",
            ex.name()
        );
    });
}

#[test]
fn owned_guards_wait_across_spawned_tasks() {
    common::run(|ex| async move {
        let m = Arc::new(Mutex::new(0u32));
        let cond = Arc::new(Condition::new());
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (m, cond) = (m.clone(), cond.clone());
                ex.spawn(async move { *cond.wait_until(m.lock_arc().await, |n| *n >= 10).await })
            })
            .collect();
        for _ in 0..10 {
            *m.lock_arc().await += 1;
            cond.notify_all();
        }
        for w in waiters {
            assert_eq!(w.await, 10, "under {}", ex.name());
        }
    });
}
