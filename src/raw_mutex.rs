//! The short blocking lock that guards each primitive's wait list, chosen
//! per primitive by a type parameter.
//!
//! Every primitive with waiters ([`Semaphore`](crate::Semaphore),
//! [`Event`](crate::Event), [`Condition`](crate::Condition), the channels)
//! keeps its queue behind a critical section of a few pointer updates. Which
//! kind of critical section that is matters on embedded targets and costs a
//! little everywhere, so it is a type parameter `L` with a default, as in
//! maitake-sync and embassy-sync. The trait is [`ScopedRawMutex`] from the
//! [`mutex-traits`](https://docs.rs/mutex-traits) crate, which those crates
//! share, so a lock written for one of them serves all of them.
//!
//! | lock | `Sync` | cost | use it for |
//! |---|---|---|---|
//! | [`DefaultRawMutex`] | yes | with `std`, one compare-exchange to lock and one swap to unlock, parking a contended thread; a spin lock without `std` | everything, unless a row below fits better |
//! | [`StdRawMutex`] (`std`) | yes | `std::sync::Mutex`: parks a contended thread | threads on an OS |
//! | [`SpinRawMutex`] | yes | one compare-exchange to lock, one store to unlock | multi-core `no_std` without interrupt handlers touching the primitive |
//! | [`CriticalSectionRawMutex`] (`critical-section`) | yes | masks interrupts (or whatever the binary's `critical-section` implementation does) | primitives shared with interrupt handlers, single-core MCUs |
//! | [`LocalRawMutex`] | **no** | a flag check: nothing to synchronise | one thread only, e.g. every task on one embassy executor |
//!
//! Plain constructors (`Semaphore::new`, `Event::new`, `channel::bounded`,
//! …) use [`DefaultRawMutex`], so code that does not care never names a
//! lock. Each primitive also has a `new_with_raw_mutex` constructor (or a
//! `*_with_raw_mutex` function) that takes the lock; like `new`, it is
//! `const`, so a primitive with any lock can live in a `static`:
//!
//! ```
//! # #[cfg(feature = "critical-section")] {
//! use sluicegate::raw_mutex::CriticalSectionRawMutex;
//! use sluicegate::Semaphore;
//!
//! // Shared with an interrupt handler: the wait list is guarded by a
//! // critical section, whatever lock the rest of the program uses.
//! static IRQ_SLOTS: Semaphore<CriticalSectionRawMutex> =
//!     Semaphore::new_with_raw_mutex(2, CriticalSectionRawMutex::new());
//! let permit = IRQ_SLOTS.try_acquire().unwrap();
//! assert_eq!(IRQ_SLOTS.available_permits(), 1);
//! # drop(permit); }
//! ```
//!
//! The choice is per primitive and never global: enabling a crate feature
//! (`critical-section`, say) only makes a lock *available*; it changes the
//! lock of no primitive that did not name it. The one exception is the
//! default itself, which is a parking lock of the crate's own when `std` is
//! on and a spin lock when it is not (a `std` build has no interrupt
//! handlers to deadlock).
//!
//! # Interrupts and spin locks
//!
//! A spin lock taken in thread mode and then wanted by an interrupt handler
//! on the same core never comes free: the handler spins forever, because the
//! code that would unlock cannot run until the handler returns. On a `no_std`
//! target, [`DefaultRawMutex`] is such a spin lock. A primitive that an
//! interrupt handler touches (an `Event` set from an ISR, a channel fed by
//! one) must use [`CriticalSectionRawMutex`] instead. A default-lock
//! channel also has a fast path with a one-word lock of its own: an
//! interrupt that interrupts a send or receive in the middle of it and then
//! takes the channel's lock spins on that word too, so the same rule
//! covers it (a channel with an explicit lock never uses the fast path). A primitive used only
//! by tasks on one executor can use [`LocalRawMutex`] and pay nothing; the
//! type system then keeps it on that thread (it is not `Sync`).
//!
//! # Writing your own
//!
//! Any [`ScopedRawMutex`] works. sluicegate relies on its contract in unsafe
//! code, and on one more property that the locks of this module, of
//! `mutex` and of embassy-sync have: `with_lock` never runs its closure while
//! another call's closure is running, *on the same thread either* (a nested
//! call blocks or panics, it does not re-enter). The closure never calls user
//! code other than `Waker::clone`, and never panics otherwise.
//!
//! # Examples
//!
//! One executor, no synchronisation at all:
//!
//! ```
//! use sluicegate::raw_mutex::LocalRawMutex;
//! use sluicegate::Event;
//!
//! let ready = Event::new_with_raw_mutex(LocalRawMutex::new());
//! futures_lite::future::block_on(async {
//!     ready.set();
//!     ready.wait().await;
//! });
//! ```

