//! The semaphore with many tasks: acquisitions of one and of several
//! permits, given up by hand or in a select, an `Acquire` future created
//! and first polled in one task and then polled in another (the case
//! shuttle's own semaphore got wrong, awslabs/shuttle#317: the waker kept
//! was the first task's), and a close with waiters. At the end of every
//! schedule every permit is back and nobody waits.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use futures_lite::future::poll_once;
use sluicegate::futures::{Acquire, AcquireOwned};
use sluicegate::Semaphore;
use sluicegate_shuttle_tests::{
    block_on, check, choose, join_all, or_lose, spawn, yield_now, Task,
};

/// Permits in use, checked against the semaphore's total on every entry.
struct Usage {
    in_use: AtomicUsize,
    total: usize,
    /// Acquisitions that completed.
    done: AtomicUsize,
}

impl Usage {
    fn new(total: usize) -> Arc<Self> {
        Arc::new(Self {
            in_use: AtomicUsize::new(0),
            total,
            done: AtomicUsize::new(0),
        })
    }

    /// A completed acquisition of `n` permits, held across a scheduling
    /// point and then returned.
    async fn hold(&self, n: usize, permit: impl Sized) {
        let now = self.in_use.fetch_add(n, Ordering::SeqCst) + n;
        assert!(now <= self.total, "{now} permits in use of {}", self.total);
        self.done.fetch_add(1, Ordering::SeqCst);
        yield_now().await;
        self.in_use.fetch_sub(n, Ordering::SeqCst);
        drop(permit);
    }
}

/// Every permit is back (`available_permits()` as at the start) and nobody
/// waits: `try_acquire_many` of all of them fails while anyone is queued.
fn assert_all_back(sem: &Semaphore, total: usize) {
    assert_eq!(
        sem.available_permits(),
        total,
        "permits lost or made: {sem:?}"
    );
    assert!(
        sem.try_acquire_many(total).is_ok(),
        "a waiter is left, or a flag: {sem:?}"
    );
}

/// What a task does with an `Acquire` handed to it by the task that
/// created it and polled it first.
#[derive(Debug, Clone, Copy)]
enum Moved {
    /// The creator ends at once; the new owner polls the future to
    /// completion (the creator's waker now names a finished task).
    CreatorEnds,
    /// The creator stays alive, waiting to join the new owner (a wake-up
    /// of the creator's stale waker would find it and leave the owner
    /// asleep).
    CreatorWaits,
    /// The new owner polls it once, and drops it once woken: the permit
    /// handed over goes on.
    DroppedWhenWoken,
    /// The same as `CreatorEnds` for the owned future (`acquire_owned`).
    Owned,
}

/// Polls `fut` until it is ready, or, with `drop_when_woken`, once and then
/// (if pending) drops it when next polled, that is once woken.
async fn finish<F, P>(fut: Pin<Box<F>>, usage: &Usage, drop_when_woken: bool)
where
    F: Future<Output = Result<P, sluicegate::AcquireError>>,
{
    let mut fut = Some(fut);
    let mut polled = false;
    let permit = poll_fn(|cx| {
        if drop_when_woken && polled {
            fut = None;
            return Poll::Ready(None);
        }
        polled = true;
        fut.as_mut().unwrap().as_mut().poll(cx).map(Some)
    })
    .await;
    if let Some(permit) = permit {
        usage.hold(1, permit.expect("never closed")).await;
    }
}

