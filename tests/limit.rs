//! The `limit` module under real executors (every one of the rig, via
//! `common::run`), in virtual time: spawned tasks share a rate limiter and
//! an adaptive limiter while the test moves a `ManualClock`. The checks are
//! exact counts and GCRA bounds, never timings.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::future::yield_now;
use sluicegate::limit::{AdaptiveLimiter, Aimd, Quota, RateLimiter};
use sluicegate::time::ManualClock;

const MS: Duration = Duration::from_millis(1);

#[test]
fn spawned_acquirers_are_spaced_by_the_quota_in_virtual_time() {
    const TASKS: usize = 24;
    const BURST: u32 = 4;
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let quota = Quota::per_second(100).with_burst(BURST);
        let limiter = Arc::new(RateLimiter::new(clock.clone(), quota));
        let admitted = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (limiter, admitted, clock) = (limiter.clone(), admitted.clone(), clock.clone());
                ex.spawn(async move {
                    limiter.acquire().await.unwrap();
                    admitted.lock().unwrap().push(clock.now());
                })
            })
            .collect();
        // Time moves only to the first waiter's deadline, so it never runs
        // past what the quota makes anyone wait for.
        while admitted.lock().unwrap().len() < TASKS {
            if clock.advance_to_next_deadline().is_none() {
                yield_now().await;
            }
        }
        for t in tasks {
            t.await;
        }
        let mut times = admitted.lock().unwrap().clone();
        times.sort();
        for (k, t) in times.iter().enumerate() {
            // The k-th admission (from 0) no earlier than GCRA allows.
            let earliest = quota.interval() * (k as u32 + 1).saturating_sub(BURST);
            assert!(*t >= earliest, "{}: admission {k} at {t:?}", ex.name());
        }
        assert_eq!(
            clock.now(),
            10 * MS * (TASKS as u32 - BURST),
            "{}: back to back, no idle gap",
            ex.name()
        );
        assert!(!limiter.has_waiters());
    });
}

#[test]
fn adaptive_limiter_keeps_exact_accounting_under_churn() {
    const TASKS: usize = 16;
    const ROUNDS: usize = 40;
    const MAX: usize = 6;
    common::run(|ex| async move {
        let clock = ManualClock::new();
        let limiter = Arc::new(AdaptiveLimiter::new(
            clock.clone(),
            Aimd::new().limits(1, MAX).initial_limit(3),
        ));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                let (limiter, peak) = (limiter.clone(), peak.clone());
                ex.spawn(async move {
                    for round in 0..ROUNDS {
                        let token = limiter.acquire().await;
                        peak.fetch_max(limiter.in_flight(), SeqCst);
                        yield_now().await;
                        match (task + round) % 5 {
                            0 => token.dropped(),
                            1 => drop(token),
                            _ => token.success(),
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await;
        }
        let m = limiter.metrics();
        assert_eq!(m.in_flight, 0, "{}", ex.name());
        assert_eq!(
            (m.dropped, m.ignored),
            (TASKS * ROUNDS / 5, TASKS * ROUNDS / 5)
        );
        assert!(peak.load(SeqCst) <= MAX, "{}: over the maximum", ex.name());
        // Every slot is back, and there are exactly `limit` of them.
        let all: Vec<_> = (0..m.limit)
            .map(|_| limiter.try_acquire().unwrap())
            .collect();
        assert!(limiter.try_acquire().is_err(), "{}", ex.name());
        drop(all);
    });
}
