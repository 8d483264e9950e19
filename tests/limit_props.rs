//! Property tests of the `limit` module: the rate limiter against a
//! reference model (the continuous-state leaky bucket, a different
//! formulation of GCRA) and against the sliding-window bound, and the
//! adaptive algorithms' bounds and convergence for any samples, their
//! `unchanged_by` promise, and the adaptive limiter against its bare
//! algorithm.

use std::time::Duration;

use proptest::prelude::*;
use sluicegate::limit::{
    AdaptiveLimiter, Aimd, Fixed, Gradient2, LimitAlgorithm, Quota, RateLimiter, Sample,
    TryAcquireError, UnchangedBy, Vegas,
};
use sluicegate::time::ManualClock;

const CASES: u32 = 256;

/// ITU-T's continuous-state leaky bucket: a level that drains one unit per
/// nanosecond and fills `interval` per cell, at most `burst × interval`.
struct LeakyBucket {
    level: u128,
    last: u128,
    interval: u128,
    capacity: u128,
}

impl LeakyBucket {
    fn new(q: Quota) -> Self {
        let interval = q.interval().as_nanos();
        Self {
            level: 0,
            last: 0,
            interval,
            capacity: interval * u128::from(q.burst()),
        }
    }

    /// `Ok` if admitted; else how long until it would be.
    fn offer(&mut self, now: u128, n: u32) -> Result<(), u128> {
        let level = self.level.saturating_sub(now - self.last);
        let after = level + self.interval * u128::from(n);
        if after > self.capacity {
            return Err(after - self.capacity);
        }
        if n > 0 {
            self.level = after;
            self.last = now;
        }
        Ok(())
    }
}