/// `creators` tasks each create an `Acquire`, poll it once while the model
/// holds every permit (so it queues, with the creator's waker), and hand it
/// to a new task; `holders` more tasks acquire and release meanwhile.
fn moved_between_tasks(creators: usize, holders: usize) {
    const WAYS: [Moved; 4] = [
        Moved::CreatorEnds,
        Moved::CreatorWaits,
        Moved::DroppedWhenWoken,
        Moved::Owned,
    ];
    let total = 1 + choose(2);
    // A `'static` semaphore for the borrowed `Acquire`; one per schedule.
    let sem: &'static Semaphore = Box::leak(Box::new(Semaphore::new(total)));
    let usage = Usage::new(total);
    // The owned futures' semaphore starts empty and gets one permit each.
    let owned_count = (0..creators)
        .filter(|i| matches!(WAYS[i % 4], Moved::Owned))
        .count();
    let owned = Arc::new(Semaphore::new(0));
    let owned_usage = Usage::new(owned_count);
    let first_polls = Arc::new(AtomicUsize::new(0));
    let mut all = sem.try_acquire_many(total).expect("fresh");

    let creator_tasks: Vec<Task<Option<Task<()>>>> = (0..creators)
        .map(|i| {
            let (usage, owned_usage) = (usage.clone(), owned_usage.clone());
            let (first_polls, owned) = (first_polls.clone(), owned.clone());
            spawn(async move {
                let how = WAYS[i % 4];
                if let Moved::Owned = how {
                    let mut acquire: Pin<Box<AcquireOwned>> = Box::pin(owned.acquire_owned());
                    assert!(
                        poll_once(&mut acquire).await.is_none(),
                        "no permit is free yet"
                    );
                    first_polls.fetch_add(1, Ordering::SeqCst);
                    return Some(spawn(
                        async move { finish(acquire, &owned_usage, false).await },
                    ));
                }
                let mut acquire: Pin<Box<Acquire<'static>>> = Box::pin(sem.acquire());
                assert!(
                    poll_once(&mut acquire).await.is_none(),
                    "no permit is free yet"
                );
                first_polls.fetch_add(1, Ordering::SeqCst);
                let drop_when_woken = matches!(how, Moved::DroppedWhenWoken);
                let owner = spawn(async move { finish(acquire, &usage, drop_when_woken).await });
                if let Moved::CreatorWaits = how {
                    owner.join_async().await;
                    None
                } else {
                    Some(owner)
                }
            })
        })
        .collect();
    let holder_tasks: Vec<_> = (0..holders)
        .map(|_| {
            let usage = usage.clone();
            spawn(async move {
                let permit = sem.acquire().await.expect("never closed");
                usage.hold(1, permit).await;
            })
        })
        .collect();

    // Every creator has queued its `Acquire` before a permit comes free.
    while first_polls.load(Ordering::SeqCst) < creators {
        block_on(yield_now());
    }
    owned.add_permits(owned_count);
    // The borrowed semaphore's permits come back one at a time.
    while all.num_permits() > 1 {
        drop(all.split(1).expect("more than one"));
        block_on(yield_now());
    }
    drop(all);

    for owner in join_all(creator_tasks).into_iter().flatten() {
        owner.join();
    }
    join_all(holder_tasks);
    assert_all_back(sem, total);
    assert_all_back(&owned, owned_count);
    // Every acquisition completed but those dropped when woken, which
    // may have completed on their first poll in the new task.
    let dropping = (0..creators)
        .filter(|i| matches!(WAYS[i % 4], Moved::DroppedWhenWoken))
        .count();
    let done = usage.done.load(Ordering::SeqCst);
    assert!(
        (holders + creators - owned_count - dropping..=holders + creators - owned_count)
            .contains(&done),
        "{done} acquisitions completed"
    );
    assert_eq!(owned_usage.done.load(Ordering::SeqCst), owned_count);
}

/// 12 `Acquire` futures, each first polled by the task that made it and
/// then polled by another (to completion, or dropped once woken), with 8
/// more tasks contending: every new owner is woken (none sleeps behind a
/// waker of the task that made its future), and every permit comes back.
#[test]
fn an_acquire_polled_from_another_task_is_woken_there() {
    check("sem-moved", 1000, || moved_between_tasks(12, 8));
}

