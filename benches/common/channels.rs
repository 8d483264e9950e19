//! The channel contestants and message types, shared by
//! `benches/channel.rs` and `examples/channel_flow.rs` (included with
//! `#[path]`; the peers are dev-dependencies, which a library target could
//! not use).

use std::future::Future;

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

impl<T: Send + 'static> Channel<T> for Sluice {
    const NAME: &'static str = "sluicegate";
    type Tx = sluicegate::channel::Sender<T>;
    type Rx = sluicegate::channel::Receiver<T>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        sluicegate::channel::bounded(cap)
    }
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
        tx.send(v)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
        rx.recv()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

impl<T: Send + 'static> Channel<T> for AsyncChannel {
    const NAME: &'static str = "async-channel";
    type Tx = async_channel::Sender<T>;
    type Rx = async_channel::Receiver<T>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(cap)
    }
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
        tx.send(v)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
        rx.recv()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

impl<T: Send + 'static> Channel<T> for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<T>;
    type Rx = flume::Receiver<T>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(cap)
    }
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
        tx.send_async(v)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
        rx.recv_async()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

impl<T: Send + 'static> Channel<T> for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::AsyncSender<T>;
    type Rx = kanal::AsyncReceiver<T>;
    fn bounded(cap: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded_async(cap)
    }
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output: Sent> + Send {
        tx.send(v)
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output: Got<T>> + Send {
        rx.recv()
    }
    fn clone_rx(rx: &Self::Rx) -> Self::Rx {
        rx.clone()
    }
}

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
