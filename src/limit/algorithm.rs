//! Concurrency-limit algorithms as pure state machines: [`Aimd`],
//! [`Gradient2`], [`Vegas`] and [`Fixed`], fed [`Sample`]s through
//! [`LimitAlgorithm`].
//!
//! The three adaptive ones follow Netflix's concurrency-limits
//! (`AIMDLimit`, `Gradient2Limit`, `VegasLimit` in its
//! `com.netflix.concurrency.limits.limit` package): the same update rules,
//! parameters and defaults, written here from their description. They hold
//! no clock and no lock: a sample goes in, a limit comes out.

use core::time::Duration;

/// One finished call, as an algorithm sees it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::Sample;
///
/// let ok = Sample::success(Duration::from_millis(12), 8);
/// assert!(!ok.dropped);
/// let shed = Sample::dropped(Duration::from_millis(900), 8);
/// assert_eq!((shed.rtt, shed.in_flight, shed.dropped), (Duration::from_millis(900), 8, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sample {
    /// How long the call took, from admission to its verdict.
    pub rtt: Duration,
    /// Calls in flight when this one was admitted, itself included.
    pub in_flight: usize,
    /// Whether the server shed the call: it said "too busy", or it timed
    /// out (Netflix's `didDrop`).
    pub dropped: bool,
}

impl Sample {
    /// A call that succeeded.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sluicegate::limit::Sample::success(std::time::Duration::from_millis(3), 1);
    /// assert!(!s.dropped);
    /// ```
    pub const fn success(rtt: Duration, in_flight: usize) -> Sample {
        Sample {
            rtt,
            in_flight,
            dropped: false,
        }
    }

    /// A call the server shed (overloaded, or timed out).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = sluicegate::limit::Sample::dropped(std::time::Duration::from_secs(1), 4);
    /// assert!(s.dropped);
    /// ```
    pub const fn dropped(rtt: Duration, in_flight: usize) -> Sample {
        Sample {
            rtt,
            in_flight,
            dropped: true,
        }
    }

    fn rtt_ns(&self) -> f64 {
        // A zero RTT (a coarse clock) counts as 1 ns: the gradients divide by it.
        (super::gcra::nanos(self.rtt).max(1)) as f64
    }
}

/// A concurrency-limit algorithm: a pure state machine from [`Sample`]s to
/// a limit.
///
/// [`AdaptiveLimiter`](super::AdaptiveLimiter) feeds it one sample per call
/// that ends with a verdict (a call dropped without one is not a sample),
/// under a short lock, and resizes its semaphore to the limit returned.
/// The limiter clamps what it gets to `1..=`[`Semaphore::MAX_PERMITS`](crate::Semaphore::MAX_PERMITS).
///
/// # Examples
///
/// A limit that halves on every drop and grows by one otherwise:
///
/// ```
/// use sluicegate::limit::{LimitAlgorithm, Sample};
///
/// struct Halving(usize);
/// impl LimitAlgorithm for Halving {
///     fn limit(&self) -> usize {
///         self.0
///     }
///     fn on_sample(&mut self, s: Sample) -> usize {
///         self.0 = if s.dropped { (self.0 / 2).max(1) } else { self.0 + 1 };
///         self.0
///     }
/// }
///
/// let mut h = Halving(10);
/// assert_eq!(h.on_sample(Sample::dropped(Default::default(), 10)), 5);
/// ```
pub trait LimitAlgorithm {
    /// The current limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Aimd, LimitAlgorithm};
    /// assert_eq!(Aimd::new().limit(), 20);
    /// ```
    fn limit(&self) -> usize;

    /// Takes one sample in; returns the new limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Aimd, LimitAlgorithm, Sample};
    /// let mut aimd = Aimd::new();
    /// assert_eq!(aimd.on_sample(Sample::success(Duration::from_millis(5), 20)), 21);
    /// ```
    fn on_sample(&mut self, sample: Sample) -> usize;

