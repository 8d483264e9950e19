//! Deterministic tests of `Pool`: every `get` is polled by hand with a
//! counting waker, and the manager's create and recycle steps wait on
//! gates the test opens, so each test pins who is woken, who gets which
//! object, and the exact counts, at every await a `get` can be dropped at.
//! Time is a `ManualClock`. No executor and no threads (this file also runs
//! under miri).
mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use common::poll::{polled, Polled};
use common::traits::{assert_not_unpin, assert_send, assert_send_sync};
use sluicegate::futures::Get;
use sluicegate::pool::{
    Manager, NoTimer, Pool, PoolError, PoolGuard, QueueMode, Status, TimeoutKind, TryGetError,
    Unmanaged,
};
use sluicegate::time::ManualClock;
use sluicegate::Event;

/// More waiters than one wake batch of the semaphore.
const MANY: usize = 40;

/// A pooled object that counts the live ones, so that a lost or leaked
/// object shows.
#[derive(Debug)]
struct Obj {
    id: usize,
    live: Arc<AtomicUsize>,
}

impl Drop for Obj {
    fn drop(&mut self) {
        self.live.fetch_sub(1, SeqCst);
    }
}

/// The manager's controls: gates its steps wait on (open unless a test
/// closes them), failure switches and counts.
struct Ctl {
    create_gate: Event,
    recycle_gate: Event,
    fail_create: AtomicBool,
    fail_recycle: AtomicBool,
    next_id: AtomicUsize,
    live: Arc<AtomicUsize>,
    recycles: AtomicUsize,
}

impl Ctl {
    fn new() -> Arc<Self> {
        let ctl = Ctl {
            create_gate: Event::new(),
            recycle_gate: Event::new(),
            fail_create: AtomicBool::new(false),
            fail_recycle: AtomicBool::new(false),
            next_id: AtomicUsize::new(0),
            live: Arc::new(AtomicUsize::new(0)),
            recycles: AtomicUsize::new(0),
        };
        ctl.create_gate.set();
        ctl.recycle_gate.set();
        Arc::new(ctl)
    }

    fn make(&self) -> Obj {
        self.live.fetch_add(1, SeqCst);
        Obj {
            id: self.next_id.fetch_add(1, SeqCst),
            live: self.live.clone(),
        }
    }

    fn live(&self) -> usize {
        self.live.load(SeqCst)
    }
}

type Step<'a> = Pin<Box<dyn Future<Output = Result<Obj, &'static str>> + Send + 'a>>;

/// Creates (when `CREATES`) and recycles `Obj`s, each step gated.
struct Mgr<const CREATES: bool>(Arc<Ctl>);

impl<const CREATES: bool> Manager<Obj> for Mgr<CREATES> {
    type Error = &'static str;
    type Create<'a> = Step<'a>;
    type Recycle<'a> = Step<'a>;

    const CREATES: bool = CREATES;

    fn create(&self) -> Step<'_> {
        Box::pin(async move {
            self.0.create_gate.wait().await;
            if self.0.fail_create.load(SeqCst) {
                return Err("create failed");
            }
            Ok(self.0.make())
        })
    }

    fn recycle(&self, obj: Obj) -> Step<'_> {
        Box::pin(async move {
            self.0.recycle_gate.wait().await;
            self.0.recycles.fetch_add(1, SeqCst);
            if self.0.fail_recycle.load(SeqCst) {
                return Err("recycle failed");
            }
            Ok(obj)
        })
    }
}

type Managed<Tm = NoTimer> = Pool<Obj, Mgr<true>, Tm>;
type Checked = Pool<Obj, Mgr<false>>;

fn managed(max: usize) -> (Arc<Ctl>, Managed) {
    let ctl = Ctl::new();
    (ctl.clone(), Pool::new(Mgr(ctl), max))
}

/// A managed pool on a `ManualClock`, configured by `build`.
fn managed_timed(
    max: usize,
    build: impl FnOnce(
        sluicegate::pool::PoolBuilder<Obj, Mgr<true>, ManualClock>,
    ) -> sluicegate::pool::PoolBuilder<Obj, Mgr<true>, ManualClock>,
) -> (Arc<Ctl>, ManualClock, Managed<ManualClock>) {
    let ctl = Ctl::new();
    let clock = ManualClock::new();
    let pool = build(Pool::builder(Mgr(ctl.clone()), max).timer(clock.clone())).build();
    (ctl, clock, pool)
}

/// An unmanaged pool of `Obj`s numbered `0..n`.
fn unmanaged(max: usize, n: usize) -> (Arc<Ctl>, Pool<Obj>) {
    let ctl = Ctl::new();
    let pool = Pool::unmanaged(max);
    for _ in 0..n {
        pool.add(ctl.make()).unwrap();
    }
    (ctl, pool)
}

