//! An async object pool ([`Pool`]): asyncio's connection pool, for any
//! executor.
//!
//! A pool hands out objects (connections, buffers, clients) through RAII
//! guards: [`get`](Pool::get) waits for one, the [`PoolGuard`] derefs to it,
//! and dropping the guard puts it back for the next caller. A [`Manager`]
//! creates objects lazily, up to [`max_size`](Pool::max_size), and checks
//! (*recycles*) an idle object before it is handed out again; the unmanaged
//! form ([`Pool::unmanaged`]) holds only what the caller
//! [`add`](Pool::add)s.
//!
//! Built from the crate's own parts: a fair [`Semaphore`] counts the
//! objects that may be handed out (free slots, or idle objects of an
//! unmanaged pool) and queues the callers that wait for one, a short lock
//! guards the idle objects, and a [`TaskTracker`] counts what is out, so
//! that [`drain`](Pool::drain) can wait until everything is back. Time comes
//! from a [`Timer`] the caller passes in ([`PoolBuilder::timer`]): timeouts
//! for waiting, creating and recycling, a maximum lifetime and an idle
//! timeout. Nothing here spawns a task: [`maintain`](Pool::maintain) is a
//! future the caller drives, if it wants idle objects evicted between uses.
//! No `unsafe` code.
//!
//! # Fairness
//!
//! Strict FIFO: an object that comes back goes to the caller that has waited
//! longest, and a new `get` or [`try_get`](Pool::try_get) never takes it
//! from under a waiter (bb8 lets a new `get` barge; this pool does not).
//!
//! # Cancellation
//!
//! A [`Get`] can be dropped at any await (while queued, after a slot was
//! handed to it but before it is polled again, while creating, while
//! recycling) and nothing leaks: the slot it held or was handed goes to the
//! next waiter, a half-made object is dropped with its create future, and
//! [`status`](Pool::status) stays exact. An object whose recycle check is
//! cut short is dropped with the check (its state is unknown), and its slot
//! is freed for a new one.
//!
//! # Examples
//!
//! A pool of up to two simulated connections:
//!
//! ```
//! use core::future::{ready, Ready};
//! use sluicegate::pool::{Manager, Pool};
//!
//! struct Connector;
//!
//! impl Manager<String> for Connector {
//!     type Error = ();
//!     type Create<'a> = Ready<Result<String, ()>>;
//!     type Recycle<'a> = Ready<Result<String, ()>>;
//!
//!     fn create(&self) -> Self::Create<'_> {
//!         ready(Ok(String::from("connection")))
//!     }
//!
//!     fn recycle(&self, conn: String) -> Self::Recycle<'_> {
//!         ready(Ok(conn)) // a real manager would ping it here
//!     }
//! }
//!
//! let pool = Pool::new(Connector, 2);
//! futures_lite::future::block_on(async {
//!     let a = pool.get().await.unwrap();
//!     let b = pool.get().await.unwrap();
//!     assert_eq!(*a, "connection");
//!     assert!(pool.try_get().is_err()); // both in use
//!     drop(a); // back to the pool
//!     let c = pool.get().await.unwrap(); // reused, not created
//!     assert_eq!(pool.status().created, 2);
//!     # drop((b, c));
//! });
//! ```
#![forbid(unsafe_code)]

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::future::{Future, Pending, Ready};
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::time::Duration;

use crate::loom::atomic::{AtomicUsize, Ordering::Relaxed};
use crate::raw_mutex::{DefaultRawMutex, Lock, ScopedRawMutex};
use crate::semaphore::{Semaphore, TryAcquireError};
use crate::task::{TaskTracker, TaskTrackerToken};
use crate::time::{Clock, Sleeper, Timer, Timestamp};

mod futures;

pub use futures::{Drain, Get, Maintain};

/// Creates the objects of a [`Pool`] and checks them before they are reused.
///
/// Both steps are futures, and both may fail. The futures are associated
/// types (not `async fn`), so that [`Get`] is a named future, as every
/// future of this crate is: a manager whose steps are plain values uses
/// [`Ready`]; one with `async` bodies boxes them
/// (`Pin<Box<dyn Future<Output = …> + Send + 'a>>`), or names its own
/// future types.
///
/// # Cancel safety
///
/// The pool may drop a create or recycle future at any await (the caller's
/// `get` was dropped, or a timeout fired). A dropped create loses nothing
/// that the manager has not made; a dropped recycle drops the object inside
/// it, which the pool then counts as gone.
///
/// # Examples
///
/// A manager with an `async` create step, boxed:
///
/// ```
/// use core::future::{ready, Future, Ready};
/// use core::pin::Pin;
/// use sluicegate::pool::{Manager, Pool};
///
/// struct Dialer {
///     addr: &'static str,
/// }
///
/// impl Manager<String> for Dialer {
///     type Error = &'static str;
///     type Create<'a> = Pin<Box<dyn Future<Output = Result<String, &'static str>> + Send + 'a>>;
///     type Recycle<'a> = Ready<Result<String, &'static str>>;
///
///     fn create(&self) -> Self::Create<'_> {
///         Box::pin(async move { Ok(format!("connected to {}", self.addr)) })
///     }
///
///     fn recycle(&self, conn: String) -> Self::Recycle<'_> {
///         // A broken connection is refused: the pool drops it and moves on.
///         ready(if conn.is_empty() { Err("broken") } else { Ok(conn) })
///     }
/// }
///
/// let pool = Pool::new(Dialer { addr: "db:5432" }, 4);
/// let conn = futures_lite::future::block_on(pool.get()).unwrap();
/// assert_eq!(*conn, "connected to db:5432");
/// ```
pub trait Manager<T> {
    /// What a failed create or recycle reports.
    type Error;

    /// The future returned by [`create`](Self::create).
    type Create<'a>: Future<Output = Result<T, Self::Error>>
    where
        Self: 'a;

    /// The future returned by [`recycle`](Self::recycle).
    type Recycle<'a>: Future<Output = Result<T, Self::Error>>
    where
        Self: 'a;

    /// Whether the pool may call [`create`](Self::create). `false` makes an
    /// unmanaged pool: it holds only the objects [`Pool::add`] hands it
    /// ([`Unmanaged`] says `false`; a manager that only checks objects may
    /// too).
    const CREATES: bool = true;

    /// Makes a new object. Called lazily, when a `get` finds no idle object
    /// and the pool has fewer than [`max_size`](Pool::max_size).
    ///
    /// # Errors
    ///
    /// Whatever the manager reports; [`get`](Pool::get) returns it as
    /// [`PoolError::Create`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Manager, Unmanaged};
    /// // Unmanaged never creates: its create future never completes.
    /// let never = <Unmanaged as Manager<u8>>::create(&Unmanaged);
    /// # drop(never);
    /// ```
    fn create(&self) -> Self::Create<'_>;