    /// The successful samples that would leave the algorithm exactly as it
    /// is now, state and limit: the limiter reads this after every sample
    /// it feeds, and ends a call that such a sample describes without
    /// taking its lock or calling [`on_sample`](Self::on_sample).
    ///
    /// An answer narrower than the truth is always correct (it only costs
    /// the lock); [`UnchangedBy::NOTHING`], the default, is the narrowest.
    /// A wider one makes the limiter skip samples that would have moved the
    /// algorithm. [`Aimd`] answers its application-limited rule (a success
    /// below half the limit, within the timeout, changes nothing) and
    /// [`Fixed`] every success; [`Gradient2`] and [`Vegas`] move their
    /// averages on every sample, so they answer nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Aimd, LimitAlgorithm, Sample};
    ///
    /// let mut aimd = Aimd::new().limits(1, 100).initial_limit(10);
    /// let quiet = aimd.unchanged_by();
    /// let idle = Sample::success(Duration::from_millis(5), 4);
    /// assert!(quiet.covers(&idle));
    /// let before = aimd.clone();
    /// aimd.on_sample(idle);
    /// assert_eq!(aimd, before);
    /// assert!(!quiet.covers(&Sample::success(Duration::from_millis(5), 5))); // half the limit: grows
    /// ```
    fn unchanged_by(&self) -> UnchangedBy {
        UnchangedBy::NOTHING
    }
}

/// The successful [`Sample`]s that leave a [`LimitAlgorithm`] unchanged, as
/// [`LimitAlgorithm::unchanged_by`] describes them: those with fewer than
/// [`in_flight_below`](Self::in_flight_below) calls in flight, and an RTT
/// of at most [`rtt_at_most`](Self::rtt_at_most). A dropped sample is never
/// covered.
///
/// The limiter keeps it in three words beside its lock (the RTT to the
/// microsecond, rounded down, so it can only cover less).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Sample, UnchangedBy};
///
/// let quiet = UnchangedBy::successes(10, Duration::from_secs(5));
/// assert!(quiet.covers(&Sample::success(Duration::from_millis(3), 9)));
/// assert!(!quiet.covers(&Sample::success(Duration::from_millis(3), 10)));
/// assert!(!quiet.covers(&Sample::success(Duration::from_secs(6), 1)));
/// assert!(!quiet.covers(&Sample::dropped(Duration::from_millis(3), 1)));
/// assert!(!UnchangedBy::NOTHING.covers(&Sample::success(Duration::ZERO, 1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnchangedBy {
    in_flight_below: usize,
    rtt_at_most: Duration,
}

impl UnchangedBy {
    /// No sample: every one goes to the algorithm.
    pub const NOTHING: UnchangedBy = UnchangedBy {
        in_flight_below: 0,
        rtt_at_most: Duration::ZERO,
    };

    /// Successes with fewer than `in_flight_below` calls in flight and an
    /// RTT of at most `rtt_at_most`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Sample, UnchangedBy};
    /// // Every success.
    /// let all = UnchangedBy::successes(usize::MAX, Duration::MAX);
    /// assert!(all.covers(&Sample::success(Duration::from_secs(3600), 1_000)));
    /// ```
    pub const fn successes(in_flight_below: usize, rtt_at_most: Duration) -> UnchangedBy {
        UnchangedBy {
            in_flight_below,
            rtt_at_most,
        }
    }

    /// Covered samples have fewer calls in flight than this.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::limit::UnchangedBy::NOTHING.in_flight_below(), 0);
    /// ```
    pub const fn in_flight_below(&self) -> usize {
        self.in_flight_below
    }

    /// Covered samples took at most this long.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::UnchangedBy;
    /// assert_eq!(UnchangedBy::successes(4, Duration::from_secs(1)).rtt_at_most(), Duration::from_secs(1));
    /// ```
    pub const fn rtt_at_most(&self) -> Duration {
        self.rtt_at_most
    }

    /// Whether `sample` is one of these.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Sample, UnchangedBy};
    /// let quiet = UnchangedBy::successes(2, Duration::from_millis(10));
    /// assert!(quiet.covers(&Sample::success(Duration::from_millis(10), 1)));
    /// ```
    pub fn covers(&self, sample: &Sample) -> bool {
        !sample.dropped && sample.in_flight < self.in_flight_below && sample.rtt <= self.rtt_at_most
    }
}

impl<A: LimitAlgorithm + ?Sized> LimitAlgorithm for &mut A {
    fn limit(&self) -> usize {
        (**self).limit()
    }

    fn on_sample(&mut self, sample: Sample) -> usize {
        (**self).on_sample(sample)
    }

    fn unchanged_by(&self) -> UnchangedBy {
        (**self).unchanged_by()
    }
}

#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
impl<A: LimitAlgorithm + ?Sized> LimitAlgorithm for alloc::boxed::Box<A> {
    fn limit(&self) -> usize {
        (**self).limit()
    }

    fn on_sample(&mut self, sample: Sample) -> usize {
        (**self).on_sample(sample)
    }

    fn unchanged_by(&self) -> UnchangedBy {
        (**self).unchanged_by()
    }
}

/// Checks a `(min, max)` pair for the builders.
const fn check_bounds(min: usize, max: usize) {
    assert!(
        min >= 1,
        "limit algorithm: a minimum limit of 0 would stop every call"
    );
    assert!(
        min <= max,
        "limit algorithm: the minimum limit exceeds the maximum"
    );
}