use core::fmt;

pub use mutex_traits::{ConstInit, ScopedRawMutex};

/// The lock a primitive uses unless it names another. With the `std`
/// feature it is a lock of the crate's own: one compare-exchange to lock
/// and one swap to unlock, as `std`'s futex mutex, without its poison
/// bookkeeping (nothing that can panic runs under the wait lists' lock); a
/// contended thread spins briefly, then sleeps on a `std` condition
/// variable. It measured cheaper than [`StdRawMutex`] on every row of the
/// benches that share the wait list. Without `std` it is [`SpinRawMutex`] (read
/// [Interrupts and spin locks](self#interrupts-and-spin-locks) before
/// sharing a default-lock primitive with an interrupt handler).
///
/// Under `--cfg loom` it is loom's mutex, so that a loom model of code using
/// sluicegate explores every interleaving of its wait lists; under
/// `--cfg shuttle`, shuttle's, so that its schedules switch tasks there.
///
/// # Examples
///
/// ```
/// use sluicegate::raw_mutex::DefaultRawMutex;
/// use sluicegate::Semaphore;
///
/// // `Semaphore` is `Semaphore<DefaultRawMutex>`.
/// let sem: Semaphore<DefaultRawMutex> = Semaphore::new(1);
/// let same: Semaphore = Semaphore::new_with_raw_mutex(1, DefaultRawMutex::new());
/// assert_eq!(sem.available_permits(), same.available_permits());
/// ```
pub struct DefaultRawMutex(default_imp::Inner);

#[cfg(loom)]
mod default_imp {
    pub(super) type Inner = crate::loom::Mutex<()>;
    pub(super) fn new() -> Inner {
        crate::loom::Mutex::new(())
    }
}

#[cfg(all(shuttle, not(loom)))]
mod default_imp {
    pub(super) type Inner = crate::loom::Mutex<()>;
    pub(super) const fn new() -> Inner {
        crate::loom::Mutex::new(())
    }
}

#[cfg(all(not(any(loom, shuttle)), feature = "std"))]
mod default_imp {
    pub(super) type Inner = super::parking::ParkingRawMutex;
    pub(super) const fn new() -> Inner {
        super::parking::ParkingRawMutex::new()
    }
}

#[cfg(all(not(any(loom, shuttle)), not(feature = "std")))]
mod default_imp {
    pub(super) type Inner = super::SpinRawMutex;
    pub(super) const fn new() -> Inner {
        super::SpinRawMutex::new()
    }
}

impl DefaultRawMutex {
    crate::loom::loom_const_fn! {
        /// An unlocked lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
        /// assert!(!DefaultRawMutex::new().is_locked());
        /// ```
        pub const fn new() -> DefaultRawMutex {
            DefaultRawMutex(default_imp::new())
        }
    }
}

#[cfg(not(loom))]
impl ConstInit for DefaultRawMutex {
    const INIT: Self = Self::new();
}

// SAFETY: forwards to the inner lock, which excludes other callers (see the
// inner impls; loom's mutex is a real mutex).
unsafe impl ScopedRawMutex for DefaultRawMutex {
    #[inline]
    fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        #[cfg(any(loom, shuttle))]
        {
            let _guard = self.0.try_lock().ok()?;
            Some(f())
        }
        #[cfg(not(any(loom, shuttle)))]
        self.0.try_with_lock(f)
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(any(loom, shuttle))]
        {
            let _guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f()
        }
        #[cfg(not(any(loom, shuttle)))]
        self.0.with_lock(f)
    }

    #[inline]
    fn is_locked(&self) -> bool {
        #[cfg(any(loom, shuttle))]
        {
            self.0.try_lock().is_err()
        }
        #[cfg(not(any(loom, shuttle)))]
        self.0.is_locked()
    }
}