/// The gauges of a status: size, idle, in use, creating, waiting.
fn gauges(s: Status) -> (usize, usize, usize, usize, usize) {
    (s.size, s.idle, s.in_use, s.creating, s.waiting)
}

fn id<T, M: Manager<Obj>, Tm: sluicegate::time::Timer>(
    r: Result<PoolGuard<'_, Obj, M, Tm>, T>,
) -> usize
where
    T: std::fmt::Debug,
{
    r.unwrap().id
}

#[test]
fn pool_guard_and_futures_are_send_and_sync_and_get_is_not_unpin() {
    assert_send_sync::<Managed>();
    assert_send_sync::<Pool<Obj>>();
    assert_send_sync::<PoolGuard<'static, Obj, Mgr<true>, NoTimer>>();
    // As `Send` as the manager's futures (these boxed ones are not `Sync`).
    assert_send::<Get<'static, Obj, Mgr<true>>>();
    assert_send_sync::<Get<'static, Obj>>();
    assert_send_sync::<sluicegate::futures::Drain<'static>>();
    assert_send_sync::<sluicegate::futures::Maintain<'static, Obj, Mgr<true>, ManualClock>>();
    // It holds the semaphore's intrusive wait-list node.
    assert_not_unpin!(Get<'static, Obj>);
}

// ---------------------------------------------------------------------------
// Creation, reuse, FIFO hand-off.

#[test]
fn objects_are_created_lazily_up_to_max_size_then_gets_queue() {
    let (ctl, pool) = managed(2);
    assert_eq!(ctl.live(), 0, "nothing made up front");
    let a = polled(pool.get()).ready().unwrap();
    let b = polled(pool.get()).ready().unwrap();
    assert_eq!((a.id, b.id), (0, 1));
    let mut c = polled(pool.get());
    c.pending();
    let s = pool.status();
    assert_eq!(gauges(s), (2, 0, 2, 0, 1));
    assert_eq!((s.created, s.reused), (2, 0));
    drop(a);
    assert_eq!(c.wakes(), 1);
    assert_eq!(c.ready().unwrap().id, 0, "reused, not created");
    assert_eq!(ctl.live(), 2);
    assert_eq!(ctl.recycles.load(SeqCst), 1, "recycled before the hand-out");
    let s = pool.status();
    assert_eq!((s.created, s.reused, s.waiting), (2, 1, 0));
    drop(b);
}

#[test]
fn a_returned_object_goes_to_the_oldest_waiter_in_order() {
    let (_ctl, pool) = unmanaged(3, 3);
    let held: Vec<_> = (0..3).map(|_| pool.try_get().unwrap()).collect();
    let mut ws: Vec<_> = (0..3).map(|_| polled(pool.get())).collect();
    for w in &mut ws {
        w.pending();
    }
    let mut held = held.into_iter();
    let mut got = Vec::new();
    for (i, w) in ws.iter_mut().enumerate() {
        drop(held.next());
        assert_eq!(w.wakes(), 1, "waiter {i} woken by return {i}");
        got.push(w.ready().unwrap());
        assert_eq!(got[i].id, i);
    }
}

#[test]
fn no_new_get_or_try_get_barges_past_a_woken_waiter() {
    let (_ctl, pool) = unmanaged(1, 1);
    let held = pool.try_get().unwrap();
    let mut first = polled(pool.get());
    first.pending();
    drop(held); // handed to `first`, which has not polled yet
    assert_eq!(first.wakes(), 1);
    assert_eq!(pool.try_get().unwrap_err(), TryGetError::Empty);
    let mut late = polled(pool.get());
    late.pending();
    let got = first.ready().unwrap();
    assert_eq!(got.id, 0);
    drop(got);
    assert_eq!(late.ready().unwrap().id, 0);
}

#[test]
fn a_managed_pool_never_barges_either() {
    let (_ctl, pool) = managed(1);
    let a = polled(pool.get()).ready().unwrap();
    let mut first = polled(pool.get());
    first.pending();
    drop(a);
    assert_eq!(pool.try_get().unwrap_err(), TryGetError::Empty);
    let mut late = polled(pool.get());
    late.pending();
    let got = first.ready().unwrap();
    assert_eq!(got.id, 0);
    assert_eq!(late.wakes(), 0);
    drop(got);
    assert_eq!(late.wakes(), 1);
}

#[test]
fn fifo_hands_out_the_longest_idle_and_lifo_the_latest() {
    for (mode, expect) in [(QueueMode::Fifo, [0, 1, 2]), (QueueMode::Lifo, [2, 1, 0])] {
        let ctl = Ctl::new();
        let pool = Pool::builder(Unmanaged, 3).queue_mode(mode).build();
        for _ in 0..3 {
            pool.add(ctl.make()).unwrap();
        }
        let got: Vec<_> = (0..3).map(|_| pool.try_get().unwrap()).collect();
        assert_eq!(
            got.iter().map(|g| g.id).collect::<Vec<_>>(),
            expect,
            "{mode:?}"
        );
    }
}

#[test]
fn many_waiters_are_served_one_per_return_in_fifo_order() {
    let (_ctl, pool) = managed(1);
    let mut held = Some(polled(pool.get()).ready().unwrap());
    let mut ws: Vec<_> = (0..MANY).map(|_| polled(pool.get())).collect();
    for w in &mut ws {
        w.pending();
    }
    assert_eq!(pool.status().waiting, MANY);
    for i in 0..MANY {
        drop(held.take());
        assert!(ws[i + 1..].iter().all(|w| w.wakes() == 0));
        held = Some(ws[i].ready().unwrap());
    }
    let s = pool.status();
    assert_eq!((s.created, s.reused, s.waiting), (1, MANY as u64, 0));
}

// ---------------------------------------------------------------------------
// Cancel safety: a `get` dropped at each await.

#[test]
fn dropped_while_queued_leaves_the_queue_and_the_next_waiter_gets_the_object() {
    let (ctl, pool) = managed(1);
    let held = polled(pool.get()).ready().unwrap();
    let mut gone = polled(pool.get());
    let mut next = polled(pool.get());
    gone.pending();
    next.pending();
    assert_eq!(pool.status().waiting, 2);
    drop(gone);
    assert_eq!(pool.status().waiting, 1);
    drop(held);
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready().unwrap().id, 0);
    assert_eq!(ctl.live(), 1);
    assert_eq!(gauges(pool.status()), (1, 1, 0, 0, 0));
}

