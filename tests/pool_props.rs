//! Property test of `Pool` against a small sequential model: random
//! sequences of gets, returns, detaches, gets dropped while queued, wait
//! timeouts, resizes and a close. After every step (and after the woken
//! gets have been polled, as an executor would) the pool's status agrees
//! with the model, each completed get received the object the model
//! predicts, and no object is ever held by two holders.
mod common;

use std::collections::{BTreeSet, VecDeque};
use std::future::{ready, Ready};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

use common::poll::{polled, Polled};
use proptest::prelude::*;
use sluicegate::futures::Get;
use sluicegate::pool::{Manager, Pool, PoolError, PoolGuard, TimeoutKind};
use sluicegate::time::ManualClock;

const CASES: u32 = 512;
const WAIT: Duration = Duration::from_secs(10);

/// Objects are numbered in order of creation.
struct Numbered(AtomicUsize);

impl Manager<usize> for Numbered {
    type Error = ();
    type Create<'a> = Ready<Result<usize, ()>>;
    type Recycle<'a> = Ready<Result<usize, ()>>;

    fn create(&self) -> Self::Create<'_> {
        ready(Ok(self.0.fetch_add(1, SeqCst)))
    }

    fn recycle(&self, n: usize) -> Self::Recycle<'_> {
        ready(Ok(n))
    }
}

#[derive(Debug, Clone)]
enum Op {
    Get,
    Return(prop::sample::Index),
    Detach(prop::sample::Index),
    DropQueued(prop::sample::Index),
    TimeOut,
    Resize(usize),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Get),
        5 => any::<prop::sample::Index>().prop_map(Op::Return),
        1 => any::<prop::sample::Index>().prop_map(Op::Detach),
        2 => any::<prop::sample::Index>().prop_map(Op::DropQueued),
        1 => Just(Op::TimeOut),
        1 => (0usize..5).prop_map(Op::Resize),
        1 => prop::bool::weighted(0.2).prop_map(|c| if c { Op::Close } else { Op::Get }),
    ]
}

/// The sequential model: what a managed FIFO pool should do.
#[derive(Debug, Default)]
struct Model {
    max: usize,
    /// Ids of the objects that exist (idle or held).
    size: usize,
    idle: VecDeque<usize>,
    /// Queued gets, by handle, oldest first.
    waiters: VecDeque<usize>,
    closed: bool,
    next_id: usize,
    created: u64,
    reused: u64,
    wait_timeouts: u64,
    detached: u64,
}

/// What the model says a get receives.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Object(usize),
    Queued,
    Closed,
    TimedOut,
}

impl Model {
    /// A get with nobody ahead of it.
    fn serve(&mut self) -> Option<usize> {
        if let Some(id) = self.idle.pop_front() {
            self.reused += 1;
            return Some(id);
        }
        if self.size < self.max {
            self.size += 1;
            self.created += 1;
            self.next_id += 1;
            return Some(self.next_id - 1);
        }
        None
    }

    fn get(&mut self, handle: usize) -> Outcome {
        if self.closed {
            return Outcome::Closed;
        }
        if self.waiters.is_empty() {
            if let Some(id) = self.serve() {
                return Outcome::Object(id);
            }
        }
        self.waiters.push_back(handle);
        Outcome::Queued
    }

    /// Hands out to the waiters, FIFO, while objects or room allow.
    fn hand_off(&mut self) -> Vec<(usize, usize)> {
        let mut served = Vec::new();
        while let Some(&h) = self.waiters.front() {
            match self.serve() {
                Some(id) => {
                    self.waiters.pop_front();
                    served.push((h, id));
                }
                None => break,
            }
        }
        served
    }

    fn put_back(&mut self, id: usize) -> Vec<(usize, usize)> {
        if self.closed || self.size > self.max {
            self.size -= 1;
        } else {
            self.idle.push_back(id);
        }
        self.hand_off()
    }

    fn detach(&mut self) -> Vec<(usize, usize)> {
        self.size -= 1;
        self.detached += 1;
        self.hand_off()
    }

    fn resize(&mut self, max: usize) -> Vec<(usize, usize)> {
        self.max = max;
        while self.size > max && !self.idle.is_empty() {
            self.idle.pop_front();
            self.size -= 1;
        }
        self.hand_off()
    }
}

struct Harness<'p> {
    pool: &'p Pool<usize, Numbered, ManualClock>,
    clock: &'p ManualClock,
    model: Model,
    /// Every get started, by handle; `None` once finished or dropped.
    gets: Vec<Option<Polled<Get<'p, usize, Numbered, ManualClock>>>>,
    /// The guards held, with the handle of the get that received them.
    held: Vec<PoolGuard<'p, usize, Numbered, ManualClock>>,
    /// What the model expects each queued get to receive when next polled.
    due: Vec<Option<Outcome>>,
}