const fn clamp_usize(v: usize, min: usize, max: usize) -> usize {
    if v < min {
        min
    } else if v > max {
        max
    } else {
        v
    }
}

fn clamp_f64(v: f64, min: usize, max: usize) -> f64 {
    v.max(min as f64).min(max as f64)
}

/// A limit that never moves: the baseline the adaptive ones are measured
/// against.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Fixed, LimitAlgorithm, Sample};
/// let mut f = Fixed::new(8);
/// assert_eq!(f.on_sample(Sample::dropped(Duration::from_secs(1), 8)), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fixed(usize);

impl Fixed {
    /// A fixed limit of `limit`.
    ///
    /// # Panics
    ///
    /// If `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Fixed, LimitAlgorithm};
    /// assert_eq!(Fixed::new(3).limit(), 3);
    /// ```
    pub const fn new(limit: usize) -> Fixed {
        assert!(limit >= 1, "Fixed: a limit of 0 would stop every call");
        Fixed(limit)
    }
}

impl LimitAlgorithm for Fixed {
    fn limit(&self) -> usize {
        self.0
    }

    fn on_sample(&mut self, _: Sample) -> usize {
        self.0
    }

    fn unchanged_by(&self) -> UnchangedBy {
        UnchangedBy::successes(usize::MAX, Duration::MAX)
    }
}

/// Additive increase, multiplicative decrease: loss-based, like TCP Reno.
///
/// Netflix's `AIMDLimit`: on a dropped sample, or one slower than the
/// timeout, the limit is multiplied by the backoff ratio; on any other
/// sample taken while at least half the limit was in use it grows by one
/// (below half, the caller is not using the limit, so it says nothing
/// about it). The result is kept in `[min, max]`.
///
/// | parameter | default (Netflix's) | setter |
/// |---|---|---|
/// | initial limit | 20 | [`initial_limit`](Self::initial_limit) |
/// | min / max limit | 20 / 200 | [`limits`](Self::limits) |
/// | backoff ratio | 0.9 | [`backoff_ratio`](Self::backoff_ratio) |
/// | timeout (slower counts as a drop) | 5 s | [`timeout`](Self::timeout) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Aimd, LimitAlgorithm, Sample};
///
/// let mut aimd = Aimd::new().initial_limit(10).limits(1, 100);
/// let fast = Duration::from_millis(5);
/// assert_eq!(aimd.on_sample(Sample::success(fast, 10)), 11);
/// assert_eq!(aimd.on_sample(Sample::success(fast, 2)), 11); // mostly idle: no change
/// assert_eq!(aimd.on_sample(Sample::dropped(fast, 11)), 9); // 11 × 0.9, rounded down
/// assert_eq!(aimd.on_sample(Sample::success(Duration::from_secs(6), 9)), 8); // too slow
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Aimd {
    limit: usize,
    min: usize,
    max: usize,
    backoff: f64,
    timeout: Duration,
}

impl Default for Aimd {
    fn default() -> Self {
        Self::new()
    }
}

impl Aimd {
    /// Netflix's defaults: 20, in `[20, 200]`, backoff 0.9, timeout 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Aimd, LimitAlgorithm};
    /// assert_eq!(Aimd::new().limit(), 20);
    /// ```
    pub const fn new() -> Aimd {
        Aimd {
            limit: 20,
            min: 20,
            max: 200,
            backoff: 0.9,
            timeout: Duration::from_secs(5),
        }
    }

    /// Starts from `limit` (kept within the bounds).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Aimd, LimitAlgorithm};
    /// assert_eq!(Aimd::new().limits(1, 50).initial_limit(5).limit(), 5);
    /// assert_eq!(Aimd::new().initial_limit(5).limit(), 20); // the default minimum
    /// ```
    pub const fn initial_limit(mut self, limit: usize) -> Aimd {
        self.limit = limit;
        self
    }

    /// Keeps the limit within `[min, max]`.
    ///
    /// # Panics
    ///
    /// If `min` is 0 or greater than `max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Aimd, LimitAlgorithm};
    /// assert_eq!(Aimd::new().limits(1, 10).limit(), 10); // 20, capped
    /// ```
    pub const fn limits(mut self, min: usize, max: usize) -> Aimd {
        check_bounds(min, max);
        self.min = min;
        self.max = max;
        self
    }