#[test]
fn dropped_after_being_handed_an_object_passes_it_to_the_next_waiter() {
    let (ctl, pool) = unmanaged(1, 1);
    let held = pool.try_get().unwrap();
    let mut gone = polled(pool.get());
    let mut next = polled(pool.get());
    gone.pending();
    next.pending();
    drop(held);
    assert_eq!((gone.wakes(), next.wakes()), (1, 0));
    drop(gone); // woken, never polled again
    assert_eq!(next.wakes(), 1, "the wake-up passes on");
    assert_eq!(next.ready().unwrap().id, 0);
    assert_eq!(ctl.live(), 1);
    let s = pool.status();
    assert_eq!(gauges(s), (1, 1, 0, 0, 0));
}

#[test]
fn dropped_after_being_handed_a_slot_passes_the_slot_on_in_a_managed_pool() {
    let (ctl, pool) = managed(1);
    let held = polled(pool.get()).ready().unwrap();
    let mut gone = polled(pool.get());
    let mut next = polled(pool.get());
    gone.pending();
    next.pending();
    drop(PoolGuard::detach(held)); // a free slot, handed to `gone`
    assert_eq!(gone.wakes(), 1);
    drop(gone);
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready().unwrap().id, 1, "created in the freed slot");
    assert_eq!(ctl.live(), 1);
    assert_eq!(gauges(pool.status()), (1, 1, 0, 0, 0));
}

#[test]
fn dropped_while_creating_drops_the_create_and_frees_the_slot_for_the_next() {
    let (ctl, pool) = managed(1);
    ctl.create_gate.clear();
    let mut creating = polled(pool.get());
    creating.pending();
    let mut next = polled(pool.get());
    next.pending();
    assert_eq!(gauges(pool.status()), (0, 0, 0, 1, 1));
    drop(creating);
    assert_eq!(
        gauges(pool.status()),
        (0, 0, 0, 0, 1),
        "handed the slot, not yet polled"
    );
    assert_eq!(next.wakes(), 1);
    next.pending(); // its own create waits on the gate
    assert_eq!(gauges(pool.status()), (0, 0, 0, 1, 0));
    ctl.create_gate.set();
    let got = next.ready().unwrap();
    assert_eq!(got.id, 0);
    let s = pool.status();
    assert_eq!((s.created, s.creating, s.size), (1, 0, 1));
    assert_eq!(ctl.live(), 1);
}

#[test]
fn dropped_while_recycling_drops_that_object_and_frees_its_slot() {
    let (ctl, pool) = managed(1);
    drop(polled(pool.get()).ready().unwrap());
    ctl.recycle_gate.clear();
    let mut recycling = polled(pool.get());
    recycling.pending();
    let mut next = polled(pool.get());
    next.pending();
    assert_eq!(gauges(pool.status()), (1, 0, 1, 0, 1));
    assert!(pool.drain_pending(), "the object being recycled is out");
    drop(recycling);
    assert_eq!(ctl.live(), 0, "dropped with its recycle future");
    assert_eq!(next.wakes(), 1);
    let got = next.ready().unwrap();
    assert_eq!(got.id, 1, "a new one in the freed slot");
    assert_eq!(gauges(pool.status()), (1, 0, 1, 0, 0));
    assert_eq!(ctl.live(), 1);
}

trait DrainPending {
    fn drain_pending(&self) -> bool;
}

