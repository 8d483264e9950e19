//! loom model of `ManualClock`: an `advance` racing a sleep's first poll
//! never loses the wake-up.

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