impl Default for DefaultRawMutex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DefaultRawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultRawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// `std::sync::Mutex<()>` as a [`ScopedRawMutex`]: a contended thread parks
/// instead of spinning.
///
/// A panic inside the closure unlocks it (the mutex's poison flag is
/// ignored: the wait lists stay consistent, since nothing that can panic
/// runs under the lock once it has started changing them).
///
/// # Examples
///
/// ```
/// use sluicegate::raw_mutex::{ScopedRawMutex, StdRawMutex};
/// let lock = StdRawMutex::new();
/// assert_eq!(lock.with_lock(|| 1 + 1), 2);
/// assert!(!lock.is_locked());
/// ```
#[cfg(feature = "std")]
#[derive(Default)]
pub struct StdRawMutex(std::sync::Mutex<()>);

#[cfg(feature = "std")]
impl StdRawMutex {
    /// An unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// static LOCK: sluicegate::raw_mutex::StdRawMutex = sluicegate::raw_mutex::StdRawMutex::new();
    /// ```
    pub const fn new() -> Self {
        Self(std::sync::Mutex::new(()))
    }
}

#[cfg(feature = "std")]
impl ConstInit for StdRawMutex {
    const INIT: Self = Self::new();
}

#[cfg(feature = "std")]
// SAFETY: `std::sync::Mutex` excludes every other caller, on this thread too
// (a nested lock deadlocks or panics, it never succeeds), for as long as the
// guard lives, and the guard outlives `f`.
unsafe impl ScopedRawMutex for StdRawMutex {
    #[inline]
    fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let _guard = match self.0.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(f())
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }

    #[inline]
    fn is_locked(&self) -> bool {
        matches!(self.0.try_lock(), Err(std::sync::TryLockError::WouldBlock))
    }
}

#[cfg(feature = "std")]
impl fmt::Debug for StdRawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdRawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// A test-and-test-and-set spin lock: one compare-exchange to lock, one
/// release store to unlock. Needs compare-and-swap (on `thumbv6m`, through
/// the `portable-atomic` feature).
///
/// # Deadlocks
///
/// Never share a primitive guarded by a spin lock between thread mode and
/// an interrupt handler on the same core: if the interrupt arrives while the
/// lock is held, the handler spins forever. Use
/// [`CriticalSectionRawMutex`] there (see
/// [Interrupts and spin locks](self#interrupts-and-spin-locks)). A nested
/// `with_lock` on the same thread spins forever too; sluicegate never nests
/// them.
///
/// # Examples
///
/// ```
/// use sluicegate::raw_mutex::{ScopedRawMutex, SpinRawMutex};
/// static LOCK: SpinRawMutex = SpinRawMutex::new();
/// assert_eq!(LOCK.with_lock(|| LOCK.is_locked()), true);
/// assert_eq!(LOCK.try_with_lock(|| LOCK.try_with_lock(|| ())), Some(None));
/// ```
pub struct SpinRawMutex {
    /// Invariant: true exactly while a closure passed to this lock runs.
    locked: crate::loom::atomic::AtomicBool,
}

impl SpinRawMutex {
    crate::loom::loom_const_fn! {
        /// An unlocked lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::{ScopedRawMutex, SpinRawMutex};
        /// assert!(!SpinRawMutex::new().is_locked());
        /// ```
        pub const fn new() -> SpinRawMutex {
            SpinRawMutex { locked: crate::loom::atomic::AtomicBool::new(false) }
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        use crate::loom::atomic::Ordering::{Acquire, Relaxed};
        self.locked
            .compare_exchange(false, true, Acquire, Relaxed)
            .is_ok()
    }

    /// Releases the lock when dropped, so a panicking closure unlocks.
    #[inline]
    fn unlock_on_drop(&self) -> crate::defer::Defer<impl FnOnce() + '_> {
        crate::defer::Defer::new(|| {
            self.locked
                .store(false, crate::loom::atomic::Ordering::Release);
        })
    }
}

#[cfg(not(loom))]
impl ConstInit for SpinRawMutex {
    const INIT: Self = Self::new();
}

// SAFETY: `f` runs only between a successful acquire-CAS of `locked` from
// false to true and the release store of false, so no two closures run at
// once, on any thread.
unsafe impl ScopedRawMutex for SpinRawMutex {
    #[inline]
    fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        if !self.try_lock() {
            return None;
        }
        let _unlock = self.unlock_on_drop();
        Some(f())
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        use crate::loom::atomic::Ordering::Relaxed;
        while self
            .locked
            .compare_exchange_weak(false, true, crate::loom::atomic::Ordering::Acquire, Relaxed)
            .is_err()
        {
            // Spin on a plain load, so waiting cores do not fight over the
            // cache line.
            while self.locked.load(Relaxed) {
                crate::loom::spin_loop();
            }
        }
        let _unlock = self.unlock_on_drop();
        f()
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked.load(crate::loom::atomic::Ordering::Relaxed)
    }
}