impl<M: Manager<Obj>, Tm: sluicegate::time::Timer> DrainPending for Pool<Obj, M, Tm> {
    /// Whether something is out of the pool (a drain would wait).
    fn drain_pending(&self) -> bool {
        polled(self.drain()).poll().is_pending()
    }
}

#[test]
fn dropped_while_recycling_in_an_unmanaged_pool_retires_the_object_and_its_turn() {
    let ctl = Ctl::new();
    let pool: Checked = Pool::builder(Mgr::<false>(ctl.clone()), 2).build();
    pool.add(ctl.make()).unwrap();
    pool.add(ctl.make()).unwrap();
    ctl.recycle_gate.clear();
    let mut recycling = polled(pool.get());
    recycling.pending();
    drop(recycling);
    assert_eq!(ctl.live(), 1);
    assert_eq!(gauges(pool.status()), (1, 1, 0, 0, 0));
    ctl.recycle_gate.set();
    let got = polled(pool.get()).ready().unwrap();
    assert_eq!(got.id, 1);
    assert!(
        pool.try_get().is_err(),
        "no permit was left behind for the dropped one"
    );
}

#[test]
fn dropped_after_its_create_finished_but_before_it_was_polled_loses_nothing() {
    let (ctl, pool) = managed(1);
    ctl.create_gate.clear();
    let mut creating = polled(pool.get());
    creating.pending();
    ctl.create_gate.set(); // the object is made on the next poll
    assert_eq!(creating.wakes(), 1);
    drop(creating);
    assert_eq!(ctl.live(), 0, "never made");
    assert_eq!(gauges(pool.status()), (0, 0, 0, 0, 0));
    assert_eq!(id(polled(pool.get()).ready()), 0);
}

#[test]
fn a_dropped_get_never_polled_changes_nothing() {
    let (ctl, pool) = managed(1);
    drop(pool.get());
    assert_eq!(gauges(pool.status()), (0, 0, 0, 0, 0));
    assert_eq!(id(polled(pool.get()).ready()), 0);
    assert_eq!(ctl.live(), 1);
}

#[test]
fn many_queued_gets_dropped_in_any_order_leave_exact_counts() {
    let (_ctl, pool) = managed(2);
    let a = polled(pool.get()).ready().unwrap();
    let b = polled(pool.get()).ready().unwrap();
    let mut ws: Vec<_> = (0..MANY).map(|_| Some(polled(pool.get()))).collect();
    for w in ws.iter_mut().flatten() {
        w.pending();
    }
    // Drop every third, then hand both objects out.
    for w in ws.iter_mut().step_by(3) {
        *w = None;
    }
    assert_eq!(pool.status().waiting, MANY - MANY.div_ceil(3));
    drop((a, b));
    let mut left = ws.into_iter().flatten();
    let (mut x, mut y) = (left.next().unwrap(), left.next().unwrap());
    assert_eq!((x.wakes(), y.wakes()), (1, 1));
    assert!(left.all(|w| w.wakes() == 0));
    let (x, y) = (x.ready().unwrap(), y.ready().unwrap());
    assert_eq!(gauges(pool.status()).0, 2);
    drop((x, y));
}

// ---------------------------------------------------------------------------
// Failures and timeouts.

#[test]
fn a_failed_create_reports_the_error_and_the_slot_goes_to_the_next() {
    let (ctl, pool) = managed(1);
    ctl.fail_create.store(true, SeqCst);
    let err = polled(pool.get()).ready().unwrap_err();
    assert_eq!(err, PoolError::Create("create failed"));
    assert_eq!(err.into_inner(), Some("create failed"));
    ctl.fail_create.store(false, SeqCst);
    assert_eq!(id(polled(pool.get()).ready()), 0);
    let s = pool.status();
    assert_eq!((s.created, s.create_failures, s.creating), (1, 1, 0));
}

#[test]
fn a_failed_recycle_drops_the_object_and_tries_the_next_then_creates() {
    let (ctl, pool) = managed(2);
    let a = polled(pool.get()).ready().unwrap();
    let b = polled(pool.get()).ready().unwrap();
    drop((a, b));
    ctl.fail_recycle.store(true, SeqCst);
    let got = polled(pool.get()).ready().unwrap();
    assert_eq!(got.id, 2, "both idle ones failed their check");
    assert_eq!(ctl.live(), 1);
    let s = pool.status();
    assert_eq!((s.recycle_failures, s.created, s.size), (2, 3, 1));
}

#[test]
fn a_wait_timeout_fails_the_get_and_counts_it() {
    let (_ctl, clock, pool) = managed_timed(1, |b| b.wait_timeout(Duration::from_secs(5)));
    let held = polled(pool.get()).ready().unwrap();
    let mut w = polled(pool.get());
    w.pending();
    assert_eq!(
        clock.pending_sleeps(),
        1,
        "the timeout starts at the first Pending"
    );
    clock.advance(Duration::from_secs(5));
    assert_eq!(w.wakes(), 1);
    assert_eq!(
        w.ready().unwrap_err(),
        PoolError::Timeout(TimeoutKind::Wait)
    );
    let s = pool.status();
    assert_eq!((s.wait_timeouts, s.waiting), (1, 0));
    drop(held);
    assert_eq!(pool.status().idle, 1, "nobody left in the queue");
}

