//! The embassy-time adapter under embassy's executor, with embassy-time's
//! mock driver: a second task moves embassy time by hand. Nothing waits.
//!
//! The mock driver is global, so this file holds a single test.
#![cfg(feature = "embassy")]

use std::future::{pending, poll_fn};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Mutex;
use std::task::Poll;
use std::time::Duration;

use embassy_time::MockDriver;
use sluicegate::breaker::{CircuitBreaker, State};
use sluicegate::time::{
    interval, timeout, Clock, EmbassyTimer, SendTimer, Sleeper, Timer, Timestamp,
};

static DONE: AtomicBool = AtomicBool::new(false);
static RESULT: Mutex<Option<Result<(), String>>> = Mutex::new(None);

async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Moves embassy time forward 100 ms per turn of the executor.
#[embassy_executor::task]
async fn clock_mover() {
    while !DONE.load(SeqCst) {
        MockDriver::get().advance(embassy_time::Duration::from_millis(100));
        yield_now().await;
    }
}

#[embassy_executor::task]
async fn checks() {
    let result = std::panic::AssertUnwindSafe(body());
    let result = futures::FutureExt::catch_unwind(result).await;
    *RESULT.lock().unwrap() = Some(result.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }));
    DONE.store(true, SeqCst);
}

async fn body() {
    // It can go into a spawned `Send` task (a multi-threaded executor's).
    fn send_timer<T: SendTimer + 'static>() {}
    send_timer::<EmbassyTimer>();

    let t = EmbassyTimer;
    let start = t.now();
    t.sleep(Duration::from_secs(2)).await;
    let slept = t.now().saturating_duration_since(start);
    assert!(
        slept >= Duration::from_secs(2) && slept < Duration::from_secs(3),
        "{slept:?}"
    );

    let deadline = Timestamp::saturating_add(t.now(), Duration::from_secs(1));
    t.sleep_until(deadline).await;
    assert!(t.now() >= deadline);

    assert!(timeout(&t, Duration::from_secs(1), pending::<()>())
        .await
        .is_err());
    assert_eq!(
        timeout(&t, Duration::from_secs(1), async { 3 }).await,
        Ok(3)
    );

    let mut every = interval(t, Duration::from_millis(500));
    let first = every.tick().await;
    let second = every.tick().await;
    assert_eq!(
        second.saturating_duration_since(first),
        Duration::from_millis(500)
    );

    let b = CircuitBreaker::new(t, 1, Duration::from_secs(5));
    let _ = b.call(async { Err::<(), _>(()) }).await;
    assert_eq!(b.state(), State::Open);
    t.sleep(Duration::from_secs(5)).await;
    assert_eq!(b.state(), State::HalfOpen);

    // Saturating conversions: "never" is not a panic.
    let far = Timestamp::saturating_add(t.now(), Duration::MAX);
    assert_eq!(far, embassy_time::Instant::MAX);
    let _never = t.sleep(Duration::MAX);
}

#[test]
fn the_embassy_timer_sleeps_on_embassy_time() {
    let executor: &'static mut embassy_executor::Executor =
        Box::leak(Box::new(embassy_executor::Executor::new()));
    executor.run_until(
        |spawner| {
            spawner.spawn(checks().unwrap());
            spawner.spawn(clock_mover().unwrap());
        },
        || DONE.load(SeqCst),
    );
    match RESULT.lock().unwrap().take() {
        Some(Ok(())) => {}
        Some(Err(msg)) => panic!("embassy checks failed: {msg}"),
        None => panic!("embassy checks did not finish"),
    }
}
