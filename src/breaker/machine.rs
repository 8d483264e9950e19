//! The sans-IO circuit-breaker state machine: time and outcomes in,
//! decisions out. [`CircuitBreaker`](super::CircuitBreaker) wraps it in a
//! lock and adds a lock-free fast path for the closed state.

use core::fmt;
use core::time::Duration;

use crate::time::Timestamp;

/// The state of a circuit breaker.
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::State;
/// assert_eq!(State::HalfOpen.to_string(), "half-open");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are rejected without running, until the recovery timeout ends
    /// (or [`reset`](super::CircuitBreaker::reset), if forced open).
    Open,
    /// A limited number of trial calls go through; their outcome decides
    /// between closed and open.
    HalfOpen,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        })
    }
}

/// A change of [`State`], as reported to a state-change hook.
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::{State, StateChange};
/// let c = StateChange { from: State::Closed, to: State::Open };
/// assert_eq!(c.to_string(), "closed -> open");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateChange {
    /// The state before.
    pub from: State,
    /// The state after.
    pub to: State,
}

impl fmt::Display for StateChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.from, self.to)
    }
}

/// Tripping on the failure rate over the last calls: open when, among the
/// last `window` outcomes recorded in the closed state (once there are at
/// least `min_calls` of them), at least `percent` % are failures. Set it
/// with [`BreakerConfig::failure_rate`].
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::BreakerConfig;
/// // Trip when half of the last 20 calls failed, once 10 have been made.
/// let rate = BreakerConfig::new().failure_rate(50, 20, 10).get_failure_rate().unwrap();
/// assert_eq!((rate.percent(), rate.window(), rate.min_calls()), (50, 20, 10));
/// assert!(BreakerConfig::new().get_failure_rate().is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FailureRate {
    percent: u8,
    window: u16,
    min_calls: u16,
}

impl FailureRate {
    /// The failure percentage that trips the breaker.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().failure_rate(25, 8, 4);
    /// assert_eq!(c.get_failure_rate().unwrap().percent(), 25);
    /// ```
    pub const fn percent(&self) -> u8 {
        self.percent
    }

    /// How many of the latest outcomes are looked at.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().failure_rate(25, 8, 4);
    /// assert_eq!(c.get_failure_rate().unwrap().window(), 8);
    /// ```
    pub const fn window(&self) -> u16 {
        self.window
    }

    /// How many outcomes the window needs before the rate counts.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().failure_rate(25, 8, 4);
    /// assert_eq!(c.get_failure_rate().unwrap().min_calls(), 4);
    /// ```
    pub const fn min_calls(&self) -> u16 {
        self.min_calls
    }
}