#[test]
fn a_wait_timeout_racing_a_hand_off_takes_the_object() {
    let (_ctl, clock, pool) = managed_timed(1, |b| b.wait_timeout(Duration::from_secs(5)));
    let held = polled(pool.get()).ready().unwrap();
    let mut w = polled(pool.get());
    w.pending();
    drop(held);
    clock.advance(Duration::from_secs(5)); // both before the re-poll
    assert_eq!(w.ready().unwrap().id, 0, "the hand-off is looked at first");
    assert_eq!(pool.status().wait_timeouts, 0);
}

#[test]
fn a_wait_timeout_with_a_slot_handed_over_by_then_passes_it_on() {
    // A hand-polled get whose timeout fires while queued leaves the queue at
    // once: a slot handed to it later goes to the next waiter.
    let (_ctl, clock, pool) = managed_timed(1, |b| b.wait_timeout(Duration::from_secs(5)));
    let held = polled(pool.get()).ready().unwrap();
    let mut first = polled(pool.get());
    first.pending();
    clock.advance(Duration::from_secs(3));
    let mut second = polled(pool.get());
    second.pending();
    clock.advance(Duration::from_secs(2));
    assert!(first.ready().is_err());
    drop(held);
    assert_eq!(second.wakes(), 1);
    assert_eq!(second.ready().unwrap().id, 0);
    drop(first);
}

#[test]
fn a_create_timeout_fails_the_get_and_frees_the_slot() {
    let (ctl, clock, pool) = managed_timed(1, |b| b.create_timeout(Duration::from_secs(2)));
    ctl.create_gate.clear();
    let mut w = polled(pool.get());
    w.pending();
    let mut next = polled(pool.get());
    next.pending();
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        w.ready().unwrap_err(),
        PoolError::Timeout(TimeoutKind::Create)
    );
    assert_eq!(next.wakes(), 1);
    ctl.create_gate.set();
    assert_eq!(next.ready().unwrap().id, 0);
    let s = pool.status();
    assert_eq!((s.create_timeouts, s.created, s.creating), (1, 1, 0));
}

#[test]
fn a_recycle_timeout_drops_the_object_and_the_get_goes_on() {
    let (ctl, clock, pool) = managed_timed(1, |b| b.recycle_timeout(Duration::from_secs(1)));
    drop(polled(pool.get()).ready().unwrap());
    ctl.recycle_gate.clear();
    let mut w = polled(pool.get());
    w.pending();
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        w.ready().unwrap().id,
        1,
        "a new one replaces the hung check"
    );
    assert_eq!(ctl.live(), 1);
    let s = pool.status();
    assert_eq!((s.recycle_timeouts, s.created, s.size), (1, 2, 1));
}

// ---------------------------------------------------------------------------
// Lifetimes, retain, maintenance.

#[test]
fn max_lifetime_is_checked_when_handed_out_and_when_put_back() {
    let (ctl, clock, pool) = managed_timed(2, |b| b.max_lifetime(Duration::from_secs(60)));
    let a = polled(pool.get()).ready().unwrap();
    clock.advance(Duration::from_secs(30));
    let b = polled(pool.get()).ready().unwrap();
    assert_eq!(PoolGuard::info(&b).created, Some(Duration::from_secs(30)));
    drop(b);
    clock.advance(Duration::from_secs(30));
    drop(a); // 60 s old: dropped on the way back
    assert_eq!(ctl.live(), 1);
    assert_eq!(pool.status().expired, 1);
    clock.advance(Duration::from_secs(30)); // b is 60 s old now
    assert_eq!(polled(pool.get()).ready().unwrap().id, 2);
    let s = pool.status();
    assert_eq!((s.expired, s.created, s.size), (2, 3, 1));
}

#[test]
fn idle_timeout_is_checked_when_handed_out() {
    let (ctl, clock, pool) = managed_timed(1, |b| b.idle_timeout(Duration::from_secs(10)));
    drop(polled(pool.get()).ready().unwrap());
    clock.advance(Duration::from_secs(9));
    let again = polled(pool.get()).ready().unwrap();
    assert_eq!(again.id, 0);
    clock.advance(Duration::from_secs(100)); // in use: never idle-expired
    drop(again);
    clock.advance(Duration::from_secs(10));
    assert_eq!(polled(pool.get()).ready().unwrap().id, 1);
    assert_eq!(pool.status().expired, 1);
    assert_eq!(ctl.live(), 1);
}

