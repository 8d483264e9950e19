//! [`Backoff`]: delays between attempts, as a pure iterator.

use core::fmt;
use core::iter::FusedIterator;
use core::time::Duration;

use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::time::duration_from_nanos_u128;

/// A source of random `u64`s for [`Jitter`].
///
/// Implemented by [`SplitMix64`] (seedable), [`DefaultRng`] and any
/// `FnMut() -> u64` closure, so a `rand` generator plugs in as
/// `move || rng.random()`.
///
/// # Examples
///
/// ```
/// use sluicegate::retry::{RandomSource, SplitMix64};
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let mut counter = 0u64;
/// let mut c = move || { counter += 1; counter };
/// assert_eq!(c.next_u64(), 1);
/// ```
pub trait RandomSource {
    /// The next random value; all 64 bits are used.
    fn next_u64(&mut self) -> u64;
}

impl<F: FnMut() -> u64> RandomSource for F {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self()
    }
}

/// A small, fast, seedable PRNG (SplitMix64): good enough to spread retries,
/// not for cryptography. Cloning copies the state, so a clone replays the
/// same sequence: every run of a stored policy jitters alike. For a seeded
/// generator whose clones draw their own streams, see [`DefaultRng`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, Jitter, SplitMix64};
///
/// let delays = |seed| Backoff::exponential(Duration::from_millis(100))
///     .jitter(Jitter::Full)
///     .rng(SplitMix64::new(seed))
///     .take(5)
///     .collect::<Vec<_>>();
/// assert_eq!(delays(1), delays(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _rng = sluicegate::retry::SplitMix64::new(42);
    /// ```
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl RandomSource for SplitMix64 {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }
}

/// The generator a [`Backoff`] uses unless given another one: a
/// [`SplitMix64`] stream that **forks on clone**.
///
/// Jitter exists to keep retries from running in lockstep, so two runs of
/// one stored policy must not replay one sequence. Cloning a `DefaultRng`
/// therefore does not copy it: each clone draws a new stream, derived from
/// the original's seed and the number of clones made before it. So:
///
/// - **Seeded** ([`from_seed`](Self::from_seed)): the same seed forks the
///   same streams in the same order, run after run, which is what tests
///   want; two clones still draw different streams.
/// - **Unseeded** ([`new`](Self::new)): with `std`, the seed comes from the
///   process's hash randomness (`RandomState`), so production processes
///   differ from each other. Without `std` there is no entropy source and
///   `new` uses a fixed seed: give each device its own with
///   `from_seed(device_seed)`.
///
/// Clones made from several threads at once each get a distinct stream;
/// which thread gets which then depends on the interleaving. Use
/// [`SplitMix64`] for a generator whose clones replay its sequence.
///
/// # Examples
///
/// ```
/// use sluicegate::retry::{DefaultRng, RandomSource};
///
/// let first_values = |seed| {
///     let stored = DefaultRng::from_seed(seed);
///     let (mut a, mut b) = (stored.clone(), stored.clone());
///     (a.next_u64(), b.next_u64())
/// };
/// let (a, b) = first_values(42);
/// assert_ne!(a, b); // two clones, two streams
/// assert_eq!(first_values(42), (a, b)); // and the seed replays them
/// ```
pub struct DefaultRng {
    rng: SplitMix64,
    /// What clones derive their seeds from.
    seed: u64,
    /// Clones made so far: the next clone's stream number.
    forks: AtomicUsize,
}

impl DefaultRng {
    /// A generator seeded from the process's randomness (with `std`), or
    /// from a fixed seed (without).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::retry::{DefaultRng, RandomSource};
    /// let mut rng = sluicegate::retry::DefaultRng::new();
    /// let _jitter = rng.next_u64();
    /// ```
    pub fn new() -> Self {
        Self::from_seed(entropy())
    }

    /// A generator seeded with `seed`: its values, and those of every
    /// clone (see [above](Self)), are the same in every run of the program.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::retry::{DefaultRng, RandomSource};
    /// let (mut a, mut b) = (DefaultRng::from_seed(1), DefaultRng::from_seed(1));
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn from_seed(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            seed,
            forks: AtomicUsize::new(0),
        }
    }
}

/// SplitMix64's output function: a bijection that scatters nearby inputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(feature = "std")]
fn entropy() -> u64 {
    use core::hash::{BuildHasher, Hasher};
    // Each `RandomState` gets fresh keys (random per process, then
    // incremented), so consecutive calls give unrelated seeds.
    std::hash::RandomState::new().build_hasher().finish()
}