/// The thresholds of a circuit breaker. `const`, so it can be built in a
/// `static` or `const`.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`failure_threshold`](Self::failure_threshold) | 5 | consecutive failures that trip the breaker (asyncio's `failure_threshold`) |
/// | [`failure_rate`](Self::failure_rate) | off | also trip on a failure rate over a count-based window |
/// | [`half_open_max_calls`](Self::half_open_max_calls) | 1 | trial calls admitted at once while half-open |
/// | [`success_threshold`](Self::success_threshold) | 1 | trial successes that close the breaker |
///
/// # Examples
///
/// ```
/// use sluicegate::breaker::BreakerConfig;
/// const CONFIG: BreakerConfig = BreakerConfig::new()
///     .failure_threshold(3)
///     .failure_rate(50, 20, 10)
///     .half_open_max_calls(2)
///     .success_threshold(2);
/// assert_eq!(CONFIG.get_failure_threshold(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BreakerConfig {
    failure_threshold: u32,
    failure_rate: Option<FailureRate>,
    half_open_max_calls: u32,
    success_threshold: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BreakerConfig {
    /// The largest failure-rate window (outcomes are kept in a 256-bit
    /// ring, so no allocation is needed).
    pub const MAX_WINDOW: u16 = 256;

    /// The defaults in the table above.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new();
    /// assert_eq!(c.get_failure_threshold(), 5);
    /// ```
    pub const fn new() -> Self {
        Self {
            failure_threshold: 5,
            failure_rate: None,
            half_open_max_calls: 1,
            success_threshold: 1,
        }
    }

    /// Trips after `failures` consecutive failures in the closed state.
    /// `u32::MAX` in effect turns this off (to trip on the rate alone).
    ///
    /// # Panics
    ///
    /// If `failures` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().failure_threshold(3);
    /// assert_eq!(c.get_failure_threshold(), 3);
    /// ```
    pub const fn failure_threshold(mut self, failures: u32) -> Self {
        assert!(failures >= 1, "failure_threshold must be at least 1");
        self.failure_threshold = failures;
        self
    }

    /// Also trips when at least `percent` % of the last `window` outcomes
    /// (once there are at least `min_calls`) are failures. While it is on,
    /// every outcome in the closed state takes the breaker's lock briefly
    /// (to record it), so the closed path is no longer lock-free.
    ///
    /// # Panics
    ///
    /// If `percent` is not in `1..=100`, `window` not in
    /// `1..=`[`MAX_WINDOW`](Self::MAX_WINDOW), or `min_calls` not in
    /// `1..=window`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// // Half of the last 4 calls, once there are 4; never 3 failures in a row.
    /// let config = BreakerConfig::new().failure_threshold(3).failure_rate(50, 4, 4);
    /// let mut m = StateMachine::new(config, core::iter::repeat(Duration::from_secs(1)));
    /// for failed in [true, false, false] {
    ///     let t = m.on_request(0u64).unwrap();
    ///     if failed { m.on_failure(t, 0) } else { m.on_success(t) }
    /// }
    /// assert_eq!(m.state(), State::Closed); // too few calls yet
    /// let t = m.on_request(0).unwrap();
    /// m.on_failure(t, 0);
    /// assert_eq!(m.state(), State::Open); // 2 of the last 4 failed: 50 %
    /// ```
    pub const fn failure_rate(mut self, percent: u8, window: u16, min_calls: u16) -> Self {
        assert!(
            percent >= 1 && percent <= 100,
            "failure_rate percent must be in 1..=100"
        );
        assert!(
            window >= 1 && window <= Self::MAX_WINDOW,
            "failure_rate window must be in 1..=BreakerConfig::MAX_WINDOW (256)"
        );
        assert!(
            min_calls >= 1 && min_calls <= window,
            "failure_rate min_calls must be in 1..=window"
        );
        self.failure_rate = Some(FailureRate {
            percent,
            window,
            min_calls,
        });
        self
    }

    /// Admits at most `calls` trial calls at once while half-open.
    ///
    /// # Panics
    ///
    /// If `calls` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().half_open_max_calls(3);
    /// assert_eq!(c.get_half_open_max_calls(), 3);
    /// ```
    pub const fn half_open_max_calls(mut self, calls: u32) -> Self {
        assert!(calls >= 1, "half_open_max_calls must be at least 1");
        self.half_open_max_calls = calls;
        self
    }

    /// Closes after `successes` successful trial calls (across rounds of
    /// trials, if it exceeds [`half_open_max_calls`](Self::half_open_max_calls)).
    ///
    /// # Panics
    ///
    /// If `successes` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = sluicegate::breaker::BreakerConfig::new().success_threshold(2);
    /// assert_eq!(c.get_success_threshold(), 2);
    /// ```
    pub const fn success_threshold(mut self, successes: u32) -> Self {
        assert!(successes >= 1, "success_threshold must be at least 1");
        self.success_threshold = successes;
        self
    }

    /// See [`failure_threshold`](Self::failure_threshold).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::breaker::BreakerConfig::new().get_failure_threshold(), 5);
    /// ```
    pub const fn get_failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// See [`half_open_max_calls`](Self::half_open_max_calls).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::breaker::BreakerConfig::new().get_half_open_max_calls(), 1);
    /// ```
    pub const fn get_half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls
    }

    /// See [`success_threshold`](Self::success_threshold).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::breaker::BreakerConfig::new().get_success_threshold(), 1);
    /// ```
    pub const fn get_success_threshold(&self) -> u32 {
        self.success_threshold
    }

    /// See [`failure_rate`](Self::failure_rate); `None` while it is off (the
    /// default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(sluicegate::breaker::BreakerConfig::new().get_failure_rate().is_none());
    /// ```
    pub const fn get_failure_rate(&self) -> Option<FailureRate> {
        self.failure_rate
    }
}

