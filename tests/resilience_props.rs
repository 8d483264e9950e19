//! Property tests: backoff bounds for any parameters, the forking of a
//! seeded `DefaultRng`, and the circuit breaker against a small reference
//! model of its state machine.

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use sluicegate::breaker::{BreakerConfig, CircuitBreaker, Rejected, State, StateMachine};
use sluicegate::retry::{Backoff, DefaultRng, Jitter, RandomSource, SplitMix64};
use sluicegate::time::ManualClock;

const CASES: u32 = 256;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Constant,
    Linear(Duration),
    Exponential(f64),
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        8 => (0u64..=10_000_000_000).prop_map(Duration::from_nanos),
        1 => Just(Duration::ZERO),
        1 => Just(Duration::MAX),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Constant),
        duration().prop_map(Kind::Linear),
        prop_oneof![1.0..=10.0f64, Just(1.0), Just(2.0), Just(1e300)].prop_map(Kind::Exponential),
    ]
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated),
    ]
}

fn backoff(
    kind: Kind,
    base: Duration,
    max: Option<Duration>,
    jitter: Jitter,
    seed: u64,
) -> Backoff<SplitMix64> {
    let b = match kind {
        Kind::Constant => Backoff::constant(base),
        Kind::Linear(step) => Backoff::linear(base, step),
        Kind::Exponential(f) => Backoff::exponential(base).factor(f),
    };
    let b = match max {
        Some(m) => b.max_delay(m),
        None => b,
    };
    b.jitter(jitter).rng(SplitMix64::new(seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Every delay is at most the cap; the un-jittered schedule starts at
    /// the base (capped) and never shrinks; each jitter stays inside its
    /// documented range around the un-jittered delay.
    #[test]
    fn backoff_delays_stay_within_their_bounds(
        kind in kind(),
        base in duration(),
        max in proptest::option::of(duration()),
        jitter in jitter(),
        seed in any::<u64>(),
    ) {
        let cap = match kind {
            Kind::Constant => max.unwrap_or(base),
            _ => max.unwrap_or(Duration::MAX),
        };
        let plain: Vec<Duration> = backoff(kind, base, max, Jitter::None, 0).take(200).collect();
        let jittered: Vec<Duration> = backoff(kind, base, max, jitter, seed).take(200).collect();
        prop_assert_eq!(plain[0], base.min(cap));
        for w in plain.windows(2) {
            prop_assert!(w[0] <= w[1], "un-jittered delays never shrink: {:?}", w);
        }
        if let Kind::Linear(step) = kind {
            for (i, d) in plain.iter().enumerate() {
                let expected = step
                    .checked_mul(i as u32)
                    .and_then(|s| base.checked_add(s))
                    .unwrap_or(Duration::MAX)
                    .min(cap);
                prop_assert_eq!(*d, expected);
            }
        }
        let mut prev = base.min(cap);
        for (d, p) in jittered.iter().zip(&plain) {
            prop_assert!(*d <= cap);
            match jitter {
                Jitter::None => prop_assert_eq!(d, p),
                Jitter::Full => prop_assert!(d <= p),
                Jitter::Equal => prop_assert!(*d >= *p / 2 && d <= p),
                Jitter::Decorrelated => {
                    let hi = prev.saturating_mul(3).max(base).min(cap);
                    prop_assert!(*d >= base.min(cap) && *d <= hi, "{:?} not in [{:?}, {:?}]", d, base, hi);
                }
            }
            prev = *d;
        }
    }

    /// Far-out attempts neither overflow nor panic, for any parameters.
    #[test]
    fn attempt_ten_thousand_is_well_defined(
        kind in kind(),
        base in duration(),
        max in proptest::option::of(duration()),
        jitter in jitter(),
        seed in any::<u64>(),
    ) {
        let mut b = backoff(kind, base, max, jitter, seed);
        let d = b.nth(10_000).unwrap();
        if let Some(m) = max {
            prop_assert!(d <= m);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// For any seed, the clones of a `DefaultRng` (nested clones too) draw
    /// pairwise different streams, none of them the original's own;
    /// rebuilding it from the seed forks the same streams in the same
    /// order, whatever the original drew in between.
    #[test]
    fn default_rng_clones_fork_distinct_streams_that_the_seed_replays(
        seed in any::<u64>(),
        clones in 2usize..8,
        draws in 1usize..4,
    ) {
        let first_three = |rng: &mut DefaultRng| (0..3).map(|_| rng.next_u64()).collect::<Vec<_>>();
        // The clones' streams, then the original's.
        let streams = |draws| {
            let mut parent = DefaultRng::from_seed(seed);
            let mut out = vec![];
            for _ in 0..clones {
                let mut child = parent.clone();
                let mut grandchild = child.clone();
                out.push(first_three(&mut child));
                out.push(first_three(&mut grandchild));
                for _ in 0..draws {
                    parent.next_u64();
                }
            }
            (out, first_three(&mut DefaultRng::from_seed(seed)))
        };
        let (forks, own) = streams(draws);
        prop_assert_eq!(&forks, &streams(0).0);
        for (i, a) in forks.iter().enumerate() {
            prop_assert_ne!(a, &own);
            for b in &forks[i + 1..] {
                prop_assert_ne!(a, b);
            }
        }
    }
}

// ---- the breaker against a reference model ----

#[derive(Debug, Clone, Copy)]
enum Op {
    Advance(u64),
    Acquire,
    /// Finish the outstanding call at this index (modulo their number).
    Succeed(usize),
    Fail(usize),
    Drop(usize),
    Observe,
    ForceOpen,
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..4_000).prop_map(Op::Advance),
        6 => Just(Op::Acquire),
        4 => any::<usize>().prop_map(Op::Succeed),
        4 => any::<usize>().prop_map(Op::Fail),
        2 => any::<usize>().prop_map(Op::Drop),
        1 => Just(Op::Observe),
        1 => Just(Op::ForceOpen),
        1 => Just(Op::Reset),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Model {
    Closed { failures: u32 },
    Open { until: Option<Duration> },
    HalfOpen { trials: u32, successes: u32 },
}

/// The breaker as specified, in the plainest terms: a state, and an era
/// that every change of state starts anew (calls report into their era).
struct Reference {
    threshold: u32,
    trials: u32,
    successes_to_close: u32,
    recovery: Duration,
    state: Model,
    era: u64,
}

impl Reference {
    fn enter(&mut self, state: Model) {
        self.state = state;
        self.era += 1;
    }

    fn observe(&mut self, now: Duration) -> State {
        if let Model::Open { until: Some(t) } = self.state {
            if now >= t {
                self.enter(Model::HalfOpen {
                    trials: 0,
                    successes: 0,
                });
            }
        }
        match self.state {
            Model::Closed { .. } => State::Closed,
            Model::Open { .. } => State::Open,
            Model::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// `Ok((era, is_trial))` or the rejection.
    fn acquire(&mut self, now: Duration) -> Result<(u64, bool), Rejected> {
        self.observe(now);
        match &mut self.state {
            Model::Closed { .. } => Ok((self.era, false)),
            Model::Open { until: None } => Err(Rejected::ForcedOpen),
            Model::Open { until: Some(t) } => Err(Rejected::Open { retry_in: *t - now }),
            Model::HalfOpen { trials, .. } if *trials < self.trials => {
                *trials += 1;
                Ok((self.era, true))
            }
            Model::HalfOpen { .. } => Err(Rejected::HalfOpenFull),
        }
    }

    fn finish(&mut self, era: u64, outcome: Option<bool>, now: Duration) {
        if era != self.era {
            return;
        }
        let open = Model::Open {
            until: Some(now + self.recovery),
        };
        match (&mut self.state, outcome) {
            (Model::Closed { failures }, Some(true)) => *failures = 0,
            (Model::Closed { failures }, Some(false)) => {
                *failures += 1;
                if *failures >= self.threshold {
                    self.enter(open);
                }
            }
            (Model::HalfOpen { trials, successes }, Some(true)) => {
                *trials -= 1;
                *successes += 1;
                if *successes >= self.successes_to_close {
                    self.enter(Model::Closed { failures: 0 });
                }
            }
            (Model::HalfOpen { .. }, Some(false)) => self.enter(open),
            (Model::HalfOpen { trials, .. }, None) => *trials -= 1,
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Driven by random requests, outcomes, cancellations and time steps,
    /// the shared breaker admits and rejects exactly as the model does, is
    /// in the same state, counts the same, and never has more than N trial
    /// calls in flight.
    #[test]
    fn breaker_matches_the_reference_model(
        threshold in 1u32..5,
        trials in 1u32..4,
        successes_to_close in 1u32..4,
        recovery_ms in 1u64..5_000,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let clock = ManualClock::new();
        let recovery = Duration::from_millis(recovery_ms);
        let breaker = CircuitBreaker::with_config(
            &clock,
            BreakerConfig::new()
                .failure_threshold(threshold)
                .half_open_max_calls(trials)
                .success_threshold(successes_to_close),
            core::iter::repeat(recovery),
        );
        let mut model = Reference {
            threshold, trials, successes_to_close, recovery,
            state: Model::Closed { failures: 0 },
            era: 0,
        };
        let mut outstanding = Vec::new();
        let (mut calls, mut rejections) = (0, 0);
        for op in ops {
            let now = clock.now();
            match op {
                Op::Advance(ms) => clock.advance(Duration::from_millis(ms)),
                Op::Acquire => match (breaker.try_acquire(), model.acquire(now)) {
                    (Ok(permit), Ok((era, trial))) => {
                        prop_assert_eq!(permit.is_trial(), trial);
                        outstanding.push((permit, era));
                        calls += 1;
                    }
                    (Err(rejected), Err(expected)) => {
                        prop_assert_eq!(rejected, expected);
                        rejections += 1;
                    }
                    (got, want) => prop_assert!(false, "breaker {:?}, model {:?}", got.map(|_| ()), want),
                },
                Op::Succeed(i) | Op::Fail(i) | Op::Drop(i) if !outstanding.is_empty() => {
                    let (permit, era) = outstanding.swap_remove(i % outstanding.len());
                    let outcome = match op {
                        Op::Succeed(_) => { permit.success(); Some(true) }
                        Op::Fail(_) => { permit.failure(); Some(false) }
                        _ => { drop(permit); None }
                    };
                    model.finish(era, outcome, now);
                }
                Op::Succeed(_) | Op::Fail(_) | Op::Drop(_) => {}
                Op::Observe => prop_assert_eq!(breaker.state(), model.observe(now)),
                Op::ForceOpen => {
                    breaker.force_open();
                    model.enter(Model::Open { until: None });
                }
                Op::Reset => {
                    breaker.reset();
                    model.enter(Model::Closed { failures: 0 });
                }
            }
            let live_trials = outstanding
                .iter()
                .filter(|(p, era)| p.is_trial() && *era == model.era)
                .count() as u32;
            prop_assert!(live_trials <= trials, "{} trials in flight, limit {}", live_trials, trials);
            if let Model::HalfOpen { trials: t, .. } = model.state {
                prop_assert_eq!(t, live_trials);
            }
        }
        let m = breaker.metrics();
        prop_assert_eq!(m.state, model.observe(clock.now()));
        // Calls are counted when they finish.
        prop_assert_eq!((m.calls, m.rejections), (calls - outstanding.len(), rejections));
    }

    /// The failure-rate window trips exactly when the last `window`
    /// closed-state outcomes (at least `min_calls` of them) hold
    /// `percent` % failures, modelled with a plain queue.
    #[test]
    fn failure_rate_window_matches_a_queue(
        percent in 1u8..=100,
        window in 1u16..=300,
        min_frac in 1u16..=100,
        outcomes in proptest::collection::vec(any::<bool>(), 1..600),
    ) {
        let window = window.min(256);
        let min_calls = (window * min_frac / 100).max(1);
        let mut m: StateMachine<u64> = StateMachine::new(
            BreakerConfig::new().failure_threshold(u32::MAX).failure_rate(percent, window, min_calls),
            core::iter::repeat(Duration::from_secs(1)),
        );
        let mut queue = VecDeque::new();
        for failed in outcomes {
            let ticket = m.on_request(0).unwrap();
            queue.push_back(failed);
            if queue.len() > usize::from(window) {
                queue.pop_front();
            }
            if failed { m.on_failure(ticket, 0) } else { m.on_success(ticket) }
            let failures = queue.iter().filter(|f| **f).count();
            let trips = failed
                && queue.len() >= usize::from(min_calls)
                && failures * 100 >= usize::from(percent) * queue.len();
            prop_assert_eq!(m.state() == State::Open, trips);
            if trips {
                break;
            }
        }
    }
}
