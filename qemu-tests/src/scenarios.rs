//! The scenarios: each spawns several tasks on the executor, waits for them
//! (through [`TASKS`]), and checks what they recorded.

use core::future::pending;
use core::time::Duration;

use embassy_executor::Spawner;
use embassy_time::{Instant, Timer};
use portable_atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use sluicegate::cancel::RootToken;
use sluicegate::channel::{Channel, Tracked, Untracked};
use sluicegate::raw_mutex::{CriticalSectionRawMutex, LocalRawMutex, ScopedRawMutex};
use sluicegate::time::{timeout, timeout_at, EmbassyTimer};
use sluicegate::{Event, Semaphore, TaskTrackerToken};

use crate::{check, join_tasks, run, spawn, systick, yield_now, Log, Outcome, TASKS};

const MS: Duration = Duration::from_millis(1);

pub async fn run_all(spawner: Spawner) -> [bool; 9] {
    // `LocalRawMutex` is not `Sync`, so that semaphore cannot be a `static`:
    // it is made once, here, and lent to the tasks for the rest of the run.
    let local: &'static Semaphore<LocalRawMutex> = cortex_m::singleton!(
        : Semaphore<LocalRawMutex> = Semaphore::new_with_raw_mutex(2, LocalRawMutex::new())
    )
    .unwrap();
    const POOL: &str = "4 tasks, 2 permits: at most 2 held, granted in request order";
    let (default, cs, local) = (
        AnySem::Default(&SEM_DEFAULT),
        AnySem::Cs(&SEM_CS),
        AnySem::Local(local),
    );
    [
        run(
            "semaphore/default-lock",
            POOL,
            semaphore_pool(spawner, default),
        )
        .await,
        run(
            "semaphore/critical-section",
            POOL,
            semaphore_pool(spawner, cs),
        )
        .await,
        run("semaphore/local", POOL, semaphore_pool(spawner, local)).await,
        run(
            "event/from-interrupt",
            "3 tasks wait; the SysTick handler sets it and all wake; clear() re-arms it",
            event_from_interrupt(spawner),
        )
        .await,
        run(
            "channel/from-interrupt",
            "the SysTick handler try_sends 24 values (full: retry), closes; 2 tasks drain in order",
            channel_from_interrupt(spawner),
        )
        .await,
        run(
            "channel/tracked",
            "2 producers, 3 workers, 4 slots: join() once all 64 jobs are done, close() ends them",
            channel_tracked(spawner),
        )
        .await,
        run(
            "timeout/expires",
            "an acquire times out, leaving no waiter; 3 tasks' timeouts expire in deadline order",
            timeout_expires(spawner),
        )
        .await,
        run(
            "timeout/completes",
            "an acquire released 5 ms later beats its 1 s timeout; timeout_at a past deadline",
            timeout_completes(spawner),
        )
        .await,
        run(
            "cancel/root-token",
            "3 tasks run until a RootToken is cancelled with a cause; the tracker sees them end",
            cancel_root_token(spawner),
        )
        .await,
    ]
}

// --- Semaphore, once per lock -------------------------------------------

static SEM_DEFAULT: Semaphore = Semaphore::new(2);
static SEM_CS: Semaphore<CriticalSectionRawMutex> =
    Semaphore::new_with_raw_mutex(2, CriticalSectionRawMutex::new());