    /// Multiplies the limit by `ratio` on a drop.
    ///
    /// # Panics
    ///
    /// Unless `0.5 <= ratio < 1.0` (Netflix's range).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Aimd, LimitAlgorithm, Sample};
    /// let mut aimd = Aimd::new().limits(1, 100).initial_limit(10).backoff_ratio(0.5);
    /// assert_eq!(aimd.on_sample(Sample::dropped(Duration::ZERO, 10)), 5);
    /// ```
    pub const fn backoff_ratio(mut self, ratio: f64) -> Aimd {
        assert!(
            ratio >= 0.5 && ratio < 1.0,
            "Aimd::backoff_ratio: the ratio must be in [0.5, 1.0)"
        );
        self.backoff = ratio;
        self
    }

    /// Samples slower than `timeout` count as drops.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Aimd, LimitAlgorithm, Sample};
    /// let mut aimd = Aimd::new().timeout(Duration::from_millis(100));
    /// assert_eq!(aimd.on_sample(Sample::success(Duration::from_millis(101), 20)), 20); // 18, floored at 20
    /// ```
    pub const fn timeout(mut self, timeout: Duration) -> Aimd {
        self.timeout = timeout;
        self
    }
}

impl LimitAlgorithm for Aimd {
    fn limit(&self) -> usize {
        clamp_usize(self.limit, self.min, self.max)
    }

    fn on_sample(&mut self, s: Sample) -> usize {
        let limit = self.limit();
        let next = if s.dropped || s.rtt > self.timeout {
            (limit as f64 * self.backoff) as usize
        } else if s.in_flight.saturating_mul(2) >= limit {
            limit + 1
        } else {
            limit
        };
        self.limit = clamp_usize(next, self.min, self.max);
        self.limit
    }

    fn unchanged_by(&self) -> UnchangedBy {
        if self.limit != self.limit() {
            // Out of bounds until the first sample clamps it.
            return UnchangedBy::NOTHING;
        }
        // `in_flight × 2 < limit`; at the maximum, growing changes nothing.
        let below = if self.limit == self.max {
            usize::MAX
        } else {
            self.limit.div_ceil(2)
        };
        UnchangedBy::successes(below, self.timeout)
    }
}

/// An exponential moving average with a warm-up of plain averaging
/// (Netflix's `ExpAvgMeasurement`).
#[derive(Debug, Clone, PartialEq)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    window: u32,
    warmup: u32,
}

impl ExpAvg {
    const fn new(window: u32, warmup: u32) -> Self {
        Self {
            value: 0.0,
            sum: 0.0,
            count: 0,
            window,
            warmup,
        }
    }

    fn add(&mut self, sample: f64) -> f64 {
        if self.count < self.warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            let factor = 2.0 / (f64::from(self.window) + 1.0);
            self.value = self.value * (1.0 - factor) + sample * factor;
        }
        self.value
    }
}

/// Gradient of a long-term average RTT over the current one: delay-based,
/// tolerant of RTTs that vary from call to call.
///
/// Netflix's `Gradient2Limit`. Each sample updates a long-term exponential
/// average of the RTT (a window of 600 samples, after a warm-up of 10
/// plain-averaged ones); when that average is more than twice the current
/// RTT (load has just gone away) it decays by 5 %. Unless fewer than half
/// the limit were in flight, the limit becomes
///
/// ```text
/// gradient = clamp(rtt_tolerance × long_rtt / rtt, 0.5, 1.0)
/// new      = limit × gradient + queue_size
/// limit    = clamp(limit × (1 − smoothing) + new × smoothing, min, max)
/// ```
///
/// so it grows by about `queue_size × smoothing` per sample while latency
/// holds, and shrinks (at most halving per step, smoothed) as it rises.
/// As in Netflix's version, a drop counts only through its RTT.
///
/// | parameter | default (Netflix's) | setter |
/// |---|---|---|
/// | initial limit | 20 | [`initial_limit`](Self::initial_limit) |
/// | min / max limit | 20 / 200 | [`limits`](Self::limits) |
/// | smoothing | 0.2 | [`smoothing`](Self::smoothing) |
/// | queue size | 4 | [`queue_size`](Self::queue_size) |
/// | RTT tolerance | 1.5 | [`rtt_tolerance`](Self::rtt_tolerance) |
/// | long window | 600 samples | [`long_window`](Self::long_window) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{Gradient2, LimitAlgorithm, Sample};
///
/// let mut g = Gradient2::new().limits(1, 100).initial_limit(10);
/// for _ in 0..50 {
///     g.on_sample(Sample::success(Duration::from_millis(10), g.limit()));
/// }
/// let grown = g.limit();
/// assert!(grown > 10, "steady latency: it grows ({grown})");
/// for _ in 0..50 {
///     g.on_sample(Sample::success(Duration::from_millis(100), g.limit()));
/// }
/// assert!(g.limit() < grown, "ten times the latency: it shrinks");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient2 {
    estimate: f64,
    min: usize,
    max: usize,
    smoothing: f64,
    queue_size: usize,
    tolerance: f64,
    long_rtt: ExpAvg,
}