    /// Checks an idle object before it is handed out again, and gives it
    /// back if it is fit for use.
    ///
    /// # Errors
    ///
    /// An object that fails its check is dropped (inside the future or with
    /// the error); the pool counts a recycle failure and goes on with the
    /// next idle object, or creates one. The error does not reach the
    /// caller of [`get`](Pool::get).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Manager, Unmanaged};
    /// let back = futures_lite::future::block_on(Unmanaged.recycle(7u8));
    /// assert_eq!(back, Ok(7));
    /// ```
    fn recycle(&self, object: T) -> Self::Recycle<'_>;
}

/// The manager of an unmanaged pool: it creates nothing, and hands every
/// object back unchecked. [`Pool::unmanaged`] uses it.
///
/// # Examples
///
/// ```
/// use sluicegate::pool::Pool;
///
/// let pool = Pool::unmanaged(2);
/// pool.add("a").unwrap();
/// let a = futures_lite::future::block_on(pool.get()).unwrap();
/// assert_eq!(*a, "a");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unmanaged;

impl<T> Manager<T> for Unmanaged {
    type Error = core::convert::Infallible;
    type Create<'a> = Pending<Result<T, core::convert::Infallible>>;
    type Recycle<'a> = Ready<Result<T, core::convert::Infallible>>;

    const CREATES: bool = false;

    fn create(&self) -> Self::Create<'_> {
        core::future::pending()
    }

    fn recycle(&self, object: T) -> Self::Recycle<'_> {
        core::future::ready(Ok(object))
    }
}

/// The timer of a pool that was given none ([`PoolBuilder::timer`]): its
/// clock stands at zero and its sleeps never end. Timeouts and lifetimes
/// need a real timer; [`PoolBuilder::build`] refuses them without one.
///
/// # Examples
///
/// ```
/// use sluicegate::pool::NoTimer;
/// use sluicegate::time::Clock;
/// assert_eq!(NoTimer.now(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoTimer;

impl Clock for NoTimer {
    type Instant = u64;

    #[inline]
    fn now(&self) -> u64 {
        0
    }
}

impl Sleeper for NoTimer {
    type Sleep = Pending<()>;

    #[inline]
    fn sleep(&self, _: Duration) -> Pending<()> {
        core::future::pending()
    }
}

impl Timer for NoTimer {}

/// Which idle object a `get` takes.
///
/// # Examples
///
/// ```
/// use sluicegate::pool::{Pool, QueueMode};
///
/// let pool = Pool::builder(sluicegate::pool::Unmanaged, 2)
///     .queue_mode(QueueMode::Lifo)
///     .build();
/// pool.add(1).unwrap();
/// pool.add(2).unwrap();
/// assert_eq!(*pool.try_get().unwrap(), 2); // the most recently returned
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum QueueMode {
    /// The one idle longest: use every object in turn (the default).
    #[default]
    Fifo,
    /// The one returned last: keep few objects warm, and let the rest reach
    /// their [idle timeout](PoolBuilder::idle_timeout).
    Lifo,
}

/// Error from [`Pool::get`].
///
/// # Examples
///
/// ```
/// use sluicegate::pool::{Pool, PoolError};
///
/// let pool = Pool::<u8>::unmanaged(1);
/// pool.close();
/// let err = futures_lite::future::block_on(pool.get()).unwrap_err();
/// assert_eq!(err, PoolError::Closed);
/// assert_eq!(err.to_string(), "pool closed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolError<E> {
    /// The pool was closed before an object was handed over.
    Closed,
    /// A timeout of the pool ran out ([`PoolBuilder::wait_timeout`],
    /// [`PoolBuilder::create_timeout`]).
    Timeout(TimeoutKind),
    /// The manager failed to create an object.
    Create(E),
}

impl<E> PoolError<E> {
    /// The manager's error, if creating failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::PoolError;
    /// assert_eq!(PoolError::Create("refused").into_inner(), Some("refused"));
    /// assert_eq!(PoolError::<&str>::Closed.into_inner(), None);
    /// ```
    pub fn into_inner(self) -> Option<E> {
        match self {
            Self::Create(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("pool closed"),
            Self::Timeout(TimeoutKind::Wait) => {
                f.write_str("timed out waiting for a pooled object")
            }
            Self::Timeout(TimeoutKind::Create) => f.write_str("timed out creating a pooled object"),
            Self::Create(e) => write!(f, "creating a pooled object failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for PoolError<E> {}

/// Which timeout of a [`Pool`] ran out ([`PoolError::Timeout`]).
///
/// A recycle timeout never reaches the caller: the object is dropped, and
/// the `get` goes on with the next one (see [`PoolBuilder::recycle_timeout`]).
///
/// # Examples
///
/// ```
/// use sluicegate::pool::{PoolError, TimeoutKind};
/// let e: PoolError<&str> = PoolError::Timeout(TimeoutKind::Wait);
/// assert_eq!(e.to_string(), "timed out waiting for a pooled object");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Waiting for an object or a free slot took longer than
    /// [`PoolBuilder::wait_timeout`].
    Wait,
    /// Creating an object took longer than [`PoolBuilder::create_timeout`].
    Create,
}

/// Error from [`Pool::try_get`].
///
/// # Examples
///
/// ```
/// use sluicegate::pool::{Pool, TryGetError};
/// let pool = Pool::<u8>::unmanaged(1);
/// assert_eq!(pool.try_get().unwrap_err(), TryGetError::Empty);
/// pool.close();
/// assert_eq!(pool.try_get().unwrap_err(), TryGetError::Closed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryGetError {
    /// The pool is closed.
    Closed,
    /// No idle object can be handed out now: none is idle (a `get` would
    /// create or wait), or other callers are waiting for one.
    Empty,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("pool closed"),
            Self::Empty => f.write_str("no idle object available"),
        }
    }
}

impl core::error::Error for TryGetError {}

/// Error from [`Pool::add`], with the object that was not added.
///
/// # Examples
///
/// ```
/// use sluicegate::pool::Pool;
/// let pool = Pool::unmanaged(1);
/// pool.add('a').unwrap();
/// let err = pool.add('b').unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "pool is full");
/// assert_eq!(err.into_inner(), 'b');
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddError<T> {
    object: T,
    closed: bool,
}

impl<T> AddError<T> {
    /// The object that was not added.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(0);
    /// assert_eq!(pool.add(5).unwrap_err().into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.object
    }

    /// Whether the pool was closed (else it was full).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(1);
    /// pool.close();
    /// assert!(pool.add(5).unwrap_err().is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the pool was full: it holds [`max_size`](Pool::max_size)
    /// objects, or (managed) every slot is taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(0);
    /// assert!(pool.add(5).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        !self.closed
    }
}

