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
//! <messages> [u64|64B]`. Like the `channel` bench's tokio current-thread
//! rows: the producers send `messages` values in all, the consumers receive
//! until the channel closes. Prints the wall time per message.

use std::hint::black_box;
use std::time::Instant;

#[allow(dead_code)]
#[path = "../common/channels.rs"]
mod channels;
use channels::{Channel, Flume, Got, Kanal, Message, Msg64, Sent, Sluice};

fn flow<C: Channel<M>, M: Message>(producers: u64, consumers: usize, cap: usize, messages: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = C::bounded(cap);
        let per = messages / producers;
        let mut joins = Vec::new();
        for p in 0..producers {
            let tx = tx.clone();
            joins.push(tokio::spawn(async move {
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
            joins.push(tokio::spawn(async move {
                while let Some(m) = C::recv(&mut rx).await.got() {
                    black_box(m);
                }
            }));
        }
        for j in joins {
            j.await.unwrap();
        }
    });
}

fn run<M: Message>(which: &str, producers: u64, consumers: usize, cap: usize, messages: u64) {
    match which {
        "sluicegate" => flow::<Sluice, M>(producers, consumers, cap, messages),
        "flume" => flow::<Flume, M>(producers, consumers, cap, messages),
        "kanal" => flow::<Kanal, M>(producers, consumers, cap, messages),
        other => panic!("unknown channel {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (which, producers, consumers, cap, messages, msg) = match &args[..] {
        [w, p, c, cap, m] => (w, p, c, cap, m, "u64"),
        [w, p, c, cap, m, msg] => (w, p, c, cap, m, msg.as_str()),
        _ => {
            eprintln!(
                "usage: channel_flow <sluicegate|flume|kanal> <producers> <consumers> \
                 <capacity> <messages> [u64|64B]"
            );
            std::process::exit(2);
        }
    };
    let (producers, consumers, cap, messages): (u64, usize, usize, u64) = (
        producers.parse().unwrap(),
        consumers.parse().unwrap(),
        cap.parse().unwrap(),
        messages.parse().unwrap(),
    );
    let start = Instant::now();
    match msg {
        "u64" => run::<u64>(which, producers, consumers, cap, messages),
        "64B" => run::<Msg64>(which, producers, consumers, cap, messages),
        other => panic!("unknown message type {other:?}"),
    }
    println!(
        "{:.1} ns/message",
        start.elapsed().as_nanos() as f64 / messages as f64
    );
}
