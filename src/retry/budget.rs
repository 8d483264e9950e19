//! [`RetryBudget`]: gRPC's retry throttling, a token bucket shared by calls.

use core::fmt;

use crate::loom::atomic::{AtomicUsize, Ordering::*};
use crate::loom::loom_const_fn;

/// Token-bucket retry throttling, as gRPC specifies it (`retryThrottling`):
/// retries are allowed only while failures stay a bounded share of calls, so
/// that a struggling service is not buried under retries.
///
/// The bucket starts full with `max_tokens`. Every failed attempt that could
/// be retried takes one token; every success puts `token_ratio` back (never
/// above `max_tokens`). Retries are allowed while more than half of
/// `max_tokens` remain. First attempts are never throttled. With
/// `token_ratio` 0.1, for example, retries stop once failures outnumber
/// successes by more than one in ten (over the last `max_tokens / 2` net
/// failures), and resume as successes refill the bucket.
///
/// Share one budget between every [`Retry`](super::Retry) that calls the same
/// service; `new` is `const`, so it can live in a `static`. Tokens are kept
/// in thousandths, as gRPC does.
///
/// # Examples
///
/// ```
/// use sluicegate::retry::RetryBudget;
///
/// static BUDGET: RetryBudget = RetryBudget::new(10, 0.5);
/// assert!(BUDGET.can_retry());
/// for _ in 0..5 {
///     BUDGET.record_failure();
/// }
/// assert!(!BUDGET.can_retry()); // 5 of 10 left: not more than half
/// BUDGET.record_success();
/// assert!(BUDGET.can_retry()); // 5.5
/// ```
pub struct RetryBudget {
    /// Thousandths of a token.
    tokens: AtomicUsize,
    max: usize,
    ratio: usize,
}

const MILLI: usize = 1000;

impl RetryBudget {
    /// The most tokens a budget may hold.
    pub const MAX_TOKENS: u32 = 1_000_000;

    loom_const_fn! {
        /// A full budget of `max_tokens`, refilled by `token_ratio` per
        /// success (gRPC's `maxTokens` and `tokenRatio`; the ratio is kept to
        /// three decimal places).
        ///
        /// # Panics
        ///
        /// If `max_tokens` is 0 or above [`RetryBudget::MAX_TOKENS`], or
        /// `token_ratio` is not a finite number in `(0, max_tokens]`.
        ///
        /// # Examples
        ///
        /// ```
        /// let budget = sluicegate::retry::RetryBudget::new(100, 0.1);
        /// assert_eq!(budget.tokens(), 100.0);
        /// ```
        // A range's `contains` is not `const`; under loom the fn is not
        // `const` and clippy would ask for it.
        #[cfg_attr(loom, allow(clippy::manual_range_contains))]
        pub const fn new(max_tokens: u32, token_ratio: f64) -> RetryBudget {
            assert!(
                max_tokens >= 1 && max_tokens <= RetryBudget::MAX_TOKENS,
                "max_tokens must be in 1..=RetryBudget::MAX_TOKENS"
            );
            assert!(
                token_ratio.is_finite() && token_ratio > 0.0 && token_ratio <= max_tokens as f64,
                "token_ratio must be a finite number in (0, max_tokens]"
            );
            let max = max_tokens as usize * MILLI;
            // Rounded, not truncated: 1.001 × 1000 is 1000.999… in binary.
            let ratio = (token_ratio * MILLI as f64 + 0.5) as usize;
            RetryBudget {
                tokens: AtomicUsize::new(max),
                max,
                ratio: if ratio == 0 { 1 } else { ratio },
            }
        }
    }

    /// Whether a retry is allowed now: more than half the tokens remain.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = sluicegate::retry::RetryBudget::new(2, 1.0);
    /// budget.record_failure();
    /// assert!(!budget.can_retry());
    /// ```
    pub fn can_retry(&self) -> bool {
        self.tokens.load(Relaxed) > self.max / 2
    }

    /// Records a successful call: adds `token_ratio` tokens, up to the
    /// maximum.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = sluicegate::retry::RetryBudget::new(2, 0.25);
    /// budget.record_failure();
    /// budget.record_success();
    /// assert_eq!(budget.tokens(), 1.25);
    /// ```
    pub fn record_success(&self) {
        self.update(|t| (t < self.max).then(|| (t + self.ratio).min(self.max)));
    }

    /// Records a failed, retryable attempt: takes one token, down to zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let budget = sluicegate::retry::RetryBudget::new(1, 1.0);
    /// budget.record_failure();
    /// budget.record_failure();
    /// assert_eq!(budget.tokens(), 0.0);
    /// ```
    pub fn record_failure(&self) {
        self.update(|t| (t > 0).then(|| t.saturating_sub(MILLI)));
    }

    /// Applies `f` to the token count atomically; `None` leaves it as is.
    /// (A compare-exchange loop rather than `fetch_update`, which newer
    /// toolchains deprecate under a name the MSRV lacks.)
    fn update(&self, f: impl Fn(usize) -> Option<usize>) {
        let mut t = self.tokens.load(Relaxed);
        while let Some(new) = f(t) {
            match self.tokens.compare_exchange_weak(t, new, Relaxed, Relaxed) {
                Ok(_) => return,
                Err(actual) => t = actual,
            }
        }
    }

    /// The tokens left.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(sluicegate::retry::RetryBudget::new(3, 1.0).tokens(), 3.0);
    /// ```
    pub fn tokens(&self) -> f64 {
        self.tokens.load(Relaxed) as f64 / MILLI as f64
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryBudget")
            .field("tokens", &self.tokens())
            .field("max_tokens", &(self.max / MILLI))
            .field("token_ratio", &(self.ratio as f64 / MILLI as f64))
            .finish()
    }
}