impl<T> fmt::Debug for AddError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddError")
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for AddError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.closed {
            "pool closed"
        } else {
            "pool is full"
        })
    }
}

impl<T> core::error::Error for AddError<T> {}

/// A snapshot of a pool's counts ([`Pool::status`]).
///
/// The gauges (`size` … `waiting`) are read together under the pool's
/// lock, except `waiting`, which is read just after it; the counters only
/// grow.
///
/// # Examples
///
/// ```
/// let pool = sluicegate::pool::Pool::unmanaged(4);
/// pool.add(()).unwrap();
/// let held = pool.try_get().unwrap();
/// let s = pool.status();
/// assert_eq!((s.max_size, s.size, s.idle, s.in_use, s.waiting), (4, 1, 0, 1, 0));
/// # drop(held);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Status {
    /// The most objects the pool keeps ([`Pool::max_size`]).
    pub max_size: usize,
    /// Objects that exist and belong to the pool: idle, in use, or being
    /// recycled (not those being created).
    pub size: usize,
    /// Objects waiting in the pool.
    pub idle: usize,
    /// Objects handed out (or being recycled before a hand-out):
    /// `size - idle`.
    pub in_use: usize,
    /// Objects being created right now.
    pub creating: usize,
    /// `get`s queued for an object or a free slot.
    pub waiting: usize,
    /// Whether [`Pool::close`] was called.
    pub closed: bool,
    /// Objects the manager created.
    pub created: u64,
    /// Creates that failed (not counting timeouts).
    pub create_failures: u64,
    /// Hand-outs of an idle object (each was recycled first).
    pub reused: u64,
    /// Recycles that failed (not counting timeouts): those objects were
    /// dropped.
    pub recycle_failures: u64,
    /// Objects dropped for their [maximum lifetime](PoolBuilder::max_lifetime)
    /// or [idle timeout](PoolBuilder::idle_timeout).
    pub expired: u64,
    /// Objects taken out for good ([`PoolGuard::detach`], [`Pool::remove`]).
    pub detached: u64,
    /// `get`s that gave up waiting ([`TimeoutKind::Wait`]).
    pub wait_timeouts: u64,
    /// Creates cut off by [`PoolBuilder::create_timeout`].
    pub create_timeouts: u64,
    /// Recycles cut off by [`PoolBuilder::recycle_timeout`] (those objects
    /// were dropped).
    pub recycle_timeouts: u64,
}

/// When an object was made and last put back, for [`Pool::retain`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::pool::Pool;
/// use sluicegate::time::ManualClock;
///
/// let clock = ManualClock::new();
/// let pool = Pool::builder(sluicegate::pool::Unmanaged, 2).timer(clock.clone()).build();
/// clock.advance(Duration::from_secs(3));
/// pool.add("conn").unwrap();
/// pool.retain(|_, info| {
///     assert_eq!(info.created, Some(Duration::from_secs(3)));
///     true
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ObjectInfo<I> {
    /// When it was created or added; `None` if the pool has no timer.
    pub created: Option<I>,
    /// When it was last put back; `None` if it never was, or the pool has
    /// no [idle timeout](PoolBuilder::idle_timeout) (only then is it kept).
    pub idle_since: Option<I>,
}

/// An object with its timestamps.
struct Entry<T, I> {
    object: T,
    info: ObjectInfo<I>,
}

/// The pool's settings.
#[derive(Debug, Clone, Copy)]
struct Config {
    wait_timeout: Option<Duration>,
    create_timeout: Option<Duration>,
    recycle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    idle_timeout: Option<Duration>,
    queue: QueueMode,
    /// A real timer was given: record creation times.
    timed: bool,
}

impl Config {
    /// Whether an object needs the time when it is handed out or returned.
    #[inline]
    fn checks_age(&self) -> bool {
        self.max_lifetime.is_some() || self.idle_timeout.is_some()
    }

    /// Past its maximum lifetime or idle timeout at `now`.
    fn expired<I: Timestamp>(&self, info: &ObjectInfo<I>, now: I) -> bool {
        self.too_old(info, now) || past(now, info.idle_since, self.idle_timeout)
    }

    /// Past its maximum lifetime at `now`.
    fn too_old<I: Timestamp>(&self, info: &ObjectInfo<I>, now: I) -> bool {
        past(now, info.created, self.max_lifetime)
    }
}

/// Whether `limit` has passed since `since` (both known) at `now`.
fn past<I: Timestamp>(now: I, since: Option<I>, limit: Option<Duration>) -> bool {
    match (since, limit) {
        (Some(since), Some(limit)) => now.saturating_duration_since(since) >= limit,
        _ => false,
    }
}

/// The state guarded by the pool's lock.
struct Store<T, I> {
    idle: VecDeque<Entry<T, I>>,
    /// Idle, in use and being recycled (see [`Status::size`]).
    size: usize,
    max_size: usize,
    creating: usize,
    closed: bool,
    counts: Status,
}

/// What a `get` found in the store.
enum Take<T, I> {
    Object(Entry<T, I>),
    /// Too old: counted out of `size` already; drop it after the lock.
    Expired(Entry<T, I>),
    /// Nothing idle: create one (`creating` counted already).
    Create,
    /// Nothing idle, and the pool cannot create.
    Empty,
    Closed,
}

impl<T, I: Timestamp> Store<T, I> {
    fn take(&mut self, now: Option<I>, config: &Config, create: bool) -> Take<T, I> {
        if self.closed {
            return Take::Closed;
        }
        let entry = match config.queue {
            QueueMode::Fifo => self.idle.pop_front(),
            QueueMode::Lifo => self.idle.pop_back(),
        };
        match entry {
            Some(entry) => match now {
                Some(now) if config.expired(&entry.info, now) => {
                    self.size -= 1;
                    self.counts.expired += 1;
                    Take::Expired(entry)
                }
                _ => {
                    self.counts.reused += 1;
                    Take::Object(entry)
                }
            },
            None if create => {
                self.creating += 1;
                Take::Create
            }
            None => Take::Empty,
        }
    }
}