fn quota() -> impl Strategy<Value = Quota> {
    (1u64..=1_000_000, 1u32..=8).prop_map(|(interval_us, burst)| {
        Quota::with_interval(Duration::from_micros(interval_us)).with_burst(burst)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any sequence of clock steps and requests: the limiter admits exactly
    /// what the leaky bucket admits (with the same wait when it refuses),
    /// and never more than `burst + t / interval` cells in any window of
    /// length `t`.
    #[test]
    fn rate_limiter_admits_what_the_model_admits_and_never_more_than_burst_plus_rate(
        q in quota(),
        ops in prop::collection::vec((0.0f64..3.0, 0u32..=9), 1..120),
    ) {
        let clock = ManualClock::new();
        let limiter = RateLimiter::new(clock.clone(), q);
        let mut model = LeakyBucket::new(q);
        let interval = q.interval().as_nanos();
        let mut admitted: Vec<(u128, u32)> = Vec::new();
        for (step, n) in ops {
            // Steps of up to 3 intervals, often within one.
            clock.advance(Duration::from_nanos((step * interval as f64) as u64));
            let now = clock.now().as_nanos();
            let got = limiter.try_acquire_n(n);
            if n > q.burst() {
                prop_assert!(matches!(got, Err(TryAcquireError::ExceedsBurst(_))));
                continue;
            }
            match (got, model.offer(now, n)) {
                (Ok(()), Ok(())) => admitted.push((now, n)),
                (Err(TryAcquireError::TooSoon { retry_after }), Err(wait)) => {
                    prop_assert_eq!(retry_after.as_nanos(), wait);
                }
                (got, want) => prop_assert!(false, "limiter {:?}, model {:?} at {}", got, want, now),
            }
        }
        let cap = u128::from(q.burst()) * interval;
        for i in 0..admitted.len() {
            let mut cells = 0u128;
            for j in i..admitted.len() {
                cells += u128::from(admitted[j].1);
                let window = admitted[j].0 - admitted[i].0;
                prop_assert!(
                    cells * interval <= cap + window,
                    "{} cells in {} ns", cells, window
                );
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Algo {
    Aimd(Aimd),
    Gradient2(Gradient2),
    Vegas(Vegas),
    Fixed(Fixed),
}

impl Algo {
    fn as_dyn(&mut self) -> &mut dyn LimitAlgorithm {
        match self {
            Algo::Aimd(a) => a,
            Algo::Gradient2(g) => g,
            Algo::Vegas(v) => v,
            Algo::Fixed(f) => f,
        }
    }
}

/// One step of a single-threaded run of the adaptive limiter.
#[derive(Debug, Clone)]
enum Op {
    Acquire,
    Advance(Duration),
    /// The verdict for the token at this index (modulo those out):
    /// 0 success, 1 dropped, 2 none.
    End(usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Acquire),
        2 => (0u64..=8_000).prop_map(|ms| Op::Advance(Duration::from_millis(ms))),
        4 => (any::<usize>(), 0u8..3).prop_map(|(i, v)| Op::End(i, v)),
    ]
}

fn algo() -> impl Strategy<Value = (Algo, usize, usize)> {
    (
        1usize..=50,
        0usize..=500,
        0usize..=600,
        0u8..3,
        any::<u64>(),
    )
        .prop_map(|(min, span, initial, which, seed)| {
            let max = min + span;
            let a = match which {
                0 => Algo::Aimd(Aimd::new().limits(min, max).initial_limit(initial)),
                1 => Algo::Gradient2(Gradient2::new().limits(min, max).initial_limit(initial)),
                _ => Algo::Vegas(
                    Vegas::new()
                        .limits(min, max)
                        .initial_limit(initial)
                        .seed(seed),
                ),
            };
            (a, min, max)
        })
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        prop_oneof![
            8 => (0u64..=2_000_000_000).prop_map(Duration::from_nanos),
            1 => Just(Duration::ZERO),
            1 => Just(Duration::from_secs(3600)),
        ],
        0usize..=2000,
        any::<bool>(),
    )
        .prop_map(|(rtt, in_flight, dropped)| Sample {
            rtt,
            in_flight,
            dropped,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// What an algorithm says leaves it unchanged does: for any state and
    /// sample, a covered sample changes neither the limit nor the state.
    #[test]
    fn a_sample_covered_by_unchanged_by_changes_nothing(
        (a, _min, _max) in algo(),
        fixed in 1usize..=100,
        use_fixed in any::<bool>(),
        samples in prop::collection::vec(sample(), 0..300),
    ) {
        let mut a = if use_fixed { Algo::Fixed(Fixed::new(fixed)) } else { a };
        let mut covered = 0;
        for s in samples {
            let quiet = a.as_dyn().unchanged_by();
            let before = a.clone();
            a.as_dyn().on_sample(s);
            if quiet.covers(&s) {
                covered += 1;
                prop_assert_eq!(&a, &before, "moved by the covered {:?}", s);
            }
        }
        // Only `Aimd` and `Fixed` cover anything.
        if matches!(a, Algo::Gradient2(_) | Algo::Vegas(_)) {
            prop_assert_eq!(covered, 0);
        }
    }

    /// And `Aimd` and `Fixed` answer exactly: once an `Aimd`'s limit is
    /// within its bounds, a success within its timeout is covered if and
    /// only if it changes nothing; `Fixed` covers every success.
    #[test]
    fn aimd_and_fixed_cover_every_success_that_changes_nothing(
        min in 1usize..=50,
        span in 0usize..=500,
        initial in 0usize..=600,
        fixed in 1usize..=100,
        samples in prop::collection::vec(sample(), 0..300),
    ) {
        let timeout = Duration::from_secs(1);
        let mut aimd = Aimd::new().limits(min, min + span).initial_limit(initial).timeout(timeout);
        let mut f = Fixed::new(fixed);
        for s in samples {
            let (quiet, before) = (aimd.unchanged_by(), aimd.clone());
            aimd.on_sample(s);
            // `NOTHING` until the first sample brings the limit in bounds.
            let in_bounds = quiet != UnchangedBy::NOTHING;
            if in_bounds && !s.dropped && s.rtt <= timeout {
                prop_assert_eq!(quiet.covers(&s), aimd == before, "{:?} from {:?}", s, before);
            }
            prop_assert_eq!(f.unchanged_by().covers(&s), !s.dropped);
            f.on_sample(s);
        }
    }

    /// The limiter over AIMD, run by hand on one thread, moves its limit
    /// exactly as the bare algorithm fed every verdict, whether a verdict
    /// took the lock or was covered by `unchanged_by`; the calls in flight
    /// at admission are the tokens out; and every slot is accounted for.
    #[test]
    fn the_adaptive_limiter_follows_its_bare_algorithm(
        min in 1usize..=8,
        span in 0usize..=24,
        initial in 0usize..=40,
        ops in prop::collection::vec(op(), 0..400),
    ) {
        let aimd = Aimd::new()
            .limits(min, min + span)
            .initial_limit(initial)
            .timeout(Duration::from_secs(4));
        let clock = ManualClock::new();
        let limiter = AdaptiveLimiter::new(&clock, aimd.clone());
        let mut model = aimd;
        let mut out = Vec::new();
        let (mut drops, mut ignored) = (0, 0);
        for op in ops {
            match op {
                Op::Acquire => match limiter.try_acquire() {
                    Ok(t) => {
                        prop_assert_eq!(t.in_flight_at_start(), out.len() + 1);
                        out.push((t, clock.now()));
                    }
                    Err(_) => prop_assert!(out.len() >= limiter.limit()),
                },
                Op::Advance(d) => clock.advance(d),
                Op::End(_, _) if out.is_empty() => {}
                Op::End(i, v) => {
                    let (t, start) = out.swap_remove(i % out.len());
                    let rtt = clock.now() - start;
                    let in_flight = t.in_flight_at_start();
                    match v {
                        0 => {
                            t.success();
                            model.on_sample(Sample::success(rtt, in_flight));
                        }
                        1 => {
                            t.dropped();
                            model.on_sample(Sample::dropped(rtt, in_flight));
                            drops += 1;
                        }
                        _ => {
                            drop(t);
                            ignored += 1;
                        }
                    }
                    prop_assert_eq!(limiter.limit(), model.limit());
                }
            }
            prop_assert_eq!(limiter.in_flight(), out.len());
        }
        let m = limiter.metrics();
        prop_assert_eq!((m.dropped, m.ignored), (drops, ignored));
        drop(out);
        prop_assert_eq!(limiter.in_flight(), 0);
        let all: Vec<_> = (0..limiter.limit()).map(|_| limiter.try_acquire().unwrap()).collect();
        prop_assert!(limiter.try_acquire().is_err(), "exactly `limit` slots");
        drop(all);
    }

    /// Whatever the samples, every algorithm's limit stays in [min, max].
    #[test]
    fn adaptive_algorithms_stay_within_their_bounds(
        (mut a, min, max) in algo(),
        samples in prop::collection::vec(sample(), 0..300),
    ) {
        let a = a.as_dyn();
        prop_assert!((min..=max).contains(&a.limit()));
        for s in samples {
            let l = a.on_sample(s);
            prop_assert!((min..=max).contains(&l), "{} outside [{}, {}]", l, min, max);
            prop_assert_eq!(l, a.limit());
        }
    }

    /// Steady, uncongested samples with the limit in use: each algorithm
    /// grows to its maximum and stays there.
    #[test]
    fn adaptive_algorithms_grow_to_the_maximum_while_latency_holds(
        (mut a, _min, max) in algo(),
        rtt_us in 1u64..=100_000,
    ) {
        let a = a.as_dyn();
        let rtt = Duration::from_micros(rtt_us);
        for _ in 0..5000 {
            let l = a.limit();
            a.on_sample(Sample::success(rtt, l));
        }
        prop_assert_eq!(a.limit(), max);
    }

    /// A synthetic server of capacity `c`: past `c` calls the RTT grows with
    /// the queue, and past `2c` calls time out (a drop, at 10× the base
    /// RTT). Fed its samples with the limit in use, each algorithm settles
    /// between the queueing point and the timeout point, give or take one
    /// of its steps (Vegas's largest is `6 log10`).
    #[test]
    fn adaptive_algorithms_settle_between_queueing_and_timeouts_of_a_synthetic_server(
        c in 20usize..=150,
        which in 0u8..3,
        seed in any::<u64>(),
    ) {
        let mut a = match which {
            0 => Algo::Aimd(Aimd::new().limits(1, 1000)),
            1 => Algo::Gradient2(Gradient2::new().limits(1, 1000)),
            _ => Algo::Vegas(Vegas::new().limits(1, 1000).seed(seed)),
        };
        let a = a.as_dyn();
        let base = 10_000_000f64; // 10 ms
        let mut tail = Vec::new();
        for i in 0..20_000 {
            let l = a.limit();
            let s = if l > 2 * c {
                Sample::dropped(Duration::from_nanos((10.0 * base) as u64), l)
            } else {
                let rtt = base * (l as f64 / c as f64).max(1.0);
                Sample::success(Duration::from_nanos(rtt as u64), l)
            };
            a.on_sample(s);
            if i >= 15_000 {
                tail.push(a.limit());
            }
        }
        let (lo, hi) = (*tail.iter().min().unwrap(), *tail.iter().max().unwrap());
        let log10 = ((2 * c) as f64).log10().floor().max(1.0) as usize;
        prop_assert!(
            lo >= c && hi <= 2 * c + 6 * log10 + 1,
            "settled in [{}, {}] for c = {}", lo, hi, c
        );
    }
}
