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
    fn send(tx: &Self::Tx, v: T) -> impl Future<Output = ()> + Send;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<T>> + Send;
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
    async fn send(tx: &Self::Tx, v: T) {
        tx.send(v).await.ok().unwrap()
    }
    async fn recv(rx: &mut Self::Rx) -> Option<T> {
        rx.recv().await.ok()
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
    async fn send(tx: &Self::Tx, v: T) {
        tx.send(v).await.ok().unwrap()
    }
    async fn recv(rx: &mut Self::Rx) -> Option<T> {
        rx.recv().await.ok()
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
    async fn send(tx: &Self::Tx, v: T) {
        tx.send_async(v).await.ok().unwrap()
    }
    async fn recv(rx: &mut Self::Rx) -> Option<T> {
        rx.recv_async().await.ok()
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
    async fn send(tx: &Self::Tx, v: T) {
        tx.send(v).await.ok().unwrap()
    }
    async fn recv(rx: &mut Self::Rx) -> Option<T> {
        rx.recv().await.ok()
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
    async fn send(tx: &Self::Tx, v: T) {
        tx.send(v).await.ok().unwrap()
    }
    async fn recv(rx: &mut Self::Rx) -> Option<T> {
        rx.recv().await
    }
    fn clone_rx(_: &Self::Rx) -> Self::Rx {
        unreachable!("tokio's mpsc has one receiver")
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