/// An async pool of reusable objects: asyncio's connection pool
/// (`async with pool.acquire() as conn:`), for any executor.
///
/// `T` is the object, `M` the [`Manager`] that creates and checks them
/// ([`Unmanaged`] for a pool of objects the caller [`add`](Self::add)s),
/// `Tm` the [`Timer`] of its timeouts and lifetimes ([`NoTimer`] if none),
/// and `L` the short lock of its queue and idle store (see
/// [`raw_mutex`](crate::raw_mutex)). See the [module docs](self) for the
/// design, fairness and cancel safety.
///
/// The pool borrows out its objects: share it by reference, in a `static`,
/// or in an `Arc` cloned into each task (`let pool = pool.clone(); async
/// move { let conn = pool.get().await; … }`).
///
/// # Memory ordering
///
/// Everything done to an object before its guard is dropped happens before
/// the next `get` that receives that object completes.
///
/// # Examples
///
/// asyncio's `ConnectionPool(max_connections=2)` with a wait timeout, in
/// virtual time:
///
/// ```
/// use core::future::{ready, Ready};
/// use std::time::Duration;
/// use futures_lite::future::block_on;
/// use sluicegate::pool::{Manager, Pool, PoolError, TimeoutKind};
/// use sluicegate::time::ManualClock;
///
/// #[derive(Debug)]
/// struct Conn(u32);
/// struct Db;
/// impl Manager<Conn> for Db {
///     type Error = ();
///     type Create<'a> = Ready<Result<Conn, ()>>;
///     type Recycle<'a> = Ready<Result<Conn, ()>>;
///     fn create(&self) -> Self::Create<'_> {
///         ready(Ok(Conn(7)))
///     }
///     fn recycle(&self, conn: Conn) -> Self::Recycle<'_> {
///         ready(Ok(conn))
///     }
/// }
///
/// let clock = ManualClock::new();
/// let pool = Pool::builder(Db, 2)
///     .timer(clock.clone())
///     .wait_timeout(Duration::from_secs(1))
///     .build();
/// let (a, b) = block_on(async { (pool.get().await.unwrap(), pool.get().await.unwrap()) });
/// let third = block_on(clock.auto_advance(pool.get()));
/// assert_eq!(third.unwrap_err(), PoolError::Timeout(TimeoutKind::Wait));
/// assert_eq!(a.0 + b.0, 14);
/// ```
pub struct Pool<T, M = Unmanaged, Tm = NoTimer, L = DefaultRawMutex>
where
    Tm: Clock,
    L: ScopedRawMutex,
{
    manager: M,
    timer: Tm,
    config: Config,
    /// Managed: one permit per free slot (`max_size` minus what is in use
    /// or being created). Unmanaged: one per idle object. Either way a
    /// permit is what a `get` waits for, FIFO, and the idle objects never
    /// outnumber the permits available plus those handed to `get`s that
    /// have not taken their object yet.
    slots: Semaphore<L>,
    store: Lock<Store<T, Tm::Instant>, L>,
    /// One token per object out of the store (handed out, being recycled
    /// or created, looked at by `retain`); closed from the start, so its
    /// `wait()` is the drain.
    out: TaskTracker<L>,
    /// `get`s queued in `slots`.
    waiting: AtomicUsize,
    _object: PhantomData<fn() -> T>,
}

/// Builds a [`Pool`]: [`Pool::builder`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sluicegate::pool::{Pool, QueueMode, Unmanaged};
/// use sluicegate::time::ManualClock;
///
/// let pool = Pool::<u32>::builder(Unmanaged, 8)
///     .timer(ManualClock::new())
///     .wait_timeout(Duration::from_secs(5))
///     .max_lifetime(Duration::from_secs(1800))
///     .idle_timeout(Duration::from_secs(600))
///     .queue_mode(QueueMode::Lifo)
///     .build();
/// assert_eq!(pool.max_size(), 8);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder<T, M, Tm = NoTimer, L = DefaultRawMutex> {
    manager: M,
    timer: Tm,
    max_size: usize,
    config: Config,
    _marker: PhantomData<fn() -> (T, L)>,
}

impl<T, M, Tm, L> PoolBuilder<T, M, Tm, L> {
    /// The timer of the pool's timeouts, lifetimes and [`maintain`](Pool::maintain)
    /// (taken by value: pass `&timer`, an `Arc` or a clone).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::time::ManualClock;
    /// let clock = ManualClock::new();
    /// let pool = Pool::<u8>::builder(Unmanaged, 1).timer(&clock).build();
    /// # drop(pool);
    /// ```
    pub fn timer<Tm2: Timer>(self, timer: Tm2) -> PoolBuilder<T, M, Tm2, L> {
        PoolBuilder {
            manager: self.manager,
            timer,
            max_size: self.max_size,
            config: Config {
                timed: true,
                ..self.config
            },
            _marker: PhantomData,
        }
    }

    /// The lock of the pool's wait queue, idle store and drain tracker (each
    /// gets its own `L::default()`); see [`raw_mutex`](crate::raw_mutex).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::raw_mutex::LocalRawMutex;
    ///
    /// let pool = Pool::builder(Unmanaged, 1).raw_mutex::<LocalRawMutex>().build();
    /// pool.add(1).unwrap();
    /// ```
    pub fn raw_mutex<L2: ScopedRawMutex + Default>(self) -> PoolBuilder<T, M, Tm, L2> {
        PoolBuilder {
            manager: self.manager,
            timer: self.timer,
            max_size: self.max_size,
            config: self.config,
            _marker: PhantomData,
        }
    }

    /// How long a `get` may wait for an object or a free slot before it
    /// fails with [`TimeoutKind::Wait`]; counted from its first `Pending`.
    /// Needs a [timer](Self::timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::block_on;
    /// use sluicegate::pool::{Pool, PoolError, TimeoutKind, Unmanaged};
    /// use sluicegate::time::ManualClock;
    /// let clock = ManualClock::new();
    /// let pool = Pool::<u8>::builder(Unmanaged, 1)
    ///     .timer(clock.clone())
    ///     .wait_timeout(Duration::from_millis(10))
    ///     .build();
    /// let err = block_on(clock.auto_advance(pool.get())).unwrap_err();
    /// assert_eq!(err, PoolError::Timeout(TimeoutKind::Wait));
    /// ```
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.config.wait_timeout = Some(timeout);
        self
    }

    /// How long one create may take before the `get` fails with
    /// [`TimeoutKind::Create`] (the create future is dropped). Needs a
    /// [timer](Self::timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// let pool = Pool::<u8>::builder(Unmanaged, 1)
    ///     .timer(sluicegate::time::ManualClock::new())
    ///     .create_timeout(Duration::from_secs(3))
    ///     .build();
    /// # drop(pool);
    /// ```
    pub fn create_timeout(mut self, timeout: Duration) -> Self {
        self.config.create_timeout = Some(timeout);
        self
    }

    /// How long one recycle may take. One that takes longer is dropped with
    /// the object inside it (counted in [`Status::recycle_timeouts`]), and
    /// the `get` goes on with the next idle object or creates one. Needs a
    /// [timer](Self::timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// let pool = Pool::<u8>::builder(Unmanaged, 1)
    ///     .timer(sluicegate::time::ManualClock::new())
    ///     .recycle_timeout(Duration::from_millis(500))
    ///     .build();
    /// # drop(pool);
    /// ```
    pub fn recycle_timeout(mut self, timeout: Duration) -> Self {
        self.config.recycle_timeout = Some(timeout);
        self
    }

    /// The age at which an object is dropped instead of being handed out or
    /// put back (and by [`evict_expired`](Pool::evict_expired)). Needs a
    /// [timer](Self::timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::pool::{Pool, TryGetError, Unmanaged};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let pool = Pool::builder(Unmanaged, 1)
    ///     .timer(clock.clone())
    ///     .max_lifetime(Duration::from_secs(60))
    ///     .build();
    /// pool.add("old").unwrap();
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(pool.try_get().unwrap_err(), TryGetError::Empty); // dropped
    /// assert_eq!(pool.status().expired, 1);
    /// ```
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.max_lifetime = Some(lifetime);
        self
    }

    /// How long an object may sit idle before it is dropped instead of
    /// being handed out (and by [`evict_expired`](Pool::evict_expired)).
    /// Needs a [timer](Self::timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let pool = Pool::builder(Unmanaged, 2)
    ///     .timer(clock.clone())
    ///     .idle_timeout(Duration::from_secs(10))
    ///     .build();
    /// pool.add(1).unwrap();
    /// drop(pool.try_get().unwrap()); // put back at 0 s
    /// clock.advance(Duration::from_secs(10));
    /// assert_eq!(pool.evict_expired(), 1);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = Some(timeout);
        self
    }

    /// Which idle object a `get` takes ([`QueueMode::Fifo`] by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, QueueMode, Unmanaged};
    /// let pool = Pool::<u8>::builder(Unmanaged, 1).queue_mode(QueueMode::Lifo).build();
    /// # drop(pool);
    /// ```
    pub fn queue_mode(mut self, mode: QueueMode) -> Self {
        self.config.queue = mode;
        self
    }
}

