//! A manual-reset event ([`Event`]): asyncio's `Event`.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::defer::Defer;
use crate::loom::atomic::{AtomicBool, Ordering::*};
use crate::loom::loom_const_fn;
use crate::raw_mutex::{DefaultRawMutex, ScopedRawMutex};
use crate::wait_list::{List, Node, WaitList, WakeBatch};

/// A waiter's record: the generation it registered in, and whether a `set()`
/// has released it.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    generation: usize,
    notified: bool,
}

/// A manual-reset event: [`set`](Self::set) wakes every waiter and lets later
/// [`wait`](Self::wait)s through at once until [`clear`](Self::clear).
///
/// It is the "start signal" of asyncio: many tasks wait, one sets. `new` is
/// `const`, so an event can live in a `static`, and it needs no allocator.
///
/// A waiter that was queued when `set()` ran completes even if `clear()`
/// follows before it is polled again (CPython pins the same behaviour); a
/// waiter that starts waiting after the `clear()` waits for the next `set()`.
///
/// # Memory ordering
///
/// `set()` is a release operation and a completing `wait()` an acquire of
/// it: everything a task wrote before calling `set()` is visible to every
/// task whose `wait()` completes because of that `set()` (or observes it
/// through [`is_set`](Self::is_set)).
///
/// # Examples
///
/// ```
/// use sluicegate::Event;
///
/// static START: Event = Event::new();
///
/// futures_lite::future::block_on(async {
///     assert!(!START.is_set());
///     START.set();
///     START.wait().await; // ready at once
///     START.clear();
///     assert!(!START.is_set());
/// });
/// ```
pub struct Event<L: ScopedRawMutex = DefaultRawMutex> {
    is_set: AtomicBool,
    /// The list state is the current generation, bumped by every `set()`
    /// that flips the flag.
    waiters: WaitList<usize, Ticket, L>,
}

impl Event {
    loom_const_fn! {
        /// A new event, not set, guarded by the [`DefaultRawMutex`] (see
        /// [`new_with_raw_mutex`](Event::new_with_raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// assert!(!sluicegate::Event::new().is_set());
        /// ```
        pub const fn new() -> Event {
            Event::new_with_raw_mutex(DefaultRawMutex::new())
        }
    }
}

impl<L: ScopedRawMutex> Event<L> {
    loom_const_fn! {
        /// A new event, not set, whose wait list is guarded by `raw_mutex`
        /// (see [`raw_mutex`](crate::raw_mutex)).
        ///
        /// # Examples
        ///
        /// ```
        /// use sluicegate::raw_mutex::SpinRawMutex;
        /// use sluicegate::Event;
        ///
        /// static START: Event<SpinRawMutex> = Event::new_with_raw_mutex(SpinRawMutex::new());
        /// assert!(!START.is_set());
        /// ```
        pub const fn new_with_raw_mutex(raw_mutex: L) -> Event<L> {
            Event { is_set: AtomicBool::new(false), waiters: WaitList::new(0, raw_mutex) }
        }
    }

