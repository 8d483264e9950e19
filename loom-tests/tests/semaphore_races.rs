//! Exploratory races of `Semaphore` (one property each): whatever the
//! interleaving, no permit is lost or duplicated and no wake-up is lost.
use std::sync::Arc;
use std::task::Poll;

use sluicegate::Semaphore;
use sluicegate_loom_tests::{block_on, model, thread, Polled};

#[test]
fn release_racing_cancel_of_a_partly_served_head_serves_the_next() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let mut head = Polled::new(sem.acquire_many(2)); // takes 1, needs 1
        let mut next = Polled::new(sem.acquire());
        assert!(head.poll().is_pending());
        assert!(next.poll().is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.add_permits(1))
        };
        drop(head);
        releaser.join().unwrap();
        // Two permits exist; `next` wants one of them.
        assert_eq!(next.wakes(), 1);
        let Poll::Ready(Ok(permit)) = next.poll() else {
            panic!("next not served")
        };
        assert_eq!(sem.available_permits(), 1);
        drop(permit);
        drop(next);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn two_releases_fill_a_multi_permit_waiter_once() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut waiter = Polled::new(sem.acquire_many(2));
        assert!(waiter.poll().is_pending());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.add_permits(1))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(waiter.wakes(), 1);
        assert!(matches!(waiter.poll(), Poll::Ready(Ok(_))));
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn close_racing_acquire_fails_it_without_losing_permits() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let mut waiter = Polled::new(sem.acquire_many(2));
        let closer = {
            let sem = sem.clone();
            thread::spawn(move || sem.close())
        };
        let first = waiter.poll();
        closer.join().unwrap();
        match first {
            Poll::Ready(res) => assert!(res.is_err()),
            Poll::Pending => {
                assert_eq!(waiter.wakes(), 1, "close lost the wake-up");
                assert!(matches!(waiter.poll(), Poll::Ready(Err(_))));
            }
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn fast_path_release_racing_a_new_waiter_loses_no_wake_up() {
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let releaser = thread::spawn(move || drop(permit));
        let mut waiter = Polled::new(sem.acquire());
        let first = waiter.poll();
        releaser.join().unwrap();
        if first.is_pending() {
            assert_eq!(waiter.wakes(), 1, "release lost the wake-up");
            assert!(matches!(waiter.poll(), Poll::Ready(Ok(_))));
        } else {
            drop(first);
        }
        drop(waiter);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn cancel_after_wake_racing_a_new_acquire_passes_the_permit_on() {
    model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let mut woken = Polled::new(sem.acquire());
        assert!(woken.poll().is_pending());
        sem.add_permits(1);
        assert_eq!(woken.wakes(), 1);
        let other = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut late = Polled::new(sem.acquire());
                if let Poll::Ready(res) = late.poll() {
                    drop(res.unwrap());
                    return;
                }
                // The cancelled waiter's permit must reach us.
                while late.wakes() == 0 {
                    thread::yield_now();
                }
                assert!(matches!(late.poll(), Poll::Ready(Ok(_))));
            })
        };
        drop(woken);
        other.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn hand_off_to_the_last_waiter_then_its_release_racing_a_newcomer() {
    // The single-permit hand-off to the last waiter leaves the waiters flag
    // set; the permit must still reach a newcomer that races the release
    // that settles it, and end up back in the counter.
    model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().try_acquire_owned().unwrap();
        let s = sem.clone();
        let waiter = thread::spawn(move || drop(block_on(s.acquire()).unwrap()));
        let s = sem.clone();
        let newcomer = thread::spawn(move || drop(block_on(s.acquire()).unwrap()));
        drop(held);
        waiter.join().unwrap();
        newcomer.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(
            sem.try_acquire().is_ok(),
            "the lock-free path is open again"
        );
    });
}
