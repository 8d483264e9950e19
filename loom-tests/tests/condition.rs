//! loom models of `Condition` (one property each, two threads): lost
//! notifies, cancellation forwarding after `notify_one` and `notify(n)`,
//! and batched `notify_all`.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use sluicegate::futures::ConditionWait;
use sluicegate::{Condition, Mutex, MutexGuard};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// A `wait` on `cond` with `m`'s guard, polled once: queued, and the mutex
/// released again.
fn queued<'a, T: Send>(
    cond: &'a Condition,
    m: &'a Mutex<T>,
) -> Polled<ConditionWait<'a, MutexGuard<'a, T>>> {
    let mut w = Polled::new(cond.wait(m.try_lock().unwrap()));
    assert!(w.poll().is_pending());
    w
}

/// A notify from the next holder of the mutex reaches a waiter whatever the
/// interleaving of its registration, its unlock and the notifier's lock.
#[test]
fn notify_racing_the_unlock_inside_wait_is_never_lost() {
    model(|| {
        let m = Arc::new(Mutex::new(false));
        let cond = Arc::new(Condition::new());
        let guard = m.try_lock().unwrap();
        let notifier = {
            let (m, cond) = (m.clone(), cond.clone());
            thread::spawn(move || {
                block_on(async {
                    *m.lock().await = true;
                    cond.notify_one();
                })
            })
        };
        // Deadlocks (a loom failure) if the notify were missed.
        let guard = block_on(cond.wait_until(guard, |set| *set));
        assert!(*guard);
        drop(guard);
        notifier.join().unwrap();
    });
}

/// A waiter dropped concurrently with the notify that picks it: either the
/// notify finds the next waiter directly, or the dropped waiter forwards it.
#[test]
fn cancellation_after_notify_forwards_the_wakeup() {
    model(|| {
        let m = Arc::new(Mutex::new(()));
        let cond = Arc::new(Condition::new());
        let first = queued(&cond, &m);
        let mut second = queued(&cond, &m);
        let notifier = {
            let cond = cond.clone();
            thread::spawn(move || assert!(cond.notify_one()))
        };
        drop(first);
        notifier.join().unwrap();
        assert_eq!(
            second.wakes(),
            1,
            "the notification reached the second waiter"
        );
        assert!(second.poll().is_ready());
    });
}

/// A waiter dropped while re-acquiring the mutex passes its notification on
/// and never releases the mutex it did not get back.
#[test]
fn cancellation_while_relocking_forwards_and_releases_nothing() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let cond = Arc::new(Condition::new());
        let mut first = queued(&cond, &m);
        let mut second = queued(&cond, &m);
        let holder = {
            let (m, cond) = (m.clone(), cond.clone());
            thread::spawn(move || {
                block_on(async {
                    let mut guard = m.lock().await;
                    assert!(cond.notify_one());
                    *guard += 1;
                })
            })
        };
        // May be re-acquiring while the holder has the mutex when dropped.
        // If it already got the mutex back, it used the notification.
        let first_done = first.poll().is_ready();
        drop(first);
        holder.join().unwrap();
        if first_done {
            assert_eq!(second.wakes(), 0);
            return;
        }
        assert_eq!(second.wakes(), 1);
        match second.poll() {
            Poll::Ready(guard) => assert_eq!(*guard, 1),
            Poll::Pending => panic!("the mutex was left locked"),
        };
    });
}

