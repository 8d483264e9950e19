//! loom models of `ManualClock`: an `advance` racing a sleep's first poll
//! never loses the wake-up, and a sleep dropped while an `advance` makes it
//! due strands no other sleep.

use std::time::Duration;

use sluicegate::time::{ManualClock, Timer};
use sluicegate_loom_tests::{model, thread, Polled};

#[test]
fn advance_racing_a_sleep_registration_never_loses_the_wake_up() {
    model(|| {
        let clock = ManualClock::new();
        let c = clock.clone();
        let advancing = thread::spawn(move || c.advance(Duration::from_secs(1)));
        let mut sleep = Polled::new(clock.sleep_until(Duration::from_secs(1)));
        let first = sleep.poll();
        advancing.join().unwrap();
        // Either it saw the time pass, or it registered in time to be woken.
        assert!(first.is_ready() || sleep.wakes() == 1);
        assert!(sleep.poll().is_ready());
        assert_eq!(clock.pending_sleeps(), 0);
    });
}

/// Two sleeps are due at the same instant; one is dropped while `advance`
/// reaches it. Its entry goes once (with the step or with the drop), the
/// other sleep is woken once, and nothing stays registered.
#[test]
fn a_sleep_dropped_while_advance_makes_it_due_strands_no_other() {
    model(|| {
        let clock = ManualClock::new();
        let mut gone = Polled::new(clock.sleep_until(Duration::from_secs(1)));
        let mut stays = Polled::new(clock.sleep_until(Duration::from_secs(1)));
        assert!(gone.poll().is_pending());
        assert!(stays.poll().is_pending());
        let c = clock.clone();
        let advancing = thread::spawn(move || c.advance(Duration::from_secs(1)));
        drop(gone);
        advancing.join().unwrap();
        assert_eq!(stays.wakes(), 1, "the other sleep was not woken");
        assert!(stays.poll().is_ready());
        assert_eq!(clock.pending_sleeps(), 0);
    });
}