#[cfg(not(feature = "std"))]
fn entropy() -> u64 {
    0x5EED_5EED_5EED_5EED
}

impl Default for DefaultRng {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for DefaultRng {
    /// A new stream: the `n`-th clone of a generator seeded with `s` is
    /// seeded with a mix of `s` and `n`, whatever the original drew since.
    fn clone(&self) -> Self {
        // Relaxed: the counter only has to hand out distinct numbers.
        let n = self.forks.fetch_add(1, Relaxed) as u64;
        // The stream number is scattered before it meets the seed, so that
        // consecutive clones (and clones of clones) get unrelated seeds.
        let seed = mix(self.seed ^ mix(n.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED05)));
        Self::from_seed(seed)
    }
}

impl fmt::Debug for DefaultRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultRng")
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl RandomSource for DefaultRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// How a [`Backoff`] randomises its delays, after the AWS Architecture Blog's
/// "Exponential Backoff and Jitter". `d` is the un-jittered delay of the
/// attempt; every result is then clamped to the maximum delay.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::{Backoff, Jitter};
///
/// let b = Backoff::constant(Duration::from_secs(2)).jitter(Jitter::Equal);
/// for d in b.take(100) {
///     assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2));
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Jitter {
    /// Exactly `d`.
    #[default]
    None,
    /// Uniform in `[0, d)`: the best spread, some retries come at once.
    Full,
    /// `d/2` plus uniform in `[0, d/2)`: at least half the delay.
    Equal,
    /// Uniform in `[initial, 3 × previous delay)`, starting from the
    /// initial delay: each delay depends on the last one rather than on the
    /// attempt number (the schedule's growth is replaced by this one).
    Decorrelated,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Constant,
    Linear { step: Duration },
    Exponential { factor: f64 },
}

/// Delays between attempts, as an endless iterator: constant, linear or
/// exponential growth, capped at a maximum delay, with optional [`Jitter`].
///
/// Pure: no clock, no sleeping. Arithmetic saturates, and growth stops at
/// the cap, so the ten-thousandth delay is as well defined as the first.
/// Every delay is at most [`max_delay`](Self::max_delay) (after jitter too).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::retry::Backoff;
///
/// let ms = Duration::from_millis;
/// let b = Backoff::exponential(ms(100)).max_delay(ms(500));
/// assert_eq!(b.take(5).collect::<Vec<_>>(), [ms(100), ms(200), ms(400), ms(500), ms(500)]);
///
/// let linear = Backoff::linear(ms(100), ms(50));
/// assert_eq!(linear.take(3).collect::<Vec<_>>(), [ms(100), ms(150), ms(200)]);
/// ```
#[derive(Clone)]
pub struct Backoff<R = DefaultRng> {
    kind: Kind,
    initial: Duration,
    max: Duration,
    jitter: Jitter,
    rng: R,
    /// The next un-jittered delay (already clamped to `max`).
    current: Duration,
    /// `current` in seconds, unrounded: an exponential backoff grows this,
    /// so that rounding to whole nanoseconds does not compound (a 1 ns
    /// base with factor 1.4 would otherwise never grow).
    exact: f64,
    /// The last delay handed out, for `Jitter::Decorrelated`.
    prev: Duration,
}

impl Backoff {
    /// The same `delay` every time (its maximum is `delay`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut b = sluicegate::retry::Backoff::constant(Duration::from_secs(1));
    /// assert_eq!(b.nth(10_000), Some(Duration::from_secs(1)));
    /// ```
    pub fn constant(delay: Duration) -> Self {
        Self::with_kind(Kind::Constant, delay, delay)
    }

    /// `initial`, then `step` longer each time: `initial + n × step`. No
    /// maximum unless [`max_delay`](Self::max_delay) sets one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = sluicegate::retry::Backoff::linear(Duration::from_secs(1), Duration::from_secs(2));
    /// assert_eq!(b.take(3).map(|d| d.as_secs()).collect::<Vec<_>>(), [1, 3, 5]);
    /// ```
    pub fn linear(initial: Duration, step: Duration) -> Self {
        Self::with_kind(Kind::Linear { step }, initial, Duration::MAX)
    }

    /// `base`, then twice as long each time (`base × factorⁿ`; see
    /// [`factor`](Self::factor)). No maximum unless
    /// [`max_delay`](Self::max_delay) sets one: set one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = sluicegate::retry::Backoff::exponential(Duration::from_millis(100));
    /// assert_eq!(b.take(4).map(|d| d.as_millis()).collect::<Vec<_>>(), [100, 200, 400, 800]);
    /// ```
    pub fn exponential(base: Duration) -> Self {
        Self::with_kind(Kind::Exponential { factor: 2.0 }, base, Duration::MAX)
    }