/// One round of task `id`: acquire in way `way`, hold, release.
async fn round(sem: &Semaphore, usage: &Usage, way: usize) {
    let many = 2.min(usage.total);
    match way {
        0 => usage.hold(1, sem.acquire().await.unwrap()).await,
        1 => {
            usage
                .hold(many, sem.acquire_many(many).await.unwrap())
                .await
        }
        // Without waiting, then awaited (`try_acquire` never barges past a
        // waiter).
        2 => match sem.try_acquire() {
            Ok(permit) => usage.hold(1, permit).await,
            Err(_) => usage.hold(1, sem.acquire().await.unwrap()).await,
        },
        // Polled once by hand and dropped unless done: permits handed to
        // it go on to the next waiter.
        3 => {
            let mut acquire = pin!(sem.acquire_many(many));
            if let Some(permit) = poll_once(&mut acquire).await {
                usage.hold(many, permit.unwrap()).await;
            }
        }
        // Lost in a select against a yield.
        _ => {
            if let Some(permit) = or_lose(sem.acquire(), yield_now()).await {
                usage.hold(1, permit.unwrap()).await;
            }
        }
    }
}

/// `tasks` tasks, `rounds` rounds each, every way of acquiring in turn, one or
/// two permits, some given up; one task shrinks the semaphore by a permit
/// (`forget_permits`) and gives it back (`add_permits`) meanwhile.
fn contended(tasks: usize, rounds: usize) {
    let total = 1 + choose(3);
    let sem = Arc::new(Semaphore::new(total));
    let usage = Usage::new(total);
    let handles: Vec<_> = (0..tasks)
        .map(|id| {
            let (sem, usage) = (sem.clone(), usage.clone());
            spawn(async move {
                if id == 0 {
                    // What it could not take at once it takes from permits
                    // as they come back; then it gives them all back.
                    let _ = sem.forget_permits(1);
                    yield_now().await;
                    sem.add_permits(1);
                }
                for r in 0..rounds {
                    round(&sem, &usage, (id + r) % 5).await;
                }
            })
        })
        .collect();
    join_all(handles);
    assert_all_back(&sem, total);
    assert_eq!(usage.in_use.load(Ordering::SeqCst), 0);
}

/// 32 tasks, two rounds each, acquiring and releasing one or two of 1 to 3
/// permits, with cancellations: never more permits in use than exist, and
/// all back.
#[test]
fn thirty_two_tasks_never_exceed_the_permits_and_return_them_all() {
    check("sem-contended", 1000, || contended(32, 2));
}

/// 64 tasks, one round each, the same.
#[test]
fn sixty_four_tasks_never_exceed_the_permits_and_return_them_all() {
    check("sem-contended-64", 1000, || contended(64, 1));
}

/// 24 tasks acquire while one closes the semaphore: every acquisition
/// either completes (and its permits come back) or fails; none waits
/// forever, and later ones fail at once.
#[test]
fn a_close_fails_every_waiter_and_the_held_permits_come_back() {
    check("sem-close", 1000, || {
        let total = 1 + choose(2);
        let sem = Arc::new(Semaphore::new(total));
        let usage = Usage::new(total);
        let failed = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..24)
            .map(|id| {
                let (sem, usage, failed) = (sem.clone(), usage.clone(), failed.clone());
                spawn(async move {
                    if id == 7 {
                        sem.close();
                        assert!(
                            sem.acquire().await.is_err(),
                            "an acquire after close succeeded"
                        );
                        return;
                    }
                    match sem.acquire().await {
                        Ok(permit) => usage.hold(1, permit).await,
                        Err(_) => {
                            failed.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        join_all(handles);
        assert!(sem.is_closed());
        assert_eq!(
            sem.available_permits(),
            total,
            "a held permit did not come back"
        );
        assert_eq!(
            usage.done.load(Ordering::SeqCst) + failed.load(Ordering::SeqCst),
            23
        );
    });
}
