//! The one place that imports shared-memory primitives.
//!
//! Every atomic, cell and spin hint used in `src/` comes from here, so
//! that a loom build sees every shared-memory access of the crate.
//!
//! # The switch
//!
//! loom is selected with `RUSTFLAGS="--cfg loom"` (as tokio does), not with a
//! cargo feature: a feature would be unified into every build of a workspace
//! and could switch a user's release build to loom's types. Under `cfg(loom)`
//! the `loom` crate is a (target-specific) dependency and this module
//! re-exports its types; otherwise it re-exports `core`'s atomics, or
//! `portable-atomic`'s with the `portable-atomic` feature.
//!
//! `event-listener` and `async-lock` have their own `loom` *features* rather
//! than honouring `cfg(loom)`. The `loom-tests` crate turns those features on
//! in its own manifest when it models a primitive built on them, so that their
//! atomics are modelled too; this crate never enables them itself.
//!
//! # shuttle
//!
//! [shuttle](https://docs.rs/shuttle) is the second model checker, selected
//! the same way with `RUSTFLAGS="--cfg shuttle"`: its atomics, its `Mutex`
//! (the lock of [`DefaultRawMutex`](crate::raw_mutex::DefaultRawMutex), so
//! that a schedule can switch tasks at every wait-list lock) and its spin
//! hint, which yields to the scheduler. Where loom explores every
//! interleaving of two or three threads, shuttle samples schedules (random
//! and PCT) of many tasks; the `shuttle-tests` crate holds its models. Its
//! types have `const` constructors, so every `const fn` stays `const`, and
//! the cell is `core`'s (shuttle does not track cell accesses). `loom` and
//! `shuttle` are never set together.
//!
//! `alloc::sync::Arc` is not shimmed where it appears in public signatures
//! (`self: Arc<Self>` receivers), which loom's `Arc` cannot serve, and where
//! its reference count is not part of any protocol this crate models. The
//! one exception is [`Arc`] here, for internal nodes whose counts *are* part
//! of a protocol (the cancellation tree: a canceller takes a count on a
//! child under its parent's lock) and never appear in a public signature;
//! loom then also reports a leaked node at the end of a model.

#[cfg(all(loom, shuttle))]
compile_error!("`--cfg loom` and `--cfg shuttle` each select a model checker: set only one");

#[cfg(loom)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) mod atomic {
        /// The task group's ready stack (`task::set`).
        #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
        pub(crate) use loom::sync::atomic::AtomicPtr;
        /// The rate limiter's timestamp word (where the target has it).
        pub(crate) use loom::sync::atomic::AtomicU64;
        pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    }
    pub(crate) use loom::hint::spin_loop;
    /// Internal only: see the module docs.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) use loom::sync::Arc;
    /// Only for [`DefaultRawMutex`](crate::raw_mutex::DefaultRawMutex)
    /// under loom, so that loom sees the wait lists' lock.
    pub(crate) use loom::sync::Mutex;
}

#[cfg(all(shuttle, not(loom)))]
mod imp {
    /// shuttle's spin hint yields to its scheduler, so a spin loop lets the
    /// lock holder run.
    pub(crate) use shuttle::hint::spin_loop;

    pub(crate) mod atomic {
        /// The task group's ready stack (`task::set`).
        #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
        pub(crate) use shuttle::sync::atomic::AtomicPtr;
        /// The rate limiter's timestamp word (where the target has it).
        #[cfg(target_has_atomic = "64")]
        pub(crate) use shuttle::sync::atomic::AtomicU64;
        pub(crate) use shuttle::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    }

    /// Internal only: see the module docs. shuttle has no `Arc` of its
    /// own: reference counts are not scheduling points.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) use alloc::sync::Arc;

    /// Only for [`DefaultRawMutex`](crate::raw_mutex::DefaultRawMutex)
    /// under shuttle, so that a schedule switches tasks at the wait lists'
    /// lock.
    pub(crate) use shuttle::sync::Mutex;

    pub(crate) use super::core_cell::UnsafeCell;
}

#[cfg(not(any(loom, shuttle)))]
mod imp {
    pub(crate) use core::hint::spin_loop;

    pub(crate) mod atomic {
        /// The task group's ready stack (`task::set`).
        #[cfg(all(
            feature = "alloc",
            target_has_atomic = "ptr",
            not(feature = "portable-atomic")
        ))]
        pub(crate) use core::sync::atomic::AtomicPtr;
        /// The rate limiter's timestamp word, only where the target has
        /// 64-bit atomics natively (elsewhere the limiter uses its lock).
        #[cfg(target_has_atomic = "64")]
        pub(crate) use core::sync::atomic::AtomicU64;
        #[cfg(not(feature = "portable-atomic"))]
        pub(crate) use core::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
        /// The task group's ready stack (`task::set`).
        #[cfg(all(
            feature = "alloc",
            target_has_atomic = "ptr",
            feature = "portable-atomic"
        ))]
        pub(crate) use portable_atomic::AtomicPtr;
        #[cfg(feature = "portable-atomic")]
        pub(crate) use portable_atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    }

    /// Internal only: see the module docs.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub(crate) use alloc::sync::Arc;

    pub(crate) use super::core_cell::UnsafeCell;
}

#[cfg(not(loom))]
mod core_cell {
    /// `core::cell::UnsafeCell` with loom's closure-based access API, so the
    /// same code compiles against both.
    #[derive(Debug)]
    #[repr(transparent)]
    pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        /// A shared access: loom lets several run at once (`with_mut`
        /// accesses may not overlap any other access).
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        pub(crate) fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }
}

pub(crate) use imp::*;

/// Declares a `const fn` that is a plain `fn` under loom, whose types have no
/// `const` constructors.
macro_rules! loom_const_fn {
    (
        $(#[$meta:meta])*
        $vis:vis const fn $name:ident($($arg:ident: $T:ty),* $(,)?) -> $Ret:ty $body:block
    ) => {
        $(#[$meta])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $T),*) -> $Ret $body

        $(#[$meta])*
        #[cfg(loom)]
        $vis fn $name($($arg: $T),*) -> $Ret $body
    };
}
pub(crate) use loom_const_fn;