impl Default for Gradient2 {
    fn default() -> Self {
        Self::new()
    }
}

impl Gradient2 {
    /// Netflix's defaults: 20, in `[20, 200]`, smoothing 0.2, queue size 4,
    /// RTT tolerance 1.5, a long window of 600 samples.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Gradient2, LimitAlgorithm};
    /// assert_eq!(Gradient2::new().limit(), 20);
    /// ```
    pub const fn new() -> Gradient2 {
        Gradient2 {
            estimate: 20.0,
            min: 20,
            max: 200,
            smoothing: 0.2,
            queue_size: 4,
            tolerance: 1.5,
            long_rtt: ExpAvg::new(600, 10),
        }
    }

    /// Starts from `limit` (kept within the bounds).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Gradient2, LimitAlgorithm};
    /// assert_eq!(Gradient2::new().initial_limit(50).limit(), 50);
    /// ```
    pub const fn initial_limit(mut self, limit: usize) -> Gradient2 {
        self.estimate = limit as f64;
        self
    }

    /// Keeps the limit within `[min, max]`.
    ///
    /// # Panics
    ///
    /// If `min` is 0 or greater than `max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{Gradient2, LimitAlgorithm};
    /// assert_eq!(Gradient2::new().limits(1, 8).limit(), 8);
    /// ```
    pub const fn limits(mut self, min: usize, max: usize) -> Gradient2 {
        check_bounds(min, max);
        self.min = min;
        self.max = max;
        self
    }

    /// How much of each new estimate goes into the limit, in `(0, 1]`.
    ///
    /// # Panics
    ///
    /// Outside `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = sluicegate::limit::Gradient2::new().smoothing(1.0);
    /// # drop(g);
    /// ```
    pub const fn smoothing(mut self, smoothing: f64) -> Gradient2 {
        assert!(
            smoothing > 0.0 && smoothing <= 1.0,
            "Gradient2::smoothing: must be in (0, 1]"
        );
        self.smoothing = smoothing;
        self
    }

    /// How far the limit may grow past the gradient's estimate: the queue
    /// the server is allowed.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = sluicegate::limit::Gradient2::new().queue_size(8);
    /// # drop(g);
    /// ```
    pub const fn queue_size(mut self, queue_size: usize) -> Gradient2 {
        self.queue_size = queue_size;
        self
    }

    /// How much slower than the long-term RTT a call may be before the
    /// limit shrinks.
    ///
    /// # Panics
    ///
    /// If `tolerance` is under 1.0.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = sluicegate::limit::Gradient2::new().rtt_tolerance(2.0);
    /// # drop(g);
    /// ```
    pub const fn rtt_tolerance(mut self, tolerance: f64) -> Gradient2 {
        assert!(
            tolerance >= 1.0,
            "Gradient2::rtt_tolerance: must be at least 1.0"
        );
        self.tolerance = tolerance;
        self
    }

    /// The long-term RTT average spans about `samples` samples.
    ///
    /// # Panics
    ///
    /// If `samples` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let g = sluicegate::limit::Gradient2::new().long_window(100);
    /// # drop(g);
    /// ```
    pub const fn long_window(mut self, samples: u32) -> Gradient2 {
        assert!(samples > 0, "Gradient2::long_window: a window of 0 samples");
        self.long_rtt = ExpAvg::new(samples, 10);
        self
    }

    /// The long-term average RTT so far (zero before the first sample).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{Gradient2, LimitAlgorithm, Sample};
    /// let mut g = Gradient2::new();
    /// g.on_sample(Sample::success(Duration::from_millis(4), 1));
    /// assert_eq!(g.long_rtt(), Duration::from_millis(4));
    /// ```
    pub fn long_rtt(&self) -> Duration {
        Duration::from_nanos(self.long_rtt.value as u64)
    }
}

impl LimitAlgorithm for Gradient2 {
    fn limit(&self) -> usize {
        clamp_f64(self.estimate, self.min, self.max) as usize
    }