impl<T, M, Tm, L> PoolBuilder<T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex + Default,
{
    /// The pool.
    ///
    /// # Panics
    ///
    /// If a timeout or lifetime was set without a [timer](Self::timer)
    /// (there would be nothing to measure it with), or if `max_size`
    /// exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::<u8>::builder(sluicegate::pool::Unmanaged, 3).build();
    /// assert_eq!(pool.max_size(), 3);
    /// ```
    pub fn build(self) -> Pool<T, M, Tm, L> {
        let c = &self.config;
        assert!(
            c.timed
                || (c.wait_timeout.is_none()
                    && c.create_timeout.is_none()
                    && c.recycle_timeout.is_none()
                    && !c.checks_age()),
            "a pool timeout or lifetime needs a timer: call PoolBuilder::timer"
        );
        check_size(self.max_size);
        let permits = if M::CREATES { self.max_size } else { 0 };
        let out = TaskTracker::new_with_raw_mutex(L::default());
        out.close();
        Pool {
            manager: self.manager,
            timer: self.timer,
            config: self.config,
            slots: Semaphore::new_with_raw_mutex(permits, L::default()),
            store: Lock::new(
                Store {
                    idle: VecDeque::with_capacity(self.max_size.min(1024)),
                    size: 0,
                    max_size: self.max_size,
                    creating: 0,
                    closed: false,
                    counts: Status::default(),
                },
                L::default(),
            ),
            out,
            waiting: AtomicUsize::new(0),
            _object: PhantomData,
        }
    }
}

impl<T, M: fmt::Debug, Tm: fmt::Debug, L> fmt::Debug for PoolBuilder<T, M, Tm, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("manager", &self.manager)
            .field("timer", &self.timer)
            .field("max_size", &self.max_size)
            .field("config", &self.config)
            .finish()
    }
}

#[track_caller]
fn check_size(max_size: usize) {
    assert!(
        max_size <= Semaphore::MAX_PERMITS,
        "a pool's max_size ({max_size}) exceeds Semaphore::MAX_PERMITS ({})",
        Semaphore::MAX_PERMITS
    );
}

impl<T, M: Manager<T>> Pool<T, M> {
    /// A pool of up to `max_size` objects made by `manager`, without
    /// timeouts (see [`builder`](Pool::builder) for them).
    ///
    /// # Panics
    ///
    /// If `max_size` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use core::future::{ready, Ready};
    /// use sluicegate::pool::{Manager, Pool};
    ///
    /// struct Buffers;
    /// impl Manager<Vec<u8>> for Buffers {
    ///     type Error = core::convert::Infallible;
    ///     type Create<'a> = Ready<Result<Vec<u8>, Self::Error>>;
    ///     type Recycle<'a> = Ready<Result<Vec<u8>, Self::Error>>;
    ///     fn create(&self) -> Self::Create<'_> {
    ///         ready(Ok(Vec::with_capacity(4096)))
    ///     }
    ///     fn recycle(&self, mut buf: Vec<u8>) -> Self::Recycle<'_> {
    ///         buf.clear();
    ///         ready(Ok(buf))
    ///     }
    /// }
    ///
    /// let pool = Pool::new(Buffers, 16);
    /// let mut buf = futures_lite::future::block_on(pool.get()).unwrap();
    /// buf.extend_from_slice(b"hello");
    /// drop(buf);
    /// assert!(futures_lite::future::block_on(pool.get()).unwrap().is_empty());
    /// ```
    pub fn new(manager: M, max_size: usize) -> Self {
        Self::builder(manager, max_size).build()
    }

    /// A builder for a pool of up to `max_size` objects made by `manager`,
    /// with a timer, timeouts, lifetimes, a queue mode or a lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// let pool = Pool::<u8>::builder(Unmanaged, 2).build();
    /// assert_eq!(pool.max_size(), 2);
    /// ```
    pub fn builder(manager: M, max_size: usize) -> PoolBuilder<T, M> {
        PoolBuilder {
            manager,
            timer: NoTimer,
            max_size,
            config: Config {
                wait_timeout: None,
                create_timeout: None,
                recycle_timeout: None,
                max_lifetime: None,
                idle_timeout: None,
                queue: QueueMode::Fifo,
                timed: false,
            },
            _marker: PhantomData,
        }
    }
}

impl<T> Pool<T> {
    /// An unmanaged pool of up to `max_size` objects, which holds what
    /// [`add`](Self::add) hands it; `get` waits until an object is idle.
    ///
    /// # Panics
    ///
    /// If `max_size` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    ///
    /// let pool = sluicegate::pool::Pool::unmanaged(2);
    /// let mut waiting = Box::pin(pool.get());
    /// assert!(block_on(poll_once(&mut waiting)).is_none()); // nothing yet
    /// pool.add(String::from("worker")).unwrap();
    /// assert_eq!(*block_on(waiting).unwrap(), "worker");
    /// ```
    pub fn unmanaged(max_size: usize) -> Self {
        Pool::builder(Unmanaged, max_size).build()
    }
}

