//! Randomised, single-threaded, hand-polled model check of the channel:
//! random operations (sends, receives, reserves, cancellations, streams,
//! idle streams, closes, shutdowns), checking after every step that no value
//! is lost or duplicated, that `len()` is exact, that no waiter misses a
//! wake-up, that no value waits while a receiver or stream sleeps, and that
//! nothing is stranded at the end, idle streams still alive included.
mod common;

use std::collections::{BTreeSet, HashSet};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use common::poll::{polled, Polled};
use futures::Stream;
use sluicegate::channel::{tracked, Heap, Permit, Recv, RecvMany, Reserve, Send, Tracked};

/// A value that logs its id when the channel (or a future) drops it.
#[derive(Debug)]
struct V(u32, Arc<Mutex<Vec<u32>>>);
impl Drop for V {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

enum Fut<'a> {
    Send(Polled<Send<'a, V, Heap, Tracked>>, usize, u32),
    Reserve(Polled<Reserve<'a, V, Heap, Tracked>>, usize),
    Recv(Polled<Recv<'a, V, Heap, Tracked>>, usize),
    Many(
        Polled<RecvMany<'a, 'static, V, Heap, Tracked>>,
        usize,
        *mut Vec<V>,
    ),
    Join(Polled<sluicegate::channel::Join<'a, V, Heap>>, usize),
}

impl Fut<'_> {
    fn woken_since(&self) -> bool {
        match self {
            Fut::Send(p, w, _) => p.wakes() != *w,
            Fut::Reserve(p, w) => p.wakes() != *w,
            Fut::Recv(p, w) => p.wakes() != *w,
            Fut::Many(p, w, _) => p.wakes() != *w,
            Fut::Join(p, w) => p.wakes() != *w,
        }
    }
}

#[derive(Default)]
struct Model {
    accepted: BTreeSet<u32>,
    received: HashSet<u32>,
    displaced: HashSet<u32>,
    shutdown: bool,
}

fn run(seed: u64, steps: usize, cap: usize) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = tracked::<V>(cap);
    let mut rx_s = rx.clone();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut m = Model::default();
    let mut next_id = 0u32;
    let mut futs: Vec<(u64, Fut<'_>)> = Vec::new();
    let mut seq = 0u64;
    let mut permits: Vec<Permit<'_, V, Heap, Tracked>> = Vec::new();
    // The stream's pending poll: the wake count when it last returned Pending.
    let stream_waker = Arc::new(common::poll::CountingWaker::default());
    let stream_w = std::task::Waker::from(stream_waker.clone());
    let mut stream_pending: Option<usize> = None;
    let mut trace: Vec<String> = Vec::new();
    let mut extra: Vec<sluicegate::channel::Receiver<V, Tracked>> = Vec::new();

    macro_rules! fail {
        ($($t:tt)*) => {{
            let msg = format!($($t)*);
            panic!("seed {seed} cap {cap}: {msg}\ntrace:\n{}", trace.join("\n"));
        }};
    }

    let mut got = |m: &mut Model, v: V, trace: &Vec<String>| {
        let id = v.0;
        std::mem::forget(v);
        if !m.received.insert(id) {
            panic!("seed {seed}: {id} received twice\n{}", trace.join("\n"));
        }
        if !m.accepted.contains(&id) {
            panic!(
                "seed {seed}: {id} received but never accepted\n{}",
                trace.join("\n")
            );
        }
        rx.task_done().unwrap();
    };

    for _step in 0..steps {
        let op = rng.below(103);
        match op {
            0..=11 => {
                let id = next_id;
                next_id += 1;
                let mut p = polled(tx.send(V(id, log.clone())));
                trace.push(format!("send({id})"));
                match p.poll() {
                    Poll::Ready(Ok(())) => {
                        m.accepted.insert(id);
                    }
                    Poll::Ready(Err(e)) => std::mem::forget(e.0),
                    Poll::Pending => {
                        let w = p.wakes();
                        seq += 1;
                        futs.push((seq, Fut::Send(p, w, id)));
                    }
                }
            }
            12..=17 => {
                let id = next_id;
                next_id += 1;
                trace.push(format!("try_send({id})"));
                match tx.try_send(V(id, log.clone())) {
                    Ok(()) => {
                        m.accepted.insert(id);
                    }
                    Err(e) => std::mem::forget(e.into_inner()),
                }
            }
            18..=19 => {
                let id = next_id;
                next_id += 1;
                trace.push(format!("force_send({id})"));
                match tx.force_send(V(id, log.clone())) {
                    Ok(d) => {
                        m.accepted.insert(id);
                        if let Some(d) = d {
                            m.displaced.insert(d.0);
                            // Displaced counts as finished.
                            std::mem::forget(d);
                        }
                    }
                    Err(e) => std::mem::forget(e.into_inner()),
                }
            }
            20..=25 => {
                let mut p = polled(rx.recv());
                trace.push("recv".into());
                match p.poll() {
                    Poll::Ready(Ok(v)) => got(&mut m, v, &trace),
                    Poll::Ready(Err(_)) => {}
                    Poll::Pending => {
                        let w = p.wakes();
                        seq += 1;
                        futs.push((seq, Fut::Recv(p, w)));
                    }
                }
            }
            26..=29 => {
                trace.push("try_recv".into());
                if let Ok(v) = rx.try_recv() {
                    got(&mut m, v, &trace);
                }
            }
            30..=32 => {
                let limit = rng.below(4) as usize;
                let buf: &'static mut Vec<V> = Box::leak(Box::new(Vec::new()));
                let ptr: *mut Vec<V> = buf;
                let mut p = polled(rx.recv_many(buf, limit));
                trace.push(format!("recv_many({limit})"));
                match p.poll() {
                    Poll::Ready(_) => {
                        drop(p);
                        // SAFETY: the future holding the borrow is gone.
                        for v in unsafe { (*ptr).drain(..) } {
                            got(&mut m, v, &trace);
                        }
                    }
                    Poll::Pending => {
                        let w = p.wakes();
                        seq += 1;
                        futs.push((seq, Fut::Many(p, w, ptr)));
                    }
                }
            }
            33..=36 => {
                let mut p = polled(tx.reserve());
                trace.push("reserve".into());
                match p.poll() {
                    Poll::Ready(Ok(permit)) => permits.push(permit),
                    Poll::Ready(Err(_)) => {}
                    Poll::Pending => {
                        let w = p.wakes();
                        seq += 1;
                        futs.push((seq, Fut::Reserve(p, w)));
                    }
                }
            }
            37..=38 => {
                trace.push("try_reserve".into());
                if let Ok(p) = tx.try_reserve() {
                    permits.push(p);
                }
            }
            39..=44 if !permits.is_empty() => {
                let i = rng.below(permits.len() as u64) as usize;
                let p = permits.swap_remove(i);
                if rng.below(3) == 0 {
                    trace.push("drop permit".into());
                    drop(p);
                } else {
                    let id = next_id;
                    next_id += 1;
                    trace.push(format!("permit.send({id})"));
                    p.send(V(id, log.clone()));
                    m.accepted.insert(id);
                }
            }
            45..=49 => {
                let mut p = polled(tx.join());
                trace.push("join".into());
                if p.poll().is_pending() {
                    let w = p.wakes();
                    seq += 1;
                    futs.push((seq, Fut::Join(p, w)));
                }
            }
            50..=57 => {
                // Poll the stream (a fresh `next()`, as an executor would
                // after its wake-up).
                trace.push("stream poll".into());
                let mut cx = Context::from_waker(&stream_w);
                match Pin::new(&mut rx_s).poll_next(&mut cx) {
                    Poll::Ready(Some(v)) => {
                        stream_pending = None;
                        got(&mut m, v, &trace)
                    }
                    Poll::Ready(None) => stream_pending = None,
                    Poll::Pending => stream_pending = Some(stream_waker.wakes()),
                }
            }
            58..=59 => {
                // The `next()` future is dropped (lost a select!): the
                // stream's place stays queued, idle, until it is polled
                // again; a direct receive meanwhile must still get values.
                trace.push("stream try_recv".into());
                stream_pending = None;
                if let Ok(v) = rx_s.try_recv() {
                    got(&mut m, v, &trace);
                }
            }
            60..=84 if !futs.is_empty() => {
                // Poll a future: a woken one usually, any one sometimes.
                let i = rng.below(futs.len() as u64) as usize;
                let (q, f) = futs.swap_remove(i);
                trace.push(format!("poll fut {}", kind(&f)));
                if let Some(f) = poll_fut(f, &mut m, &mut got, &trace) {
                    futs.push((q, f));
                }
            }
            85..=92 if !futs.is_empty() => {
                let i = rng.below(futs.len() as u64) as usize;
                let (_, f) = futs.swap_remove(i);
                trace.push(format!("drop fut {}", kind(&f)));
                if let Fut::Many(p, _, ptr) = f {
                    drop(p);
                    // SAFETY: the borrowing future is gone.
                    assert!(
                        unsafe { (*ptr).is_empty() },
                        "dropped recv_many took values"
                    );
                } else {
                    drop(f);
                }
            }
            95..=96 => {
                // Another receiver whose stream queues and whose `next()`
                // is then dropped: an idle place, kept (often to the end).
                trace.push("clone rx with an idle stream place".into());
                let mut r = rx.clone();
                let mut cx = Context::from_waker(std::task::Waker::noop());
                if let Poll::Ready(Some(v)) = Pin::new(&mut r).poll_next(&mut cx) {
                    got(&mut m, v, &trace);
                }
                extra.push(r);
            }
            97..=98 if !extra.is_empty() => {
                trace.push("drop extra rx".into());
                let i = rng.below(extra.len() as u64) as usize;
                drop(extra.swap_remove(i));
            }
            99..=102 if !extra.is_empty() => {
                // An idle stream comes back: polled once more (taking a
                // value if one is queued), then idle again.
                trace.push("poll an idle stream".into());
                let i = rng.below(extra.len() as u64) as usize;
                let mut cx = Context::from_waker(std::task::Waker::noop());
                if let Poll::Ready(Some(v)) = Pin::new(&mut extra[i]).poll_next(&mut cx) {
                    got(&mut m, v, &trace);
                }
            }
            93 => {
                trace.push("close".into());
                if rng.below(3) == 0 {
                    tx.close();
                }
            }
            94 if rng.below(8) == 0 => {
                trace.push("shutdown_immediate".into());
                m.shutdown = true;
                tx.shutdown_immediate();
            }
            _ => {}
        }

        check(&tx, &m, &log, &trace, seed, cap);

        // No value waits while a receiver sleeps: with a `recv` (or the
        // stream) waiting un-woken, the buffer is empty, so every queued
        // value is one handed to a woken `recv` not yet re-polled.
        let sleeping = futs
            .iter()
            .any(|(_, f)| matches!(f, Fut::Recv(..) | Fut::Many(..)) && !f.woken_since())
            || stream_pending.is_some_and(|w| stream_waker.wakes() == w);
        let handed_max = futs
            .iter()
            .filter(|(_, f)| matches!(f, Fut::Recv(..) | Fut::Many(..)) && f.woken_since())
            .count();
        if sleeping && tx.len() > handed_max {
            fail!(
                "len() {} with a receiver asleep and {handed_max} woken receivers",
                tx.len()
            );
        }

        // FIFO waiters: a woken sender (receiver) has no earlier-queued
        // sender (receiver) still waiting un-woken.
        for (qa, a) in &futs {
            for (qb, b) in &futs {
                let same_side = matches!(
                    (a, b),
                    (
                        Fut::Send(..) | Fut::Reserve(..),
                        Fut::Send(..) | Fut::Reserve(..)
                    ) | (Fut::Recv(..) | Fut::Many(..), Fut::Recv(..) | Fut::Many(..))
                );
                if same_side && qa < qb && b.woken_since() && !a.woken_since() {
                    fail!(
                        "a later {} was woken before an earlier {}",
                        kind(b),
                        kind(a)
                    );
                }
            }
        }

        // No lost wake-ups: a future that was not woken since it last
        // returned Pending must still be pending.
        let mut kept = Vec::new();
        for (q, f) in std::mem::take(&mut futs) {
            if f.woken_since() {
                kept.push((q, f));
                continue;
            }
            let k = kind(&f);
            match poll_fut(f, &mut m, &mut got, &trace) {
                Some(f) => kept.push((q, f)),
                None => fail!("a {k} became ready without a wake-up"),
            }
        }
        futs = kept;
        if let Some(w) = stream_pending {
            if stream_waker.wakes() == w {
                let mut cx = Context::from_waker(&stream_w);
                match Pin::new(&mut rx_s).poll_next(&mut cx) {
                    Poll::Pending => {}
                    Poll::Ready(_) => fail!("the stream became ready without a wake-up"),
                }
            }
        }
    }

    // End: drop permits, close, then drive everything to quiescence. The
    // idle streams stay alive: they must hold nothing back.
    permits.clear();
    tx.close();
    for _round in 0..10_000 {
        if futs.is_empty() && stream_pending.is_none() {
            break;
        }
        let mut progressed = false;
        let mut kept = Vec::new();
        for (q, f) in std::mem::take(&mut futs) {
            if !f.woken_since() {
                kept.push((q, f));
                continue;
            }
            progressed = true;
            if let Some(f) = poll_fut(f, &mut m, &mut got, &trace) {
                kept.push((q, f));
            }
        }
        futs = kept;
        if let Some(w) = stream_pending {
            if stream_waker.wakes() != w {
                progressed = true;
                let mut cx = Context::from_waker(&stream_w);
                match Pin::new(&mut rx_s).poll_next(&mut cx) {
                    Poll::Ready(Some(v)) => {
                        stream_pending = None;
                        got(&mut m, v, &trace)
                    }
                    Poll::Ready(None) => stream_pending = None,
                    Poll::Pending => stream_pending = Some(stream_waker.wakes()),
                }
            }
        }
        if !progressed {
            break;
        }
    }
    // Joins may legitimately wait (values still queued); everything else
    // must be done.
    let stuck: Vec<&str> = futs
        .iter()
        .filter(|(_, f)| !matches!(f, Fut::Join(..)))
        .map(|(_, f)| kind(f))
        .collect();
    if !stuck.is_empty() {
        fail!("stranded after close: {stuck:?}");
    }
    drop(futs);
    // Drain.
    {
        let mut cx = Context::from_waker(&stream_w);
        while let Poll::Ready(Some(v)) = Pin::new(&mut rx_s).poll_next(&mut cx) {
            got(&mut m, v, &trace);
        }
    }
    while let Ok(v) = rx.try_recv() {
        got(&mut m, v, &trace);
    }
    check(&tx, &m, &log, &trace, seed, cap);
    if !tx.is_empty() {
        fail!("{} values left after the drain", tx.len());
    }
    // Closed and drained: every idle stream ends.
    for r in &mut extra {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        if !matches!(Pin::new(r).poll_next(&mut cx), Poll::Ready(None)) {
            fail!("an idle stream did not end after the drain");
        }
    }
    extra.clear();
    let dropped: HashSet<u32> = log.lock().unwrap().iter().copied().collect();
    for id in &m.accepted {
        // Received, displaced by force_send, or discarded by a shutdown.
        let accounted = m.received.contains(id)
            || m.displaced.contains(id)
            || (m.shutdown && dropped.contains(id));
        if !accounted {
            fail!(
                "value {id} accepted, never received (dropped: {})",
                dropped.contains(id)
            );
        }
    }
    assert_eq!(tx.unfinished_tasks(), 0, "seed {seed}");
    drop(rx_s);
    drop(rx);
}

fn kind(f: &Fut<'_>) -> &'static str {
    match f {
        Fut::Send(..) => "send",
        Fut::Reserve(..) => "reserve",
        Fut::Recv(..) => "recv",
        Fut::Many(..) => "recv_many",
        Fut::Join(..) => "join",
    }
}

fn poll_fut<'a>(
    f: Fut<'a>,
    m: &mut Model,
    got: &mut impl FnMut(&mut Model, V, &Vec<String>),
    trace: &Vec<String>,
) -> Option<Fut<'a>> {
    match f {
        Fut::Send(mut p, _, id) => match p.poll() {
            Poll::Ready(Ok(())) => {
                m.accepted.insert(id);
                None
            }
            Poll::Ready(Err(e)) => {
                std::mem::forget(e.0);
                None
            }
            Poll::Pending => {
                let w = p.wakes();
                Some(Fut::Send(p, w, id))
            }
        },
        Fut::Reserve(mut p, _) => match p.poll() {
            // The permit is given back at once.
            Poll::Ready(_) => None,
            Poll::Pending => {
                let w = p.wakes();
                Some(Fut::Reserve(p, w))
            }
        },
        Fut::Recv(mut p, _) => match p.poll() {
            Poll::Ready(Ok(v)) => {
                got(m, v, trace);
                None
            }
            Poll::Ready(Err(_)) => None,
            Poll::Pending => {
                let w = p.wakes();
                Some(Fut::Recv(p, w))
            }
        },
        Fut::Many(mut p, _, ptr) => match p.poll() {
            Poll::Ready(_) => {
                drop(p);
                // SAFETY: the borrowing future is gone.
                for v in unsafe { (*ptr).drain(..) } {
                    got(m, v, trace);
                }
                None
            }
            Poll::Pending => {
                let w = p.wakes();
                Some(Fut::Many(p, w, ptr))
            }
        },
        Fut::Join(mut p, _) => match p.poll() {
            Poll::Ready(()) => None,
            Poll::Pending => {
                let w = p.wakes();
                Some(Fut::Join(p, w))
            }
        },
    }
}

fn check(
    tx: &sluicegate::channel::Sender<V, Tracked>,
    m: &Model,
    log: &Arc<Mutex<Vec<u32>>>,
    trace: &[String],
    seed: u64,
    cap: usize,
) {
    let dropped: HashSet<u32> = log.lock().unwrap().iter().copied().collect();
    let discarded = m
        .accepted
        .iter()
        .filter(|id| dropped.contains(id) && !m.received.contains(id) && !m.displaced.contains(id))
        .count();
    if discarded > 0 && !m.shutdown {
        panic!(
            "seed {seed} cap {cap}: {discarded} accepted values dropped by the channel\n{}",
            trace.join("\n")
        );
    }
    let inside = m.accepted.len() - m.received.len() - m.displaced.len() - discarded;
    let len = tx.len();
    if len > cap || len != inside {
        panic!(
            "seed {seed} cap {cap}: len() {len}, {inside} values inside\n{}",
            trace.join("\n")
        );
    }
    let unfinished = tx.unfinished_tasks();
    if unfinished != inside {
        panic!(
            "seed {seed} cap {cap}: unfinished {unfinished}, {inside} values inside\n{}",
            trace.join("\n")
        );
    }
}

#[test]
fn random_operations_keep_every_invariant() {
    let seeds: u64 = std::env::var("SLUICEGATE_RANDOM_OPS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    for seed in 0..seeds {
        for cap in [1, 2, 3] {
            run(seed, 300, cap);
        }
    }
}