#[test]
fn an_expired_object_in_an_unmanaged_pool_is_dropped_and_the_get_waits_for_the_next() {
    let clock = ManualClock::new();
    let ctl = Ctl::new();
    let pool = Pool::builder(Unmanaged, 2)
        .timer(clock.clone())
        .max_lifetime(Duration::from_secs(5))
        .build();
    pool.add(ctl.make()).unwrap();
    clock.advance(Duration::from_secs(5));
    let mut w = polled(pool.get());
    w.pending();
    assert_eq!(gauges(pool.status()), (0, 0, 0, 0, 1));
    pool.add(ctl.make()).unwrap();
    assert_eq!(w.ready().unwrap().id, 1);
    assert_eq!(ctl.live(), 1);
}

#[test]
fn retain_drops_what_it_refuses_keeps_the_order_and_counts() {
    let (ctl, pool) = unmanaged(5, 5);
    assert_eq!(pool.retain(|o, _| o.id % 2 == 0), 2);
    assert_eq!(ctl.live(), 3);
    let order: Vec<_> = (0..3).map(|_| pool.try_get().unwrap().id).collect();
    // Each guard goes back at once; the order of the idle queue was kept.
    assert_eq!(order, [0, 2, 4]);
    assert_eq!(gauges(pool.status()), (3, 3, 0, 0, 0));
}

#[test]
fn retain_leaves_objects_promised_to_waiters_alone() {
    let (ctl, pool) = unmanaged(2, 1);
    let held = pool.try_get().unwrap();
    let mut w = polled(pool.get());
    w.pending();
    drop(held); // idle, but handed to `w`
    assert_eq!(pool.retain(|_, _| false), 0);
    assert_eq!(w.ready().unwrap().id, 0);
    assert_eq!(ctl.live(), 1);
}

#[test]
fn retain_in_a_managed_pool_frees_slots_for_new_objects() {
    let (ctl, pool) = managed(2);
    let a = polled(pool.get()).ready().unwrap();
    let b = polled(pool.get()).ready().unwrap();
    drop((a, b));
    assert_eq!(pool.retain(|o, _| o.id == 1), 1);
    let x = polled(pool.get()).ready().unwrap();
    let y = polled(pool.get()).ready().unwrap();
    assert_eq!((x.id, y.id), (1, 2));
    assert_eq!(ctl.live(), 2);
}

#[test]
fn evict_expired_and_the_maintenance_future_drop_only_expired_idle_objects() {
    let (ctl, clock, pool) = managed_timed(3, |b| b.idle_timeout(Duration::from_secs(30)));
    let a = polled(pool.get()).ready().unwrap();
    let b = polled(pool.get()).ready().unwrap();
    let c = polled(pool.get()).ready().unwrap();
    drop(a);
    clock.advance(Duration::from_secs(20));
    drop(b);
    let mut upkeep = polled(pool.maintain(Duration::from_secs(15)));
    upkeep.pending();
    clock.advance(Duration::from_secs(15)); // a idle 35 s, b 15 s
    assert_eq!(upkeep.wakes(), 1);
    upkeep.pending();
    assert_eq!(pool.status().expired, 1);
    assert_eq!(ctl.live(), 2);
    clock.advance(Duration::from_secs(15)); // b idle 30 s
    upkeep.pending();
    assert_eq!(
        gauges(pool.status()),
        (1, 0, 1, 0, 0),
        "only the one in use is left"
    );
    assert_eq!(pool.evict_expired(), 0);
    pool.close();
    clock.advance(Duration::from_secs(15));
    upkeep.ready();
    drop(c);
    assert_eq!(ctl.live(), 0);
}

// ---------------------------------------------------------------------------
// resize, close, drain, detach, add/remove.

#[test]
fn growing_a_managed_pool_lets_queued_gets_create() {
    let (ctl, pool) = managed(1);
    let a = polled(pool.get()).ready().unwrap();
    let mut ws: Vec<_> = (0..3).map(|_| polled(pool.get())).collect();
    for w in &mut ws {
        w.pending();
    }
    pool.resize(3);
    assert_eq!(ws.iter().map(Polled::wakes).collect::<Vec<_>>(), [1, 1, 0]);
    let (x, y) = (ws[0].ready().unwrap(), ws[1].ready().unwrap());
    assert_eq!((x.id, y.id), (1, 2));
    assert_eq!(ctl.live(), 3);
    drop(a);
    assert_eq!(ws[2].ready().unwrap().id, 0);
}

#[test]
fn shrinking_a_managed_pool_drops_idle_objects_now_and_the_rest_on_return() {
    let (ctl, pool) = managed(4);
    let gs: Vec<_> = (0..4)
        .map(|_| polled(pool.get()).ready().unwrap())
        .collect();
    let mut gs = gs.into_iter();
    drop(gs.next()); // 0 idle
    pool.resize(2);
    assert_eq!(ctl.live(), 3, "the idle one went at once");
    assert_eq!(pool.status().max_size, 2);
    drop(gs.next()); // 3 of a limit of 2: dropped
    assert_eq!(ctl.live(), 2);
    let mut w = polled(pool.get());
    w.pending();
    drop(gs.next()); // fits: handed to the waiter
    let got = w.ready().unwrap();
    assert_eq!(got.id, 2);
    assert_eq!(gauges(pool.status()), (2, 0, 2, 0, 0));
    drop(gs);
}

