//! The clocks, quotas and polling helper of the limiter benches, shared by
//! `benches/limit.rs`, `examples/limit_ab.rs` and `examples/limit_ops.rs`
//! (included with `#[path]`, as the other files here).

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use sluicegate::limit::Quota;
use sluicegate::time::{Clock, Sleeper, Timer};

/// governor's `QuantaClock` as a sluicegate `Clock` of `u64` nanoseconds.
pub struct Quanta {
    clock: governor::clock::QuantaClock,
    origin: governor::clock::QuantaInstant,
}

impl Quanta {
    pub fn new() -> Self {
        use governor::clock::Clock as _;
        let clock = governor::clock::QuantaClock::default();
        let origin = clock.now();
        Self { clock, origin }
    }
}

impl Clock for Quanta {
    type Instant = u64;

    #[inline]
    fn now(&self) -> u64 {
        use governor::clock::{Clock as _, Reference as _};
        self.clock.now().duration_since(self.origin).into()
    }
}

/// A clock that is a counter, and a timer whose sleeps jump it to their
/// deadline: virtual time at the cost of an atomic.
#[derive(Default)]
pub struct Jump(AtomicU64);

impl Clock for Jump {
    type Instant = u64;

    #[inline]
    fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Sleeper for Jump {
    type Sleep = std::future::Ready<()>;

    fn sleep(&self, d: Duration) -> Self::Sleep {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        std::future::ready(())
    }
}

impl Timer for Jump {
    fn sleep_until(&self, deadline: u64) -> Self::Sleep {
        self.0.fetch_max(deadline, Ordering::Relaxed);
        std::future::ready(())
    }
}

/// Never refuses: one cell per nanosecond, a burst of a second's worth (a
/// thread descheduled between its clock read and its CAS would otherwise
/// find the arrival time run ahead of its stale "now").
pub fn open_quota() -> Quota {
    Quota::with_interval(Duration::from_nanos(1)).with_burst(1_000_000_000)
}

pub fn governor_quota() -> governor::Quota {
    governor::Quota::with_period(Duration::from_nanos(1))
        .unwrap()
        .allow_burst(NonZeroU32::new(1_000_000_000).unwrap())
}

#[inline]
pub fn now_or_never<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("expected the future to be ready"),
    }
}