/// The admission of one call, to be reported back exactly once with
/// [`StateMachine::on_success`], [`on_failure`](StateMachine::on_failure) or
/// [`on_cancel`](StateMachine::on_cancel). Not `Clone`: one report per call.
///
/// An outcome reported for a ticket from an earlier state (the breaker has
/// changed state since the call was admitted) is ignored.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the call's outcome with this ticket"]
pub struct Ticket {
    pub(crate) generation: usize,
    pub(crate) trial: bool,
}

impl Ticket {
    /// Whether this call is a half-open trial.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, StateMachine};
    /// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(std::time::Duration::ZERO));
    /// let t = m.on_request(0u64).unwrap();
    /// assert!(!t.is_trial());
    /// m.on_success(t);
    /// ```
    pub fn is_trial(&self) -> bool {
        self.trial
    }
}

/// Why a breaker turned a call away (the call must not run): from
/// [`StateMachine::on_request`],
/// [`CircuitBreaker::try_acquire`](super::CircuitBreaker::try_acquire), and
/// inside [`BreakerError::Rejected`](super::BreakerError::Rejected) from
/// [`call`](super::CircuitBreaker::call).
///
/// [`retry_in`](Self::retry_in) is the time to wait where one is known, so
/// it can feed a retry's `retry_after` directly.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerConfig, Rejected, StateMachine};
///
/// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(Duration::from_secs(60)));
/// m.force_open();
/// let rejected = m.on_request(0u64).unwrap_err();
/// assert_eq!(rejected, Rejected::ForcedOpen);
/// assert_eq!(rejected.retry_in(), None); // not "in Duration::MAX"
/// assert_eq!(rejected.to_string(), "circuit breaker is forced open until reset");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejected {
    /// Open after failures: the next trial call is admitted in `retry_in`.
    Open {
        /// The time until the recovery timeout ends.
        retry_in: Duration,
    },
    /// Half-open, and every trial slot is taken
    /// ([`half_open_max_calls`](BreakerConfig::half_open_max_calls) trials
    /// are running); one frees when a trial ends.
    HalfOpenFull,
    /// Opened by [`force_open`](super::CircuitBreaker::force_open): no
    /// call, not even a trial, until [`reset`](super::CircuitBreaker::reset).
    ForcedOpen,
}

impl Rejected {
    /// How long until the breaker admits a trial call, where that is known:
    /// `Some` for [`Open`](Self::Open), `None` for
    /// [`HalfOpenFull`](Self::HalfOpenFull) (a slot frees when a trial
    /// ends) and [`ForcedOpen`](Self::ForcedOpen) (until someone resets
    /// it). Fed to a retry's `retry_after`, `None` means "follow the
    /// backoff".
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(1), core::iter::repeat(Duration::from_secs(60)));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// let rejected = m.on_request(15_000_000_000).unwrap_err(); // 15 s later
    /// assert_eq!(rejected.retry_in(), Some(Duration::from_secs(45)));
    /// ```
    pub fn retry_in(&self) -> Option<Duration> {
        match self {
            Self::Open { retry_in } => Some(*retry_in),
            Self::HalfOpenFull | Self::ForcedOpen => None,
        }
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open { retry_in } => {
                write!(f, "circuit breaker is open (next trial in {retry_in:?})")
            }
            Self::HalfOpenFull => {
                f.write_str("circuit breaker is half-open and all its trial slots are taken")
            }
            Self::ForcedOpen => f.write_str("circuit breaker is forced open until reset"),
        }
    }
}