    fn with_kind(kind: Kind, initial: Duration, max: Duration) -> Self {
        Self {
            kind,
            initial,
            max,
            jitter: Jitter::None,
            rng: DefaultRng::new(),
            current: initial.min(max),
            exact: initial.min(max).as_secs_f64(),
            prev: initial.min(max),
        }
    }
}

impl<R> Backoff<R> {
    /// The growth factor of an exponential backoff (default 2). gRPC's
    /// default is 1.6.
    ///
    /// # Panics
    ///
    /// If `factor` is not a finite number ≥ 1, or the backoff is not
    /// [`exponential`](Backoff::exponential).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = sluicegate::retry::Backoff::exponential(Duration::from_secs(1)).factor(3.0);
    /// assert_eq!(b.take(3).map(|d| d.as_secs()).collect::<Vec<_>>(), [1, 3, 9]);
    /// ```
    pub fn factor(mut self, factor: f64) -> Self {
        assert!(
            factor.is_finite() && factor >= 1.0,
            "backoff factor must be a finite number >= 1, got {factor}"
        );
        match &mut self.kind {
            Kind::Exponential { factor: f } => *f = factor,
            _ => panic!("`factor` applies to exponential backoff only"),
        }
        self
    }

    /// Caps every delay at `max` (after jitter too).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let mut b = sluicegate::retry::Backoff::exponential(Duration::from_secs(1))
    ///     .max_delay(Duration::from_secs(30));
    /// assert_eq!(b.nth(10_000), Some(Duration::from_secs(30)));
    /// ```
    pub fn max_delay(mut self, max: Duration) -> Self {
        self.max = max;
        self.current = self.initial.min(max);
        self.exact = self.current.as_secs_f64();
        self.prev = self.current;
        self
    }

    /// Randomises the delays; see [`Jitter`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, Jitter};
    /// let b = Backoff::exponential(Duration::from_secs(1)).jitter(Jitter::Full);
    /// assert!(b.take(3).all(|d| d < Duration::from_secs(4)));
    /// ```
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Uses `rng` for jitter: [`DefaultRng::from_seed`] for reproducible
    /// schedules whose clones (one per [`Retry`](super::Retry) run) still
    /// differ, a [`SplitMix64`] for clones that replay one schedule.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// use sluicegate::retry::{Backoff, DefaultRng, Jitter};
    /// let seeded = Backoff::constant(Duration::from_secs(1)).jitter(Jitter::Full).rng(DefaultRng::from_seed(3));
    /// let a: Vec<_> = seeded.clone().take(3).collect();
    /// let b: Vec<_> = seeded.clone().take(3).collect();
    /// assert_ne!(a, b);
    /// ```
    pub fn rng<R2: RandomSource>(self, rng: R2) -> Backoff<R2> {
        Backoff {
            kind: self.kind,
            initial: self.initial,
            max: self.max,
            jitter: self.jitter,
            rng,
            current: self.current,
            exact: self.exact,
            prev: self.prev,
        }
    }

    /// The cap on every delay.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = sluicegate::retry::Backoff::constant(Duration::from_secs(1));
    /// assert_eq!(b.get_max_delay(), Duration::from_secs(1));
    /// ```
    pub fn get_max_delay(&self) -> Duration {
        self.max
    }
}

/// A uniformly random duration in `[lo, hi)` (or `lo` if `hi <= lo`).
fn uniform<R: RandomSource>(rng: &mut R, lo: Duration, hi: Duration) -> Duration {
    let span = hi.saturating_sub(lo).as_nanos();
    if span == 0 {
        return lo;
    }
    // floor(span × r / 2⁶⁴), split so nothing overflows: span < 2⁹⁶.
    let r = u128::from(rng.next_u64());
    let scaled = (span >> 64) * r + (((span & u128::from(u64::MAX)) * r) >> 64);
    lo.saturating_add(duration_from_nanos_u128(scaled))
}