    fn on_sample(&mut self, s: Sample) -> usize {
        let short = s.rtt_ns();
        let long = self.long_rtt.add(short);
        // Load just went away: bring the baseline down faster.
        if long / short > 2.0 {
            self.long_rtt.value *= 0.95;
        }
        let estimate = clamp_f64(self.estimate, self.min, self.max);
        // The caller is not using the limit: the sample says nothing of it.
        if (s.in_flight as f64) < estimate / 2.0 {
            return self.limit();
        }
        let gradient = (self.tolerance * long / short).clamp(0.5, 1.0);
        let new = estimate * gradient + self.queue_size as f64;
        let new = estimate * (1.0 - self.smoothing) + new * self.smoothing;
        self.estimate = clamp_f64(new, self.min, self.max);
        self.limit()
    }
}

/// `max(1, ⌊log10(n)⌋)`: Netflix's `Log10RootFunction`, which sets
/// Vegas's thresholds and steps.
fn log10_at_least_1(n: usize) -> usize {
    let mut digits = 0;
    let mut n = n;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits.max(1)
}

/// The smallest integer not less than `x`, for `x` in `i64`'s range (core
/// has no `f64::ceil` before Rust 1.85's MSRV catches up).
fn ceil(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) < x {
        t + 1
    } else {
        t
    }
}

/// TCP Vegas: estimates the queue from how far the RTT is above the
/// no-load RTT, and keeps it between two thresholds.
///
/// Netflix's `VegasLimit`. The no-load RTT is the lowest RTT seen; it is
/// re-probed (set to the current sample) every `probe_multiplier × limit`
/// samples, times a jitter in `[0.5, 1)`. For every other sample taken
/// while at least half the limit was in flight, with
/// `queue = ⌈limit × (1 − rtt_noload / rtt)⌉` and `l = max(1, ⌊log10(limit)⌋)`:
///
/// | condition | new limit |
/// |---|---|
/// | the call was dropped | `limit − l` |
/// | `queue ≤ l` (no queueing) | `limit + 6l` |
/// | `queue < 3l` | `limit + l` |
/// | `queue > 6l` | `limit − l` |
/// | otherwise (the sweet spot) | unchanged |
///
/// then `limit × (1 − smoothing) + new × smoothing`, kept in `[min, max]`.
/// The jitter comes from a small deterministic generator
/// ([`seed`](Self::seed)), so a run can be replayed.
///
/// | parameter | default (Netflix's) | setter |
/// |---|---|---|
/// | initial limit | 20 | [`initial_limit`](Self::initial_limit) |
/// | min / max limit | 1 / 1000 (Netflix: no minimum but 1) | [`limits`](Self::limits) |
/// | smoothing | 1.0 | [`smoothing`](Self::smoothing) |
/// | probe multiplier | 30 | [`probe_multiplier`](Self::probe_multiplier) |
/// | α, β, threshold | `3l`, `6l`, `l` | — |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::limit::{LimitAlgorithm, Sample, Vegas};
///
/// let ms = Duration::from_millis;
/// let mut v = Vegas::new().initial_limit(10);
/// v.on_sample(Sample::success(ms(10), 10)); // sets the no-load RTT
/// assert_eq!(v.on_sample(Sample::success(ms(10), 10)), 16); // no queue: + 6
/// assert_eq!(v.on_sample(Sample::success(ms(40), 16)), 15); // a queue of 12 > 6: − 1
/// assert_eq!(v.on_sample(Sample::dropped(ms(10), 15)), 14);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Vegas {
    estimate: f64,
    min: usize,
    max: usize,
    smoothing: f64,
    probe_multiplier: u32,
    rtt_noload: u64,
    probe_count: u64,
    probe_jitter: f64,
    rng: u64,
}

impl Default for Vegas {
    fn default() -> Self {
        Self::new()
    }
}