impl core::error::Error for Rejected {}

/// Outcomes of the last `capacity` closed-state calls, as a bit ring.
#[derive(Debug, Clone)]
struct Window {
    bits: [u64; 4],
    capacity: u16,
    len: u16,
    next: u16,
    failures: u16,
}

impl Window {
    const fn new(capacity: u16) -> Self {
        Self {
            bits: [0; 4],
            capacity,
            len: 0,
            next: 0,
            failures: 0,
        }
    }

    fn record(&mut self, failed: bool) {
        if self.capacity == 0 {
            return;
        }
        let (word, bit) = (usize::from(self.next / 64), self.next % 64);
        if self.len == self.capacity {
            if self.bits[word] >> bit & 1 == 1 {
                self.failures -= 1;
            }
        } else {
            self.len += 1;
        }
        if failed {
            self.bits[word] |= 1 << bit;
            self.failures += 1;
        } else {
            self.bits[word] &= !(1 << bit);
        }
        self.next = (self.next + 1) % self.capacity;
    }

    fn tripped(&self, rate: &FailureRate) -> bool {
        self.len >= rate.min_calls
            && u32::from(self.failures) * 100 >= u32::from(rate.percent) * u32::from(self.len)
    }
}

#[derive(Debug, Clone)]
enum Inner<I> {
    Closed {
        consecutive: u32,
        window: Window,
    },
    /// `until: None` means forced open: no trial until `reset`.
    Open {
        until: Option<I>,
    },
    HalfOpen {
        in_flight: u32,
        successes: u32,
    },
}

/// Generations live in the high bits of `CircuitBreaker`'s state word.
const GENERATION_MASK: usize = usize::MAX >> 2;

/// The recovery schedule of a breaker with a fixed recovery timeout.
///
/// # Examples
///
/// ```
/// let fixed: sluicegate::breaker::FixedRecovery = core::iter::repeat(std::time::Duration::from_secs(60));
/// # drop(fixed);
/// ```
pub type FixedRecovery = core::iter::Repeat<Duration>;

/// A circuit breaker as a pure state machine: it is told the time and the
/// calls' outcomes and answers whether a call may run. No clock, no lock,
/// no async: embed it where you own the concurrency, or property-test it.
/// [`CircuitBreaker`](super::CircuitBreaker) is this machine behind a lock,
/// with a lock-free closed path.
///
/// `I` is the clock's [`Timestamp`]; `B` the recovery schedule, an iterator
/// of open durations: `core::iter::repeat(d)` for a fixed recovery timeout,
/// or a [`Backoff`](crate::retry::Backoff) so repeated trips wait longer
/// (it restarts when the breaker closes; when it runs out, the last
/// duration is reused).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
///
/// let secs = Duration::from_secs;
/// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(2), core::iter::repeat(secs(60)));
/// for _ in 0..2 {
///     let t = m.on_request(secs(0)).unwrap();
///     m.on_failure(t, secs(0));
/// }
/// assert_eq!(m.state(), State::Open);
/// assert_eq!(m.on_request(secs(10)).unwrap_err().retry_in(), Some(secs(50)));
///
/// let trial = m.on_request(secs(60)).unwrap(); // half-open: one trial
/// assert!(m.on_request(secs(60)).is_err());
/// m.on_success(trial);
/// assert_eq!(m.state(), State::Closed);
/// ```
#[derive(Debug, Clone)]
pub struct StateMachine<I, B = FixedRecovery> {
    config: BreakerConfig,
    recovery: B,
    schedule: B,
    last_delay: Duration,
    generation: usize,
    state: Inner<I>,
}