impl<T, M, Tm, L> Pool<T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    /// Waits for an object: an idle one (recycled first), or a new one if
    /// the pool has room; else queues, FIFO, until one comes back.
    ///
    /// # Errors
    ///
    /// [`PoolError::Closed`] if the pool is closed first,
    /// [`PoolError::Timeout`] if a wait or create timeout runs out,
    /// [`PoolError::Create`] if the manager fails to create one.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe at every await; see [`Get`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(1);
    /// pool.add(42).unwrap();
    /// futures_lite::future::block_on(async {
    ///     let n = pool.get().await.unwrap();
    ///     assert_eq!(*n, 42);
    /// });
    /// ```
    #[inline]
    pub fn get(&self) -> Get<'_, T, M, Tm, L> {
        Get::new(self)
    }

    /// Takes an idle object at once, if one is idle and nobody waits for
    /// one. It is not recycled (that is async) and none is created; the
    /// age limits are checked.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Closed`] if the pool is closed, [`TryGetError::Empty`]
    /// if no idle object can be handed out now.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, TryGetError};
    /// let pool = Pool::unmanaged(1);
    /// pool.add(1).unwrap();
    /// let one = pool.try_get().unwrap();
    /// assert_eq!(pool.try_get().unwrap_err(), TryGetError::Empty);
    /// # drop(one);
    /// ```
    pub fn try_get(&self) -> Result<PoolGuard<'_, T, M, Tm, L>, TryGetError> {
        loop {
            let permit = self.slots.try_acquire().map_err(|e| match e {
                TryAcquireError::Closed => TryGetError::Closed,
                TryAcquireError::NoPermits => TryGetError::Empty,
            })?;
            let token = self.out.token();
            let now = self.now_if(self.config.checks_age());
            match self.store.with(|s| s.take(now, &self.config, false)) {
                Take::Object(entry) => {
                    permit.forget();
                    return Ok(PoolGuard::new(self, entry, token));
                }
                Take::Expired(entry) => {
                    // Unmanaged: the permit was that object's.
                    if !M::CREATES {
                        permit.forget();
                    }
                    drop((token, entry));
                }
                Take::Closed => return Err(TryGetError::Closed),
                Take::Create | Take::Empty => return Err(TryGetError::Empty),
            }
        }
    }

    /// Adds an object: to the idle store, or straight to the longest
    /// waiter. A managed pool takes it only while it has a free slot.
    ///
    /// # Errors
    ///
    /// [`AddError`], with the object, if the pool is closed or full (it
    /// holds [`max_size`](Self::max_size) objects; managed, every slot is
    /// in use or being filled).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(1);
    /// assert!(pool.add("a").is_ok());
    /// assert_eq!(pool.add("b").unwrap_err().into_inner(), "b");
    /// assert_eq!(pool.status().size, 1);
    /// ```
    pub fn add(&self, object: T) -> Result<(), AddError<T>> {
        // Managed, idle objects hold no permit but must not outnumber the
        // free slots: an added object takes a slot, as if created and put
        // back at once.
        let permit = if M::CREATES {
            match self.slots.try_acquire() {
                Ok(permit) => Some(permit),
                Err(e) => {
                    return Err(AddError {
                        object,
                        closed: e == TryAcquireError::Closed,
                    })
                }
            }
        } else {
            None
        };
        let info = ObjectInfo {
            created: self.now_if(self.config.timed),
            idle_since: self.now_if(self.config.idle_timeout.is_some()),
        };
        let entry = Entry { object, info };
        let refused = self.store.with(|s| {
            if s.closed || s.size >= s.max_size {
                return Some((entry, s.closed));
            }
            s.size += 1;
            s.idle.push_back(entry);
            None
        });
        if let Some((entry, closed)) = refused {
            return Err(AddError {
                object: entry.object,
                closed,
            });
        }
        match permit {
            Some(permit) => drop(permit),
            None => self.slots.add_permits(1),
        }
        Ok(())
    }

    /// Takes an idle object out of the pool for good, if one is idle and
    /// nobody waits for one; its slot is freed (a managed pool may create
    /// another). Not recycled.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(2);
    /// pool.add('x').unwrap();
    /// assert_eq!(pool.remove(), Some('x'));
    /// assert_eq!(pool.remove(), None);
    /// assert_eq!(pool.status().size, 0);
    /// ```
    pub fn remove(&self) -> Option<T> {
        let permit = self.slots.try_acquire().ok()?;
        let entry = self.store.with(|s| {
            let entry = s.idle.pop_front()?;
            s.size -= 1;
            s.counts.detached += 1;
            Some(entry)
        });
        if entry.is_some() && !M::CREATES {
            permit.forget();
        }
        entry.map(|e| e.object)
    }

    /// Runs `keep` on each idle object, outside the pool's lock, and drops
    /// those it refuses; returns how many it dropped.
    ///
    /// Each object is taken out as by a `get` (without recycling) while
    /// `keep` looks at it, and put back at the end of the idle queue, so a
    /// full pass leaves their order as it was. It stops early once other
    /// callers wait for an object (they get the idle ones). `keep` may
    /// use the pool, but objects it takes out are not passed to it again.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(4);
    /// for n in 1..=4 {
    ///     pool.add(n).unwrap();
    /// }
    /// assert_eq!(pool.retain(|n, _| *n % 2 == 0), 2);
    /// assert_eq!(pool.status().size, 2);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&mut T, ObjectInfo<Tm::Instant>) -> bool) -> usize {
        self.retain_counted(|object, info| keep(object, info), false)
    }

    /// Drops the idle objects that have reached their
    /// [maximum lifetime](PoolBuilder::max_lifetime) or
    /// [idle timeout](PoolBuilder::idle_timeout), as [`retain`](Self::retain)
    /// would; returns how many. A pool without either does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::time::ManualClock;
    ///
    /// let clock = ManualClock::new();
    /// let pool = Pool::builder(Unmanaged, 2)
    ///     .timer(clock.clone())
    ///     .max_lifetime(Duration::from_secs(5))
    ///     .build();
    /// pool.add(1).unwrap();
    /// clock.advance(Duration::from_secs(2));
    /// pool.add(2).unwrap();
    /// clock.advance(Duration::from_secs(3));
    /// assert_eq!(pool.evict_expired(), 1); // the first, 5 s old
    /// assert_eq!(pool.status().expired, 1);
    /// ```
    pub fn evict_expired(&self) -> usize {
        if !self.config.checks_age() {
            return 0;
        }
        let now = self.timer.now();
        self.retain_counted(|_, info| !self.config.expired(&info, now), true)
    }

    fn retain_counted(
        &self,
        mut keep: impl FnMut(&mut T, ObjectInfo<Tm::Instant>) -> bool,
        expiry: bool,
    ) -> usize {
        let mut dropped = 0;
        let rounds = self.store.with(|s| s.idle.len());
        for _ in 0..rounds {
            // Checked out like a `get`: a slot (managed) or the object's
            // own permit (unmanaged), and a drain token.
            let Ok(permit) = self.slots.try_acquire() else {
                break;
            };
            let token = self.out.token();
            let Some(mut entry) = self.store.with(|s| s.idle.pop_front()) else {
                break;
            };
            if keep(&mut entry.object, entry.info) {
                let refused = self.store.with(|s| {
                    if s.closed || s.size > s.max_size {
                        s.size -= 1;
                        return Some(entry);
                    }
                    s.idle.push_back(entry);
                    None
                });
                match refused {
                    Some(entry) => self.lost(permit, entry),
                    None => drop(permit),
                }
            } else {
                dropped += 1;
                self.store.with(|s| {
                    s.size -= 1;
                    if expiry {
                        s.counts.expired += 1;
                    }
                });
                self.lost(permit, entry);
            }
            drop(token);
        }
        dropped
    }

    /// An object left the pool while `permit` was held for it: free the
    /// slot (managed) or retire the permit with the object (unmanaged),
    /// then drop the object, after the slot is free.
    fn lost(&self, permit: crate::SemaphorePermit<'_, L>, entry: Entry<T, Tm::Instant>) {
        if M::CREATES {
            drop(permit);
        } else {
            permit.forget();
        }
        drop(entry);
    }

    /// Changes [`max_size`](Self::max_size). Growing lets a managed pool
    /// create more at once (and lets more be [`add`](Self::add)ed); shrinking
    /// drops idle objects now, down to the new size if it can, and the
    /// objects in use as they come back, until the pool fits.
    ///
    /// # Panics
    ///
    /// If `max_size` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(3);
    /// for n in 0..3 {
    ///     pool.add(n).unwrap();
    /// }
    /// let (a, b) = (pool.try_get().unwrap(), pool.try_get().unwrap());
    /// pool.resize(1);
    /// assert_eq!(pool.status().size, 2); // the idle one dropped at once
    /// drop(a); // over the limit: dropped too
    /// drop(b); // fits: kept
    /// assert_eq!((pool.status().size, pool.status().idle), (1, 1));
    /// ```
    pub fn resize(&self, max_size: usize) {
        check_size(max_size);
        if M::CREATES {
            let (old, excess) = self.store.with(|s| {
                let old = core::mem::replace(&mut s.max_size, max_size);
                let mut excess = Vec::new();
                while s.size > max_size {
                    match s.idle.pop_front() {
                        Some(entry) => {
                            s.size -= 1;
                            excess.push(entry);
                        }
                        None => break,
                    }
                }
                (old, excess)
            });
            // Idle objects hold no slot: the slots shrink on their own,
            // taking the free ones now and the rest as they come back.
            if max_size < old {
                self.slots.forget_permits(old - max_size);
            } else {
                self.slots.add_permits(max_size - old);
            }
            drop(excess);
        } else {
            self.store.with(|s| s.max_size = max_size);
            // Each idle object is a permit: retire both together, while
            // neither is promised to a waiter.
            while let Ok(permit) = self.slots.try_acquire() {
                let entry = self.store.with(|s| {
                    if s.size <= s.max_size {
                        return None;
                    }
                    let entry = s.idle.pop_front()?;
                    s.size -= 1;
                    Some(entry)
                });
                match entry {
                    Some(entry) => self.lost(permit, entry),
                    None => break,
                }
            }
        }
    }

    /// Closes the pool: queued and new `get`s fail with
    /// [`PoolError::Closed`], idle objects are dropped now and objects in
    /// use when they come back. Returns `true` if this call closed it.
    /// Wait for the objects in use with [`drain`](Self::drain).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(2);
    /// pool.add(1).unwrap();
    /// pool.add(2).unwrap();
    /// let held = pool.try_get().unwrap();
    /// assert!(pool.close());
    /// assert!(!pool.close());
    /// assert_eq!(pool.status().size, 1); // the idle one is gone
    /// drop(held);
    /// assert_eq!(pool.status().size, 0);
    /// ```
    pub fn close(&self) -> bool {
        let idle = self.store.with(|s| {
            if s.closed {
                return None;
            }
            s.closed = true;
            s.size -= s.idle.len();
            Some(core::mem::take(&mut s.idle))
        });
        self.slots.close();
        // Dropped after the lock: dropping an object runs user code.
        idle.is_some()
    }

    /// Whether [`close`](Self::close) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::<()>::unmanaged(1);
    /// pool.close();
    /// assert!(pool.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.slots.is_closed()
    }

    /// Waits until no object is out of the pool: every one handed out has
    /// come back (or was dropped or detached), and no `get` is creating or
    /// recycling one. Ready at once if none is out.
    ///
    /// After [`close`](Self::close), that is when every object is gone
    /// (deadpool#321's "wait until closed and empty").
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: see [`Drain`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::{block_on, poll_once};
    ///
    /// let pool = sluicegate::pool::Pool::unmanaged(1);
    /// pool.add(()).unwrap();
    /// let held = pool.try_get().unwrap();
    /// pool.close();
    /// let mut drained = Box::pin(pool.drain());
    /// assert!(block_on(poll_once(&mut drained)).is_none()); // one still out
    /// drop(held);
    /// block_on(drained);
    /// assert_eq!(pool.status().size, 0);
    /// ```
    pub fn drain(&self) -> Drain<'_, L> {
        Drain::new(self.out.wait())
    }

    /// A future that [evicts](Self::evict_expired) expired idle objects
    /// every `period`, for the caller to run beside its work (the pool
    /// spawns nothing). It completes at its first tick after the pool is
    /// closed.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it stops the maintenance, nothing else.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::future::{block_on, zip};
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// use sluicegate::time::{ManualClock, Sleeper};
    ///
    /// let clock = ManualClock::new();
    /// let pool = Pool::builder(Unmanaged, 2)
    ///     .timer(clock.clone())
    ///     .idle_timeout(Duration::from_secs(30))
    ///     .build();
    /// pool.add("conn").unwrap();
    /// drop(pool.try_get().unwrap()); // idle from 0 s
    /// let later = async {
    ///     clock.sleep(Duration::from_secs(61)).await;
    ///     assert_eq!(pool.status().size, 0); // evicted at the 40 s tick
    ///     pool.close();
    /// };
    /// block_on(clock.auto_advance(zip(pool.maintain(Duration::from_secs(20)), later)));
    /// ```
    pub fn maintain(&self, period: Duration) -> Maintain<'_, T, M, Tm, L> {
        assert!(!period.is_zero(), "Pool::maintain needs a non-zero period");
        Maintain::new(self, period)
    }

    /// A snapshot of the pool's counts.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::unmanaged(3);
    /// pool.add('a').unwrap();
    /// pool.add('b').unwrap();
    /// let a = pool.try_get().unwrap();
    /// let s = pool.status();
    /// assert_eq!((s.size, s.idle, s.in_use, s.reused), (2, 1, 1, 1));
    /// # drop(a);
    /// ```
    pub fn status(&self) -> Status {
        let mut status = self.store.with(|s| Status {
            max_size: s.max_size,
            size: s.size,
            idle: s.idle.len(),
            in_use: s.size - s.idle.len(),
            creating: s.creating,
            closed: s.closed,
            ..s.counts
        });
        status.waiting = self.waiting.load(Relaxed);
        status
    }

    /// The most objects the pool keeps.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = sluicegate::pool::Pool::<u8>::unmanaged(5);
    /// pool.resize(7);
    /// assert_eq!(pool.max_size(), 7);
    /// ```
    pub fn max_size(&self) -> usize {
        self.store.with(|s| s.max_size)
    }

    /// The pool's manager.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, Unmanaged};
    /// let pool = Pool::<u8>::unmanaged(1);
    /// assert_eq!(*pool.manager(), Unmanaged);
    /// ```
    pub fn manager(&self) -> &M {
        &self.manager
    }

    /// The pool's timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{NoTimer, Pool};
    /// assert_eq!(*Pool::<u8>::unmanaged(1).timer(), NoTimer);
    /// ```
    pub fn timer(&self) -> &Tm {
        &self.timer
    }

    /// The time, if `needed`.
    #[inline]
    fn now_if(&self, needed: bool) -> Option<Tm::Instant> {
        needed.then(|| self.timer.now())
    }

    /// Puts an object back from its guard.
    #[inline]
    fn put_back(&self, mut entry: Entry<T, Tm::Instant>) {
        let mut expired = false;
        if self.config.checks_age() {
            let now = self.timer.now();
            expired = self.config.too_old(&entry.info, now);
            if self.config.idle_timeout.is_some() {
                entry.info.idle_since = Some(now);
            }
        }
        let refused = self.store.with(|s| {
            if expired || s.closed || s.size > s.max_size {
                s.size -= 1;
                s.counts.expired += u64::from(expired);
                return Some(entry);
            }
            s.idle.push_back(entry);
            None
        });
        match refused {
            // The object is idle: its slot is free again (managed), or it
            // is one more object to hand out (unmanaged). Either way the
            // longest waiter gets it.
            None => self.slots.add_permits(1),
            Some(entry) => {
                if M::CREATES {
                    self.slots.add_permits(1);
                }
                drop(entry);
            }
        }
    }

    /// Takes an object out for good from its guard.
    fn detach(&self) {
        self.store.with(|s| {
            s.size -= 1;
            s.counts.detached += 1;
        });
        if M::CREATES {
            self.slots.add_permits(1);
        }
    }
}

