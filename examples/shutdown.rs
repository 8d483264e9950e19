//! Graceful shutdown on a real signal, the same code on tokio and on smol.
//!
//! A toy server takes a request every 20 ms; each request works for 50 to
//! 800 ms. On Ctrl-C (SIGINT) it stops accepting work (the shutdown token
//! is cancelled, with the signal as its cause), lets the requests in flight
//! finish for a grace period of 300 ms (`TaskTracker::wait` under
//! `time::timeout`), then cuts off the rest (a second token, which every
//! request runs under) and reports how many finished and how many were cut
//! off.
//!
//! ```text
//! cargo run --example shutdown --features tokio,smol -- tokio   # then press Ctrl-C
//! cargo run --example shutdown --features tokio,smol -- smol
//! cargo run --example shutdown --features tokio,smol -- both --self-signal
//! ```
//!
//! `--self-signal` has the example send itself SIGINT after 400 ms (with
//! `kill`), so that it runs unattended; the test command uses it.
//!
//! Nothing in `serve` names a runtime: it takes a `Timer` and a spawn
//! function, as a library would. Only `main_tokio` and `main_smol` know
//! which runtime runs it and where the signal comes from.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sluicegate::cancel::CancellationToken;
use sluicegate::task::TaskTracker;
use sluicegate::time::{timeout, Timer};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Why the server stopped: the shutdown token's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Signal(&'static str),
}

#[derive(Debug, Default)]
struct Report {
    accepted: AtomicUsize,
    finished: AtomicUsize,
    cut_off: AtomicUsize,
}

const GRACE: Duration = Duration::from_millis(300);

/// The server: accepts until `shutdown` is cancelled, then drains.
async fn serve<T>(
    timer: T,
    shutdown: CancellationToken<Stop>,
    spawn: impl Fn(BoxFuture),
) -> Arc<Report>
where
    T: Timer + Clone + Send + Sync + 'static,
    T::Sleep: Send,
{
    let report = Arc::new(Report::default());
    let tracker = Arc::new(TaskTracker::new());
    // Cancelled when the grace period is over: what still runs is cut off.
    let hard_stop = CancellationToken::new();
    let mut n: u64 = 0;
    // Accept requests until the shutdown token is cancelled.
    while shutdown
        .run_until_cancelled(timer.sleep(Duration::from_millis(20)))
        .await
        .is_some()
    {
        n += 1;
        let work = Duration::from_millis(50 + (n * 7919) % 750);
        report.accepted.fetch_add(1, Ordering::Relaxed);
        let (timer, report, hard_stop) = (timer.clone(), report.clone(), hard_stop.clone());
        let request = async move {
            match hard_stop.run_until_cancelled(timer.sleep(work)).await {
                Some(()) => report.finished.fetch_add(1, Ordering::Relaxed),
                None => report.cut_off.fetch_add(1, Ordering::Relaxed),
            };
        };
        spawn(Box::pin(tracker.clone().track_future_owned(request)));
    }
    println!(
        "  stopping: {:?}; {} requests in flight, {GRACE:?} to finish",
        shutdown.cause().expect("cancelled with a cause"),
        tracker.len()
    );
    tracker.close();
    if timeout(&timer, GRACE, tracker.wait()).await.is_err() {
        println!("  grace period over: cutting off {}", tracker.len());
        hard_stop.cancel();
        tracker.wait().await; // each cut-off request returns at once
    }
    report
}

fn print(runtime: &str, report: &Report) {
    let accepted = report.accepted.load(Ordering::Relaxed);
    let finished = report.finished.load(Ordering::Relaxed);
    let cut_off = report.cut_off.load(Ordering::Relaxed);
    println!("{runtime}: accepted {accepted}, finished {finished}, cut off {cut_off}");
    assert_eq!(accepted, finished + cut_off, "every request accounted for");
}

/// Sends this process SIGINT after `after` (for unattended runs).
fn self_signal(after: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let pid = std::process::id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT failed");
    });
}

fn main_tokio(self_signalled: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let shutdown = CancellationToken::<Stop>::with_cause_type();
        // Registered before anything can send the signal.
        #[cfg(unix)]
        let mut sigint =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).unwrap();
        if self_signalled {
            self_signal(Duration::from_millis(400));
        }
        println!("tokio: serving; Ctrl-C to stop");
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            sigint.recv().await;
            #[cfg(not(unix))]
            tokio::signal::ctrl_c().await.unwrap();
            stopper.cancel_with(Stop::Signal("SIGINT"));
        });
        let report = serve(sluicegate::time::TokioTimer, shutdown, |fut| {
            tokio::spawn(fut);
        })
        .await;
        print("tokio", &report);
    });
}

fn main_smol(self_signalled: bool) {
    use async_signal::{Signal, Signals};
    use futures::StreamExt;

    smol::block_on(async {
        let shutdown = CancellationToken::<Stop>::with_cause_type();
        // Registered before anything can send the signal.
        let mut signals = Signals::new([Signal::Int]).unwrap();
        if self_signalled {
            self_signal(Duration::from_millis(400));
        }
        println!("smol: serving; Ctrl-C to stop");
        let stopper = shutdown.clone();
        smol::spawn(async move {
            signals.next().await;
            stopper.cancel_with(Stop::Signal("SIGINT"));
        })
        .detach();
        let report = serve(sluicegate::time::AsyncIoTimer, shutdown, |fut| {
            smol::spawn(fut).detach();
        })
        .await;
        print("smol", &report);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let self_signalled = args.iter().any(|a| a == "--self-signal");
    let which = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or("tokio");
    match which {
        "tokio" => main_tokio(self_signalled),
        "smol" => main_smol(self_signalled),
        "both" => {
            main_tokio(self_signalled);
            main_smol(self_signalled);
        }
        other => panic!("usage: shutdown <tokio|smol|both> [--self-signal], not {other:?}"),
    }
}
