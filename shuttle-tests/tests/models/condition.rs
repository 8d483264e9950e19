//! The condition variable with many tasks: consumers waiting on a shared
//! counter with a predicate (every form: `wait` in a loop, `wait_until`,
//! `wait_while`, borrowed and owned guards), producers notifying one, `n`
//! or all, and waits given up by hand or lost in a select. No wake-up is
//! lost (every waiter finishes: a lost one would leave shuttle a deadlock
//! to report) and the counts are exact.

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures_lite::future::poll_once;
use sluicegate::{Condition, Mutex};
use sluicegate_shuttle_tests::{check, join_all, or_lose, spawn, yield_now};

struct Shared {
    /// Tokens produced and not yet consumed.
    tokens: Mutex<usize>,
    cond: Condition,
    consumed: AtomicUsize,
}

/// Takes one token, waiting for it in way `way`.
async fn consume(s: &Shared, way: usize) {
    let mut tokens = match way {
        // `wait` in a loop, the classic form.
        0 => {
            let mut guard = s.tokens.lock().await;
            while *guard == 0 {
                guard = s.cond.wait(guard).await;
            }
            guard
        }
        1 => s.cond.wait_until(s.tokens.lock().await, |t| *t > 0).await,
        2 => s.cond.wait_while(s.tokens.lock().await, |t| *t == 0).await,
        // A wait polled once by hand and dropped (passing on a notification
        // it may have been handed), then a wait to the end.
        3 => {
            {
                let mut wait = pin!(s.cond.wait_until(s.tokens.lock().await, |t| *t > 0));
                if let Some(mut guard) = poll_once(&mut wait).await {
                    *guard -= 1;
                    return s.taken();
                }
            }
            s.cond.wait_until(s.tokens.lock().await, |t| *t > 0).await
        }
        // Waits lost in a select against a yield, until one wins.
        _ => loop {
            let wait = s.cond.wait_until(s.tokens.lock().await, |t| *t > 0);
            if let Some(guard) = or_lose(wait, yield_now()).await {
                break guard;
            }
        },
    };
    assert!(*tokens > 0, "a wait returned with its predicate false");
    *tokens -= 1;
    drop(tokens);
    s.taken();
}

impl Shared {
    fn taken(&self) {
        self.consumed.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits twice and gives up each time, while registered and after a
/// scheduling point, so that a notification may have been handed to it: the
/// wait must pass it on, or a consumer sleeps next to a token.
async fn quit(s: &Shared) {
    for _ in 0..2 {
        let mut wait = pin!(s.cond.wait(s.tokens.lock().await));
        assert!(poll_once(&mut wait).await.is_none(), "a plain wait waits");
        yield_now().await;
    }
}

/// `consumers` tasks take one token each; `producers` tasks make them all,
/// one at a time with `notify_one` or two at a time with `notify(2)`,
/// notifying with the mutex held or after releasing it; `quitters` tasks
/// wait and give up.
fn tokens(consumers: usize, producers: usize, quitters: usize) {
    let s = Arc::new(Shared {
        tokens: Mutex::new(0),
        cond: Condition::new(),
        consumed: AtomicUsize::new(0),
    });
    let mut tasks: Vec<_> = (0..consumers)
        .map(|id| {
            let s = s.clone();
            spawn(async move { consume(&s, id % 5).await })
        })
        .collect();
    tasks.extend((0..quitters).map(|_| {
        let s = s.clone();
        spawn(async move { quit(&s).await })
    }));
    tasks.extend((0..producers).map(|id| {
        let s = s.clone();
        let per_producer = consumers / producers + usize::from(id < consumers % producers);
        spawn(async move {
            let batch = 1 + id % 2;
            let mut made = 0;
            while made < per_producer {
                let n = batch.min(per_producer - made);
                let mut guard = s.tokens.lock().await;
                *guard += n;
                made += n;
                if id % 4 < 2 {
                    drop(guard);
                    s.cond.notify(n);
                } else {
                    if n == 1 {
                        s.cond.notify_one();
                    } else {
                        s.cond.notify(n);
                    }
                    drop(guard);
                }
                yield_now().await;
            }
        })
    }));
    join_all(tasks);
    assert_eq!(s.consumed.load(Ordering::SeqCst), consumers);
    assert_eq!(*s.tokens.try_lock().expect("nobody holds it"), 0);
    assert_eq!(s.cond.notify_all(), 0, "a waiter is left");
}

/// 20 consumers, 8 producers and 4 waiters that give up (32 tasks): every
/// token is taken by exactly one consumer, every consumer finishes.
#[test]
fn notify_one_and_notify_n_lose_no_wake_up_among_thirty_two_tasks() {
    check("cond-tokens", 1000, || tokens(20, 8, 4));
}

/// 40 consumers, 16 producers and 8 waiters that give up (64 tasks).
#[test]
fn notify_one_and_notify_n_lose_no_wake_up_among_sixty_four_tasks() {
    check("cond-tokens-64", 1000, || tokens(40, 16, 8));
}

/// 31 waiters on a flag (waits of every form, some given up and resumed),
/// one task sets it and notifies all: every waiter finishes.
#[test]
fn notify_all_releases_every_waiter() {
    check("cond-all", 1000, || {
        let flag = Arc::new(Mutex::new(false));
        let cond = Arc::new(Condition::new());
        let released = Arc::new(AtomicUsize::new(0));
        let mut tasks: Vec<_> = (0..31)
            .map(|id| {
                let (flag, cond, released) = (flag.clone(), cond.clone(), released.clone());
                spawn(async move {
                    let guard = match id % 4 {
                        0 => cond.wait_until(flag.lock_arc().await, |f| *f).await,
                        1 => {
                            let mut guard = flag.lock_arc().await;
                            while !*guard {
                                guard = cond.wait(guard).await;
                            }
                            guard
                        }
                        2 => {
                            {
                                let mut wait = pin!(cond.wait_until(flag.lock_arc().await, |f| *f));
                                let _ = poll_once(&mut wait).await;
                            }
                            cond.wait_until(flag.lock_arc().await, |f| *f).await
                        }
                        _ => loop {
                            let wait = cond.wait_until(flag.lock_arc().await, |f| *f);
                            if let Some(guard) = or_lose(wait, yield_now()).await {
                                break guard;
                            }
                        },
                    };
                    assert!(*guard);
                    drop(guard);
                    released.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let (f, c) = (flag.clone(), cond.clone());
        tasks.push(spawn(async move {
            yield_now().await;
            *f.lock().await = true;
            assert!(c.notify_all() <= 31);
        }));
        join_all(tasks);
        assert_eq!(released.load(Ordering::SeqCst), 31);
        assert_eq!(cond.notify_all(), 0, "a waiter is left");
    });
}