impl<I: Timestamp, B: Iterator<Item = Duration> + Clone> StateMachine<I, B> {
    /// A closed breaker with `config`, opening for the durations `recovery`
    /// yields.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// // Recovery timeouts of 1 s, 2 s, 4 s, ... for each reopening.
    /// let backoff = core::iter::successors(Some(Duration::from_secs(1)), |d| Some(*d * 2));
    /// let m: StateMachine<u64, _> = StateMachine::new(BreakerConfig::new(), backoff);
    /// assert_eq!(m.state(), State::Closed);
    /// ```
    pub fn new(config: BreakerConfig, recovery: B) -> Self {
        Self {
            config,
            schedule: recovery.clone(),
            recovery,
            last_delay: Duration::ZERO,
            generation: 0,
            state: Self::closed(&config),
        }
    }

    fn closed(config: &BreakerConfig) -> Inner<I> {
        Inner::Closed {
            consecutive: 0,
            window: Window::new(config.failure_rate.map_or(0, |r| r.window)),
        }
    }

    /// The configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, StateMachine};
    /// let m: StateMachine<u64> = StateMachine::new(BreakerConfig::new(), core::iter::repeat(std::time::Duration::ZERO));
    /// assert_eq!(m.config(), &BreakerConfig::new());
    /// ```
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The state as last changed. An open breaker whose recovery timeout has
    /// ended still reads `Open` here until a request (or
    /// [`state_at`](Self::state_at)) moves it to half-open.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(1), core::iter::repeat(Duration::ZERO));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// assert_eq!(m.state(), State::Open); // though its (zero) timeout is over
    /// assert_eq!(m.state_at(0), State::HalfOpen);
    /// ```
    pub fn state(&self) -> State {
        match self.state {
            Inner::Closed { .. } => State::Closed,
            Inner::Open { .. } => State::Open,
            Inner::HalfOpen { .. } => State::HalfOpen,
        }
    }

