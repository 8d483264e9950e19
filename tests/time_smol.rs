//! The async-io (smol) adapter under smol. async-io's timers run on real
//! time, so these only use deadlines that are already due or that are
//! never reached (a pending timer is dropped): nothing waits.
#![cfg(feature = "smol")]

use std::future::{pending, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use sluicegate::time::{
    interval, timeout, timeout_at, AsyncIoTimer, Clock, SendTimer, Sleeper, Timer,
};

#[test]
fn due_sleeps_complete_at_once() {
    smol::block_on(async {
        AsyncIoTimer.sleep(Duration::ZERO).await;
        AsyncIoTimer.sleep_until(AsyncIoTimer.now()).await;
    });
}

#[test]
fn a_far_sleep_stays_pending_and_can_be_dropped() {
    let mut sleep = pin!(AsyncIoTimer.sleep(Duration::from_secs(3600)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    // An unrepresentable deadline is "never", not a panic.
    let mut never = pin!(AsyncIoTimer.sleep(Duration::MAX));
    assert!(never.as_mut().poll(&mut cx).is_pending());
}

#[test]
fn timeouts_elapse_or_return_the_output() {
    smol::block_on(async {
        assert!(timeout(&AsyncIoTimer, Duration::ZERO, pending::<()>())
            .await
            .is_err());
        let r = timeout(&AsyncIoTimer, Duration::from_secs(3600), async { 2 }).await;
        assert_eq!(r, Ok(2));
        let past = AsyncIoTimer.now();
        assert!(timeout_at(&AsyncIoTimer, past, pending::<()>())
            .await
            .is_err());
    });
}

#[test]
fn a_first_interval_tick_is_immediate() {
    smol::block_on(async {
        let start = AsyncIoTimer.now();
        let mut every = interval(AsyncIoTimer, Duration::from_secs(3600));
        assert!(every.tick().await >= start);
        let mut next = pin!(every.tick());
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(next.as_mut().poll(&mut cx), Poll::Pending);
    });
}

#[test]
fn the_adapter_can_go_into_a_spawned_send_task() {
    fn send_timer<T: SendTimer + 'static>() {}
    send_timer::<AsyncIoTimer>();
}