impl Default for SpinRawMutex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SpinRawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpinRawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// A lock for one thread: a flag that catches a nested `with_lock` (which
/// panics), and nothing else. It is not `Sync`, so neither is a primitive
/// that uses it: the compiler keeps every user on one thread.
///
/// This is the lock for tasks that all run on one single-threaded executor
/// (an embassy thread-mode executor, a `LocalExecutor`, a current-thread
/// runtime's `LocalSet`): they then pay nothing for synchronisation.
///
/// # Examples
///
/// ```
/// use sluicegate::raw_mutex::LocalRawMutex;
/// use sluicegate::Semaphore;
///
/// let sem = Semaphore::new_with_raw_mutex(1, LocalRawMutex::new());
/// let permit = futures_lite::future::block_on(sem.acquire()).unwrap();
/// assert!(sem.try_acquire().is_err());
/// drop(permit);
/// ```
///
/// It cannot cross threads:
///
/// ```compile_fail
/// use sluicegate::raw_mutex::LocalRawMutex;
/// static SEM: sluicegate::Semaphore<LocalRawMutex> =
///     sluicegate::Semaphore::new_with_raw_mutex(1, LocalRawMutex::new());
/// ```
pub struct LocalRawMutex {
    /// Invariant: true exactly while a closure passed to this lock runs.
    taken: core::cell::Cell<bool>,
}

impl LocalRawMutex {
    /// An unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::raw_mutex::{LocalRawMutex, ScopedRawMutex};
    /// assert!(!LocalRawMutex::new().is_locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            taken: core::cell::Cell::new(false),
        }
    }
}

impl ConstInit for LocalRawMutex {
    const INIT: Self = Self::new();
}

/// Clears a flag when dropped, so a panicking closure unlocks.
struct ClearOnDrop<'a>(&'a core::cell::Cell<bool>);

impl Drop for ClearOnDrop<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.set(false);
    }
}

// SAFETY: `LocalRawMutex` is `!Sync` (a `Cell`), so all its callers run on
// one thread, and `taken` refuses a nested call on that thread.
unsafe impl ScopedRawMutex for LocalRawMutex {
    #[inline]
    fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        if self.taken.replace(true) {
            return None;
        }
        let _clear = ClearOnDrop(&self.taken);
        Some(f())
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        self.try_with_lock(f)
            .expect("LocalRawMutex locked twice: a nested lock on one thread")
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.taken.get()
    }
}

impl Default for LocalRawMutex {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LocalRawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// A lock that enters a critical section (the `critical-section` crate: the
/// binary chooses the implementation, e.g. masking interrupts on a
/// single-core MCU). Safe to share between thread mode and interrupt
/// handlers.
///
/// A nested `with_lock` on the same lock panics (critical sections nest, so
/// without the check it would re-enter). A panicking closure unlocks.
///
/// # Examples
///
/// ```
/// use sluicegate::raw_mutex::{CriticalSectionRawMutex, ScopedRawMutex};
/// use sluicegate::Event;
///
/// static FROM_ISR: Event<CriticalSectionRawMutex> =
///     Event::new_with_raw_mutex(CriticalSectionRawMutex::new());
/// FROM_ISR.set(); // e.g. in an interrupt handler
/// assert!(FROM_ISR.is_set());
/// ```
#[cfg(feature = "critical-section")]
pub struct CriticalSectionRawMutex {
    /// Invariant: true exactly while a closure passed to this lock runs;
    /// only read or written inside a critical section.
    taken: critical_section::Mutex<core::cell::Cell<bool>>,
}

#[cfg(feature = "critical-section")]
impl CriticalSectionRawMutex {
    /// An unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::raw_mutex::{CriticalSectionRawMutex, ScopedRawMutex};
    /// assert!(!CriticalSectionRawMutex::new().is_locked());
    /// ```
    pub const fn new() -> Self {
        Self {
            taken: critical_section::Mutex::new(core::cell::Cell::new(false)),
        }
    }
}

#[cfg(feature = "critical-section")]
impl ConstInit for CriticalSectionRawMutex {
    const INIT: Self = Self::new();
}

#[cfg(feature = "critical-section")]
// SAFETY: `f` runs inside a critical section, which excludes every other
// thread and interrupt handler; `taken` refuses the one remaining caller, a
// nested call from inside `f`.
unsafe impl ScopedRawMutex for CriticalSectionRawMutex {
    #[inline]
    fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        critical_section::with(|cs| {
            let taken = self.taken.borrow(cs);
            if taken.replace(true) {
                return None;
            }
            let _clear = ClearOnDrop(taken);
            Some(f())
        })
    }

