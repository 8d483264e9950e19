//! loom models of every state transition and cancel path of `Semaphore`.
use std::sync::Arc;

use sluicegate::Semaphore;
use sluicegate_loom_tests::{block_on, model, thread, Polled};

#[test]
fn release_hands_off_to_a_waiter() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let waiter = thread::spawn(move || {
            let permit = block_on(s.acquire()).unwrap();
            assert_eq!(permit.num_permits(), 1);
        });
        sem.add_permits(1);
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn contending_acquirers_never_share_a_permit() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(loom_atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    let _p = block_on(sem.acquire()).unwrap();
                    assert_eq!(inside.fetch_add(1, loom_atomic::SeqCst), 0);
                    inside.fetch_sub(1, loom_atomic::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn queued_waiter_dropped_while_permit_returns() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let s = sem.clone();
        let canceller = thread::spawn(move || {
            let mut acq = Polled::new(s.acquire_owned());
            let _ = acq.poll();
            drop(acq);
        });
        let releaser = thread::spawn(move || drop(held));
        canceller.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn woken_waiter_dropped_before_repoll_passes_the_permit_on() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut first = Polled::new(sem.clone().acquire_owned());
        let mut second = Polled::new(sem.clone().acquire_owned());
        assert!(first.poll().is_pending());
        assert!(second.poll().is_pending());
        let s = sem.clone();
        let releaser = thread::spawn(move || s.add_permits(1));
        let canceller = thread::spawn(move || drop(first));
        releaser.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(second.wakes(), 1, "the wake-up must pass on");
        let permit = match second.poll() {
            std::task::Poll::Ready(p) => p.unwrap(),
            std::task::Poll::Pending => panic!("permit lost"),
        };
        assert_eq!(sem.available_permits(), 0);
        drop(permit);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn partially_assigned_acquire_many_cancelled_gives_its_share_on() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut big = Polled::new(sem.clone().acquire_many_owned(2));
        let mut small = Polled::new(sem.clone().acquire_owned());
        assert!(big.poll().is_pending());
        assert!(small.poll().is_pending());
        let s = sem.clone();
        let releaser = thread::spawn(move || s.add_permits(1));
        let canceller = thread::spawn(move || drop(big));
        releaser.join().unwrap();
        canceller.join().unwrap();
        assert_eq!(small.wakes(), 1);
        assert!(matches!(small.poll(), std::task::Poll::Ready(Ok(_))));
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn close_racing_acquire_never_hangs() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let waiter = thread::spawn(move || block_on(s.acquire()).is_err());
        sem.close();
        assert!(waiter.join().unwrap());
        assert!(sem.try_acquire().is_err());
    });
}

#[test]
fn close_returns_partial_permits() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let mut big = Polled::new(sem.clone().acquire_many_owned(2));
        assert!(big.poll().is_pending());
        let s = sem.clone();
        let closer = thread::spawn(move || s.close());
        let first = big.poll();
        closer.join().unwrap();
        let result = match first {
            std::task::Poll::Ready(r) => r,
            std::task::Poll::Pending => {
                assert_eq!(big.wakes(), 1, "close must wake the waiter");
                match big.poll() {
                    std::task::Poll::Ready(r) => r,
                    std::task::Poll::Pending => panic!("still pending after close"),
                }
            }
        };
        assert!(result.is_err());
        assert_eq!(sem.available_permits(), 1, "the partial permit comes back");
    });
}

mod loom_atomic {
    #[cfg(loom)]
    pub use loom::sync::atomic::AtomicUsize;
    #[cfg(not(loom))]
    pub use std::sync::atomic::AtomicUsize;
    pub use std::sync::atomic::Ordering::SeqCst;
}