#[test]
fn shrinking_an_unmanaged_pool_spares_objects_promised_to_waiters() {
    let (ctl, pool) = unmanaged(3, 3);
    let held = pool.try_get().unwrap();
    pool.resize(1);
    assert_eq!(ctl.live(), 1, "the two idle ones went at once");
    let mut w = polled(pool.get());
    w.pending();
    drop(held);
    assert_eq!(w.ready().unwrap().id, 0);
    assert!(pool.add(ctl.make()).unwrap_err().is_full());
}

#[test]
fn close_drops_idle_and_returned_objects_and_fails_new_gets() {
    let (ctl, pool) = managed(2);
    let a = polled(pool.get()).ready().unwrap();
    drop(polled(pool.get()).ready().unwrap());
    assert!(pool.close());
    assert!(!pool.close());
    assert_eq!(ctl.live(), 1, "the idle one went");
    assert_eq!(polled(pool.get()).ready().unwrap_err(), PoolError::Closed);
    assert_eq!(pool.try_get().unwrap_err(), TryGetError::Closed);
    drop(a);
    assert_eq!(ctl.live(), 0, "dropped on return");
    let s = pool.status();
    assert_eq!((gauges(s), s.closed), ((0, 0, 0, 0, 0), true));
}

#[test]
fn a_get_handed_an_object_before_close_but_polled_after_fails_cleanly() {
    let (ctl, pool) = managed(1);
    let a = polled(pool.get()).ready().unwrap();
    let mut w = polled(pool.get());
    w.pending();
    drop(a); // idle, promised to `w`
    pool.close();
    assert_eq!(w.ready().unwrap_err(), PoolError::Closed);
    assert_eq!(ctl.live(), 0);
    assert_eq!(gauges(pool.status()), (0, 0, 0, 0, 0));
}

#[test]
fn close_wakes_every_queued_get_with_an_error() {
    let (_ctl, pool) = managed(1);
    let a = polled(pool.get()).ready().unwrap();
    let mut ws: Vec<_> = (0..MANY).map(|_| polled(pool.get())).collect();
    for w in &mut ws {
        w.pending();
    }
    pool.close();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        assert_eq!(w.ready().unwrap_err(), PoolError::Closed);
    }
    assert_eq!(pool.status().waiting, 0);
    drop(a);
}

#[test]
fn a_create_that_finishes_after_close_drops_its_object() {
    let (ctl, pool) = managed(1);
    ctl.create_gate.clear();
    let mut w = polled(pool.get());
    w.pending();
    pool.close();
    ctl.create_gate.set();
    assert_eq!(w.ready().unwrap_err(), PoolError::Closed);
    assert_eq!(ctl.live(), 0);
    let s = pool.status();
    assert_eq!((gauges(s), s.created), ((0, 0, 0, 0, 0), 1));
}

#[test]
fn a_recycle_that_finishes_after_close_drops_its_object() {
    let (ctl, pool) = managed(1);
    drop(polled(pool.get()).ready().unwrap());
    ctl.recycle_gate.clear();
    let mut w = polled(pool.get());
    w.pending();
    pool.close();
    ctl.recycle_gate.set();
    assert_eq!(w.ready().unwrap_err(), PoolError::Closed);
    assert_eq!(ctl.live(), 0);
    assert_eq!(gauges(pool.status()), (0, 0, 0, 0, 0));
}

#[test]
fn drain_waits_for_objects_in_use_and_gets_creating_or_recycling() {
    let (ctl, pool) = managed(2);
    let a = polled(pool.get()).ready().unwrap();
    drop(polled(pool.get()).ready().unwrap()); // one idle
    ctl.recycle_gate.clear();
    let mut recycling = polled(pool.get());
    recycling.pending();
    ctl.create_gate.clear();
    drop(a);
    let mut d = polled(pool.drain());
    d.pending();
    drop(recycling);
    assert_eq!(d.wakes(), 1);
    d.ready();
    let mut creating = polled(pool.get());
    creating.pending(); // recycling the idle one
    ctl.recycle_gate.set();
    let b = creating.ready().unwrap();
    let mut d = polled(pool.drain());
    d.pending();
    pool.close();
    assert_eq!(d.wakes(), 0);
    drop(b);
    assert_eq!(d.wakes(), 1);
    d.ready();
    assert_eq!(ctl.live(), 0);
}

