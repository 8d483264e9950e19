//! The channel contestants and message types, shared by
//! `benches/channel.rs` and `examples/channel_flow.rs` (included with
//! `#[path]`; the peers are dev-dependencies, which a library target could
//! not use).

use std::future::Future;
use std::hint::black_box;

pub trait Channel<T: Send + 'static> {
    const NAME: &'static str;
    /// Whether the receiver can be cloned (MPMC rows).
    const MPMC: bool = true;
    type Tx: Clone + Send + Sync + 'static;
    type Rx: Send + 'static;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx);
    /// The library's own send future (no `async fn` layer around it: users
    /// write `tx.send(v).await` in their task, not in a wrapper).
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send;
    /// The library's own receive future.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send;
    fn clone_rx(rx: &Self::Rx) -> Self::Rx;
}

pub struct Sluice;
pub struct AsyncChannel;
pub struct Flume;
pub struct Kanal;
pub struct TokioMpsc;

/// An MPMC contestant: its handles, constructor, and send/receive methods.
macro_rules! mpmc {
    ($who:ident, $name:literal, $tx:ident::<T>, $rx:ident::<T>, $bounded:path, $send:ident, $recv:ident) => {
        impl<T: Send + 'static> Channel<T> for $who {
            const NAME: &'static str = $name;
            type Tx = $tx<T>;
            type Rx = $rx<T>;
            fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
                $bounded(cap)
            }
            fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
                tx.$send(v)
            }
            fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
                rx.$recv()
            }
            fn clone_rx(rx: &Self::Rx) -> Self::Rx {
                rx.clone()
            }
        }
    };
}

use async_channel::{Receiver as AcRx, Sender as AcTx};
use flume::{Receiver as FlumeRx, Sender as FlumeTx};
use kanal::{AsyncReceiver as KanalRx, AsyncSender as KanalTx};
use sluicegate::channel::{Receiver as SgRx, Sender as SgTx};

mpmc!(
    Sluice,
    "sluicegate",
    SgTx::<T>,
    SgRx::<T>,
    sluicegate::channel::bounded,
    send,
    recv
);
mpmc!(
    AsyncChannel,
    "async-channel",
    AcTx::<T>,
    AcRx::<T>,
    async_channel::bounded,
    send,
    recv
);
mpmc!(
    Flume,
    "flume",
    FlumeTx::<T>,
    FlumeRx::<T>,
    flume::bounded,
    send_async,
    recv_async
);
mpmc!(
    Kanal,
    "kanal",
    KanalTx::<T>,
    KanalRx::<T>,
    kanal::bounded_async,
    send,
    recv
);

impl<T: Send + 'static> Channel<T> for TokioMpsc {
    const NAME: &'static str = "tokio-mpsc";
    const MPMC: bool = false;
    type Tx = tokio::sync::mpsc::Sender<T>;
    type Rx = tokio::sync::mpsc::Receiver<T>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(cap)
    }
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
        tx.send(v)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
        rx.recv()
    }
    fn clone_rx(_: &Self::Rx) -> Self::Rx {
        unreachable!("tokio's mpsc has one receiver")
    }
}

/// The outcome of a send: every contestant's is a `Result<(), E>`.
pub trait Sent {
    /// Panics if the send failed (the benches never close early).
    fn expect_sent(self);
}

impl<E> Sent for Result<(), E> {
    #[inline]
    fn expect_sent(self) {
        assert!(self.is_ok(), "send failed");
    }
}

/// The outcome of a receive: `None` once the channel is closed and drained.
pub trait Got<T> {
    fn got(self) -> Option<T>;
}

impl<T, E> Got<T> for Result<T, E> {
    #[inline]
    fn got(self) -> Option<T> {
        self.ok()
    }
}

impl<T> Got<T> for Option<T> {
    #[inline]
    fn got(self) -> Option<T> {
        self
    }
}

pub trait Message: Send + 'static {
    const NAME: &'static str;
    fn make(i: u64) -> Self;
}

impl Message for u64 {
    const NAME: &'static str = "u64";
    fn make(i: u64) -> Self {
        i
    }
}

/// A 64-byte message (only moved, never read).
#[allow(dead_code)]
pub struct Msg64([u64; 8]);

impl Message for Msg64 {
    const NAME: &'static str = "64B";
    fn make(i: u64) -> Self {
        Msg64([i; 8])
    }
}

/// Spawns the workload's tasks on the runtime it runs on (statically
/// dispatched: the tasks' futures are the ones a direct `spawn` would run).
pub trait Spawn {
    type Join: Future<Output = ()>;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join;
}

/// The workload of every row: `producers` tasks send `messages` values in
/// all, `consumers` tasks receive until the channel closes.
pub async fn workload<C: Channel<M>, M: Message>(
    rt: &impl Spawn,
    producers: u64,
    consumers: usize,
    cap: usize,
    messages: u64,
) {
    let (tx, rx) = C::bounded(cap);
    let per = messages / producers;
    let mut joins = Vec::with_capacity(producers as usize + consumers);
    for p in 0..producers {
        let tx = tx.clone();
        joins.push(rt.spawn(async move {
            for i in 0..per {
                C::send(&tx, M::make(p * per + i)).await.expect_sent();
            }
        }));
    }
    drop(tx);
    let mut rxs = Vec::with_capacity(consumers);
    for _ in 1..consumers {
        rxs.push(C::clone_rx(&rx));
    }
    rxs.push(rx);
    for mut rx in rxs {
        joins.push(rt.spawn(async move {
            while let Some(m) = C::recv(&mut rx).await.got() {
                black_box(m);
            }
        }));
    }
    for j in joins {
        j.await;
    }
}