/// A waker that raises a flag loom can see (the shared `Polled` counts with
/// a plain atomic, invisible to loom's scheduler).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// `notify_all` spanning more than one wake batch wakes every waiter queued
/// when it started, and never a waiter that registers after it started (in
/// particular not between its batches).
#[test]
fn notify_all_versus_a_late_waiter() {
    const EARLY: usize = 17; // one more than a wake batch
    model(|| {
        let m = Arc::new(Mutex::new(()));
        let cond = Arc::new(Condition::new());
        // The first waiter's wake-up marks the end of `notify_all`'s first
        // batch (wakers run after the list lock is released).
        let first_batch = Arc::new(Flag(AtomicBool::new(false)));
        let mut first = Box::pin(cond.wait(m.try_lock().unwrap()));
        let waker = Waker::from(first_batch.clone());
        assert!(first
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let rest: Vec<_> = (1..EARLY).map(|_| queued(&cond, &m)).collect();
        let notifier = {
            let cond = cond.clone();
            thread::spawn(move || cond.notify_all())
        };
        let mut late = Polled::new(cond.wait(block_on(m.lock())));
        let after_start = first_batch.0.load(SeqCst);
        assert!(late.poll().is_pending());
        let woken = notifier.join().unwrap();
        assert!(first_batch.0.load(SeqCst));
        assert!(rest.iter().all(|w| w.wakes() == 1));
        if after_start {
            assert_eq!(woken, EARLY, "a waiter registered mid-call was counted");
        }
        if woken == EARLY {
            assert_eq!(late.wakes(), 0, "a late waiter is not woken");
            assert!(cond.notify_one());
        } else {
            assert_eq!(woken, EARLY + 1);
        }
        assert_eq!(late.wakes(), 1);
        drop((first, rest));
        assert!(late.poll().is_ready());
    });
}

/// Two waiting threads and one producer: each `notify_one` after adding a
/// token reaches a waiter that still needs one, so both finish.
#[test]
fn each_notify_one_reaches_a_waiter_that_needs_it() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let cond = Arc::new(Condition::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (m, cond) = (m.clone(), cond.clone());
                thread::spawn(move || {
                    block_on(async {
                        let mut tokens = cond.wait_until(m.lock().await, |t| *t > 0).await;
                        *tokens -= 1;
                    })
                })
            })
            .collect();
        block_on(async {
            for _ in 0..2 {
                *m.lock().await += 1;
                cond.notify_one();
            }
        });
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 0);
    });
}

/// A waiter released by `notify_one` and dropped while a `notify_all` that
/// spans more than one wake batch runs, after a new waiter queued: the
/// notification it forwards is not lost to a waiter the `notify_all`
/// releases anyway. Whatever the interleaving, every waiter is woken
/// exactly once: by the `notify_all` if it was queued when that began,
/// otherwise by the forwarded notification.
#[test]
fn a_notification_forwarded_during_a_batched_notify_all_is_not_lost() {
    const EARLY: usize = 17; // one more than a wake batch
    model(|| {
        let m = Arc::new(Mutex::new(()));
        let cond = Arc::new(Condition::new());
        let notified = queued(&cond, &m);
        let early: Vec<_> = (0..EARLY).map(|_| queued(&cond, &m)).collect();
        assert!(cond.notify_one());
        let notifier = {
            let cond = cond.clone();
            thread::spawn(move || cond.notify_all())
        };
        let late = queued(&cond, &m);
        drop(notified); // forwards its notification
        let woken = notifier.join().unwrap();
        assert!(woken == EARLY || woken == EARLY + 1 || woken == EARLY - 1);
        assert!(early.iter().all(|w| w.wakes() == 1));
        assert_eq!(late.wakes(), 1, "the forwarded notification was lost");
    });
}

/// `notify(2)` picks two of three waiters while the first is dropped:
/// either it was gone before the notify (which then picks the other two),
/// or it was picked and forwards its notification to the third. Either
/// way the two that stay are each woken exactly once.
#[test]
fn a_waiter_dropped_racing_notify_n_forwards_its_notification() {
    model(|| {
        let m = Arc::new(Mutex::new(()));
        let cond = Arc::new(Condition::new());
        let gone = queued(&cond, &m);
        let mut stays: Vec<_> = (0..2).map(|_| queued(&cond, &m)).collect();
        let notifier = {
            let cond = cond.clone();
            thread::spawn(move || cond.notify(2))
        };
        drop(gone);
        assert_eq!(notifier.join().unwrap(), 2);
        for w in &mut stays {
            assert_eq!(w.wakes(), 1, "a notification was lost");
            assert!(w.poll().is_ready());
        }
    });
}