impl<R: RandomSource> Iterator for Backoff<R> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.current;
        self.current = match self.kind {
            Kind::Constant => base,
            Kind::Linear { step } => base.saturating_add(step),
            Kind::Exponential { factor } => {
                // Clamped, so it stays finite.
                self.exact = (self.exact * factor).min(self.max.as_secs_f64());
                Duration::try_from_secs_f64(self.exact).unwrap_or(Duration::MAX)
            }
        }
        .min(self.max);
        let delay = match self.jitter {
            Jitter::None => base,
            Jitter::Full => uniform(&mut self.rng, Duration::ZERO, base),
            Jitter::Equal => {
                let half = base / 2;
                half + uniform(&mut self.rng, Duration::ZERO, base - half)
            }
            Jitter::Decorrelated => {
                let hi = self.prev.saturating_mul(3).max(self.initial);
                uniform(&mut self.rng, self.initial, hi)
            }
        }
        .min(self.max);
        self.prev = delay;
        Some(delay)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl<R: RandomSource> FusedIterator for Backoff<R> {}

impl<R> fmt::Debug for Backoff<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("kind", &self.kind)
            .field("initial", &self.initial)
            .field("max", &self.max)
            .field("jitter", &self.jitter)
            .field("next", &self.current)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn exponential_doubles_then_stays_at_the_cap() {
        let b = Backoff::exponential(ms(10)).max_delay(ms(70));
        let got: Vec<_> = b.take(6).collect();
        assert_eq!(got, [ms(10), ms(20), ms(40), ms(70), ms(70), ms(70)]);
    }

    #[test]
    fn exponential_is_base_times_factor_to_the_n_even_below_a_nanosecond_step() {
        let b = Backoff::exponential(Duration::from_nanos(1)).factor(1.4);
        let got: Vec<_> = b.take(8).map(|d| d.as_nanos()).collect();
        // 1.4^n ns: 1, 1.4, 1.96, 2.74, 3.84, 5.38, 7.53, 10.54, rounded
        assert_eq!(got, [1, 1, 2, 3, 4, 5, 8, 11]);
        // No drift at ordinary scales either: 1 s × 1.6^40 exactly.
        let mut b = Backoff::exponential(Duration::from_secs(1)).factor(1.6);
        let want = 1.6f64.powi(40);
        let got = b.nth(40).unwrap().as_secs_f64();
        assert!((got - want).abs() / want < 1e-9, "{got} against {want}");
    }

    #[test]
    fn attempt_ten_thousand_neither_overflows_nor_panics() {
        for jitter in [
            Jitter::None,
            Jitter::Full,
            Jitter::Equal,
            Jitter::Decorrelated,
        ] {
            let mut uncapped = Backoff::exponential(Duration::MAX).jitter(jitter);
            assert!(uncapped.nth(10_000).is_some());
            let mut linear = Backoff::linear(Duration::MAX, Duration::MAX).jitter(jitter);
            assert!(linear.nth(10_000).is_some());
            let mut capped = Backoff::exponential(ms(1)).factor(1e300).max_delay(ms(5));
            assert_eq!(capped.nth(10_000), Some(ms(5)));
        }
    }

    #[test]
    fn an_initial_delay_above_the_cap_is_clamped() {
        let mut b = Backoff::linear(ms(100), ms(1)).max_delay(ms(10));
        assert_eq!(b.next(), Some(ms(10)));
        let mut d = Backoff::constant(ms(100))
            .max_delay(ms(10))
            .jitter(Jitter::Decorrelated);
        assert_eq!(d.next(), Some(ms(10)));
    }

    #[test]
    fn uniform_stays_in_range_at_the_extremes() {
        let mut top = || u64::MAX;
        assert!(uniform(&mut top, Duration::ZERO, Duration::MAX) < Duration::MAX);
        let mut bottom = || 0;
        assert_eq!(uniform(&mut bottom, ms(5), Duration::MAX), ms(5));
        assert_eq!(uniform(&mut top, ms(5), ms(5)), ms(5));
        assert_eq!(uniform(&mut top, ms(5), ms(1)), ms(5));
    }

    #[test]
    fn default_rng_clones_draw_distinct_streams_with_or_without_std() {
        // Without `std`, `new` has a fixed seed: clones must still differ,
        // or every run of a stored policy would jitter alike.
        let stored = DefaultRng::new();
        let (mut a, mut b) = (stored.clone(), stored.clone());
        let (a, b): (Vec<_>, Vec<_>) = (0..4).map(|_| (a.next_u64(), b.next_u64())).unzip();
        assert_ne!(a, b);
    }

    #[test]
    #[should_panic(expected = "finite number >= 1")]
    fn a_shrinking_factor_is_refused() {
        let _ = Backoff::exponential(ms(1)).factor(0.5);
    }

    #[test]
    #[should_panic(expected = "exponential backoff only")]
    fn factor_on_a_linear_backoff_is_refused() {
        let _ = Backoff::linear(ms(1), ms(1)).factor(2.0);
    }
}