#[test]
fn detach_takes_the_object_for_good_and_frees_its_slot() {
    let (ctl, pool) = managed(1);
    let a = polled(pool.get()).ready().unwrap();
    let mut w = polled(pool.get());
    w.pending();
    let obj = PoolGuard::detach(a);
    assert_eq!(w.wakes(), 1);
    assert_eq!(w.ready().unwrap().id, 1);
    assert_eq!(pool.status().detached, 1);
    assert_eq!(ctl.live(), 2);
    drop(obj);
}

#[test]
fn add_goes_straight_to_a_waiter_and_refuses_when_full_or_closed() {
    let ctl = Ctl::new();
    let pool = Pool::unmanaged(1);
    let mut w = polled(pool.get());
    w.pending();
    pool.add(ctl.make()).unwrap();
    assert_eq!(w.wakes(), 1);
    let got = w.ready().unwrap();
    let full = pool.add(ctl.make()).unwrap_err();
    assert!(full.is_full() && !full.is_closed());
    drop(full.into_inner());
    drop(got);
    pool.close();
    assert_eq!(ctl.live(), 0);
    let closed = pool.add(ctl.make()).unwrap_err();
    assert!(closed.is_closed());
    drop(closed);
    assert_eq!(ctl.live(), 0);
}

#[test]
fn a_managed_pool_takes_an_added_object_only_into_a_free_slot() {
    let (ctl, pool) = managed(2);
    pool.add(ctl.make()).unwrap();
    let a = polled(pool.get()).ready().unwrap();
    assert_eq!(a.id, 0, "the added one, recycled");
    let _b = polled(pool.get()).ready().unwrap();
    assert!(pool.add(ctl.make()).unwrap_err().is_full());
    assert_eq!(ctl.live(), 2);
    assert_eq!(pool.status().created, 1);
}

#[test]
fn remove_takes_an_idle_object_unless_someone_waits() {
    let (ctl, pool) = unmanaged(2, 2);
    assert_eq!(pool.remove().unwrap().id, 0);
    let held = pool.try_get().unwrap();
    assert!(pool.remove().is_none());
    let mut w = polled(pool.get());
    w.pending();
    drop(held); // promised to `w`
    assert!(pool.remove().is_none());
    assert_eq!(w.ready().unwrap().id, 1);
    assert_eq!(pool.status().detached, 1);
    assert_eq!(ctl.live(), 1);
}

#[test]
fn try_get_takes_idle_objects_without_recycling_or_creating() {
    let (ctl, pool) = managed(2);
    assert_eq!(
        pool.try_get().unwrap_err(),
        TryGetError::Empty,
        "never creates"
    );
    drop(polled(pool.get()).ready().unwrap());
    let recycles = ctl.recycles.load(SeqCst);
    assert_eq!(pool.try_get().unwrap().id, 0);
    assert_eq!(ctl.recycles.load(SeqCst), recycles);
}

#[test]
fn try_get_skips_expired_objects() {
    let clock = ManualClock::new();
    let ctl = Ctl::new();
    let pool = Pool::builder(Unmanaged, 2)
        .timer(clock.clone())
        .max_lifetime(Duration::from_secs(5))
        .build();
    pool.add(ctl.make()).unwrap();
    clock.advance(Duration::from_secs(3));
    pool.add(ctl.make()).unwrap();
    clock.advance(Duration::from_secs(2));
    assert_eq!(pool.try_get().unwrap().id, 1);
    assert_eq!(ctl.live(), 1);
    assert_eq!(pool.status().size, 1);
}

#[test]
#[should_panic(expected = "needs a timer")]
fn a_timeout_without_a_timer_is_refused() {
    let _ = Pool::<u8>::builder(Unmanaged, 1)
        .wait_timeout(Duration::from_secs(1))
        .build();
}

#[test]
#[should_panic(expected = "exceeds Semaphore::MAX_PERMITS")]
fn a_max_size_past_the_semaphore_limit_is_refused() {
    let _ = Pool::<u8>::unmanaged(usize::MAX);
}

#[test]
#[should_panic(expected = "polled after completion")]
fn a_get_polled_after_completion_panics() {
    let (_ctl, pool) = managed(1);
    let mut g = polled(pool.get());
    drop(g.ready());
    let _ = g.poll();
}

#[test]
fn status_debug_and_errors_read_well() {
    let (_ctl, pool) = managed(1);
    let g = polled(pool.get()).ready().unwrap();
    assert!(format!("{pool:?}").contains("in_use: 1"));
    assert!(format!("{g:?}").starts_with("PoolGuard(Obj"));
    assert_eq!(format!("{:?}", pool.get()), "Get { step: \"waiting\" }");
    assert_eq!(
        PoolError::Create("x").to_string(),
        "creating a pooled object failed: x"
    );
    assert_eq!(
        PoolError::<&str>::Timeout(TimeoutKind::Create).to_string(),
        "timed out creating a pooled object"
    );
    assert_eq!(TryGetError::Empty.to_string(), "no idle object available");
}
