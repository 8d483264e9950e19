//! loom models of `Semaphore` starting from a left-over WAITERS flag: a
//! single-permit release handed its permit to the last waiter and left the
//! flag set with the list empty (see `WAITERS` in `src/semaphore.rs`).
//! Whatever races the state that follows, no permit is lost or duplicated
//! and `try_acquire` fails only while the permit is really held.
use std::sync::Arc;
use std::task::Poll;

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use sluicegate::futures::AcquireOwned;
use sluicegate::{Semaphore, TryAcquireError};
use sluicegate_loom_tests::{block_on, model, thread, Polled};

/// One permit, handed to a waiter that has been woken but not re-polled:
/// the list is empty and the flag is left over.
fn handed_to_the_last_waiter(sem: &Arc<Semaphore>) -> Polled<AcquireOwned> {
    let held = sem.clone().try_acquire_owned().unwrap();
    let mut waiter = Polled::new(sem.clone().acquire_owned());
    assert!(waiter.poll().is_pending());
    drop(held);
    assert_eq!(waiter.wakes(), 1);
    waiter
}

#[test]
fn woken_last_waiter_dropped_racing_a_newcomer() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let waiter = handed_to_the_last_waiter(&sem);
        let canceller = thread::spawn(move || drop(waiter));
        drop(block_on(sem.acquire()).unwrap());
        canceller.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_ok());
    });
}

#[test]
fn its_release_racing_add_permits_and_a_two_permit_newcomer() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let mut waiter = handed_to_the_last_waiter(&sem);
        let Poll::Ready(Ok(permit)) = waiter.poll() else {
            panic!("the handed permit was lost")
        };
        let s = sem.clone();
        let adder = thread::spawn(move || s.add_permits(1));
        let releaser = thread::spawn(move || drop(permit));
        let two = block_on(sem.acquire_many(2)).unwrap();
        adder.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
        drop(two);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn try_acquire_racing_its_release_fails_only_while_the_permit_is_held() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let mut waiter = handed_to_the_last_waiter(&sem);
        let Poll::Ready(Ok(permit)) = waiter.poll() else {
            panic!("the handed permit was lost")
        };
        let released = Arc::new(AtomicBool::new(false));
        let r = released.clone();
        let releaser = thread::spawn(move || {
            drop(permit);
            r.store(true, SeqCst);
        });
        let seen_released = released.load(SeqCst);
        let attempt = sem.try_acquire();
        match &attempt {
            Ok(_) => {}
            Err(e) => {
                assert!(!seen_released, "the permit was back, yet {e:?}");
                assert_eq!(*e, TryAcquireError::NoPermits);
            }
        }
        drop(attempt);
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}
