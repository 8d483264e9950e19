//! The wait-list locks (`sluicegate::raw_mutex`): each lock on its own
//! (exclusion, unwinding, nesting), each primitive over each lock, and the
//! guarantee that a crate feature never switches the lock of a primitive
//! that did not name one.
//!
//! Run with `--features critical-section` to include the critical-section
//! lock (CI does).
mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use common::poll::polled;
use common::traits::{assert_send, assert_send_sync};
use sluicegate::raw_mutex::{
    ConstInit, DefaultRawMutex, LocalRawMutex, ScopedRawMutex, SpinRawMutex, StdRawMutex,
};
use sluicegate::{channel, Condition, Event, Mutex, Semaphore};

// ---------------------------------------------------------------------------
// The locks on their own.

/// Four threads each add 1 to a counter 2,000 times under the lock, with a
/// separate load and store: any overlap of two closures loses an increment.
fn excludes_other_threads<L: ScopedRawMutex + Sync + Send + 'static>(lock: L) {
    const THREADS: usize = 4;
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    let shared = Arc::new((lock, AtomicUsize::new(0)));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let shared = shared.clone();
            thread::spawn(move || {
                for _ in 0..rounds {
                    shared.0.with_lock(|| {
                        let n = shared.1.load(Ordering::Relaxed);
                        std::hint::spin_loop();
                        shared.1.store(n + 1, Ordering::Relaxed);
                    });
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(shared.1.load(Ordering::Relaxed), THREADS * rounds);
}

/// `is_locked`, `try_with_lock` while held, and a panicking closure
/// leaving the lock free.
fn locks_unlocks_and_survives_a_panic<L: ScopedRawMutex>(lock: L) {
    assert!(!lock.is_locked());
    assert!(lock.with_lock(|| lock.is_locked()));
    assert_eq!(lock.try_with_lock(|| lock.try_with_lock(|| ())), Some(None));
    assert!(!lock.is_locked());
    let r = catch_unwind(AssertUnwindSafe(|| {
        lock.with_lock(|| panic!("in the lock"))
    }));
    assert!(r.is_err());
    assert!(!lock.is_locked(), "a panicking closure left it locked");
    assert_eq!(lock.with_lock(|| 7), 7);
}

#[test]
fn every_sync_lock_excludes_other_threads() {
    excludes_other_threads(DefaultRawMutex::new());
    excludes_other_threads(StdRawMutex::new());
    excludes_other_threads(SpinRawMutex::new());
    #[cfg(feature = "critical-section")]
    excludes_other_threads(sluicegate::raw_mutex::CriticalSectionRawMutex::new());
}

#[test]
fn every_lock_unlocks_after_its_closure_even_when_it_panics() {
    locks_unlocks_and_survives_a_panic(DefaultRawMutex::new());
    locks_unlocks_and_survives_a_panic(StdRawMutex::new());
    locks_unlocks_and_survives_a_panic(SpinRawMutex::new());
    locks_unlocks_and_survives_a_panic(LocalRawMutex::new());
    #[cfg(feature = "critical-section")]
    locks_unlocks_and_survives_a_panic(sluicegate::raw_mutex::CriticalSectionRawMutex::new());
}

#[test]
#[should_panic(expected = "LocalRawMutex locked twice")]
fn a_nested_local_lock_panics_instead_of_reentering() {
    let lock = LocalRawMutex::new();
    lock.with_lock(|| lock.with_lock(|| ()));
}

#[test]
#[cfg(feature = "critical-section")]
#[should_panic(expected = "CriticalSectionRawMutex locked twice")]
fn a_nested_critical_section_lock_panics_instead_of_reentering() {
    // Critical sections nest, so without its own flag the lock would let a
    // second closure run inside the first.
    let lock = sluicegate::raw_mutex::CriticalSectionRawMutex::new();
    lock.with_lock(|| lock.with_lock(|| ()));
}

#[test]
fn locks_are_const_initialisable() {
    fn init<L: ConstInit + ScopedRawMutex>() -> bool {
        L::INIT.is_locked()
    }
    assert!(!init::<DefaultRawMutex>());
    assert!(!init::<StdRawMutex>());
    assert!(!init::<SpinRawMutex>());
    assert!(!init::<LocalRawMutex>());
}

// ---------------------------------------------------------------------------
// No process-wide switch.

#[test]
fn a_critical_section_held_elsewhere_does_not_block_a_default_lock_primitive() {
    // With the `critical-section` feature on (as a dependency may turn it
    // on), a primitive that names no lock must still use its own, not one
    // global critical section: this thread holds the critical section while
    // another thread uses a default-lock event, which must not wait for it.
    let event = Arc::new(Event::new());
    critical_section::with(|_| {
        let (done, finished) = mpsc::channel();
        let ev = event.clone();
        let user = thread::spawn(move || {
            ev.set(); // takes the event's wait-list lock
            let mut wait = polled(ev.wait());
            wait.ready();
            done.send(()).unwrap();
        });
        // Generous: this is a deadlock detector, not a timing assertion.
        let got = finished.recv_timeout(Duration::from_secs(20));
        assert!(
            got.is_ok(),
            "a default-lock Event waited for a critical section held by another thread"
        );
        user.join().unwrap();
    });
    assert!(event.is_set());
}

#[test]
fn the_default_lock_is_the_default_type_parameter() {
    // `Semaphore` means `Semaphore<DefaultRawMutex>`, and so on: code that
    // names no lock gets the same type whatever features are on.
    fn same<T>(_: &T, _: &T) {}
    let sem: Semaphore = Semaphore::new(1);
    same(
        &sem,
        &Semaphore::new_with_raw_mutex(1, DefaultRawMutex::new()),
    );
    let ev: Event = Event::new();
    same(&ev, &Event::new_with_raw_mutex(DefaultRawMutex::new()));
    let cond: Condition = Condition::new();
    same(
        &cond,
        &Condition::new_with_raw_mutex(DefaultRawMutex::new()),
    );
    let (tx, _rx): (channel::Sender<u8>, channel::Receiver<u8>) = channel::bounded(1);
    same(
        &tx,
        &channel::bounded_with_raw_mutex::<u8, _>(1, DefaultRawMutex::new()).0,
    );
    let ch: channel::Channel<u8, 2> = channel::Channel::new();
    same(
        &ch,
        &channel::Channel::new_with_raw_mutex(DefaultRawMutex::new()),
    );
}

#[test]
fn primitives_are_send_and_sync_with_a_sync_lock() {
    assert_send_sync::<Semaphore<SpinRawMutex>>();
    assert_send_sync::<Event<StdRawMutex>>();
    assert_send_sync::<Condition<SpinRawMutex>>();
    #[cfg(feature = "critical-section")]
    assert_send_sync::<Semaphore<sluicegate::raw_mutex::CriticalSectionRawMutex>>();
    // With `LocalRawMutex` they are `Send` (they can move to another thread
    // whole) but not `Sync`; the `compile_fail` example on `LocalRawMutex`
    // shows a `static` being refused.
    assert_send::<Semaphore<LocalRawMutex>>();
    assert_send::<Event<LocalRawMutex>>();
    assert_send_sync::<channel::Sender<u8, channel::Untracked, SpinRawMutex>>();
    assert_send_sync::<channel::Channel<u8, 4, channel::Tracked, StdRawMutex>>();
}

// ---------------------------------------------------------------------------
// Each primitive over each lock: the generic code paths that the lock
// parameter reaches (queueing, hand-off, cancellation, wake-ups).

fn semaphore_over<L: ScopedRawMutex>(lock: L) {
    let sem = Semaphore::new_with_raw_mutex(1, lock);
    let held = sem.try_acquire().unwrap();
    let mut first = polled(sem.acquire());
    let mut second = polled(sem.acquire());
    first.pending();
    second.pending();
    drop(first); // dropped while queued
    drop(held);
    assert_eq!(second.wakes(), 1, "the permit skipped the dropped waiter");
    let p = second.ready().unwrap();
    let mut third = polled(sem.acquire());
    let mut fourth = polled(sem.acquire());
    third.pending();
    fourth.pending();
    drop(p); // hands the permit to `third`...
    drop(third); // ...which is dropped before its re-poll: passed on
    assert_eq!(fourth.wakes(), 1);
    drop(fourth.ready().unwrap());
    assert_eq!(sem.forget_permits(1), 1);
    sem.add_permits(1);
    sem.close();
    assert!(polled(sem.acquire()).ready().is_err());
    assert_eq!(sem.available_permits(), 1);
}

fn event_over<L: ScopedRawMutex>(lock: L) {
    let ev = Event::new_with_raw_mutex(lock);
    let mut a = polled(ev.wait());
    let mut b = polled(ev.wait());
    a.pending();
    b.pending();
    drop(a);
    ev.set();
    assert_eq!(b.wakes(), 1);
    b.ready();
    ev.clear();
    let mut c = polled(ev.wait());
    c.pending();
    ev.set();
    c.ready();
}

fn condition_over<L: ScopedRawMutex>(lock: L) {
    let mutex = Mutex::new(0u32);
    let cond = Condition::new_with_raw_mutex(lock);
    let mut first = polled(cond.wait(mutex.try_lock().unwrap()));
    first.pending();
    let mut second = polled(cond.wait(mutex.try_lock().unwrap()));
    second.pending();
    assert!(cond.notify_one()); // reaches `first`...
    drop(first); // ...which passes it on
    assert_eq!(second.wakes(), 1);
    drop(second.ready());
    assert_eq!(cond.notify_all(), 0);
}

fn channel_over<L: ScopedRawMutex>(make: impl Fn() -> L) {
    // The heap flavour, tracked: hand-off to a waiting receiver, a waiting
    // sender granted a slot, a receiver dropped after being handed a value.
    let (tx, rx) = channel::tracked_with_raw_mutex::<u32, L>(1, make());
    let mut first = polled(rx.recv());
    let mut second = polled(rx.recv());
    first.pending();
    second.pending();
    tx.try_send(1).unwrap(); // handed to `first`...
    drop(first); // ...which passes it on
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.ready(), Ok(1));
    rx.task_done().unwrap();
    tx.try_send(2).unwrap();
    let mut blocked = polled(tx.send(3));
    blocked.pending();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(blocked.wakes(), 1);
    blocked.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    rx.task_done().unwrap();
    rx.task_done().unwrap();
    polled(tx.join()).ready();
    // The inline flavour.
    let ch = channel::Channel::<u32, 2, channel::Untracked, L>::new_with_raw_mutex(make());
    let mut recv = polled(ch.recv());
    recv.pending();
    ch.try_send(7).unwrap();
    assert_eq!(recv.ready(), Ok(7));
    ch.close();
    assert!(polled(ch.recv()).ready().is_err());
}

fn every_primitive_over<L: ScopedRawMutex>(make: impl Fn() -> L) {
    semaphore_over(make());
    event_over(make());
    condition_over(make());
    channel_over(make);
}

#[test]
fn every_primitive_works_over_every_lock() {
    every_primitive_over(DefaultRawMutex::new);
    every_primitive_over(StdRawMutex::new);
    every_primitive_over(SpinRawMutex::new);
    every_primitive_over(LocalRawMutex::new);
    #[cfg(feature = "critical-section")]
    every_primitive_over(sluicegate::raw_mutex::CriticalSectionRawMutex::new);
}

#[test]
fn a_spin_lock_semaphore_hands_off_exactly_between_threads() {
    // The spin lock under real contention, through a primitive.
    static SEM: Semaphore<SpinRawMutex> = Semaphore::new_with_raw_mutex(2, SpinRawMutex::new());
    static INSIDE: AtomicUsize = AtomicUsize::new(0);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                for _ in 0..if cfg!(miri) { 10 } else { 500 } {
                    let p = futures::executor::block_on(SEM.acquire()).unwrap();
                    assert!(INSIDE.fetch_add(1, Ordering::SeqCst) < 2);
                    INSIDE.fetch_sub(1, Ordering::SeqCst);
                    drop(p);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(SEM.available_permits(), 2);
}