/// A semaphore with one of the three locks (a task cannot be generic).
#[derive(Clone, Copy)]
enum AnySem {
    Default(&'static Semaphore),
    Cs(&'static Semaphore<CriticalSectionRawMutex>),
    Local(&'static Semaphore<LocalRawMutex>),
}

impl AnySem {
    fn available_permits(self) -> usize {
        match self {
            AnySem::Default(s) => s.available_permits(),
            AnySem::Cs(s) => s.available_permits(),
            AnySem::Local(s) => s.available_permits(),
        }
    }
}

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static MAX_IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static REQUESTED: Log = Log::new();
static GRANTED: Log = Log::new();

#[embassy_executor::task(pool_size = 4)]
async fn sem_worker(sem: AnySem, id: u8, _done: TaskTrackerToken<'static>) {
    match sem {
        AnySem::Default(s) => hold_a_permit(s, id).await,
        AnySem::Cs(s) => hold_a_permit(s, id).await,
        AnySem::Local(s) => hold_a_permit(s, id).await,
    }
}

async fn hold_a_permit<L: ScopedRawMutex>(sem: &Semaphore<L>, id: u8) {
    // Requests are made in the order the executor first polls the tasks.
    REQUESTED.push(id);
    let permit = sem.acquire().await.expect("the semaphore is never closed");
    let place = GRANTED.push(id);
    let n = IN_FLIGHT.fetch_add(1, Relaxed) + 1;
    MAX_IN_FLIGHT.fetch_max(n, Relaxed);
    // The k-th holder keeps its permit for 2(k+1) executor rounds, so that no
    // two permits come back in the same round: each waiter then resumes
    // (and logs) before the next permit is handed on, and the log shows the
    // semaphore's grant order, not the executor's run-queue order (two
    // waiters woken in one round may run in either order).
    for _ in 0..2 * (place + 1) {
        yield_now().await;
    }
    IN_FLIGHT.fetch_sub(1, Relaxed);
    drop(permit);
}

async fn semaphore_pool(spawner: Spawner, sem: AnySem) -> Outcome {
    MAX_IN_FLIGHT.store(0, Relaxed);
    REQUESTED.clear();
    GRANTED.clear();
    for id in 0..4 {
        spawn!(spawner, sem_worker(sem, id, TASKS.token()));
    }
    join_tasks().await?;
    let max = MAX_IN_FLIGHT.load(Relaxed);
    check!(max == 2, "{max} permits held at once (2 expected)");
    let (requested, n) = REQUESTED.get();
    let (granted, m) = GRANTED.get();
    check!(n == 4 && m == 4, "{n} requests, {m} grants (4 expected)");
    check!(
        requested == granted,
        "granted {:?}, requested {:?}",
        &granted[..m],
        &requested[..n]
    );
    let available = sem.available_permits();
    check!(available == 2, "{available} permits back (2 expected)");
    Ok(())
}

// --- Event set from an interrupt handler ------------------------------------

/// Set by the SysTick handler: so it takes the critical-section lock.
static READY: Event<CriticalSectionRawMutex> =
    Event::new_with_raw_mutex(CriticalSectionRawMutex::new());
static WOKEN: AtomicUsize = AtomicUsize::new(0);
static SET_AT_TICK: AtomicU32 = AtomicU32::new(0);
static SET_IN_INTERRUPT: AtomicBool = AtomicBool::new(false);

#[embassy_executor::task(pool_size = 3)]
async fn event_waiter(_done: TaskTrackerToken<'static>) {
    READY.wait().await;
    WOKEN.fetch_add(1, Relaxed);
}

fn set_ready_on_tick(now: u64) {
    if now >= u64::from(SET_AT_TICK.load(Relaxed)) {
        SET_IN_INTERRUPT.store(systick::in_interrupt(), Relaxed);
        READY.set();
        systick::set_hook(None);
    }
}

async fn event_from_interrupt(spawner: Spawner) -> Outcome {
    READY.clear();
    WOKEN.store(0, Relaxed);
    SET_IN_INTERRUPT.store(false, Relaxed);
    for _ in 0..3 {
        spawn!(spawner, event_waiter(TASKS.token()));
    }
    Timer::after_millis(3).await;
    let woken = WOKEN.load(Relaxed);
    check!(
        woken == 0 && !READY.is_set(),
        "{woken} woken before the set"
    );
    let at = Instant::now().as_ticks() + 2;
    SET_AT_TICK.store(u32::try_from(at).unwrap(), Relaxed);
    systick::set_hook(Some(set_ready_on_tick));
    join_tasks().await?;
    let woken = WOKEN.load(Relaxed);
    check!(woken == 3, "{woken} of 3 waiters woken");
    check!(
        SET_IN_INTERRUPT.load(Relaxed),
        "the hook did not run in the interrupt handler"
    );
    // Set stays set until cleared.
    check!(
        timeout(EmbassyTimer, MS, READY.wait()).await.is_ok(),
        "a set event made a waiter wait"
    );
    READY.clear();
    check!(
        timeout(EmbassyTimer, 3 * MS, READY.wait()).await.is_err(),
        "a cleared event let a waiter through"
    );
    Ok(())
}

// --- Channel fed by an interrupt handler ------------------------------------

const SAMPLES_SENT: u32 = 24;
static SAMPLES: Channel<u32, 4, Untracked, CriticalSectionRawMutex> =
    Channel::new_with_raw_mutex(CriticalSectionRawMutex::new());
static NEXT_SAMPLE: AtomicU32 = AtomicU32::new(0);
static FOUND_FULL: AtomicU32 = AtomicU32::new(0);
static RECEIVED: AtomicU32 = AtomicU32::new(0);
static RECEIVED_SUM: AtomicU32 = AtomicU32::new(0);
static OUT_OF_ORDER: AtomicBool = AtomicBool::new(false);

/// Up to three values a tick, as a burst of samples would come; a full
/// channel keeps the value for the next tick.
fn feed_samples_on_tick(_now: u64) {
    for _ in 0..3 {
        let n = NEXT_SAMPLE.load(Relaxed);
        if n == SAMPLES_SENT {
            SAMPLES.close();
            systick::set_hook(None);
            return;
        }
        if SAMPLES.try_send(n).is_err() {
            FOUND_FULL.fetch_add(1, Relaxed);
            return;
        }
        NEXT_SAMPLE.store(n + 1, Relaxed);
    }
}

#[embassy_executor::task(pool_size = 2)]
async fn sample_reader(_done: TaskTrackerToken<'static>) {
    let mut last = None;
    while let Ok(v) = SAMPLES.recv().await {
        if last.is_some_and(|last| v <= last) {
            OUT_OF_ORDER.store(true, Relaxed);
        }
        last = Some(v);
        RECEIVED.fetch_add(1, Relaxed);
        RECEIVED_SUM.fetch_add(v, Relaxed);
        // Slower than the feed, so that the channel fills up.
        Timer::after_millis(2).await;
    }
}

async fn channel_from_interrupt(spawner: Spawner) -> Outcome {
    for _ in 0..2 {
        spawn!(spawner, sample_reader(TASKS.token()));
    }
    systick::set_hook(Some(feed_samples_on_tick));
    join_tasks().await?;
    let (n, sum) = (RECEIVED.load(Relaxed), RECEIVED_SUM.load(Relaxed));
    check!(
        n == SAMPLES_SENT && sum == (0..SAMPLES_SENT).sum(),
        "received {n} values summing to {sum}"
    );
    check!(
        !OUT_OF_ORDER.load(Relaxed),
        "a reader saw values out of order"
    );
    check!(FOUND_FULL.load(Relaxed) > 0, "the channel never filled up");
    check!(
        SAMPLES.is_closed() && SAMPLES.is_empty(),
        "not closed and drained"
    );
    Ok(())
}

// --- Tracked channel: join() and task_done ----------------------------------

const JOBS_PER_PRODUCER: u32 = 32;
static JOBS: Channel<u32, 4, Tracked> = Channel::new();
/// The producers alone, so that the scenario knows when every job is sent.
static PRODUCERS: sluicegate::TaskTracker = sluicegate::TaskTracker::new();
static DONE: AtomicU32 = AtomicU32::new(0);
static DONE_SUM: AtomicU32 = AtomicU32::new(0);
static JOB_OUT_OF_ORDER: AtomicBool = AtomicBool::new(false);

#[embassy_executor::task(pool_size = 2)]
async fn producer(p: u32, _done: TaskTrackerToken<'static>) {
    for i in 0..JOBS_PER_PRODUCER {
        JOBS.send(p * 1000 + i)
            .await
            .expect("open until the producers are done");
    }
}

#[embassy_executor::task(pool_size = 3)]
async fn job_worker(_done: TaskTrackerToken<'static>) {
    let mut last = [None::<u32>; 2];
    while let Ok(job) = JOBS.recv_task().await {
        let v = *job;
        let from = &mut last[(v / 1000) as usize];
        if from.is_some_and(|last| v <= last) {
            JOB_OUT_OF_ORDER.store(true, Relaxed);
        }
        *from = Some(v);
        if v % 3 == 0 {
            yield_now().await; // done later than received
        }
        DONE_SUM.fetch_add(v, Relaxed);
        DONE.fetch_add(1, Relaxed);
        drop(job); // task_done
    }
}

async fn channel_tracked(spawner: Spawner) -> Outcome {
    for _ in 0..3 {
        spawn!(spawner, job_worker(TASKS.token()));
    }
    for p in 0..2 {
        spawn!(spawner, producer(p, PRODUCERS.token()));
    }
    PRODUCERS.close();
    let sent = timeout(EmbassyTimer, 500 * MS, PRODUCERS.wait()).await;
    PRODUCERS.reopen();
    check!(sent.is_ok(), "producers still sending after 500 ms");
    check!(
        timeout(EmbassyTimer, 500 * MS, JOBS.join()).await.is_ok(),
        "join() still waiting after 500 ms"
    );
    let (done, sum) = (DONE.load(Relaxed), DONE_SUM.load(Relaxed));
    let expected: u32 = (0..2)
        .flat_map(|p| (0..JOBS_PER_PRODUCER).map(move |i| p * 1000 + i))
        .sum();
    check!(
        done == 2 * JOBS_PER_PRODUCER && sum == expected,
        "join() returned with {done} jobs done, sum {sum} ({expected} expected)"
    );
    check!(
        JOBS.unfinished_tasks() == 0 && JOBS.is_empty(),
        "jobs left after join()"
    );
    check!(
        !JOB_OUT_OF_ORDER.load(Relaxed),
        "a worker saw one producer's jobs out of order"
    );
    JOBS.close();
    join_tasks().await
}

// --- Timeouts on embassy time ---------------------------------------------------

/// No permits: an acquire waits until someone adds one.
static GATE: Semaphore = Semaphore::new(0);
static EXPIRED: Log = Log::new();

#[embassy_executor::task(pool_size = 3)]
async fn timed_sleeper(id: u8, ms: u64, _done: TaskTrackerToken<'static>) {
    if timeout(EmbassyTimer, Duration::from_millis(ms), pending::<()>())
        .await
        .is_err()
    {
        EXPIRED.push(id);
    }
}

async fn timeout_expires(spawner: Spawner) -> Outcome {
    let start = Instant::now();
    let r = timeout(EmbassyTimer, 20 * MS, GATE.acquire()).await;
    let waited = start.elapsed().as_millis();
    check!(
        r.is_err(),
        "an acquire on an empty semaphore did not time out"
    );
    check!(
        (20..500).contains(&waited),
        "timed out after {waited} ms (20 expected)"
    );
    // The timed-out acquire left the queue: a new permit is free at once.
    GATE.add_permits(1);
    check!(
        GATE.try_acquire().is_ok(),
        "the permit went to the timed-out waiter"
    );
    GATE.forget_permits(1);

    EXPIRED.clear();
    // Spawned in one order, expiring in another.
    for (id, ms) in [(0, 30), (1, 10), (2, 20)] {
        spawn!(spawner, timed_sleeper(id, ms, TASKS.token()));
    }
    join_tasks().await?;
    let (order, n) = EXPIRED.get();
    check!(
        order[..n] == [1, 2, 0],
        "expired in order {:?} ([1, 2, 0] expected)",
        &order[..n]
    );
    Ok(())
}

#[embassy_executor::task]
async fn add_permit_after(ms: u64, _done: TaskTrackerToken<'static>) {
    Timer::after_millis(ms).await;
    GATE.add_permits(1);
}

async fn timeout_completes(spawner: Spawner) -> Outcome {
    spawn!(spawner, add_permit_after(5, TASKS.token()));
    let start = Instant::now();
    let r = timeout(EmbassyTimer, Duration::from_secs(1), GATE.acquire()).await;
    let waited = start.elapsed().as_millis();
    check!(
        matches!(r, Ok(Ok(_))),
        "the acquire timed out (or the semaphore closed) after {waited} ms"
    );
    check!(
        (5..500).contains(&waited),
        "acquired after {waited} ms (5 expected)"
    );
    if let Ok(Ok(permit)) = r {
        permit.forget();
    }
    join_tasks().await?;
    // A deadline already past: a ready future still wins, a pending one
    // times out at once.
    let past = Instant::now();
    Timer::after_millis(1).await;
    check!(
        timeout_at(EmbassyTimer, past, async { 7 }).await == Ok(7),
        "a ready future lost"
    );
    check!(
        timeout_at(EmbassyTimer, past, GATE.acquire())
            .await
            .is_err(),
        "no timeout"
    );
    check!(GATE.available_permits() == 0, "permits left on the gate");
    Ok(())
}

// --- Cancellation -----------------------------------------------------------------

static SHUTDOWN: RootToken<u8> = RootToken::with_cause_type();
static BEATS: AtomicU32 = AtomicU32::new(0);
static STOPPED: AtomicU32 = AtomicU32::new(0);

#[embassy_executor::task(pool_size = 3)]
async fn beating(_done: TaskTrackerToken<'static>) {
    let work = async {
        loop {
            Timer::after_millis(1).await;
            BEATS.fetch_add(1, Relaxed);
        }
    };
    if SHUTDOWN.run_until_cancelled(work).await.is_none() {
        STOPPED.fetch_add(1, Relaxed);
    }
}

async fn cancel_root_token(spawner: Spawner) -> Outcome {
    for _ in 0..3 {
        spawn!(spawner, beating(TASKS.token()));
    }
    Timer::after_millis(10).await;
    let (beats, stopped) = (BEATS.load(Relaxed), STOPPED.load(Relaxed));
    check!(
        beats >= 3 && stopped == 0,
        "{beats} beats, {stopped} stopped before the cancel"
    );
    check!(
        SHUTDOWN.cancel_with(7),
        "the first cancel_with did not record its cause"
    );
    check!(
        !SHUTDOWN.cancel_with(8),
        "a second cancel_with replaced the cause"
    );
    join_tasks().await?;
    let stopped = STOPPED.load(Relaxed);
    check!(stopped == 3, "{stopped} of 3 tasks saw the cancel");
    check!(
        SHUTDOWN.cause() == Some(&7),
        "cause {:?} (Some(7) expected)",
        SHUTDOWN.cause()
    );
    check!(
        timeout(EmbassyTimer, MS, SHUTDOWN.cancelled())
            .await
            .is_ok(),
        "cancelled() waits on a cancelled token"
    );
    Ok(())
}