    #[inline]
    fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        self.try_with_lock(f).expect(
            "CriticalSectionRawMutex locked twice: a nested lock inside its critical section",
        )
    }

    #[inline]
    fn is_locked(&self) -> bool {
        critical_section::with(|cs| self.taken.borrow(cs).get())
    }
}

#[cfg(feature = "critical-section")]
impl Default for CriticalSectionRawMutex {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "critical-section")]
impl fmt::Debug for CriticalSectionRawMutex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CriticalSectionRawMutex")
            .field("locked", &self.is_locked())
            .finish()
    }
}

/// A value behind a [`ScopedRawMutex`]: the crate's internal data lock.
///
/// Invariant: `value` is only accessed inside `raw.with_lock`, and the raw
/// lock never runs two closures at once (not even nested on one thread; see
/// [Writing your own](self#writing-your-own)).
pub(crate) struct Lock<T, L = DefaultRawMutex> {
    raw: L,
    value: crate::loom::UnsafeCell<T>,
}

// SAFETY: `value` is only reached inside `raw.with_lock`, which admits one
// caller at a time across threads when `L: Sync` is shared; `T: Send` lets
// the value be used from whichever thread holds the lock.
unsafe impl<T: Send, L: ScopedRawMutex + Sync> Sync for Lock<T, L> {}
// SAFETY: the lock owns its `T` and its `L`; sending it sends both.
unsafe impl<T: Send, L: Send> Send for Lock<T, L> {}

impl<T, L> Lock<T, L> {
    crate::loom::loom_const_fn! {
        pub(crate) const fn new(value: T, raw: L) -> Lock<T, L> {
            Lock { raw, value: crate::loom::UnsafeCell::new(value) }
        }
    }
}

impl<T, L> Lock<T, L> {
    /// The value, out of its lock.
    pub(crate) fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T, L: ScopedRawMutex> Lock<T, L> {
    /// Runs `f` with the value, under the lock.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.raw.with_lock(|| {
            // SAFETY: we are inside `with_lock`, so this is the only access
            // to `value` (type invariant).
            self.value.with_mut(|value| f(unsafe { &mut *value }))
        })
    }

    /// Runs `f` with the value if the lock is free now; `None` if it is
    /// taken (by another thread, or by a caller further up this one's
    /// stack). Never blocks, so it may be taken against a lock order.
    #[inline]
    // Only the cancellation tree uses it, and not under loom.
    #[cfg_attr(
        any(loom, not(all(feature = "alloc", target_has_atomic = "ptr"))),
        allow(dead_code)
    )]
    pub(crate) fn try_with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.raw.try_with_lock(|| {
            // SAFETY: we are inside `try_with_lock`, so this is the only
            // access to `value` (type invariant).
            self.value.with_mut(|value| f(unsafe { &mut *value }))
        })
    }
}

impl<T, L> fmt::Debug for Lock<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lock { .. }")
    }
}

/// Internal: the parking lock that `DefaultRawMutex` is with `std`, for the
/// loom models of `loom-tests` (under loom, `DefaultRawMutex` is loom's own
/// mutex). Not part of the API.
#[cfg(all(loom, feature = "std"))]
#[doc(hidden)]
pub use parking::ParkingRawMutex as __LoomParkingRawMutex;

#[cfg(all(not(shuttle), feature = "std"))]
mod parking {
    //! The default lock with `std`: one compare-exchange to lock and one
    //! swap to unlock, like `std`'s futex mutex, without its poison
    //! bookkeeping (two `thread::panicking()` checks per lock and unlock,
    //! which the wait lists never need: nothing that can panic runs under
    //! the lock once it has started changing them). A contended thread
    //! spins briefly, then sleeps on a `std` condition variable.

    use crate::loom::atomic::{
        AtomicUsize,
        Ordering::{Acquire, Relaxed, Release},
    };
    use crate::raw_mutex::ScopedRawMutex;
    #[cfg(loom)]
    use loom::sync::{Condvar, Mutex};
    #[cfg(not(loom))]
    use std::sync::{Condvar, Mutex};

