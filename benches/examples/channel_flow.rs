//! A fixed amount of channel traffic on tokio's current-thread runtime, for
//! profilers that count instructions (`valgrind --tool=callgrind`) and for
//! `benches/interleaved.py channel`, which times every contestant in turn.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example channel_flow
//! valgrind --tool=callgrind target/release/examples/channel_flow sluicegate 4 1 16 100000
//! ```
//!
//! Arguments: `<sluicegate|flume|kanal> <producers> <consumers> <capacity>
//! <messages> [u64|64B] [tokio-ct|smol]`. Like the `channel` bench's tokio
//! current-thread rows (or its smol rows: one thread running a
//! `smol::Executor`): the producers send `messages` values in all, the
//! consumers receive until the channel closes. Prints the wall time per
//! message.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

#[allow(dead_code)]
#[path = "../common/channels.rs"]
mod channels;
use channels::{workload, Channel, Flume, Kanal, Message, Msg64, Sluice, Spawn};

/// Where the tasks run: the two single-threaded runtimes of the bench.
#[derive(Clone, Copy)]
enum Rt {
    TokioCt,
    Smol,
}

struct Tokio;
struct Smol<'a>(&'a smol::Executor<'static>);

enum Join {
    Tokio(tokio::task::JoinHandle<()>),
    Smol(smol::Task<()>),
}

impl Future for Join {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Join::Tokio(h) => Pin::new(h).poll(cx).map(Result::unwrap),
            Join::Smol(t) => Pin::new(t).poll(cx),
        }
    }
}

impl Spawn for Tokio {
    type Join = Join;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Join {
        Join::Tokio(tokio::spawn(f))
    }
}

impl Spawn for Smol<'_> {
    type Join = Join;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Join {
        Join::Smol(self.0.spawn(f))
    }
}

fn flow<C: Channel<M>, M: Message>(
    rt: Rt,
    producers: u64,
    consumers: usize,
    cap: usize,
    messages: u64,
) {
    match rt {
        Rt::TokioCt => tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(workload::<C, M>(
                &Tokio, producers, consumers, cap, messages,
            )),
        Rt::Smol => {
            let ex = smol::Executor::new();
            smol::block_on(ex.run(workload::<C, M>(
                &Smol(&ex),
                producers,
                consumers,
                cap,
                messages,
            )));
        }
    }
}

fn run<M: Message>(
    which: &str,
    rt: Rt,
    producers: u64,
    consumers: usize,
    cap: usize,
    messages: u64,
) {
    match which {
        "sluicegate" => flow::<Sluice, M>(rt, producers, consumers, cap, messages),
        "flume" => flow::<Flume, M>(rt, producers, consumers, cap, messages),
        "kanal" => flow::<Kanal, M>(rt, producers, consumers, cap, messages),
        other => panic!("unknown channel {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, producers, consumers, cap, messages, msg, rt) = match &args[..] {
        [w, p, c, cap, m] => (w, p, c, cap, m, "u64", "tokio-ct"),
        [w, p, c, cap, m, msg] => (w, p, c, cap, m, msg.as_str(), "tokio-ct"),
        [w, p, c, cap, m, msg, rt] => (w, p, c, cap, m, msg.as_str(), rt.as_str()),
        _ => {
            eprintln!(
                "usage: channel_flow <sluicegate|flume|kanal> <producers> <consumers> \
                 <capacity> <messages> [u64|64B] [tokio-ct|smol]"
            );
            std::process::exit(2);
        }
    };
    let rt = match rt {
        "tokio-ct" => Rt::TokioCt,
        "smol" => Rt::Smol,
        other => panic!("unknown runtime {other:?}"),
    };
    let (producers, consumers, cap, messages): (u64, usize, usize, u64) = (
        producers.parse().unwrap(),
        consumers.parse().unwrap(),
        cap.parse().unwrap(),
        messages.parse().unwrap(),
    );
    let start = Instant::now();
    match msg {
        "u64" => run::<u64>(which, rt, producers, consumers, cap, messages),
        "64B" => run::<Msg64>(which, rt, producers, consumers, cap, messages),
        other => panic!("unknown message type {other:?}"),
    }
    println!(
        "{:.1} ns/message",
        start.elapsed().as_nanos() as f64 / messages as f64
    );
}
