//! The short critical section that guards a wait list.
//!
//! Which lock is used is decided at compile time, in this order:
//!
//! 1. under `cfg(loom)`, loom's `Mutex`, so loom explores every interleaving;
//! 2. with the `critical-section` feature, a critical section (safe against
//!    interrupt handlers; the binary picks the implementation);
//! 3. with `std`, `std::sync::Mutex`, which parks rather than spins;
//! 4. otherwise a test-and-test-and-set spin lock.
//!
//! The lock is only ever held for a few pointer updates: no waker is woken
//! or dropped (a waker's drop is executor code, which could re-enter the
//! primitive), no user code runs, and nothing allocates while it is held.
//! The one exception is cloning a waker to store it in a waiter's node.

#[cfg(loom)]
mod imp {
    use crate::loom::Mutex;

    pub(crate) struct Lock<T>(Mutex<T>);

    impl<T> Lock<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(Mutex::new(value))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            f(&mut self.0.lock().unwrap())
        }
    }
}

#[cfg(all(not(loom), feature = "critical-section"))]
mod imp {
    use core::cell::RefCell;
    use critical_section::Mutex;

    pub(crate) struct Lock<T>(Mutex<RefCell<T>>);

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(Mutex::new(RefCell::new(value)))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            critical_section::with(|cs| f(&mut self.0.borrow_ref_mut(cs)))
        }
    }
}

#[cfg(all(not(loom), not(feature = "critical-section"), feature = "std"))]
mod imp {
    use crate::loom::Mutex;

    pub(crate) struct Lock<T>(Mutex<T>);

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(Mutex::new(value))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            // Nothing that can panic runs under the lock except a waker's
            // `clone`; a poisoned lock still holds a consistent list.
            let mut guard = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        }
    }
}

#[cfg(all(not(loom), not(feature = "critical-section"), not(feature = "std")))]
mod imp {
    use crate::loom::atomic::{AtomicBool, Ordering};
    use crate::loom::{spin_loop, UnsafeCell};

    /// A test-and-test-and-set spin lock.
    ///
    /// Invariant: `value` is only accessed by the holder of `locked`, i.e.
    /// between a successful `compare_exchange(false, true)` and the
    /// `store(false)` in `Unlock::drop`.
    pub(crate) struct Lock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: `value` is only reached through `with`, which holds the lock,
    // so at most one thread accesses it at a time; `T: Send` lets it move
    // between those threads.
    unsafe impl<T: Send> Sync for Lock<T> {}
    // SAFETY: the lock owns its `T`; sending the lock sends the value.
    unsafe impl<T: Send> Send for Lock<T> {}

    struct Unlock<'a>(&'a AtomicBool);

    impl Drop for Unlock<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Release);
        }
    }

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            while self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                while self.locked.load(Ordering::Relaxed) {
                    spin_loop();
                }
            }
            let _unlock = Unlock(&self.locked);
            // SAFETY: we hold the lock (the CAS above succeeded and `_unlock`
            // releases it only after `f` returns), so this is the only access.
            self.value.with_mut(|value| f(unsafe { &mut *value }))
        }
    }
}

pub(crate) use imp::Lock;

impl<T> core::fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Lock { .. }")
    }
}
