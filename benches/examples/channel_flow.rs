//! A fixed amount of channel traffic on tokio's current-thread runtime, for
//! profilers that count instructions (`valgrind --tool=callgrind`) rather
//! than sample time.
//!
//! ```text
//! cargo build --profile bench -p sluicegate-benches --example channel_flow
//! valgrind --tool=callgrind target/release/examples/channel_flow sluicegate 4 1 16 100000
//! ```
//!
//! Arguments: `<sluicegate|flume> <producers> <consumers> <capacity>
//! <messages>`. Like the `channel` bench's tokio current-thread `u64` rows:
//! the producers send `messages` values in all, the consumers receive until
//! the channel closes. Prints the wall time per message.

use std::hint::black_box;
use std::time::Instant;

fn sluicegate_flow(producers: u64, consumers: usize, cap: usize, messages: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = sluicegate::channel::bounded::<u64>(cap);
        let per = messages / producers;
        let mut joins = Vec::new();
        for p in 0..producers {
            let tx = tx.clone();
            joins.push(tokio::spawn(async move {
                for i in 0..per {
                    tx.send(p * per + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        for _ in 0..consumers {
            let rx = rx.clone();
            joins.push(tokio::spawn(async move {
                while let Ok(m) = rx.recv().await {
                    black_box(m);
                }
            }));
        }
        drop(rx);
        for j in joins {
            j.await.unwrap();
        }
    });
}

fn flume_flow(producers: u64, consumers: usize, cap: usize, messages: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = flume::bounded::<u64>(cap);
        let per = messages / producers;
        let mut joins = Vec::new();
        for p in 0..producers {
            let tx = tx.clone();
            joins.push(tokio::spawn(async move {
                for i in 0..per {
                    tx.send_async(p * per + i).await.unwrap();
                }
            }));
        }
        drop(tx);
        for _ in 0..consumers {
            let rx = rx.clone();
            joins.push(tokio::spawn(async move {
                while let Ok(m) = rx.recv_async().await {
                    black_box(m);
                }
            }));
        }
        drop(rx);
        for j in joins {
            j.await.unwrap();
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [which, producers, consumers, cap, messages] = &args[..] else {
        eprintln!(
            "usage: channel_flow <sluicegate|flume> <producers> <consumers> <capacity> <messages>"
        );
        std::process::exit(2);
    };
    let (producers, consumers, cap, messages): (u64, usize, usize, u64) = (
        producers.parse().unwrap(),
        consumers.parse().unwrap(),
        cap.parse().unwrap(),
        messages.parse().unwrap(),
    );
    let start = Instant::now();
    match which.as_str() {
        "sluicegate" => sluicegate_flow(producers, consumers, cap, messages),
        "flume" => flume_flow(producers, consumers, cap, messages),
        other => panic!("unknown channel {other:?}"),
    }
    println!(
        "{:.1} ns/message",
        start.elapsed().as_nanos() as f64 / messages as f64
    );
}