impl Vegas {
    /// Netflix's defaults: 20, in `[1, 1000]`, smoothing 1.0, probe
    /// multiplier 30.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{LimitAlgorithm, Vegas};
    /// assert_eq!(Vegas::new().limit(), 20);
    /// ```
    pub const fn new() -> Vegas {
        Vegas {
            estimate: 20.0,
            min: 1,
            max: 1000,
            smoothing: 1.0,
            probe_multiplier: 30,
            rtt_noload: 0,
            probe_count: 0,
            probe_jitter: 0.75,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Starts from `limit` (kept within the bounds).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{LimitAlgorithm, Vegas};
    /// assert_eq!(Vegas::new().initial_limit(7).limit(), 7);
    /// ```
    pub const fn initial_limit(mut self, limit: usize) -> Vegas {
        self.estimate = limit as f64;
        self
    }

    /// Keeps the limit within `[min, max]`.
    ///
    /// # Panics
    ///
    /// If `min` is 0 or greater than `max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::limit::{LimitAlgorithm, Vegas};
    /// assert_eq!(Vegas::new().limits(30, 40).limit(), 30);
    /// ```
    pub const fn limits(mut self, min: usize, max: usize) -> Vegas {
        check_bounds(min, max);
        self.min = min;
        self.max = max;
        self
    }

    /// How much of each new estimate goes into the limit, in `(0, 1]`.
    ///
    /// # Panics
    ///
    /// Outside `(0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = sluicegate::limit::Vegas::new().smoothing(0.5);
    /// # drop(v);
    /// ```
    pub const fn smoothing(mut self, smoothing: f64) -> Vegas {
        assert!(
            smoothing > 0.0 && smoothing <= 1.0,
            "Vegas::smoothing: must be in (0, 1]"
        );
        self.smoothing = smoothing;
        self
    }

    /// Re-probes the no-load RTT about every `multiplier × limit` samples.
    ///
    /// # Panics
    ///
    /// If `multiplier` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = sluicegate::limit::Vegas::new().probe_multiplier(10);
    /// # drop(v);
    /// ```
    pub const fn probe_multiplier(mut self, multiplier: u32) -> Vegas {
        assert!(
            multiplier > 0,
            "Vegas::probe_multiplier: must be at least 1"
        );
        self.probe_multiplier = multiplier;
        self
    }

    /// Seeds the generator of the probe jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = sluicegate::limit::Vegas::new().seed(7);
    /// # drop(v);
    /// ```
    pub const fn seed(mut self, seed: u64) -> Vegas {
        // xorshift needs a non-zero state.
        self.rng = seed | 1;
        self
    }

    /// The no-load RTT so far (zero before the first sample).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::limit::{LimitAlgorithm, Sample, Vegas};
    /// let mut v = Vegas::new();
    /// v.on_sample(Sample::success(Duration::from_millis(9), 1));
    /// assert_eq!(v.rtt_noload(), Duration::from_millis(9));
    /// ```
    pub fn rtt_noload(&self) -> Duration {
        Duration::from_nanos(self.rtt_noload)
    }

    fn next_jitter(&mut self) -> f64 {
        // xorshift64*: a uniform value in [0.5, 1).
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let bits = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        0.5 + 0.5 * (bits as f64 / (1u64 << 53) as f64)
    }
}

impl LimitAlgorithm for Vegas {
    fn limit(&self) -> usize {
        clamp_f64(self.estimate, self.min, self.max) as usize
    }

    fn on_sample(&mut self, s: Sample) -> usize {
        let rtt = s.rtt_ns() as u64;
        let estimate = clamp_f64(self.estimate, self.min, self.max);
        self.probe_count += 1;
        if self.probe_jitter * f64::from(self.probe_multiplier) * estimate
            <= self.probe_count as f64
        {
            self.probe_jitter = self.next_jitter();
            self.probe_count = 0;
            self.rtt_noload = rtt;
            return self.limit();
        }
        if self.rtt_noload == 0 || rtt < self.rtt_noload {
            self.rtt_noload = rtt;
            return self.limit();
        }
        let queue = ceil(estimate * (1.0 - self.rtt_noload as f64 / rtt as f64));
        let l = log10_at_least_1(estimate as usize);
        let step = l as f64;
        let new = if s.dropped {
            estimate - step
        } else if (s.in_flight as f64) * 2.0 < estimate {
            return self.limit();
        } else {
            let (alpha, beta, threshold) = (3 * l as i64, 6 * l as i64, l as i64);
            if queue <= threshold {
                estimate + 6.0 * step
            } else if queue < alpha {
                estimate + step
            } else if queue > beta {
                estimate - step
            } else {
                return self.limit();
            }
        };
        let new = clamp_f64(new, self.min, self.max);
        self.estimate = estimate * (1.0 - self.smoothing) + new * self.smoothing;
        self.limit()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn log10_is_floored_and_at_least_one() {
        let got: [usize; 7] = [0, 1, 9, 10, 99, 100, 12_345].map(log10_at_least_1);
        assert_eq!(got, [1, 1, 1, 1, 1, 2, 4]);
    }

    #[test]
    fn ceil_rounds_up_fractions_only() {
        assert_eq!([ceil(0.0), ceil(0.2), ceil(3.0), ceil(3.5)], [0, 1, 3, 4]);
    }

    #[test]
    fn aimd_grows_only_when_half_the_limit_is_in_use() {
        let mut a = Aimd::new();
        assert_eq!(a.on_sample(Sample::success(MS, 9)), 20);
        assert_eq!(a.on_sample(Sample::success(MS, 10)), 21);
    }

    #[test]
    fn aimd_backs_off_on_drops_down_to_its_minimum() {
        let mut a = Aimd::new().limits(5, 200).initial_limit(100);
        assert_eq!(a.on_sample(Sample::dropped(MS, 100)), 90);
        for _ in 0..100 {
            a.on_sample(Sample::dropped(MS, 100));
        }
        assert_eq!(a.limit(), 5);
    }

    #[test]
    fn aimd_stops_at_its_maximum() {
        let mut a = Aimd::new().limits(1, 22);
        for _ in 0..10 {
            a.on_sample(Sample::success(MS, 100));
        }
        assert_eq!(a.limit(), 22);
    }

    #[test]
    fn gradient2_ignores_samples_while_mostly_idle() {
        let mut g = Gradient2::new();
        assert_eq!(g.on_sample(Sample::success(MS, 9)), 20);
        assert_eq!(g.long_rtt(), MS, "but the RTT is still averaged");
    }

    #[test]
    fn gradient2_grows_by_the_smoothed_queue_size_at_steady_latency() {
        let mut g = Gradient2::new();
        // gradient 1 (tolerance 1.5 caps at 1): 20 + 0.2 × 4
        g.on_sample(Sample::success(10 * MS, 20));
        assert!((g.estimate - 20.8).abs() < 1e-9, "{}", g.estimate);
    }

    #[test]
    fn gradient2_at_most_halves_per_step_before_smoothing() {
        let mut g = Gradient2::new().limits(1, 200).initial_limit(100);
        for _ in 0..9 {
            g.on_sample(Sample::success(MS, 100));
        }
        let before = g.estimate;
        // A sample 100× slower: the gradient clamps at 0.5.
        g.on_sample(Sample::success(100 * MS, 100));
        let expected = before * 0.8 + (before * 0.5 + 4.0) * 0.2;
        assert!((g.estimate - expected).abs() < 1e-9, "{}", g.estimate);
    }

    #[test]
    fn vegas_first_sample_only_sets_the_noload_rtt() {
        let mut v = Vegas::new();
        assert_eq!(v.on_sample(Sample::success(5 * MS, 20)), 20);
        assert_eq!(v.rtt_noload(), 5 * MS);
        v.on_sample(Sample::success(3 * MS, 20));
        assert_eq!(v.rtt_noload(), 3 * MS, "a lower RTT replaces it");
    }

    #[test]
    fn vegas_holds_in_the_sweet_spot() {
        let mut v = Vegas::new().initial_limit(20);
        v.on_sample(Sample::success(10 * MS, 20));
        // queue = ceil(20 × (1 − 10/15)) = 7: above 3l = 3, not above 6l = 6? 7 > 6: shrinks.
        assert_eq!(v.on_sample(Sample::success(15 * MS, 20)), 19);
        // queue = ceil(19 × (1 − 10/13)) = 5: in [3, 6]: holds.
        assert_eq!(v.on_sample(Sample::success(13 * MS, 19)), 19);
    }

    #[test]
    fn vegas_reprobes_the_noload_rtt() {
        let mut v = Vegas::new().initial_limit(2).probe_multiplier(1);
        v.on_sample(Sample::success(MS, 2));
        // Within at most 2 samples (multiplier 1 × limit 2 × jitter < 1), a
        // probe takes the current RTT as the new baseline.
        let mut probed = false;
        for _ in 0..3 {
            v.on_sample(Sample::success(50 * MS, 0));
            probed |= v.rtt_noload() == 50 * MS;
        }
        assert!(probed);
    }

    #[test]
    fn vegas_jitter_stays_in_its_range_and_replays_from_a_seed() {
        let mut a = Vegas::new().seed(42);
        let mut b = Vegas::new().seed(42);
        for _ in 0..1000 {
            let j = a.next_jitter();
            assert!((0.5..1.0).contains(&j));
            assert_eq!(j, b.next_jitter());
        }
    }

    #[test]
    fn a_zero_rtt_counts_as_a_nanosecond() {
        let mut v = Vegas::new();
        v.on_sample(Sample::success(Duration::ZERO, 20));
        assert_eq!(v.rtt_noload(), Duration::from_nanos(1));
        let mut g = Gradient2::new();
        g.on_sample(Sample::success(Duration::ZERO, 20));
        assert!(g.estimate.is_finite());
    }

    #[test]
    #[should_panic(expected = "minimum limit of 0")]
    fn a_zero_minimum_panics() {
        let _ = Aimd::new().limits(0, 10);
    }

    #[test]
    #[should_panic(expected = "exceeds the maximum")]
    fn inverted_bounds_panic() {
        let _ = Vegas::new().limits(10, 5);
    }
}
