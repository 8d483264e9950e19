//! Pattern rows for `examples/patterns.rs` (issue 5): timeout, retry with
//! exponential backoff, circuit breaker, periodic task. Everything runs in
//! virtual time on a `ManualClock`, so the example finishes at once.
//!
//! Checked by copying this file to `examples/` and running it
//! (`cargo run --example resilience-patterns`); the functions are meant to be
//! folded into `examples/patterns.rs`.

use std::cell::Cell;
use std::time::Duration;

use futures_lite::future::block_on;
use sluicegate::breaker::{BreakerError, CircuitBreaker, State, StateChange};
use sluicegate::retry::{Backoff, Jitter, Retry, RetryPolicy, SplitMix64};
use sluicegate::time::{interval, timeout, ManualClock, Timer};

/// A service that answers after `latency` of virtual time, and fails while
/// `down` is set.
async fn service(clock: &ManualClock, latency: Duration, down: bool) -> Result<&'static str, &'static str> {
    clock.sleep(latency).await;
    if down {
        Err("503 service unavailable")
    } else {
        Ok("200 ok")
    }
}

/// Pattern 10, timeout: `asyncio.wait_for(coro, 5)` / `asyncio.timeout(5)`.
/// The slow call is cancelled (dropped) when the deadline passes.
pub fn timeout_pattern() {
    println!("-- timeout");
    let clock = ManualClock::new();
    block_on(clock.auto_advance(async {
        let fast = timeout(&clock, Duration::from_secs(5), service(&clock, Duration::from_secs(1), false)).await;
        println!("  fast call: {fast:?}");
        assert_eq!(fast, Ok(Ok("200 ok")));

        let slow = timeout(&clock, Duration::from_secs(5), service(&clock, Duration::from_secs(30), false)).await;
        println!("  slow call: {slow:?} at t = {:?}", clock.now());
        assert!(slow.is_err());
        assert_eq!(clock.now(), Duration::from_secs(6));
    }));
}

/// Pattern 11, retry with exponential backoff: a flaky service fails its
/// first three calls; retry up to 5 attempts (the first included), waiting
/// 100 ms × 2ⁿ with full jitter, capped at 2 s.
pub fn retry_with_backoff() {
    println!("-- retry with exponential backoff");
    let clock = ManualClock::new();
    let calls = Cell::new(0);
    let policy = RetryPolicy::new(
        Backoff::exponential(Duration::from_millis(100))
            .max_delay(Duration::from_secs(2))
            .jitter(Jitter::Full)
            .rng(SplitMix64::new(7)), // seeded: the same run every time
    )
    .max_attempts(5);
    let result = block_on(clock.auto_advance(
        Retry::new(policy, &clock)
            .on_retry(|attempt, error: &&str, delay| {
                println!("  attempt {attempt} failed ({error}); retrying in {delay:?}")
            })
            .run(|| {
                calls.set(calls.get() + 1);
                service(&clock, Duration::from_millis(20), calls.get() <= 3)
            }),
    ));
    println!("  result: {result:?} after {} calls, t = {:?}", calls.get(), clock.now());
    assert_eq!(result, Ok("200 ok"));
    assert_eq!(calls.get(), 4);
}

/// Pattern 7, circuit breaker: opens after 3 consecutive failures, rejects
/// calls without running them for 60 s, then lets one trial through.
pub fn circuit_breaker() {
    println!("-- circuit breaker (failure_threshold 3, recovery 60 s)");
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(&clock, 3, Duration::from_secs(60))
        .on_state_change(|c: StateChange| println!("  breaker: {c}"));
    let down = Cell::new(true);
    let ran = Cell::new(0);
    let ran = &ran;
    let call = || {
        let outcome = if down.get() { Err("503") } else { Ok("200") };
        async move {
            ran.set(ran.get() + 1); // runs only if the breaker lets it
            outcome
        }
    };
    block_on(async {
        for _ in 0..5 {
            match breaker.call(call()).await {
                Ok(v) => println!("  ok: {v}"),
                Err(BreakerError::Inner(e)) => println!("  failed: {e}"),
                Err(BreakerError::Open { retry_in }) => println!("  rejected, next trial in {retry_in:?}"),
            }
        }
        assert_eq!(ran.get(), 3, "the last two calls never ran");
        assert_eq!(breaker.state(), State::Open);

        clock.advance(Duration::from_secs(60)); // recovery timeout passes
        down.set(false); // and the service is back
        let trial = breaker.call(call()).await;
        println!("  trial: {trial:?}");
        assert_eq!(trial, Ok("200"));
        assert_eq!(breaker.state(), State::Closed);
        let m = breaker.metrics();
        println!(
            "  calls {} (ok {}, failed {}), rejected {}",
            m.calls, m.successes, m.failures, m.rejections
        );
    });
}

/// Pattern 15, periodic task: a health check every 5 s, each check bounded
/// by a 1 s timeout, until stopped (here after four checks).
pub fn periodic_health_check() {
    println!("-- periodic health check (every 5 s)");
    let clock = ManualClock::new();
    block_on(clock.auto_advance(async {
        let mut every_5s = interval(&clock, Duration::from_secs(5));
        for round in 0..4 {
            let at = every_5s.tick().await;
            // The third check hangs; its timeout fires and the loop goes on.
            let latency = if round == 2 { Duration::from_secs(10) } else { Duration::from_millis(50) };
            let health = timeout(&clock, Duration::from_secs(1), service(&clock, latency, false)).await;
            println!("  t = {at:?}: {}", if health.is_ok() { "healthy" } else { "timed out" });
        }
        // Ticks stay on the 5 s grid however long the checks take.
        assert_eq!(every_5s.next_deadline(), Duration::from_secs(20));
    }));
}

fn main() {
    timeout_pattern();
    retry_with_backoff();
    circuit_breaker();
    periodic_health_check();
}
