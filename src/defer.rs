//! [`Defer`]: work that must happen even if a panic cuts the normal path
//! short.
//!
//! Batched wake-ups call executor code (`Waker::wake`) and shutdowns call
//! user code (a value's `Drop`) part-way through; if that panics, the
//! waiters of later batches must still be woken and the counts settled. A
//! primitive arms a `Defer` with the rest of the work, and cancels it once
//! the work is done. A second panic inside it aborts, as in `Vec`'s drop.
//! The locks of `raw_mutex` and the channel's ring unlock through one too,
//! so that a panicking closure never leaves them locked.

/// Runs `f` when dropped, unless [`cancel`](Defer::cancel)led first.
pub(crate) struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Defer<F> {
    #[inline]
    pub(crate) fn new(f: F) -> Self {
        Self(Some(f))
    }

    /// The work got done: run nothing.
    #[inline]
    pub(crate) fn cancel(mut self) {
        self.0 = None;
    }
}

impl<F: FnOnce()> Drop for Defer<F> {
    #[inline]
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}
