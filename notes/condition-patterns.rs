//! Pattern 14 (Condition) for `examples/patterns.rs`: producer/consumer over
//! a shared list, asyncio's `Condition` example.
//!
//! ```python
//! async def consumer(cond, state, name):
//!     async with cond:
//!         while True:
//!             await cond.wait_for(lambda: state.items or state.done)
//!             if not state.items:
//!                 return
//!             print(name, "took", state.items.popleft())
//!
//! async def producer(cond, state):
//!     for i in range(10):
//!         async with cond:
//!             state.items.append(i)
//!             cond.notify()
//!     async with cond:
//!         state.done = True
//!         cond.notify_all()
//! ```
//!
//! In Rust the list lives inside the mutex, and `wait_until` takes the guard
//! and hands it back, so the state cannot be touched without the lock. No
//! runtime is named: the three futures run concurrently with `join3`, and
//! the whole thing runs under any executor (here `block_on`).

use std::collections::VecDeque;

use sluicegate::{Condition, Mutex};

#[derive(Default)]
struct Shared {
    items: VecDeque<u32>,
    done: bool,
}

/// Takes items until the producer is done and the list is empty; returns
/// what this consumer took.
async fn consumer(state: &Mutex<Shared>, cond: &Condition) -> Vec<u32> {
    let mut took = Vec::new();
    let mut guard = state.lock().await;
    loop {
        guard = cond
            .wait_until(guard, |s| !s.items.is_empty() || s.done)
            .await;
        match guard.items.pop_front() {
            Some(item) => took.push(item),
            None => return took,
        }
    }
}

async fn producer(state: &Mutex<Shared>, cond: &Condition) {
    for i in 0..10 {
        state.lock().await.items.push_back(i);
        cond.notify_one();
        // Let the consumers run (asyncio's producer awaits between items).
        futures_lite::future::yield_now().await;
    }
    state.lock().await.done = true;
    cond.notify_all();
}

/// Runs one producer and two consumers; returns what each consumer took.
pub async fn condition_producer_consumer() -> (Vec<u32>, Vec<u32>) {
    let state = Mutex::new(Shared::default());
    let cond = Condition::new();
    let (a, b, ()) = futures::future::join3(
        consumer(&state, &cond),
        consumer(&state, &cond),
        producer(&state, &cond),
    )
    .await;
    (a, b)
}

fn main() {
    let (a, b) = futures_lite::future::block_on(condition_producer_consumer());
    println!("consumer a took {a:?}, consumer b took {b:?}");
    let mut all: Vec<u32> = a.into_iter().chain(b).collect();
    all.sort_unstable();
    assert_eq!(all, (0..10).collect::<Vec<_>>(), "every item exactly once");
}