impl<T, M, Tm, L> fmt::Debug for Pool<T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// An object lent by a [`Pool`]; it goes back to the pool when dropped.
///
/// It derefs to the object. [`detach`](Self::detach) takes the object out
/// of the pool for good.
///
/// # Examples
///
/// ```
/// let pool = sluicegate::pool::Pool::unmanaged(1);
/// pool.add(vec![1, 2]).unwrap();
/// let mut v = pool.try_get().unwrap();
/// v.push(3); // DerefMut
/// drop(v);
/// assert_eq!(*pool.try_get().unwrap(), [1, 2, 3]);
/// ```
#[must_use = "dropping the guard puts the object back at once"]
pub struct PoolGuard<'a, T, M = Unmanaged, Tm = NoTimer, L = DefaultRawMutex>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    pool: &'a Pool<T, M, Tm, L>,
    /// `Some` until dropped or detached.
    entry: Option<Entry<T, Tm::Instant>>,
    /// Counted as out until the guard is gone (dropped after `drop` has
    /// put the object back).
    _token: TaskTrackerToken<'a, L>,
}

impl<'a, T, M, Tm, L> PoolGuard<'a, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    fn new(
        pool: &'a Pool<T, M, Tm, L>,
        entry: Entry<T, Tm::Instant>,
        token: TaskTrackerToken<'a, L>,
    ) -> Self {
        Self {
            pool,
            entry: Some(entry),
            _token: token,
        }
    }

    /// Takes the object out of the pool for good; its slot is freed (a
    /// managed pool may create another). An associated function, so that
    /// it never shadows a method of the object.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, PoolGuard};
    /// let pool = Pool::unmanaged(1);
    /// pool.add(String::from("mine")).unwrap();
    /// let s: String = PoolGuard::detach(pool.try_get().unwrap());
    /// assert_eq!(s, "mine");
    /// assert_eq!(pool.status().size, 0);
    /// ```
    pub fn detach(mut this: Self) -> T {
        let entry = this.entry.take().expect("a live guard holds its object");
        this.pool.detach();
        entry.object
    }

    /// The pool the object belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, PoolGuard};
    /// let pool = Pool::unmanaged(1);
    /// pool.add(1).unwrap();
    /// let one = pool.try_get().unwrap();
    /// assert!(core::ptr::eq(PoolGuard::pool(&one), &pool));
    /// ```
    pub fn pool(this: &Self) -> &'a Pool<T, M, Tm, L> {
        this.pool
    }

    /// When the object was made and last put back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sluicegate::pool::{Pool, PoolGuard};
    /// let pool = Pool::unmanaged(1);
    /// pool.add(1).unwrap();
    /// let one = pool.try_get().unwrap();
    /// assert_eq!(PoolGuard::info(&one).created, None); // no timer
    /// ```
    pub fn info(this: &Self) -> ObjectInfo<Tm::Instant> {
        this.entry().info
    }

    #[inline]
    fn entry(&self) -> &Entry<T, Tm::Instant> {
        match &self.entry {
            Some(entry) => entry,
            None => unreachable!("a live guard holds its object"),
        }
    }
}

impl<T, M, Tm, L> Deref for PoolGuard<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.entry().object
    }
}

impl<T, M, Tm, L> DerefMut for PoolGuard<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.entry {
            Some(entry) => &mut entry.object,
            None => unreachable!("a live guard holds its object"),
        }
    }
}

impl<T, M, Tm, L> Drop for PoolGuard<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    #[inline]
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.pool.put_back(entry);
        }
    }
}

impl<T: fmt::Debug, M, Tm, L> fmt::Debug for PoolGuard<'_, T, M, Tm, L>
where
    M: Manager<T>,
    Tm: Timer,
    L: ScopedRawMutex,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PoolGuard").field(&**self).finish()
    }
}