impl<'p> Harness<'p> {
    fn receive(
        &mut self,
        handle: usize,
        got: Poll<Result<PoolGuard<'p, usize, Numbered, ManualClock>, PoolError<()>>>,
    ) {
        let want = self.due[handle].take().expect("an outcome for every poll");
        match (got, want) {
            (Poll::Ready(Ok(guard)), Outcome::Object(id)) => {
                assert_eq!(*guard, id, "get {handle} got another object");
                assert!(
                    self.held.iter().all(|g| **g != id),
                    "object {id} handed to two holders"
                );
                self.held.push(guard);
                self.gets[handle] = None;
            }
            (Poll::Pending, Outcome::Queued) => self.due[handle] = Some(Outcome::Queued),
            (Poll::Ready(Err(PoolError::Closed)), Outcome::Closed) => self.gets[handle] = None,
            (Poll::Ready(Err(PoolError::Timeout(TimeoutKind::Wait))), Outcome::TimedOut) => {
                self.gets[handle] = None
            }
            (got, want) => panic!(
                "get {handle}: pool {:?}, model {want:?}",
                got.map(|r| r.map(|g| *g))
            ),
        }
    }

    /// Polls the gets that were woken, oldest first, as an executor would.
    fn settle(&mut self, served: Vec<(usize, usize)>) {
        for (h, id) in served {
            self.due[h] = Some(Outcome::Object(id));
        }
        for h in 0..self.gets.len() {
            let woken = match &self.gets[h] {
                Some(g) => g.woken(),
                None => continue,
            };
            if woken || !matches!(self.due[h], Some(Outcome::Queued)) {
                let got = self.gets[h].as_mut().unwrap().poll();
                self.receive(h, got);
            }
        }
    }

    fn step(&mut self, op: &Op) {
        let served = match op {
            Op::Get => {
                let h = self.gets.len();
                self.gets.push(Some(polled(self.pool.get())));
                let want = self.model.get(h);
                self.due.push(Some(want));
                let got = self.gets[h].as_mut().unwrap().poll();
                self.receive(h, got);
                Vec::new()
            }
            Op::Return(i) if !self.held.is_empty() => {
                let guard = self.held.swap_remove(i.index(self.held.len()));
                let id = *guard;
                drop(guard);
                self.model.put_back(id)
            }
            Op::Detach(i) if !self.held.is_empty() => {
                let guard = self.held.swap_remove(i.index(self.held.len()));
                PoolGuard::detach(guard);
                self.model.detach()
            }
            Op::DropQueued(i) if !self.model.waiters.is_empty() => {
                let h = self
                    .model
                    .waiters
                    .remove(i.index(self.model.waiters.len()))
                    .unwrap();
                self.gets[h] = None;
                self.due[h] = None;
                Vec::new()
            }
            Op::TimeOut => {
                for h in self.model.waiters.drain(..) {
                    self.due[h] = Some(Outcome::TimedOut);
                    self.model.wait_timeouts += 1;
                }
                self.clock.advance(WAIT);
                Vec::new()
            }
            Op::Resize(n) => {
                self.pool.resize(*n);
                self.model.resize(*n)
            }
            Op::Close => {
                self.pool.close();
                self.model.closed = true;
                self.model.size -= self.model.idle.len();
                self.model.idle.clear();
                for h in self.model.waiters.drain(..) {
                    self.due[h] = Some(Outcome::Closed);
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        self.settle(served);
        self.check();
    }

    fn check(&self) {
        let s = self.pool.status();
        let m = &self.model;
        let held = self.held.len();
        assert_eq!(
            (s.max_size, s.size, s.idle, s.in_use, s.waiting, s.creating),
            (m.max, m.size, m.idle.len(), held, m.waiters.len(), 0),
            "{s:?} vs {m:?}"
        );
        assert_eq!(
            (s.created, s.reused, s.wait_timeouts, s.detached, s.closed),
            (m.created, m.reused, m.wait_timeouts, m.detached, m.closed)
        );
        let ids: BTreeSet<usize> = self.held.iter().map(|g| **g).collect();
        assert_eq!(ids.len(), held, "no object is held twice");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn a_managed_pool_agrees_with_the_sequential_model(
        max in 0usize..4,
        ops in prop::collection::vec(op(), 1..60),
    ) {
        let clock = ManualClock::new();
        let pool = Pool::builder(Numbered(AtomicUsize::new(0)), max)
            .timer(clock.clone())
            .wait_timeout(WAIT)
            .build();
        let mut h = Harness {
            pool: &pool,
            clock: &clock,
            model: Model { max, ..Model::default() },
            gets: Vec::new(),
            held: Vec::new(),
            due: Vec::new(),
        };
        for op in &ops {
            h.step(op);
        }
        // Everything back: a closed pool ends empty, an open one idle.
        let Harness { held, gets, .. } = h;
        drop(gets);
        drop(held);
        let s = pool.status();
        prop_assert_eq!((s.in_use, s.waiting), (0, 0));
        if s.closed {
            prop_assert_eq!(s.size, 0);
        }
        futures_lite::future::block_on(pool.drain());
    }
}
