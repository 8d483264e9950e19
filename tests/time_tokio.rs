//! The tokio adapter under tokio, in tokio's paused time (no real waiting).
#![cfg(feature = "tokio")]

use std::future::pending;
use std::time::Duration;

use sluicegate::breaker::{CircuitBreaker, State};
use sluicegate::retry::{Backoff, Retry, RetryPolicy};
use sluicegate::time::{
    interval, timeout, timeout_at, Clock, SendTimer, Sleeper, Timer, TokioTimer,
};

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn sleep_and_sleep_until_follow_tokio_time() {
    paused().block_on(async {
        let start = TokioTimer.now();
        TokioTimer.sleep(Duration::from_secs(60)).await;
        assert_eq!(TokioTimer.now() - start, Duration::from_secs(60));
        TokioTimer
            .sleep_until(start + Duration::from_secs(90))
            .await;
        assert_eq!(TokioTimer.now() - start, Duration::from_secs(90));
        // A duration too long to represent does not panic.
        let forever = timeout(
            &TokioTimer,
            Duration::from_secs(1),
            TokioTimer.sleep(Duration::MAX),
        );
        assert!(forever.await.is_err());
    });
}

#[test]
fn timeouts_elapse_or_return_the_output() {
    paused().block_on(async {
        let r = timeout(&TokioTimer, Duration::from_secs(5), pending::<()>()).await;
        assert!(r.is_err());
        let r = timeout(&TokioTimer, Duration::from_secs(5), async { 1 }).await;
        assert_eq!(r, Ok(1));
        let past = TokioTimer.now();
        assert!(timeout_at(&TokioTimer, past, pending::<()>())
            .await
            .is_err());
    });
}

#[test]
fn interval_ticks_every_period() {
    paused().block_on(async {
        let start = TokioTimer.now();
        let mut every = interval(TokioTimer, Duration::from_secs(5));
        for k in 0..3u32 {
            assert_eq!(every.tick().await - start, Duration::from_secs(5) * k);
        }
    });
}

#[test]
fn retry_and_breaker_run_on_the_tokio_timer() {
    paused().block_on(async {
        let start = TokioTimer.now();
        let mut n = 0;
        let policy = RetryPolicy::new(Backoff::exponential(Duration::from_millis(100)));
        let r = Retry::new(policy, TokioTimer)
            .run(|| {
                n += 1;
                let n = n;
                async move {
                    if n < 3 {
                        Err(n)
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        assert_eq!(r, Ok(3));
        assert_eq!(TokioTimer.now() - start, Duration::from_millis(300));

        let b = CircuitBreaker::new(TokioTimer, 1, Duration::from_secs(30));
        let _ = b.call(async { Err::<(), _>(()) }).await;
        assert_eq!(b.state(), State::Open);
        TokioTimer.sleep(Duration::from_secs(30)).await;
        assert_eq!(b.state(), State::HalfOpen);
    });
}

#[test]
fn the_adapter_can_go_into_a_spawned_send_task() {
    fn send_timer<T: SendTimer + 'static>() {}
    send_timer::<TokioTimer>();
}