    const UNLOCKED: usize = 0;
    const LOCKED: usize = 1;
    /// Locked, and a thread may be asleep waiting for it.
    const SLEEPERS: usize = 2;

    /// How many times a contended `lock` re-reads the state before it
    /// sleeps (std's futex mutex spins as long). Under loom, one: each
    /// re-read is a branch of the model, and one is enough to cover the
    /// spin path.
    #[cfg(not(loom))]
    const SPINS: u32 = 100;
    #[cfg(loom)]
    const SPINS: u32 = 1;

    /// # Invariants
    ///
    /// - `state` is `UNLOCKED` exactly while no closure runs under this
    ///   lock; a closure runs only after a compare-exchange or swap that
    ///   moved `state` from `UNLOCKED` (with acquire ordering), until the
    ///   swap back to `UNLOCKED` (release) after it.
    /// - A thread sleeps on `wakeup` only after storing `SLEEPERS` while
    ///   holding `parking`, and the unlock that finds `SLEEPERS` notifies
    ///   under `parking`: so a sleeper is woken by the unlock that follows
    ///   its store (no wake-up is lost between its check and its sleep).
    // `pub` only for the re-export to the loom models under `cfg(loom)`;
    // the module is private.
    #[allow(unreachable_pub)]
    pub struct ParkingRawMutex {
        state: AtomicUsize,
        parking: Mutex<()>,
        wakeup: Condvar,
    }

    impl ParkingRawMutex {
        crate::loom::loom_const_fn! {
            /// An unlocked lock.
            #[allow(unreachable_pub)]
            pub const fn new() -> ParkingRawMutex {
                ParkingRawMutex {
                    state: AtomicUsize::new(UNLOCKED),
                    parking: Mutex::new(()),
                    wakeup: Condvar::new(),
                }
            }
        }

        #[inline]
        fn try_lock(&self) -> bool {
            self.state
                .compare_exchange(UNLOCKED, LOCKED, Acquire, Relaxed)
                .is_ok()
        }

        #[inline]
        fn lock(&self) {
            if !self.try_lock() {
                self.lock_contended();
            }
        }

        #[cold]
        fn lock_contended(&self) {
            // Spin while the holder is likely to be done soon (the wait
            // lists' critical sections are a few pointer updates).
            for _ in 0..SPINS {
                let state = self.state.load(Relaxed);
                if state == UNLOCKED && self.try_lock() {
                    return;
                }
                if state == SLEEPERS {
                    break;
                }
                crate::loom::spin_loop();
            }
            let mut parked = self
                .parking
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Taking it as `SLEEPERS` (not `LOCKED`) is conservative: we
            // cannot tell whether other threads still sleep, so our unlock
            // wakes one if any does.
            while self.state.swap(SLEEPERS, Acquire) != UNLOCKED {
                parked = self
                    .wakeup
                    .wait(parked)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }

        #[inline]
        fn unlock(&self) {
            if self.state.swap(UNLOCKED, Release) == SLEEPERS {
                self.wake_one();
            }
        }

        #[cold]
        fn wake_one(&self) {
            // Under `parking`: a thread that stored `SLEEPERS` is then
            // either asleep already or has not yet looked at `state`
            // again, and will find it unlocked.
            let _parked = self
                .parking
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.wakeup.notify_one();
        }
    }

    impl Default for ParkingRawMutex {
        fn default() -> Self {
            Self::new()
        }
    }

    impl core::fmt::Debug for ParkingRawMutex {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("ParkingRawMutex")
                .field("locked", &self.is_locked())
                .finish()
        }
    }

    // SAFETY: `f` runs only between a successful lock (which moved `state`
    // from `UNLOCKED`, with acquire ordering) and the release swap back to
    // `UNLOCKED`; every other caller, on this thread too, waits for that
    // swap (a nested `with_lock` sleeps forever, it never succeeds).
    unsafe impl ScopedRawMutex for ParkingRawMutex {
        #[inline]
        fn try_with_lock<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
            if !self.try_lock() {
                return None;
            }
            let _unlock = crate::defer::Defer::new(|| self.unlock());
            Some(f())
        }

        #[inline]
        fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
            self.lock();
            let _unlock = crate::defer::Defer::new(|| self.unlock());
            f()
        }

        #[inline]
        fn is_locked(&self) -> bool {
            self.state.load(Relaxed) != UNLOCKED
        }
    }
}