    /// Whether the event is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = sluicegate::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.is_set.load(Acquire)
    }

    /// Sets the event and wakes every task waiting on it. Setting a set
    /// event does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = sluicegate::Event::new();
    /// ev.set();
    /// ev.set();
    /// futures_lite::future::block_on(ev.wait());
    /// ```
    pub fn set(&self) {
        if self.is_set.load(Acquire) {
            return;
        }
        let mut batch = WakeBatch::new();
        let generation = self.waiters.lock(|l| {
            // Flip the flag and open a generation in one critical section: a
            // waiter that registers in between (after a `clear()` undid the
            // flag) would otherwise carry the old generation and be released
            // by this `set()`.
            if self.is_set.swap(true, AcqRel) {
                return None;
            }
            l.state = l.state.wrapping_add(1);
            let generation = l.state;
            let more = Self::release_batch(l, generation, &mut batch);
            Some((generation, more))
        });
        let Some((generation, more)) = generation else {
            return;
        };
        // If a wake panics, the rest of the generation is still released.
        let resume = Defer::new(|| self.release(generation));
        batch.wake_all();
        if more {
            self.release(generation);
        }
        resume.cancel();
    }

    /// Releases, batch by batch, the waiters older than `generation`.
    fn release(&self, generation: usize) {
        let mut batch = WakeBatch::new();
        while self
            .waiters
            .lock(|l| Self::release_batch(l, generation, &mut batch))
        {
            batch.wake_all();
        }
        batch.wake_all();
    }

    /// Pops into `batch` the waiters older than `generation` (the `set()`
    /// that opened it), until the batch is full; returns whether more may
    /// be left.
    fn release_batch(
        l: &mut List<usize, Ticket>,
        generation: usize,
        batch: &mut WakeBatch,
    ) -> bool {
        if l.state != generation {
            // A later `set()` took over the remaining waiters.
            return false;
        }
        while !batch.is_full() {
            // Waiters queued after this `set()` (after a `clear()`) carry the
            // new generation and stay.
            let release = l.with_front(|t| {
                let older = t.generation != generation;
                t.notified |= older;
                older
            });
            match release {
                Some(true) => batch.push(l.pop_front().flatten()),
                _ => return false,
            }
        }
        true
    }

    /// Resets the event; later [`wait`](Self::wait)s block until the next
    /// [`set`](Self::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = sluicegate::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        self.is_set.store(false, Release);
    }

    /// Waits until the event is set; ready at once if it is.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped waiter leaves nothing behind, and since `set()`
    /// wakes everyone there is no wake-up to pass on.
    ///
    /// # Examples
    ///
    /// ```
    /// let ev = sluicegate::Event::new();
    /// ev.set();
    /// futures_lite::future::block_on(ev.wait());
    /// ```
    pub fn wait(&self) -> EventWait<'_, L> {
        EventWait {
            event: self,
            node: Node::new(Ticket {
                generation: 0,
                notified: false,
            }),
            queued: false,
            done: false,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: ScopedRawMutex> fmt::Debug for Event<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

pin_project! {
    /// The future returned by [`Event::wait`].
    ///
    /// # Cancel safety
    ///
    /// Dropping it unregisters the waiter; nothing else is affected.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    ///
    /// let event = sluicegate::Event::new();
    /// let mut wait = Box::pin(event.wait());
    /// assert!(block_on(poll_once(&mut wait)).is_none());
    /// event.set();
    /// block_on(wait);
    /// block_on(event.wait()); // already set: ready at once
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct EventWait<'a, L: ScopedRawMutex = DefaultRawMutex> {
        event: &'a Event<L>,
        #[pin]
        node: Node<Ticket>,
        queued: bool,
        done: bool,
    }

    impl<L: ScopedRawMutex> PinnedDrop for EventWait<'_, L> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.queued {
                let node = this.node.into_ref();
                // SAFETY: the node is used with `event.waiters` only.
                this.event.waiters.lock(|l| unsafe { l.remove(node) });
            }
        }
    }
}

impl<L: ScopedRawMutex> Future for EventWait<'_, L> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        assert!(!*this.done, "`EventWait` polled after completion");
        let node = this.node.into_ref();
        let event = *this.event;
        // Dropped after the lock is released, like every waker.
        let mut displaced = None;
        // Only `set()` pops waiters, and only released ones: no lock needed.
        let ready = if *this.queued && node.popped() {
            true
        } else if *this.queued {
            event.waiters.lock(|l| {
                // SAFETY: the node is used with `event.waiters` only.
                unsafe {
                    let notified = l.with_node(node, |t, _| t.notified);
                    if !notified {
                        displaced = l.set_waker(node, cx.waker());
                    }
                    notified
                }
            })
        } else if event.is_set.load(Acquire) {
            true
        } else {
            event.waiters.lock(|l| {
                // Re-check under the lock: `set()` flips the flag under this
                // same lock, so either it flipped it before we got the lock
                // (we see it) or it will find us queued.
                if event.is_set.load(Acquire) {
                    return true;
                }
                let ticket = Ticket {
                    generation: l.state,
                    notified: false,
                };
                // SAFETY: the node is used with `event.waiters` only, and
                // our drop unlinks it.
                displaced = unsafe { l.push_back(node, ticket, cx.waker().clone()) };
                *this.queued = true;
                false
            })
        };
        if ready {
            *this.queued = false;
            *this.done = true;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<L: ScopedRawMutex> fmt::Debug for EventWait<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("queued", &self.queued)
            .finish()
    }
}