    /// The state at `now`: moves an open breaker whose recovery timeout has
    /// ended to half-open first.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    /// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(1), core::iter::repeat(Duration::from_secs(5)));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// assert_eq!(m.state_at(4_999_999_999), State::Open);
    /// assert_eq!(m.state_at(5_000_000_000), State::HalfOpen);
    /// ```
    pub fn state_at(&mut self, now: I) -> State {
        if let Inner::Open { until: Some(t) } = self.state {
            if now >= t {
                self.transition(Inner::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                });
            }
        }
        self.state()
    }

    /// Asks to run a call at `now`.
    ///
    /// # Errors
    ///
    /// [`Rejected`] if the breaker is open (or forced open), or half-open
    /// with every trial slot taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(Duration::ZERO));
    /// let ticket = m.on_request(0u64).unwrap();
    /// m.on_success(ticket); // every ticket is reported exactly once
    /// m.force_open();
    /// assert!(m.on_request(0).is_err());
    /// ```
    pub fn on_request(&mut self, now: I) -> Result<Ticket, Rejected> {
        let generation = self.generation;
        match &mut self.state {
            Inner::Closed { .. } => Ok(Ticket {
                generation,
                trial: false,
            }),
            Inner::Open { until: None } => Err(Rejected::ForcedOpen),
            Inner::Open { until: Some(t) } if now < *t => Err(Rejected::Open {
                retry_in: t.saturating_duration_since(now),
            }),
            Inner::Open { .. } => {
                self.transition(Inner::HalfOpen {
                    in_flight: 1,
                    successes: 0,
                });
                Ok(Ticket {
                    generation: self.generation,
                    trial: true,
                })
            }
            Inner::HalfOpen { in_flight, .. } => {
                if *in_flight < self.config.half_open_max_calls {
                    *in_flight += 1;
                    Ok(Ticket {
                        generation,
                        trial: true,
                    })
                } else {
                    Err(Rejected::HalfOpenFull)
                }
            }
        }
    }

    /// Reports that the call of `ticket` succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(Duration::ZERO));
    /// let failed = m.on_request(0u64).unwrap();
    /// m.on_failure(failed, 0);
    /// assert_eq!(m.consecutive_failures(), 1);
    /// let t = m.on_request(0).unwrap();
    /// m.on_success(t); // a success ends the run of failures
    /// assert_eq!(m.consecutive_failures(), 0);
    /// ```
    pub fn on_success(&mut self, ticket: Ticket) {
        if ticket.generation != self.generation {
            return;
        }
        match &mut self.state {
            Inner::Closed {
                consecutive,
                window,
            } => {
                *consecutive = 0;
                window.record(false);
            }
            Inner::HalfOpen {
                in_flight,
                successes,
            } => {
                // Saturating: a ticket of another machine with the same generation (a
                // misuse) must not wrap the count and wedge the breaker half-open.
                *in_flight = in_flight.saturating_sub(1);
                *successes += 1;
                if *successes >= self.config.success_threshold {
                    self.schedule = self.recovery.clone();
                    self.transition(Self::closed(&self.config));
                }
            }
            Inner::Open { .. } => {}
        }
    }

    /// Reports that the call of `ticket` failed at `now`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(2), core::iter::repeat(Duration::from_secs(9)));
    /// for _ in 0..2 {
    ///     let t = m.on_request(0u64).unwrap();
    ///     m.on_failure(t, 0);
    /// }
    /// assert_eq!(m.state(), State::Open);
    /// assert_eq!(m.on_request(0).unwrap_err().retry_in(), Some(Duration::from_secs(9)));
    /// ```
    pub fn on_failure(&mut self, ticket: Ticket, now: I) {
        if ticket.generation != self.generation {
            return;
        }
        let trip = match &mut self.state {
            Inner::Closed {
                consecutive,
                window,
            } => {
                *consecutive = consecutive.saturating_add(1);
                window.record(true);
                *consecutive >= self.config.failure_threshold
                    || self
                        .config
                        .failure_rate
                        .is_some_and(|rate| window.tripped(&rate))
            }
            Inner::HalfOpen { in_flight, .. } => {
                // The trial is over: if the recovery schedule panics below,
                // its slot must not stay taken (the breaker would be stuck
                // half-open).
                *in_flight = in_flight.saturating_sub(1);
                true
            }
            Inner::Open { .. } => false,
        };
        if trip {
            let delay = self.schedule.next().unwrap_or(self.last_delay);
            self.last_delay = delay;
            self.transition(Inner::Open {
                until: Some(now.saturating_add(delay)),
            });
        }
    }

    /// Reports that the call of `ticket` ended without an outcome (it was
    /// dropped): counts as neither success nor failure, and a trial gives
    /// its slot back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, StateMachine};
    /// let mut m = StateMachine::new(BreakerConfig::new().failure_threshold(1), core::iter::repeat(Duration::ZERO));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// let trial = m.on_request(0).unwrap();
    /// assert!(m.on_request(0).is_err());
    /// m.on_cancel(trial);
    /// assert!(m.on_request(0).is_ok());
    /// ```
    pub fn on_cancel(&mut self, ticket: Ticket) {
        if ticket.generation != self.generation {
            return;
        }
        if let Inner::HalfOpen { in_flight, .. } = &mut self.state {
            // Saturating: a ticket of another machine with the same generation (a
            // misuse) must not wrap the count and wedge the breaker half-open.
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    /// Opens the breaker until [`reset`](Self::reset): every call is
    /// rejected, with no trial.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(Duration::ZERO));
    /// m.force_open();
    /// assert_eq!(m.state_at(u64::MAX), State::Open); // no recovery timeout ends it
    /// ```
    pub fn force_open(&mut self) {
        self.transition(Inner::Open { until: None });
    }

    /// Closes the breaker and forgets its history (counts, window, recovery
    /// schedule). Calls admitted before are ignored when they report.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    /// let mut m: StateMachine<u64> = StateMachine::new(BreakerConfig::new(), core::iter::repeat(std::time::Duration::ZERO));
    /// m.force_open();
    /// m.reset();
    /// assert_eq!(m.state(), State::Closed);
    /// ```
    pub fn reset(&mut self) {
        self.schedule = self.recovery.clone();
        self.last_delay = Duration::ZERO;
        self.transition(Self::closed(&self.config));
    }

    /// Consecutive failures counted in the closed state.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, StateMachine};
    /// let mut m = StateMachine::new(BreakerConfig::new(), core::iter::repeat(std::time::Duration::ZERO));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// assert_eq!(m.consecutive_failures(), 1);
    /// ```
    pub fn consecutive_failures(&self) -> u32 {
        match self.state {
            Inner::Closed { consecutive, .. } => consecutive,
            _ => 0,
        }
    }

    /// Trial calls admitted and not yet reported, while half-open.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::breaker::{BreakerConfig, State, StateMachine};
    ///
    /// let config = BreakerConfig::new().failure_threshold(1).half_open_max_calls(2);
    /// let mut m = StateMachine::new(config, core::iter::repeat(Duration::ZERO));
    /// let t = m.on_request(0u64).unwrap();
    /// m.on_failure(t, 0);
    /// let trials = [m.on_request(0).unwrap(), m.on_request(0).unwrap()];
    /// assert_eq!((m.state(), m.trials_in_flight()), (State::HalfOpen, 2));
    /// for t in trials {
    ///     m.on_cancel(t);
    /// }
    /// assert_eq!(m.trials_in_flight(), 0);
    /// ```
    pub fn trials_in_flight(&self) -> u32 {
        match self.state {
            Inner::HalfOpen { in_flight, .. } => in_flight,
            _ => 0,
        }
    }

    /// Counts state changes (and resets), wrapping. Tickets carry it, which
    /// is how late reports from an earlier state are recognised.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::breaker::{BreakerConfig, StateMachine};
    /// let mut m: StateMachine<u64> = StateMachine::new(BreakerConfig::new(), core::iter::repeat(std::time::Duration::ZERO));
    /// m.force_open();
    /// assert_eq!(m.generation(), 1);
    /// ```
    pub fn generation(&self) -> usize {
        self.generation
    }

    /// Whether a closed-state success needs recording at all: false while
    /// no failure is counted and no failure-rate window is kept, which lets
    /// `CircuitBreaker` skip its lock.
    pub(crate) fn closed_is_clean(&self) -> bool {
        match &self.state {
            Inner::Closed { consecutive, .. } => {
                *consecutive == 0 && self.config.failure_rate.is_none()
            }
            _ => false,
        }
    }

    fn transition(&mut self, to: Inner<I>) {
        self.state = to;
        self.generation = self.generation.wrapping_add(1) & GENERATION_MASK;
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn machine(config: BreakerConfig) -> StateMachine<u64> {
        StateMachine::new(config, core::iter::repeat(Duration::from_nanos(100)))
    }

    fn fail<B: Iterator<Item = Duration> + Clone>(m: &mut StateMachine<u64, B>, now: u64) {
        let t = m.on_request(now).unwrap();
        m.on_failure(t, now);
    }

    fn succeed(m: &mut StateMachine<u64>, now: u64) {
        let t = m.on_request(now).unwrap();
        m.on_success(t);
    }

    #[test]
    fn a_success_resets_the_consecutive_count() {
        let mut m = machine(BreakerConfig::new().failure_threshold(3));
        fail(&mut m, 0);
        fail(&mut m, 0);
        succeed(&mut m, 0);
        fail(&mut m, 0);
        fail(&mut m, 0);
        assert_eq!(m.state(), State::Closed);
        fail(&mut m, 0);
        assert_eq!(m.state(), State::Open);
    }

    #[test]
    fn failure_rate_trips_once_min_calls_are_seen() {
        let mut m = machine(
            BreakerConfig::new()
                .failure_threshold(u32::MAX)
                .failure_rate(50, 4, 4),
        );
        fail(&mut m, 0);
        succeed(&mut m, 0);
        fail(&mut m, 0);
        assert_eq!(m.state(), State::Closed, "3 calls < min_calls");
        succeed(&mut m, 0);
        // Window [F S F S]: 50 % but the last outcome was a success.
        assert_eq!(m.state(), State::Closed);
        fail(&mut m, 0); // [S F S F] (oldest F slid out): 50 %
        assert_eq!(m.state(), State::Open);
    }

    #[test]
    fn a_recovery_of_duration_max_reads_open_and_only_force_open_reads_forced() {
        let mut m = StateMachine::new(
            BreakerConfig::new().failure_threshold(1),
            core::iter::repeat(Duration::MAX),
        );
        let t = m.on_request(Duration::ZERO).unwrap();
        m.on_failure(t, Duration::ZERO); // open until the end of time
        let rejected = m.on_request(Duration::ZERO).unwrap_err();
        assert_eq!(
            rejected,
            Rejected::Open {
                retry_in: Duration::MAX
            }
        );
        m.force_open();
        let forced = m.on_request(Duration::ZERO).unwrap_err();
        assert_eq!((forced, forced.retry_in()), (Rejected::ForcedOpen, None));
    }

    #[test]
    fn window_slides_out_old_failures() {
        let mut w = Window::new(3);
        for failed in [true, true, true, false, false, false] {
            w.record(failed);
        }
        assert_eq!((w.len, w.failures), (3, 0));
        let mut big = Window::new(BreakerConfig::MAX_WINDOW);
        for i in 0..1000 {
            big.record(i % 2 == 0);
        }
        assert_eq!((big.len, big.failures), (256, 128));
    }

    #[test]
    fn stale_tickets_are_ignored() {
        let mut m = machine(BreakerConfig::new().failure_threshold(1));
        let old = m.on_request(0).unwrap();
        fail(&mut m, 0);
        let trial = m.on_request(100).unwrap();
        m.on_success(old); // admitted while closed: not a trial success
        assert_eq!(m.state(), State::HalfOpen);
        assert_eq!(m.trials_in_flight(), 1);
        m.on_success(trial);
        assert_eq!(m.state(), State::Closed);
    }

    #[test]
    fn recovery_schedule_grows_per_trip_and_restarts_on_close() {
        let mut m: StateMachine<u64, _> = StateMachine::new(
            BreakerConfig::new().failure_threshold(1),
            [10u64, 20].map(Duration::from_nanos).into_iter(),
        );
        fail(&mut m, 0);
        assert_eq!(
            m.on_request(0).unwrap_err().retry_in(),
            Some(Duration::from_nanos(10))
        );
        let t = m.on_request(10).unwrap();
        m.on_failure(t, 10);
        assert_eq!(
            m.on_request(10).unwrap_err().retry_in(),
            Some(Duration::from_nanos(20))
        );
        let t = m.on_request(30).unwrap();
        m.on_failure(t, 30);
        // Schedule ran out: the last duration again.
        assert_eq!(
            m.on_request(30).unwrap_err().retry_in(),
            Some(Duration::from_nanos(20))
        );
        let t = m.on_request(50).unwrap();
        m.on_success(t);
        fail(&mut m, 60);
        assert_eq!(
            m.on_request(60).unwrap_err().retry_in(),
            Some(Duration::from_nanos(10))
        );
    }

    #[test]
    fn success_threshold_spans_rounds_of_trials() {
        let mut m = machine(
            BreakerConfig::new()
                .failure_threshold(1)
                .success_threshold(2),
        );
        fail(&mut m, 0);
        succeed(&mut m, 100);
        assert_eq!(m.state(), State::HalfOpen);
        succeed(&mut m, 100);
        assert_eq!(m.state(), State::Closed);
    }

    #[test]
    #[should_panic(expected = "window must be in 1..=BreakerConfig::MAX_WINDOW")]
    fn an_oversized_window_is_refused() {
        let _ = BreakerConfig::new().failure_rate(50, 257, 1);
    }
}
